"""Forms of the fair core: log-in and the account's own preferences."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from fair.models import User, available_time_zones


def time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in available_time_zones() if "/" in z and not z.startswith("Etc/"))
    return [("", _("Use my browser's time zone")), ("UTC", "UTC"), *((z, z) for z in zones)]


class EmailAuthenticationForm(AuthenticationForm):
    """Django's log-in form, with the email as the user name."""

    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        "invalid_login": _(
            "That email and password do not match an account. Check both and try again."
        ),
        "inactive": _("This account is inactive."),
    }


class UserPreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, choices=())
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    class Meta:
        model = User
        fields = ["full_name", "language", "time_zone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()
        self.fields["time_zone"].help_text = _(
            "Every time on the site is shown in this zone. Leave it empty to follow your browser."
        )
