"""The OpenAPI schema documents the error answers (fair.api.schema) and the file URLs the API
really gives. Found by the schemathesis run (tests/fair/test_api_fuzz.py); these pin them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from exhibitors import services
from tests.exhibitors.factories import jpeg_bytes, make_exhibitor, make_product, owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema() -> dict:
    return APIClient().get("/api/schema/", {"format": "json"}).json()


def _codes(schema: dict, path: str, method: str) -> list[str]:
    return list(schema["paths"][path][method]["responses"])


def test_schema_documents_error_answers_by_operation_shape(schema):
    # No input: only "not allowed" and "throttled" can go wrong.
    assert _codes(schema, "/api/v1/categories/", "get") == ["200", "403", "429"]
    # A body: refused input, a body in another media type.
    assert _codes(schema, "/api/v1/me/", "patch") == ["200", "400", "403", "415", "429"]
    # Ids in a body (the view says so).
    assert _codes(schema, "/api/v1/negotiations/open/", "post") == [
        "200",
        "201",
        "400",
        "403",
        "404",
        "415",
        "429",
    ]
    # A path id: not found.
    assert _codes(schema, "/api/v1/exhibitors/{slug}/", "get") == ["200", "403", "404", "429"]
    # Paginated list with filters: refused filters, a page past the end.
    assert _codes(schema, "/api/v1/exhibitors/", "get") == ["200", "400", "403", "404", "429"]


def test_schema_error_bodies_reference_the_shared_components(schema):
    patch = schema["paths"]["/api/v1/me/"]["patch"]["responses"]

    assert patch["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationError"
    }
    assert patch["403"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]


def test_schema_file_urls_are_uri_references(schema):
    components = schema["components"]["schemas"]

    assert components["ProductImageOutput"]["properties"]["url"]["format"] == "uri-reference"
    assert components["ProductSummaryOutput"]["properties"]["thumbnail_url"]["format"] == (
        "uri-reference"
    )


def test_product_image_url_from_local_storage_is_a_path():
    exhibitor = make_exhibitor()
    product = make_product(exhibitor)
    services.product_image_add(
        user=owner_of(exhibitor),
        product_id=product.pk,
        upload=SimpleUploadedFile("photo.jpg", jpeg_bytes(), content_type="image/jpeg"),
    )

    body = APIClient().get(f"/api/v1/products/{product.pk}/").json()

    # Relative: valid for "uri-reference", not for "uri" (what the schema used to say).
    assert body["images"][0]["url"].startswith("/media/products/")


def test_exhibitor_list_page_past_the_end_answers_the_documented_404(schema):
    response = APIClient().get("/api/v1/exhibitors/", {"page": 2})

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}
    assert "404" in schema["paths"]["/api/v1/exhibitors/"]["get"]["responses"]
