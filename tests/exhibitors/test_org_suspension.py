"""What a suspension does to the public side (booth, products, directory, search, API) and
what the company sees; reinstating brings everything back."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from exhibitors import services
from exhibitors.search import SearchParams, products_search
from fair.models import Category
from tests.exhibitors.factories import make_exhibitor, make_product, owner_of
from tests.factories import make_organiser

pytestmark = pytest.mark.django_db


def _search_public(product) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_public FROM exhibitors_product WHERE id = %s", [product.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def booth(organiser):
    exhibitor = make_exhibitor(name="Glowing Lanterns", organiser=organiser)
    owner = owner_of(exhibitor)
    services.booth_update(
        user=owner,
        exhibitor_id=exhibitor.pk,
        data={
            "tagline": "Paper lanterns since 1990",
            "section": Category.objects.get(slug="lighting-equipment"),
        },
    )
    services.booth_publish(user=owner, exhibitor_id=exhibitor.pk, published=True)
    product = make_product(exhibitor, sku="LAN-1", name="Silk lantern")
    return exhibitor, product


def _public_answers(client, exhibitor, product) -> dict[str, object]:
    slug = exhibitor.slug
    directory = client.get(reverse("exhibitors:directory")).content.decode()
    api_list = client.get(reverse("api_exhibitor_list")).json()
    api_search = client.get(reverse("api_search"), {"q": "lantern"}).json()
    search_page = client.get(reverse("exhibitors:search"), {"q": "lantern"}).content.decode()
    return {
        "booth": client.get(reverse("exhibitors:booth", args=[slug])).status_code,
        "product": client.get(reverse("exhibitors:product", args=[product.pk])).status_code,
        "directory": "Glowing Lanterns" in directory,
        "search_page": "Silk lantern" in search_page,
        "search": [p.name for p in products_search(SearchParams(q="lantern")).products],
        "search_column": _search_public(product),
        "api_list": [e["slug"] for e in api_list["results"]],
        "api_booth": client.get(reverse("api_exhibitor_detail", args=[slug])).status_code,
        "api_products": client.get(reverse("api_exhibitor_product_list", args=[slug])).status_code,
        "api_product": client.get(reverse("api_product_detail", args=[product.pk])).status_code,
        "api_search": [r["name"] for r in api_search["results"]],
    }


PUBLIC = {
    "booth": 200,
    "product": 200,
    "directory": True,
    "search_page": True,
    "search": ["Silk lantern"],
    "search_column": True,
    "api_list": ["glowing-lanterns"],
    "api_booth": 200,
    "api_products": 200,
    "api_product": 200,
    "api_search": ["Silk lantern"],
}
HIDDEN = {
    "booth": 404,
    "product": 404,
    "directory": False,
    "search_page": False,
    "search": [],
    "search_column": False,
    "api_list": [],
    "api_booth": 404,
    "api_products": 404,
    "api_product": 404,
    "api_search": [],
}


def test_org_suspend_hides_everything_public_and_reinstate_brings_it_back(client, organiser, booth):
    exhibitor, product = booth
    assert _public_answers(client, exhibitor, product) == PUBLIC

    client.force_login(organiser)
    client.post(reverse("org_exhibitors:suspend", args=[exhibitor.pk]), {"reason": "Fakes"})
    client.logout()

    assert _public_answers(client, exhibitor, product) == HIDDEN

    client.force_login(organiser)
    client.post(reverse("org_exhibitors:reinstate", args=[exhibitor.pk]))
    client.logout()

    assert _public_answers(client, exhibitor, product) == PUBLIC


def test_org_suspend_keeps_unpublished_products_out_of_search_after_reinstate(organiser, booth):
    exhibitor, _product = booth
    draft = make_product(exhibitor, sku="LAN-2", name="Draft lantern", published=False)

    services.exhibitor_suspend(actor=organiser, exhibitor_id=exhibitor.pk, reason="Check")
    services.exhibitor_reinstate(actor=organiser, exhibitor_id=exhibitor.pk)

    assert _search_public(draft) is False
    assert [p.name for p in products_search(SearchParams(q="lantern")).products] == ["Silk lantern"]


@pytest.mark.parametrize(
    ("action", "approved", "sentence"),
    [
        ("reject", False, "Your application was not accepted."),
        ("suspend", True, "Your company is suspended: your booth and products are hidden"),
    ],
)
def test_org_reason_reaches_applicant_by_email_and_on_their_page(
    client, django_capture_on_commit_callbacks, action, approved, sentence
):
    organiser = make_organiser()
    exhibitor = make_exhibitor(approved=approved)
    owner = owner_of(exhibitor)
    client.force_login(organiser)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse(f"org_exhibitors:{action}", args=[exhibitor.pk]),
            {"reason": "Your licence has expired."},
        )

    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "Reason: Your licence has expired." in mail.outbox[0].body
    client.force_login(owner)
    home = client.get(reverse("exhibitors:manage", args=[exhibitor.pk])).content.decode()
    assert sentence in home
    assert "Your licence has expired." in home
    api = client.get(reverse("api_my_exhibitor_detail", args=[exhibitor.pk]))
    assert api.json()["status_reason"] == "Your licence has expired."
