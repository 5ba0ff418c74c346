"""Factories for the public pages, follows and visits tests: data built through the real
services (apply, approve, booth update and publish, product create)."""

from __future__ import annotations

import io
import itertools
import re
import struct

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from exhibitors import services
from exhibitors.models import Exhibitor, ExhibitorMember, Product
from fair.models import Category, User
from tests.factories import make_organiser, make_user, unique_email

_counter = itertools.count(1)


def organiser() -> User:
    return make_organiser()


def section(slug: str | None = None) -> Category:
    queryset = Category.objects.filter(kind=Category.Kind.SECTION).order_by("position", "pk")
    return queryset.get(slug=slug) if slug else queryset.first()


def other_section(than: Category) -> Category:
    return (
        Category.objects.filter(kind=Category.Kind.SECTION)
        .exclude(parent_id=than.parent_id)
        .order_by("position", "pk")
        .first()
    )


def make_exhibitor(
    *,
    name: str | None = None,
    status: str = "approved",
    published: bool = True,
    country: str = "CN",
    city: str = "Guangzhou",
    tagline: str = "Quality lighting since 1998",
    story: str = "We make LED lamps.\n\nOur factory has 300 workers.",
    booth_section: Category | None = None,
    owner: User | None = None,
    **booth_data,
) -> tuple[Exhibitor, User]:
    """An exhibitor in ``status`` with a booth (published if asked and allowed), and its
    owner."""
    n = next(_counter)
    owner = owner or make_user(email=unique_email("owner"), full_name=f"Owner {n}")
    exhibitor = services.exhibitor_apply(
        user=owner,
        display_name=name or f"Exhibitor {n:03d}",
        legal_name=f"Exhibitor {n} Co., Ltd.",
        country=country,
        city=city,
        description="A manufacturer.",
    )
    data = {"tagline": tagline, "story": story, "section": booth_section or section()}
    data.update(booth_data)
    services.booth_update(user=owner, exhibitor_id=exhibitor.pk, data=data)
    if published:
        services.booth_publish(user=owner, exhibitor_id=exhibitor.pk, published=True)
    if status in ("approved", "suspended"):
        services.exhibitor_approve(actor=organiser(), exhibitor_id=exhibitor.pk)
    if status == "suspended":
        services.exhibitor_suspend(actor=organiser(), exhibitor_id=exhibitor.pk, reason="Audit")
    if status == "rejected":
        services.exhibitor_reject(actor=organiser(), exhibitor_id=exhibitor.pk, reason="No licence")
    exhibitor.refresh_from_db()
    return exhibitor, owner


def png_upload(name: str = "photo.png", size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def glb_upload() -> SimpleUploadedFile:
    body = b'{"asset":{"version":"2.0"}}   '
    chunk = struct.pack("<I4s", len(body), b"JSON") + body
    data = struct.pack("<4sII", b"glTF", 2, 12 + len(chunk)) + chunk
    return SimpleUploadedFile("model.glb", data, content_type="model/gltf-binary")


def make_product(
    exhibitor: Exhibitor,
    owner: User,
    *,
    name: str | None = None,
    published: bool = True,
    images: int = 0,
    category: Category | None = None,
    **data,
) -> Product:
    n = next(_counter)
    values = {
        "sku": f"SKU-{n}",
        "name": name or f"Product {n}",
        "category": category or section(),
        "description": "A fine product.",
        "moq": 100,
        "moq_unit": "pieces",
        "is_published": published,
    }
    values.update(data)
    product = services.product_create(user=owner, exhibitor_id=exhibitor.pk, data=values)
    for i in range(images):
        services.product_image_add(
            user=owner, product_id=product.pk, upload=png_upload(), alt_text=f"View {i + 1}"
        )
    return product


def add_staff(
    exhibitor: Exhibitor, owner: User, *, role: str, django_capture_on_commit_callbacks
) -> User:
    """A colleague invited by email and accepting through the real invitation flow."""
    member = make_user(email=unique_email(role), full_name=f"{role.title()} Staff")
    with django_capture_on_commit_callbacks(execute=True):
        services.staff_invite(
            actor=owner,
            exhibitor_id=exhibitor.pk,
            email=member.email,
            role=role,
            base_url="http://testserver",
        )
    token = re.search(r"/exhibit/invitations/([^/\s]+)/", mail.outbox[-1].body).group(1)
    services.staff_invitation_accept(user=member, token=token)
    assert ExhibitorMember.objects.filter(exhibitor=exhibitor, user=member, role=role).exists()
    return member
