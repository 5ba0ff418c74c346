"""The stream room's public chat: who speaks as whom, storing messages, moderation, history.

**Persist, then broadcast.** ``chat_message_send`` stores a message before anything is
broadcast, and broadcasts only once its transaction commits (``send_event_on_commit``); the
channel layer is never the record. A message is idempotent on ``(session, author,
client_id)``: sending the same ``client_id`` again (a retry after a lost ack) returns the
stored message and broadcasts nothing.

**Sequence numbers without gaps.** Each session counts its messages in
``LiveSession.chat_last_seq``. Sending increments it with one ``UPDATE ... RETURNING`` (which
row-locks the session until commit, so numbers are handed out in commit order) and inserts
the message in the same transaction. A concurrent duplicate ``client_id`` fails the insert
on the unique constraint, which rolls the increment back with it: no number is ever burnt,
so a client that saw ``n`` and not ``n + 1`` knows something is missing and asks for it.

**Who may do what** is decided when the socket connects (``chat_identity``: one read) and
checked again by every moderation service (a moderator who lost their role cannot keep
hiding messages on an old socket). The hot path, sending, costs five short statements:
idempotency probe, restriction probe, counter update, insert, commit.

Events (``fair.realtime``, to the session group): ``chat.message``, ``chat.hidden``,
``chat.pinned``, ``chat.answered``, ``chat.slow_mode``; to one user's group:
``chat.restriction``. The full protocol is in ``livestream/consumers.py``."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from exhibitors.models import Exhibitor, ExhibitorMember
from exhibitors.selectors import membership_get
from fair.audit import audit_record
from fair.exceptions import ApplicationError, Forbidden, NotFound
from fair.models import User
from fair.realtime import live_session_group, send_event_on_commit, user_group
from livestream.models import ChatMessage, ChatReport, ChatRestriction, LiveSession

MAX_BODY_CHARS = 1000
MAX_REASON_CHARS = 500
#: Messages sent on join, and per page of history.
RECENT_COUNT = 50
#: At most this many missed messages per resume answer; the client asks again for the rest.
RESUME_MAX = 200
QUESTIONS_MAX = 100
MUTE_MAX_MINUTES = 24 * 60
SLOW_MODE_MAX_SECONDS = 300
OPEN_STATUSES = (LiveSession.Status.SCHEDULED, LiveSession.Status.LIVE)
#: Why a user cannot post, as the room page and ``room.joined`` say it.
RESTRICTION_REASONS = {ChatRestriction.Kind.MUTE: "muted", ChatRestriction.Kind.BAN: "banned"}

_CLIENT_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
# Control characters other than tab and newline are removed from bodies.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class ChatIdentity:
    """How a signed-in user appears in one room's chat, decided once per connect."""

    user_id: int
    exhibitor_id: int
    name: str
    company: str
    badge: str
    #: Staff of the session's exhibitor (any role) or an organiser.
    is_moderator: bool


@dataclass(frozen=True)
class SendResult:
    seq: int
    sent_at: str
    created: bool


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def short_name(full_name: str, email: str) -> str:
    """``"Khalid Al-Saud"`` -> ``"Khalid A."``: enough to follow a conversation, not a full
    name broadcast to every anonymous viewer."""
    parts = full_name.split()
    if not parts:
        return email.split("@")[0][:40]
    if len(parts) == 1:
        return parts[0][:60]
    return f"{parts[0][:60]} {parts[-1][0]}."


