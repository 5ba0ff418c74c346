"""Pages of two-step verification: set up an authenticator app, enter a code."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from fair import mfa, security_log
from fair.exceptions import ApplicationError


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("6-digit code from your app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return "/"


def _code_accepted(request: HttpRequest, form: CodeForm, *, event: str) -> bool:
    """A posted, right code: the session counts as verified. A wrong one: a form error.
    Either is logged as ``event`` (``fair.security_log``; never the code)."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        mfa.code_verify(user=request.user, code=form.cleaned_data["code"])
    except ApplicationError as error:
        form.add_error("code", error.message)
        security_log.mfa_refused(request, event=event, code=error.code)
        return False
    mfa.session_verified(request)
    security_log.security_event(event, request=request, outcome="success")
    return True


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request: HttpRequest) -> HttpResponse:
    device = mfa.device_for(request.user)
    if device is not None and device.confirmed_at is not None:
        return redirect(f"{_verify_url()}?next={_next(request)}")
    device, secret = mfa.device_pending(request.user)
    form = CodeForm(request.POST or None)
    if _code_accepted(request, form, event="mfa.setup"):
        messages.success(request, _("Two-step verification is on for your account."))
        return redirect(_next(request))
    uri = mfa.provisioning_uri(request.user, secret)
    return render(
        request,
        "registration/mfa_setup.html",
        {
            "form": form,
            "secret": secret,
            "qr": mark_safe(mfa.qr_svg(uri)),  # noqa: S308 (segno's own SVG, no user input)
            "next": _next(request),
        },
    )


def _verify_url() -> str:
    from django.urls import reverse

    return reverse("mfa_verify")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    device = mfa.device_for(request.user)
    if device is None or device.confirmed_at is None:
        return redirect(f"{_setup_url()}?next={_next(request)}")
    form = CodeForm(request.POST or None)
    if _code_accepted(request, form, event="mfa.verify"):
        return redirect(_next(request))
    return render(request, "registration/mfa_verify.html", {"form": form, "next": _next(request)})


def _setup_url() -> str:
    from django.urls import reverse

    return reverse("mfa_setup")
