"""The live-video figures of the organisers' dashboard (registered in
``LivestreamConfig.ready``; ``fair.dashboard`` caches them and runs each at most once per
interval across processes).

* ``live`` (every 5 s): streams live now, viewers now (the Redis counts of every live room,
  one pipelined round trip) and the ten rooms with the most viewers. Two queries.
* ``streams_per_hour`` (every 60 s): how many sessions were live during each hour of the
  fair edition (the last 48 hours without one), hour starts in the fair's zone. One query
  that stays fast at 250,000 sessions: it reads only the sessions starting or ending inside
  the window (index ranges on ``started_at`` / ``ended_at``) plus two index-only counts,
  and turns them into per-hour figures with a running sum (a session counts for an hour
  when it started before the hour's end and had not ended by its start)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q
from django.urls import reverse

from fair.dashboard import FigureContext, hours_between
from livestream.models import LiveSession
from livestream.viewers import viewers_now

TOP_SESSIONS = 10
#: Without a fair edition, the chart covers this much of the recent past.
DEFAULT_WINDOW = timedelta(hours=48)
HOUR = timedelta(hours=1)


def live_figures(ctx: FigureContext) -> dict[str, Any]:
    live_ids = list(LiveSession.objects.live().order_by().values_list("pk", flat=True))
    counts = viewers_now(live_ids)
    top = sorted(live_ids, key=lambda sid: (-counts.get(sid, 0), sid))[:TOP_SESSIONS]
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
                "viewers": counts.get(sid, 0),
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
  WHERE s.ended_at > hours.a[1] AND s.ended_at <= hours.a[array_length(hours.a, 1)]
  GROUP BY 1
),
per_hour AS (SELECT i, sum(d) AS d FROM deltas GROUP BY i)
SELECT g.i,
       (SELECT count(*) FROM livestream_livesession, hours WHERE started_at < hours.a[1])
       - (SELECT count(*) FROM livestream_livesession, hours WHERE ended_at <= hours.a[1])
       + sum(coalesce(per_hour.d, 0)) OVER (ORDER BY g.i)
FROM hours, generate_series(1, array_length(hours.a, 1)) AS g(i)
LEFT JOIN per_hour ON per_hour.i = g.i
ORDER BY g.i
"""


def streams_per_hour(ctx: FigureContext) -> dict[str, Any]:
    hours = chart_hours(ctx)
    labels = [hour.isoformat() for hour in hours]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PER_HOUR_SQL, {"hours": hours, "window_end": hours[-1] + HOUR})
            values = [int(row[1]) for row in cursor.fetchall()]
    else:
        values = _per_hour_in_python(hours)
    return {"labels": labels, "values": values}


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
