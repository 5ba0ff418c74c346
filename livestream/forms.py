"""Forms of the live-video pages. Start and end are typed as local date-times in the
user's own zone (the zone active for the request); Django's ``DateTimeField`` makes them
aware in that zone and the views hand UTC to the services."""

from __future__ import annotations

from datetime import UTC, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fair.models import Category
from livestream.models import SESSION_LANGUAGES, LiveSession, Region

#: A start this far in the past is still accepted (a form filled in slowly).
PAST_GRACE = timedelta(minutes=5)


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class SessionTimesForm(forms.Form):
    start = forms.DateTimeField(label=_("Start"), widget=LocalDateTimeInput())
    end = forms.DateTimeField(label=_("End"), widget=LocalDateTimeInput())

    def __init__(self, *args, zone_name: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.zone_name = zone_name or timezone.get_current_timezone_name()
        for name in ("start", "end"):
            field = self.fields[name]
            field.help_text = _("Your local time (%(zone)s).") % {"zone": self.zone_name}
            field.widget.attrs["data-zone"] = self.zone_name

    def clean_start(self):
        start = self.cleaned_data["start"]
        if start < timezone.now() - PAST_GRACE:
            raise ValidationError(_("This start is in the past."), code="past")
        return start

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end <= start:
            self.add_error("end", _("The session must end after it starts."))
        return cleaned

    @property
    def start_utc(self):
        return self.cleaned_data["start"].astimezone(UTC)

    @property
    def end_utc(self):
        return self.cleaned_data["end"].astimezone(UTC)


class SessionDetailsForm(forms.Form):
    """What a session is about (everything but its times)."""

    title = forms.CharField(label=_("Title"), max_length=160)
    description = forms.CharField(
        label=_("Description"), max_length=5000, required=False, widget=forms.Textarea
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=LiveSession.Kind.choices)
    language = forms.ChoiceField(label=_("Language"), choices=SESSION_LANGUAGES)
    target_regions = forms.MultipleChoiceField(
        label=_("Target regions"),
        choices=Region.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"data-region-choice": ""}),
        help_text=_("Leave empty for a session for everyone."),
    )
    featured_products = forms.ModelMultipleChoiceField(
        label=_("Featured products"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Your published products, shown beside the stream."),
    )
    external_hls_url = forms.URLField(
        label=_("External HLS URL (optional)"),
        required=False,
        assume_scheme="https",
        help_text=_(
            "Only if you stream through a cloud live service: its https link to an .m3u8 "
            "playlist. Leave empty to stream from OBS to our media server."
        ),
    )

    def __init__(self, *args, products=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["featured_products"].queryset = products

    def clean_external_hls_url(self):
        url = self.cleaned_data["external_hls_url"]
        if url and not url.lower().startswith("https://"):
            raise ValidationError(_("Use an https:// link to an HLS stream."), code="https")
        return url


class SessionScheduleForm(SessionDetailsForm, SessionTimesForm):
    field_order = [
        "title",
        "description",
        "kind",
        "language",
        "target_regions",
        "start",
        "end",
        "featured_products",
        "external_hls_url",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(self.field_order)


# Which form field a service's ValidationError key belongs to.
SERVICE_FIELDS = {"scheduled_start": "start", "scheduled_end": "end"}


def errors_from_service(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for key, messages in error.message_dict.items():
            field = SERVICE_FIELDS.get(key, key)
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class KeyRotateForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand: the current key stops working at once and OBS needs the new one."),
        required=True,
    )


class ProgrammeFilterForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), required=False)
    region = forms.ChoiceField(
        label=_("Region"), required=False, choices=[("", _("All regions")), *Region.choices]
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("All languages")), *SESSION_LANGUAGES]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *LiveSession.Kind.choices]
    )

    def __init__(self, *args, categories: list[Category], **kwargs):
        super().__init__(*args, **kwargs)
        self.categories = {c.slug: c for c in categories}
        choices = [("", _("All categories"))]
        for category in categories:
            if category.parent_id is None:
                choices.append((category.slug, category.display_name))
                choices.extend(
                    (child.slug, f"— {child.display_name}")
                    for child in categories
                    if child.parent_id == category.pk
                )
        self.fields["category"].choices = choices

    def filters(self) -> dict:
        """Keyword filters for ``livestream.selectors.sessions_filtered`` (an invalid value is
        ignored rather than refused: these are links people share)."""
        if not self.is_bound or not self.is_valid():
            data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v}
        else:
            data = self.cleaned_data
        return {
            "category": self.categories.get(data.get("category") or ""),
            "region": data.get("region") or "",
            "language": data.get("language") or "",
            "kind": data.get("kind") or "",
        }

    @property
    def active(self) -> bool:
        return any(self.filters().values())


# --- The organisers' pages -------------------------------------------------------------------


class OrganiserSessionFilterForm(forms.Form):
    """Filters of the organisers' sessions list and its CSV (GET; bad values are ignored)."""

    q = forms.CharField(label=_("Title or company"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *LiveSession.Status.choices],
    )
    day = forms.DateField(
        label=_("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Sessions scheduled on that day, in your time zone."),
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {"q": "", "status": "", "day": None}
        data = self.cleaned_data
        return {"q": data["q"].strip(), "status": data["status"], "day": data["day"]}


class ReportFilterForm(forms.Form):
    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("open", _("Open")), ("decided", _("Decided")), ("all", _("All"))],
    )

    def show_value(self) -> str:
        return (self.is_valid() and self.cleaned_data["show"]) or "open"


class ReportDecideForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("hide", _("Hide the message")),
            ("unhide", _("Show the message again")),
            ("dismiss", _("Dismiss the reports")),
            ("mute", _("Mute the author")),
            ("ban", _("Ban the author")),
        ]
    )
    minutes = forms.IntegerField(label=_("Minutes"), required=False, min_value=1)
    reason = forms.CharField(label=_("Reason (for the audit log)"), required=False, max_length=500)
    hide = forms.BooleanField(label=_("Also hide the message"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("action") == "mute" and not data.get("minutes"):
            self.add_error("minutes", _("Say for how many minutes."))
        return data


class StreamStopForm(forms.Form):
    reason = forms.CharField(label=_("Reason (for the audit log)"), required=False, max_length=500)
