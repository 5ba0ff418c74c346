"""Catalogue search (exhibitors.search), its page, API and the seed_scale command, on
PostgreSQL with the migration's trigger and indexes."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from exhibitors import search as search_module
from exhibitors.api.search import ProductSearchApi
from exhibitors.models import Booth, Exhibitor, Product, ProductImage
from exhibitors.search import (
    SearchParams,
    products_search,
    products_suggest,
    search_words_refresh,
)
from exhibitors.services import (
    exhibitor_apply,
    exhibitor_approve,
    exhibitor_live_set,
    exhibitor_profile_update,
    exhibitor_reinstate,
    exhibitor_suspend,
    product_create,
    product_publish,
    product_update,
)
from fair.models import Category
from tests.factories import make_organiser, make_user

pytestmark = pytest.mark.django_db

_sku = itertools.count(1)


def make_exhibitor(*, name="Acme Appliances", country="CN", approve=True, organiser=None):
    owner = make_user()
    exhibitor = exhibitor_apply(
        user=owner,
        display_name=name,
        legal_name=f"{name} Ltd",
        country=country,
        description="We make things.",
    )
    if approve:
        exhibitor_approve(actor=organiser or make_organiser(), exhibitor_id=exhibitor.pk)
    exhibitor.refresh_from_db()
    exhibitor.owner = owner
    return exhibitor


def make_product(exhibitor, *, name, section="household-appliances", published=True, **data):
    data.setdefault("description", "")
    product = product_create(
        user=exhibitor.owner,
        exhibitor_id=exhibitor.pk,
        data={
            "sku": f"SKU-{next(_sku)}",
            "name": name,
            "category": Category.objects.get(slug=section),
            "is_published": published,
            **data,
        },
    )
    return product


def names(result):
    return [p.name for p in result.products]


# --- Ranking and matching --------------------------------------------------------------------


def test_products_search_name_match_outranks_description_match():
    exhibitor = make_exhibitor()
    make_product(exhibitor, name="Kitchen helper", description="Works with any blender jar.")
    make_product(exhibitor, name="Power blender 1200W")

    result = products_search(SearchParams(q="blender"))

    assert names(result) == ["Power blender 1200W", "Kitchen helper"]
    assert result.total == 1 + 1
    assert result.corrected_query is None


def test_products_search_plural_query_matches_singular_name():
    exhibitor = make_exhibitor()
    make_product(exhibitor, name="Stainless steel pot")

    result = products_search(SearchParams(q="stainless steel pots"))

    assert names(result) == ["Stainless steel pot"]


def test_products_search_typo_finds_refrigerator_and_reports_correction():
    exhibitor = make_exhibitor()
    make_product(exhibitor, name="Double door refrigerator")
    make_product(exhibitor, name="Washing machine")

    result = products_search(SearchParams(q="refrigirator"))

    assert names(result) == ["Double door refrigerator"]
    assert result.corrected_query == "refrigerator"


def test_products_search_unknown_word_without_match_reports_no_correction():
    exhibitor = make_exhibitor()
    make_product(exhibitor, name="Washing machine")

    result = products_search(SearchParams(q="zyxwvut"))

    assert result.products == []
    assert result.total == 0
    assert result.corrected_query is None


def test_products_search_trigger_updates_vector_when_name_changes():
    exhibitor = make_exhibitor()
    product = make_product(exhibitor, name="Rice cooker")

    product_update(user=exhibitor.owner, product_id=product.pk, data={"name": "Air fryer"})

    assert names(products_search(SearchParams(q="fryer"))) == ["Air fryer"]
    assert products_search(SearchParams(q="cooker")).total == 0


def test_products_search_category_name_matches_products_of_that_section():
    exhibitor = make_exhibitor()
    make_product(exhibitor, name="Alloy frame", section="bicycles")
    make_product(exhibitor, name="Steel frame", section="motorcycles")

    assert names(products_search(SearchParams(q="bicycles"))) == ["Alloy frame"]


# --- Filters ---------------------------------------------------------------------------------


@pytest.fixture
def catalogue():
    organiser = make_organiser()
    cn = make_exhibitor(name="Guangzhou Cooling", country="CN", organiser=organiser)
    de = make_exhibitor(name="Berlin Kitchen", country="DE", organiser=organiser)
    Exhibitor.objects.filter(pk=de.pk).update(is_live=True)
    products = {
        "fridge": make_product(
            cn,
            name="Fridge A",
            price_min=Decimal("100"),
            price_max=Decimal("150"),
            currency="USD",
            moq=100,
            certifications=["CE", "RoHS"],
        ),
        "fridge_eur": make_product(
            cn,
            name="Fridge B",
            price_min=Decimal("120"),
            price_max=Decimal("130"),
            currency="EUR",
            moq=10,
            is_new_launch=True,
        ),
        "fridge_tv": make_product(
            cn,
            name="Fridge C",
            section="consumer-electronics",
            price_min=Decimal("300"),
            currency="USD",
            moq=500,
            certifications=["FCC"],
        ),
        "fridge_de": make_product(
            de,
            name="Fridge D",
            section="kitchenware-tableware",
            price_min=Decimal("50"),
            price_max=Decimal("90"),
            currency="USD",
            moq=1,
            certifications=["CE"],
            is_new_launch=True,
        ),
    }
    return products


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "household-appliances"}, {"Fridge A", "Fridge B"}),
        ({"category": "electronics-appliances"}, {"Fridge A", "Fridge B", "Fridge C"}),
        ({"category": "no-such-category"}, set()),
        ({"country": "DE"}, {"Fridge D"}),
        ({"currency": "USD", "price_min": Decimal("140"), "price_max": Decimal("400")},
         {"Fridge A", "Fridge C"}),
        ({"currency": "USD", "price_max": Decimal("60")}, {"Fridge D"}),
        ({"currency": "EUR", "price_min": Decimal("0")}, {"Fridge B"}),
        ({"moq_max": 100}, {"Fridge A", "Fridge B", "Fridge D"}),
        ({"certification": "CE"}, {"Fridge A", "Fridge D"}),
        ({"new_launch": True}, {"Fridge B", "Fridge D"}),
        ({"live": True}, {"Fridge D"}),
        ({"certification": "CE", "country": "CN"}, {"Fridge A"}),
    ],
)  # fmt: skip
def test_products_search_filter_gives_exact_result_set(catalogue, params, expected):
    result = products_search(SearchParams(q="fridge", **params))

    assert set(names(result)) == expected
    assert result.total == len(expected)


def test_products_search_price_without_currency_does_not_filter(catalogue):
    result = products_search(SearchParams(q="fridge", price_max=Decimal("1")))

    assert result.total == 4


def test_products_search_facets_give_exact_counts(catalogue):
    result = products_search(SearchParams(q="fridge"))

    facets = result.facets
    assert [(f.value, f.count) for f in facets.categories] == [
        ("electronics-appliances", 3),
        ("consumer-goods", 1),
    ]
    assert [(f.value, f.count) for f in facets.countries] == [("CN", 3), ("DE", 1)]
    assert facets.new_launch == 2
    assert facets.live == 1
    assert facets.is_estimate is False


def test_products_search_facets_follow_filters(catalogue):
    result = products_search(SearchParams(q="fridge", country="CN", new_launch=True))

    assert [(f.value, f.count) for f in result.facets.categories] == [("electronics-appliances", 1)]
    assert result.facets.new_launch == 1
    assert result.facets.live == 0


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price_asc", ["Fridge D", "Fridge A", "Fridge B", "Fridge C"]),
        ("price_desc", ["Fridge C", "Fridge B", "Fridge A", "Fridge D"]),
        ("newest", ["Fridge D", "Fridge C", "Fridge B", "Fridge A"]),
    ],
)
def test_products_search_sort_orders(catalogue, sort, expected):
    now = timezone.now()
    for n, key in enumerate(["fridge", "fridge_eur", "fridge_tv", "fridge_de"]):
        Product.objects.filter(pk=catalogue[key].pk).update(created_at=now + timedelta(minutes=n))

    assert names(products_search(SearchParams(q="fridge", sort=sort))) == expected


def test_products_search_pagination_pages_of_24():
    exhibitor = make_exhibitor()
    for n in range(26):
        make_product(exhibitor, name=f"Desk lamp model {n}")

    first = products_search(SearchParams(q="lamp", sort="newest"))
    second = products_search(SearchParams(q="lamp", sort="newest", page=2))

    assert (first.total, first.num_pages, len(first.products)) == (26, 2, 24)
    assert (first.has_previous, first.has_next) == (False, True)
    assert (second.page, len(second.products), second.has_next) == (2, 2, False)
    assert not {p.pk for p in first.products} & {p.pk for p in second.products}


def test_products_search_without_query_lists_category_newest_first():
    exhibitor = make_exhibitor()
    make_product(exhibitor, name="Old fan")
    make_product(exhibitor, name="New fan")
    make_product(exhibitor, name="Chair", section="furniture")

    result = products_search(SearchParams(category="household-appliances"))

    assert names(result) == ["New fan", "Old fan"]


# --- Visibility ------------------------------------------------------------------------------


@pytest.fixture
def hidden_catalogue():
    organiser = make_organiser()
    public = make_exhibitor(name="Public Heater Works", organiser=organiser)
    pending = make_exhibitor(name="Pending Heater Works", approve=False)
    suspended = make_exhibitor(name="Suspended Heater Works", organiser=organiser)
    make_product(public, name="Heater visible")
    make_product(public, name="Heater draft secretword", published=False)
    make_product(pending, name="Heater pending")
    make_product(suspended, name="Heater suspended", section="furniture")
    exhibitor_suspend(actor=organiser, exhibitor_id=suspended.pk, reason="Fake certificates")
    search_words_refresh()
    return public


def test_products_search_never_shows_unpublished_or_non_approved(hidden_catalogue):
    result = products_search(SearchParams(q="heater"))

    assert names(result) == ["Heater visible"]
    assert result.total == 1
    assert [(f.value, f.count) for f in result.facets.categories] == [("electronics-appliances", 1)]
    assert [e.display_name for e in result.exhibitors] == ["Public Heater Works"]


def test_products_search_never_reveals_unpublished_word_as_correction(hidden_catalogue):
    result = products_search(SearchParams(q="secretwrd"))

    assert result.products == []
    assert result.corrected_query is None


def test_products_suggest_never_offers_hidden_products_or_words(hidden_catalogue):
    assert products_suggest("heater") == ["Heater visible"]
    assert products_suggest("secre") == []


def test_products_suggest_completes_names_and_words():
    exhibitor = make_exhibitor()
    make_product(exhibitor, name="Stainless steel pot")
    make_product(exhibitor, name="Stainless steel pan")
    search_words_refresh()

    assert products_suggest("stainless steel p") == ["Stainless steel pot", "Stainless steel pan"]
    assert products_suggest("stai") == ["Stainless steel pot", "Stainless steel pan", "stainless"]
    assert products_suggest("s") == []


# --- Search columns kept on the product (migration 0004) ------------------------------------


def search_columns(product):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_public, search_country, search_live, search_top_category_id "
            "FROM exhibitors_product WHERE id = %s",
            [product.pk],
        )
        return cursor.fetchone()


def test_search_columns_set_on_create_from_exhibitor_and_section():
    exhibitor = make_exhibitor(country="VN")
    published = make_product(exhibitor, name="Rice cooker", section="kitchenware-tableware")
    draft = make_product(exhibitor, name="Draft cooker", published=False)

    top = Category.objects.get(slug="kitchenware-tableware").parent_id
    assert search_columns(published) == (True, "VN", False, top)
    assert search_columns(draft) == (
        False,
        "VN",
        False,
        Category.objects.get(slug="household-appliances").parent_id,
    )


def test_search_columns_of_pending_exhibitor_are_not_public():
    exhibitor = make_exhibitor(approve=False)
    product = make_product(exhibitor, name="Pending kettle")

    assert search_columns(product)[0] is False


def test_search_columns_follow_suspension_and_reinstatement():
    organiser = make_organiser()
    exhibitor = make_exhibitor(organiser=organiser)
    product = make_product(exhibitor, name="Suspended fan")
    draft = make_product(exhibitor, name="Draft fan", published=False)

    exhibitor_suspend(actor=organiser, exhibitor_id=exhibitor.pk, reason="Fake certificates")

    assert search_columns(product)[0] is False
    assert products_search(SearchParams(q="fan")).total == 0
    assert products_search(SearchParams()).total == 0

    exhibitor_reinstate(actor=organiser, exhibitor_id=exhibitor.pk)

    assert search_columns(product)[0] is True
    assert search_columns(draft)[0] is False
    assert names(products_search(SearchParams(q="fan"))) == ["Suspended fan"]


def test_search_columns_follow_approval():
    organiser = make_organiser()
    exhibitor = make_exhibitor(approve=False)
    product = make_product(exhibitor, name="Waiting heater")
    assert products_search(SearchParams(q="heater")).total == 0

    exhibitor_approve(actor=organiser, exhibitor_id=exhibitor.pk)

    assert search_columns(product)[0] is True
    assert names(products_search(SearchParams(q="heater"))) == ["Waiting heater"]


def test_search_columns_follow_publish_and_unpublish():
    exhibitor = make_exhibitor()
    product = make_product(exhibitor, name="Toggle lamp", published=False)

    product_publish(user=exhibitor.owner, product_id=product.pk, published=True)
    assert search_columns(product)[0] is True
    assert products_search(SearchParams(q="lamp")).total == 1

    product_publish(user=exhibitor.owner, product_id=product.pk, published=False)
    assert search_columns(product)[0] is False
    assert products_search(SearchParams(q="lamp")).total == 0


def test_search_columns_follow_country_live_and_section_changes():
    exhibitor = make_exhibitor(country="CN")
    product = make_product(exhibitor, name="Moving sofa")
    other = make_exhibitor(name="Other Works", country="BR")
    other_product = make_product(other, name="Staying sofa")

    exhibitor_profile_update(
        user=exhibitor.owner, exhibitor_id=exhibitor.pk, data={"country": "DE"}
    )
    exhibitor_live_set(exhibitor_id=exhibitor.pk, is_live=True)
    product_update(
        user=exhibitor.owner,
        product_id=product.pk,
        data={"category": Category.objects.get(slug="furniture")},
    )

    furniture_top = Category.objects.get(slug="furniture").parent_id
    assert search_columns(product) == (True, "DE", True, furniture_top)
    assert search_columns(other_product)[1:3] == ("BR", False)
    assert names(products_search(SearchParams(q="sofa", country="DE", live=True))) == [
        "Moving sofa"
    ]

    exhibitor_live_set(exhibitor_id=exhibitor.pk, is_live=False)

    assert search_columns(product)[2] is False
    assert products_search(SearchParams(q="sofa", live=True)).total == 0


# --- Caps --------------------------------------------------------------------------------------


@pytest.fixture
def five_lamps():
    exhibitor = make_exhibitor()
    now = timezone.now()
    products = []
    for n in range(5):
        product = make_product(exhibitor, name=f"Desk lamp {n}", price_min=Decimal(10 + n))
        Product.objects.filter(pk=product.pk).update(created_at=now + timedelta(minutes=n))
        products.append(product)
    return products


def test_products_search_over_cap_counts_first_matches_as_estimate(monkeypatch, five_lamps):
    monkeypatch.setattr(search_module, "COUNT_CAP", 3)

    result = products_search(SearchParams(q="lamp"))

    assert (result.total, result.total_is_estimate, result.facets.is_estimate) == (3, True, True)
    assert result.num_pages == 1
    assert len(result.products) == 3
    assert [(f.value, f.count) for f in result.facets.countries] == [("CN", 3)]
    assert result.facets.new_launch == 0


def test_products_search_over_cap_sorts_all_matches_by_index(monkeypatch, five_lamps):
    monkeypatch.setattr(search_module, "COUNT_CAP", 3)

    newest = products_search(SearchParams(q="lamp", sort="newest"))
    cheapest = products_search(SearchParams(q="lamp", sort="price_asc"))

    assert names(newest) == [
        "Desk lamp 4",
        "Desk lamp 3",
        "Desk lamp 2",
        "Desk lamp 1",
        "Desk lamp 0",
    ]
    assert names(cheapest) == [
        "Desk lamp 0",
        "Desk lamp 1",
        "Desk lamp 2",
        "Desk lamp 3",
        "Desk lamp 4",
    ]


def test_products_search_within_cap_is_exact(five_lamps):
    result = products_search(SearchParams(q="lamp"))

    assert (result.total, result.total_is_estimate, result.facets.is_estimate) == (5, False, False)


def test_products_search_counts_only_returns_no_products(five_lamps):
    result = products_search(SearchParams(q="lamp"), counts_only=True)

    assert (result.total, result.products, result.exhibitors) == (5, [], [])


@pytest.mark.parametrize("max_share", [1.0, -1.0])
def test_products_search_common_and_rare_filter_values_give_same_results(
    catalogue, monkeypatch, max_share
):
    # A value's share above the limit moves its filter from the index to the rows read.
    monkeypatch.setattr(search_module, "_INDEX_FILTER_MAX_SHARE", max_share)
    search_module._value_shares.clear()

    result = products_search(SearchParams(q="fridge", country="CN", moq_max=100))

    assert set(names(result)) == {"Fridge A", "Fridge B"}
    assert [(f.value, f.count) for f in result.facets.countries] == [("CN", 2)]


def test_products_search_never_corrects_to_a_word_with_digits():
    exhibitor = make_exhibitor()
    make_product(exhibitor, name="Kettle kx2040")

    result = products_search(SearchParams(q="kx"))  # too short to correct, no match
    typo = products_search(SearchParams(q="kxa"))

    assert (result.total, result.corrected_query) == (0, None)
    assert (typo.total, typo.corrected_query) == (0, None)


# --- Timeout ---------------------------------------------------------------------------------


def test_products_search_statement_timeout_returns_graceful_answer(monkeypatch):
    exhibitor = make_exhibitor()
    make_product(exhibitor, name="Slow cooker")
    real = search_module.words_correct

    def slow_words_correct(cursor, words, **kwargs):
        cursor.execute("SELECT pg_sleep(0.2)")
        return real(cursor, words, **kwargs)

    monkeypatch.setattr(search_module, "words_correct", slow_words_correct)

    result = products_search(SearchParams(q="cooker"), timeout_ms=20)

    assert result.timed_out is True
    assert result.products == []
    with connection.cursor() as cursor:  # the connection is usable and the timeout restored
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


def test_search_page_timeout_shows_narrow_it_down(client, monkeypatch):
    monkeypatch.setattr(search_module, "STATEMENT_TIMEOUT_MS", 20)

    def slow(cursor, words, **kwargs):
        cursor.execute("SELECT pg_sleep(0.2)")
        return words

    monkeypatch.setattr(search_module, "words_correct", slow)

    response = client.get(reverse("exhibitors:search"), {"q": "cooker"})

    assert response.status_code == 200
    assert b'data-testid="search-timeout"' in response.content


# --- Page, autocomplete endpoint and API -----------------------------------------------------


def test_search_page_shows_results_facets_and_correction(client):
    exhibitor = make_exhibitor(name="Cool Fridge Factory")
    make_product(
        exhibitor,
        name="Compact refrigerator",
        price_min=Decimal("80"),
        price_max=Decimal("95"),
        is_new_launch=True,
    )

    response = client.get(reverse("exhibitors:search"), {"q": "refrigirator"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "Compact refrigerator" in content
    assert 'data-testid="search-correction"' in content
    assert "USD 80.00–95.00" in content
    assert reverse("exhibitors:booth", args=[exhibitor.slug]) in content
    assert "<title>“refrigirator”: products and exhibitors" in content


def test_search_page_empty_state(client):
    response = client.get(reverse("exhibitors:search"), {"q": "nothing"})

    assert response.status_code == 200
    assert b'data-testid="empty"' in response.content


def test_search_page_htmx_request_returns_results_fragment(client):
    response = client.get(
        reverse("exhibitors:search"),
        {"q": "anything"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="search-results",
    )

    assert response.status_code == 200
    assert response.content.decode().startswith('<section id="search-results"')


def test_search_page_invalid_filter_values_are_ignored(client):
    response = client.get(
        reverse("exhibitors:search"), {"q": "x", "price_min": "abc", "sort": "evil", "page": "-3"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 3])
def test_search_page_query_count_is_constant(client, django_assert_num_queries, count):
    exhibitor = make_exhibitor()
    for n in range(count):
        product = make_product(exhibitor, name=f"Toaster {n}")
        ProductImage.objects.create(product=product, image=f"p/{n}.jpg", position=0)
    products_search(SearchParams(q="kettle"))  # the category tree read and kept

    # savepoint, settings + category fingerprint + word check, counts + facets + ranked ids,
    # products with exhibitor and first image, exhibitor matches, timeout restore, savepoint
    # release; base template's edition x2 and announcements
    with django_assert_num_queries(10):
        response = client.get(reverse("exhibitors:search"), {"q": "toaster"})

    content = response.content.decode()
    assert content.count('class="product-card card"') == count
    assert content.count('class="product-thumb"') == count


def test_products_search_reads_categories_again_when_they_change():
    exhibitor = make_exhibitor()
    make_product(exhibitor, name="Folding chair", section="furniture")
    assert products_search(SearchParams(q="chair", category="furniture")).total == 1

    Category.objects.filter(slug="furniture").update(slug="home-furniture")

    assert products_search(SearchParams(q="chair", category="furniture")).total == 0
    result = products_search(SearchParams(q="chair", category="home-furniture"))
    assert names(result) == ["Folding chair"]
    assert "home-furniture" in {c.slug for c in result.categories}


def test_products_search_result_cards_carry_what_templates_and_api_read(
    django_assert_num_queries,
):
    exhibitor = make_exhibitor(name="Card Works", country="VN")
    product = make_product(
        exhibitor,
        name="Card kettle",
        section="kitchenware-tableware",
        price_min=Decimal("5"),
        price_max=Decimal("7.5"),
        currency="EUR",
        moq=50,
        moq_unit="sets",
        is_new_launch=True,
        certifications=["CE"],
        description="Long text",
    )
    ProductImage.objects.create(product=product, image="p/second.jpg", position=2)
    ProductImage.objects.create(product=product, image="p/first.jpg", alt_text="Kettle", position=1)
    make_product(exhibitor, name="Hidden kettle", published=False)

    result = products_search(SearchParams(q="kettle"))

    with django_assert_num_queries(0):  # nothing the cards read is deferred
        [card] = result.products
        assert (card.pk, card.name, card.price_min, card.price_max, card.currency) == (
            product.pk,
            "Card kettle",
            Decimal("5.00"),
            Decimal("7.50"),
            "EUR",
        )
        assert (card.moq, card.moq_unit, card.is_new_launch, card.certifications) == (
            50,
            "sets",
            True,
            ["CE"],
        )
        assert (card.exhibitor.display_name, card.exhibitor.slug) == ("Card Works", exhibitor.slug)
        assert (card.exhibitor.country.code, card.exhibitor.country.name) == ("VN", "Vietnam")
        assert card.category.slug == "kitchenware-tableware"
        assert [(i.image.name, i.alt_text) for i in card.ordered_images] == [
            ("p/first.jpg", "Kettle")
        ]
    assert card.description == "Long text"  # deferred, still readable


def test_search_suggest_endpoint_answers_json(client):
    exhibitor = make_exhibitor()
    make_product(exhibitor, name="Bamboo cutting board")

    response = client.get(reverse("exhibitors:search_suggest"), {"q": "bamb"})

    assert response.status_code == 200
    assert response.json()["suggestions"][0] == "Bamboo cutting board"


def test_product_search_api_returns_results_and_facets(catalogue):
    request = APIRequestFactory().get("/api/v1/search/", {"q": "fridge", "country": "DE"})

    response = ProductSearchApi.as_view()(request)

    assert response.status_code == 200
    assert response.data["total"] == 1
    assert [r["name"] for r in response.data["results"]] == ["Fridge D"]
    assert response.data["results"][0]["exhibitor_country"] == "DE"
    assert response.data["facets"]["countries"] == [{"value": "DE", "label": "Germany", "count": 1}]


def test_product_search_api_rejects_bad_sort():
    request = APIRequestFactory().get("/api/v1/search/", {"q": "x", "sort": "drop"})

    response = ProductSearchApi.as_view()(request)

    assert response.status_code == 400


# --- seed_scale ------------------------------------------------------------------------------


def test_seed_scale_tiny_produces_exact_counts_and_is_idempotent():
    call_command("seed_scale", exhibitors=5, products=200, stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_scale", exhibitors=5, products=200, stdout=open("/dev/null", "w"))  # noqa: SIM115

    seeded = Exhibitor.objects.filter(slug__startswith="scale-")
    assert seeded.filter(status=Exhibitor.Status.APPROVED).count() == 5
    assert Booth.objects.filter(exhibitor__in=seeded, is_published=True).count() == 5
    assert Product.objects.filter(exhibitor__in=seeded, is_published=True).count() == 200
    assert Product.objects.filter(search_vector__isnull=True).count() == 0
    assert products_search(SearchParams(q="")).total == 200
    with connection.cursor() as cursor:  # the search columns as the triggers would set them
        cursor.execute(
            """
            SELECT count(*) FROM exhibitors_product p
              JOIN exhibitors_exhibitor e ON e.id = p.exhibitor_id
              JOIN fair_category c ON c.id = p.category_id
             WHERE (p.search_public, p.search_country, p.search_live, p.search_top_category_id)
                   IS DISTINCT FROM (p.is_published AND e.status = 'approved', e.country,
                                     e.is_live, c.parent_id)
                OR p.search_vector IS DISTINCT FROM
                   exhibitors_product_vector(p.name, p.keywords, p.description, p.category_id)
            """
        )
        assert cursor.fetchone()[0] == 0


def test_seed_scale_same_seed_gives_same_products():
    out = open("/dev/null", "w")  # noqa: SIM115
    call_command("seed_scale", exhibitors=3, products=50, seed=7, stdout=out)
    first = list(Product.objects.order_by("id").values_list("name", "price_min", "category_id"))
    call_command("seed_scale", exhibitors=3, products=50, seed=7, reset=True, stdout=out)
    second = list(Product.objects.order_by("id").values_list("name", "price_min", "category_id"))

    assert len(first) == 50
    assert first == second
    assert len({name for name, _p, _c in first}) > 40  # varied names