def chat_identity(*, user: User, exhibitor_id: int, is_staff: bool) -> ChatIdentity | None:
    """The speaking identity of ``user`` in a room of ``exhibitor_id`` (``None`` when
    signed out). Staff speak for their company with the exhibitor badge, organisers with
    theirs; a buyer shows their company only if they allowed being named in rooms."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    name = short_name(user.full_name, user.email)
    if is_staff:
        company = (
            Exhibitor.objects.filter(pk=exhibitor_id).values_list("display_name", flat=True)
        ).first() or ""
        return ChatIdentity(
            user_id=user.pk,
            exhibitor_id=exhibitor_id,
            name=name,
            company=company,
            badge=ChatMessage.Badge.EXHIBITOR,
            is_moderator=True,
        )
    if user.is_organiser:
        return ChatIdentity(
            user_id=user.pk,
            exhibitor_id=exhibitor_id,
            name=name,
            company="",
            badge=ChatMessage.Badge.ORGANISER,
            is_moderator=True,
        )
    # The buyer profile through the user (livestream does not import the buyers app).
    profile = (
        User.objects.filter(pk=user.pk)
        .values("buyer_profile__company", "buyer_profile__show_identity_in_rooms")
        .first()
    ) or {}
    company = (
        profile.get("buyer_profile__company") or ""
        if profile.get("buyer_profile__show_identity_in_rooms")
        else ""
    )
    if not company:
        # Staff of another company speak under their company's name.
        company = (
            ExhibitorMember.objects.filter(user=user)
            .order_by("pk")
            .values_list("exhibitor__display_name", flat=True)
            .first()
        ) or ""
    return ChatIdentity(
        user_id=user.pk,
        exhibitor_id=exhibitor_id,
        name=name,
        company=company,
        badge=ChatMessage.Badge.NONE,
        is_moderator=False,
    )


def restriction_active(*, user_id: int, exhibitor_id: int) -> ChatRestriction | None:
    """The ban, else the longest mute, in force for this user in this exhibitor's rooms."""
    return (
        ChatRestriction.objects.filter(
            exhibitor_id=exhibitor_id, user_id=user_id, lifted_at__isnull=True
        )
        .filter(Q(kind=ChatRestriction.Kind.BAN) | Q(until__gt=timezone.now()))
        .order_by("kind", "-until")  # "ban" sorts before "mute"
        .only("kind", "until")
        .first()
    )


def restriction_error(restriction: ChatRestriction) -> ApplicationError:
    if restriction.kind == ChatRestriction.Kind.BAN:
        return ApplicationError(
            _("You have been banned from this exhibitor's chat. You can still watch."),
            code="banned",
        )
    local = timezone.localtime(restriction.until)
    return ApplicationError(
        _("You are muted in this chat until %(time)s.") % {"time": f"{local:%H:%M}"},
        code="muted",
        extra={"until": iso(restriction.until)},
    )


# --- Messages as frames -----------------------------------------------------------------------

_FIELDS = (
    "seq",
    "client_id",
    "author_name",
    "author_company",
    "badge",
    "body",
    "is_question",
    "answered_at",
    "hidden_at",
    "created_at",
)


def message_frame(session_id: int, row: dict) -> dict:
    """The ``chat.message`` frame of a stored message (a ``values()`` row). A hidden message
    is only its number."""
    if row["hidden_at"] is not None:
        return {"type": "chat.message", "session": session_id, "seq": row["seq"], "hidden": True}
    return {
        "type": "chat.message",
        "session": session_id,
        "seq": row["seq"],
        "client_id": row["client_id"],
        "author": {
            "name": row["author_name"],
            "company": row["author_company"],
            "badge": row["badge"],
        },
        "body": row["body"],
        "question": row["is_question"],
        "answered": row["answered_at"] is not None,
        "sent_at": iso(row["created_at"]),
    }


def chat_history(
    *, session_id: int, after: int | None = None, before: int | None = None
) -> tuple[list[dict], bool]:
    """Messages as frames, ascending. ``after``: those with a greater number (at most
    ``RESUME_MAX``; the flag says more follow). ``before`` or neither: the
    ``RECENT_COUNT`` before it or the latest (the flag says earlier ones exist). One query."""
    rows = ChatMessage.objects.filter(session_id=session_id)
    if after is not None:
        page = list(rows.filter(seq__gt=after).order_by("seq").values(*_FIELDS)[: RESUME_MAX + 1])
        more = len(page) > RESUME_MAX
        return [message_frame(session_id, row) for row in page[:RESUME_MAX]], more
    if before is not None:
        rows = rows.filter(seq__lt=before)
    page = list(rows.order_by("-seq").values(*_FIELDS)[: RECENT_COUNT + 1])
    more = len(page) > RECENT_COUNT
    page = page[:RECENT_COUNT]
    page.reverse()
    return [message_frame(session_id, row) for row in page], more


def chat_pinned(*, session_id: int, seq: int | None) -> dict | None:
    if seq is None:
        return None
    row = (
        ChatMessage.objects.filter(session_id=session_id, seq=seq, hidden_at__isnull=True)
        .values(*_FIELDS)
        .first()
    )
    return message_frame(session_id, row) if row else None


