"""Exhibitor test data, built through the real services."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from exhibitors import services
from exhibitors.models import Exhibitor, ExhibitorMember, Product
from fair.models import Category, User
from tests.factories import make_organiser, make_user, unique_email


def png_bytes(size=(64, 48), color=(200, 30, 30), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(size=(64, 48), color=(20, 120, 200), exif: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    if exif is not None:
        image.save(buffer, format="JPEG", exif=exif)
    else:
        image.save(buffer, format="JPEG")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def section(slug: str = "household-appliances") -> Category:
    return Category.objects.get(slug=slug)


def make_exhibitor(
    *,
    owner: User | None = None,
    name: str = "Sunrise Electronics",
    country: str = "CN",
    approved: bool = True,
    organiser: User | None = None,
) -> Exhibitor:
    owner = owner or make_user(email=unique_email("owner"), full_name="Olga Owner")
    exhibitor = services.exhibitor_apply(
        user=owner,
        display_name=name,
        legal_name=f"{name} Co., Ltd.",
        country=country,
        description="We make televisions.",
        main_categories=Category.objects.filter(slug="electronics-appliances"),
        business_licence=upload("licence.pdf", pdf_bytes()),
    )
    if approved:
        services.exhibitor_approve(actor=organiser or make_organiser(), exhibitor_id=exhibitor.pk)
        exhibitor.refresh_from_db()
    return exhibitor


def add_member(exhibitor: Exhibitor, role: str, **user_kwargs) -> User:
    user = make_user(email=unique_email(role), **user_kwargs)
    ExhibitorMember.objects.create(exhibitor=exhibitor, user=user, role=role)
    return user


def owner_of(exhibitor: Exhibitor) -> User:
    return exhibitor.members.get(role=ExhibitorMember.Role.OWNER).user


def product_data(**overrides) -> dict:
    data = {
        "sku": "TV-55-4K",
        "category": section(),
        "name": "55-inch 4K Smart TV",
        "description": "A bright television for big rooms.",
        "specs": [["Screen size", "55 in"], ["Resolution", "3840x2160"]],
        "keywords": "television, smart tv",
        "moq": 100,
        "moq_unit": "pieces",
        "price_min": Decimal("180.00"),
        "price_max": Decimal("220.00"),
        "currency": "USD",
        "incoterm": "FOB",
        "port_of_loading": "Guangzhou",
        "lead_time_days": 30,
        "hs_code": "8528.72",
        "certifications": ["CE", "RoHS"],
        "samples": "paid",
        "is_new_launch": True,
    }
    data.update(overrides)
    return data


def make_product(exhibitor: Exhibitor, *, published: bool = True, **overrides) -> Product:
    data = product_data(**overrides)
    data["is_published"] = published
    return services.product_create(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk, data=data)
