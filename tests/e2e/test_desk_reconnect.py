"""The desk across a server crash: the banner while it reconnects, then what it missed, applied
and listed, without a reload."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from playwright.async_api import expect

from episodes import services
from tests.e2e.conftest import Desk, episode_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]
# Reconnection backs off (at most 10 s between tries), and a server takes a few to start.
BACK_MS = 25_000


async def test_after_a_server_restart_the_desk_shows_what_it_missed(
    browser, restartable_server, ana, bo, episode
):
    desk = Desk(browser, restartable_server.live)
    try:
        page = await desk.open(bo, episode_page(episode))
        await page.evaluate("window.notReloaded = true")
        await expect(page.locator("[data-viewer]")).to_have_text(["bo"])

        restartable_server.kill()
        await expect(page.get_by_test_id("reconnecting")).to_be_visible()
        await expect(page.locator(".desk")).to_have_attribute("data-connection", "reconnecting")

        # Written while bo is away, by another process (this one), straight to the database.
        await database_sync_to_async(services.episode_update)(
            episode=episode, actor=ana, title="Pilot (recut)"
        )
        await database_sync_to_async(services.episode_create)(
            actor=ana, title="Bonus", episode_number=2, season=1
        )

        await asyncio.to_thread(restartable_server.start)
        missed = page.get_by_test_id("missed")
        await expect(missed).to_contain_text("2 changes while you were away", timeout=BACK_MS)
        await expect(missed.locator("li")).to_have_text(
            ["“Pilot (recut)” updated by ana", "“Bonus” created by ana"]
        )
        await expect(page.get_by_test_id("reconnecting")).to_have_count(0)
        await expect(page.get_by_test_id("episode-title")).to_have_text("Pilot (recut)")
        await expect(page.locator(".feed li").first).to_contain_text("ana created episode “Bonus”")
        await expect(page.locator("[data-viewer]")).to_have_text(["bo"])
        assert await page.evaluate("window.notReloaded") is True

        await page.get_by_role("link", name="← All episodes").click()
        await expect(page.locator(f"[data-episode='{episode.pk}'] .title")).to_have_text(
            "Pilot (recut)"
        )
        await expect(page.locator(".episodes .title", has_text="Bonus")).to_have_count(1)
    finally:
        await desk.close()
