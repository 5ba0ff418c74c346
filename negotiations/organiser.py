"""The organisers' negotiations page and its export: figures by status (rooms, quotes,
purchase intents by currency) and purchase intents aggregated per exhibitor, buyer country
and currency. Counts and sums only: never a buyer's name, a message or a file
(``negotiations.figures.intent_aggregates``).

Organisers only (``organiser_required``: signed-out visitors log in, everyone else gets the
same 404 as for a page that does not exist). Every download of the export is written to the
audit log (``export.download``) before the first byte goes out.

The CSV streams: under Daphne (ASGI) as an asynchronous iterator that fetches rows in chunks
on the request's database thread, so Django neither buffers the whole file nor warns; under
WSGI (and the test client) as a plain iterator over a server-side cursor."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC
from itertools import islice

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from fair.audit import audit_record
from fair.organiser.access import organiser_required
from negotiations.figures import intent_aggregates
from negotiations.models import Negotiation, Quote
from negotiations.selectors import negotiation_figures
from negotiations.views import content_disposition, csv_cell

INTENTS_PER_PAGE = 50
STREAM_CHUNK_ROWS = 500

INTENTS_HEADER = [
    "exhibitor_id",
    "exhibitor",
    "buyer_country",
    "currency",
    "intents",
    "total_value",
    "first_at_utc",
    "last_at_utc",
]


def _utc(value) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else ""


class _Line:
    """A file-like object that hands back what ``csv.writer`` writes (one line at a time)."""

    def write(self, value: str) -> str:
        return value


def intents_csv_lines(rows: Iterable[dict]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield "\ufeff"  # a byte-order mark: spreadsheet programs then read UTF-8 correctly
    yield writer.writerow(INTENTS_HEADER)
    for row in rows:
        yield writer.writerow(
            [
                csv_cell(cell)
                for cell in (
                    row["exhibitor_id"],
                    row["exhibitor_name"],
                    row["buyer_country"] or "",
                    row["currency"],
                    row["intents"],
                    row["total_value"],
                    _utc(row["first_at"]),
                    _utc(row["last_at"]),
                )
            ]
        )


async def _async_chunks(lines: Iterator[str], size: int = STREAM_CHUNK_ROWS) -> AsyncIterator[str]:
    # thread_sensitive: every chunk runs on the request's own thread, so the server-side
    # cursor of ``.iterator()`` stays on the connection that opened it.
    take = sync_to_async(lambda: "".join(islice(lines, size)), thread_sensitive=True)
    while chunk := await take():
        yield chunk


def streaming_csv(request: HttpRequest, lines: Iterator[str], filename: str) -> HttpResponse:
    content = _async_chunks(lines) if isinstance(request, ASGIRequest) else lines
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition(filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@organiser_required
def intents_csv(request: HttpRequest) -> HttpResponse:
    """Purchase intents per exhibitor, buyer country and currency, as CSV (organisers)."""
    rows = intent_aggregates(user=request.user, order="exhibitor")
    filename = f"purchase-intents-{timezone.now():%Y%m%d}.csv"
    with transaction.atomic():
        audit_record(
            actor=request.user,
            action="export.download",
            target_label="negotiations: purchase intents (CSV)",
            data={"export": "negotiation_intents", "filename": filename},
        )
    return streaming_csv(
        request, intents_csv_lines(rows.iterator(chunk_size=STREAM_CHUNK_ROWS)), filename
    )


@require_GET
@organiser_required
def overview(request: HttpRequest) -> HttpResponse:
    """Rooms, quotes and purchase intents in figures, and the intents table (busiest first),
    with the link to the export."""
    figures = negotiation_figures(user=request.user)
    rooms = [(label, figures["rooms"][value]) for value, label in Negotiation.Status.choices]
    quotes = [(label, figures["quotes"][value]) for value, label in Quote.Status.choices]
    page = Paginator(
        intent_aggregates(user=request.user, order="busiest"), INTENTS_PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "negotiations/organiser/overview.html",
        {
            "figures": figures,
            "rooms_by_status": rooms,
            "quotes_by_status": quotes,
            "page": page,
        },
    )
