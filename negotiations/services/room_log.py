"""What every write of a room shares: the gapless message log (``append`` under the room's
lock), idempotency on ``client_id``, the room's writability, broadcasting on commit to the
parties' user groups, and queuing the offline-email check on commit."""

from __future__ import annotations

import re
import threading
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exhibitors.models import Exhibitor
from fair.exceptions import ApplicationError
from fair.models import User
from fair.realtime import layer_message
from negotiations import events
from negotiations.models import Message, Negotiation, Side
from negotiations.selectors import party_user_ids
from negotiations.tasks import negotiation_notify_offline

CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")
#: The offline-email task runs this long after the message that queued it; while it is
#: pending no other task is queued for the room (at most one per room at a time).
NOTIFY_DELAY_SECONDS = 30
NOTIFY_PENDING_SECONDS = 600


def notify_pending_key(negotiation_id: int) -> str:
    return f"nego:notify-pending:{negotiation_id}"


def send_on_commit(user_ids: list[int], event: dict) -> None:
    """Broadcast ``event`` to these users' sockets once the transaction commits; encoded once
    now (``fair.realtime.layer_message``), sent in one hop to the event loop."""
    message = layer_message(event)
    groups = [events.party_group(uid) for uid in dict.fromkeys(user_ids)]

    async def _send_all(layer) -> None:
        for group in groups:
            await layer.group_send(group, message)

    def _send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(_send_all)(layer)

    transaction.on_commit(_send, robust=True)


#: Rooms whose offline-email task this process knows to be pending: {room id: monotonic
#: time until which that is certain}. Saves the Redis round trip of every message of a busy
#: room (one per ``NOTIFY_DELAY_SECONDS`` instead).
_pending_until: dict[int, float] = {}
_pending_lock = threading.Lock()
#: Margin before a pending task's earliest run (clocks of processes differ a little).
NOTIFY_MARGIN_SECONDS = 5


def _known_pending(negotiation_id: int) -> bool:
    until = _pending_until.get(negotiation_id)
    return until is not None and time.monotonic() < until


def _remember_pending(negotiation_id: int, queued_at: float) -> None:
    # The task queued at ``queued_at`` runs NOTIFY_DELAY_SECONDS later at the earliest and
    # deletes the pending key only then: until that moment every committed message is seen
    # by it, so nothing needs to be queued.
    left = queued_at + NOTIFY_DELAY_SECONDS - NOTIFY_MARGIN_SECONDS - time.time()
    if left > 0:
        with _pending_lock:
            if len(_pending_until) > 50_000:
                _pending_until.clear()
            _pending_until[negotiation_id] = time.monotonic() + left


def notify_queue(negotiation_id: int) -> None:
    """Queue the offline-email check for the room, unless one is already pending (a busy room
    queues one task per ``NOTIFY_DELAY_SECONDS``, not one per message). The task itself
    limits mails to one per room and recipient per ten minutes. Call it after the message
    committed (``notify_on_commit``)."""
    if _known_pending(negotiation_id):
        return
    key = notify_pending_key(negotiation_id)
    now = time.time()
    if cache.add(key, now, timeout=NOTIFY_PENDING_SECONDS):
        # Remembered first: an eager task (the embedded demo, tests) runs inside
        # apply_async and forgets it again.
        _remember_pending(negotiation_id, now)
        negotiation_notify_offline.apply_async(
            kwargs={"negotiation_id": negotiation_id}, countdown=NOTIFY_DELAY_SECONDS
        )
        return
    queued_at = cache.get(key)
    if isinstance(queued_at, (int, float)):
        _remember_pending(negotiation_id, queued_at)


def notify_forget(negotiation_id: int) -> None:
    """The room's task is running (called by it): the next message queues a new one."""
    with _pending_lock:
        _pending_until.pop(negotiation_id, None)


