"""CSV downloads of any size: spreadsheet-safe cells, streamed in chunks, under WSGI or
ASGI, with private headers. Used by every export of the platform.

Rows come from the caller's iterator (a server-side cursor: ``QuerySet.iterator``), so a
file of 250,000 rows never sits in memory. Under an ASGI server (Daphne) Django would gather
a synchronous stream into one list before sending it, so there the chunks are read one by
one on the request's thread (``thread_sensitive``: the cursor stays on the connection that
opened it)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.http import content_disposition_header

# A cell starting with one of these is a formula to a spreadsheet program (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


def csv_cell(value: Any) -> str:
    """A cell that a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_chunks(
    header: Iterable[Any],
    rows: Iterable[Any],
    cells: Callable[[Any], Iterable[Any]] = lambda row: row,
    *,
    rows_per_chunk: int | None = None,
) -> Iterator[str]:
    """The CSV text in chunks: a byte-order mark (spreadsheet programs then read UTF-8),
    the header, then ``cells(row)`` for each row, ``rows_per_chunk`` (default
    ``ROWS_PER_CHUNK``) rows a chunk."""
    rows_per_chunk = rows_per_chunk or ROWS_PER_CHUNK
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([csv_cell(cell) for cell in header])
    for n, row in enumerate(rows, 1):
        writer.writerow([csv_cell(cell) for cell in cells(row)])
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def chunks_async(chunks: Iterator[str]) -> AsyncIterator[str]:
    """The same chunks for an ASGI server, each read on the request's thread."""
    read = sync_to_async(next, thread_sensitive=True)
    try:
        while True:
            chunk = await read(chunks, None)
            if chunk is None:
                return
            yield chunk
    finally:
        # A client that went away: close the server-side cursor on its connection's thread.
        close = getattr(chunks, "close", None)
        if close is not None:
            await sync_to_async(close, thread_sensitive=True)()


def csv_response(
    request: HttpRequest, chunks: Iterator[str], filename: str
) -> StreamingHttpResponse:
    """A private, streamed CSV download named ``filename``."""
    content = chunks_async(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
