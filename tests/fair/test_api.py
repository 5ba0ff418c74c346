"""The fair core's REST API: /api/v1/categories/, /api/v1/me/ and the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from fair.models import Category
from tests.factories import make_user

CATEGORIES_URL = "/api/v1/categories/"
ME_URL = "/api/v1/me/"


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def section_names(payload: list[dict]) -> dict[str, str]:
    return {s["slug"]: s["name"] for category in payload for s in category["sections"]}


def add_category_with_sections(slug: str, sections: int) -> Category:
    category = Category.objects.create(
        kind=Category.Kind.CATEGORY, slug=slug, name=slug.title(), position=99
    )
    for n in range(sections):
        Category.objects.create(
            kind=Category.Kind.SECTION, parent=category, slug=f"{slug}-{n}", name=f"Section {n}"
        )
    return category


# --- Categories ---


@pytest.mark.django_db
def test_categories_anonymous_lists_16_categories_with_their_sections(api_client):
    response = api_client.get(CATEGORIES_URL)

    assert response.status_code == 200
    payload = response.json()
    assert len(payload) == 16
    assert sum(len(category["sections"]) for category in payload) == 50
    for category in payload:
        assert set(category) == {"id", "slug", "name", "sections"}
        expected = list(
            Category.objects.filter(parent_id=category["id"])
            .order_by("position", "name")
            .values_list("slug", flat=True)
        )
        assert [section["slug"] for section in category["sections"]] == expected
        for section in category["sections"]:
            assert set(section) == {"id", "slug", "name"}
    assert section_names(payload)["household-appliances"] == "Household Appliances"


@pytest.mark.django_db
def test_categories_accept_language_chinese_returns_chinese_names(api_client):
    response = api_client.get(CATEGORIES_URL, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert section_names(response.json())["household-appliances"] == "家用电器"


@pytest.mark.django_db
def test_categories_language_cookie_chinese_returns_chinese_names(api_client):
    api_client.cookies["django_language"] = "zh-hans"

    response = api_client.get(CATEGORIES_URL)

    assert section_names(response.json())["household-appliances"] == "家用电器"


@pytest.mark.django_db
def test_categories_query_count_is_two_for_the_seeded_tree(api_client, django_assert_num_queries):
    with django_assert_num_queries(2):
        response = api_client.get(CATEGORIES_URL)

    assert len(response.json()) == 16


@pytest.mark.django_db
def test_categories_query_count_stays_two_with_more_categories_and_sections(
    api_client, django_assert_num_queries
):
    add_category_with_sections("extra-one", 1)
    add_category_with_sections("extra-three", 3)

    with django_assert_num_queries(2):
        response = api_client.get(CATEGORIES_URL)

    payload = response.json()
    assert len(payload) == 18
    assert sum(len(category["sections"]) for category in payload) == 54


# --- Me ---


@pytest.mark.django_db
def test_me_anonymous_is_refused_with_403(api_client):
    response = api_client.get(ME_URL)

    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.django_db
def test_me_authenticated_returns_exact_fields(api_client):
    user = make_user(
        email="anne@example.test", full_name="Anne Buyer", language="ar", time_zone="Asia/Riyadh"
    )
    api_client.force_login(user)

    response = api_client.get(ME_URL)

    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "email": "anne@example.test",
        "full_name": "Anne Buyer",
        "language": "ar",
        "time_zone": "Asia/Riyadh",
        "is_organiser": False,
    }


@pytest.mark.django_db
def test_me_organiser_reports_is_organiser(api_client, organiser):
    api_client.force_login(organiser)

    response = api_client.get(ME_URL)

    assert response.json()["is_organiser"] is True


@pytest.mark.django_db
def test_me_patch_valid_zone_saves_it(api_client):
    user = make_user(language="en", time_zone="")
    api_client.force_login(user)

    response = api_client.patch(ME_URL, {"time_zone": "Asia/Shanghai"}, format="json")

    assert response.status_code == 200
    assert response.json()["time_zone"] == "Asia/Shanghai"
    user.refresh_from_db()
    assert (user.time_zone, user.language, user.full_name) == ("Asia/Shanghai", "en", "Test User")


@pytest.mark.django_db
def test_me_patch_unknown_zone_answers_400_and_changes_nothing(api_client):
    user = make_user(language="en", time_zone="Asia/Riyadh")
    api_client.force_login(user)

    response = api_client.patch(
        ME_URL, {"time_zone": "Mars/Olympus_Mons", "full_name": "Changed"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "time_zone": [
            "“Mars/Olympus_Mons” is not a known time zone. Use an IANA name such as Asia/Riyadh."
        ]
    }
    user.refresh_from_db()
    assert (user.time_zone, user.full_name) == ("Asia/Riyadh", "Test User")


@pytest.mark.django_db
def test_me_patch_without_csrf_token_is_refused_and_changes_nothing():
    user = make_user(time_zone="Asia/Riyadh")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.patch(ME_URL, {"time_zone": "Asia/Shanghai"}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")
    user.refresh_from_db()
    assert user.time_zone == "Asia/Riyadh"


@pytest.mark.django_db
def test_me_patch_with_csrf_token_is_accepted():
    user = make_user(time_zone="Asia/Riyadh")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(reverse("home"))  # sets the CSRF cookie, as a page visit does
    token = client.cookies["csrftoken"].value

    response = client.patch(
        ME_URL, {"time_zone": "Asia/Shanghai"}, format="json", HTTP_X_CSRFTOKEN=token
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.time_zone == "Asia/Shanghai"


# --- Schema ---


@pytest.mark.django_db
def test_schema_lists_both_api_paths(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "CloudFair API"
    # Other apps add their paths; these two are the fair core's.
    assert {CATEGORIES_URL, ME_URL} <= set(schema["paths"])
    assert set(schema["paths"][ME_URL]) == {"get", "patch"}
    assert set(schema["paths"][CATEGORIES_URL]) == {"get"}
