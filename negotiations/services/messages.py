"""Text messages and attachments (checked by content, stored privately).

A text message is stored by **one SQL statement** (``_STORE_SQL``): it locks the room's row
(only when the caller is a party: the party check is in its ``WHERE``), finds an earlier
message with the same ``client_id``, inserts the next ``seq`` (``INSERT ... ON CONFLICT DO
NOTHING`` on the ``client_id`` constraint, so a retry racing its original burns no number),
moves the room's counters (last seq, the writer's read marker, last speaker, the buyer's
first message and the first-reply time the badge uses) only when it inserted, and returns
what the ack and the broadcast need, the room's audience included. One round trip instead
of the ORM's six; the guarantees of ``negotiations.services`` are unchanged."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, ProgrammingError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fair.exceptions import ApplicationError, NotFound
from fair.models import User
from negotiations import events
from negotiations.models import MESSAGE_MAX_LENGTH, Attachment, Message, Negotiation, Side
from negotiations.selectors import negotiation_for_party, party_user_ids
from negotiations.services.rate_limits import (
    UPLOADS_PER_HOUR,
    Window,
    count,
    messages_per_minute,
    rate_limit,
    refund,
)
from negotiations.services.room_log import (
    append,
    broadcast_message,
    client_id_check,
    idempotent,
    notify_on_commit,
    send_on_commit,
    stored_message,
    writable,
    write_refusal,
)
from negotiations.uploads import attachment_clean

__all__ = [
    "UPLOADS_PER_HOUR",
    "TextSent",
    "attachment_send",
    "message_send",
    "messages_per_minute",
    "rate_limit",
    "text_body_check",
    "text_store",
    "text_store_many",
]


def _sql() -> str:
    from exhibitors.models import Exhibitor, ExhibitorMember

    # Only table names and choice values are formatted in; every input is a parameter.
    return f"""
WITH room AS (
    SELECT n.id, n.last_seq, n.buyer_id, n.exhibitor_id, n.status, e.status AS exhibitor_status,
           CASE WHEN n.buyer_id = %(user)s THEN '{Side.BUYER}' ELSE '{Side.EXHIBITOR}' END AS side
    FROM {Negotiation._meta.db_table} n
    JOIN {Exhibitor._meta.db_table} e ON e.id = n.exhibitor_id
    WHERE n.id = %(room)s AND (
        n.buyer_id = %(user)s OR EXISTS (
            SELECT 1 FROM {ExhibitorMember._meta.db_table} m
            WHERE m.exhibitor_id = n.exhibitor_id AND m.user_id = %(user)s))
    FOR UPDATE OF n
), existing AS (
    SELECT m.seq, m.created_at FROM {Message._meta.db_table} m, room
    WHERE m.negotiation_id = room.id AND m.author_id = %(user)s AND m.client_id = %(client_id)s
      AND NOT (m.client_id = '')  -- lets a generic plan use the partial unique index
), ins AS (
    INSERT INTO {Message._meta.db_table}
        (negotiation_id, seq, kind, side, author_id, body, event, data, client_id, created_at)
    SELECT room.id, room.last_seq + 1, '{Message.Kind.TEXT}', room.side, %(user)s, %(body)s,
           '', '{{}}'::jsonb, %(client_id)s, %(now)s
    FROM room
    WHERE %(allowed)s AND room.status <> '{Negotiation.Status.CLOSED}'
      AND room.exhibitor_status = '{Exhibitor.Status.APPROVED}'
      AND NOT EXISTS (SELECT 1 FROM existing)
    ON CONFLICT (negotiation_id, author_id, client_id) WHERE NOT (client_id = '') DO NOTHING
    RETURNING id, seq, created_at
), moved AS (
    UPDATE {Negotiation._meta.db_table} n SET
        last_seq = ins.seq,
        last_message_at = ins.created_at,
        updated_at = %(now)s,
        last_speaker = room.side,
        buyer_last_read_seq = CASE WHEN room.side = '{Side.BUYER}'
            THEN ins.seq ELSE n.buyer_last_read_seq END,
        exhibitor_last_read_seq = CASE WHEN room.side = '{Side.EXHIBITOR}'
            THEN ins.seq ELSE n.exhibitor_last_read_seq END,
        buyer_first_message_at = CASE
            WHEN room.side = '{Side.BUYER}' AND n.buyer_first_message_at IS NULL THEN %(now)s
            ELSE n.buyer_first_message_at END,
        first_reply_seconds = CASE
            WHEN room.side = '{Side.EXHIBITOR}' AND n.first_reply_seconds IS NULL
                 AND n.buyer_first_message_at IS NOT NULL
            THEN GREATEST(0, FLOOR(EXTRACT(EPOCH FROM %(now)s - n.buyer_first_message_at)))::int
            ELSE n.first_reply_seconds END
    FROM ins, room
    WHERE n.id = room.id
    RETURNING n.id
)
SELECT room.side, room.status, room.exhibitor_status, room.buyer_id,
       existing.seq, existing.created_at, ins.id, ins.seq, ins.created_at,
       ARRAY(
           SELECT m.user_id FROM {ExhibitorMember._meta.db_table} m
           JOIN {User._meta.db_table} u ON u.id = m.user_id
           WHERE m.exhibitor_id = room.exhibitor_id AND u.is_active AND m.user_id <> room.buyer_id
           ORDER BY m.user_id),
       (SELECT count(*) FROM moved)
