"""File doors of the negotiations app: attachment downloads and the exports (a room's
transcript with its quotes, as CSV or PDF; an exhibitor's leads as CSV). The room and inbox pages
(``negotiations.pages``) load through the same selectors.

Every view reaches its objects through ``negotiations.selectors`` (``attachment_for_party``,
``negotiation_for_party``, ``leads_of_exhibitor``): a non-party gets the same 404 as for an
object that does not exist, with no name or file name in the answer. Signed-out visitors are
sent to log in and come back.

Files are served as attachments with the stored content type, the sanitised name,
``X-Content-Type-Options: nosniff``, ``Content-Security-Policy: sandbox; default-src 'none'``
and ``Cache-Control: private, no-store``. With S3 storage the answer is a redirect to a
presigned URL valid for at most five minutes that carries the same disposition, type and
caching (``ResponseContentDisposition`` / ``ResponseContentType`` / ``ResponseCacheControl``);
it is issued only after the party check (SECURITY A10, F10).

**Image previews** (``attachment_preview``: the same view, the thumbnails of the room page and
their "open full size"): ``Content-Disposition: inline`` and ``Cache-Control: private,
max-age=300`` only for a *verified image*: a stored PNG, JPEG or WebP whose content type, name
extension and first bytes (the format's signature) all agree. Uploads are decoded and
re-encoded (``negotiations.uploads``), so this is a second look at what is actually stored:
anything else (a PDF, a spreadsheet, a file whose bytes are not the image it claims) is
answered exactly as by the download door, as an attachment. On S3 the signature costs one
ranged read of 16 bytes; the redirect itself is never cached (its URL expires), the object's
answer is (``ResponseCacheControl``)."""

from __future__ import annotations

import csv
import io
from datetime import UTC
from decimal import Decimal
from urllib.parse import quote as url_quote

from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.utils import timezone
from django.views.decorators.http import require_GET

from negotiations.models import Message
from negotiations.pdf import transcript_pdf as render_transcript_pdf
from negotiations.selectors import (
    attachment_for_party,
    leads_of_exhibitor,
    negotiation_for_party,
    transcript_messages,
)

