"""The base of every websocket consumer, and the health socket.

``FairJsonConsumer`` parses and checks each frame once and routes it by its ``type`` to a
``handle_<type>`` method named in ``actions``. Anything else gets an error frame, never a
crash: ``{"type": "error", "code": "...", "detail": "..."}``."""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from fair.realtime import health_group, user_group

logger = logging.getLogger(__name__)

# Close code for a frame larger than we accept (RFC 6455: message too big).
CLOSE_TOO_BIG = 1009
# Close code when the user logged out (their sockets must not outlive the session).
CLOSE_LOGGED_OUT = 4401


class FairJsonConsumer(AsyncWebsocketConsumer):
    #: Client message types this consumer accepts, mapped to handler method names.
    actions: dict[str, str] = {}
    #: Groups joined on connect (set in ``connect`` before calling ``join_groups``).
    groups: list[str] = []

    async def dispatch(self, message):
        # Channels 4.2+ hops to a thread before every handler to close stale database
        # connections (about 40 % of CPU on the fan-out path, measured). Our consumers never
        # touch the database directly: every query goes through database_sync_to_async,
        # which closes old connections itself, so the hop is skipped here.
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        if bytes_data is not None:
            await self.send_error("binary_not_supported", "Send JSON text frames.")
            return
        if len(text_data.encode("utf-8")) > settings.WEBSOCKET_MAX_MESSAGE_BYTES:
            await self.send_error("too_large", "That message is too large.")
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            payload = json.loads(text_data)
        except (ValueError, RecursionError):
            await self.send_error("bad_json", "The message is not valid JSON.")
            return
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            await self.send_error("bad_message", "A message must be an object with a 'type'.")
            return
        handler_name = self.actions.get(payload["type"])
        if handler_name is None:
            await self.send_error("unknown_type", f"Unknown message type {payload['type']!r}.")
            return
        await getattr(self, handler_name)(payload)

    async def accept(self, subprotocol=None, headers=None):
        """Accept, and join the signed-in user's own group so a log-out closes this socket
        (SECURITY C2); the group is left on disconnect with the others."""
        await super().accept(subprotocol=subprotocol, headers=headers)
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            group = user_group(user.pk)
            self.groups = [*self.groups, group]
            await self.channel_layer.group_add(group, self.channel_name)

    async def realtime_close(self, message: dict) -> None:
        """The user logged out elsewhere: close with CLOSE_LOGGED_OUT."""
        await self.close(code=CLOSE_LOGGED_OUT)

    async def send_json(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(payload, separators=(",", ":")))

    async def send_error(self, code: str, detail: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail, **extra})

    async def realtime_event(self, message: dict[str, str]) -> None:
        """A broadcast from ``fair.realtime``: already encoded, forwarded as it is."""
        await self.send(text_data=message["text"])


class HealthConsumer(FairJsonConsumer):
    """``/ws/health/``: answers pings and relays the health group's broadcasts. Used by
    monitoring and by tests to prove the whole websocket path (origin check, auth, channel
    layer) works."""

    actions = {"ping": "handle_ping"}

    async def connect(self):
        self.groups = [health_group()]
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def handle_ping(self, payload: dict[str, Any]) -> None:
        user = self.scope.get("user")
        await self.send_json(
            {
                "type": "pong",
                "authenticated": bool(user is not None and user.is_authenticated),
                "echo": payload.get("echo"),
            }
        )
