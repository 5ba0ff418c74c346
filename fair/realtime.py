"""Real-time plumbing shared by every app: group names and broadcasting.

Events are JSON objects with a ``type`` field. They are encoded to text once, here, and the
consumers forward that text untouched: no per-receiver encoding, database or permission work
on the fan-out path. Services broadcast only after their transaction commits (persist, then
broadcast): the channel layer is at-most-once and never the record."""

from __future__ import annotations

import json
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

# The channel-layer message type consumers handle with ``realtime_event``.
EVENT_MESSAGE_TYPE = "realtime.event"


def health_group() -> str:
    return "health"


def live_session_group(session_id: int) -> str:
    return f"live.{session_id}"


def user_group(user_id: int) -> str:
    """Every socket of one signed-in user (negotiation rooms, notices, forced logout)."""
    return f"user.{user_id}"


def organiser_group() -> str:
    return "organisers"


def everyone_group() -> str:
    """Every open page (announcements)."""
    return "everyone"


def audience_group(audience: str) -> str:
    """Every open page of one audience ("everyone", "buyers", "exhibitors")."""
    return everyone_group() if audience == "everyone" else f"audience.{audience}"


def encode_event(event: dict[str, Any]) -> str:
    if not isinstance(event.get("type"), str):
        raise ValueError("A real-time event needs a string 'type'.")
    return json.dumps(event, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def layer_message(event: dict[str, Any], group: str = "") -> dict[str, str]:
    """The channel-layer message of an event: its text, and the group it was sent to (so a
    process-wide fan-out subscribed to many groups with one channel knows the room)."""
    return {"type": EVENT_MESSAGE_TYPE, "text": encode_event(event), "group": group}


def send_event(group: str, event: dict[str, Any]) -> None:
    """Broadcast now, from synchronous code. Prefer ``send_event_on_commit`` in services."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(group, layer_message(event, group))


async def asend_event(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    await layer.group_send(group, layer_message(event, group))


def send_event_on_commit(group: str, event: dict[str, Any]) -> None:
    """Broadcast once the current transaction commits; nothing is sent if it rolls back.

    The event is encoded now, so a later change to the objects it was built from cannot leak
    into it."""
    message = layer_message(event, group)

    def _send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, message)

    transaction.on_commit(_send, robust=True)


def user_sockets_close_on_commit(user_id: int) -> None:
    """Close every socket of a user once the transaction commits (log-out, deactivation)."""

    def _close() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(user_group(user_id), {"type": "realtime.close"})

    transaction.on_commit(_close, robust=True)
