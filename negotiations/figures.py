"""The negotiation figures of the organisers' live dashboard (``fair.dashboard``), registered
from ``NegotiationsConfig.ready``.

Counts and sums only: no party, message, file or product appears. Each provider runs a fixed
number of aggregate queries whatever the size of the fair (``negotiations``: three;
``negotiations_per_day``: one), on indexed columns (``created_at`` of rooms, the currency of
intents), and ``fair.dashboard`` runs it at most once per interval across all processes.

``intent_aggregates`` feeds the organisers' negotiations page and its CSV export: purchase
intents per exhibitor, buyer country and currency."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from fair.dashboard import FigureContext
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


def negotiations_per_day(ctx: FigureContext) -> dict:
    """Rooms opened per day in the fair's zone: ``{"labels": ["2026-06-15", ...],
    "values": [n, ...]}``. One query (a range scan of the ``created_at`` index)."""
    days = chart_days(ctx)
    start = datetime.combine(days[0], time.min, tzinfo=ctx.tz)
    end = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=ctx.tz)
    counts = {
        row["day"]: row["n"]
        for row in Negotiation.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=ctx.tz))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    }
    return {
        "labels": [day.isoformat() for day in days],
        "values": [counts.get(day, 0) for day in days],
    }


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
