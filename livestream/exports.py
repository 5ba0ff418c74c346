"""The organisers' sessions CSV: one row per session with its viewer and chat figures.

Built to stream: rows come from a server-side cursor (``QuerySet.iterator``) and leave in
chunks, so 250,000 sessions never sit in memory at once. The chat figures are columns of the
same statement (one grouped join), so the query count does not grow with the rows. Times are
UTC, ISO 8601. Cells are made spreadsheet-safe (``csv_cell``: no formula injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

from asgiref.sync import sync_to_async
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from exhibitors.exports import csv_cell
from livestream.models import LiveSession

ROWS_PER_CHUNK = 500
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
    """The CSV text in chunks of ``ROWS_PER_CHUNK`` rows: a byte-order mark (spreadsheet
    programs then read UTF-8), the header, the rows. The statement runs when the first row
    is asked for."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([csv_cell(cell) for cell in sessions_csv_header()])
    rows = sessions_csv_rows(queryset).iterator(chunk_size=CURSOR_CHUNK)
    for n, row in enumerate(rows, 1):
        writer.writerow([csv_cell(cell) for cell in sessions_csv_row(row)])
        if n % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def sessions_csv_chunks_async(queryset: QuerySet[LiveSession]) -> AsyncIterator[str]:
    """The same chunks for an ASGI server (Daphne), which would otherwise gather a
    synchronous stream into one list first. Each chunk is read on the thread-sensitive
    executor, so the cursor stays on the request's database connection."""
    chunks = sessions_csv_chunks(queryset)
    read = sync_to_async(next, thread_sensitive=True)
    try:
        while True:
            chunk = await read(chunks, None)
            if chunk is None:
                return
            yield chunk
    finally:
        await sync_to_async(chunks.close, thread_sensitive=True)()
