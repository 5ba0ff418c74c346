"""Factories of the exhibitors API tests (part D). Companies, booths and
products are built through the real services; staff memberships are plain rows (the
invitation flow has its own tests)."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from exhibitors.models import Exhibitor, ExhibitorMember, Product
from exhibitors.services import (
    booth_publish,
    booth_update,
    exhibitor_apply,
    exhibitor_approve,
    product_create,
)
from fair.models import Category, User
from tests.factories import make_buyer, make_organiser, make_user

SECTION = "household-appliances"
OTHER_SECTION = "lighting-equipment"
CATEGORY = "electronics-appliances"


def make_exhibitor(
    *,
    name: str = "Acme Appliances",
    owner: User | None = None,
    country: str = "CN",
    approve: bool = True,
    organiser: User | None = None,
) -> Exhibitor:
    owner = owner or make_user(full_name=f"Owner of {name}")
    exhibitor = exhibitor_apply(
        user=owner,
        display_name=name,
        legal_name=f"{name} Co., Ltd.",
        country=country,
        city="Foshan",
        description=f"{name} makes appliances.",
        main_categories=[Category.objects.get(slug=CATEGORY)],
    )
    if approve:
        exhibitor_approve(actor=organiser or make_organiser(), exhibitor_id=exhibitor.pk)
        exhibitor.refresh_from_db()
    return exhibitor


def owner_of(exhibitor: Exhibitor) -> User:
    return exhibitor.members.get(role=ExhibitorMember.Role.OWNER).user


def add_staff(exhibitor: Exhibitor, role: str, *, full_name: str = "Staff Member") -> User:
    user = make_user(full_name=full_name)
    ExhibitorMember.objects.create(exhibitor=exhibitor, user=user, role=role)
    return user


def publish_booth(exhibitor: Exhibitor, **fields) -> None:
    owner = owner_of(exhibitor)
    data = {
        "tagline": "Appliances since 1998",
        "story": "We build fridges.\n\nAnd washing machines.",
        "section": Category.objects.get(slug=fields.pop("section", SECTION)),
        "contact_person": "Li Wei",
        "contact_email": "sales@acme.example",
        "contact_phone": "+86 757 1234 5678",
        **fields,
    }
    booth_update(user=owner, exhibitor_id=exhibitor.pk, data=data)
    booth_publish(user=owner, exhibitor_id=exhibitor.pk, published=True)


def make_product(exhibitor: Exhibitor, *, sku: str = "FR-100", published: bool = True, **data):
    fields = {
        "sku": sku,
        "name": f"Fridge {sku}",
        "category": Category.objects.get(slug=SECTION),
        "moq": 50,
        "price_min": "120.00",
        "price_max": "150.00",
        "is_published": published,
        **data,
    }
    return product_create(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk, data=fields)


def image_bytes(*, size=(64, 48), fmt="JPEG", color=(200, 30, 30)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, color).save(output, format=fmt)
    return output.getvalue()


def jpeg_upload(name: str = "photo.jpg", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(**kwargs), content_type="image/jpeg")


def html_as_jpeg(name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, b"<html><script>alert(1)</script></html>", content_type="image/jpeg"
    )


def glb_bytes() -> bytes:
    json_chunk = b'{"asset":{"version":"2.0"}}  '  # padded to a multiple of 4
    body = struct.pack("<II", len(json_chunk), 0x4E4F534A) + json_chunk
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def client_for(user: User | None, *, csrf: bool = False) -> APIClient:
    client = APIClient(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client


@dataclass
class Fair:
    """Company A (approved, with every staff role), company B (approved) and outsiders."""

    company: Exhibitor
    owner: User
    admin: User
    sales: User
    other: Exhibitor
    other_owner: User
    buyer: User
    organiser: User

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


def build_fair() -> Fair:
    organiser = make_organiser()
    company = make_exhibitor(name="Acme Appliances", organiser=organiser)
    other = make_exhibitor(name="Bolt Lighting", country="VN", organiser=organiser)
    return Fair(
        company=company,
        owner=owner_of(company),
        admin=add_staff(company, ExhibitorMember.Role.ADMIN, full_name="Ada Admin"),
        sales=add_staff(company, ExhibitorMember.Role.SALES, full_name="Sam Sales"),
        other=other,
        other_owner=owner_of(other),
        buyer=make_buyer(),
        organiser=organiser,
    )


def product_state(product: Product) -> dict:
    """Every stored field of a product, to show that a refused request changed nothing."""
    product = Product.objects.get(pk=product.pk)
    return {
        field.name: getattr(product, field.attname)
        for field in Product._meta.concrete_fields
        if field.name != "search_vector"
    } | {"images": list(product.images.values_list("pk", "alt_text", "position"))}


# Roles that are not staff of company A (they get 404 on its private objects).
OUTSIDERS = ("other_owner", "buyer", "organiser")


def drf_time(value) -> str:
    """A time as the API writes it: in the fair's time zone for callers without their own."""
    return value.astimezone(ZoneInfo(settings.FAIR_DEFAULT_TIME_ZONE)).isoformat()


def category_ref(slug: str) -> dict:
    return {"slug": slug, "name": Category.objects.get(slug=slug).name}