def chat_questions_open(*, session_id: int) -> list[dict]:
    rows = (
        ChatMessage.objects.filter(
            session_id=session_id,
            is_question=True,
            answered_at__isnull=True,
            hidden_at__isnull=True,
        )
        .order_by("seq")
        .values(*_FIELDS)[:QUESTIONS_MAX]
    )
    return [message_frame(session_id, row) for row in rows]


# --- Sending ----------------------------------------------------------------------------------


def clean_body(body: object) -> str:
    if not isinstance(body, str):
        raise ApplicationError(_("Write a message first."), code="invalid")
    text = _CONTROL.sub("", body).strip()
    if not text:
        raise ApplicationError(_("Write a message first."), code="invalid")
    if len(text) > MAX_BODY_CHARS:
        raise ApplicationError(
            _("A message can be at most %(max)d characters (this one has %(count)d).")
            % {"max": MAX_BODY_CHARS, "count": len(text)},
            code="invalid",
        )
    return text


def clean_client_id(client_id: object) -> str:
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise ApplicationError(
            _("The message has no valid id; reload the page and try again."), code="invalid"
        )
    return client_id


def chat_message_existing(*, session_id: int, user_id: int, client_id: str) -> SendResult | None:
    row = (
        ChatMessage.objects.filter(session_id=session_id, author_id=user_id, client_id=client_id)
        .values("seq", "created_at")
        .first()
    )
    if row is None:
        return None
    return SendResult(seq=row["seq"], sent_at=iso(row["created_at"]), created=False)


_PROBE_SQL = """
SELECT m.seq, m.created_at, r.kind, r.until
FROM (SELECT 1) AS one
LEFT JOIN livestream_chatmessage m
  ON m.session_id = %(session)s AND m.author_id = %(user)s AND m.client_id = %(client_id)s
LEFT JOIN LATERAL (
  SELECT kind, until FROM livestream_chatrestriction
  WHERE exhibitor_id = %(exhibitor)s AND user_id = %(user)s AND lifted_at IS NULL
    AND (kind = 'ban' OR until > %(now)s)
  ORDER BY kind, until DESC
  LIMIT 1
) r ON true
"""

# One statement, so atomic on its own: take the next number of an open session and insert.
# A duplicate client_id fails the whole statement, the increment with it (no burnt number).
_INSERT_SQL = """
WITH next AS (
  UPDATE livestream_livesession SET chat_last_seq = chat_last_seq + 1
  WHERE id = %(session)s AND status IN ('scheduled', 'live')
  RETURNING chat_last_seq
)
INSERT INTO livestream_chatmessage
  (session_id, seq, author_id, client_id, author_name, author_company, badge, body,
   is_question, created_at)
SELECT %(session)s, next.chat_last_seq, %(user)s, %(client_id)s, %(name)s, %(company)s,
       %(badge)s, %(body)s, %(question)s, %(now)s
FROM next
RETURNING seq
"""


def chat_message_send(
    *,
    session_id: int,
    identity: ChatIdentity,
    client_id: str,
    body: str,
    is_question: bool = False,
) -> SendResult:
    """Store a message and broadcast it once stored. Idempotent on ``client_id``; raises
    ``ApplicationError`` with code ``invalid``, ``muted``, ``banned`` or ``chat_closed``.

    Two round trips on the hot path (this runs for every message of every room): one probe
    answers "was this client_id stored already?" and "is the author muted or banned?"; one
    statement numbers and inserts the message. Must not run inside an outer transaction
    (the broadcast goes out as soon as the statement has committed)."""
    client_id = clean_client_id(client_id)
    now = timezone.now()
    params = {
        "session": session_id,
        "user": identity.user_id,
        "client_id": client_id,
        "exhibitor": identity.exhibitor_id,
        "now": now,
    }
    with connection.cursor() as cursor:
        cursor.execute(_PROBE_SQL, params)
        seq, created_at, kind, until = cursor.fetchone()
    if seq is not None:
        return SendResult(seq=seq, sent_at=iso(created_at), created=False)
    text = clean_body(body)
    if kind is not None:
        raise restriction_error(ChatRestriction(kind=kind, until=until))
    question = bool(is_question)
    try:
        # Autocommit: the statement is its own transaction (no BEGIN / COMMIT round trips).
        # Inside a caller's transaction (tests) a savepoint keeps a failure contained.
        block = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
        with block, connection.cursor() as cursor:
            cursor.execute(
                _INSERT_SQL,
                {
                    **params,
                    "name": identity.name,
                    "company": identity.company,
                    "badge": identity.badge,
                    "body": text,
                    "question": question,
                },
            )
            row = cursor.fetchone()
            if row is None:
                if not LiveSession.objects.filter(pk=session_id).exists():
                    raise NotFound
                raise ApplicationError(
                    _("The chat is closed: this session has ended."), code="chat_closed"
                )
            seq = row[0]
            frame = message_frame(
                session_id,
                {
                    "seq": seq,
                    "client_id": client_id,
                    "author_name": identity.name,
                    "author_company": identity.company,
                    "badge": identity.badge,
                    "body": text,
                    "is_question": question,
                    "answered_at": None,
                    "hidden_at": None,
                    "created_at": now,
                },
            )
            send_event_on_commit(live_session_group(session_id), frame)
    except IntegrityError:
        # The same client_id won a concurrent race: answer with the stored message.
        existing = chat_message_existing(
            session_id=session_id, user_id=identity.user_id, client_id=client_id
        )
        if existing is None:
            raise
        return existing
    return SendResult(seq=seq, sent_at=frame["sent_at"], created=True)


