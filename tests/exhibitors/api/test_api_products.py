"""The catalogue of the caller's company: list, create, update, publish, delete, images and
3D models."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from exhibitors.models import Product, ProductImage
from exhibitors.services import product_image_add
from tests.exhibitors.factories_api import (
    OUTSIDERS,
    SECTION,
    build_fair,
    category_ref,
    client_for,
    drf_time,
    glb_bytes,
    html_as_jpeg,
    jpeg_upload,
    make_product,
    product_state,
)

pytestmark = pytest.mark.django_db

SALES_DENIED = "Sales staff cannot change the booth or the catalogue."


@pytest.fixture
def fair(db):
    return build_fair()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def list_url(exhibitor_id: int) -> str:
    return f"/api/v1/exhibit/exhibitors/{exhibitor_id}/products/"


def create_url(exhibitor_id: int) -> str:
    return f"/api/v1/exhibit/exhibitors/{exhibitor_id}/products/create/"


def product_url(product_id: int, action: str) -> str:
    return f"/api/v1/exhibit/products/{product_id}/{action}/"


def image_url(image_id: int, action: str) -> str:
    return f"/api/v1/exhibit/images/{image_id}/{action}/"


def assert_denied(response, role: str) -> None:
    if role == "anonymous":
        assert response.status_code == 403
        assert response.json() == {"detail": "Authentication credentials were not provided."}
    elif role in OUTSIDERS:
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    else:
        assert response.status_code == 403
        assert response.json() == {"detail": SALES_DENIED}


NEW_PRODUCT = {
    "sku": "WM-7",
    "name": "Washing machine 7 kg",
    "category": SECTION,
    "description": "Front loader.",
    "specs": [["Capacity", "7 kg"], ["Spin", "1400 rpm"]],
    "keywords": "washer, laundry",
    "moq": 100,
    "moq_unit": "units",
    "price_min": "180.50",
    "price_max": "210",
    "currency": "EUR",
    "incoterm": "CIF",
    "port_of_loading": "Ningbo",
    "lead_time_days": 45,
    "hs_code": "8450.11",
    "certifications": ["CE", "RoHS"],
    "samples": "paid",
    "is_new_launch": True,
}


# --- List --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "sales"])
def test_my_product_list_staff_see_published_and_draft_products(fair, role):
    make_product(fair.company, sku="FR-1")
    make_product(fair.company, sku="DRAFT-1", published=False)
    make_product(fair.other, sku="OTHER-1")

    response = client_for(fair.user(role)).get(list_url(fair.company.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {(p["sku"], p["is_published"]) for p in body["results"]} == {
        ("FR-1", True),
        ("DRAFT-1", False),
    }
    assert "OTHER-1" not in response.content.decode()


@pytest.mark.parametrize("role", ["anonymous", *OUTSIDERS])
def test_my_product_list_denied_roles_see_no_product(fair, role):
    make_product(fair.company, sku="DRAFT-1", published=False)

    response = client_for(fair.user(role)).get(list_url(fair.company.pk))

    assert_denied(response, role)
    assert "DRAFT-1" not in response.content.decode()


def test_my_product_list_paginates(fair):
    for n in range(3):
        make_product(fair.company, sku=f"FR-{n}")

    response = client_for(fair.owner).get(list_url(fair.company.pk), {"page_size": 2, "page": 2})

    assert response.json()["count"] == 3
    assert [p["sku"] for p in response.json()["results"]] == ["FR-0"]
    assert response.json()["previous"].endswith("/products/?page_size=2")


@pytest.mark.parametrize("count", [1, 3])
def test_my_product_list_query_count_is_flat(fair, media, django_assert_num_queries, count):
    for n in range(count):
        product = make_product(fair.company, sku=f"FR-{n}")
        product_image_add(user=fair.owner, product_id=product.pk, upload=jpeg_upload())
    client = client_for(fair.owner)

    # session user, membership with exhibitor, count, rows with category, images
    with django_assert_num_queries(5):
        response = client.get(list_url(fair.company.pk))

    assert len(response.json()["results"]) == count


# --- Create ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_product_create_editor_creates_product_with_exact_output(fair, role):
    response = client_for(fair.user(role)).post(
        create_url(fair.company.pk), NEW_PRODUCT, format="json"
    )

    assert response.status_code == 201
    product = Product.objects.get(exhibitor=fair.company, sku="WM-7")
    assert response.json() == {
        "id": product.pk,
        "sku": "WM-7",
        "name": "Washing machine 7 kg",
        "category": category_ref(SECTION),
        "moq": 100,
        "moq_unit": "units",
        "price_min": "180.50",
        "price_max": "210.00",
        "currency": "EUR",
        "incoterm": "CIF",
        "samples": "paid",
        "is_new_launch": True,
        "thumbnail_url": None,
        "description": "Front loader.",
        "specs": [["Capacity", "7 kg"], ["Spin", "1400 rpm"]],
        "port_of_loading": "Ningbo",
        "lead_time_days": 45,
        "hs_code": "8450.11",
        "certifications": ["CE", "RoHS"],
        "images": [],
        "model_3d_url": None,
        "updated_at": drf_time(product.updated_at),
        "keywords": "washer, laundry",
        "is_published": False,
        "created_at": drf_time(product.created_at),
    }
    assert product.specs == [["Capacity", "7 kg"], ["Spin", "1400 rpm"]]
    assert str(product.price_min) == "180.50"
    assert client_for(None).get(f"/api/v1/products/{product.pk}/").status_code == 404


def test_product_create_published_appears_in_public_api(fair):
    response = client_for(fair.owner).post(
        create_url(fair.company.pk), {**NEW_PRODUCT, "is_published": True}, format="json"
    )

    public = client_for(None).get(f"/api/v1/products/{response.json()['id']}/")
    assert public.status_code == 200
    assert public.json()["sku"] == "WM-7"


def test_product_create_wrong_types_answer_400_with_readable_messages(fair):
    response = client_for(fair.owner).post(
        create_url(fair.company.pk),
        {
            "sku": "bad sku!",
            "name": "X",
            "category": "electronics-appliances",
            "specs": [["Capacity"], ["Spin", 1400]],
            "certifications": ["CE", 5],
            "price_min": "1.234",
            "price_max": "abc",
            "currency": "XYZ",
            "incoterm": "FOO",
            "moq": 0,
            "lead_time_days": 900,
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "category": ["“electronics-appliances” is not an exhibition section."],
        "specs": ["Specification 1: give it as [name, value], two non-empty texts."],
        "moq": ["Ensure this value is greater than or equal to 1."],
        "price_min": ["Ensure that there are no more than 2 decimal places."],
        "price_max": ["A valid number is required."],
        "currency": ['"XYZ" is not a valid choice.'],
        "incoterm": ['"FOO" is not a valid choice.'],
        "lead_time_days": ["Ensure this value is less than or equal to 720."],
        "certifications": {"1": ["Give a text."]},
    }
    assert not Product.objects.exists()


def test_product_create_model_rules_answer_400_under_their_fields(fair):
    response = client_for(fair.owner).post(
        create_url(fair.company.pk),
        {**NEW_PRODUCT, "sku": "bad sku!", "hs_code": "12", "price_min": "300"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "sku": ["Use letters, digits and . _ - / only (up to 64 characters)."],
        "hs_code": ["An HS code has 6 to 10 digits, e.g. 8528.72 or 85287200."],
        "price_max": ["The highest price must not be below the lowest."],
    }
    assert not Product.objects.exists()


def test_product_create_duplicate_sku_answers_400(fair):
    make_product(fair.company, sku="WM-7")

    response = client_for(fair.owner).post(create_url(fair.company.pk), NEW_PRODUCT, format="json")

    assert response.status_code == 400
    assert response.json() == {"sku": ["You already have a product with this SKU."]}
    assert Product.objects.filter(exhibitor=fair.company).count() == 1


def test_product_create_same_sku_as_another_company_is_fine(fair):
    make_product(fair.other, sku="WM-7")

    response = client_for(fair.owner).post(create_url(fair.company.pk), NEW_PRODUCT, format="json")

    assert response.status_code == 201


@pytest.mark.parametrize("role", ["anonymous", "sales", *OUTSIDERS])
def test_product_create_denied_roles_create_nothing(fair, role):
    response = client_for(fair.user(role)).post(
        create_url(fair.company.pk), NEW_PRODUCT, format="json"
    )

    assert_denied(response, role)
    assert not Product.objects.exists()


# --- Update, publish, delete -------------------------------------------------------------


def test_product_update_changes_only_the_fields_sent(fair):
    product = make_product(fair.company, sku="FR-1", specs=[["Volume", "300 L"]])

    response = client_for(fair.admin).patch(
        product_url(product.pk, "update"),
        {"name": "Fridge 300 L", "price_max": None, "certifications": ["CE"]},
        format="json",
    )

    assert response.status_code == 200
    product.refresh_from_db()
    assert (product.name, product.price_min, product.price_max) == (
        "Fridge 300 L",
        product.price_min,
        None,
    )
    assert str(product.price_min) == "120.00"
    assert product.specs == [["Volume", "300 L"]]
    assert product.certifications == ["CE"]
    assert response.json()["name"] == "Fridge 300 L"
    assert response.json()["price_max"] is None


def test_product_update_to_another_companys_sku_is_allowed_but_own_duplicate_is_not(fair):
    make_product(fair.company, sku="FR-1")
    second = make_product(fair.company, sku="FR-2")
    before = product_state(second)

    response = client_for(fair.owner).patch(
        product_url(second.pk, "update"), {"sku": "FR-1"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"sku": ["You already have a product with this SKU."]}
    assert product_state(second) == before


@pytest.mark.parametrize("role", ["anonymous", "sales", *OUTSIDERS])
def test_product_update_denied_roles_change_nothing(fair, role):
    product = make_product(fair.company, sku="FR-1", published=False, name="Secret fridge")
    before = product_state(product)

    response = client_for(fair.user(role)).patch(
        product_url(product.pk, "update"), {"name": "Hijacked"}, format="json"
    )

    assert_denied(response, role)
    assert product_state(product) == before
    assert "Secret fridge" not in response.content.decode()


def test_product_update_missing_and_foreign_products_answer_the_same_404(fair):
    foreign = make_product(fair.other, sku="B-1")

    foreign_response = client_for(fair.owner).patch(
        product_url(foreign.pk, "update"), {"name": "x"}, format="json"
    )
    missing_response = client_for(fair.owner).patch(
        product_url(foreign.pk + 1000, "update"), {"name": "x"}, format="json"
    )

    assert foreign_response.status_code == missing_response.status_code == 404
    assert foreign_response.json() == missing_response.json() == {"detail": "Not found."}


def test_product_publish_and_unpublish_toggle_public_visibility(fair):
    product = make_product(fair.company, sku="FR-1", published=False)
    client = client_for(fair.owner)

    published = client.post(product_url(product.pk, "publish"), {"published": True}, format="json")
    visible = client_for(None).get(f"/api/v1/products/{product.pk}/").status_code
    unpublished = client.post(
        product_url(product.pk, "publish"), {"published": False}, format="json"
    )
    hidden = client_for(None).get(f"/api/v1/products/{product.pk}/").status_code

    assert published.status_code == 200
    assert published.json()["is_published"] is True
    assert visible == 200
    assert unpublished.json()["is_published"] is False
    assert hidden == 404
    product.refresh_from_db()
    assert product.is_published is False


@pytest.mark.parametrize("role", ["anonymous", "sales", *OUTSIDERS])
def test_product_publish_denied_roles_change_nothing(fair, role):
    product = make_product(fair.company, sku="FR-1", published=False)

    response = client_for(fair.user(role)).post(
        product_url(product.pk, "publish"), {"published": True}, format="json"
    )

    assert_denied(response, role)
    product.refresh_from_db()
    assert product.is_published is False


def test_product_delete_owner_deletes_product_and_its_images(
    fair, media, django_capture_on_commit_callbacks
):
    product = make_product(fair.company, sku="FR-1")
    image = product_image_add(user=fair.owner, product_id=product.pk, upload=jpeg_upload())
    image_path = media / image.image.name

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(fair.owner).delete(product_url(product.pk, "delete"))

    assert response.status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()
    assert not ProductImage.objects.exists()
    assert not image_path.exists()


@pytest.mark.parametrize("role", ["anonymous", "sales", *OUTSIDERS])
def test_product_delete_denied_roles_delete_nothing(fair, role):
    product = make_product(fair.company, sku="FR-1")

    response = client_for(fair.user(role)).delete(product_url(product.pk, "delete"))

    assert_denied(response, role)
    assert Product.objects.filter(pk=product.pk).exists()


# --- Images ------------------------------------------------------------------------------


def test_product_image_upload_stores_reencoded_image_and_the_thumbnail_follows(
    fair, media, django_capture_on_commit_callbacks
):
    product = make_product(fair.company, sku="FR-1")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(fair.admin).post(
            product_url(product.pk, "images/upload"),
            {"image": jpeg_upload("holiday.jpg", size=(3000, 1500)), "alt_text": "Front view"},
            format="multipart",
        )

    assert response.status_code == 201
    image = ProductImage.objects.get(product=product)
    assert response.json() == {
        "id": image.pk,
        "url": f"/media/{image.image.name}",
        "thumbnail_url": None,  # made by the task after commit, after the answer was built
        "alt_text": "Front view",
        "position": 1,
        "width": 2000,
        "height": 1000,
    }
    assert "holiday" not in image.image.name
    image.refresh_from_db()
    assert image.thumbnail.name != image.image.name
    assert (image.thumbnail.width, image.thumbnail.height) == (480, 240)
    public = client_for(None).get(f"/api/v1/products/{product.pk}/").json()
    assert public["images"][0]["thumbnail_url"] == f"/media/{image.thumbnail.name}"
    assert public["thumbnail_url"] == f"/media/{image.thumbnail.name}"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (html_as_jpeg("photo.jpg"), "This file is not a JPEG, PNG or WebP image we can read."),
        (
            SimpleUploadedFile(
                "logo.svg",
                b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                "image/svg+xml",
            ),
            "This file is not a JPEG, PNG or WebP image we can read.",
        ),
    ],
    ids=["html-as-jpg", "svg-with-script"],
)
def test_product_image_upload_refuses_files_that_are_not_images(fair, media, upload, message):
    product = make_product(fair.company, sku="FR-1")

    response = client_for(fair.owner).post(
        product_url(product.pk, "images/upload"), {"image": upload}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json() == {"image": [message]}
    assert not ProductImage.objects.exists()
    assert [path for path in media.rglob("*") if path.is_file()] == []


def test_product_image_upload_without_file_answers_400(fair):
    product = make_product(fair.company, sku="FR-1")

    response = client_for(fair.owner).post(
        product_url(product.pk, "images/upload"), {}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json() == {"image": ["No file was submitted."]}


@pytest.mark.parametrize("role", ["anonymous", "sales", *OUTSIDERS])
def test_product_image_upload_denied_roles_add_nothing(fair, media, role):
    product = make_product(fair.company, sku="FR-1")

    response = client_for(fair.user(role)).post(
        product_url(product.pk, "images/upload"), {"image": jpeg_upload()}, format="multipart"
    )

    assert_denied(response, role)
    assert not ProductImage.objects.exists()


def test_product_image_update_changes_alt_text_and_position(fair, media):
    product = make_product(fair.company, sku="FR-1")
    image = product_image_add(user=fair.owner, product_id=product.pk, upload=jpeg_upload())

    response = client_for(fair.owner).patch(
        image_url(image.pk, "update"), {"alt_text": "Side view", "position": 5}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["alt_text"] == "Side view"
    assert response.json()["position"] == 5
    image.refresh_from_db()
    assert (image.alt_text, image.position) == ("Side view", 5)


@pytest.mark.parametrize("role", ["anonymous", "sales", *OUTSIDERS])
def test_product_image_update_denied_roles_change_nothing(fair, media, role):
    product = make_product(fair.company, sku="FR-1")
    image = product_image_add(
        user=fair.owner, product_id=product.pk, upload=jpeg_upload(), alt_text="Front"
    )

    response = client_for(fair.user(role)).patch(
        image_url(image.pk, "update"), {"alt_text": "Hijacked"}, format="json"
    )

    assert_denied(response, role)
    image.refresh_from_db()
    assert image.alt_text == "Front"


def test_product_image_delete_removes_the_image(fair, media):
    product = make_product(fair.company, sku="FR-1")
    image = product_image_add(user=fair.owner, product_id=product.pk, upload=jpeg_upload())

    response = client_for(fair.admin).delete(image_url(image.pk, "delete"))

    assert response.status_code == 204
    assert not ProductImage.objects.exists()


@pytest.mark.parametrize("role", ["anonymous", "sales", *OUTSIDERS])
def test_product_image_delete_denied_roles_delete_nothing(fair, media, role):
    product = make_product(fair.company, sku="FR-1")
    image = product_image_add(user=fair.owner, product_id=product.pk, upload=jpeg_upload())

    response = client_for(fair.user(role)).delete(image_url(image.pk, "delete"))

    assert_denied(response, role)
    assert ProductImage.objects.filter(pk=image.pk).exists()


# --- 3D model ----------------------------------------------------------------------------


def test_product_model_upload_stores_glb(fair, media):
    product = make_product(fair.company, sku="FR-1")

    response = client_for(fair.owner).post(
        product_url(product.pk, "model"),
        {"model_3d": SimpleUploadedFile("fridge.glb", glb_bytes(), "model/gltf-binary")},
        format="multipart",
    )

    assert response.status_code == 200
    product.refresh_from_db()
    assert product.model_3d.name.endswith(".glb")
    assert "fridge" not in product.model_3d.name
    assert response.json()["model_3d_url"] == f"/media/{product.model_3d.name}"


def test_product_model_upload_refuses_a_file_that_is_not_glb(fair, media):
    product = make_product(fair.company, sku="FR-1")

    response = client_for(fair.owner).post(
        product_url(product.pk, "model"),
        {"model_3d": SimpleUploadedFile("fridge.glb", b"<html>" * 10, "model/gltf-binary")},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json() == {"model_3d": ["This file is not a GLB (binary glTF 2.0) 3D model."]}
    product.refresh_from_db()
    assert not product.model_3d


@pytest.mark.parametrize("role", ["anonymous", "sales", *OUTSIDERS])
def test_product_model_upload_denied_roles_change_nothing(fair, media, role):
    product = make_product(fair.company, sku="FR-1")

    response = client_for(fair.user(role)).post(
        product_url(product.pk, "model"),
        {"model_3d": SimpleUploadedFile("fridge.glb", glb_bytes(), "model/gltf-binary")},
        format="multipart",
    )

    assert_denied(response, role)
    product.refresh_from_db()
    assert not product.model_3d