FROM room LEFT JOIN existing ON TRUE LEFT JOIN ins ON TRUE
"""  # noqa: S608


#: The statement is prepared once per database connection (``PREPARE``; it outlives
#: transactions, not the connection): planning a statement of five parts cost more than
#: running it.
_STATEMENT = "nego_text_store_1"
_PARAMS = (
    ("user", "bigint"),
    ("room", "bigint"),
    ("client_id", "text"),
    ("body", "text"),
    ("now", "timestamptz"),
    ("allowed", "boolean"),
)
_EXECUTE = f"EXECUTE {_STATEMENT}({', '.join(['%s'] * len(_PARAMS))})"
_prepare_sql: str | None = None
_prepared: weakref.WeakSet = weakref.WeakSet()  # raw connections that have it


def _prepare_statement() -> str:
    sql = _sql()
    for number, (name, _type) in enumerate(_PARAMS, start=1):
        sql = sql.replace(f"%({name})s", f"${number}")
    types = ", ".join(kind for _name, kind in _PARAMS)
    return f"PREPARE {_STATEMENT}({types}) AS {sql}"


#: How long a send waits for its room's row lock: a transaction holding a room for longer
#: (stuck, or a long one elsewhere) must not stall every send of the process behind it
#: (``negotiations.send_batch`` stores one batch at a time). The send fails as
#: ``server_error`` and the client retries it.
LOCK_TIMEOUT_MS = 5000


def _execute_store(params: dict) -> tuple | None:
    global _prepare_sql
    connection.ensure_connection()
    raw = connection.connection
    with connection.cursor() as cursor:
        if raw not in _prepared:
            if _prepare_sql is None:
                _prepare_sql = _prepare_statement()
            if _has_statement(cursor):  # prepared by an earlier connection object's code
                cursor.execute(f"DEALLOCATE {_STATEMENT}")
            cursor.execute(_prepare_sql)
            # For the life of the connection, like the statement (no cost per message).
            cursor.execute(f"SET lock_timeout = {int(LOCK_TIMEOUT_MS)}")
            _prepared.add(raw)
        try:
            cursor.execute(_EXECUTE, [params[name] for name, _type in _PARAMS])
        except ProgrammingError:
            _prepared.discard(raw)  # e.g. DISCARD ALL on the connection: prepare again
            raise
        return cursor.fetchone()


def _store_portable(user: User, params: dict) -> tuple | None:
    """The statement's work and answer through the ORM, for databases other than PostgreSQL
    (the embedded demo's SQLite): the same rules, in a few queries."""
    with transaction.atomic():
        try:
            negotiation, party = negotiation_for_party(
                user=user, negotiation_id=params["room"], for_update=True
            )
        except NotFound:
            return None
        staff = tuple(
            uid for uid in party_user_ids(negotiation=negotiation) if uid != negotiation.buyer_id
        )
        room = (party.side, negotiation.status, negotiation.exhibitor.status, negotiation.buyer_id)
        existing = (
            Message.objects.filter(
                negotiation=negotiation, author=user, client_id=params["client_id"]
            )
            .values_list("seq", "created_at")
            .first()
        )
        if existing is not None:
            return (*room, *existing, None, None, None, staff, 0)
        refused = write_refusal(exhibitor_status=room[2], room_status=room[1])
        if refused is not None or not params["allowed"]:
            return (*room, None, None, None, None, None, staff, 0)
        message = append(
            negotiation,
            kind=Message.Kind.TEXT,
            side=party.side,
            author=user,
            body=params["body"],
            client_id=params["client_id"],
        )
        return (*room, None, None, message.pk, message.seq, message.created_at, staff, 1)


def _has_statement(cursor) -> bool:
    cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [_STATEMENT])
    return cursor.fetchone() is not None


