"""Closed buckets of the dashboard's charts (past hours, past days), kept in the cache so a
chart provider queries only its open buckets and its cost stops growing with the fair's age.

A bucket is *closed* once its end is ``GRACE`` in the past: the rows it counts are stamped
with the time of the change they record (a session's ``started_at`` / ``ended_at``, a room's
``created_at``), so after that nothing committed later can fall inside it (the grace covers
a transaction stamped just before the bucket's end and committed just after). Buckets are
keyed by their instants (``[start, end)`` as Unix seconds), not by edition or zone: a
bucket's figure depends on nothing else, and two editions or zones sharing an instant share
the figure.

What the stamps cannot cover, deletions (a company or buyer deleted with its rows) and
writes that backdate a stamp, call ``forget()`` on commit: it starts a new *generation*;
the cached buckets carry the generation they were computed under and are ignored once it
changed (so a provider computing concurrently with the deletion cannot store pre-deletion
figures under the new generation)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.core.cache import cache

GRACE = timedelta(minutes=5)
#: A chart reads its buckets at least once a minute; a week covers any pause.
TTL_SECONDS = 7 * 24 * 60 * 60
PREFIX = "dashboard:closed:"

Bucket = tuple[int, int]  # (start, end) in Unix seconds


def bucket_of(start: datetime, end: datetime) -> Bucket:
    return int(start.timestamp()), int(end.timestamp())


def is_closed(end: datetime, now: datetime) -> bool:
    return end + GRACE <= now


class ClosedBuckets:
    """The closed buckets of one chart (``name``), with their generation."""

    def __init__(self, name: str) -> None:
        self.data_key = f"{PREFIX}{name}"
        self.generation_key = f"{PREFIX}{name}:generation"

    def read(self) -> tuple[dict[Bucket, int], str]:
        """``({bucket: figure}, generation)``: the buckets cached under the current
        generation (none when it changed). One cache round trip (two when the generation
        key is new or was evicted)."""
        found = cache.get_many([self.data_key, self.generation_key])
        generation = found.get(self.generation_key)
        if generation is None:
            cache.add(self.generation_key, uuid.uuid4().hex, None)
            generation = cache.get(self.generation_key)
        data = found.get(self.data_key)
        if data is None or data["generation"] != generation:
            return {}, generation
        return data["buckets"], generation

    def write(self, buckets: dict[Bucket, int], generation: str) -> None:
        """Store ``buckets`` (closed ones only: the caller's job) as computed under
        ``generation`` (the one ``read`` returned before the caller queried)."""
        cache.set(self.data_key, {"generation": generation, "buckets": buckets}, TTL_SECONDS)

    def forget(self) -> None:
        """Every cached bucket is stale from now on (call it on commit)."""
        cache.set(self.generation_key, uuid.uuid4().hex, None)
