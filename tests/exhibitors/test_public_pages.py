"""Public catalogue pages: directory, booth, product, category tree (issue 3, item 6)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from exhibitors import services
from exhibitors.models import Exhibitor
from exhibitors.views.public import CATEGORY_COUNTS_CACHE_KEY
from tests.exhibitors.factories_partc import (
    glb_upload,
    make_exhibitor,
    make_product,
    other_section,
    png_upload,
    section,
)
from tests.factories import make_buyer, make_organiser

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script>'
XSS_ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


def _warm(client, url: str) -> None:
    # First request fills the per-process caches (fair edition, category tree) so the
    # measured request shows the steady-state count.
    assert client.get(url).status_code == 200


# --- Directory -------------------------------------------------------------------------------


def test_directory_lists_only_approved_exhibitors_with_published_booths(client):
    shown, _ = make_exhibitor(name="Shown Lighting")
    make_exhibitor(name="Pending Co", status="pending")
    make_exhibitor(name="Rejected Co", status="rejected")
    make_exhibitor(name="Suspended Co", status="suspended")
    make_exhibitor(name="Unpublished Co", published=False)

    response = client.get(reverse("exhibitors:directory"))

    assert response.status_code == 200
    assert [e.pk for e in response.context["page"].object_list] == [shown.pk]
    html = response.content.decode()
    assert "Shown Lighting" in html
    for hidden in ("Pending Co", "Rejected Co", "Suspended Co", "Unpublished Co"):
        assert hidden not in html
    assert "<title>Exhibitors · CloudFair</title>" in html
    assert '<meta name="description" content="Browse 1 exhibitor at the fair' in html


def test_directory_card_shows_place_tagline_section_and_followers(client):
    exhibitor, _ = make_exhibitor(name="Card Co", city="Ningbo", tagline="Pumps for farms")
    Exhibitor.objects.filter(pk=exhibitor.pk).update(follower_count=7)

    html = client.get(reverse("exhibitors:directory")).content.decode()

    assert "China · Ningbo" in html
    assert "Pumps for farms" in html
    assert section().display_name in html
    assert "7 followers" in html
    assert reverse("exhibitors:booth", args=[exhibitor.slug]) in html


def test_directory_filter_by_section_and_category_keeps_matching_exhibitors(client):
    first = section()
    second = other_section(first)
    in_first, _ = make_exhibitor(name="First Section Co", booth_section=first)
    in_second, _ = make_exhibitor(name="Second Section Co", booth_section=second)
    url = reverse("exhibitors:directory")

    by_section = client.get(url, {"section": second.slug}).context["page"].object_list
    by_category = client.get(url, {"category": first.parent.slug}).context["page"].object_list

    assert [e.pk for e in by_section] == [in_second.pk]
    assert [e.pk for e in by_category] == [in_first.pk]


def test_directory_filter_by_country_live_and_new_launches(client):
    chinese, _ = make_exhibitor(name="China Co", country="CN")
    turkish, owner = make_exhibitor(name="Turkey Co", country="TR")
    live, _ = make_exhibitor(name="Live Co", country="CN")
    Exhibitor.objects.filter(pk=live.pk).update(is_live=True)
    make_product(turkish, owner, is_new_launch=True)
    launcher_unpublished, owner2 = make_exhibitor(name="Draft Launch Co")
    make_product(launcher_unpublished, owner2, is_new_launch=True, published=False)
    url = reverse("exhibitors:directory")

    def names(params):
        return [e.display_name for e in client.get(url, params).context["page"].object_list]

    assert names({"country": "TR"}) == ["Turkey Co"]
    assert names({"live": "on"}) == ["Live Co"]
    assert names({"new": "on"}) == ["Turkey Co"]
    assert names({"country": "CN", "live": "on"}) == ["Live Co"]
    assert chinese.display_name in names({"country": "CN"})


def test_directory_no_match_shows_empty_state(client):
    make_exhibitor(name="Only Co", country="CN")

    response = client.get(reverse("exhibitors:directory"), {"live": "on"})

    assert list(response.context["page"].object_list) == []
    assert "No exhibitor matches these filters" in response.content.decode()


def test_directory_paginates_24_per_page(client):
    for n in range(25):
        make_exhibitor(name=f"Company {n:02d}")
    url = reverse("exhibitors:directory")

    first = client.get(url)
    second = client.get(url, {"page": 2})

    assert len(first.context["page"].object_list) == 24
    assert [e.display_name for e in second.context["page"].object_list] == ["Company 24"]
    assert "<title>Exhibitors, page 2 · CloudFair</title>" in second.content.decode()


@pytest.mark.parametrize("n", [1, 3])
def test_directory_query_count_flat(client, django_assert_num_queries, n):
    for _ in range(n):
        exhibitor, owner = make_exhibitor()
        services.booth_update(
            user=owner,
            exhibitor_id=exhibitor.pk,
            data={},
            files={"logo": png_upload()},
        )
    url = reverse("exhibitors:directory")
    _warm(client, url)

    # count + page of exhibitors (booth and section joined)
    with django_assert_num_queries(2):
        response = client.get(url)

    assert len(response.context["page"].object_list) == n


# --- Booth -----------------------------------------------------------------------------------


def test_booth_page_shows_story_section_products_and_follower_count(client):
    exhibitor, owner = make_exhibitor(
        name="Bright Lamps",
        story="First paragraph.\n\nSecond paragraph.",
        certificates=["ISO 9001", "BSCI"],
        video_url="https://video.example/intro.mp4",
    )
    make_product(exhibitor, owner, name="Desk Lamp", images=1)
    make_product(exhibitor, owner, name="Hidden Draft", published=False)
    Exhibitor.objects.filter(pk=exhibitor.pk).update(follower_count=3)

    response = client.get(reverse("exhibitors:booth", args=[exhibitor.slug]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<p>First paragraph.</p>" in html
    assert "<p>Second paragraph.</p>" in html
    assert "Desk Lamp" in html
    assert "Hidden Draft" not in html
    assert "ISO 9001" in html and "BSCI" in html
    assert '<video controls preload="metadata" src="https://video.example/intro.mp4">' in html
    assert "3 followers" in html
    assert "<title>Bright Lamps: Quality lighting since 1998 · CloudFair</title>" in html
    description = '<meta name="description" content="Quality lighting since 1998 · First paragraph.'
    assert description in html


def test_booth_page_panorama_uses_local_pannellum(client, settings):
    exhibitor, owner = make_exhibitor()
    services.booth_update(
        user=owner,
        exhibitor_id=exhibitor.pk,
        data={},
        files={"panorama": png_upload(size=(200, 100))},
    )

    html = client.get(reverse("exhibitors:booth", args=[exhibitor.slug])).content.decode()

    assert 'data-panorama="/media/booths/' in html
    assert '<script src="/static/vendor/pannellum/pannellum.js" defer></script>' in html
    assert "/static/vendor/pannellum/pannellum.css" in html
    assert "cdn" not in html.lower()


@pytest.mark.parametrize(
    ("status", "published"),
    [("pending", True), ("rejected", True), ("suspended", True), ("approved", False)],
)
def test_booth_page_not_public_is_404(client, status, published):
    exhibitor, _ = make_exhibitor(status=status, published=published)

    response = client.get(reverse("exhibitors:booth", args=[exhibitor.slug]))

    assert response.status_code == 404
    assert exhibitor.display_name not in response.content.decode()


def test_booth_page_nonexistent_is_404(client):
    assert client.get(reverse("exhibitors:booth", args=["no-such-company"])).status_code == 404


def test_booth_page_contact_details_hidden_from_anonymous(client):
    exhibitor, _ = make_exhibitor(
        contact_person="Li Wei", contact_email="sales@bright.example", contact_phone="+86 20 1234"
    )
    url = reverse("exhibitors:booth", args=[exhibitor.slug])

    html = client.get(url).content.decode()

    assert "Li Wei" not in html
    assert "sales@bright.example" not in html
    assert "+86 20 1234" not in html
    assert "Log in to see contact details" in html


def test_booth_page_contact_details_shown_to_signed_in_buyer(client):
    exhibitor, _ = make_exhibitor(
        contact_person="Li Wei", contact_email="sales@bright.example", contact_phone="+86 20 1234"
    )
    client.force_login(make_buyer())

    html = client.get(reverse("exhibitors:booth", args=[exhibitor.slug])).content.decode()

    assert "Li Wei" in html
    assert "sales@bright.example" in html
    assert "+86 20 1234" in html
    assert "Log in to see contact details" not in html


def test_booth_page_xss_in_story_and_product_name_is_escaped(client):
    exhibitor, owner = make_exhibitor(story=f"Hello {XSS}", tagline=f"Tag {XSS}")
    make_product(exhibitor, owner, name=f"Lamp {XSS}")

    html = client.get(reverse("exhibitors:booth", args=[exhibitor.slug])).content.decode()

    assert XSS not in html
    assert f"Hello {XSS_ESCAPED}" in html
    assert f"Lamp {XSS_ESCAPED}" in html


def test_booth_page_products_paginate_24(client):
    exhibitor, owner = make_exhibitor()
    for n in range(25):
        make_product(exhibitor, owner, name=f"Item {n:02d}")
    url = reverse("exhibitors:booth", args=[exhibitor.slug])

    first = client.get(url)
    htmx = {"HX-Request": "true", "HX-Target": "booth-products"}
    second = client.get(url, {"page": 2}, headers=htmx)

    assert len(first.context["page"].object_list) == 24
    assert [p.name for p in second.context["page"].object_list] == ["Item 00"]
    assert second.templates[0].name == "exhibitors/public/_booth_products.html"


@pytest.mark.parametrize("n", [1, 3])
def test_booth_page_query_count_flat_anonymous(client, django_assert_num_queries, n):
    exhibitor, owner = make_exhibitor()
    for _ in range(n):
        make_product(exhibitor, owner, images=2)
    url = reverse("exhibitors:booth", args=[exhibitor.slug])
    _warm(client, url)

    # exhibitor+booth+section, product count, product page, cover images, live sessions
    with django_assert_num_queries(5):
        response = client.get(url)

    assert len(response.context["page"].object_list) == n


@pytest.mark.parametrize("n", [1, 3])
def test_booth_page_query_count_flat_buyer(client, django_assert_num_queries, n):
    exhibitor, owner = make_exhibitor()
    for _ in range(n):
        make_product(exhibitor, owner, images=2)
    client.force_login(make_buyer())
    url = reverse("exhibitors:booth", args=[exhibitor.slug])
    _warm(client, url)

    # user, the 5 of the anonymous page, organiser group, buyer profile, follow state, the
    # negotiation button's state (the session comes from the cache)
    with django_assert_num_queries(10):
        response = client.get(url)

    assert len(response.context["page"].object_list) == n


# --- Product ---------------------------------------------------------------------------------


def test_product_page_shows_facts_specs_certifications_and_exhibitor_card(client):
    exhibitor, owner = make_exhibitor(name="Pump Works")
    product = make_product(
        exhibitor,
        owner,
        name="Garden Pump",
        images=2,
        specs=[["Power", "750 W"], ["Head", "40 m"]],
        certifications=["CE", "RoHS"],
        price_min="12.50",
        price_max="15.00",
        currency="USD",
        incoterm="FOB",
        port_of_loading="Ningbo",
        lead_time_days=30,
        hs_code="8413.70",
        samples="paid",
        is_new_launch=True,
    )

    response = client.get(reverse("exhibitors:product", args=[product.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Garden Pump by Pump Works · CloudFair</title>" in html
    assert '<meta name="description" content="A fine product.">' in html
    assert '<tr><th scope="row">Power</th><td>750 W</td></tr>' in html
    assert '<tr><th scope="row">Head</th><td>40 m</td></tr>' in html
    assert "USD 12.50 – 15.00 FOB" in html
    assert "100 pieces" in html
    assert "Ningbo" in html and "30 days" in html and "8413.70" in html
    assert "Paid samples" in html
    assert "New launch" in html
    assert "<li>CE</li>" in html and "<li>RoHS</li>" in html
    assert 'alt="View 1"' in html and "Show image 2: View 2" in html
    assert reverse("exhibitors:booth", args=[exhibitor.slug]) in html
    assert "model-viewer" not in html


def test_product_page_with_3d_model_uses_local_model_viewer(client):
    exhibitor, owner = make_exhibitor()
    product = make_product(exhibitor, owner)
    services.product_model_set(user=owner, product_id=product.pk, upload=glb_upload())

    html = client.get(reverse("exhibitors:product", args=[product.pk])).content.decode()

    assert '<script type="module" src="/static/vendor/model-viewer/model-viewer.min.js">' in html
    assert '<model-viewer src="/media/products/' in html


def test_product_page_xss_in_name_and_specs_is_escaped(client):
    exhibitor, owner = make_exhibitor()
    product = make_product(exhibitor, owner, name=f"Pump {XSS}", specs=[[XSS, XSS]])

    html = client.get(reverse("exhibitors:product", args=[product.pk])).content.decode()

    assert XSS not in html
    assert f"Pump {XSS_ESCAPED}" in html


@pytest.mark.parametrize("case", ["unpublished", "pending", "suspended", "rejected"])
def test_product_page_not_public_is_404(client, case):
    status = case if case != "unpublished" else "approved"
    exhibitor, owner = make_exhibitor(status="approved")
    product = make_product(exhibitor, owner, published=case != "unpublished")
    organiser = make_organiser()
    if case == "suspended":
        services.exhibitor_suspend(actor=organiser, exhibitor_id=exhibitor.pk, reason="Audit")
    elif case in ("pending", "rejected"):
        exhibitor, owner = make_exhibitor(status=status)
        product = make_product(exhibitor, owner)

    response = client.get(reverse("exhibitors:product", args=[product.pk]))

    assert response.status_code == 404
    assert product.name not in response.content.decode()


def test_product_page_nonexistent_is_404(client):
    assert client.get(reverse("exhibitors:product", args=[999999999])).status_code == 404


@pytest.mark.parametrize("n", [1, 3])
def test_product_page_query_count_flat(client, django_assert_num_queries, n):
    exhibitor, owner = make_exhibitor()
    product = make_product(exhibitor, owner, images=n)
    url = reverse("exhibitors:product", args=[product.pk])
    _warm(client, url)

    # product with exhibitor/booth/category/parent, its images
    with django_assert_num_queries(2):
        response = client.get(url)

    assert len(response.context["images"]) == n


# --- Categories ------------------------------------------------------------------------------


def test_categories_page_counts_public_products_per_section_and_category(client):
    first = section()
    second = other_section(first)
    exhibitor, owner = make_exhibitor()
    make_product(exhibitor, owner, category=first)
    make_product(exhibitor, owner, category=first)
    make_product(exhibitor, owner, category=second)
    make_product(exhibitor, owner, category=first, published=False)
    pending, pending_owner = make_exhibitor(status="pending")
    make_product(pending, pending_owner, category=first)

    response = client.get(reverse("exhibitors:categories"))

    tree = response.context["tree"]
    assert tree.by_slug[first.slug].product_count == 2
    assert tree.by_slug[second.slug].product_count == 1
    assert tree.by_slug[first.parent.slug].product_count == 2
    assert tree.by_slug[second.parent.slug].product_count == 1
    assert len(tree.roots) == 16
    assert sum(len(root.children) for root in tree.roots) == 50
    assert f'data-testid="count-{first.slug}">(2)</span>' in response.content.decode()
    assert cache.get(CATEGORY_COUNTS_CACHE_KEY) is not None


def test_categories_page_counts_are_cached(client, django_assert_num_queries):
    url = reverse("exhibitors:categories")
    # categories, counts, fair edition (two queries while no edition exists), announcements
    with django_assert_num_queries(5):
        client.get(url)

    with django_assert_num_queries(0):
        client.get(url)


def test_category_page_lists_public_products_of_section_and_of_category(client):
    first = section()
    exhibitor, owner = make_exhibitor(name="Maker")
    shown = make_product(exhibitor, owner, category=first, name="Shown Thing")
    make_product(exhibitor, owner, category=first, name="Draft Thing", published=False)

    by_section = client.get(reverse("exhibitors:category", args=[first.slug]))
    by_category = client.get(reverse("exhibitors:category", args=[first.parent.slug]))

    assert [p.pk for p in by_section.context["page"].object_list] == [shown.pk]
    assert [p.pk for p in by_category.context["page"].object_list] == [shown.pk]
    html = by_section.content.decode()
    assert f"<title>{first.display_name} · CloudFair</title>" in html
    assert "Draft Thing" not in html


def test_category_page_unknown_slug_is_404(client):
    assert client.get(reverse("exhibitors:category", args=["no-such"])).status_code == 404


@pytest.mark.parametrize("n", [1, 3])
def test_category_page_query_count_flat(client, django_assert_num_queries, n):
    first = section()
    exhibitor, owner = make_exhibitor()
    for _ in range(n):
        make_product(exhibitor, owner, category=first, images=2)
    url = reverse("exhibitors:category", args=[first.slug])
    _warm(client, url)

    # page of products (exhibitor, category joined) + cover images; the total is cached
    with django_assert_num_queries(2):
        response = client.get(url)

    assert len(response.context["page"].object_list) == n