@dataclass(frozen=True, slots=True)
class TextSent:
    """What storing a text message gives its caller: the ack's figures, whether it was new,
    and (when new) the room's audience for the broadcast."""

    negotiation_id: int
    client_id: str
    seq: int
    sent_at: datetime
    created: bool
    side: str = ""
    body: str = ""
    message_id: int | None = None
    audience: tuple[int, ...] = ()

    def ack(self) -> dict:
        return {
            "type": "nego.ack",
            "negotiation": self.negotiation_id,
            "client_id": self.client_id,
            "seq": self.seq,
            "sent_at": self.sent_at,
        }

    def message(self, author: User) -> Message:
        """The stored message as an object (nothing is read: the fields are known)."""
        message = Message(
            id=self.message_id,
            negotiation_id=self.negotiation_id,
            seq=self.seq,
            kind=Message.Kind.TEXT,
            side=self.side,
            author=author,
            body=self.body,
            client_id=self.client_id,
            created_at=self.sent_at,
        )
        message._state.adding = False
        return message

    def event(self, author: User) -> dict:
        """The ``nego.message`` broadcast of a new message."""
        return events.text_message_json(
            negotiation_id=self.negotiation_id,
            seq=self.seq,
            client_id=self.client_id,
            side=self.side,
            author=author,
            body=self.body,
            sent_at=self.sent_at,
        )


def text_body_check(body) -> str:
    body = (body if isinstance(body, str) else "").strip()
    if not body:
        raise ApplicationError(_("Write a message first."), code="invalid")
    if len(body) > MESSAGE_MAX_LENGTH:
        raise ApplicationError(
            _("A message has at most %(n)s characters.") % {"n": MESSAGE_MAX_LENGTH},
            code="invalid",
        )
    return body


def text_store(
    *,
    user: User,
    negotiation_id: int,
    client_id: str,
    body: str,
    window: Window | None = None,
) -> TextSent:
    """Store a checked text message (``client_id_check``, ``text_body_check``) in one
    statement; nothing is broadcast here (the caller does, after commit). ``window``: the
    sender's rate-limit count of this message, taken by the caller; past the limit only a
    retry of a stored message is answered. Raises ``NotFound`` (not a party, or no such
    room), ``ApplicationError`` (``read_only``, ``exhibitor_unavailable``, ``closed``,
    ``rate_limited``). The offline-email check is queued on commit."""
    if not (user is not None and user.is_authenticated and user.is_active):
        raise NotFound("No such negotiation.")
    try:
        negotiation_id = int(negotiation_id)
    except (TypeError, ValueError):
        raise NotFound("No such negotiation.") from None
    params = {
        "user": user.pk,
        "room": negotiation_id,
        "client_id": client_id,
        "body": body,
        "now": timezone.now(),
        "allowed": window is None or not window.exceeded,
    }
    if connection.vendor == "postgresql":
        row = _execute_store(params)
    else:
        row = _store_portable(user, params)
    if row is None:
        raise NotFound("No such negotiation.")
    side, room_status, exhibitor_status, buyer_id = row[:4]
    existing_seq, existing_at, message_id, seq, sent_at, staff, moved = row[4:]
    if message_id is not None:
        if moved != 1:  # cannot happen: the insert and the room's counters go together
            raise RuntimeError("A message was stored without moving its room's counters.")
        notify_on_commit(negotiation_id)
        return TextSent(
            negotiation_id=negotiation_id,
            client_id=client_id,
            seq=seq,
            sent_at=sent_at,
            created=True,
            side=side,
            body=body,
            message_id=message_id,
            audience=(buyer_id, *staff),
        )
    if existing_seq is not None:
        return TextSent(negotiation_id, client_id, existing_seq, existing_at, created=False)
    refusal = write_refusal(exhibitor_status=exhibitor_status, room_status=room_status)
    if refusal is not None:
        raise refusal
    if window is not None and window.exceeded:
        raise window.error()
    # The same client_id was stored by a retry that committed while this statement waited
    # for the room's lock (the insert saw it, the statement's snapshot did not).
    stored = stored_message(negotiation_id, user, client_id)
    if stored is None:
        raise RuntimeError("A message was neither stored nor found.")
    return TextSent(negotiation_id, client_id, stored.seq, stored.created_at, created=False)


@dataclass(frozen=True, slots=True)
class TextToStore:
    """One checked text message for ``text_store_many``."""

    user: User
    negotiation_id: int
    client_id: str
    body: str
    window: Window | None = None


def _store_one(item: TextToStore) -> TextSent | Exception:
    """``text_store`` for one item, its refusal returned rather than raised (a refusal runs
    no failing SQL, so the batch's transaction goes on). Database errors are raised."""
    try:
        return text_store(
            user=item.user,
            negotiation_id=item.negotiation_id,
            client_id=item.client_id,
            body=item.body,
            window=item.window,
        )
    except DatabaseError:
        raise
    except Exception as error:  # NotFound, ApplicationError, or a bug: that item's answer
        return error


