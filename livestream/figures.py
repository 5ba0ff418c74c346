"""The live-video figures of the organisers' dashboard (registered in
``LivestreamConfig.ready``; ``fair.dashboard`` caches them and runs each at most once per
interval across processes).

* ``live`` (every 5 s): streams live now, viewers now and the ten rooms with the most
  viewers: the counts the rooms were last sent, read from the summary their presence ticks
  publish (``livestream.viewers.viewers_published``: one Redis round trip, whatever the
  number of live rooms), for the sessions live in the database. Two queries.
* ``streams_per_hour`` (every 60 s): how many sessions were live during each hour of the
  fair edition (the last 48 hours without one), hour starts in the fair's zone. A session
  counts for an hour when it started before the hour's end and had not ended by its start.
  Past hours are final (``fair.dashboard_buckets``): a session's stamps are the times it
  went live and ended, so a session live now counts in every past hour it spans already,
  and ending it later (``ended_at`` = then, after those hours) changes none of them. So
  closed hours come from the cache and one query reads only the open ones (the current
  hour, and the previous one for five minutes): the starts and ends inside them (index
  ranges on ``started_at`` / ``ended_at``) added to the last closed hour's figure. Without
  that figure (the first run, after a deletion) the same query covers the whole chart,
  starting from two index-only counts of what began and ended before it."""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils import timezone

from fair.dashboard import FigureContext, hours_between
from fair.dashboard_buckets import GRACE, ClosedBuckets, bucket_of, is_closed
from livestream.models import LiveSession
from livestream.viewers import viewers_published

TOP_SESSIONS = 10
#: Without a fair edition, the chart covers this much of the recent past.
DEFAULT_WINDOW = timedelta(hours=48)
HOUR = timedelta(hours=1)


def live_figures(ctx: FigureContext) -> dict[str, Any]:
    live_ids = list(LiveSession.objects.live().order_by().values_list("pk", flat=True))
    counts = viewers_published(live_ids)
    top = heapq.nsmallest(TOP_SESSIONS, live_ids, key=lambda sid: (-counts[sid], sid))
    rows = {
        row["pk"]: row
        for row in LiveSession.objects.filter(pk__in=top).values(
            "pk", "title", "exhibitor__display_name"
        )
    }
    return {
        "streams_live": len(live_ids),
        "viewers_now": sum(counts.values()),
        "top_sessions": [
            {
                "id": sid,
                "title": rows[sid]["title"],
                "exhibitor": rows[sid]["exhibitor__display_name"],
                "viewers": counts[sid],
                "url": reverse("livestream:room", args=[sid]),
            }
            for sid in top
            if sid in rows
        ],
    }


def chart_hours(ctx: FigureContext) -> list[datetime]:
    """The chart's hour starts (aware, in the fair's zone)."""
    if ctx.edition is not None:
        start, end = ctx.edition.starts_at, min(ctx.now, ctx.edition.ends_at)
        if end < start:  # the edition has not opened yet: one empty hour
            end = start
    else:
        start, end = ctx.now - DEFAULT_WINDOW, ctx.now
    return hours_between(start, end, ctx.tz)


_PER_HOUR_SQL = """
WITH hours AS (SELECT %(hours)s::timestamptz[] AS a),
deltas AS (
  SELECT width_bucket(s.started_at, hours.a) AS i, count(*) AS d
  FROM livestream_livesession s, hours
  WHERE s.started_at >= hours.a[1] AND s.started_at < %(window_end)s
  GROUP BY 1
  UNION ALL
  -- A session ended at t no longer counts from the first hour starting at or after t.
  SELECT width_bucket(s.ended_at - interval '1 microsecond', hours.a) + 1, -count(*)
  FROM livestream_livesession s, hours
  WHERE s.ended_at > %(ends_after)s AND s.ended_at <= hours.a[array_length(hours.a, 1)]
  GROUP BY 1
),
per_hour AS (SELECT i, sum(d) AS d FROM deltas GROUP BY i)
SELECT g.i, {base} + sum(coalesce(per_hour.d, 0)) OVER (ORDER BY g.i)
FROM hours, generate_series(1, array_length(hours.a, 1)) AS g(i)
LEFT JOIN per_hour ON per_hour.i = g.i
ORDER BY g.i
"""
#: Live at the first hour's start: begun before it and not ended by then.
_BASE_COUNTED = """(
  (SELECT count(*) FROM livestream_livesession, hours WHERE started_at < hours.a[1])
  - (SELECT count(*) FROM livestream_livesession, hours WHERE ended_at <= hours.a[1]))"""