# --- Moderation -------------------------------------------------------------------------------


def _moderated_session(*, user: User, session_id: int) -> LiveSession:
    """The session, if ``user`` may moderate its chat (its exhibitor's staff, organisers)."""
    session = (
        LiveSession.objects.filter(pk=session_id)
        .only("pk", "exhibitor_id", "title", "chat_slow_mode_seconds")
        .first()
    )
    if session is None:
        raise NotFound
    if membership_get(user=user, exhibitor_id=session.exhibitor_id) is None and not (
        user.is_authenticated and user.is_organiser
    ):
        raise Forbidden(_("Only the exhibitor's staff and organisers can moderate this chat."))
    return session


def _message(*, session_id: int, seq: object) -> ChatMessage:
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise ApplicationError(_("That message does not exist."), code="invalid")
    message = ChatMessage.objects.filter(session_id=session_id, seq=seq).first()
    if message is None:
        raise ApplicationError(_("That message does not exist."), code="not_found")
    return message


def message_label(message: ChatMessage, session: LiveSession) -> str:
    """How the audit log names a chat message (never its text: the log outlives a hide)."""
    return f"#{message.seq} by {message.author_name} in “{session.title}”"


@transaction.atomic
def chat_message_hide(*, user: User, session_id: int, seq: int, reason: str = "") -> ChatMessage:
    """Hide a message for everyone, at once (idempotent). Unpins it; closes its open
    reports as hidden. The first hide writes the audit entry ``chat.hide``."""
    session = _moderated_session(user=user, session_id=session_id)
    message = _message(session_id=session_id, seq=seq)
    if message.hidden_at is None:
        now = timezone.now()
        ChatMessage.objects.filter(pk=message.pk).update(hidden_at=now, hidden_by=user)
        message.hidden_at = now
        ChatReport.objects.filter(message=message, status=ChatReport.Status.OPEN).update(
            status=ChatReport.Status.HIDDEN,
            resolved_at=now,
            resolved_by=user,
            decision_note=reason.strip()[:500],
        )
        audit_record(
            actor=user,
            action="chat.hide",
            target=message,
            target_label=message_label(message, session),
            reason=reason,
            data={"session": session_id, "seq": seq, "author_id": message.author_id},
        )
    unpinned = LiveSession.objects.filter(pk=session_id, chat_pinned_seq=seq).update(
        chat_pinned_seq=None
    )
    group = live_session_group(session_id)
    send_event_on_commit(group, {"type": "chat.hidden", "session": session_id, "seq": seq})
    if unpinned:
        send_event_on_commit(group, {"type": "chat.pinned", "session": session_id, "message": None})
    return message


