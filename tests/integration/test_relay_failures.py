"""How the relay behaves when publishing goes wrong: a bad row, a hung layer, the wrong layer."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.management import CommandError, call_command
from django.db import transaction

from episodes import services as episode_services
from realtime import outbox, relay
from realtime.models import Event
from realtime.streams import group_name
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
HANGING = {"default": {"BACKEND": "tests.integration.test_relay_failures.HangingLayer"}}


class HangingLayer(InMemoryChannelLayer):
    """A channel layer whose sends never complete, like a Redis that stopped answering."""

    async def group_send(self, group: str, message: dict) -> None:
        await asyncio.Event().wait()


def _emit(stream: str, tag: str) -> Event:
    with transaction.atomic():
        return outbox.emit(event="episode_updated", streams=[stream], data={"tag": tag})


def test_a_row_the_layer_refuses_does_not_hold_back_the_rows_after_it(settings):
    settings.CHANNEL_LAYERS = IN_MEMORY
    settings.REALTIME_RELAY_MODE = "command"
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group_name("episodes"), channel)
    _emit("not a stream!", "bad")
    good = _emit("episodes", "good")

    assert relay.publish_pending() == 2

    assert not Event.objects.filter(published_at__isnull=True).exists()
    good.refresh_from_db()
    message = async_to_sync(layer.receive)(channel)
    assert (message["stream"], message["id"]) == ("episodes", good.position)


def test_a_layer_that_hangs_leaves_the_events_unpublished(settings, monkeypatch):
    monkeypatch.setattr(relay, "SEND_TIMEOUT", 0.05)
    settings.CHANNEL_LAYERS = HANGING

    row = _emit("episodes", "waits")

    row.refresh_from_db()
    assert row.published_at is None


def test_events_wait_for_the_relay_command_in_command_mode(settings):
    settings.CHANNEL_LAYERS = IN_MEMORY
    settings.REALTIME_RELAY_MODE = "command"

    row = _emit("episodes", "later")
    row.refresh_from_db()
    assert (row.position, row.published_at) == (None, None)

    assert relay.publish_pending() == 1
    row.refresh_from_db()
    assert row.position is not None
    assert row.published_at is not None


def test_run_relay_refuses_the_in_memory_layer(settings):
    settings.CHANNEL_LAYERS = IN_MEMORY
    settings.REALTIME_RELAY_MODE = "command"
    _emit("episodes", "stays")

    with pytest.raises(CommandError, match="shared channel layer"):
        call_command("run_relay", "--once")
    assert Event.objects.get().published_at is None


@pytest.mark.django_db(transaction=True)
def test_a_change_with_many_events_wakes_the_relay_once(monkeypatch):
    UserFactory(username="ed", roles=["editors"])
    rounds = []
    monkeypatch.setattr(relay, "publish_pending", lambda *a, **k: rounds.append(1) or 0)
    episode_services.episode_create(actor=None, title="Once", episode_number=5)
    assert Event.objects.count() >= 3
    assert rounds == [1]