#: The closed hours of the chart: ``{(start, end): sessions live}``.
STREAM_HOURS = ClosedBuckets("streams_per_hour")


def streams_per_hour(ctx: FigureContext) -> dict[str, Any]:
    hours = chart_hours(ctx)
    labels = [hour.isoformat() for hour in hours]
    if connection.vendor != "postgresql":
        return {"labels": labels, "values": _per_hour_in_python(hours)}
    buckets = [bucket_of(hour, hour + HOUR) for hour in hours]
    cached, generation = STREAM_HOURS.read()
    values: list[int | None] = [cached.get(bucket) for bucket in buckets]
    first = next((i for i, value in enumerate(values) if value is None), None)
    if first is not None:
        # From the first hour not cached on (the open ones), counted from the hour before.
        values[first:] = _hours_counted(hours[first:], before=values[first - 1] if first else None)
    closed = {
        bucket: value
        for bucket, value, hour in zip(buckets, values, hours, strict=True)
        if is_closed(hour + HOUR, ctx.now)
    }
    if closed != cached:  # a newly closed hour (older ones outside the chart dropped)
        STREAM_HOURS.write(closed, generation)
    return {"labels": labels, "values": values}


def _hours_counted(hours: list[datetime], *, before: int | None) -> list[int]:
    """Sessions live in each of ``hours`` (consecutive): one query. ``before``: the figure
    of the hour before the first one, when known (then only the starts and ends inside
    ``hours`` and that hour are read)."""
    params = {"hours": hours, "window_end": hours[-1] + HOUR}
    if before is None:
        sql, params["ends_after"] = _PER_HOUR_SQL.format(base=_BASE_COUNTED), hours[0]
    else:
        # The hour before counts what began before hours[0] and had not ended by its own
        # start: take off what ended during it, as the first hour's ends.
        sql, params["ends_after"] = _PER_HOUR_SQL.format(base="%(before)s"), hours[0] - HOUR
        params["before"] = before
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [int(row[1]) for row in cursor.fetchall()]


def _sessions_deleted(sender, **kwargs) -> None:
    transaction.on_commit(STREAM_HOURS.forget)


def _session_saved(sender, instance: LiveSession, update_fields=None, **kwargs) -> None:
    """A save can only move past hours when it writes a stamp that is not "now": a full
    save (the admin's form, a details edit: the previous stamps are unknown) of a session
    that has been live, or a stamp written earlier than the grace. Going live and ending
    stamp the present and leave the cache alone."""
    stamps = ("started_at", "ended_at")
    if update_fields is None:
        moved = any(getattr(instance, name) is not None for name in stamps)
    else:
        limit = timezone.now() - GRACE
        moved = any(
            (value := getattr(instance, name)) is None or value < limit
            for name in stamps
            if name in update_fields
        )
    if moved:
        transaction.on_commit(STREAM_HOURS.forget)


# Deleting sessions (a company deleted, say) changes past hours: forget them. (Here, beside
# the cache they keep right; connected once, when the app registers its figures.)
post_delete.connect(_sessions_deleted, sender=LiveSession, dispatch_uid="streams_per_hour_delete")
post_save.connect(_session_saved, sender=LiveSession, dispatch_uid="streams_per_hour_save")


def _per_hour_in_python(hours: list[datetime]) -> list[int]:
    """The embedded demo (SQLite, a handful of sessions): the same figures, counted here."""
    first, window_end = hours[0], hours[-1] + HOUR
    spans = list(
        LiveSession.objects.filter(started_at__lt=window_end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=first))
        .values_list("started_at", "ended_at")
    )
    return [
        sum(
            1
            for started, ended in spans
            if started < hour + HOUR and (ended is None or ended > hour)
        )
        for hour in hours
    ]
