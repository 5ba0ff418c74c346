"""The organisers' exhibitor pages (/organiser/exhibitors/): the approval queue, one
application with its documents and the decisions, and the exhibitors CSV.

Only organisers get in (``organiser_required``: everyone else gets the same 404 as a missing
page); the services check the role again and write the audit log in the decision's own
transaction."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from exhibitors import services
from exhibitors.exports import exhibitors_csv_chunks
from exhibitors.forms import (
    REVIEW_TAB_LABELS,
    ReviewFilterForm,
    ReviewNoteForm,
    ReviewReasonForm,
)
from exhibitors.models import Exhibitor
from exhibitors.selectors import (
    exhibitor_for_review,
    exhibitor_review_counts,
    exhibitor_review_history,
    exhibitors_for_review,
)
from fair.audit import audit_action_label
from fair.csv_export import csv_response
from fair.exceptions import ApplicationError, NotFound
from fair.organiser.access import organiser_required

PAGE_SIZE = 50
PRESIGNED_SECONDS = 60
# What a business licence can be (fair.uploads.document_clean): a PDF or a re-encoded image.
DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}


def _private_headers(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@organiser_required
def exhibitor_list(request: HttpRequest) -> HttpResponse:
    form = ReviewFilterForm(request.GET or None)
    filters = form.filters()
    queryset = exhibitors_for_review(user=request.user, **filters)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = exhibitor_review_counts(q=filters["q"])
    tabs = [
        {
            "value": value,
            "label": label,
            "count": counts[value],
            "current": value == filters["status"],
        }
        for value, label in REVIEW_TAB_LABELS.items()
    ]
    return render(
        request,
        "exhibitors/organiser/list.html",
        {
            "form": form,
            "filters": filters,
            "tabs": tabs,
            "page": page,
            "counts": counts,
            "querystring": urlencode({k: v for k, v in filters.items() if v}),
        },
    )


@require_GET
@organiser_required
def exhibitor_detail(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    exhibitor = exhibitor_for_review(user=request.user, exhibitor_id=exhibitor_id)
    history = [
        {"entry": entry, "label": audit_action_label(entry.action)}
        for entry in exhibitor_review_history(exhibitor=exhibitor)[:100]
    ]
    members = list(exhibitor.members.all())
    booth = getattr(exhibitor, "booth", None)
    return render(
        request,
        "exhibitors/organiser/detail.html",
        {
            "exhibitor": exhibitor,
            "booth": booth,
            "members": members,
            "history": history,
            "document_type": _document_extension(exhibitor),
            "reason_form": ReviewReasonForm(),
            "note_form": ReviewNoteForm(),
        },
    )


def _document_extension(exhibitor: Exhibitor) -> str:
    name = exhibitor.business_licence.name or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return extension if extension in DOCUMENT_TYPES else ""


@require_GET
@organiser_required
def exhibitor_document(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    """The business licence, as an attachment named after the company (never the stored
    name), never cached; each opening is recorded in the audit log."""
    exhibitor = services.exhibitor_document_open(actor=request.user, exhibitor_id=exhibitor_id)
    extension = _document_extension(exhibitor) or "bin"
    content_type = DOCUMENT_TYPES.get(extension, "application/octet-stream")
    filename = f"licence-{exhibitor.slug}.{extension}"
    stored = exhibitor.business_licence
    storage = stored.storage
    if hasattr(storage, "bucket_name"):  # S3: a short-lived presigned URL, after the check
        url = storage.url(
            stored.name,
            parameters={
                "ResponseContentDisposition": content_disposition_header(True, filename),
                "ResponseContentType": content_type,
                "ResponseCacheControl": "private, no-store",
            },
            expire=PRESIGNED_SECONDS,
        )
        return _private_headers(HttpResponseRedirect(url))
    # Local storage (embedded default, development): at most 20 MB, read whole.
    if not storage.exists(stored.name):
        raise NotFound("No such document.")
    with stored.open("rb") as file:
        response = HttpResponse(file.read(), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return _private_headers(response)


def _form_errors(request: HttpRequest, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _decision_view(service, form_class, field: str, success):
    """A POST view taking one review decision: the form's note or reason goes to
    ``service``; errors come back as messages on the exhibitor's page."""

    @require_POST
    @organiser_required
    def view(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
        form = form_class(request.POST)
        if not form.is_valid():
            _form_errors(request, form)
        else:
            try:
                service(
                    actor=request.user,
                    exhibitor_id=exhibitor_id,
                    **{field: form.cleaned_data[field]},
                )
            except ApplicationError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, str(success))
        return redirect("org_exhibitors:detail", exhibitor_id=exhibitor_id)

    return view


exhibitor_approve = _decision_view(
    services.exhibitor_approve,
    ReviewNoteForm,
    "note",
    gettext_lazy("Approved. The company's owners get an email."),
)
exhibitor_reject = _decision_view(
    services.exhibitor_reject,
    ReviewReasonForm,
    "reason",
    gettext_lazy("Rejected. The applicant gets an email with your reason."),
)
exhibitor_suspend = _decision_view(
    services.exhibitor_suspend,
    ReviewReasonForm,
    "reason",
    gettext_lazy("Suspended. The booth and products are hidden from buyers."),
)
exhibitor_reinstate = _decision_view(
    services.exhibitor_reinstate,
    ReviewNoteForm,
    "note",
    gettext_lazy("Reinstated. The booth and published products are public again."),
)


@require_GET
@organiser_required
def exhibitors_export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The exhibitors of the queue's current tab and search, as CSV, streamed."""
    filters = ReviewFilterForm(request.GET or None).filters()
    queryset = exhibitors_for_review(user=request.user, **filters)
    services.exhibitors_export_record(
        actor=request.user, filters=filters, rows=queryset.order_by().count()
    )
    filename = f"exhibitors-{filters['status']}-{timezone.localdate():%Y-%m-%d}.csv"
    return csv_response(request, exhibitors_csv_chunks(queryset), filename)
