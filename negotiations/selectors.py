"""Permission-checked reads of negotiation rooms.

**One function decides who is a party**: ``negotiation_for_party``. The parties of a room are
its buyer and the staff (any role) of its exhibitor, while their account is active. Organisers
are not parties. Every door (REST API, websocket actions, attachment download, transcript and
lead exports) reaches a room through it, or through ``quote_for_party`` /
``attachment_for_party``, which call it. A user who is not a party gets ``NotFound``, exactly
as for a room that does not exist, so nobody can probe for other people's rooms.

Lists are scoped the same way: ``negotiations_of_buyer`` filters on the caller,
``negotiations_of_exhibitor`` first checks the caller's membership of the company
(``NotFound`` otherwise). Organisers get figures only (``negotiation_figures``): counts and
values, never a message, a file name or a party's name.

Query counts stay flat: every list is one query whatever its length (related rows joined or
prefetched), and the party check is one query (the membership is a subquery)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)

from exhibitors.models import Exhibitor, ExhibitorMember
from exhibitors.selectors import membership_get
from fair.exceptions import Forbidden, NotFound
from fair.models import User
from negotiations.models import (
    Attachment,
    Message,
    Negotiation,
    PurchaseIntent,
    Quote,
    Side,
)

HISTORY_PAGE = 50
RESUME_LIMIT = 200
#: The first-reply badge needs this many answered rooms, so one lucky reply is not a median.
REPLY_BADGE_MIN_ROOMS = 3
REPLY_BADGE_CACHE_SECONDS = 600


@dataclass(frozen=True)
class Party:
    """Who the caller is in a room."""

    user_id: int
    side: str  # Side.BUYER or Side.EXHIBITOR
    #: The staff role (owner / admin / sales) on the exhibitor side, else "".
    role: str = ""

    @property
    def is_buyer(self) -> bool:
        return self.side == Side.BUYER

    @property
    def can_assign(self) -> bool:
        return self.role in ExhibitorMember.EDITOR_ROLES


def _not_found() -> NotFound:
    return NotFound("No such negotiation.")


def _is_signed_in(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def negotiation_for_party(
    *, user: User, negotiation_id: int, for_update: bool = False
) -> tuple[Negotiation, Party]:
    """The room and the caller's place in it, in one query; ``NotFound`` for anyone who is not
    a party (anonymous, inactive, another buyer, another company's staff, organisers) exactly
    as for a missing room. ``for_update`` locks the room's row (services allocate sequence
    numbers under it)."""
    if not _is_signed_in(user):
        raise _not_found()
    try:
        negotiation_id = int(negotiation_id)
    except (TypeError, ValueError):
        raise _not_found() from None
    membership = ExhibitorMember.objects.filter(exhibitor_id=OuterRef("exhibitor_id"), user=user)
    queryset = (
        Negotiation.objects.filter(pk=negotiation_id)
        .annotate(staff_role=Subquery(membership.values("role")[:1]))
        .filter(Q(buyer=user) | Q(staff_role__isnull=False))
        .select_related("exhibitor")
    )
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    negotiation = queryset.first()
    if negotiation is None:
        raise _not_found()
    if negotiation.buyer_id == user.pk:
        return negotiation, Party(user_id=user.pk, side=Side.BUYER)
    return negotiation, Party(user_id=user.pk, side=Side.EXHIBITOR, role=negotiation.staff_role)


def quote_for_party(*, user: User, quote_id: int) -> tuple[Quote, Negotiation, Party]:
    """A quote of a room the caller is a party to (not locked; services lock the room, then
    the quote)."""
    room_id = Quote.objects.filter(pk=quote_id).values_list("negotiation_id", flat=True).first()
    if room_id is None:
        raise NotFound("No such quote.")
    try:
        negotiation, party = negotiation_for_party(user=user, negotiation_id=room_id)
    except NotFound:
        raise NotFound("No such quote.") from None
    quote = Quote.objects.select_related("purchase_intent").get(pk=quote_id)
    return quote, negotiation, party


def attachment_for_party(*, user: User, attachment_id: int) -> tuple[Attachment, Party]:
    """An attachment of a room the caller is a party to; ``NotFound`` otherwise."""
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound("No such file.")
    try:
        _negotiation, party = negotiation_for_party(
            user=user, negotiation_id=attachment.negotiation_id
        )
    except NotFound:
        raise NotFound("No such file.") from None
    return attachment, party


def party_user_ids(*, negotiation: Negotiation) -> list[int]:
    """Everyone who receives a room's events: the buyer and every active staff member of the
    exhibitor (read under the caller's transaction, so a removed member gets nothing)."""
    staff = ExhibitorMember.objects.filter(
        exhibitor_id=negotiation.exhibitor_id, user__is_active=True
    ).values_list("user_id", flat=True)
    return [negotiation.buyer_id, *(uid for uid in staff if uid != negotiation.buyer_id)]


def negotiation_audience(*, user: User, negotiation_id: int) -> tuple[Party, list[int]]:
    """The caller's place in a room and the other parties' ids (who sees the caller typing).
    The websocket consumer asks once per room and keeps the answer a short while."""
    negotiation, party = negotiation_for_party(user=user, negotiation_id=negotiation_id)
    return party, [uid for uid in party_user_ids(negotiation=negotiation) if uid != user.pk]


def staff_user_ids(*, exhibitor_id: int) -> list[int]:
    return list(
        ExhibitorMember.objects.filter(exhibitor_id=exhibitor_id, user__is_active=True).values_list(
            "user_id", flat=True
        )
    )


# --- Inboxes --------------------------------------------------------------------------------


def negotiations_of_buyer(*, user: User, status: str | None = None) -> QuerySet[Negotiation]:
    """The buyer's rooms, most recent activity first, each with ``unread`` (messages after
    the buyer's read marker). One query."""
    if not _is_signed_in(user):
        return Negotiation.objects.none()
    queryset = (
        Negotiation.objects.filter(buyer=user)
        .select_related("exhibitor", "exhibitor__booth")
        .annotate(unread=F("last_seq") - F("buyer_last_read_seq"))
    )
    if status in Negotiation.Status.values:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-last_message_at", "-pk")


#: The shared inbox's views.
INBOX_VIEWS = ("awaiting_us", "awaiting_buyer", "agreed", "closed", "unread")


def negotiations_of_exhibitor(
    *,
    user: User,
    exhibitor_id: int,
    view: str | None = None,
    assigned: str | int | None = None,
) -> QuerySet[Negotiation]:
    """The exhibitor's shared inbox (any staff role; ``NotFound`` for everyone else), with
    ``unread`` per room. ``view``: ``awaiting_us`` (open, the buyer spoke last),
    ``awaiting_buyer`` (open, we spoke last), ``agreed``, ``closed``, ``unread``; ``assigned``:
    ``"me"``, ``"none"`` or a staff member's user id. One query."""
    if membership_get(user=user, exhibitor_id=exhibitor_id) is None:
        raise NotFound("No such exhibitor.")
    queryset = (
        Negotiation.objects.filter(exhibitor_id=exhibitor_id)
        .select_related("buyer", "buyer__buyer_profile", "assigned_to")
        .annotate(unread=F("last_seq") - F("exhibitor_last_read_seq"))
    )
    S = Negotiation.Status
    if view == "awaiting_us":
        queryset = queryset.filter(status=S.OPEN, last_speaker=Side.BUYER)
    elif view == "awaiting_buyer":
        queryset = queryset.filter(status=S.OPEN, last_speaker=Side.EXHIBITOR)
    elif view == "agreed":
        queryset = queryset.filter(status=S.AGREED)
    elif view == "closed":
        queryset = queryset.filter(status=S.CLOSED)
    elif view == "unread":
        queryset = queryset.unread_for_exhibitor()
    if assigned == "me":
        queryset = queryset.filter(assigned_to=user)
    elif assigned == "none":
        queryset = queryset.filter(assigned_to__isnull=True)
    elif assigned not in (None, ""):
        try:
            queryset = queryset.filter(assigned_to_id=int(assigned))
        except (TypeError, ValueError):
            queryset = queryset.none()
    return queryset.order_by("-last_message_at", "-pk")


def negotiations_unread_count(*, user: User) -> int:
    """Rooms with unread messages for the navigation bar's badge: the buyer's own rooms and
    the shared inboxes of every company the user is staff of. One query."""
    if not _is_signed_in(user):
        return 0
    staff = ExhibitorMember.objects.filter(exhibitor_id=OuterRef("exhibitor_id"), user=user)
    return Negotiation.objects.filter(
        Q(buyer=user, last_seq__gt=F("buyer_last_read_seq"))
        | (Q(Exists(staff)) & Q(last_seq__gt=F("exhibitor_last_read_seq")))
    ).count()


# --- Messages -------------------------------------------------------------------------------


def _messages(negotiation: Negotiation) -> QuerySet[Message]:
    return Message.objects.filter(negotiation=negotiation).select_related(
        "author", "attachment", "quote", "quote__purchase_intent"
    )


def messages_before(
    *, negotiation: Negotiation, before_seq: int | None = None, limit: int = HISTORY_PAGE
) -> tuple[list[Message], bool]:
    """A page of history going backwards: up to ``limit`` messages with ``seq`` below
    ``before_seq`` (the newest ones without it), ascending, and whether older ones exist.
    One query (one extra row tells whether there is more)."""
    queryset = _messages(negotiation)
    if before_seq is not None:
        queryset = queryset.filter(seq__lt=before_seq)
    rows = list(queryset.order_by("-seq")[: limit + 1])
    more = len(rows) > limit
    return list(reversed(rows[:limit])), more


def messages_after(
    *, negotiation: Negotiation, after_seq: int, limit: int = RESUME_LIMIT
) -> tuple[list[Message], bool]:
    """What a client that saw ``after_seq`` missed: up to ``limit`` messages, ascending, and
    whether that was all of them (``complete``). One query."""
    rows = list(_messages(negotiation).filter(seq__gt=after_seq).order_by("seq")[: limit + 1])
    return rows[:limit], len(rows) <= limit


def quotes_of(*, negotiation: Negotiation) -> QuerySet[Quote]:
    return (
        Quote.objects.filter(negotiation=negotiation)
        .select_related("product", "purchase_intent", "created_by")
        .order_by("created_at", "pk")
    )


# --- First-reply time -----------------------------------------------------------------------


class Median(Aggregate):
    """PostgreSQL's continuous median: ``percentile_cont(0.5) WITHIN GROUP (ORDER BY x)``."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


@dataclass(frozen=True)
class ReplyTime:
    seconds: int
    rooms: int

    @property
    def minutes(self) -> int:
        return max(1, round(self.seconds / 60))


def _medians(exhibitor_ids: list[int]) -> dict[int, ReplyTime]:
    base = Negotiation.objects.filter(
        exhibitor_id__in=exhibitor_ids, first_reply_seconds__isnull=False
    )
    result: dict[int, ReplyTime] = {}
    if connection.vendor == "postgresql":
        rows = (
            base.values("exhibitor_id")
            .annotate(median=Median("first_reply_seconds"), rooms=Count("pk"))
            .order_by()
        )
        for row in rows:
            result[row["exhibitor_id"]] = ReplyTime(round(row["median"]), row["rooms"])
        return result
    # The embedded default (SQLite) has no percentile_cont: the same median in Python.
    samples: dict[int, list[int]] = {}
    for exhibitor_id, seconds in base.values_list("exhibitor_id", "first_reply_seconds"):
        samples.setdefault(exhibitor_id, []).append(seconds)
    for exhibitor_id, values in samples.items():
        result[exhibitor_id] = ReplyTime(round(statistics.median(values)), len(values))
    return result


def exhibitor_median_first_reply(*, exhibitor_id: int) -> ReplyTime | None:
    """The exhibitor's median time from a buyer's first message to the first staff reply, or
    ``None`` before ``REPLY_BADGE_MIN_ROOMS`` rooms were answered. Public (a badge buyers see);
    cached ten minutes."""
    return exhibitors_median_first_reply(exhibitor_ids=[exhibitor_id]).get(exhibitor_id)


def exhibitors_median_first_reply(*, exhibitor_ids: list[int]) -> dict[int, ReplyTime]:
    """``exhibitor_median_first_reply`` for many exhibitors (a directory page): one cache
    round trip and at most one query."""
    ids = sorted({int(i) for i in exhibitor_ids})
    keys = {i: f"nego:first-reply:{i}" for i in ids}
    cached = cache.get_many(list(keys.values()))
    result: dict[int, ReplyTime] = {}
    missing = []
    for exhibitor_id, key in keys.items():
        if key in cached:
            if cached[key] is not None:
                result[exhibitor_id] = ReplyTime(*cached[key])
        else:
            missing.append(exhibitor_id)
    if missing:
        medians = _medians(missing)
        to_cache = {}
        for exhibitor_id in missing:
            reply = medians.get(exhibitor_id)
            if reply is not None and reply.rooms < REPLY_BADGE_MIN_ROOMS:
                reply = None
            to_cache[keys[exhibitor_id]] = (reply.seconds, reply.rooms) if reply else None
            if reply is not None:
                result[exhibitor_id] = reply
        cache.set_many(to_cache, REPLY_BADGE_CACHE_SECONDS)
    return result


# --- Organisers -----------------------------------------------------------------------------


def negotiation_figures(*, user: User) -> dict:
    """Fair-wide figures for organisers: rooms by status, quotes by status, purchase intents
    by currency (count and total value). Counts and sums only: no message, file, product or
    party appears. ``Forbidden`` for everyone else. Three queries."""
    if not user.is_authenticated or not user.is_organiser:
        raise Forbidden("Only organisers can see these figures.")
    rooms = dict.fromkeys(Negotiation.Status.values, 0)
    for row in Negotiation.objects.values("status").annotate(n=Count("pk")).order_by():
        rooms[row["status"]] = row["n"]
    quotes = dict.fromkeys(Quote.Status.values, 0)
    for row in Quote.objects.values("status").annotate(n=Count("pk")).order_by():
        quotes[row["status"]] = row["n"]
    intents = [
        {"currency": row["currency"], "count": row["n"], "total": row["total"] or Decimal("0")}
        for row in PurchaseIntent.objects.values("currency")
        .annotate(n=Count("pk"), total=Sum("total"))
        .order_by("-n", "currency")
    ]
    return {
        "rooms": {"total": sum(rooms.values()), **rooms},
        "quotes": {"total": sum(quotes.values()), **quotes},
        "intents": {"total": sum(i["count"] for i in intents), "by_currency": intents},
    }


def exhibitor_is_contactable(*, exhibitor_id: int) -> bool:
    return Exhibitor.objects.approved().filter(pk=exhibitor_id).exists()


# --- Exports --------------------------------------------------------------------------------


def transcript_messages(*, negotiation: Negotiation):
    """Every message of a room in order, for the transcript (an iterator: a long room is not
    held in memory). The caller got ``negotiation`` from ``negotiation_for_party``."""
    return _messages(negotiation).order_by("seq").iterator(chunk_size=500)


def leads_of_exhibitor(*, user: User, exhibitor_id: int) -> QuerySet[Negotiation]:
    """The exhibitor's rooms as leads (any staff role; ``NotFound`` otherwise), each with its
    buyer and profile, the latest quote's figures and the purchase intents. Two queries
    whatever the number of rooms (rooms with subqueries for the last quote, intents
    prefetched)."""
    if membership_get(user=user, exhibitor_id=exhibitor_id) is None:
        raise NotFound("No such exhibitor.")
    last_quote = Quote.objects.filter(negotiation=OuterRef("pk")).order_by("-created_at", "-pk")
    return (
        Negotiation.objects.filter(exhibitor_id=exhibitor_id)
        .select_related("buyer", "buyer__buyer_profile")
        .annotate(
            last_quote_product=Subquery(last_quote.values("product_text")[:1]),
            last_quote_quantity=Subquery(last_quote.values("quantity")[:1]),
            last_quote_unit=Subquery(last_quote.values("unit")[:1]),
            last_quote_unit_price=Subquery(last_quote.values("unit_price")[:1]),
            last_quote_currency=Subquery(last_quote.values("currency")[:1]),
            last_quote_status=Subquery(last_quote.values("status")[:1]),
        )
        .prefetch_related(
            Prefetch("purchase_intents", queryset=PurchaseIntent.objects.order_by("created_at"))
        )
        .order_by("-last_message_at", "-pk")
    )
