"""Request-wide behaviour: the viewer's time zone and language, and security headers."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation

from fair.models import available_time_zones

SESSION_TIME_ZONE_KEY = "time_zone"


def time_zone_for_request(request) -> tuple[str, str]:
    """The IANA zone this request is shown in, and where it came from.

    Order: the signed-in user's own setting, then the zone the browser reported once for this
    session, then the fair's home zone. The source is ``"profile"``, ``"browser"`` or
    ``"fair"`` (the footer says which, so nobody is confused about what a time means)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.time_zone:
        return user.time_zone, "profile"
    session = getattr(request, "session", None)
    if session is not None:
        name = session.get(SESSION_TIME_ZONE_KEY)
        if name and name in available_time_zones():
            return name, "browser"
    return settings.FAIR_DEFAULT_TIME_ZONE, "fair"


class UserPreferencesMiddleware:
    """Activates the viewer's time zone and, for signed-in users, their chosen language.

    Runs after AuthenticationMiddleware and LocaleMiddleware: a signed-in user's saved language
    wins over the cookie and the browser's Accept-Language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name, source = time_zone_for_request(request)
        request.time_zone_name = name
        request.time_zone_source = source
        timezone.activate(zoneinfo.ZoneInfo(name))

        user = request.user
        if user.is_authenticated and user.language and user.language != request.LANGUAGE_CODE:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class SecurityHeadersMiddleware:
    """Sets the Content-Security-Policy (no inline script or style is used anywhere)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


class MfaRequiredMiddleware:
    """Organisers and exhibitor owners/admins who signed in with their password but have
    not entered a code yet reach only the two-step pages, log-out and the language and
    time-zone switches (SECURITY B7); API calls get 403."""

    ALLOWED = ("mfa_setup", "mfa_verify", "logout", "language_set", "time_zone_detected")

    def __init__(self, get_response):
        self.get_response = get_response
        self._allowed: set[str] | None = None

    def __call__(self, request):
        from fair.mfa import device_for, mfa_needed

        if request.user.is_authenticated and mfa_needed(request):
            if self._allowed is None:
                from django.urls import reverse

                self._allowed = {reverse(name) for name in self.ALLOWED}
            path = request.path
            if path not in self._allowed and not path.startswith(settings.STATIC_URL):
                from django.http import JsonResponse
                from django.shortcuts import redirect
                from django.urls import reverse
                from django.utils.http import urlencode

                if path.startswith("/api/"):
                    return JsonResponse(
                        {"detail": "Two-step verification is required for this account."},
                        status=403,
                    )
                device = device_for(request.user)
                name = "mfa_verify" if device and device.confirmed_at else "mfa_setup"
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse(name)}?{query}")
        return self.get_response(request)
