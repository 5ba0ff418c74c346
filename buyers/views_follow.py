"""Pages for following booths: the Follow / Unfollow buttons (a plain form POST, enhanced
by htmx when present) and the buyer's "Followed booths" list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from buyers.follow_services import follow_exhibitor, unfollow_exhibitor
from buyers.models import BuyerProfile
from buyers.selectors import follows_of
from exhibitors.models import Exhibitor
from exhibitors.selectors import exhibitors_public
from fair.exceptions import ApplicationError, NotFound

FOLLOWED_PAGE_SIZE = 24


def _exhibitor_by_slug(slug: str, *, public_only: bool) -> Exhibitor:
    queryset = exhibitors_public() if public_only else Exhibitor.objects.all()
    exhibitor = queryset.filter(slug=slug).first()
    if exhibitor is None:
        raise NotFound("No such exhibitor.")
    return exhibitor


def _back(request: HttpRequest, exhibitor: Exhibitor) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("exhibitors:booth", args=[exhibitor.slug])
    return redirect(target)


def _button(request: HttpRequest, exhibitor: Exhibitor, *, following: bool) -> HttpResponse:
    """The button fragment htmx swaps in place (same markup as the template tag's)."""
    exhibitor.refresh_from_db(fields=["follower_count"])
    return render(
        request,
        "buyers/_follow_button.html",
        {
            "exhibitor": exhibitor,
            "following": following,
            "signed_in": True,
            "can_follow": True,
            "next": request.POST.get("next", ""),
        },
    )


@require_POST
@login_required
def follow(request: HttpRequest, slug: str) -> HttpResponse:
    exhibitor = _exhibitor_by_slug(slug, public_only=True)
    try:
        follow_exhibitor(user=request.user, exhibitor_id=exhibitor.pk)
    except ApplicationError as error:
        if request.headers.get("HX-Request"):
            return HttpResponse(error.message, status=400, content_type="text/plain")
        messages.error(request, error.message)
        return _back(request, exhibitor)
    if request.headers.get("HX-Request"):
        return _button(request, exhibitor, following=True)
    messages.success(
        request,
        _("You follow %(company)s. Their sessions will appear in your followed booths.")
        % {"company": exhibitor.display_name},
    )
    return _back(request, exhibitor)


@require_POST
@login_required
def unfollow(request: HttpRequest, slug: str) -> HttpResponse:
    exhibitor = _exhibitor_by_slug(slug, public_only=False)
    try:
        unfollow_exhibitor(user=request.user, exhibitor_id=exhibitor.pk)
    except ApplicationError as error:
        messages.error(request, error.message)
        return _back(request, exhibitor)
    if request.headers.get("HX-Request"):
        return _button(request, exhibitor, following=False)
    messages.success(
        request,
        _("You no longer follow %(company)s.") % {"company": exhibitor.display_name},
    )
    return _back(request, exhibitor)


@require_GET
@login_required
def followed(request: HttpRequest) -> HttpResponse:
    is_buyer = BuyerProfile.objects.filter(user=request.user).exists()
    page = Paginator(follows_of(user=request.user), FOLLOWED_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "buyers/followed.html", {"page": page, "is_buyer": is_buyer})
