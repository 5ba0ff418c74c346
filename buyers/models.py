"""Buyers: the profile every buyer account carries (follows, reminders and sourcing requests
arrive with their own issues)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField


class BuyerProfile(models.Model):
    class BuyerType(models.TextChoices):
        IMPORTER = "importer", _("Importer")
        WHOLESALER = "wholesaler", _("Wholesaler / distributor")
        RETAILER = "retailer", _("Retailer")
        ECOMMERCE = "ecommerce", _("E-commerce platform")
        OTHER = "other", _("Other")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="buyer_profile",
        verbose_name=_("user"),
    )
    company = models.CharField(_("company"), max_length=200)
    country = CountryField(_("country"))
    buyer_type = models.CharField(
        _("buyer type"), max_length=16, choices=BuyerType.choices, default=BuyerType.IMPORTER
    )
    interests = models.ManyToManyField(
        "fair.Category",
        blank=True,
        related_name="interested_buyers",
        verbose_name=_("interests"),
    )
    # Both consents are off until the buyer turns them on (privacy by default).
    show_identity_in_rooms = models.BooleanField(
        _("show my name and company to exhibitors whose stream rooms I am in"),
        default=False,
    )
    share_contact_in_negotiations = models.BooleanField(
        _("share my contact details with exhibitors I negotiate with"),
        default=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("buyer profile")
        verbose_name_plural = _("buyer profiles")
        ordering = ["company"]

    def __str__(self) -> str:
        return f"{self.company} ({self.user.email})"


class Follow(models.Model):
    """A buyer follows a booth (exhibitor). ``Exhibitor.follower_count`` is kept in step by
    buyers.services."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    exhibitor = models.ForeignKey(
        "exhibitors.Exhibitor", on_delete=models.CASCADE, related_name="follows"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "exhibitor"], name="follow_unique")]

    def __str__(self) -> str:
        return f"{self.user} follows {self.exhibitor}"
