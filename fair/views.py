"""Pages of the fair core: home, account preferences, language and time-zone switches."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fair.forms import UserPreferencesForm
from fair.middleware import SESSION_TIME_ZONE_KEY
from fair.models import available_time_zones
from fair.selectors import category_tree
from fair.services import notices_mark_read, user_language_set, user_preferences_update


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "fair/home.html", {"categories": category_tree()})


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@login_required
def account_preferences(request: HttpRequest) -> HttpResponse:
    form = UserPreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user_preferences_update(
            user=request.user,
            full_name=form.cleaned_data["full_name"],
            language=form.cleaned_data["language"],
            time_zone=form.cleaned_data["time_zone"],
        )
        translation.activate(request.user.language)
        messages.success(request, _("Your preferences are saved."))
        response = redirect("account_preferences")
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, request.user.language, samesite="Lax", httponly=True
        )
        return response
    return render(request, "fair/account_preferences.html", {"form": form})


@require_POST
def time_zone_detected(request: HttpRequest) -> HttpResponse:
    """The browser reports its IANA zone once per session (static/fair/js/base.js); it is
    used for visitors and for signed-in users who chose no zone of their own."""
    name = request.POST.get("time_zone", "")
    if name not in available_time_zones():
        return HttpResponseBadRequest(_("Unknown time zone."))
    request.session[SESSION_TIME_ZONE_KEY] = name
    return JsonResponse({"time_zone": name})


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The language switcher: remembered in a cookie, and on the account when signed in."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    if language not in dict(settings.LANGUAGES):
        messages.error(request, _("That language is not available."))
        return redirect(next_url)
    if request.user.is_authenticated:
        user_language_set(user=request.user, language=language)
    response = redirect(next_url)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's view; a successful reset also lifts any log-in lockout of the account, the
    documented way back in for a user whose account an attacker keeps locked."""

    def form_valid(self, form):
        from axes.utils import reset

        response = super().form_valid(form)
        reset(username=form.user.email.lower())
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's view; links use FAIR_SITE_DOMAIN when set, never a Host header alone."""

    def form_valid(self, form):
        if not settings.FAIR_SITE_DOMAIN:
            return super().form_valid(form)
        form.save(
            domain_override=settings.FAIR_SITE_DOMAIN,
            use_https=self.request.is_secure() or settings.SECURE,
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            html_email_template_name=self.html_email_template_name,
            extra_email_context=self.extra_email_context,
        )
        return redirect(self.get_success_url())


class LogoutView(auth_views.LogoutView):
    """Django's log-out (POST only); the time zone the browser reported survives it, so the
    visitor keeps seeing times in their own zone."""

    def post(self, request, *args, **kwargs):
        zone = request.session.get(SESSION_TIME_ZONE_KEY)
        response = super().post(request, *args, **kwargs)
        if zone:
            request.session[SESSION_TIME_ZONE_KEY] = zone
        return response


@login_required
@require_POST
def notices_read(request: HttpRequest) -> HttpResponse:
    """Mark all the user's notices read, then go back where they were."""
    notices_mark_read(user=request.user)
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    return redirect(next_url)


@require_GET
def announcements(request: HttpRequest) -> HttpResponse:
    """Every announcement made to the reader's audiences, newest first (withdrawn ones
    are gone; expired ones stay listed)."""
    from django.core.paginator import Paginator

    from fair.announcements import user_audiences
    from fair.models import Announcement

    audiences = user_audiences(request.user)
    queryset = Announcement.objects.filter(withdrawn_at__isnull=True, audience__in=audiences)
    page = Paginator(queryset.order_by("-created_at"), 20).get_page(request.GET.get("page"))
    return render(request, "fair/announcements.html", {"page": page})