PRESIGNED_SECONDS = 300
PREVIEW_CACHE_CONTROL = "private, max-age=300"
FILE_CSP = "sandbox; default-src 'none'"
#: The image types shown inline: content type -> (name extensions, a test of the first bytes).
INLINE_IMAGES = {
    "image/png": (("png",), lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    "image/jpeg": (("jpg", "jpeg"), lambda head: head.startswith(b"\xff\xd8\xff")),
    "image/webp": (("webp",), lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
}
SIGNATURE_BYTES = 16
# Characters that make a spreadsheet treat a cell as a formula (SECURITY H4).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _private_headers(response: HttpResponse, *, cache: str = "private, no-store") -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = cache
    return response


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """``attachment`` (or ``inline``) with an ASCII fallback name and the UTF-8 one (RFC 6266
    / 5987)."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "download"
    ascii_name = ascii_name.replace('"', "").replace("\\", "")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{url_quote(filename)}"


def verified_image(attachment, head: bytes) -> bool:
    """Whether the stored file may be shown inline: a PNG, JPEG or WebP by its stored content
    type, its name's extension *and* its first bytes (see the module docstring)."""
    rule = INLINE_IMAGES.get(attachment.content_type)
    if rule is None:
        return False
    extensions, signature = rule
    extension = (
        attachment.safe_name.rsplit(".", 1)[-1].lower() if "." in attachment.safe_name else ""
    )
    return extension in extensions and signature(head[:SIGNATURE_BYTES])


def _s3_head(storage, name: str) -> bytes:
    """The first bytes of an S3 object (one ranged read, not the whole file)."""
    with storage.open(name, "rb") as stored:
        body = stored.obj.get(Range=f"bytes=0-{SIGNATURE_BYTES - 1}")["Body"]
        try:
            return body.read(SIGNATURE_BYTES)
        finally:
            body.close()


def _serve(attachment, *, preview: bool) -> HttpResponse:
    storage = attachment.file.storage
    if hasattr(storage, "bucket_name"):  # S3: a short-lived presigned URL, after the check
        inline = preview and attachment.content_type in INLINE_IMAGES
        inline = inline and verified_image(attachment, _s3_head(storage, attachment.file.name))
        url = storage.url(
            attachment.file.name,
            parameters={
                "ResponseContentDisposition": content_disposition(
                    attachment.safe_name, inline=inline
                ),
                "ResponseContentType": attachment.content_type,
                "ResponseCacheControl": PREVIEW_CACHE_CONTROL if inline else "private, no-store",
            },
            expire=PRESIGNED_SECONDS,
        )
        return _private_headers(HttpResponseRedirect(url))
    # Local storage (the embedded default, development): at most 20 MB, read whole; real
    # deployments serve from S3 above, never through a Django process.
    with attachment.file.open("rb") as stored:
        data = stored.read()
    inline = preview and verified_image(attachment, data[:SIGNATURE_BYTES])
    response = HttpResponse(data, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition(attachment.safe_name, inline=inline)
    return _private_headers(
        response, cache=PREVIEW_CACHE_CONTROL if inline else "private, no-store"
    )


@require_GET
@login_required
def attachment_download(
    request: HttpRequest, attachment_id: int, preview: bool = False
) -> HttpResponse:
    """The file, to any party of its room (404 for everyone else, as for a missing file).
    ``preview`` (the ``attachment_preview`` URL): inline when it is a verified image."""
    attachment, _party = attachment_for_party(user=request.user, attachment_id=attachment_id)
    return _serve(attachment, preview=preview)


def csv_cell(value) -> str:
    """A cell that a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _csv_response(rows, filename: str) -> HttpResponse:
    # Built in memory, not streamed: under ASGI Django would gather a synchronous stream
    # anyway, and the queries then run while the response is still inside the view.
    buffer = io.StringIO()
    buffer.write("\ufeff")  # a byte-order mark: spreadsheet programs then read UTF-8 correctly
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition(filename)
    return _private_headers(response)


TRANSCRIPT_HEADER = [
    "seq", "sent_at_utc", "side", "author", "kind", "text", "attachment",
    "quote_version", "quote_status", "product", "quantity", "unit", "unit_price", "currency",
    "incoterm", "port", "lead_time_days", "payment_terms", "sample_terms", "valid_until_utc",
    "total", "purchase_intent",
]  # fmt: skip


def _utc(value) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _transcript_rows(negotiation):
    yield TRANSCRIPT_HEADER
    for message in transcript_messages(negotiation=negotiation):
        author = message.author.full_name if message.author_id and message.author else ""
        row = [
            message.seq,
            _utc(message.created_at),
            message.side or "system",
            author,
            message.kind,
            message.text,
            "",
        ]
        quote_cells = [""] * 15
        if message.kind == Message.Kind.ATTACHMENT and hasattr(message, "attachment"):
            row[6] = message.attachment.safe_name
        if message.kind == Message.Kind.QUOTE and hasattr(message, "quote"):
            q = message.quote
            intent = getattr(q, "purchase_intent", None) if q.status == "accepted" else None
            quote_cells = [
                q.version, q.status, q.product_text, q.quantity, q.unit, q.unit_price,
                q.currency, q.incoterm, q.port, q.lead_time_days, q.payment_terms,
                q.sample_terms, _utc(q.valid_until), q.total,
                f"{intent.total} {intent.currency}" if intent else "",
            ]  # fmt: skip
        yield row + quote_cells


@require_GET
@login_required
def transcript_csv(request: HttpRequest, negotiation_id: int) -> HttpResponse:
    """The room's transcript with its quotes (either party)."""
    negotiation, _party = negotiation_for_party(user=request.user, negotiation_id=negotiation_id)
    return _csv_response(
        _transcript_rows(negotiation), f"negotiation-{negotiation.pk}-transcript.csv"
    )


@require_GET
@login_required
def transcript_pdf(request: HttpRequest, negotiation_id: int) -> HttpResponse:
    """The same transcript as a PDF (either party), in the downloader's language and time
    zone (``negotiations.pdf``)."""
    negotiation, _party = negotiation_for_party(user=request.user, negotiation_id=negotiation_id)
    response = HttpResponse(
        render_transcript_pdf(negotiation=negotiation), content_type="application/pdf"
    )
    response["Content-Disposition"] = content_disposition(
        f"negotiation-{negotiation.pk}-transcript.pdf"
    )
    return _private_headers(response)


LEADS_HEADER = [
    "buyer", "company", "country", "buyer_type", "email", "room_status", "opened_at_utc",
    "last_activity_utc", "last_quote_product", "last_quote_quantity", "last_quote_unit",
    "last_quote_unit_price", "last_quote_currency", "last_quote_status", "intent_value",
]  # fmt: skip


def _decimal(value, places: str) -> str:
    # Subquery values come back as the database gives them (SQLite drops trailing zeros).
    if value is None:
        return ""
    return str(Decimal(str(value)).quantize(Decimal(places)))


def _leads_rows(rooms):
    yield LEADS_HEADER
    for room in rooms:
        profile = getattr(room.buyer, "buyer_profile", None)
        consented = bool(profile and profile.share_contact_in_negotiations)
        intents = "; ".join(f"{i.total} {i.currency}" for i in room.purchase_intents.all())
        yield [
            room.buyer.full_name,
            profile.company if profile else "",
            str(profile.country) if profile else "",
            profile.buyer_type if profile else "",
            room.buyer.email if consented else "",
            room.status,
            _utc(room.created_at),
            _utc(room.last_message_at),
            room.last_quote_product or "",
            _decimal(room.last_quote_quantity, "0.001"),
            room.last_quote_unit or "",
            _decimal(room.last_quote_unit_price, "0.0001"),
            room.last_quote_currency or "",
            room.last_quote_status or "",
            intents,
        ]


@require_GET
@login_required
def leads_csv(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    """The exhibitor's leads (any staff role): buyer, company, country, room status, last
    quote, intent value; the buyer's email only where the buyer consented to share it."""
    rooms = leads_of_exhibitor(user=request.user, exhibitor_id=exhibitor_id)
    stamp = timezone.now().strftime("%Y%m%d")
    return _csv_response(_leads_rows(rooms.iterator(chunk_size=500)), f"leads-{stamp}.csv")
