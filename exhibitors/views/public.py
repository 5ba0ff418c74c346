"""Public pages of the catalogue: the exhibitor directory, booths, products and the category
tree; plus the exhibitor's own visits page.

Everything public is read through ``exhibitors.selectors`` (approved exhibitors, published
booths and products only); a pending, rejected or suspended exhibitor, an unpublished booth
or product and an id that never existed all answer the same 404.

Following lives in the buyers app, which this app may not import: the booth page composes
the Follow button with the buyers template tag ``{% follow_button %}``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django_countries import countries

from exhibitors.models import Booth, BoothVisitor, Exhibitor, Product, ProductImage
from exhibitors.selectors import (
    access_exhibitor,
    exhibitor_public_get,
    exhibitors_public,
    product_public_get,
    products_public,
)
from exhibitors.visits import visit_record, visits_per_day
from fair.exceptions import NotFound
from fair.models import Category

PAGE_SIZE = 24
VISITORS_PAGE_SIZE = 50
VISIT_DAYS = 14

# The category tree (one query) and the public product counts per category (one aggregate
# over the catalogue), cached separately: the booth page and the directory need only the
# tree, so they never wait for the aggregate. Counts may lag by up to CATEGORY_COUNTS_TTL s.
CATEGORY_TREE_CACHE_KEY = "exhibitors:public:category-tree:v1"
CATEGORY_TREE_TTL = 300
CATEGORY_COUNTS_CACHE_KEY = "exhibitors:public:category-counts:v1"
CATEGORY_COUNTS_TTL = 300
DIRECTORY_COUNTRIES_CACHE_KEY = "exhibitors:public:directory-countries:v1"
DIRECTORY_COUNTRIES_TTL = 300


# --- Category tree with counts ---------------------------------------------------------------


@dataclass
class CategoryNode:
    category: Category
    product_count: int = 0
    children: list[CategoryNode] = field(default_factory=list)


@dataclass
class CategoryTree:
    roots: list[CategoryNode]
    by_slug: dict[str, CategoryNode]
    by_id: dict[int, CategoryNode]


def _categories() -> list[Category]:
    categories = cache.get(CATEGORY_TREE_CACHE_KEY)
    if categories is None:
        categories = list(Category.objects.order_by("position", "name"))
        cache.set(CATEGORY_TREE_CACHE_KEY, categories, CATEGORY_TREE_TTL)
    return categories


def _public_product_counts() -> dict[int, int]:
    counts = cache.get(CATEGORY_COUNTS_CACHE_KEY)
    if counts is None:
        counts = dict(
            products_public()
            .order_by()
            .values_list("category_id")
            .annotate(n=Count("pk"))
            .values_list("category_id", "n")
        )
        cache.set(CATEGORY_COUNTS_CACHE_KEY, counts, CATEGORY_COUNTS_TTL)
    return counts


def category_tree(*, with_counts: bool = False) -> CategoryTree:
    """Every category and section; ``with_counts`` adds the number of public products (a
    category counts the products of its sections). Cached under ``CATEGORY_TREE_CACHE_KEY``
    and ``CATEGORY_COUNTS_CACHE_KEY`` for five minutes; cold, one query each."""
    categories = _categories()
    counts = _public_product_counts() if with_counts else {}
    by_id = {c.pk: CategoryNode(c, counts.get(c.pk, 0)) for c in categories}
    roots = []
    for category in categories:
        node = by_id[category.pk]
        if category.parent_id is None:
            roots.append(node)
        elif category.parent_id in by_id:
            parent = by_id[category.parent_id]
            parent.children.append(node)
            parent.product_count += node.product_count
    return CategoryTree(
        roots=roots,
        by_slug={node.category.slug: node for node in by_id.values()},
        by_id=by_id,
    )


class KnownCountPaginator(Paginator):
    """A paginator told its total (from the cached counts), saving a COUNT over a large
    section; at worst the last page is a little short or empty until the cache refreshes."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def _cover_prefetch() -> Prefetch:
    # Only the first image of each product, in one query for the whole page.
    return Prefetch(
        "images",
        queryset=ProductImage.objects.order_by("position", "pk")[:1],
        to_attr="cover_images",
    )


