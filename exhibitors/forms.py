"""Forms of the exhibitor's own area: application, company, booth, products, staff."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from exhibitors.models import CURRENCIES, Booth, Exhibitor, ExhibitorMember, Product
from fair.models import Category


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        if obj.parent_id:
            return f"{obj.parent.display_name} › {obj.display_name}"
        return obj.display_name


class CategoriesField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return obj.display_name


def section_field(**kwargs) -> CategoryChoiceField:
    return CategoryChoiceField(
        queryset=Category.objects.filter(kind=Category.Kind.SECTION)
        .select_related("parent")
        .order_by("parent__position", "position"),
        **kwargs,
    )


def country_choices():
    return [("", _("Choose a country")), *countries]


class ExhibitorApplicationForm(forms.Form):
    display_name = forms.CharField(label=_("Company name shown to buyers"), max_length=120)
    legal_name = forms.CharField(label=_("Legal name"), max_length=200)
    country = forms.ChoiceField(label=_("Country"), choices=country_choices)
    province = forms.CharField(label=_("Province / state"), max_length=100, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    year_founded = forms.IntegerField(
        label=_("Year founded"), required=False, min_value=1800, max_value=2100
    )
    main_categories = CategoriesField(
        label=_("Main product categories"),
        queryset=Category.objects.filter(kind=Category.Kind.CATEGORY).order_by("position"),
        widget=forms.CheckboxSelectMultiple,
        required=True,
    )
    description = forms.CharField(
        label=_("About the company"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
        help_text=_("What you make, for which markets, since when. Buyers read this first."),
    )
    business_licence = forms.FileField(
        label=_("Business licence"),
        required=True,
        help_text=_("PDF or image, at most 20 MB. Only the organisers reviewing you see it."),
    )


class CompanyForm(forms.ModelForm):
    country = forms.ChoiceField(label=_("Country"), choices=country_choices)
    main_categories = CategoriesField(
        label=_("Main product categories"),
        queryset=Category.objects.filter(kind=Category.Kind.CATEGORY).order_by("position"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Exhibitor
        fields = [
            "display_name",
            "legal_name",
            "country",
            "province",
            "city",
            "website",
            "year_founded",
            "main_categories",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}


class LinesField(forms.CharField):
    """A list of short strings, one per line (or separated by semicolons)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        items = [item.strip() for part in text.splitlines() for item in part.split(";")]
        return [item[:120] for item in items if item][:30]


class SpecsField(forms.CharField):
    """Product specifications as ``name = value`` lines."""

    widget = forms.Textarea(attrs={"rows": 6})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(f"{name} = {val}" for name, val in value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        specs = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            name, sep, val = line.partition("=")
            if not sep:
                name, sep, val = line.partition(":")
            if not sep or not name.strip() or not val.strip():
                raise forms.ValidationError(
                    _("Line %(n)s: write each specification as “name = value”."),
                    params={"n": number},
                    code="bad_spec",
                )
            specs.append([name.strip()[:80], val.strip()[:200]])
        if len(specs) > 60:
            raise forms.ValidationError(_("At most 60 specifications."))
        return specs


class BoothForm(forms.ModelForm):
    section = section_field(label=_("Exhibition section"), required=False)
    certificates = LinesField(
        label=_("Certificates"),
        required=False,
        help_text=_("One per line, e.g. ISO 9001, BSCI."),
    )
    logo = forms.FileField(label=_("Logo"), required=False, help_text=_("JPEG, PNG or WebP."))
    banner = forms.FileField(
        label=_("Banner"), required=False, help_text=_("A wide image, e.g. 2400 × 600.")
    )
    panorama = forms.FileField(
        label=_("360° panorama"),
        required=False,
        help_text=_("An equirectangular photo (2:1) of your showroom or factory, up to 40 MP."),
    )

    class Meta:
        model = Booth
        fields = [
            "tagline",
            "story",
            "section",
            "video_url",
            "certificates",
            "contact_person",
            "contact_email",
            "contact_phone",
        ]
        widgets = {"story": forms.Textarea(attrs={"rows": 10})}

    def clean_video_url(self) -> str:
        url = self.cleaned_data.get("video_url", "")
        if url and not url.lower().startswith("https://"):
            raise forms.ValidationError(_("Use an https:// link."))
        return url


class ProductForm(forms.ModelForm):
    category = section_field(label=_("Exhibition section"))
    specs = SpecsField(
        label=_("Specifications"),
        required=False,
        help_text=_("One per line: name = value (e.g. Screen size = 55 in)."),
    )
    certifications = LinesField(
        label=_("Certifications"), required=False, help_text=_("One per line, e.g. CE, RoHS.")
    )
    currency = forms.ChoiceField(
        label=_("Currency"), choices=[(c, c) for c in CURRENCIES], initial="USD"
    )

    class Meta:
        model = Product
        fields = [
            "name",
            "sku",
            "category",
            "description",
            "specs",
            "keywords",
            "moq",
            "moq_unit",
            "price_min",
            "price_max",
            "currency",
            "incoterm",
            "port_of_loading",
            "lead_time_days",
            "hs_code",
            "certifications",
            "samples",
            "is_new_launch",
            "is_published",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}


class ProductImageForm(forms.Form):
    image = forms.FileField(label=_("Image"), help_text=_("JPEG, PNG or WebP, at most 10 MB."))
    alt_text = forms.CharField(
        label=_("Description for screen readers"),
        max_length=200,
        required=False,
        help_text=_("What the picture shows, e.g. “55-inch TV, front view”."),
    )


class ProductModelForm(forms.Form):
    model_3d = forms.FileField(
        label=_("3D model (GLB)"), help_text=_("Binary glTF, at most 30 MB.")
    )


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Colleague's email"))
    role = forms.ChoiceField(label=_("Role"), choices=ExhibitorMember.Role.choices, initial="sales")


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ExhibitorMember.Role.choices)


# --- Organisers' review ----------------------------------------------------------------------

REVIEW_TAB_LABELS = {
    "pending": _("Pending"),
    "approved": _("Approved"),
    "rejected": _("Rejected"),
    "suspended": _("Suspended"),
    "all": _("All"),
}


class ReviewFilterForm(forms.Form):
    """The approval queue's tab and search (GET); an unknown tab falls back to pending."""

    status = forms.ChoiceField(
        label=_("Status"), choices=list(REVIEW_TAB_LABELS.items()), required=False
    )
    q = forms.CharField(label=_("Company or country"), max_length=100, required=False)

    def filters(self) -> dict[str, str]:
        """The valid part of the request (an unknown tab does not drop the search)."""
        data = {}
        if self.is_bound:
            self.is_valid()  # cleaned_data then holds the fields that are valid
            data = self.cleaned_data
        return {"status": data.get("status") or "pending", "q": (data.get("q") or "").strip()}


class ReviewReasonForm(forms.Form):
    """Reject or suspend: the reason reaches the exhibitor (email and their own pages)."""

    reason = forms.CharField(
        label=_("Reason (the exhibitor sees it)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class ReviewNoteForm(forms.Form):
    """Approve or reinstate: an optional note for the organisers' audit log."""

    note = forms.CharField(
        label=_("Note for the audit log (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
    )
