"""The organisers' sessions CSV: one row per session with its viewer and chat figures.

Built to stream: rows come from a server-side cursor (``QuerySet.iterator``) and leave in
chunks, so 250,000 sessions never sit in memory at once. The chat figures are columns of the
same statement (one grouped join), so the query count does not grow with the rows. Times are
UTC, ISO 8601. Cells are made spreadsheet-safe (``csv_cell``: no formula injection)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from fair.csv_export import csv_chunks
from livestream.models import LiveSession

CURSOR_CHUNK = 2000


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


def sessions_csv_header() -> list[str]:
    return [
        _("Session"),
        _("Exhibitor"),
        _("Kind"),
        _("Language"),
        _("Scheduled start (UTC)"),
        _("Scheduled end (UTC)"),
        _("Actual start (UTC)"),
        _("Actual end (UTC)"),
        _("Status"),
        _("Peak viewers"),
        _("Chat messages"),
        _("Questions"),
    ]


_FIELDS = (
    "id",
    "title",
    "exhibitor__display_name",
    "kind",
    "language",
    "scheduled_start",
    "scheduled_end",
    "started_at",
    "ended_at",
    "status",
    "peak_viewers",
)


def sessions_csv_rows(queryset: QuerySet[LiveSession]) -> QuerySet:
    """The export's statement: ``values()`` rows of ``queryset`` (its order kept) with the
    chat figures."""
    return queryset.values(*_FIELDS).annotate(
        chat_message_count=Count("chat_messages"),
        question_count=Count("chat_messages", filter=Q(chat_messages__is_question=True)),
    )


def sessions_csv_row(row: dict) -> list:
    return [
        row["title"],
        row["exhibitor__display_name"],
        row["kind"],
        row["language"],
        _iso(row["scheduled_start"]),
        _iso(row["scheduled_end"]),
        _iso(row["started_at"]),
        _iso(row["ended_at"]),
        row["status"],
        row["peak_viewers"],
        row["chat_message_count"],
        row["question_count"],
    ]


def sessions_csv_chunks(queryset: QuerySet[LiveSession]) -> Iterator[str]:
    """The CSV text in chunks (``fair.csv_export``). The statement runs when the first
    chunk is asked for."""
    rows = sessions_csv_rows(queryset).iterator(chunk_size=CURSOR_CHUNK)
    return csv_chunks(sessions_csv_header(), rows, sessions_csv_row)
