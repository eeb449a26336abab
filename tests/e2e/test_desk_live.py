"""The desk in a real browser against a real server: signing in, presence, live edits,
notifications across tabs, a job's progress, and the API's errors where they belong."""

from __future__ import annotations

import asyncio
import os
import shutil
import time

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone
from playwright.async_api import Route, expect

from episodes import services
from files.models import FileAsset
from tests.e2e.conftest import episode_page, output_path
from tests.factories import CompositionFactory, UserFactory
from tests.live_server import set_server_password

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]


async def test_signing_in_through_the_form_gives_a_viewer_a_read_only_desk(desk, bo, episode):
    await database_sync_to_async(set_server_password)(bo, "bo-secret-42")
    page = await desk.open()
    await page.get_by_label("Username").fill("bo")
    await page.get_by_label("Password").fill("wrong")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Invalid username or password.")

    await page.get_by_label("Password").fill("bo-secret-42")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_test_id("me")).to_have_text("bo (viewers)")
    await expect(page.locator(f"[data-episode='{episode.pk}']")).to_contain_text("Pilot")
    await expect(page.locator(".desk")).to_have_attribute("data-connection", "open")
    await expect(page.get_by_role("button", name="New episode")).to_have_count(0)

    await page.get_by_role("link", name="S1 E1 Pilot").click()
    await expect(page.get_by_test_id("episode-title")).to_have_text("Pilot")
    for name in ("Edit", "Publish", "Archive", "Start job"):
        await expect(page.get_by_role("button", name=name)).to_have_count(0)


async def test_two_users_on_an_episode_see_each_others_badges_once_each(desk, ana, bo, episode):
    ana_page = await desk.open(ana, episode_page(episode))
    await expect(ana_page.locator("[data-viewer]")).to_have_text(["ana"])

    bo_page = await desk.open(bo, episode_page(episode))
    await expect(bo_page.locator("[data-viewer]")).to_have_text(["ana", "bo"])
    await expect(ana_page.locator("[data-viewer]")).to_have_text(["ana", "bo"])

    # A second tab of the same user is still one badge.
    await desk.open(fragment=episode_page(episode), tab_of=bo_page)
    await expect(ana_page.locator("[data-viewer]")).to_have_text(["ana", "bo"])

    await bo_page.context.close()
    await expect(ana_page.locator("[data-viewer]")).to_have_text(["ana"])


async def test_an_edit_in_one_browser_appears_in_the_other_without_a_reload(desk, ana, bo, episode):
    bo_page = await desk.open(bo, "#/")
    await bo_page.evaluate("window.notReloaded = true")
    ana_page = await desk.open(ana, episode_page(episode))

    await ana_page.get_by_role("button", name="Edit").click()
    await ana_page.get_by_label("Title").fill("")
    await ana_page.get_by_role("button", name="Save").click()
    title = ana_page.get_by_label("Title")
    await expect(title).to_have_attribute("aria-invalid", "true")
    await expect(ana_page.locator("#edit-title-error")).to_have_text("This field may not be blank.")
    await expect(title).to_have_attribute("aria-describedby", "edit-title-error")

    await title.fill("Pilot (final cut)")
    await ana_page.get_by_role("button", name="Save").click()
    await expect(ana_page.get_by_test_id("episode-title")).to_have_text("Pilot (final cut)")
    await expect(bo_page.locator(f"[data-episode='{episode.pk}'] .title")).to_have_text(
        "Pilot (final cut)"
    )
    await expect(bo_page.locator(".feed li").first).to_contain_text(
        "ana updated episode “Pilot (final cut)”"
    )

    # A new episode whose number is taken: the error sits next to that field.
    await ana_page.get_by_role("link", name="← All episodes").click()
    await ana_page.get_by_role("button", name="New episode").click()
    await ana_page.get_by_label("Title").fill("Bonus")
    await ana_page.get_by_label("Episode number").fill("1")
    await ana_page.get_by_role("button", name="Create episode").click()
    await expect(ana_page.locator("#new-number-error")).to_have_text(
        "An episode with this season and number already exists."
    )
    await ana_page.get_by_label("Episode number").fill("2")
    await ana_page.get_by_role("button", name="Create episode").click()
    await expect(ana_page.get_by_test_id("episode-title")).to_have_text("Bonus")
    await expect(bo_page.locator(".episodes .title", has_text="Bonus")).to_have_count(1)
    await expect(bo_page.locator(f"[data-episode='{episode.pk}'] .title")).to_have_text(
        "Pilot (final cut)"
    )
    assert await bo_page.evaluate("window.notReloaded") is True


