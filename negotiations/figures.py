"""The negotiation figures of the organisers' live dashboard (``fair.dashboard``), registered
from ``NegotiationsConfig.ready``.

Counts and sums only: no party, message, file or product appears. Each provider runs a fixed
number of aggregate queries whatever the size of the fair (``negotiations``: three;
``negotiations_per_day``: one, over the open days only), on indexed columns (``created_at``
of rooms, the currency of intents), and ``fair.dashboard`` runs it at most once per interval
across all processes.

``intent_aggregates`` feeds the organisers' negotiations page and its CSV export: purchase
intents per exhibitor, buyer country and currency."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.db.models.signals import post_delete

from fair.dashboard import FigureContext
from fair.dashboard_buckets import ClosedBuckets, bucket_of, is_closed
from fair.exceptions import Forbidden
from fair.models import User
from negotiations.models import Negotiation, PurchaseIntent, Quote

#: Without a running edition the chart covers this many days up to today.
RECENT_DAYS = 14
#: A long edition's chart keeps its last days only (a readable axis).
MAX_DAYS = 62


def negotiations_figures(ctx: FigureContext) -> dict:
    """``{"opened_today", "opened_total", "quotes_sent", "intents": {"count", "by_currency":
    [{"currency", "count", "total"}]}}``; "today" starts at midnight in the fair's zone.
    Three queries."""
    rooms = Negotiation.objects.aggregate(
        total=Count("pk"), today=Count("pk", filter=Q(created_at__gte=ctx.today_start))
    )
    quotes_sent = Quote.objects.count()
    by_currency = [
        {
            "currency": row["currency"],
            "count": row["n"],
            "total": str((row["total"] or Decimal("0")).quantize(Decimal("0.01"))),
        }
        for row in PurchaseIntent.objects.values("currency")
        .annotate(n=Count("pk"), total=Sum("total"))
        .order_by("-n", "currency")
    ]
    return {
        "opened_today": rooms["today"],
        "opened_total": rooms["total"],
        "quotes_sent": quotes_sent,
        "intents": {"count": sum(row["count"] for row in by_currency), "by_currency": by_currency},
    }


def chart_days(ctx: FigureContext) -> list[date]:
    """The chart's days in the fair's zone: the edition's days up to today while it runs
    (every day of it once it is over), else the last ``RECENT_DAYS`` days."""
    today = ctx.now.astimezone(ctx.tz).date()
    first = last = None
    if ctx.edition is not None:
        first = ctx.edition.starts_at.astimezone(ctx.tz).date()
        last = min(ctx.edition.ends_at.astimezone(ctx.tz).date(), today)
    if first is None or last is None or first > last:
        first, last = today - timedelta(days=RECENT_DAYS - 1), today
    first = max(first, last - timedelta(days=MAX_DAYS - 1))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


#: The closed days of the chart: ``{(start, end): rooms opened}``.
NEGOTIATION_DAYS = ClosedBuckets("negotiations_per_day")


def negotiations_per_day(ctx: FigureContext) -> dict:
    """Rooms opened per day in the fair's zone: ``{"labels": ["2026-06-15", ...],
    "values": [n, ...]}``. Past days are final (a room's ``created_at`` is the moment it
    opened; deleting rooms forgets them, see ``fair.dashboard_buckets``): they come from the
    cache, and one query (a range scan of the ``created_at`` index) counts the days from the
    first one not cached, normally today alone (and yesterday for five minutes after
    midnight)."""
    days = chart_days(ctx)
    starts = [datetime.combine(day, time.min, tzinfo=ctx.tz) for day in days]
    ends = starts[1:] + [datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=ctx.tz)]
    buckets = [bucket_of(start, end) for start, end in zip(starts, ends, strict=True)]
    cached, generation = NEGOTIATION_DAYS.read()
    values: list[int | None] = [cached.get(bucket) for bucket in buckets]
    first = next((i for i, value in enumerate(values) if value is None), None)
    if first is not None:
        counts = {
            row["day"]: row["n"]
            for row in Negotiation.objects.filter(
                created_at__gte=starts[first], created_at__lt=ends[-1]
            )
            .annotate(day=TruncDate("created_at", tzinfo=ctx.tz))
            .values("day")
            .annotate(n=Count("pk"))
            .order_by()
        }
        values[first:] = [counts.get(day, 0) for day in days[first:]]
    closed = {
        bucket: value
        for bucket, value, end in zip(buckets, values, ends, strict=True)
        if is_closed(end, ctx.now)
    }
    if closed != cached:  # a newly closed day (older ones outside the chart dropped)
        NEGOTIATION_DAYS.write(closed, generation)
    return {"labels": [day.isoformat() for day in days], "values": values}


def _negotiations_deleted(sender, **kwargs) -> None:
    transaction.on_commit(NEGOTIATION_DAYS.forget)


# Deleting rooms (a buyer or a company deleted with theirs) changes past days: forget them.
# (Here, beside the cache they keep right; connected once, when the app registers its
# figures. Rooms are never backdated: ``created_at`` is set on insert only.)
post_delete.connect(
    _negotiations_deleted, sender=Negotiation, dispatch_uid="negotiations_per_day_delete"
)


# --- Purchase intents per exhibitor and buyer country (the organisers' table and export) ---

#: Orders of ``intent_aggregates``: the export reads by company, the page shows the busiest.
INTENT_ORDERS = {
    "exhibitor": ("exhibitor_name", "exhibitor_id", "buyer_country", "currency"),
    "busiest": ("-intents", "exhibitor_name", "exhibitor_id", "buyer_country", "currency"),
}


def intent_aggregates(*, user: User, order: str = "exhibitor") -> QuerySet:
    """Purchase intents grouped by exhibitor, the buyer's country (from the buyer's profile;
    ``None`` without one) and currency: ``exhibitor_id``, ``exhibitor_name``,
    ``buyer_country``, ``currency``, ``intents``, ``total_value``, ``first_at``, ``last_at``.
    No buyer, message or product appears. Organisers only (``Forbidden`` otherwise). One
    query, however it is iterated."""
    if not user.is_authenticated or not user.is_organiser:
        raise Forbidden("Only organisers can see these figures.")
    return (
        PurchaseIntent.objects.values(
            "currency",
            exhibitor_id=F("negotiation__exhibitor_id"),
            exhibitor_name=F("negotiation__exhibitor__display_name"),
            buyer_country=F("negotiation__buyer__buyer_profile__country"),
        )
        .annotate(
            intents=Count("pk"),
            total_value=Sum("total"),
            first_at=Min("created_at"),
            last_at=Max("created_at"),
        )
        .order_by(*INTENT_ORDERS[order])
    )
