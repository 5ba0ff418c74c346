"""Buyer figures for the organisers' dashboard (registered in ``BuyersConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from buyers.models import BuyerProfile
from fair.dashboard import FigureContext
from fair.online import online_count

TOP_COUNTRIES = 15


def buyers_online(ctx: FigureContext) -> dict[str, Any]:
    """Signed-in buyers with a page open now (Redis; no database work)."""
    return {"online": online_count("buyers", ctx.now.timestamp())}


def buyers_by_country(ctx: FigureContext) -> dict[str, Any]:
    """Registered buyers per country, the largest first (one grouped query)."""
    rows = list(
        BuyerProfile.objects.values("country").annotate(n=Count("pk")).order_by("-n", "country")
    )
    top = rows[:TOP_COUNTRIES]
    other = sum(row["n"] for row in rows[TOP_COUNTRIES:])
    by_country = [{"country": str(row["country"]), "count": row["n"]} for row in top]
    return {
        "total": sum(row["n"] for row in rows),
        "countries": len(rows),
        "by_country": by_country,
        "other": other,
    }
