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

from datetime import UTC

from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fair.audit import audit_record
from fair.csv_export import csv_chunks, csv_response
from fair.organiser.access import organiser_required
from negotiations.figures import intent_aggregates
from negotiations.models import Negotiation, Quote
from negotiations.selectors import negotiation_figures

INTENTS_PER_PAGE = 50
STREAM_CHUNK_ROWS = 500


def intents_header() -> list[str]:
    return [
        _("Exhibitor id"),
        _("Exhibitor"),
        _("Buyer country"),
        _("Currency"),
        _("Purchase intents"),
        _("Total value"),
        _("First (UTC)"),
        _("Last (UTC)"),
    ]


def _utc(value) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _intent_cells(row: dict) -> list:
    return [
        row["exhibitor_id"],
        row["exhibitor_name"],
        row["buyer_country"] or "",
        row["currency"],
        row["intents"],
        row["total_value"],
        _utc(row["first_at"]),
        _utc(row["last_at"]),
    ]


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
    rows = rows.iterator(chunk_size=STREAM_CHUNK_ROWS)
    return csv_response(request, csv_chunks(intents_header(), rows, _intent_cells), filename)


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
