"""Forms of the organisers' area. Times are entered and shown in the organiser's zone."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fair.forms import time_zone_choices
from fair.models import Announcement, Category, FairEdition, Hall

LOCAL_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class EditionForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Home time zone"), choices=())

    class Meta:
        model = FairEdition
        fields = ["name", "slug", "starts_at", "ends_at", "time_zone"]
        widgets = {"starts_at": LOCAL_DATETIME, "ends_at": LOCAL_DATETIME}
        help_texts = {"slug": _("Letters, digits and hyphens, used in links.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()[1:]


class CategoryForm(forms.ModelForm):
    name_zh_hans = forms.CharField(label=_("Name in Chinese"), max_length=120, required=False)
    name_ar = forms.CharField(label=_("Name in Arabic"), max_length=120, required=False)
    name_ru = forms.CharField(label=_("Name in Russian"), max_length=120, required=False)
    name_es = forms.CharField(label=_("Name in Spanish"), max_length=120, required=False)
    name_fr = forms.CharField(label=_("Name in French"), max_length=120, required=False)

    LANGUAGE_FIELDS = {
        "zh-hans": "name_zh_hans",
        "ar": "name_ar",
        "ru": "name_ru",
        "es": "name_es",
        "fr": "name_fr",
    }

    class Meta:
        model = Category
        fields = ["kind", "parent", "name", "slug", "position"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Category.objects.filter(kind=Category.Kind.CATEGORY)
        self.fields["parent"].help_text = _("Exhibition sections belong to a product category.")
        names = self.instance.names or {}
        for language, field in self.LANGUAGE_FIELDS.items():
            self.fields[field].initial = names.get(language, "")

    def clean(self):
        data = super().clean()
        if data.get("kind") == Category.Kind.CATEGORY and data.get("parent"):
            self.add_error("parent", _("A product category is top-level: leave this empty."))
        if data.get("kind") == Category.Kind.SECTION and not data.get("parent"):
            self.add_error("parent", _("Choose the product category this section belongs to."))
        return data

    def translated_names(self) -> dict[str, str]:
        names = {}
        for language, field in self.LANGUAGE_FIELDS.items():
            value = self.cleaned_data.get(field, "").strip()
            if value:
                names[language] = value
        return names


class HallForm(forms.ModelForm):
    class Meta:
        model = Hall
        fields = ["edition", "code", "name", "position", "sections"]
        widgets = {"sections": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sections"].queryset = Category.objects.filter(
            kind=Category.Kind.SECTION
        ).select_related("parent")


class AnnouncementForm(forms.ModelForm):
    class Meta:
        model = Announcement
        fields = ["title", "body", "audience", "url", "expires_at", "send_email"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
            "expires_at": LOCAL_DATETIME,
        }
        help_texts = {
            "expires_at": _("Leave empty to show the banner until you withdraw it."),
            "send_email": _("Emails go out in batches; progress shows in the list below."),
        }


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False, choices=())
    who = forms.CharField(label=_("Who (email)"), required=False, max_length=254)
    target = forms.CharField(label=_("Object"), required=False, max_length=200)
    since = forms.DateField(
        label=_("Since"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        from fair.audit import AUDIT_ACTIONS

        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("Any action"))] + [
            (name, label) for name, label in AUDIT_ACTIONS.items()
        ]
