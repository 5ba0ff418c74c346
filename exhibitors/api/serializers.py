"""Serializers of the exhibitors API: plain ``Serializer`` classes, one per input or output
shape (no ModelSerializer: what goes out and what comes in is written down here).

Output never carries the business licence (only whether one was uploaded) nor the search
vector; file URLs are the storage's URLs. Public outputs show a booth only once it is
published, and its contact details only to signed-in callers (``show_contact`` in the
serializer context)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from django_countries import countries
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from exhibitors.models import CURRENCIES, Booth, ExhibitorMember, Incoterm, Product
from fair.models import Category

MAX_SPECS = 60
MAX_LIST_ITEMS = 30

# --- Fields ------------------------------------------------------------------------------


# "uri-reference", not "uri": local file storage gives a path (/media/...), S3 a full URL.
FILE_URL_SCHEMA = {"type": "string", "format": "uri-reference", "nullable": True}


@extend_schema_field(FILE_URL_SCHEMA)
class FileUrlField(serializers.Field):
    """The storage URL of a file field, or null when there is no file."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value.url if value else None


class StrictCharField(serializers.CharField):
    """A CharField that takes only JSON strings (DRF's would turn 5 or true into text)."""

    default_error_messages = {"invalid": _("Give a text.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def text_list_field(*, max_length: int = 120, **kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=StrictCharField(max_length=max_length),
        max_length=MAX_LIST_ITEMS,
        **kwargs,
    )


@extend_schema_field(
    {
        "type": "array",
        "maxItems": MAX_SPECS,
        "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
        "example": [["Screen size", "55 in"], ["Resolution", "3840 × 2160"]],
    }
)
class SpecsField(serializers.Field):
    """Product specifications: a list of ``[name, value]`` pairs of non-empty texts."""

    default_error_messages = {
        "not_a_list": _("Give the specifications as a list of [name, value] pairs."),
        "bad_pair": _("Specification {n}: give it as [name, value], two non-empty texts."),
        "too_long": _(
            "Specification {n}: the name may have 80 characters and the value 200 at most."
        ),
        "too_many": _("At most {max} specifications."),
    }

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list")
        if len(data) > MAX_SPECS:
            self.fail("too_many", max=MAX_SPECS)
        specs = []
        for n, pair in enumerate(data, start=1):
            if not (
                isinstance(pair, list)
                and len(pair) == 2
                and all(isinstance(part, str) and part.strip() for part in pair)
            ):
                self.fail("bad_pair", n=n)
            name, value = pair[0].strip(), pair[1].strip()
            if len(name) > 80 or len(value) > 200:
                self.fail("too_long", n=n)
            specs.append([name, value])
        return specs

    def to_representation(self, value):
        return value


class SectionSlugField(serializers.SlugRelatedField):
    """An exhibition section (a leaf of the category tree) given by its slug."""

    default_error_messages = {
        "does_not_exist": _("“{value}” is not an exhibition section."),
        "invalid": _("Give the slug of an exhibition section."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Category.objects.filter(kind=Category.Kind.SECTION))
        super().__init__(slug_field="slug", **kwargs)


class CategorySlugField(serializers.SlugRelatedField):
    """A top-level product category given by its slug."""

    default_error_messages = {
        "does_not_exist": _("“{value}” is not a product category."),
        "invalid": _("Give the slug of a product category."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Category.objects.filter(kind=Category.Kind.CATEGORY))
        super().__init__(slug_field="slug", **kwargs)


COUNTRY_CODES = [code for code, _name in countries]


def _published_booth(exhibitor) -> Booth | None:
    try:
        booth = exhibitor.booth
    except Booth.DoesNotExist:
        return None
    return booth if booth.is_published else None


# --- Output: categories, booths, exhibitors ----------------------------------------------


class CategoryRefOutputSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField(source="display_name")


class BoothSummaryOutputSerializer(serializers.Serializer):
    tagline = serializers.CharField()
    logo_url = FileUrlField(source="logo")
    section = CategoryRefOutputSerializer(allow_null=True)


class BoothContactOutputSerializer(serializers.Serializer):
    person = serializers.CharField(source="contact_person")
    email = serializers.CharField(source="contact_email")
    phone = serializers.CharField(source="contact_phone")


class BoothPublicOutputSerializer(serializers.Serializer):
    tagline = serializers.CharField()
    story = serializers.CharField()
    story_paragraphs = serializers.ListField(child=serializers.CharField())
    logo_url = FileUrlField(source="logo")
    banner_url = FileUrlField(source="banner")
    panorama_url = FileUrlField(source="panorama")
    video_url = serializers.CharField()
    section = CategoryRefOutputSerializer(allow_null=True)
    certificates = serializers.ListField(child=serializers.CharField())
    published_at = serializers.DateTimeField()
    contact = serializers.SerializerMethodField(
        help_text="Shown to signed-in users only; null for anonymous callers."
    )

    @extend_schema_field(BoothContactOutputSerializer(allow_null=True))
    def get_contact(self, booth: Booth):
        if not self.context.get("show_contact"):
            return None
        return BoothContactOutputSerializer(booth).data


class BoothStaffOutputSerializer(serializers.Serializer):
    """The booth as its staff edit it, published or not, with the contact details."""

    tagline = serializers.CharField()
    story = serializers.CharField()
    logo_url = FileUrlField(source="logo")
    banner_url = FileUrlField(source="banner")
    panorama_url = FileUrlField(source="panorama")
    video_url = serializers.CharField()
    section = CategoryRefOutputSerializer(allow_null=True)
    certificates = serializers.ListField(child=serializers.CharField())
    contact_person = serializers.CharField()
    contact_email = serializers.CharField()
    contact_phone = serializers.CharField()
    is_published = serializers.BooleanField()
    published_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class ExhibitorListOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    display_name = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code.")
    country_name = serializers.CharField(source="country.name")
    province = serializers.CharField()
    city = serializers.CharField()
    website = serializers.CharField()
    year_founded = serializers.IntegerField(allow_null=True)
    is_live = serializers.BooleanField()
    follower_count = serializers.IntegerField()
    main_categories = CategoryRefOutputSerializer(many=True, source="main_categories.all")
    booth = serializers.SerializerMethodField(help_text="Null until the booth is published.")

    @extend_schema_field(BoothSummaryOutputSerializer(allow_null=True))
    def get_booth(self, exhibitor):
        booth = _published_booth(exhibitor)
        return BoothSummaryOutputSerializer(booth).data if booth else None


class ExhibitorPublicOutputSerializer(ExhibitorListOutputSerializer):
    legal_name = serializers.CharField()
    description = serializers.CharField()
    booth = serializers.SerializerMethodField(help_text="Null until the booth is published.")

    @extend_schema_field(BoothPublicOutputSerializer(allow_null=True))
    def get_booth(self, exhibitor):
        booth = _published_booth(exhibitor)
        if booth is None:
            return None
        return BoothPublicOutputSerializer(booth, context=self.context).data


class MyExhibitorOutputSerializer(serializers.Serializer):
    """The company profile as its own staff see it, with the review status."""

    id = serializers.IntegerField()
    slug = serializers.SlugField()
    display_name = serializers.CharField()
    legal_name = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code.")
    country_name = serializers.CharField(source="country.name")
    province = serializers.CharField()
    city = serializers.CharField()
    website = serializers.CharField()
    year_founded = serializers.IntegerField(allow_null=True)
    description = serializers.CharField()
    main_categories = CategoryRefOutputSerializer(many=True, source="main_categories.all")
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    status_reason = serializers.CharField()
    has_business_licence = serializers.SerializerMethodField()
    is_live = serializers.BooleanField()
    follower_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def get_has_business_licence(self, exhibitor) -> bool:
        # Only whether one was uploaded: the file itself is for the reviewing organisers.
        return bool(exhibitor.business_licence)


class MembershipExhibitorOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    display_name = serializers.CharField()
    status = serializers.CharField()
    status_reason = serializers.CharField()


class MembershipOutputSerializer(serializers.Serializer):
    role = serializers.CharField()
    exhibitor = MembershipExhibitorOutputSerializer()


class StaffMemberOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    full_name = serializers.CharField(source="user.full_name")
    email = serializers.EmailField(source="user.email")
    joined_at = serializers.DateTimeField(source="created_at")


class InvitationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


# --- Output: products --------------------------------------------------------------------


class ProductImageOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = FileUrlField(source="image")
    thumbnail_url = FileUrlField(source="thumbnail")
    alt_text = serializers.CharField()
    position = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class ProductSummaryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    category = CategoryRefOutputSerializer()
    moq = serializers.IntegerField()
    moq_unit = serializers.CharField()
    price_min = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    price_max = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    incoterm = serializers.CharField()
    samples = serializers.CharField()
    is_new_launch = serializers.BooleanField()
    thumbnail_url = serializers.SerializerMethodField()

    @extend_schema_field(FILE_URL_SCHEMA)
    def get_thumbnail_url(self, product: Product):
        # images are prefetched in position order; the thumbnail is made after the upload.
        for image in product.images.all():
            return (image.thumbnail or image.image).url
        return None


class ProductDetailOutputSerializer(ProductSummaryOutputSerializer):
    description = serializers.CharField()
    specs = SpecsField()
    port_of_loading = serializers.CharField()
    lead_time_days = serializers.IntegerField(allow_null=True)
    hs_code = serializers.CharField()
    certifications = serializers.ListField(child=serializers.CharField())
    images = ProductImageOutputSerializer(many=True, source="images.all")
    model_3d_url = FileUrlField(source="model_3d")
    updated_at = serializers.DateTimeField()


class ProductExhibitorOutputSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    display_name = serializers.CharField()
    country = serializers.CharField()
    country_name = serializers.CharField(source="country.name")
    logo_url = serializers.SerializerMethodField()

    @extend_schema_field(FILE_URL_SCHEMA)
    def get_logo_url(self, exhibitor):
        booth = _published_booth(exhibitor)
        return booth.logo.url if booth and booth.logo else None


class ProductPublicOutputSerializer(ProductDetailOutputSerializer):
    exhibitor = ProductExhibitorOutputSerializer()


class ProductStaffOutputSerializer(ProductDetailOutputSerializer):
    keywords = serializers.CharField()
    is_published = serializers.BooleanField()
    created_at = serializers.DateTimeField()


# --- Input -------------------------------------------------------------------------------


class ExhibitorFilterInputSerializer(serializers.Serializer):
    country = serializers.ChoiceField(choices=COUNTRY_CODES, required=False)
    section = serializers.SlugField(required=False)
    live = serializers.BooleanField(required=False, allow_null=True, default=None)
    new_launches = serializers.BooleanField(required=False, allow_null=True, default=None)


class ExhibitorProfileInputSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=120)
    legal_name = serializers.CharField(max_length=200)
    country = serializers.ChoiceField(choices=COUNTRY_CODES, help_text="ISO 3166-1 alpha-2.")
    province = serializers.CharField(max_length=100, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    website = serializers.URLField(max_length=200, required=False, allow_blank=True)
    year_founded = serializers.IntegerField(
        min_value=1800, max_value=2100, required=False, allow_null=True
    )
    description = serializers.CharField(max_length=5000)
    main_categories = CategorySlugField(
        many=True, help_text="Slugs of top-level product categories."
    )


class ExhibitorApplyInputSerializer(ExhibitorProfileInputSerializer):
    main_categories = CategorySlugField(
        many=True, allow_empty=False, help_text="Slugs of top-level product categories."
    )
    business_licence = serializers.FileField(
        required=False,
        help_text="PDF or JPEG/PNG/WebP image; seen only by the reviewing organisers.",
    )


class BoothUpdateInputSerializer(serializers.Serializer):
    tagline = serializers.CharField(max_length=160, required=False, allow_blank=True)
    story = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    video_url = serializers.URLField(max_length=200, required=False, allow_blank=True)
    section = SectionSlugField(required=False, allow_null=True)
    certificates = text_list_field(required=False)
    contact_person = serializers.CharField(max_length=120, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    logo = serializers.FileField(required=False, help_text="JPEG, PNG or WebP.")
    banner = serializers.FileField(required=False, help_text="JPEG, PNG or WebP.")
    panorama = serializers.FileField(
        required=False, help_text="An equirectangular JPEG, PNG or WebP (2:1), up to 40 MP."
    )

    FILE_FIELDS = ("logo", "banner", "panorama")

    def validate_video_url(self, value: str) -> str:
        if value and not value.lower().startswith("https://"):
            raise serializers.ValidationError(_("Use an https:// link."))
        return value


class PublishInputSerializer(serializers.Serializer):
    published = serializers.BooleanField()


class ProductInputSerializer(serializers.Serializer):
    """A product's fields. For PATCH it is used with ``partial=True``: only what is sent
    changes."""

    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    category = SectionSlugField(help_text="Slug of an exhibition section.")
    description = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    specs = SpecsField(required=False)
    keywords = serializers.CharField(max_length=300, required=False, allow_blank=True)
    moq = serializers.IntegerField(min_value=1, max_value=2_147_483_647, required=False)
    moq_unit = serializers.CharField(max_length=20, required=False)
    price_min = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False, allow_null=True
    )
    price_max = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False, allow_null=True
    )
    currency = serializers.ChoiceField(choices=CURRENCIES, required=False)
    incoterm = serializers.ChoiceField(choices=Incoterm.choices, required=False)
    port_of_loading = serializers.CharField(max_length=100, required=False, allow_blank=True)
    lead_time_days = serializers.IntegerField(
        min_value=0, max_value=720, required=False, allow_null=True
    )
    hs_code = serializers.CharField(max_length=13, required=False, allow_blank=True)
    certifications = text_list_field(required=False)
    samples = serializers.ChoiceField(choices=Product.Samples.choices, required=False)
    is_new_launch = serializers.BooleanField(required=False)
    is_published = serializers.BooleanField(required=False)


class ProductImageUploadInputSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG or WebP, at most 10 MB and 40 MP.")
    alt_text = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ProductImageUpdateInputSerializer(serializers.Serializer):
    alt_text = serializers.CharField(max_length=200, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=32767, required=False)


class ProductModelUploadInputSerializer(serializers.Serializer):
    model_3d = serializers.FileField(help_text="Binary glTF 2.0 (GLB), at most 30 MB.")


class StaffInviteInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(
        choices=ExhibitorMember.Role.choices, default=ExhibitorMember.Role.SALES
    )


class StaffRoleInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ExhibitorMember.Role.choices)
