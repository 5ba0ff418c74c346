"""The fair-wide core: accounts, fair editions and the category tree."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

ORGANISERS_GROUP = "organisers"


def validate_time_zone(value: str) -> None:
    if value not in available_time_zones():
        raise ValidationError(
            _("“%(value)s” is not a known time zone. Pick one such as Asia/Riyadh."),
            params={"value": value},
            code="invalid_time_zone",
        )


_TIME_ZONES: frozenset[str] | None = None


def available_time_zones() -> frozenset[str]:
    global _TIME_ZONES
    if _TIME_ZONES is None:
        _TIME_ZONES = frozenset(zoneinfo.available_timezones())
    return _TIME_ZONES


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str) -> User:
        # Email is the login and is matched without regard to letter case.
        return self.get(email__iexact=username)

    def _create_user(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).strip(), **extra)
        user.set_password(password)
        # The database constraint on Lower(email) decides uniqueness (callers turn its
        # IntegrityError into a message), so constraints are not pre-checked here.
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: buyer, exhibitor staff or organiser (roles come from memberships)."""

    email = models.EmailField(_("email address"), max_length=254)
    full_name = models.CharField(_("full name"), max_length=150)
    language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("IANA name such as Asia/Riyadh. Leave empty to use your browser's zone."),
    )
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Can log in to the Django admin."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="fair_user_email_ci_unique",
                violation_error_message=_("An account with this email address already exists."),
            )
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_organiser(self) -> bool:
        if not self.is_authenticated or not self.is_active:
            return False
        if self.is_superuser:
            return True
        cached = getattr(self, "_is_organiser", None)
        if cached is None:
            cached = self.groups.filter(name=ORGANISERS_GROUP).exists()
            self._is_organiser = cached
        return cached


class FairEditionQuerySet(models.QuerySet):
    def current(self) -> FairEdition | None:
        """The edition running now, else the next one, else the most recent one."""
        now = timezone.now()
        return (
            self.filter(ends_at__gte=now).order_by("starts_at").first()
            or self.order_by("-ends_at").first()
        )


class FairEdition(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    starts_at = models.DateTimeField(_("opens"))
    ends_at = models.DateTimeField(_("closes"))
    time_zone = models.CharField(
        _("home time zone"),
        max_length=64,
        default="Asia/Shanghai",
        validators=[validate_time_zone],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FairEditionQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("fair edition")
        verbose_name_plural = _("fair editions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="fair_edition_ends_after_start",
                violation_error_message=_("The fair must close after it opens."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def is_open(self, at=None) -> bool:
        at = at or timezone.now()
        return self.starts_at <= at < self.ends_at


class Category(models.Model):
    """A node of the product tree: a top-level category or an exhibition section (a leaf).

    ``names`` holds the translations keyed by language code; ``name`` is the English one."""

    class Kind(models.TextChoices):
        CATEGORY = "category", _("Product category")
        SECTION = "section", _("Exhibition section")

    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name = models.CharField(_("name (English)"), max_length=120)
    names = models.JSONField(_("translated names"), default=dict, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="category", parent__isnull=True)
                    | models.Q(kind="section", parent__isnull=False)
                ),
                name="fair_category_sections_have_parents",
                violation_error_message=_(
                    "A product category is top-level; an exhibition section needs a category."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the active language, falling back to English."""
        language = translation.get_language() or settings.LANGUAGE_CODE
        return self.names.get(language) or self.names.get(language.split("-")[0]) or self.name


class Notice(models.Model):
    """An in-app notice for one user ("Starting in 15 minutes: ..."), shown on their pages
    until read. The text is stored already translated into the user's language."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.text


class Hall(models.Model):
    """A hall of a fair edition (e.g. "Hall 11.1"), hosting some exhibition sections.

    A booth belongs to a section, so its hall follows from the section."""

    edition = models.ForeignKey(
        FairEdition, on_delete=models.CASCADE, related_name="halls", verbose_name=_("edition")
    )
    code = models.CharField(_("code"), max_length=20, help_text=_("Short code, e.g. 11.1"))
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    sections = models.ManyToManyField(
        Category,
        blank=True,
        related_name="halls",
        limit_choices_to={"kind": Category.Kind.SECTION},
        verbose_name=_("exhibition sections"),
    )

    class Meta:
        ordering = ["edition", "position", "code"]
        verbose_name = _("hall")
        verbose_name_plural = _("halls")
        constraints = [
            models.UniqueConstraint(
                fields=["edition", "code"],
                name="fair_hall_code_unique_per_edition",
                violation_error_message=_("This edition already has a hall with this code."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Announcement(models.Model):
    """An organiser's message to everyone at the fair, or to exhibitors or buyers only.

    It appears at once as a banner on every open page of its audience (websocket) and on
    every page they load until it expires or is withdrawn; an optional email goes out in
    batches through Celery."""

    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        EXHIBITORS = "exhibitors", _("Exhibitors")
        BUYERS = "buyers", _("Buyers")

    class EmailStatus(models.TextChoices):
        NONE = "none", _("No email")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    title = models.CharField(_("title"), max_length=140)
    body = models.TextField(_("text"), max_length=2000, blank=True)
    audience = models.CharField(
        _("audience"), max_length=16, choices=Audience.choices, default=Audience.EVERYONE
    )
    url = models.URLField(_("link"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    created_at = models.DateTimeField(_("published"), auto_now_add=True)
    expires_at = models.DateTimeField(_("shown until"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    send_email = models.BooleanField(_("also send by email"), default=False)
    email_status = models.CharField(
        _("email"), max_length=16, choices=EmailStatus.choices, default=EmailStatus.NONE
    )
    email_total = models.PositiveIntegerField(_("emails to send"), default=0)
    email_sent = models.PositiveIntegerField(_("emails sent"), default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        indexes = [models.Index(fields=["-created_at"], name="fair_announcement_recent")]

    def __str__(self) -> str:
        return self.title

    def is_showing(self, at=None) -> bool:
        at = at or timezone.now()
        return self.withdrawn_at is None and (self.expires_at is None or self.expires_at > at)


class AuditEntry(models.Model):
    """One decision of an organiser (or staff moderator): who did what to what, when and
    why. Append-only: PostgreSQL refuses UPDATE and DELETE on the table (a trigger), and no
    interface offers either. The actor's email is copied so the entry outlives the account."""

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_email = models.CharField(_("who (email)"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=64)
    target_type = models.CharField(_("object type"), max_length=64, blank=True)
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_label = models.CharField(_("object"), max_length=200, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["action", "-created_at"], name="fair_audit_action_recent"),
            models.Index(fields=["target_type", "target_id"], name="fair_audit_target"),
            models.Index(fields=["actor", "-created_at"], name="fair_audit_actor_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_email} {self.action}"


class TotpDevice(models.Model):
    """A user's authenticator app (TOTP, RFC 6238). The secret is kept encrypted; the last
    time step accepted is remembered so a code works once only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    secret_encrypted = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    def __str__(self) -> str:
        return f"TOTP of {self.user_id}"