def _product_cards(queryset: QuerySet[Product]) -> QuerySet[Product]:
    return queryset.select_related("exhibitor", "category").prefetch_related(_cover_prefetch())


# --- Directory -------------------------------------------------------------------------------


def _directory_countries() -> list[tuple[str, str]]:
    codes = cache.get(DIRECTORY_COUNTRIES_CACHE_KEY)
    if codes is None:
        codes = sorted(
            set(
                exhibitors_public()
                .filter(booth__is_published=True)
                .order_by()
                .values_list("country", flat=True)
                .distinct()
            )
        )
        cache.set(DIRECTORY_COUNTRIES_CACHE_KEY, codes, DIRECTORY_COUNTRIES_TTL)
    return sorted(((code, countries.name(code)) for code in codes), key=lambda c: c[1])


DIRECTORY_CARD_FIELDS = (
    "slug", "display_name", "country", "city", "is_live", "follower_count", "status",
    "booth__is_published", "booth__logo", "booth__tagline", "booth__section",
)  # fmt: skip


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Company name"), required=False, max_length=100)
    category = forms.ChoiceField(label=_("Category"), required=False)
    section = forms.ChoiceField(label=_("Exhibition section"), required=False)
    country = forms.ChoiceField(label=_("Country or region"), required=False)
    live = forms.BooleanField(label=_("Live now"), required=False)
    new = forms.BooleanField(label=_("Has new launches"), required=False)

    def __init__(self, *args, tree: CategoryTree, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        anything = [("", _("Any"))]
        self.fields["category"].choices = anything + [
            (node.category.slug, node.category.display_name) for node in tree.roots
        ]
        self.fields["section"].choices = anything + [
            (
                root.category.display_name,
                [(child.category.slug, child.category.display_name) for child in root.children],
            )
            for root in tree.roots
        ]
        self.fields["country"].choices = anything + _directory_countries()


@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    """Approved exhibitors with a published booth (a booth link never leads to a 404)."""
    tree = category_tree()
    form = DirectoryFilterForm(request.GET or None, tree=tree)
    exhibitors = (
        exhibitors_public()
        .filter(booth__is_published=True)
        .select_related("booth", "booth__section")
        # Only what a card shows: the long texts (description, story) would otherwise be
        # carried through the sort of every approved exhibitor.
        .only(*DIRECTORY_CARD_FIELDS)
        .order_by("display_name", "pk")
    )
    filters = form.cleaned_data if form.is_valid() else {}
    if filters.get("q"):
        exhibitors = exhibitors.filter(display_name__icontains=filters["q"])
    if filters.get("section"):
        exhibitors = exhibitors.filter(booth__section__slug=filters["section"])
    if filters.get("category"):
        exhibitors = exhibitors.filter(booth__section__parent__slug=filters["category"])
    if filters.get("country"):
        exhibitors = exhibitors.filter(country=filters["country"])
    if filters.get("live"):
        exhibitors = exhibitors.filter(is_live=True)
    if filters.get("new"):
        exhibitors = exhibitors.filter(
            Exists(
                Product.objects.filter(
                    exhibitor=OuterRef("pk"), is_published=True, is_new_launch=True
                )
            )
        )
    page = Paginator(exhibitors, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "exhibitors/public/directory.html",
        {
            "form": form,
            "page": page,
            "filtered": any(filters.values()) if filters else False,
            "querystring": query.urlencode(),
            "tree": tree,
        },
    )


# --- Booth -----------------------------------------------------------------------------------


def _booth_public(slug: str) -> tuple[Exhibitor, Booth]:
    exhibitor = exhibitor_public_get(slug=slug)
    booth = getattr(exhibitor, "booth", None)
    if booth is None or not booth.is_published:
        raise NotFound("No such exhibitor.")
    return exhibitor, booth


def _record(request: HttpRequest, *, exhibitor_id: int, kind: str) -> None:
    # Whole page loads only: htmx partials (the next page of a products grid) are not views.
    if request.method == "GET" and not request.headers.get("HX-Request"):
        visit_record(exhibitor_id=exhibitor_id, user=request.user, kind=kind)


def _products_page(request: HttpRequest, exhibitor: Exhibitor) -> Page:
    products = _product_cards(products_public().filter(exhibitor=exhibitor)).order_by(
        "-is_new_launch", "-created_at", "-pk"
    )
    return Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))


