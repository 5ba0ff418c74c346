"""Public read API: /api/v1/exhibitors/..., /api/v1/products/<id>/."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from exhibitors.models import Exhibitor
from exhibitors.services import (
    booth_publish,
    exhibitor_apply,
    exhibitor_approve,
    exhibitor_reject,
    exhibitor_suspend,
    product_publish,
)
from tests.exhibitors.factories_api import (
    CATEGORY,
    OTHER_SECTION,
    SECTION,
    build_fair,
    category_ref,
    client_for,
    drf_time,
    make_exhibitor,
    make_product,
    owner_of,
    publish_booth,
)
from tests.factories import make_buyer, make_organiser, make_user

LIST_URL = "/api/v1/exhibitors/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def fair(db):
    return build_fair()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def detail_url(slug: str) -> str:
    return f"/api/v1/exhibitors/{slug}/"


def products_url(slug: str) -> str:
    return f"/api/v1/exhibitors/{slug}/products/"


def product_url(product_id: int) -> str:
    return f"/api/v1/products/{product_id}/"


def slugs(response) -> list[str]:
    return [item["slug"] for item in response.json()["results"]]


# --- Directory ---------------------------------------------------------------------------


def test_exhibitor_list_anonymous_gets_approved_exhibitors_with_exact_fields(fair):
    publish_booth(fair.company)
    make_exhibitor(name="Pending Parts", approve=False)

    response = client_for(None).get(LIST_URL)

    assert response.status_code == 200
    company = Exhibitor.objects.get(pk=fair.company.pk)
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": company.pk,
                "slug": "acme-appliances",
                "display_name": "Acme Appliances",
                "country": "CN",
                "country_name": "China",
                "province": "",
                "city": "Foshan",
                "website": "",
                "year_founded": None,
                "is_live": False,
                "follower_count": 0,
                "main_categories": [category_ref(CATEGORY)],
                "booth": {
                    "tagline": "Appliances since 1998",
                    "logo_url": None,
                    "section": category_ref(SECTION),
                },
            },
            {
                "id": fair.other.pk,
                "slug": "bolt-lighting",
                "display_name": "Bolt Lighting",
                "country": "VN",
                "country_name": "Vietnam",
                "province": "",
                "city": "Foshan",
                "website": "",
                "year_founded": None,
                "is_live": False,
                "follower_count": 0,
                "main_categories": [category_ref(CATEGORY)],
                "booth": None,
            },
        ],
    }


@pytest.mark.parametrize("role", ["anonymous", "buyer", "organiser", "owner"])
def test_exhibitor_list_never_shows_pending_rejected_or_suspended_exhibitors(fair, role):
    make_exhibitor(name="Pending Parts", approve=False)
    exhibitor_suspend(actor=fair.organiser, exhibitor_id=fair.other.pk, reason="Fake licence")

    response = client_for(fair.user(role)).get(LIST_URL)

    assert response.status_code == 200
    assert slugs(response) == ["acme-appliances"]
    assert "Pending Parts" not in response.content.decode()
    assert "Bolt Lighting" not in response.content.decode()


def test_exhibitor_list_filters_by_country(fair):
    response = client_for(None).get(LIST_URL, {"country": "VN"})

    assert slugs(response) == ["bolt-lighting"]


def test_exhibitor_list_filters_by_section_of_published_booths_only(fair):
    publish_booth(fair.company, section=SECTION)
    publish_booth(fair.other, section=OTHER_SECTION)
    third = make_exhibitor(name="Cool Fans")
    publish_booth(third, section=SECTION)
    booth_publish(user=owner_of(third), exhibitor_id=third.pk, published=False)

    response = client_for(None).get(LIST_URL, {"section": SECTION})

    assert slugs(response) == ["acme-appliances"]


def test_exhibitor_list_filters_by_live_true_and_false(fair):
    Exhibitor.objects.filter(pk=fair.other.pk).update(is_live=True)

    live = client_for(None).get(LIST_URL, {"live": "true"})
    not_live = client_for(None).get(LIST_URL, {"live": "false"})

    assert slugs(live) == ["bolt-lighting"]
    assert slugs(not_live) == ["acme-appliances"]


def test_exhibitor_list_filters_new_launches_by_published_products_only(fair):
    make_product(fair.company, sku="NEW-1", is_new_launch=True)
    make_product(fair.other, sku="NEW-2", is_new_launch=True, published=False)

    response = client_for(None).get(LIST_URL, {"new_launches": "true"})

    assert slugs(response) == ["acme-appliances"]


def test_exhibitor_list_unknown_country_answers_400(fair):
    response = client_for(None).get(LIST_URL, {"country": "XX"})

    assert response.status_code == 400
    assert response.json() == {"country": ['"XX" is not a valid choice.']}


def test_exhibitor_list_paginates_by_page_size(fair):
    make_exhibitor(name="Cool Fans")

    first = client_for(None).get(LIST_URL, {"page_size": 2})
    second = client_for(None).get(LIST_URL, {"page_size": 2, "page": 2})
    beyond = client_for(None).get(LIST_URL, {"page_size": 2, "page": 3})

    assert first.json()["count"] == 3
    assert slugs(first) == ["acme-appliances", "bolt-lighting"]
    assert first.json()["next"] == "http://testserver/api/v1/exhibitors/?page=2&page_size=2"
    assert first.json()["previous"] is None
    assert slugs(second) == ["cool-fans"]
    assert second.json()["next"] is None
    assert beyond.status_code == 404


@pytest.mark.parametrize("count", [1, 3])
def test_exhibitor_list_query_count_is_flat(db, django_assert_num_queries, count):
    for n in range(count):
        exhibitor = make_exhibitor(name=f"Company {n}")
        publish_booth(exhibitor)
    client = client_for(None)

    with django_assert_num_queries(3):  # count, rows with booth and section, categories
        response = client.get(LIST_URL)

    assert len(response.json()["results"]) == count


# --- One exhibitor -----------------------------------------------------------------------


def test_exhibitor_detail_anonymous_gets_published_booth_without_contact(fair, media):
    publish_booth(fair.company, video_url="https://video.example/intro.mp4")
    company = Exhibitor.objects.select_related("booth").get(pk=fair.company.pk)

    response = client_for(None).get(detail_url("acme-appliances"))

    assert response.status_code == 200
    assert response.json() == {
        "id": company.pk,
        "slug": "acme-appliances",
        "display_name": "Acme Appliances",
        "legal_name": "Acme Appliances Co., Ltd.",
        "description": "Acme Appliances makes appliances.",
        "country": "CN",
        "country_name": "China",
        "province": "",
        "city": "Foshan",
        "website": "",
        "year_founded": None,
        "is_live": False,
        "follower_count": 0,
        "main_categories": [category_ref(CATEGORY)],
        "booth": {
            "tagline": "Appliances since 1998",
            "story": "We build fridges.\n\nAnd washing machines.",
            "story_paragraphs": ["We build fridges.", "And washing machines."],
            "logo_url": None,
            "banner_url": None,
            "panorama_url": None,
            "video_url": "https://video.example/intro.mp4",
            "section": category_ref(SECTION),
            "certificates": [],
            "published_at": drf_time(company.booth.published_at),
            "contact": None,
        },
    }
    assert "sales@acme.example" not in response.content.decode()
    assert "Li Wei" not in response.content.decode()


@pytest.mark.parametrize("role", ["buyer", "other_owner", "organiser"])
def test_exhibitor_detail_signed_in_user_sees_booth_contact(fair, role):
    publish_booth(fair.company)

    response = client_for(fair.user(role)).get(detail_url("acme-appliances"))

    assert response.json()["booth"]["contact"] == {
        "person": "Li Wei",
        "email": "sales@acme.example",
        "phone": "+86 757 1234 5678",
    }


def test_exhibitor_detail_unpublished_booth_is_null_and_hides_its_content(fair):
    publish_booth(fair.company, tagline="Secret tagline")
    booth_publish(user=fair.owner, exhibitor_id=fair.company.pk, published=False)

    response = client_for(make_buyer()).get(detail_url("acme-appliances"))

    assert response.status_code == 200
    assert response.json()["booth"] is None
    assert "Secret tagline" not in response.content.decode()
    assert "sales@acme.example" not in response.content.decode()


@pytest.mark.parametrize("state", ["pending", "rejected", "suspended"])
@pytest.mark.parametrize("role", ["anonymous", "buyer", "organiser"])
def test_exhibitor_detail_not_approved_answers_404(fair, state, role):
    hidden = make_exhibitor(name="Hidden Works", approve=state == "suspended")
    if state == "rejected":
        exhibitor_reject(actor=fair.organiser, exhibitor_id=hidden.pk, reason="Incomplete")
    if state == "suspended":
        exhibitor_suspend(actor=fair.organiser, exhibitor_id=hidden.pk, reason="Fraud")

    response = client_for(fair.user(role)).get(detail_url("hidden-works"))
    products = client_for(fair.user(role)).get(products_url("hidden-works"))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert products.status_code == 404


def test_exhibitor_detail_never_shows_business_licence(db, media):
    owner = make_user()
    pdf = SimpleUploadedFile("licence.pdf", b"%PDF-1.4\nsecret\n%%EOF", "application/pdf")
    exhibitor = exhibitor_apply(
        user=owner,
        display_name="Licensed Ltd",
        legal_name="Licensed Ltd",
        country="CN",
        description="Makes things.",
        business_licence=pdf,
    )
    exhibitor_approve(actor=make_organiser(), exhibitor_id=exhibitor.pk)
    stored_name = type(exhibitor).objects.get(pk=exhibitor.pk).business_licence.name

    detail = client_for(make_buyer()).get(detail_url("licensed-ltd"))
    listing = client_for(None).get(LIST_URL)

    for response in (detail, listing):
        body = response.content.decode()
        assert "licence" not in body
        assert stored_name.rsplit("/", 1)[-1] not in body
        assert "search_vector" not in body


# --- Products of an exhibitor ------------------------------------------------------------


def test_exhibitor_products_lists_published_products_only_with_exact_fields(fair):
    visible = make_product(fair.company, sku="FR-1", is_new_launch=True)
    make_product(fair.company, sku="DRAFT-1", published=False)
    make_product(fair.other, sku="OTHER-1")

    response = client_for(None).get(products_url("acme-appliances"))

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": visible.pk,
                "sku": "FR-1",
                "name": "Fridge FR-1",
                "category": category_ref(SECTION),
                "moq": 50,
                "moq_unit": "pieces",
                "price_min": "120.00",
                "price_max": "150.00",
                "currency": "USD",
                "incoterm": "FOB",
                "samples": "none",
                "is_new_launch": True,
                "thumbnail_url": None,
            }
        ],
    }


def test_exhibitor_products_staff_of_the_company_also_sees_only_published(fair):
    make_product(fair.company, sku="DRAFT-1", published=False)

    response = client_for(fair.owner).get(products_url("acme-appliances"))

    assert response.json()["count"] == 0


def test_exhibitor_products_paginate(fair):
    for n in range(3):
        make_product(fair.company, sku=f"FR-{n}")

    response = client_for(None).get(products_url("acme-appliances"), {"page_size": 2})

    assert response.json()["count"] == 3
    assert [p["sku"] for p in response.json()["results"]] == ["FR-2", "FR-1"]
    assert response.json()["next"].endswith("?page=2&page_size=2")


@pytest.mark.parametrize("count", [1, 3])
def test_exhibitor_products_query_count_is_flat(fair, django_assert_num_queries, count):
    for n in range(count):
        make_product(fair.company, sku=f"FR-{n}")
    client = client_for(None)

    with django_assert_num_queries(4):  # exhibitor, count, rows with category, images
        response = client.get(products_url("acme-appliances"))

    assert len(response.json()["results"]) == count


# --- One product -------------------------------------------------------------------------


def test_product_detail_anonymous_gets_published_product_with_exact_fields(fair):
    publish_booth(fair.company)
    product = make_product(
        fair.company,
        sku="FR-9",
        description="A quiet fridge.",
        specs=[["Volume", "300 L"]],
        certifications=["CE", "RoHS"],
        hs_code="8418.10",
        lead_time_days=30,
        port_of_loading="Shenzhen",
    )

    response = client_for(None).get(product_url(product.pk))

    assert response.status_code == 200
    assert response.json() == {
        "id": product.pk,
        "sku": "FR-9",
        "name": "Fridge FR-9",
        "category": category_ref(SECTION),
        "moq": 50,
        "moq_unit": "pieces",
        "price_min": "120.00",
        "price_max": "150.00",
        "currency": "USD",
        "incoterm": "FOB",
        "samples": "none",
        "is_new_launch": False,
        "thumbnail_url": None,
        "description": "A quiet fridge.",
        "specs": [["Volume", "300 L"]],
        "port_of_loading": "Shenzhen",
        "lead_time_days": 30,
        "hs_code": "8418.10",
        "certifications": ["CE", "RoHS"],
        "images": [],
        "model_3d_url": None,
        "updated_at": drf_time(type(product).objects.get(pk=product.pk).updated_at),
        "exhibitor": {
            "slug": "acme-appliances",
            "display_name": "Acme Appliances",
            "country": "CN",
            "country_name": "China",
            "logo_url": None,
        },
    }
    assert "keywords" not in response.json()
    assert "is_published" not in response.json()


@pytest.mark.parametrize("role", ["anonymous", "buyer", "organiser", "owner"])
def test_product_detail_unpublished_answers_404_to_everyone(fair, role):
    product = make_product(fair.company, sku="DRAFT-1", name="Secret fridge", published=False)

    response = client_for(fair.user(role)).get(product_url(product.pk))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_product_detail_of_suspended_exhibitor_answers_404(fair):
    product = make_product(fair.company, sku="FR-1")
    exhibitor_suspend(actor=fair.organiser, exhibitor_id=fair.company.pk, reason="Fraud")

    response = client_for(make_buyer()).get(product_url(product.pk))

    assert response.status_code == 404


def test_product_detail_after_unpublish_answers_404(fair):
    product = make_product(fair.company, sku="FR-1")
    product_publish(user=fair.owner, product_id=product.pk, published=False)

    response = client_for(None).get(product_url(product.pk))

    assert response.status_code == 404