def notify_on_commit(negotiation_id: int) -> None:
    """``notify_queue`` once the transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: notify_queue(negotiation_id), robust=True)


def client_id_check(client_id: str) -> str:
    client_id = (client_id or "").strip()
    if not CLIENT_ID_RE.match(client_id):
        raise ApplicationError(
            _("A message needs a client id of 8 to 64 letters, digits or dashes."),
            code="invalid",
        )
    return client_id


def writable(negotiation: Negotiation) -> None:
    """Refuse writes into a room nobody may write to: its exhibitor is suspended
    (``read_only``: the conversation stays readable) or otherwise not approved, or the room
    is closed."""
    refusal = write_refusal(
        exhibitor_status=negotiation.exhibitor.status, room_status=negotiation.status
    )
    if refusal is not None:
        raise refusal


def write_refusal(*, exhibitor_status: str, room_status: str) -> ApplicationError | None:
    if exhibitor_status == Exhibitor.Status.SUSPENDED:
        return ApplicationError(
            _("This exhibitor is suspended; the conversation is read-only."), code="read_only"
        )
    if exhibitor_status != Exhibitor.Status.APPROVED:
        return ApplicationError(
            _("This exhibitor cannot be contacted at the moment."), code="exhibitor_unavailable"
        )
    if room_status == Negotiation.Status.CLOSED:
        return ApplicationError(_("This negotiation is closed. Reopen it to write."), code="closed")
    return None


def stored_message(negotiation_id: int, user: User, client_id: str) -> Message | None:
    return (
        Message.objects.select_related("author", "attachment", "quote", "quote__purchase_intent")
        .filter(negotiation_id=negotiation_id, author=user, client_id=client_id)
        .first()
    )


def append(
    negotiation: Negotiation,
    *,
    kind: str,
    side: str = "",
    author: User | None = None,
    body: str = "",
    event: str = "",
    data: dict | None = None,
    client_id: str = "",
) -> Message:
    """Add a message to a room whose row the caller has locked: the next ``seq``, the room's
    counters (read marker of the writer's side, last speaker, first-reply time)."""
    now = timezone.now()
    seq = negotiation.last_seq + 1
    message = Message.objects.create(
        negotiation=negotiation,
        seq=seq,
        kind=kind,
        side=side,
        author=author,
        body=body,
        event=event,
        data=data or {},
        client_id=client_id,
    )
    negotiation.last_seq = seq
    negotiation.last_message_at = message.created_at or now
    fields = ["last_seq", "last_message_at", "updated_at"]
    if side:
        negotiation.last_speaker = side
        fields.append("last_speaker")
        if side == Side.BUYER:
            negotiation.buyer_last_read_seq = seq
            fields.append("buyer_last_read_seq")
            if negotiation.buyer_first_message_at is None:
                negotiation.buyer_first_message_at = now
                fields.append("buyer_first_message_at")
        else:
            negotiation.exhibitor_last_read_seq = seq
            fields.append("exhibitor_last_read_seq")
            if (
                negotiation.first_reply_seconds is None
                and negotiation.buyer_first_message_at is not None
            ):
                elapsed = now - negotiation.buyer_first_message_at
                negotiation.first_reply_seconds = max(0, int(elapsed.total_seconds()))
                fields.append("first_reply_seconds")
    negotiation.save(update_fields=fields)
    return message


def broadcast_message(negotiation: Negotiation, message: Message) -> None:
    send_on_commit(party_user_ids(negotiation=negotiation), events.broadcast_message_json(message))


def system(negotiation: Negotiation, event: str, data: dict | None = None) -> Message:
    message = append(negotiation, kind=Message.Kind.SYSTEM, event=event, data=data)
    broadcast_message(negotiation, message)
    return message


def idempotent(write):
    """Run ``write`` (which checks for an existing ``client_id`` under the room lock); if the
    database still reports a duplicate (the unique constraint is the last line of defence),
    the whole transaction has rolled back and the stored message is returned instead."""

    def run(*, user: User, negotiation_id: int, client_id: str, **kwargs):
        client_id = client_id_check(client_id)
        try:
            return write(user=user, negotiation_id=negotiation_id, client_id=client_id, **kwargs)
        except IntegrityError:
            existing = stored_message(negotiation_id, user, client_id)
            if existing is None:
                raise
            return existing, False

    run.__name__ = write.__name__
    run.__doc__ = write.__doc__
    return run
