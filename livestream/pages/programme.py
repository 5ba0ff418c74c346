"""The public programme ("Live now", "Upcoming"), the stream room, pinning, reminders and a
buyer's "My fair". Public reads are ``LiveSession.objects.public()`` only."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fair.exceptions import ApplicationError
from fair.selectors import notices_unread
from livestream import buyer_services, services
from livestream.forms import ProgrammeFilterForm
from livestream.models import LiveSession, Region
from livestream.pages.calendars import feed_token
from livestream.pages.chat import chat_context
from livestream.pages.timing import (
    by_day,
    day_label,
    decorate_cards,
    duration_text,
    safe_next,
    session_timing,
    zone_context,
)
from livestream.selectors import (
    buyer_country,
    featured_products_of,
    playback_url,
    programme_categories,
    programme_live,
    programme_upcoming,
    region_for_country,
    reminded_session_ids,
    session_for_room,
    sessions_for_region,
    sessions_of_followed,
    sessions_reminded,
    user_is_buyer,
)

PAGE_SIZE = 24
MY_FAIR_DAYS = 7
MY_FAIR_REGION_LIMIT = 20

# --- The public programme --------------------------------------------------------------------


def _programme_querystring(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _requested_day(request: HttpRequest) -> date | None:
    try:
        day = date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return None
    return day if day >= timezone.localdate() else None


@require_GET
def programme_live_now(request: HttpRequest) -> HttpResponse:
    form = ProgrammeFilterForm(request.GET or None, categories=programme_categories())
    page = Paginator(programme_live(**form.filters()), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    sessions = decorate_cards(list(page.object_list), user=request.user, now=now)
    return render(
        request,
        "livestream/programme/live_now.html",
        {
            "form": form,
            "page": page,
            "sessions": sessions,
            "filtered": form.active,
            "querystring": _programme_querystring(request),
            **zone_context(request),
        },
    )


@require_GET
def programme_upcoming_page(request: HttpRequest) -> HttpResponse:
    form = ProgrammeFilterForm(request.GET or None, categories=programme_categories())
    day = _requested_day(request)
    zone = timezone.get_current_timezone()
    since = datetime.combine(day, time.min, tzinfo=zone) if day else None
    queryset = programme_upcoming(since=since, **form.filters())
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    sessions = decorate_cards(list(page.object_list), user=request.user, now=now)
    today = timezone.localdate(now)
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("day", None)
    base = params.urlencode()
    days = []
    for offset in range(7):
        each = today + timedelta(days=offset)
        query = urlencode({"day": each.isoformat()})
        days.append(
            {
                "day": each,
                "label": day_label(each, today),
                "query": f"{base}&{query}" if base else query,
                "current": each == (day or today),
            }
        )
    return render(
        request,
        "livestream/programme/upcoming.html",
        {
            "form": form,
            "page": page,
            "groups": by_day(sessions, now),
            "days": days,
            "day": day,
            "filtered": form.active,
            "querystring": _programme_querystring(request),
            **zone_context(request),
        },
    )


# --- The stream room -------------------------------------------------------------------------


@require_GET
def room(request: HttpRequest, session_id: int) -> HttpResponse:
    session, membership = session_for_room(user=request.user, session_id=session_id)
    now = timezone.now()
    replay_url = ""
    if session.replay_status == LiveSession.ReplayStatus.READY and session.replay:
        replay_url = session.replay.url
    hls_url = ""
    if session.status in (LiveSession.Status.SCHEDULED, LiveSession.Status.LIVE):
        hls_url = playback_url(session)
    session.reminded = bool(
        user_is_buyer(request.user)
        and reminded_session_ids(user=request.user, session_ids=[session.pk])
    )
    products = featured_products_of(session)
    pinned = session.pinned_product
    if pinned is not None and pinned.is_published and pinned.pk not in {p.pk for p in products}:
        pinned.cover_images = list(pinned.images.order_by("position", "pk")[:1])
        products.insert(0, pinned)
    countdown = ""
    if session.status == LiveSession.Status.SCHEDULED:
        left = session.scheduled_start - now
        countdown = duration_text(left) if left.total_seconds() > 0 else _("Starting any moment…")
    return render(
        request,
        "livestream/room.html",
        {
            "session": session,
            "exhibitor": session.exhibitor,
            "membership": membership,
            "is_staff_of_exhibitor": membership is not None,
            "can_go_live": membership is not None and membership.can_edit,
            "products": products,
            "countdown": countdown,
            "hls_url": hls_url,
            "replay_url": replay_url,
            "replay_is_hls": replay_url.split("?")[0].endswith(".m3u8"),
            "timing": session_timing(session, now),
            "region_labels": [dict(Region.choices).get(r, r) for r in session.target_regions],
            "ws_path": f"/ws/live/{session.pk}/",
            "chat": chat_context(request, session, is_staff=membership is not None),
            **zone_context(request),
        },
    )


@login_required
@require_POST
def pin(request: HttpRequest, session_id: int) -> HttpResponse:
    """Pin a featured product (``product`` empty: unpin). Staff of the exhibitor only: the
    service answers NotFound to everyone else."""
    raw = request.POST.get("product", "")
    try:
        product_id = int(raw) if raw else None
    except ValueError as exc:
        raise Http404("No such product.") from exc
    try:
        services.session_pin_product(
            user=request.user, session_id=session_id, product_id=product_id
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Pinned for every viewer.") if product_id else _("Unpinned."))
    return redirect("livestream:room", session_id=session_id)


@login_required
@require_POST
def remind(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        buyer_services.session_reminder_add(user=request.user, session_id=session_id)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("We will email you about 15 minutes before the session starts.")
        )
    return redirect(safe_next(request, reverse("livestream:room", args=[session_id])))


@login_required
@require_POST
def unremind(request: HttpRequest, session_id: int) -> HttpResponse:
    buyer_services.session_reminder_remove(user=request.user, session_id=session_id)
    messages.success(request, _("No reminder for this session."))
    return redirect(safe_next(request, reverse("livestream:room", args=[session_id])))


# --- My fair ---------------------------------------------------------------------------------


@login_required
@require_GET
def my_fair(request: HttpRequest) -> HttpResponse:
    """A buyer's own programme for today and the coming days, in their zone."""
    user = request.user
    if not user_is_buyer(user):
        return render(request, "livestream/my_fair_not_buyer.html", zone_context(request))
    now = timezone.now()
    zone = timezone.get_current_timezone()
    until = datetime.combine(
        timezone.localdate(now) + timedelta(days=MY_FAIR_DAYS), time.min, tzinfo=zone
    )
    reminded = list(sessions_reminded(user=user, start=now, end=until))
    followed = list(sessions_of_followed(user=user, start=now, end=until))
    region = region_for_country(buyer_country(user))
    regional = (
        list(sessions_for_region(region=region, start=now, end=until)[:MY_FAIR_REGION_LIMIT])
        if region
        else []
    )
    decorate_cards(reminded + followed + regional, user=user, now=now)
    return render(
        request,
        "livestream/my_fair.html",
        {
            "reminded_groups": by_day(reminded, now),
            "followed_groups": by_day(followed, now),
            "regional_groups": by_day(regional, now),
            "region": region,
            "region_label": Region(region).label if region else "",
            "region_limit": MY_FAIR_REGION_LIMIT,
            "days": MY_FAIR_DAYS,
            "notices": notices_unread(user),
            "feed_url": request.build_absolute_uri(
                reverse("livestream:feed", args=[feed_token(user)])
            ),
            **zone_context(request),
        },
    )