async def test_a_publish_that_lost_a_race_shows_the_conflict(desk, ana, episode):
    eve = await database_sync_to_async(UserFactory)(username="eve", roles=["editors"])
    page = await desk.open(ana, episode_page(episode))
    held: list[Route] = []

    async def hold(route: Route) -> None:
        held.append(route)

    await page.route("**/api/v1/episodes/*/publish/", hold)
    await page.get_by_role("button", name="Publish").click()
    deadline = time.monotonic() + 5
    while not held and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert held, "the publish request never left the page"
    # Someone else publishes first (from another process: on the embedded default its event
    # reaches no socket of the server); then ana's request reaches the server.
    await database_sync_to_async(services.episode_publish)(episode=episode, actor=eve)
    await held[0].continue_()
    await expect(page.get_by_test_id("episode-message")).to_have_text(
        "Cannot publish an episode that is published."
    )
    await expect(page.get_by_test_id("episode-status")).to_have_text("published")


async def test_a_notification_moves_the_bell_in_both_tabs_and_reading_it_syncs(
    desk, ana, bo, episode
):
    first = await desk.open(bo, "#/")
    second = await desk.open(fragment="#/", tab_of=first)
    for tab in (first, second):
        await expect(tab.get_by_test_id("unread-count")).to_have_text("0")

    ana_page = await desk.open(ana, episode_page(episode))
    await ana_page.get_by_role("button", name="Publish").click()
    await expect(ana_page.get_by_test_id("episode-status")).to_have_text("published")
    for tab in (first, second):
        await expect(tab.get_by_test_id("unread-count")).to_have_text("1")
        await expect(tab.locator(f"[data-episode='{episode.pk}'] .status")).to_have_text(
            "published"
        )

    # A background tab gets no animation frames, which clicks wait for.
    await first.bring_to_front()
    bell = first.get_by_role("button", name="Notifications")
    await bell.click()
    await expect(bell).to_have_attribute("aria-expanded", "true")
    panel = first.get_by_role("region", name="Notifications")
    await expect(panel.locator("li.unread")).to_contain_text("Pilot published")
    await panel.get_by_role("button", name="Mark all read").click()
    for tab in (first, second):
        await expect(tab.get_by_test_id("unread-count")).to_have_text("0")
    await second.bring_to_front()
    await second.get_by_role("button", name="Notifications").click()
    await expect(second.locator("#notifications li")).to_have_count(1)
    await expect(second.locator("#notifications li.unread")).to_have_count(0)
    await second.keyboard.press("Escape")
    await expect(second.locator("#notifications")).to_have_count(0)


@database_sync_to_async
def _furnish(episode) -> None:
    """What an episode page shows besides jobs: a composition and an uploaded file."""
    CompositionFactory(episode=episode, name="Main cut")
    FileAsset.objects.create(
        episode=episode,
        filename="cover.png",
        storage_key=f"episodes/{episode.pk}/cover.png",
        content_type="image/png",
        size=48_213,
        status=FileAsset.Status.UPLOADED,
        uploaded_at=timezone.now(),
    )


async def test_a_job_started_from_the_page_shows_its_bar_run_to_completed(desk, ana, bo, episode):
    await _furnish(episode)
    ana_page = await desk.open(ana, episode_page(episode))
    bo_page = await desk.open(bo, episode_page(episode))
    await expect(ana_page.get_by_role("listitem").filter(has_text="cover.png")).to_be_visible()

    # A job the API refuses: its message is shown, no job is listed.
    await ana_page.get_by_label("Job type").select_option("thumbnail")
    await ana_page.get_by_role("button", name="Start job").click()
    await expect(ana_page.locator(".job-form [role=alert]")).not_to_be_empty()
    await expect(ana_page.locator("[data-job]")).to_have_count(0)

    await ana_page.get_by_label("Job type").select_option("search_index")
    await ana_page.get_by_role("button", name="Start job").click()
    for page in (ana_page, bo_page):
        job = page.locator("[data-job]")
        await expect(job).to_have_attribute("data-status", "completed")
        await expect(job.get_by_test_id("job-progress")).to_have_text("100%")
        await expect(job.get_by_test_id("job-attempts")).to_have_text("attempt 1 of 3")
        await expect(job.locator("progress")).to_have_attribute("value", "100")

    await expect(ana_page.locator("[data-viewer]")).to_have_text(["ana", "bo"])
    shot = output_path("episode-page.png")
    await ana_page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    # `DESK_SCREENSHOT=docs/desk.png` refreshes the README's picture.
    if os.environ.get("DESK_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["DESK_SCREENSHOT"])


async def test_the_desk_works_at_phone_width(desk, ana, episode):
    page = await desk.open(ana, episode_page(episode))
    await page.set_viewport_size({"width": 375, "height": 740})
    await expect(page.get_by_test_id("episode-title")).to_have_text("Pilot")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Showdesk"
    await page.screenshot(path=str(output_path("episode-page-phone.png")), full_page=True)