def text_store_many(items: list[TextToStore]) -> list[TextSent | Exception]:
    """Store several checked text messages (of different senders and rooms) in one
    transaction: one commit, one database call, for a batch of sends gathered while the
    previous batch was being stored (``negotiations.send_batch``). Returns, in the order of
    ``items``, each one's ``TextSent`` or the exception ``text_store`` would have raised.

    Rooms are locked in the order of their ids, so two batches (two processes) sharing
    rooms wait for each other but never deadlock. A database error rolls the batch back
    and every item is then stored on its own, so one bad item costs the others nothing."""
    order = sorted(range(len(items)), key=lambda index: items[index].negotiation_id)
    results: list[TextSent | Exception | None] = [None] * len(items)
    if len(items) > 1:
        try:
            with transaction.atomic():
                for index in order:
                    results[index] = _store_one(items[index])
            return results  # type: ignore[return-value]
        except DatabaseError:
            # Settings made in the rolled-back transaction are gone: prepare afresh.
            _prepared.discard(connection.connection)
    for index in order:  # one item, or each alone after the batch rolled back
        try:
            results[index] = _store_one(items[index])
        except DatabaseError as error:
            results[index] = error
    return results  # type: ignore[return-value]


def message_send(
    *, user: User, negotiation_id: int, client_id: str, body: str
) -> tuple[Message, bool]:
    """Store a text message and return ``(message, created)``; the same ``client_id`` again
    returns the stored message with ``created`` False and changes nothing (retries never
    count against the rate limit). On commit: ``nego.message`` to both parties, and the
    offline-email check is queued. (The websocket consumer calls ``text_store`` and
    broadcasts from its event loop.)"""
    client_id = client_id_check(client_id)
    body = text_body_check(body)
    if not (user.is_authenticated and user.is_active):
        raise NotFound("No such negotiation.")
    window = count(user.pk)
    try:
        with transaction.atomic():
            sent = text_store(
                user=user,
                negotiation_id=negotiation_id,
                client_id=client_id,
                body=body,
                window=window,
            )
            if sent.created:
                message = sent.message(user)
                send_on_commit(list(sent.audience), sent.event(user))
    except BaseException:  # refused (not a party, closed, read-only, ...): it did not count
        refund(window)
        raise
    if not sent.created:  # a retry never counts
        refund(window)
        return stored_message(sent.negotiation_id, user, client_id), False
    return message, True


def attachment_send(
    *,
    user: User,
    negotiation_id: int,
    client_id: str,
    upload,
    name: str | None = None,
    caption: str = "",
) -> tuple[Message, bool]:
    """Check a file by its content (``negotiations.uploads``), store it in private storage
    and post it as an attachment message; idempotent on ``client_id`` like ``message_send``.
    The file is checked and written before the room is locked (slow work never holds the
    lock) and deleted again if the message is not stored. Raises ``ValidationError`` for a
    refused file."""
    client_id = client_id_check(client_id)
    # Access first: a non-party learns nothing, not even whether the file would pass.
    negotiation, _party = negotiation_for_party(user=user, negotiation_id=negotiation_id)
    existing = stored_message(negotiation.pk, user, client_id)
    if existing is not None:
        return existing, False
    writable(negotiation)
    caption = (caption or "").strip()
    if len(caption) > MESSAGE_MAX_LENGTH:
        raise ApplicationError(_("The caption is too long."), code="invalid")
    rate_limit(user, kind="upload")
    original = name or getattr(upload, "name", "") or "attachment"
    clean = attachment_clean(upload, name=original)
    attachment = Attachment(
        negotiation=negotiation,
        original_name=original[:255],
        safe_name=clean.safe_name,
        content_type=clean.content_type,
        size=clean.size,
        sha256=clean.sha256,
    )
    attachment.file.save(clean.file.name, clean.file, save=False)
    stored = False
    try:
        message, created = _attachment_store(
            user=user,
            negotiation_id=negotiation.pk,
            client_id=client_id,
            attachment=attachment,
            caption=caption,
        )
        stored = created
        return message, created
    finally:
        if not stored:
            attachment.file.storage.delete(attachment.file.name)


@idempotent
@transaction.atomic
def _attachment_store(
    *, user: User, negotiation_id: int, client_id: str, attachment: Attachment, caption: str
) -> tuple[Message, bool]:
    negotiation, party = negotiation_for_party(
        user=user, negotiation_id=negotiation_id, for_update=True
    )
    existing = stored_message(negotiation.pk, user, client_id)
    if existing is not None:
        return existing, False
    writable(negotiation)
    message = append(
        negotiation,
        kind=Message.Kind.ATTACHMENT,
        side=party.side,
        author=user,
        body=caption,
        client_id=client_id,
    )
    attachment.message = message
    attachment.save()
    message.attachment = attachment
    broadcast_message(negotiation, message)
    notify_on_commit(negotiation.pk)
    return message, True
