"""Rules of the exhibitors services: applications, review, staff, booth and products."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from exhibitors import services
from exhibitors.models import Booth, Exhibitor, ExhibitorMember, Product, StaffInvitation
from fair.exceptions import ApplicationError, Forbidden, NotFound
from tests.exhibitors.factories import (
    add_member,
    jpeg_bytes,
    make_exhibitor,
    make_product,
    owner_of,
    pdf_bytes,
    png_bytes,
    product_data,
    upload,
)
from tests.factories import make_buyer, make_organiser, make_user

pytestmark = pytest.mark.django_db


def test_exhibitor_apply_valid_creates_pending_company_with_owner_and_booth():
    owner = make_user(full_name="Wang Wei")
    exhibitor = make_exhibitor(owner=owner, approved=False)
    assert exhibitor.status == Exhibitor.Status.PENDING
    assert exhibitor.slug == "sunrise-electronics"
    assert list(exhibitor.members.values_list("user_id", "role")) == [(owner.pk, "owner")]
    assert Booth.objects.filter(exhibitor=exhibitor, is_published=False).count() == 1
    assert exhibitor.business_licence.name.startswith("licences/")
    assert exhibitor.business_licence.name.endswith(".pdf")
    assert "licence" not in exhibitor.business_licence.name.split("/")[-1]


def test_exhibitor_apply_same_name_gets_distinct_slug():
    first = make_exhibitor(approved=False)
    second = make_exhibitor(approved=False)
    assert (first.slug, second.slug) == ("sunrise-electronics", "sunrise-electronics-2")


def test_exhibitor_apply_licence_not_pdf_or_image_is_refused_and_nothing_created():
    owner = make_user()
    with pytest.raises(ValidationError) as raised:
        services.exhibitor_apply(
            user=owner,
            display_name="Bad Docs Ltd",
            legal_name="Bad Docs Ltd",
            country="CN",
            description="x",
            business_licence=upload("licence.pdf", b"MZ\x90\x00 this is an exe"),
        )
    assert raised.value.messages == ["Upload a PDF or a JPEG, PNG or WebP image."]
    assert Exhibitor.objects.count() == 0
    assert ExhibitorMember.objects.count() == 0


def test_exhibitor_approve_by_organiser_emails_owner(django_capture_on_commit_callbacks):
    exhibitor = make_exhibitor(approved=False)
    organiser = make_organiser()
    mail.outbox.clear()
    with pytest.raises(Forbidden):
        services.exhibitor_approve(actor=owner_of(exhibitor), exhibitor_id=exhibitor.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.exhibitor_approve(actor=organiser, exhibitor_id=exhibitor.pk)
    exhibitor.refresh_from_db()
    assert exhibitor.status == "approved"
    assert exhibitor.reviewed_by == organiser
    assert [m.to for m in mail.outbox] == [[owner_of(exhibitor).email]]
    assert "approved" in mail.outbox[0].subject


def test_exhibitor_reject_requires_reason_and_reason_reaches_applicant(
    django_capture_on_commit_callbacks,
):
    exhibitor = make_exhibitor(approved=False)
    organiser = make_organiser()
    with pytest.raises(ApplicationError):
        services.exhibitor_reject(actor=organiser, exhibitor_id=exhibitor.pk, reason="  ")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.exhibitor_reject(
            actor=organiser, exhibitor_id=exhibitor.pk, reason="Licence is unreadable."
        )
    exhibitor.refresh_from_db()
    assert (exhibitor.status, exhibitor.status_reason) == ("rejected", "Licence is unreadable.")
    assert "Licence is unreadable." in mail.outbox[0].body


def test_exhibitor_suspend_only_from_approved_and_reinstate_restores():
    exhibitor = make_exhibitor(approved=False)
    organiser = make_organiser()
    with pytest.raises(ApplicationError):
        services.exhibitor_suspend(actor=organiser, exhibitor_id=exhibitor.pk, reason="Spam")
    services.exhibitor_approve(actor=organiser, exhibitor_id=exhibitor.pk)
    services.exhibitor_suspend(actor=organiser, exhibitor_id=exhibitor.pk, reason="Spam")
    assert Exhibitor.objects.get(pk=exhibitor.pk).status == "suspended"
    services.exhibitor_reinstate(actor=organiser, exhibitor_id=exhibitor.pk)
    assert Exhibitor.objects.get(pk=exhibitor.pk).status == "approved"


def test_access_exhibitor_other_company_staff_gets_not_found():
    exhibitor = make_exhibitor()
    other = make_exhibitor(name="Other Co")
    with pytest.raises(NotFound):
        services.product_create(
            user=owner_of(other), exhibitor_id=exhibitor.pk, data=product_data()
        )
    assert Product.objects.count() == 0


def test_staff_invite_and_accept_adds_member_once(django_capture_on_commit_callbacks):
    exhibitor = make_exhibitor()
    owner = owner_of(exhibitor)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.staff_invite(
            actor=owner,
            exhibitor_id=exhibitor.pk,
            email="Li.Na@Example.test",
            role="sales",
            base_url="http://testserver/",
        )
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/invitations/" in line)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    invitation = StaffInvitation.objects.get()
    assert token not in invitation.token_hash  # only the hash is stored
    colleague = make_user(email="li.na@example.test")
    member = services.staff_invitation_accept(user=colleague, token=token)
    assert (member.exhibitor_id, member.role) == (exhibitor.pk, "sales")
    with pytest.raises(ApplicationError) as raised:
        services.staff_invitation_accept(user=colleague, token=token)
    assert raised.value.code == "invitation_invalid"
    assert exhibitor.members.filter(user=colleague).count() == 1


def test_staff_invitation_accept_wrong_email_or_expired_is_refused(
    django_capture_on_commit_callbacks,
):
    exhibitor = make_exhibitor()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.staff_invite(
            actor=owner_of(exhibitor),
            exhibitor_id=exhibitor.pk,
            email="right@example.test",
            role="admin",
            base_url="http://testserver/",
        )
    token = mail.outbox[0].body.split("/invitations/")[1].split("/")[0]
    with pytest.raises(ApplicationError) as raised:
        services.staff_invitation_accept(user=make_user(email="wrong@example.test"), token=token)
    assert raised.value.code == "invitation_wrong_user"
    StaffInvitation.objects.update(expires_at="2000-01-01T00:00:00Z")
    with pytest.raises(ApplicationError) as raised:
        services.staff_invitation_accept(user=make_user(email="right@example.test"), token=token)
    assert raised.value.code == "invitation_invalid"
    assert exhibitor.members.count() == 1


def test_staff_invite_by_sales_is_forbidden_and_admin_cannot_invite_owner():
    exhibitor = make_exhibitor()
    sales = add_member(exhibitor, "sales")
    admin = add_member(exhibitor, "admin")
    with pytest.raises(Forbidden):
        services.staff_invite(
            actor=sales,
            exhibitor_id=exhibitor.pk,
            email="x@example.test",
            role="sales",
            base_url="http://testserver/",
        )
    with pytest.raises(Forbidden):
        services.staff_invite(
            actor=admin,
            exhibitor_id=exhibitor.pk,
            email="x@example.test",
            role="owner",
            base_url="http://testserver/",
        )
    assert StaffInvitation.objects.count() == 0


def test_staff_remove_last_owner_is_refused_and_second_owner_allows_it():
    exhibitor = make_exhibitor()
    owner = owner_of(exhibitor)
    owner_member = exhibitor.members.get(user=owner)
    with pytest.raises(ApplicationError) as raised:
        services.staff_remove(actor=owner, member_id=owner_member.pk)
    assert raised.value.code == "last_owner"
    with pytest.raises(ApplicationError):
        services.staff_role_change(actor=owner, member_id=owner_member.pk, role="admin")
    second = add_member(exhibitor, "owner")
    services.staff_remove(actor=second, member_id=owner_member.pk)
    assert list(exhibitor.members.values_list("user_id", flat=True)) == [second.pk]


def test_staff_remove_admin_removes_sales_but_not_owner():
    exhibitor = make_exhibitor()
    admin = add_member(exhibitor, "admin")
    sales = add_member(exhibitor, "sales")
    owner_member = exhibitor.members.get(role="owner")
    with pytest.raises(Forbidden):
        services.staff_remove(actor=admin, member_id=owner_member.pk)
    services.staff_remove(actor=admin, member_id=exhibitor.members.get(user=sales).pk)
    assert set(exhibitor.members.values_list("role", flat=True)) == {"owner", "admin"}


def test_booth_update_sales_staff_forbidden_and_nothing_changes():
    exhibitor = make_exhibitor()
    sales = add_member(exhibitor, "sales")
    with pytest.raises(Forbidden):
        services.booth_update(user=sales, exhibitor_id=exhibitor.pk, data={"tagline": "Hacked"})
    assert Booth.objects.get(exhibitor=exhibitor).tagline == ""


def test_booth_update_images_are_reencoded_under_generated_names():
    exhibitor = make_exhibitor()
    booth = services.booth_update(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        data={"tagline": "TVs for every wall"},
        files={"logo": upload("../../etc/passwd.png", png_bytes())},
    )
    assert booth.tagline == "TVs for every wall"
    assert booth.logo.name.startswith(f"booths/{exhibitor.pk}/")
    assert "passwd" not in booth.logo.name and ".." not in booth.logo.name
    assert booth.logo.name.endswith(".jpg")


def test_booth_update_bad_image_changes_nothing():
    exhibitor = make_exhibitor()
    with pytest.raises(ValidationError) as raised:
        services.booth_update(
            user=owner_of(exhibitor),
            exhibitor_id=exhibitor.pk,
            data={"tagline": "Should not be saved"},
            files={"banner": upload("banner.jpg", b"<html><script>alert(1)</script></html>")},
        )
    assert raised.value.message_dict == {
        "banner": ["This file is not a JPEG, PNG or WebP image we can read."]
    }
    booth = Booth.objects.get(exhibitor=exhibitor)
    assert (booth.tagline, booth.banner.name) == ("", "")


def test_booth_publish_incomplete_is_refused_with_what_is_missing():
    exhibitor = make_exhibitor()
    with pytest.raises(ApplicationError) as raised:
        services.booth_publish(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk, published=True)
    assert raised.value.message == (
        "Add a tagline or a story and an exhibition section before publishing."
    )
    services.booth_update(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        data={"tagline": "Hi", "section": exhibitor.main_categories.get().children.first()},
    )
    booth = services.booth_publish(
        user=owner_of(exhibitor), exhibitor_id=exhibitor.pk, published=True
    )
    assert booth.is_published is True
    assert booth.published_at is not None


def test_product_create_valid_stores_exact_fields():
    exhibitor = make_exhibitor()
    product = make_product(exhibitor)
    product.refresh_from_db()
    assert (product.sku, product.name, product.moq, product.currency) == (
        "TV-55-4K",
        "55-inch 4K Smart TV",
        100,
        "USD",
    )
    assert (product.price_min, product.price_max) == (Decimal("180.00"), Decimal("220.00"))
    assert product.specs == [["Screen size", "55 in"], ["Resolution", "3840x2160"]]
    assert product.certifications == ["CE", "RoHS"]
    assert product.is_published is True


def test_product_create_duplicate_sku_refused_other_exhibitor_may_reuse_it():
    exhibitor = make_exhibitor()
    make_product(exhibitor)
    with pytest.raises(ValidationError) as raised:
        make_product(exhibitor, name="Another")
    assert raised.value.message_dict["sku"] == ["You already have a product with this SKU."]
    other = make_exhibitor(name="Other Co")
    make_product(other)
    assert Product.objects.filter(sku="TV-55-4K").count() == 2


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"price_min": Decimal("300"), "price_max": Decimal("100")},
            "price_max",
            "The highest price must not be below the lowest.",
        ),
        ({"hs_code": "85A"}, "hs_code", "An HS code has 6 to 10 digits, e.g. 8528.72 or 85287200."),
        ({"currency": "XXX"}, "currency", "“XXX” is not a supported ISO 4217 currency code."),
        ({"sku": "bad sku!"}, "sku", "Use letters, digits and . _ - / only (up to 64 characters)."),
    ],
)
def test_product_create_invalid_field_refused_with_message(overrides, field, message):
    exhibitor = make_exhibitor()
    with pytest.raises(ValidationError) as raised:
        make_product(exhibitor, **overrides)
    assert message in raised.value.message_dict[field]
    assert Product.objects.count() == 0


def test_product_create_top_level_category_refused():
    exhibitor = make_exhibitor()
    with pytest.raises(ValidationError) as raised:
        make_product(exhibitor, category=exhibitor.main_categories.get())
    assert raised.value.message_dict["category"] == [
        "Choose an exhibition section, not a top-level category."
    ]


def test_product_image_add_makes_thumbnail_and_strips_exif(django_capture_on_commit_callbacks):
    exhibitor = make_exhibitor()
    product = make_product(exhibitor)
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"
    with django_capture_on_commit_callbacks(execute=True):
        image = services.product_image_add(
            user=owner_of(exhibitor),
            product_id=product.pk,
            upload=upload("photo.jpg", jpeg_bytes(size=(1200, 800), exif=exif)),
            alt_text="Front view",
        )
    image.refresh_from_db()
    assert (image.width, image.height, image.alt_text) == (1200, 800, "Front view")
    assert image.thumbnail.name.endswith(".jpg")
    assert image.thumbnail.name != image.image.name
    with image.image.open("rb") as stored:
        assert b"Exif" not in stored.read()
    from PIL import Image

    with image.thumbnail.open("rb") as thumb, Image.open(thumb) as picture:
        assert picture.size == (480, 320)


def test_product_image_add_by_other_company_not_found():
    exhibitor = make_exhibitor()
    product = make_product(exhibitor)
    other = make_exhibitor(name="Other Co")
    with pytest.raises(NotFound):
        services.product_image_add(
            user=owner_of(other), product_id=product.pk, upload=upload("a.png", png_bytes())
        )
    assert product.images.count() == 0


def test_product_model_set_accepts_glb_refuses_other():
    import struct

    exhibitor = make_exhibitor()
    product = make_product(exhibitor)
    json_chunk = b'{"asset":{"version":"2.0"}}  '
    body = struct.pack("<I4s", len(json_chunk), b"JSON") + json_chunk
    glb = struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body
    with pytest.raises(ValidationError):
        services.product_model_set(
            user=owner_of(exhibitor), product_id=product.pk, upload=upload("m.glb", pdf_bytes())
        )
    updated = services.product_model_set(
        user=owner_of(exhibitor), product_id=product.pk, upload=upload("m.glb", glb)
    )
    assert updated.model_3d.name.endswith(".glb")


def test_product_delete_by_buyer_not_found_and_product_kept():
    exhibitor = make_exhibitor()
    product = make_product(exhibitor)
    with pytest.raises(NotFound):
        services.product_delete(user=make_buyer(), product_id=product.pk)
    assert Product.objects.filter(pk=product.pk).exists()
    services.product_delete(user=owner_of(exhibitor), product_id=product.pk)
    assert not Product.objects.filter(pk=product.pk).exists()


def test_products_public_excludes_unpublished_and_unapproved():
    approved = make_exhibitor()
    pending = make_exhibitor(name="Pending Co", approved=False)
    visible = make_product(approved, sku="A")
    make_product(approved, sku="B", published=False)
    make_product(pending, sku="C")
    assert list(Product.objects.public()) == [visible]
    organiser = make_organiser()
    services.exhibitor_suspend(actor=organiser, exhibitor_id=approved.pk, reason="Check")
    assert list(Product.objects.public()) == []


def test_exhibitor_member_roles_editor_flags():
    exhibitor = make_exhibitor()
    assert {m.role: m.can_edit for m in ExhibitorMember.objects.filter(exhibitor=exhibitor)} == {
        "owner": True
    }
    sales = add_member(exhibitor, "sales")
    assert ExhibitorMember.objects.get(user=sales).can_edit is False
