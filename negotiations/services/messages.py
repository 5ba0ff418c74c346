"""Text messages and attachments (checked by content, stored privately)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from fair.exceptions import ApplicationError
from fair.models import User
from negotiations.models import MESSAGE_MAX_LENGTH, Attachment, Message
from negotiations.selectors import negotiation_for_party
from negotiations.services.room_log import (
    append,
    broadcast_message,
    client_id_check,
    idempotent,
    notify_on_commit,
    stored_message,
    writable,
)
from negotiations.uploads import attachment_clean

#: Uploads a user may send per hour, over all rooms (SECURITY I).
UPLOADS_PER_HOUR = 30


def messages_per_minute() -> int:
    """Messages (text, attachments, quotes) one user may post per minute over all rooms
    (SECURITY I: about 60 for private rooms); ``NEGO_MESSAGES_PER_MINUTE`` overrides it."""
    return int(getattr(settings, "NEGO_MESSAGES_PER_MINUTE", 60))


def _window_count(key: str, window: int) -> tuple[int, int]:
    """Count one more event in the current fixed window of ``window`` seconds (atomic
    ``INCR`` in the cache); returns the count and the seconds until the window ends."""
    now = int(time.time())
    bucket = f"{key}:{now // window}"
    cache.add(bucket, 0, timeout=window * 2)
    try:
        count = cache.incr(bucket)
    except ValueError:  # the key expired between add and incr
        cache.set(bucket, 1, timeout=window * 2)
        count = 1
    return count, window - now % window


def rate_limit(user: User, *, kind: str = "message") -> None:
    """Refuse (``rate_limited``, with ``retry_after`` seconds) a user posting too fast."""
    if kind == "upload":
        count, retry_after = _window_count(f"nego:uploads:{user.pk}", 3600)
        limit = UPLOADS_PER_HOUR
    else:
        count, retry_after = _window_count(f"nego:sent:{user.pk}", 60)
        limit = messages_per_minute()
    if count > limit:
        raise ApplicationError(
            _("You are sending too fast. Please wait %(seconds)s seconds.")
            % {"seconds": retry_after},
            code="rate_limited",
            extra={"retry_after": retry_after},
        )


@idempotent
@transaction.atomic
def message_send(
    *, user: User, negotiation_id: int, client_id: str, body: str
) -> tuple[Message, bool]:
    """Store a text message and return ``(message, created)``; the same ``client_id`` again
    returns the stored message with ``created`` False and changes nothing (retries never
    count against the rate limit). On commit: ``nego.message`` to both parties, and the
    offline-email check is queued."""
    body = (body or "").strip()
    if not body:
        raise ApplicationError(_("Write a message first."), code="invalid")
    if len(body) > MESSAGE_MAX_LENGTH:
        raise ApplicationError(
            _("A message has at most %(n)s characters.") % {"n": MESSAGE_MAX_LENGTH},
            code="invalid",
        )
    negotiation, party = negotiation_for_party(
        user=user, negotiation_id=negotiation_id, for_update=True
    )
    existing = stored_message(negotiation.pk, user, client_id)
    if existing is not None:
        return existing, False
    writable(negotiation)
    rate_limit(user)
    message = append(
        negotiation,
        kind=Message.Kind.TEXT,
        side=party.side,
        author=user,
        body=body,
        client_id=client_id,
    )
    broadcast_message(negotiation, message)
    notify_on_commit(negotiation.pk)
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
