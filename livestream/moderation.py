"""The organisers' moderation queue: reported chat messages, one row per message, and the
decision taken on them.

Reads (``reported_messages``, ``queue_page_details``) cost a fixed number of queries
whatever the page holds: the page of messages with their report figures, the author's
earlier hidden messages and current restriction as subqueries; then one query for the
page's reports and one for the chat around every message of the page.

A decision (``report_decide``) goes through the chat's own services, so its live effects
are the same as a moderator's in the room (hidden for everyone at once, the restriction
notice to the author's sockets) and so is its audit entry; then every open report of the
message is closed with the decision, who took it, when and why."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from fair.audit import audit_record
from fair.exceptions import ApplicationError, Forbidden, NotFound
from fair.models import User
from livestream import chat
from livestream.models import ChatMessage, ChatReport, ChatRestriction

#: Messages shown on each side of a reported one.
CONTEXT_EACH_SIDE = 5
ACTIONS = ("hide", "unhide", "dismiss", "mute", "ban")
#: What each decision writes on the message's open reports.
DECISION_STATUS = {
    "hide": ChatReport.Status.HIDDEN,
    "dismiss": ChatReport.Status.DISMISSED,
    "mute": ChatReport.Status.MUTED,
    "ban": ChatReport.Status.BANNED,
}


def _require_organiser(user: User) -> None:
    if not (user.is_authenticated and user.is_organiser):
        raise Forbidden(_("Only organisers work through the moderation queue."))


def reported_messages(*, user: User, show: str = "open") -> QuerySet[ChatMessage]:
    """Reported messages for the queue: ``show`` is ``open`` (at least one open report),
    ``decided`` (reported, none open) or ``all``; messages with open reports first, then
    the most recently reported. Annotated with ``report_count``, ``open_count``,
    ``last_reported_at``, ``prior_hidden`` (the author's other hidden messages, every
    room), ``restriction_kind`` / ``restriction_until`` (in force in this company's
    rooms)."""
    _require_organiser(user)
    open_reports = ChatReport.objects.filter(message=OuterRef("pk"), status=ChatReport.Status.OPEN)
    hidden_before = (
        ChatMessage.objects.filter(author_id=OuterRef("author_id"), hidden_at__isnull=False)
        .exclude(pk=OuterRef("pk"))
        .order_by()
        .values("author_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    now = timezone.now()
    restriction = (
        ChatRestriction.objects.filter(
            exhibitor_id=OuterRef("session__exhibitor_id"),
            user_id=OuterRef("author_id"),
            lifted_at__isnull=True,
        )
        .filter(Q(kind=ChatRestriction.Kind.BAN) | Q(until__gt=now))
        .order_by("kind", "-until")  # "ban" sorts before "mute"
    )
    queryset = (
        ChatMessage.objects.filter(Exists(ChatReport.objects.filter(message=OuterRef("pk"))))
        .select_related("session", "session__exhibitor")
        .annotate(
            report_count=Count("reports"),
            open_count=Count("reports", filter=Q(reports__status=ChatReport.Status.OPEN)),
            last_reported_at=Max("reports__created_at"),
            prior_hidden=Coalesce(Subquery(hidden_before, output_field=IntegerField()), Value(0)),
            restriction_kind=Subquery(restriction.values("kind")[:1]),
            restriction_until=Subquery(restriction.values("until")[:1]),
        )
    )
    if show == "open":
        queryset = queryset.filter(Exists(open_reports))
    elif show == "decided":
        queryset = queryset.exclude(Exists(open_reports))
    return queryset.order_by("-open_count", "-last_reported_at", "-pk")


@dataclass
class QueueRow:
    message: ChatMessage
    reports: list[ChatReport] = field(default_factory=list)
    context: list[ChatMessage] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return [r.reason for r in self.reports if r.reason]

    @property
    def decisions(self) -> list[ChatReport]:
        """The decided reports, one per distinct decision (who, when, what)."""
        seen, decided = set(), []
        for report in self.reports:
            key = (report.status, report.resolved_by_id, report.resolved_at)
            if report.status != ChatReport.Status.OPEN and key not in seen:
                seen.add(key)
                decided.append(report)
        return decided


def queue_page_details(messages: list[ChatMessage]) -> list[QueueRow]:
    """The page's reports (with reporters and deciders) and the chat around each message:
    two queries for the whole page."""
    if not messages:
        return []
    rows = {m.pk: QueueRow(message=m) for m in messages}
    for report in (
        ChatReport.objects.filter(message_id__in=rows)
        .select_related("reporter", "resolved_by")
        .order_by("created_at", "pk")
    ):
        rows[report.message_id].reports.append(report)
    around = Q()
    for m in messages:
        around |= Q(
            session_id=m.session_id,
            seq__gte=m.seq - CONTEXT_EACH_SIDE,
            seq__lte=m.seq + CONTEXT_EACH_SIDE,
        )
    by_session = defaultdict(list)
    for neighbour in ChatMessage.objects.filter(around).order_by("session_id", "seq"):
        by_session[neighbour.session_id].append(neighbour)
    for row in rows.values():
        m = row.message
        row.context = [
            n
            for n in by_session[m.session_id]
            if m.seq - CONTEXT_EACH_SIDE <= n.seq <= m.seq + CONTEXT_EACH_SIDE
        ]
    return [rows[m.pk] for m in messages]


def _clean_minutes(minutes: object) -> int | None:
    if isinstance(minutes, str) and minutes.strip().isdigit():
        return int(minutes.strip())
    return minutes if isinstance(minutes, int) else None


@transaction.atomic
def report_decide(
    *,
    user: User,
    message_id: int,
    action: str,
    minutes: object = None,
    reason: str = "",
    hide: bool = False,
) -> int:
    """Decide on a reported message (organisers): ``hide`` it, show it again (``unhide``),
    ``dismiss`` its reports, ``mute`` (for ``minutes``) or ``ban`` its author from the
    company's rooms (with ``hide`` also hiding the message). Runs the chat's services (their
    broadcasts and audit entries: ``chat.hide`` / ``chat.unhide`` / ``chat.mute`` /
    ``chat.ban``; a dismissal writes ``report.dismiss``), then closes every open report of
    the message with the decision. Returns how many reports it closed."""
    _require_organiser(user)
    if action not in ACTIONS:
        raise ApplicationError(_("Choose what to do with the message."), code="invalid")
    reason = (reason or "").strip()
    if len(reason) > chat.MAX_REASON_CHARS:
        raise ApplicationError(
            _("A reason can be at most %(max)d characters.") % {"max": chat.MAX_REASON_CHARS},
            code="invalid",
        )
    message = ChatMessage.objects.filter(pk=message_id).select_related("session").first()
    if message is None or not message.reports.exists():
        raise NotFound("No such reported message.")
    open_reports = list(
        ChatReport.objects.select_for_update()
        .filter(message=message, status=ChatReport.Status.OPEN)
        .values_list("pk", flat=True)
    )
    session_id, seq = message.session_id, message.seq
    if action == "dismiss":
        if not open_reports:
            raise ApplicationError(_("These reports were already decided."), code="decided")
        audit_record(
            actor=user,
            action="report.dismiss",
            target=message,
            target_label=chat.message_label(message, message.session),
            reason=reason,
            data={"session": session_id, "seq": seq, "reports": len(open_reports)},
        )
    elif action == "unhide":
        chat.chat_message_unhide(user=user, session_id=session_id, seq=seq, reason=reason)
        return 0
    elif action == "hide":
        chat.chat_message_hide(user=user, session_id=session_id, seq=seq, reason=reason)
    else:
        chat.chat_user_restrict(
            user=user,
            session_id=session_id,
            seq=seq,
            kind=ChatRestriction.Kind.MUTE if action == "mute" else ChatRestriction.Kind.BAN,
            minutes=_clean_minutes(minutes) if action == "mute" else None,
            reason=reason,
        )
        if hide:
            chat.chat_message_hide(user=user, session_id=session_id, seq=seq, reason=reason)
    # chat_message_hide closes the reports itself (as "hidden"); the decision taken here
    # is what they record, also when the message had been hidden in the room already.
    return ChatReport.objects.filter(pk__in=open_reports).update(
        status=DECISION_STATUS[action],
        resolved_at=timezone.now(),
        resolved_by=user,
        decision_note=reason[:500],
    )