@transaction.atomic
def chat_message_unhide(*, user: User, session_id: int, seq: int, reason: str = "") -> ChatMessage:
    """Show a hidden message again (idempotent; audited ``chat.unhide``). Every room gets
    ``chat.unhidden`` with the message's frame; a page that does not know that event shows
    the message after its next reload (history carries it again)."""
    session = _moderated_session(user=user, session_id=session_id)
    message = _message(session_id=session_id, seq=seq)
    if message.hidden_at is not None:
        ChatMessage.objects.filter(pk=message.pk).update(hidden_at=None, hidden_by=None)
        message.hidden_at = None
        audit_record(
            actor=user,
            action="chat.unhide",
            target=message,
            target_label=message_label(message, session),
            reason=reason,
            data={"session": session_id, "seq": seq, "author_id": message.author_id},
        )
    row = ChatMessage.objects.filter(pk=message.pk).values(*_FIELDS).get()
    send_event_on_commit(
        live_session_group(session_id),
        {"type": "chat.unhidden", "session": session_id, "message": message_frame(session_id, row)},
    )
    return message


@transaction.atomic
def chat_message_pin(*, user: User, session_id: int, seq: int | None) -> dict | None:
    """Pin a message above the chat for everyone (``None`` unpins)."""
    _moderated_session(user=user, session_id=session_id)
    frame = None
    if seq is not None:
        message = _message(session_id=session_id, seq=seq)
        if message.hidden_at is not None:
            raise ApplicationError(_("A hidden message cannot be pinned."), code="invalid")
        frame = chat_pinned(session_id=session_id, seq=seq)
    LiveSession.objects.filter(pk=session_id).update(chat_pinned_seq=seq)
    send_event_on_commit(
        live_session_group(session_id),
        {"type": "chat.pinned", "session": session_id, "message": frame},
    )
    return frame


@transaction.atomic
def chat_question_answer(*, user: User, session_id: int, seq: int) -> ChatMessage:
    _moderated_session(user=user, session_id=session_id)
    message = _message(session_id=session_id, seq=seq)
    if not message.is_question:
        raise ApplicationError(_("That message is not a question."), code="invalid")
    if message.answered_at is None:
        message.answered_at = timezone.now()
        ChatMessage.objects.filter(pk=message.pk).update(answered_at=message.answered_at)
    send_event_on_commit(
        live_session_group(session_id),
        {"type": "chat.answered", "session": session_id, "seq": seq},
    )
    return message


@transaction.atomic
def chat_slow_mode_set(*, user: User, session_id: int, seconds: object) -> int:
    """Set the room's slow mode; a change writes the audit entry ``chat.slow_mode``."""
    session = _moderated_session(user=user, session_id=session_id)
    if (
        not isinstance(seconds, int)
        or isinstance(seconds, bool)
        or not 0 <= seconds <= SLOW_MODE_MAX_SECONDS
    ):
        raise ApplicationError(
            _("Slow mode is between 0 (off) and %(max)d seconds.") % {"max": SLOW_MODE_MAX_SECONDS},
            code="invalid",
        )
    changed = (
        LiveSession.objects.filter(pk=session_id)
        .exclude(chat_slow_mode_seconds=seconds)
        .update(chat_slow_mode_seconds=seconds)
    )
    if changed:
        audit_record(
            actor=user,
            action="chat.slow_mode",
            target=session,
            target_label=session.title,
            data={"session": session_id, "seconds": seconds},
        )
    send_event_on_commit(
        live_session_group(session_id),
        {"type": "chat.slow_mode", "session": session_id, "seconds": seconds},
    )
    return seconds


