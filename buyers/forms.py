"""Buyer sign-up and profile forms."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from buyers.models import BuyerProfile
from fair.models import Category, User


class InterestsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return obj.display_name


def interests_field() -> InterestsField:
    return InterestsField(
        label=_("Interests"),
        queryset=Category.objects.filter(kind=Category.Kind.CATEGORY).order_by("position"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Product categories you source; we suggest booths and sessions from them."),
    )


class BuyerSignUpForm(forms.Form):
    email = forms.EmailField(
        label=_("Work email"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    full_name = forms.CharField(
        label=_("Full name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not a common password."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    company = forms.CharField(
        label=_("Company"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    country = forms.ChoiceField(
        label=_("Country"), choices=lambda: [("", _("Choose your country")), *countries]
    )
    buyer_type = forms.ChoiceField(label=_("Buyer type"), choices=BuyerProfile.BuyerType.choices)
    show_identity_in_rooms = forms.BooleanField(
        label=capfirst(BuyerProfile._meta.get_field("show_identity_in_rooms").verbose_name),
        required=False,
    )
    share_contact_in_negotiations = forms.BooleanField(
        label=capfirst(BuyerProfile._meta.get_field("share_contact_in_negotiations").verbose_name),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["interests"] = interests_field()
        # Keep the consents last on the page, after the interests.
        for name in ("show_identity_in_rooms", "share_contact_in_negotiations"):
            self.fields[name] = self.fields.pop(name)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _(
                    "An account with this email address already exists. Log in, or reset the "
                    "password if you forgot it."
                ),
                code="duplicate_email",
            )
        return email

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords differ."))
        elif password1:
            candidate = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class BuyerProfileForm(forms.ModelForm):
    class Meta:
        model = BuyerProfile
        fields = [
            "company",
            "country",
            "buyer_type",
            "interests",
            "show_identity_in_rooms",
            "share_contact_in_negotiations",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["interests"] = interests_field()
