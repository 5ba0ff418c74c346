"""Buyer pages: sign-up and the buyer profile."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from buyers.forms import BuyerProfileForm, BuyerSignUpForm
from buyers.models import BuyerProfile
from buyers.services import buyer_profile_update, buyer_sign_up
from fair.exceptions import ApplicationError


def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = BuyerSignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = buyer_sign_up(
                email=data["email"],
                password=data["password1"],
                full_name=data["full_name"],
                company=data["company"],
                country=data["country"],
                buyer_type=data["buyer_type"],
                interests=data["interests"],
                show_identity_in_rooms=data["show_identity_in_rooms"],
                share_contact_in_negotiations=data["share_contact_in_negotiations"],
                language=translation.get_language() or "en",
            )
        except ApplicationError as error:
            form.add_error("email", error.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            welcome = _("Welcome to the fair, %(name)s!") % {"name": user.full_name}
            messages.success(request, welcome)
            return redirect("home")
    return render(request, "buyers/sign_up.html", {"form": form})


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    try:
        profile = request.user.buyer_profile
    except BuyerProfile.DoesNotExist as exc:
        raise Http404(_("This account has no buyer profile.")) from exc
    form = BuyerProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        buyer_profile_update(profile=profile, data=form.cleaned_data)
        messages.success(request, _("Your buyer profile is saved."))
        return redirect("buyers:profile")
    return render(request, "buyers/profile.html", {"form": form})