@transaction.atomic
def chat_user_restrict(
    *, user: User, session_id: int, seq: int, kind: str, minutes: object = None, reason: str = ""
) -> ChatRestriction:
    """Mute (for ``minutes``) or ban the author of message ``seq`` from the exhibitor's
    rooms. Staff of the exhibitor and organisers cannot be restricted. Writes the audit
    entry ``chat.mute`` / ``chat.ban``; the author's sockets get ``chat.restriction``."""
    session = _moderated_session(user=user, session_id=session_id)
    message = _message(session_id=session_id, seq=seq)
    if message.author_id is None:
        raise ApplicationError(_("That message's author no longer exists."), code="invalid")
    if message.author_id == user.pk:
        raise ApplicationError(_("You cannot restrict yourself."), code="invalid")
    author = User.objects.get(pk=message.author_id)
    if author.is_organiser or membership_get(user=author, exhibitor_id=session.exhibitor_id):
        raise ApplicationError(
            _("Staff of the exhibitor and organisers cannot be muted or banned."), code="invalid"
        )
    until = None
    if kind == ChatRestriction.Kind.MUTE:
        if (
            not isinstance(minutes, int)
            or isinstance(minutes, bool)
            or not 1 <= minutes <= MUTE_MAX_MINUTES
        ):
            raise ApplicationError(
                _("Mute for between 1 and %(max)d minutes.") % {"max": MUTE_MAX_MINUTES},
                code="invalid",
            )
        until = timezone.now() + timedelta(minutes=minutes)
    elif kind != ChatRestriction.Kind.BAN:
        raise ApplicationError(_("Unknown restriction."), code="invalid")
    restriction = ChatRestriction.objects.create(
        exhibitor_id=session.exhibitor_id,
        user_id=message.author_id,
        kind=kind,
        until=until,
        session_id=session_id,
        message=message,
        created_by=user,
    )
    audit_record(
        actor=user,
        action=f"chat.{kind}",
        target=restriction,
        target_label=f"{message.author_name} ({author.email}) in {message_label(message, session)}",
        reason=reason,
        data={
            "session": session_id,
            "seq": seq,
            "user_id": message.author_id,
            "exhibitor_id": session.exhibitor_id,
            "minutes": minutes if kind == ChatRestriction.Kind.MUTE else None,
        },
    )
    send_event_on_commit(
        user_group(message.author_id),
        {
            "type": "chat.restriction",
            "session": session_id,
            "kind": kind,
            "until": iso(until) if until else None,
        },
    )
    return restriction


@transaction.atomic
def chat_restriction_lift(*, user: User, restriction_id: int) -> ChatRestriction:
    restriction = ChatRestriction.objects.select_for_update().filter(pk=restriction_id).first()
    if restriction is None:
        raise NotFound
    if membership_get(user=user, exhibitor_id=restriction.exhibitor_id) is None and not (
        user.is_organiser
    ):
        raise NotFound
    if restriction.lifted_at is None:
        restriction.lifted_at = timezone.now()
        restriction.lifted_by = user
        restriction.save(update_fields=["lifted_at", "lifted_by"])
        audit_record(
            actor=user,
            action="chat.unban",
            target=restriction,
            data={
                "kind": restriction.kind,
                "user_id": restriction.user_id,
                "exhibitor_id": restriction.exhibitor_id,
            },
        )
    return restriction


def chat_message_report(*, user: User, session_id: int, seq: int, reason: object = "") -> bool:
    """Report a message to the organisers. Reporting twice is accepted once; returns whether
    a new report was filed."""
    if not user.is_authenticated:
        raise ApplicationError(_("Sign in to report a message."), code="sign_in_required")
    if not isinstance(reason, str):
        reason = ""
    reason = _CONTROL.sub("", reason).strip()
    if len(reason) > MAX_REASON_CHARS:
        raise ApplicationError(
            _("A reason can be at most %(max)d characters.") % {"max": MAX_REASON_CHARS},
            code="invalid",
        )
    message = _message(session_id=session_id, seq=seq)
    if message.author_id == user.pk:
        raise ApplicationError(_("You cannot report your own message."), code="invalid")
    _report, created = ChatReport.objects.get_or_create(
        message=message, reporter=user, defaults={"reason": reason}
    )
    return created


@transaction.atomic
def chat_report_resolve(*, user: User, report_ids: list[int], hide: bool) -> int:
    """Organisers: hide the reported messages (closing every report of them), or dismiss
    the reports. Returns how many reports were resolved."""
    if not user.is_organiser:
        raise Forbidden(_("Only organisers work through the moderation queue."))
    reports = list(
        ChatReport.objects.select_related("message")
        .filter(pk__in=report_ids, status=ChatReport.Status.OPEN)
        .select_for_update(of=("self",))
    )
    messages = {report.message_id: report.message for report in reports}
    if hide:
        for message in messages.values():
            chat_message_hide(user=user, session_id=message.session_id, seq=message.seq)
        return len(reports)
    now = timezone.now()
    count = ChatReport.objects.filter(pk__in=[r.pk for r in reports]).update(
        status=ChatReport.Status.DISMISSED, resolved_at=now, resolved_by=user
    )
    for message in messages.values():
        audit_record(
            actor=user,
            action="report.dismiss",
            target=message,
            target_label=f"#{message.seq} by {message.author_name}",
            data={"session": message.session_id, "seq": message.seq},
        )
    return count