@require_GET
def booth(request: HttpRequest, slug: str) -> HttpResponse:
    exhibitor, booth = _booth_public(slug)
    products = _products_page(request, exhibitor)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "booth-products":
        return render(
            request,
            "exhibitors/public/_booth_products.html",
            {"exhibitor": exhibitor, "page": products},
        )
    _record(request, exhibitor_id=exhibitor.pk, kind="booth")
    tree = category_tree()
    section_node = tree.by_id.get(booth.section_id) if booth.section_id else None
    parent_node = tree.by_id.get(section_node.category.parent_id) if section_node else None
    return render(
        request,
        "exhibitors/public/booth.html",
        {
            "exhibitor": exhibitor,
            "booth": booth,
            "page": products,
            "section": section_node.category if section_node else None,
            "section_parent": parent_node.category if parent_node else None,
            "video_url": booth.video_url if booth.video_url.startswith("https://") else "",
        },
    )


# --- Product ---------------------------------------------------------------------------------


def _specs(product: Product) -> list[tuple[str, str]]:
    rows = []
    for item in product.specs or []:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            rows.append((str(item[0]), str(item[1])))
        elif isinstance(item, dict) and "name" in item:
            rows.append((str(item["name"]), str(item.get("value", ""))))
    return rows


@require_GET
def product(request: HttpRequest, product_id: int) -> HttpResponse:
    product = product_public_get(product_id=product_id)
    exhibitor = product.exhibitor
    booth = getattr(exhibitor, "booth", None)
    _record(request, exhibitor_id=exhibitor.pk, kind="product")
    images = list(product.images.all())
    return render(
        request,
        "exhibitors/public/product.html",
        {
            "product": product,
            "exhibitor": exhibitor,
            "booth": booth if booth is not None and booth.is_published else None,
            "images": images,
            "specs": _specs(product),
            "certifications": [str(c) for c in product.certifications or []],
        },
    )


# --- Categories ------------------------------------------------------------------------------


@require_GET
def categories(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "exhibitors/public/categories.html",
        {"tree": category_tree(with_counts=True)},
    )


@require_GET
def category(request: HttpRequest, slug: str) -> HttpResponse:
    tree = category_tree(with_counts=True)
    node = tree.by_slug.get(slug)
    if node is None:
        raise NotFound("No such category.")
    category = node.category
    products = products_public()
    if category.kind == Category.Kind.SECTION:
        products = products.filter(category_id=category.pk)
        parent = tree.by_id.get(category.parent_id)
    else:
        products = products.filter(category__parent_id=category.pk)
        parent = None
    products = _product_cards(products).order_by("-created_at", "-pk")
    page = KnownCountPaginator(products, PAGE_SIZE, count=node.product_count).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "exhibitors/public/category.html",
        {"node": node, "category": category, "parent": parent, "page": page},
    )


# --- The exhibitor's visits ------------------------------------------------------------------


@require_GET
@login_required
def visits(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    """Views per day and the signed-in buyers who visited, for any staff member of the
    exhibitor (others: 404). A buyer appears only while their profile consent
    ``show_identity_in_rooms`` is on."""
    exhibitor, membership = access_exhibitor(user=request.user, exhibitor_id=exhibitor_id)
    days = visits_per_day(exhibitor_id=exhibitor.pk, days=VISIT_DAYS)
    most = max((booth + products for _, booth, products in days), default=0)
    visitors = (
        BoothVisitor.objects.filter(
            exhibitor=exhibitor, user__buyer_profile__show_identity_in_rooms=True
        )
        .select_related("user", "user__buyer_profile")
        .order_by("-last_seen", "-pk")
    )
    page = Paginator(visitors, VISITORS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "exhibitors/public/visits.html",
        {
            "exhibitor": exhibitor,
            "membership": membership,
            "days": days,
            "most": most,
            "total_booth": sum(d[1] for d in days),
            "total_products": sum(d[2] for d in days),
            "page": page,
        },
    )
