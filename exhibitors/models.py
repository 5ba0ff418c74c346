"""Exhibitors: companies, their staff, booths and product catalogues."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from fair.storage import private_storage


def _upload_name(prefix: str, extension: str) -> str:
    # Server-generated names only: nothing of the uploader's file name reaches storage.
    return f"{prefix}/{uuid.uuid4().hex}.{extension}"


def licence_upload_to(instance, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return _upload_name("licences", extension)


def booth_media_upload_to(instance, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return _upload_name(f"booths/{instance.exhibitor_id}", extension)


def product_media_upload_to(instance, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    product_id = getattr(instance, "product_id", None) or getattr(instance, "pk", None)
    return _upload_name(f"products/{product_id or 'new'}", extension)


class ExhibitorQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=Exhibitor.Status.APPROVED)


class Exhibitor(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    display_name = models.CharField(_("display name"), max_length=120)
    legal_name = models.CharField(_("legal name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=140, unique=True)
    country = CountryField(_("country"))
    province = models.CharField(_("province / state"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    website = models.URLField(_("website"), blank=True)
    year_founded = models.PositiveSmallIntegerField(
        _("year founded"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1800), MaxValueValidator(2100)],
    )
    main_categories = models.ManyToManyField(
        "fair.Category", related_name="exhibitors", blank=True, verbose_name=_("main categories")
    )
    description = models.TextField(_("company description"), max_length=5000)
    business_licence = models.FileField(
        _("business licence"),
        storage=private_storage,
        upload_to=licence_upload_to,
        blank=True,
        help_text=_("PDF or image. Seen only by the organisers reviewing your application."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    status_reason = models.TextField(_("reason given"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    # Denormalised, kept up to date by livestream.services through exhibitors.services
    # (a lower app never imports a higher one): the exhibitor is streaming right now.
    is_live = models.BooleanField(_("live now"), default=False, db_index=True)
    # Denormalised, kept up to date by buyers.services (follow / unfollow).
    follower_count = models.PositiveIntegerField(_("followers"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ExhibitorQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("exhibitor")
        verbose_name_plural = _("exhibitors")
        indexes = [
            models.Index(fields=["status", "country"]),
            # The directory's first page, read in order instead of sorting every exhibitor.
            models.Index(fields=["status", "display_name"], name="exhibitor_status_name_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.APPROVED


class ExhibitorMember(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        ADMIN = "admin", _("Admin")
        SALES = "sales", _("Sales")

    #: Roles that may edit the booth and the catalogue (sales staff handle buyers only).
    EDITOR_ROLES = (Role.OWNER, Role.ADMIN)

    exhibitor = models.ForeignKey(Exhibitor, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exhibitor_memberships"
    )
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.SALES)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["exhibitor", "role", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["exhibitor", "user"], name="exhibitor_member_unique")
        ]
        verbose_name = _("exhibitor staff member")
        verbose_name_plural = _("exhibitor staff")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) at {self.exhibitor}"

    @property
    def can_edit(self) -> bool:
        return self.role in self.EDITOR_ROLES


class StaffInvitation(models.Model):
    """An emailed invitation to join an exhibitor's staff. Only a hash of the token is
    stored; the link works once and expires."""

    exhibitor = models.ForeignKey(Exhibitor, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email"))
    role = models.CharField(
        _("role"), max_length=8, choices=ExhibitorMember.Role.choices, default="sales"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.exhibitor}"

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class Booth(models.Model):
    exhibitor = models.OneToOneField(Exhibitor, on_delete=models.CASCADE, related_name="booth")
    tagline = models.CharField(_("tagline"), max_length=160, blank=True)
    story = models.TextField(
        _("company story"),
        max_length=20000,
        blank=True,
        help_text=_("Plain paragraphs; separate them with an empty line. Links are shown as text."),
    )
    logo = models.ImageField(_("logo"), upload_to=booth_media_upload_to, blank=True)
    banner = models.ImageField(_("banner"), upload_to=booth_media_upload_to, blank=True)
    panorama = models.ImageField(
        _("360° panorama"),
        upload_to=booth_media_upload_to,
        blank=True,
        help_text=_("An equirectangular photo of your showroom or factory (2:1 width to height)."),
    )
    video_url = models.URLField(
        _("intro video URL"),
        blank=True,
        help_text=_("An https link to an MP4 or HLS video."),
    )
    section = models.ForeignKey(
        "fair.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        limit_choices_to={"kind": "section"},
        related_name="booths",
        verbose_name=_("exhibition section"),
    )
    certificates = models.JSONField(_("certificates"), default=list, blank=True)
    contact_person = models.CharField(_("contact person"), max_length=120, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    is_published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("booth")
        verbose_name_plural = _("booths")

    def __str__(self) -> str:
        return f"Booth of {self.exhibitor}"

    def story_paragraphs(self) -> list[str]:
        return [p.strip() for p in self.story.replace("\r\n", "\n").split("\n\n") if p.strip()]


class Incoterm(models.TextChoices):
    EXW = "EXW", "EXW"
    FCA = "FCA", "FCA"
    FAS = "FAS", "FAS"
    FOB = "FOB", "FOB"
    CFR = "CFR", "CFR"
    CIF = "CIF", "CIF"
    CPT = "CPT", "CPT"
    CIP = "CIP", "CIP"
    DAP = "DAP", "DAP"
    DPU = "DPU", "DPU"
    DDP = "DDP", "DDP"


# ISO 4217 codes accepted for prices (the currencies traded at the fair).
CURRENCIES = [
    "USD", "EUR", "CNY", "GBP", "JPY", "HKD", "SAR", "AED", "RUB", "INR", "BRL", "MXN",
    "AUD", "CAD", "CHF", "KRW", "SGD", "TRY", "ZAR", "NGN", "EGP", "IDR", "THB", "VND",
    "MYR", "PHP", "PKR", "PLN", "SEK", "NOK", "DKK", "NZD", "CLP", "COP", "PEN", "ARS",
    "KZT", "UAH", "ILS", "QAR", "KWD", "OMR", "BHD", "JOD", "MAD", "KES", "BDT",
]  # fmt: skip

hs_code_validator = RegexValidator(
    r"^\d{4}(\.?\d{2}){1,3}$",
    _("An HS code has 6 to 10 digits, e.g. 8528.72 or 85287200."),
    code="invalid_hs_code",
)
sku_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$",
    _("Use letters, digits and . _ - / only (up to 64 characters)."),
    code="invalid_sku",
)


def validate_currency(value: str) -> None:
    if value not in CURRENCIES:
        raise ValidationError(
            _("“%(value)s” is not a supported ISO 4217 currency code."),
            params={"value": value},
            code="invalid_currency",
        )


class ProductQuerySet(models.QuerySet):
    def public(self):
        """Products anyone may see: published, of an approved exhibitor."""
        return self.filter(is_published=True, exhibitor__status=Exhibitor.Status.APPROVED)


class Product(models.Model):
    class Samples(models.TextChoices):
        NONE = "none", _("No samples")
        FREE = "free", _("Free samples")
        PAID = "paid", _("Paid samples")

    exhibitor = models.ForeignKey(Exhibitor, on_delete=models.CASCADE, related_name="products")
    sku = models.CharField(_("SKU"), max_length=64, validators=[sku_validator])
    category = models.ForeignKey(
        "fair.Category",
        on_delete=models.PROTECT,
        limit_choices_to={"kind": "section"},
        related_name="products",
        verbose_name=_("category"),
        error_messages={"invalid": _("Choose an exhibition section, not a top-level category.")},
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), max_length=10000, blank=True)
    specs = models.JSONField(
        _("specifications"), default=list, blank=True, help_text=_("Pairs of name and value.")
    )
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    moq = models.PositiveIntegerField(_("minimum order quantity"), default=1)
    moq_unit = models.CharField(_("unit"), max_length=20, default="pieces")
    price_min = models.DecimalField(
        _("FOB price from"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    price_max = models.DecimalField(
        _("FOB price to"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(
        _("currency"), max_length=3, default="USD", validators=[validate_currency]
    )
    incoterm = models.CharField(
        _("Incoterm"), max_length=3, choices=Incoterm.choices, default=Incoterm.FOB
    )
    port_of_loading = models.CharField(_("port of loading"), max_length=100, blank=True)
    lead_time_days = models.PositiveSmallIntegerField(
        _("lead time (days)"), null=True, blank=True, validators=[MaxValueValidator(720)]
    )
    hs_code = models.CharField(
        _("HS code"), max_length=13, blank=True, validators=[hs_code_validator]
    )
    certifications = models.JSONField(_("certifications"), default=list, blank=True)
    samples = models.CharField(
        _("samples"), max_length=8, choices=Samples.choices, default=Samples.NONE
    )
    is_new_launch = models.BooleanField(_("new launch"), default=False)
    is_published = models.BooleanField(_("published"), default=False)
    model_3d = models.FileField(_("3D model (GLB)"), upload_to=product_media_upload_to, blank=True)
    # Maintained by exhibitors.search (PostgreSQL only); weighted name > category/keywords
    # > description.
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(
                fields=["exhibitor", "sku"],
                name="product_sku_unique_per_exhibitor",
                violation_error_message=_("You already have a product with this SKU."),
            ),
            models.CheckConstraint(
                condition=Q(price_min__isnull=True)
                | Q(price_max__isnull=True)
                | Q(price_max__gte=models.F("price_min")),
                name="product_price_range_ordered",
                violation_error_message=_("The highest price must not be below the lowest."),
            ),
        ]
        indexes = [
            models.Index(fields=["exhibitor", "is_published"]),
            models.Index(fields=["category", "is_published"]),
            # "New launches" filters of the directory: a small slice of 1.8 M products.
            models.Index(
                fields=["exhibitor"],
                name="product_new_launch_idx",
                condition=Q(is_new_launch=True, is_published=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    def clean(self) -> None:
        super().clean()
        if (
            self.price_min is not None
            and self.price_max is not None
            and self.price_max < self.price_min
        ):
            raise ValidationError(
                {"price_max": _("The highest price must not be below the lowest.")}
            )


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("image"), upload_to=product_media_upload_to)
    thumbnail = models.ImageField(upload_to=product_media_upload_to, blank=True)
    alt_text = models.CharField(_("description for screen readers"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.alt_text or f"Image {self.pk} of {self.product}"


class ImportJob(models.Model):
    """One bulk import of products from a CSV or XLSX file, run by a Celery task."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Finished")
        FAILED = "failed", _("Failed")

    exhibitor = models.ForeignKey(Exhibitor, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file = models.FileField(storage=private_storage, upload_to="imports/")
    original_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=4, choices=[("csv", "CSV"), ("xlsx", "XLSX")])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # [{"row": 7, "column": "price_min", "message": "..."}], capped in size by the importer.
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True, help_text="A file-level error, if any.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.original_name} ({self.status})"


class BoothVisitDay(models.Model):
    """Views per exhibitor per day (UTC), flushed from Redis counters by a beat task: no
    database write per page view."""

    exhibitor = models.ForeignKey(Exhibitor, on_delete=models.CASCADE, related_name="visit_days")
    day = models.DateField()
    booth_views = models.PositiveIntegerField(default=0)
    product_views = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["exhibitor", "day"], name="booth_visit_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.exhibitor} on {self.day}: {self.booth_views} booth views"


class BoothVisitor(models.Model):
    """A signed-in buyer who visited the booth or its products (kept for every buyer; shown
    to the exhibitor only while the buyer's consent is on)."""

    exhibitor = models.ForeignKey(Exhibitor, on_delete=models.CASCADE, related_name="visitors")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="booth_visits"
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    visits = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["exhibitor", "user"], name="booth_visitor_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} visited {self.exhibitor} ({self.visits}x)"
