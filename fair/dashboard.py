"""The organisers' live dashboard: figures from cheap aggregates, cached and shared.

Apps register *figure providers* from ``AppConfig.ready`` (the fair core cannot import
them): a function of a ``FigureContext`` returning a JSON-ready dict, and how often it may
run. ``dashboard_snapshot`` answers from the cache; a part older than its interval is
recomputed by one caller at a time (a cache lock), the others keep serving the previous
figures. So a page load or a websocket tick costs one cache read, and each provider's
queries run at most once per interval across every process, whatever the number of
organisers watching."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from fair.models import FairEdition
from fair.selectors import fair_edition_current

logger = logging.getLogger(__name__)

CACHE_PREFIX = "dashboard:part:"
LOCK_PREFIX = "dashboard:lock:"


@dataclass(frozen=True)
class FigureContext:
    now: datetime  # aware, UTC
    tz: ZoneInfo  # the fair's home zone: "today" and chart labels are in it
    edition: FairEdition | None
    today_start: datetime  # midnight today in the fair's zone (aware)


@dataclass(frozen=True)
class FigureProvider:
    name: str
    compute: Callable[[FigureContext], dict[str, Any]]
    every: int  # seconds


_PROVIDERS: dict[str, FigureProvider] = {}


def register_figures(
    name: str, compute: Callable[[FigureContext], dict[str, Any]], *, every: int = 5
) -> None:
    _PROVIDERS[name] = FigureProvider(name=name, compute=compute, every=every)


def figure_providers() -> dict[str, FigureProvider]:
    return dict(_PROVIDERS)


def figure_context(now: datetime | None = None) -> FigureContext:
    now = now or timezone.now()
    edition = fair_edition_current()
    tz = ZoneInfo(edition.time_zone if edition else settings.FAIR_DEFAULT_TIME_ZONE)
    local = now.astimezone(tz)
    today_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return FigureContext(now=now, tz=tz, edition=edition, today_start=today_start)


def _compute(provider: FigureProvider, context: FigureContext) -> dict[str, Any]:
    started = time.perf_counter()
    data = provider.compute(context)
    elapsed = (time.perf_counter() - started) * 1000
    if elapsed > 500:
        logger.warning("Dashboard figures %s took %.0f ms", provider.name, elapsed)
    return data


def dashboard_snapshot(*, force: bool = False) -> dict[str, Any]:
    """Every provider's latest figures: ``{"generated_at": iso, "<name>": {...}, ...}``."""
    now = time.time()
    keys = {name: CACHE_PREFIX + name for name in _PROVIDERS}
    cached = cache.get_many(list(keys.values()))
    context: FigureContext | None = None
    snapshot: dict[str, Any] = {}
    stamps: list[float] = []
    for name, provider in _PROVIDERS.items():
        entry = cached.get(keys[name])
        fresh = entry is not None and now - entry["at"] < provider.every
        # A stale part: one caller recomputes, the others keep the previous figures
        # meanwhile. With nothing cached at all, compute anyway: the page needs figures.
        if (
            force
            or entry is None
            or (not fresh and cache.add(LOCK_PREFIX + name, 1, provider.every))
        ):
            context = context or figure_context()
            entry = {"at": now, "data": _compute(provider, context)}
            cache.set(keys[name], entry, max(provider.every * 20, 300))
        snapshot[name] = entry["data"]
        stamps.append(entry["at"])
    newest = max(stamps) if stamps else now
    snapshot["generated_at"] = datetime.fromtimestamp(newest, tz=UTC).isoformat()
    return snapshot


def hours_between(start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
    """Every whole hour (in ``tz``) from ``start`` to ``end``, for chart axes."""
    first = start.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    hours = []
    at = first
    while at <= end:
        hours.append(at)
        at = (at.astimezone(UTC) + timedelta(hours=1)).astimezone(tz)
    return hours
