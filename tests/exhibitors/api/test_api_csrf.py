"""Every state-changing endpoint of the exhibitors API refuses a session-authenticated
request without a CSRF token (SECURITY.md D3), and changes nothing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.middleware.csrf import get_token
from django.test import RequestFactory

from exhibitors.models import (
    Booth,
    Exhibitor,
    ExhibitorMember,
    ImportJob,
    Product,
    ProductImage,
    StaffInvitation,
)
from exhibitors.services import product_image_add
from tests.exhibitors.factories_api import (
    SECTION,
    build_fair,
    client_for,
    glb_bytes,
    jpeg_upload,
    make_product,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def fair(db):
    return build_fair()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def world_state() -> dict:
    return {
        "exhibitors": list(Exhibitor.objects.order_by("pk").values_list("pk", "display_name")),
        "members": list(ExhibitorMember.objects.order_by("pk").values_list("pk", "role")),
        "invitations": StaffInvitation.objects.count(),
        "booths": list(Booth.objects.order_by("pk").values_list("pk", "tagline", "is_published")),
        "products": list(
            Product.objects.order_by("pk").values_list("pk", "name", "is_published", "model_3d")
        ),
        "images": list(ProductImage.objects.order_by("pk").values_list("pk", "alt_text")),
        "imports": ImportJob.objects.count(),
    }


def write_requests(fair, product, image, sales_member):
    """(method, url, data, format) for every write endpoint."""
    company = fair.company.pk
    return {
        "apply": (
            "post",
            "/api/v1/exhibit/exhibitors/apply/",
            {
                "display_name": "X",
                "legal_name": "X",
                "country": "CN",
                "description": "X",
                "main_categories": ["electronics-appliances"],
            },
            "json",
        ),
        "profile": (
            "patch",
            f"/api/v1/exhibit/exhibitors/{company}/update/",
            {"display_name": "X"},
            "json",
        ),
        "invite": (
            "post",
            f"/api/v1/exhibit/exhibitors/{company}/staff/invite/",
            {"email": "x@example.test", "role": "sales"},
            "json",
        ),
        "role": (
            "post",
            f"/api/v1/exhibit/staff/{sales_member.pk}/role/",
            {"role": "admin"},
            "json",
        ),
        "remove": ("delete", f"/api/v1/exhibit/staff/{sales_member.pk}/remove/", None, None),
        "booth": (
            "patch",
            f"/api/v1/exhibit/exhibitors/{company}/booth/update/",
            {"tagline": "X", "section": SECTION},
            "json",
        ),
        "booth_publish": (
            "post",
            f"/api/v1/exhibit/exhibitors/{company}/booth/publish/",
            {"published": True},
            "json",
        ),
        "product_create": (
            "post",
            f"/api/v1/exhibit/exhibitors/{company}/products/create/",
            {"sku": "NEW-1", "name": "X", "category": SECTION},
            "json",
        ),
        "product_update": (
            "patch",
            f"/api/v1/exhibit/products/{product.pk}/update/",
            {"name": "X"},
            "json",
        ),
        "product_publish": (
            "post",
            f"/api/v1/exhibit/products/{product.pk}/publish/",
            {"published": False},
            "json",
        ),
        "product_delete": ("delete", f"/api/v1/exhibit/products/{product.pk}/delete/", None, None),
        "image_upload": (
            "post",
            f"/api/v1/exhibit/products/{product.pk}/images/upload/",
            {"image": jpeg_upload()},
            "multipart",
        ),
        "image_update": (
            "patch",
            f"/api/v1/exhibit/images/{image.pk}/update/",
            {"alt_text": "X"},
            "json",
        ),
        "image_delete": ("delete", f"/api/v1/exhibit/images/{image.pk}/delete/", None, None),
        "model": (
            "post",
            f"/api/v1/exhibit/products/{product.pk}/model/",
            {"model_3d": SimpleUploadedFile("m.glb", glb_bytes(), "model/gltf-binary")},
            "multipart",
        ),
        "import": (
            "post",
            f"/api/v1/exhibit/exhibitors/{company}/imports/create/",
            {"file": SimpleUploadedFile("c.csv", b"sku,name,category\nA,B,household-appliances\n")},
            "multipart",
        ),
    }


WRITES = [
    "apply",
    "profile",
    "invite",
    "role",
    "remove",
    "booth",
    "booth_publish",
    "product_create",
    "product_update",
    "product_publish",
    "product_delete",
    "image_upload",
    "image_update",
    "image_delete",
    "model",
    "import",
]


@pytest.mark.parametrize("name", WRITES)
def test_write_without_csrf_token_is_refused_and_changes_nothing(fair, media, name):
    product = make_product(fair.company, sku="FR-1")
    image = product_image_add(user=fair.owner, product_id=product.pk, upload=jpeg_upload())
    sales_member = ExhibitorMember.objects.get(user=fair.sales)
    method, url, data, fmt = write_requests(fair, product, image, sales_member)[name]
    before = world_state()
    client = client_for(fair.owner, csrf=True)

    response = getattr(client, method)(url, data, format=fmt) if data else client.delete(url)

    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")
    assert world_state() == before


def test_write_with_csrf_token_is_accepted(fair):
    """The control: the same session with its token gets through."""
    product = make_product(fair.company, sku="FR-1")
    client = client_for(fair.owner, csrf=True)
    page_request = RequestFactory().get("/")
    token = get_token(page_request)  # what a page of the site hands the browser
    client.cookies[settings.CSRF_COOKIE_NAME] = page_request.META["CSRF_COOKIE"]

    response = client.patch(
        f"/api/v1/exhibit/products/{product.pk}/update/",
        {"name": "Renamed"},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 200
    product.refresh_from_db()
    assert product.name == "Renamed"


def test_get_never_changes_state(fair):
    """Reads are safe methods: a GET on a write URL is refused, not performed."""
    product = make_product(fair.company, sku="FR-1")

    response = client_for(fair.owner).get(f"/api/v1/exhibit/products/{product.pk}/delete/")

    assert response.status_code == 405
    assert Product.objects.filter(pk=product.pk).exists()
