"""The organisers' live-video pages (/organiser/live/): the moderation queue with its
decisions, the sessions list with viewer figures, its CSV, and stopping a stream.

Only organisers get in (``organiser_required``: everyone else gets the same 404 as a missing
page); the services check the role again and write the audit log in the decision's own
transaction."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fair.audit import audit_record
from fair.csv_export import csv_response
from fair.exceptions import ApplicationError
from fair.organiser.access import organiser_required
from livestream import moderation, services
from livestream.exports import sessions_csv_chunks
from livestream.forms import (
    OrganiserSessionFilterForm,
    ReportDecideForm,
    ReportFilterForm,
    StreamStopForm,
)
from livestream.models import LiveSession
from livestream.selectors import sessions_for_organisers
from livestream.viewers import room_figures

REPORTS_PAGE_SIZE = 20
SESSIONS_PAGE_SIZE = 25


def _back(request: HttpRequest, default: str) -> str:
    """Where a decision returns to: the page it was taken on (same site only)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- Moderation ----------------------------------------------------------------------------


@require_GET
@organiser_required
def reports(request: HttpRequest) -> HttpResponse:
    form = ReportFilterForm(request.GET or None)
    show = form.show_value()
    queryset = moderation.reported_messages(user=request.user, show=show)
    page = Paginator(queryset, REPORTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "livestream/organiser/reports.html",
        {
            "form": form,
            "show": show,
            "page": page,
            "rows": moderation.queue_page_details(list(page.object_list)),
            "decide_form": ReportDecideForm(),
            "querystring": urlencode({"show": show}),
        },
    )


@require_POST
@organiser_required
def report_decide(request: HttpRequest, message_id: int) -> HttpResponse:
    back = _back(request, reverse("org_live:reports"))
    form = ReportDecideForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    try:
        closed = moderation.report_decide(
            user=request.user,
            message_id=message_id,
            action=data["action"],
            minutes=data["minutes"],
            reason=data["reason"],
            hide=data["hide"],
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(back)
    done = {
        "hide": _("The message is hidden for everyone."),
        "unhide": _("The message is shown again."),
        "dismiss": _("The reports are dismissed."),
        "mute": _("The author is muted."),
        "ban": _("The author is banned from this exhibitor's rooms."),
    }[data["action"]]
    if closed:
        done = f"{done} " + _("%(n)d report(s) closed.") % {"n": closed}
    messages.success(request, done)
    return redirect(back)


# --- Sessions ------------------------------------------------------------------------------


@require_GET
@organiser_required
def sessions(request: HttpRequest) -> HttpResponse:
    form = OrganiserSessionFilterForm(request.GET or None)
    filters = form.filters()
    queryset = sessions_for_organisers(user=request.user, **filters)
    page = Paginator(queryset, SESSIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    live_ids = [s.pk for s in page.object_list if s.status == LiveSession.Status.LIVE]
    figures = room_figures(live_ids)
    for session in page.object_list:
        room = figures.get(session.pk)
        session.viewers_now = room.viewers if room else None
        session.peak_shown = max(session.peak_viewers, room.peak if room else 0)
    query = {k: v for k, v in request.GET.items() if k in ("q", "status", "day") and v}
    return render(
        request,
        "livestream/organiser/sessions.html",
        {
            "form": form,
            "page": page,
            "stop_form": StreamStopForm(),
            "querystring": urlencode(query),
            "csv_query": urlencode(query),
        },
    )


@require_GET
@organiser_required
def sessions_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The sessions of the current filters as CSV, streamed; the download is audited."""
    filters = OrganiserSessionFilterForm(request.GET or None).filters()
    queryset = sessions_for_organisers(user=request.user, **filters)
    with transaction.atomic():
        audit_record(
            actor=request.user,
            action="export.download",
            target_label="Live sessions CSV",
            data={
                "export": "livestream.sessions",
                "q": filters["q"],
                "status": filters["status"],
                "day": filters["day"].isoformat() if filters["day"] else "",
            },
        )
    filename = f"live-sessions-{timezone.localdate():%Y-%m-%d}.csv"
    return csv_response(request, sessions_csv_chunks(queryset), filename)


@require_POST
@organiser_required
def stream_stop(request: HttpRequest, session_id: int) -> HttpResponse:
    back = _back(request, reverse("org_live:sessions"))
    form = StreamStopForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        session = services.session_stream_stop(
            actor=request.user, session_id=session_id, reason=reason
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(back)
    messages.success(
        request,
        _("“%(title)s” has ended; its encoder is being disconnected.") % {"title": session.title},
    )
    return redirect(back)
