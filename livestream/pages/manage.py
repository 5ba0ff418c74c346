"""The exhibitor's own pages: its sessions (any staff role; outsiders 404) and the go-live page
with the stream key (owners and admins; sales staff 403)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from exhibitors.selectors import access_exhibitor
from fair.exceptions import ApplicationError
from livestream import services
from livestream.forms import (
    KeyRotateForm,
    SessionDetailsForm,
    SessionScheduleForm,
    SessionTimesForm,
    errors_from_service,
)
from livestream.models import LiveSession, Region, StreamKeyAudit
from livestream.pages.timing import session_timing, suggested_times, zone_context
from livestream.selectors import (
    access_session_for_staff,
    products_for_featuring,
    session_current_or_next,
    sessions_of_exhibitor,
)

STAFF_PAGE_SIZE = 25

# --- The exhibitor's sessions ----------------------------------------------------------------


@login_required
@require_GET
def session_list(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    exhibitor, membership = access_exhibitor(user=request.user, exhibitor_id=exhibitor_id)
    show = request.GET.get("show", "upcoming")
    if show not in ("upcoming", "past", "cancelled"):
        show = "upcoming"
    queryset = sessions_of_exhibitor(exhibitor=exhibitor, show=show).annotate(
        reminder_count=Count("reminders")
    )
    page = Paginator(queryset, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "livestream/manage/session_list.html",
        {
            "exhibitor": exhibitor,
            "membership": membership,
            "page": page,
            "show": show,
            "querystring": urlencode({"show": show}),
            **zone_context(request),
        },
    )


@login_required
def session_create(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    exhibitor, membership = access_exhibitor(user=request.user, exhibitor_id=exhibitor_id)
    zone = zone_context(request)["zone_name"]
    form = SessionScheduleForm(
        request.POST or None,
        products=products_for_featuring(exhibitor=exhibitor),
        zone_name=zone,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.session_schedule(
                user=request.user,
                exhibitor_id=exhibitor.pk,
                title=data["title"],
                description=data["description"],
                kind=data["kind"],
                language=data["language"],
                target_regions=data["target_regions"],
                featured_products=data["featured_products"],
                start=form.start_utc,
                end=form.end_utc,
                external_hls_url=data["external_hls_url"],
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            errors_from_service(form, error)
        else:
            messages.success(
                request,
                _("“%(title)s” is scheduled. Buyers see it in the programme.")
                % {"title": session.title},
            )
            return redirect(
                "livestream:session_edit", exhibitor_id=exhibitor.pk, session_id=session.pk
            )
    # After a refused POST the table shows the start that was typed (when it was valid).
    chosen_start = getattr(form, "cleaned_data", {}).get("start")
    regions = form.data.getlist("target_regions") if form.is_bound else []
    return render(
        request,
        "livestream/manage/session_create.html",
        {
            "exhibitor": exhibitor,
            "membership": membership,
            "form": form,
            "suggested": suggested_times(regions=regions, start=chosen_start),
            "suggested_start": chosen_start,
            **zone_context(request),
        },
    )


@login_required
def session_edit(request: HttpRequest, exhibitor_id: int, session_id: int) -> HttpResponse:
    """The session's details form and the reschedule form (start and end); a hidden
    ``form`` field says which one was sent."""
    session, exhibitor, membership = access_session_for_staff(
        user=request.user, exhibitor_id=exhibitor_id, session_id=session_id
    )
    zone = zone_context(request)["zone_name"]
    sent = request.POST.get("form", "times") if request.method == "POST" else None
    form = SessionTimesForm(
        request.POST if sent == "times" else None,
        initial={"start": session.scheduled_start, "end": session.scheduled_end},
        zone_name=zone,
    )
    details_form = SessionDetailsForm(
        request.POST if sent == "details" else None,
        products=products_for_featuring(exhibitor=exhibitor),
        initial={
            "title": session.title,
            "description": session.description,
            "kind": session.kind,
            "language": session.language,
            "target_regions": session.target_regions,
            "featured_products": list(session.featured_products.all()),
            "external_hls_url": session.external_hls_url,
        },
    )
    if sent == "details" and details_form.is_valid():
        data = details_form.cleaned_data
        try:
            services.session_details_update(
                user=request.user,
                session_id=session.pk,
                title=data["title"],
                description=data["description"],
                kind=data["kind"],
                language=data["language"],
                target_regions=data["target_regions"],
                featured_products=data["featured_products"],
                external_hls_url=data["external_hls_url"],
            )
        except ApplicationError as error:
            details_form.add_error(None, error.message)
        except ValidationError as error:
            errors_from_service(details_form, error)
        else:
            messages.success(request, _("Session details saved."))
            return redirect(
                "livestream:session_edit", exhibitor_id=exhibitor.pk, session_id=session.pk
            )
    if sent == "times" and form.is_valid():
        if session.status != LiveSession.Status.SCHEDULED:
            form.add_error(None, _("Only a scheduled session can be moved."))
        else:
            try:
                services.session_reschedule(
                    user=request.user,
                    session_id=session.pk,
                    start=form.start_utc,
                    end=form.end_utc,
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            except ValidationError as error:
                errors_from_service(form, error)
            else:
                messages.success(
                    request,
                    _(
                        "Session moved. Buyers who asked for a reminder are told, and "
                        "reminded again before the new start."
                    ),
                )
                return redirect(
                    "livestream:session_edit", exhibitor_id=exhibitor.pk, session_id=session.pk
                )
    return render(
        request,
        "livestream/manage/session_edit.html",
        {
            "exhibitor": exhibitor,
            "membership": membership,
            "session": session,
            "form": form,
            "details_form": details_form,
            "reminder_count": session.reminders.count(),
            "region_labels": [dict(Region.choices).get(r, r) for r in session.target_regions],
            "suggested": suggested_times(
                regions=session.target_regions, start=session.scheduled_start
            ),
            "suggested_start": session.scheduled_start,
            **zone_context(request),
        },
    )


@login_required
def session_cancel(request: HttpRequest, exhibitor_id: int, session_id: int) -> HttpResponse:
    """GET asks for confirmation; POST cancels (reminded buyers are told by email)."""
    session, exhibitor, membership = access_session_for_staff(
        user=request.user, exhibitor_id=exhibitor_id, session_id=session_id
    )
    if request.method == "POST":
        try:
            services.session_cancel(user=request.user, session_id=session.pk)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect(
                "livestream:session_edit", exhibitor_id=exhibitor.pk, session_id=session.pk
            )
        messages.success(request, _("“%(title)s” is cancelled.") % {"title": session.title})
        return redirect("livestream:session_list", exhibitor_id=exhibitor.pk)
    return render(
        request,
        "livestream/manage/session_cancel.html",
        {
            "exhibitor": exhibitor,
            "membership": membership,
            "session": session,
            "reminder_count": session.reminders.count(),
            **zone_context(request),
        },
    )


# --- Going live --------------------------------------------------------------------------------


def _secret_page(response: HttpResponse) -> HttpResponse:
    # The stream key is on this page: no cache may keep it, no link may leak the page's URL.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_GET
def go_live(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    """The RTMP server, the stream key and the OBS guide: owners and admins only (sales
    staff 403, outsiders 404). Every view of the key is audited by ``stream_key_reveal``."""
    channel, key = services.stream_key_reveal(user=request.user, exhibitor_id=exhibitor_id)
    exhibitor, membership = access_exhibitor(user=request.user, exhibitor_id=exhibitor_id)
    server = settings.MEDIA_RTMP_URL.rstrip("/")
    obs_key = f"{channel.public_id}?key={key}" if key else ""
    session = session_current_or_next(exhibitor=exhibitor)
    response = render(
        request,
        "livestream/manage/go_live.html",
        {
            "exhibitor": exhibitor,
            "membership": membership,
            "channel": channel,
            "server": server,
            "obs_key": obs_key,
            "publish_url": f"{server}/{obs_key}" if key else "",
            "key_missing": key is None,
            "session": session,
            "session_timing": session_timing(session, timezone.now()) if session else "",
            "audits": list(
                StreamKeyAudit.objects.filter(channel=channel).select_related("user")[:8]
            ),
            "rotate_form": KeyRotateForm(),
            **zone_context(request),
        },
    )
    return _secret_page(response)


@login_required
@require_POST
def key_rotate(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    # Permission first, so the answer to sales staff and outsiders never depends on the form.
    access_exhibitor(user=request.user, exhibitor_id=exhibitor_id, edit=True)
    form = KeyRotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tick the box to confirm: the key was not changed."))
    else:
        services.stream_key_rotate(user=request.user, exhibitor_id=exhibitor_id)
        messages.success(
            request,
            _(
                "New stream key made: the old one no longer works. Paste the new key into "
                "OBS before you go live."
            ),
        )
    return _secret_page(redirect("livestream:go_live", exhibitor_id=exhibitor_id))
