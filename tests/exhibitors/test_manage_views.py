"""The exhibitor's own pages: apply, booth builder, catalogue, staff, invitations."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from exhibitors.models import Booth, Exhibitor, Product, ProductImage
from tests.exhibitors.factories import (
    add_member,
    make_exhibitor,
    make_product,
    owner_of,
    pdf_bytes,
    png_bytes,
    section,
    upload,
)
from tests.factories import make_buyer, make_user

pytestmark = pytest.mark.django_db


def test_apply_page_valid_form_creates_pending_exhibitor(client):
    user = make_user()
    client.force_login(user)
    from fair.models import Category

    response = client.post(
        reverse("exhibitors:apply"),
        {
            "display_name": "Lumen Lighting",
            "legal_name": "Lumen Lighting Co., Ltd.",
            "country": "CN",
            "city": "Foshan",
            "website": "lumen.example",
            "year_founded": "2008",
            "main_categories": [Category.objects.get(slug="lighting-electrical").pk],
            "description": "LED panels and street lights.",
            "business_licence": upload("licence.pdf", pdf_bytes(), "application/pdf"),
        },
    )
    exhibitor = Exhibitor.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("exhibitors:manage", args=[exhibitor.pk])
    assert (exhibitor.display_name, exhibitor.status, exhibitor.website) == (
        "Lumen Lighting",
        "pending",
        "https://lumen.example",
    )


def test_apply_page_missing_fields_shows_messages_and_creates_nothing(client):
    client.force_login(make_user())
    response = client.post(reverse("exhibitors:apply"), {"display_name": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["legal_name"] == ["This field is required."]
    assert response.context["form"].errors["business_licence"] == ["This field is required."]
    assert Exhibitor.objects.count() == 0


def test_apply_page_anonymous_redirects_to_login(client):
    response = client.get(reverse("exhibitors:apply"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 200), ("admin", 200), ("sales", 403), ("other_company", 404), ("buyer", 404)],
)
def test_booth_edit_page_by_role(client, role, expected):
    exhibitor = make_exhibitor()
    if role == "other_company":
        user = owner_of(make_exhibitor(name="Other Co"))
    elif role == "buyer":
        user = make_buyer()
    elif role == "owner":
        user = owner_of(exhibitor)
    else:
        user = add_member(exhibitor, role)
    client.force_login(user)
    response = client.post(
        reverse("exhibitors:booth_edit", args=[exhibitor.pk]), {"tagline": "Changed"}
    )
    assert response.status_code == (302 if expected == 200 else expected)
    tagline = Booth.objects.get(exhibitor=exhibitor).tagline
    assert tagline == ("Changed" if expected == 200 else "")


def test_booth_edit_html_as_image_shows_error_and_saves_nothing(client):
    exhibitor = make_exhibitor()
    client.force_login(owner_of(exhibitor))
    response = client.post(
        reverse("exhibitors:booth_edit", args=[exhibitor.pk]),
        {
            "tagline": "Not saved",
            "logo": upload("logo.png", b"<html><body>hi</body></html>", "image/png"),
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["logo"] == [
        "This file is not a JPEG, PNG or WebP image we can read."
    ]
    assert Booth.objects.get(exhibitor=exhibitor).tagline == ""


def test_booth_preview_then_publish_flow(client):
    exhibitor = make_exhibitor()
    client.force_login(owner_of(exhibitor))
    client.post(
        reverse("exhibitors:booth_edit", args=[exhibitor.pk]),
        {
            "tagline": "Screens for the world",
            "story": "Founded 1998.\n\nWe ship to 80 countries.",
            "section": section().pk,
        },
    )
    preview = client.get(reverse("exhibitors:booth_preview", args=[exhibitor.pk]))
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "Screens for the world" in body
    assert "<p>We ship to 80 countries.</p>" in body
    response = client.post(
        reverse("exhibitors:booth_publish", args=[exhibitor.pk]), {"publish": "1"}
    )
    assert response.status_code == 302
    assert Booth.objects.get(exhibitor=exhibitor).is_published is True


def test_booth_preview_escapes_story_markup(client):
    exhibitor = make_exhibitor()
    client.force_login(owner_of(exhibitor))
    client.post(
        reverse("exhibitors:booth_edit", args=[exhibitor.pk]),
        {"tagline": "<img src=x onerror=alert(1)>", "story": "<script>alert(1)</script>"},
    )
    body = client.get(reverse("exhibitors:booth_preview", args=[exhibitor.pk])).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_product_create_page_valid_then_images_page(client):
    exhibitor = make_exhibitor()
    client.force_login(owner_of(exhibitor))
    response = client.post(
        reverse("exhibitors:product_create", args=[exhibitor.pk]),
        {
            "name": "LED Panel 600x600",
            "sku": "LP-600",
            "category": section("lighting-equipment").pk,
            "specs": "Power = 40 W\nColour temperature: 4000 K",
            "certifications": "CE; RoHS",
            "moq": "500",
            "moq_unit": "pieces",
            "price_min": "8.50",
            "price_max": "9.90",
            "currency": "USD",
            "incoterm": "FOB",
            "samples": "free",
            "hs_code": "9405.42",
        },
    )
    product = Product.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("exhibitors:product_images", args=[product.pk])
    assert product.specs == [["Power", "40 W"], ["Colour temperature", "4000 K"]]
    assert product.certifications == ["CE", "RoHS"]
    assert product.is_published is False


def test_product_create_page_bad_spec_and_price_show_messages(client):
    exhibitor = make_exhibitor()
    client.force_login(owner_of(exhibitor))
    response = client.post(
        reverse("exhibitors:product_create", args=[exhibitor.pk]),
        {
            "name": "Broken",
            "sku": "B-1",
            "category": section().pk,
            "specs": "no equals sign here",
            "moq": "1",
            "moq_unit": "pieces",
            "price_min": "10",
            "price_max": "5",
            "currency": "USD",
            "incoterm": "FOB",
            "samples": "none",
        },
    )
    errors = response.context["form"].errors
    assert errors["specs"] == ["Line 1: write each specification as “name = value”."]
    assert Product.objects.count() == 0


def test_product_images_page_upload_and_remove(client, django_capture_on_commit_callbacks):
    exhibitor = make_exhibitor()
    product = make_product(exhibitor)
    client.force_login(owner_of(exhibitor))
    url = reverse("exhibitors:product_images", args=[product.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"image": upload("p.png", png_bytes((800, 600))), "alt_text": "Front"}
        )
    assert response.status_code == 302
    image = ProductImage.objects.get()
    assert (image.alt_text, image.width, image.height) == ("Front", 800, 600)
    assert bool(image.thumbnail) is True
    bad = client.post(url, {"image": upload("evil.svg", b"<svg><script>alert(1)</script></svg>")})
    assert bad.status_code == 200
    assert ProductImage.objects.count() == 1
    client.post(reverse("exhibitors:product_image_remove", args=[image.pk]))
    assert ProductImage.objects.count() == 0


def test_product_list_page_query_count_flat(client, django_assert_num_queries):
    exhibitor = make_exhibitor()
    owner = owner_of(exhibitor)
    client.force_login(owner)
    make_product(exhibitor, sku="P1")
    url = reverse("exhibitors:product_list", args=[exhibitor.pk])
    client.get(url)  # warm caches (session, edition)
    # (one of them: the negotiation inbox link's unread count in the exhibitor menu)
    with django_assert_num_queries(8) as one:
        client.get(url)
    make_product(exhibitor, sku="P2")
    make_product(exhibitor, sku="P3")
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert [p.sku for p in response.context["page"].object_list] == ["P3", "P2", "P1"]


def test_product_list_sales_staff_sees_list_without_edit_links(client):
    exhibitor = make_exhibitor()
    make_product(exhibitor)
    sales = add_member(exhibitor, "sales")
    client.force_login(sales)
    response = client.get(reverse("exhibitors:product_list", args=[exhibitor.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "55-inch 4K Smart TV" in body
    assert reverse("exhibitors:product_edit", args=[Product.objects.get().pk]) not in body


def test_product_delete_page_other_company_404_and_owner_deletes(client):
    exhibitor = make_exhibitor()
    product = make_product(exhibitor)
    client.force_login(owner_of(make_exhibitor(name="Other Co")))
    assert client.post(reverse("exhibitors:product_delete", args=[product.pk])).status_code == 404
    client.force_login(owner_of(exhibitor))
    assert client.post(reverse("exhibitors:product_delete", args=[product.pk])).status_code == 302
    assert Product.objects.count() == 0


def test_staff_page_invite_then_accept_through_pages(client, django_capture_on_commit_callbacks):
    exhibitor = make_exhibitor()
    client.force_login(owner_of(exhibitor))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("exhibitors:staff", args=[exhibitor.pk]),
            {"email": "sales.rep@example.test", "role": "sales"},
        )
    assert response.status_code == 302
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/invitations/" in line)
    path = link.replace("http://testserver", "")
    colleague = make_user(email="sales.rep@example.test")
    client.force_login(colleague)
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 302
    assert exhibitor.members.get(user=colleague).role == "sales"
    assert client.get(path).status_code == 404


def test_invitation_page_unknown_token_is_404(client):
    response = client.get(reverse("exhibitors:invitation_accept", args=["nope"]))
    assert response.status_code == 404


def test_dashboard_single_company_redirects_to_it(client):
    exhibitor = make_exhibitor()
    client.force_login(owner_of(exhibitor))
    response = client.get(reverse("exhibitors:dashboard"))
    assert response["Location"] == reverse("exhibitors:manage", args=[exhibitor.pk])
    client.force_login(make_user())
    response = client.get(reverse("exhibitors:dashboard"))
    assert response.status_code == 200
    assert "Apply as an exhibitor" in response.content.decode()
