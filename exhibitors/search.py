"""Catalogue search: one function, ``products_search``, behind the search page, the API and
``bench/search.py``; ``products_suggest`` for autocomplete.

Only public products are ever searched (``Product.objects.public()``: published, exhibitor
approved); exhibitor matches come from approved exhibitors only.

PostgreSQL (everything but the embedded demo):

* Full text on ``Product.search_vector``, kept by a database trigger (migration 0002):
  weighted name (A) > section/category names and keywords (B) > description (C), ``simple``
  configuration (no stemming: names in any language and model numbers stay matchable; a
  trailing plural "s" is folded by the query instead).
* No join on the hot path: "public", the exhibitor's country and live flag and the
  top-level category are copied onto the product row by triggers (migration 0004, columns
  ``search_*`` that the ORM model does not declare; raw SQL here only). Selective filters
  (a section, a rare country, live, new launch, a certification) go into the index scan
  (a partial GIN over the vector and those columns, or a b-tree the planner combines with
  it); the others are checked on the rows the index scan yields.
* Broad words stay fast because nothing touches every match: relevance ranks, and hit and
  facet counts count, only the first ``COUNT_CAP`` matches (shown as "500+"), one heap
  read per row; newest / price sorts of more matches walk partial b-tree indexes, and
  pages stop at ``MAX_PAGE``. JIT and parallel workers are off for these short queries.
* Typos: each word absent from the word list (``exhibitors_searchword``) is replaced by its
  nearest listed word without digits (pg_trgm KNN, then edit distance, then frequency)
  before the query runs; the correction is reported only when the corrected query finds
  something, so a word from an unpublished product is never revealed.
* Few statements, little Python: the settings, the category tree's fingerprint and the
  known-word check share the first statement (the tree itself is re-read only when the
  fingerprint changes); the result page is read by one raw statement (the card's columns,
  the exhibitor, the first image by position) and built with ``Model.from_db``, the rest
  of each model deferred; exhibitor name matches are raw SQL too.
* Every search runs under ``SET LOCAL statement_timeout`` (``STATEMENT_TIMEOUT_MS``): a
  query that would take longer returns ``SearchResult(timed_out=True)``, never an error.

SQLite (embedded demo only): ``icontains`` on name, keywords and description, newest first.
"""

from __future__ import annotations

import functools
import json
import math
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import OperationalError, connection, transaction
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils.translation import get_language, override
from django_countries import countries

from exhibitors.models import Exhibitor, Product, ProductImage
from fair.models import Category

PAGE_SIZE = 24
# Relevance ranks, and hit and facet counts count, the first COUNT_CAP matches only (shown
# as "500+" beyond): a near-universal word never makes the database touch every match.
# Heap reads are most of a search's database time once the bitmap is built: 500 rather
# than 1,000 cut the main statement by about a third at 1.8 M products (20 pages of 24).
COUNT_CAP = 500
MAX_PAGE = math.ceil(COUNT_CAP / PAGE_SIZE)
STATEMENT_TIMEOUT_MS = 1000
MAX_WORDS = 8
EXHIBITOR_MATCHES = 4
SUGGEST_LIMIT = 8

SORTS = ("relevance", "newest", "price_asc", "price_desc")

# Set for the search's own transaction only. Search queries are short: JIT compilation
# (which the planner's estimates for a GIN bitmap over a broad word can trigger) costs more
# than it saves, and parallel workers are better spent on other clients' queries. A broad
# word's bitmap stays exact (no lossy pages to recheck) within work_mem. The catalogue is
# read from memory (the OS cache): prefetch advice per heap page is a wasted system call
# (about 4 % of a search's database time at 1.8 M products; revisit on a disk-bound server).
_SESSION_SETTINGS = {
    "jit": "off",
    "max_parallel_workers_per_gather": "0",
    "work_mem": "32MB",
    "effective_io_concurrency": "0",
}

# Words as PostgreSQL's default parser sees them for our purposes: decimals ("3.5") whole,
# otherwise runs of letters and digits (underscores and punctuation separate words).
_TOKEN = re.compile(r"\d+(?:\.\d+)+|[^\W_]+")


@dataclass(frozen=True)
class SearchParams:
    """What a buyer asked for. ``category`` is a section or top-level category slug (a
    category includes its sections). The price range filters only together with a
    ``currency`` (no conversion: a product matches when its FOB range in that currency
    overlaps the asked range)."""

    q: str = ""
    category: str = ""
    country: str = ""
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    currency: str = ""
    moq_max: int | None = None
    certification: str = ""
    new_launch: bool = False
    live: bool = False
    sort: str = "relevance"
    page: int = 1


@dataclass(frozen=True)
class FacetCount:
    value: str
    label: str
    count: int


@dataclass
class Facets:
    categories: list[FacetCount] = field(default_factory=list)
    countries: list[FacetCount] = field(default_factory=list)
    new_launch: int = 0
    live: int = 0
    #: counted over the first COUNT_CAP matches only
    is_estimate: bool = False


@dataclass
class SearchResult:
    params: SearchParams
    products: list[Product] = field(default_factory=list)
    total: int = 0
    #: more than COUNT_CAP matches: ``total`` is a lower bound
    total_is_estimate: bool = False
    page: int = 1
    num_pages: int = 0
    facets: Facets = field(default_factory=Facets)
    exhibitors: list[Exhibitor] = field(default_factory=list)
    #: the query actually run, when words were corrected ("Showing results for ...")
    corrected_query: str | None = None
    timed_out: bool = False
    categories: list[Category] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


# --- Query words ---------------------------------------------------------------------------


def query_words(q: str) -> list[str]:
    return [w.lower() for w in _TOKEN.findall(q or "")][:MAX_WORDS]


def _singular(word: str) -> str | None:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss") and word.isalpha():
        return word[:-1]
    return None


def _tsquery(words: list[str]) -> str:
    """A ``to_tsquery`` text: every word must match (a plural also as its singular). Words
    are letters, digits and inner dots only, so quoting them is safe."""
    terms = []
    for word in words:
        singular = _singular(word)
        terms.append(f"('{word}' | '{singular}')" if singular else f"'{word}'")
    return " & ".join(terms)


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (a transposition counts as one edit)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _max_edits(word: str) -> int:
    return 1 if len(word) <= 5 else 2 if len(word) <= 10 else 3


def _word_forms(words: list[str]) -> tuple[list[str], list[str]]:
    """The words typo correction checks (letters only, three or more) and the forms to
    look up in the word list (each word and its singular)."""
    checkable = [w for w in words if w.isalpha() and len(w) >= 3]
    return checkable, sorted({f for w in checkable for f in (w, _singular(w)) if f})


def words_correct(cursor, words: list[str], known: set[str] | None = None) -> list[str]:
    """Replace each word the word list does not know by its nearest known word without
    digits (trigram nearest neighbours, then fewest edits, then most frequent). Words with
    digits and words under three letters are left alone. ``known``: which of the words'
    forms (``_word_forms``) the word list holds, when already read."""
    checkable, forms = _word_forms(words)
    if not checkable:
        return words
    if known is None:
        cursor.execute("SELECT word FROM exhibitors_searchword WHERE word = ANY(%s)", [forms])
        known = {row[0] for row in cursor.fetchall()}
    unknown = sorted({w for w in checkable if w not in known and _singular(w) not in known})
    if not unknown:
        return words
    cursor.execute(
        """
        SELECT t.w, s.word, s.ndoc
          FROM unnest(%s::text[]) AS t(w)
         CROSS JOIN LATERAL (
               SELECT word, ndoc FROM exhibitors_searchword WHERE word !~ '[0-9]'
                ORDER BY word <-> t.w LIMIT 12) AS s
        """,
        [unknown],
    )
    best: dict[str, tuple[int, int, str]] = {}
    for wrong, candidate, ndoc in cursor.fetchall():
        distance = _edit_distance(wrong, candidate)
        if distance > _max_edits(wrong):
            continue
        key = (distance, -ndoc, candidate)
        if wrong not in best or key < best[wrong]:
            best[wrong] = key
    return [best[w][2] if w in best else w for w in words]


# --- Filters -------------------------------------------------------------------------------


def _category_ids(categories: list[Category], slug: str) -> list[int] | None:
    if not slug:
        return None
    node = next((c for c in categories if c.slug == slug), None)
    if node is None:
        return []
    if node.kind == Category.Kind.SECTION:
        return [node.pk]
    return [c.pk for c in categories if c.parent_id == node.pk]


def _filtered(params: SearchParams, categories: list[Category]) -> QuerySet[Product]:
    qs = Product.objects.public()
    category_ids = _category_ids(categories, params.category)
    if category_ids is not None:
        qs = qs.filter(category_id__in=category_ids)
    if params.country:
        qs = qs.filter(exhibitor__country=params.country)
    if params.live:
        qs = qs.filter(exhibitor__is_live=True)
    if params.new_launch:
        qs = qs.filter(is_new_launch=True)
    if params.moq_max is not None:
        qs = qs.filter(moq__lte=params.moq_max)
    if params.certification:
        if connection.vendor == "postgresql":
            qs = qs.filter(certifications__contains=[params.certification])
        else:
            qs = qs.filter(certifications__icontains=f'"{params.certification}"')
    if params.currency and (params.price_min is not None or params.price_max is not None):
        qs = qs.filter(currency=params.currency, price_min__isnull=False)
        if params.price_max is not None:
            qs = qs.filter(price_min__lte=params.price_max)
        if params.price_min is not None:
            qs = qs.filter(
                Q(price_max__gte=params.price_min)
                | Q(price_max__isnull=True, price_min__gte=params.price_min)
            )
    return qs


def _ordered(qs: QuerySet[Product], sort: str) -> QuerySet[Product]:
    if sort == "price_asc":
        return qs.order_by(F("price_min").asc(nulls_last=True), "id")
    if sort == "price_desc":
        return qs.order_by(F("price_min").desc(nulls_last=True), "-id")
    return qs.order_by("-created_at", "-id")


# What a result card (templates/exhibitors/search/_product.html) and an API row
# (exhibitors/api/search.py) read. Other fields are deferred: reading one costs a query.
_CARD_PRODUCT_FIELDS = frozenset({
    "id", "exhibitor_id", "category_id", "sku", "name", "moq", "moq_unit", "price_min",
    "price_max", "currency", "certifications", "is_new_launch", "is_published", "created_at",
})  # fmt: skip
_CARD_EXHIBITOR_FIELDS = frozenset({"id", "display_name", "slug", "country", "is_live", "status"})
_CARD_IMAGE_FIELDS = frozenset({"id", "product_id", "image", "thumbnail", "alt_text", "position"})


@dataclass(frozen=True)
class _Columns:
    """Some concrete fields of a model, in the model's field order, read by raw SQL and
    turned into a model instance (the rest deferred) as the ORM would: ``Model.from_db``
    after each field's database converters (a JSON field is decoded)."""

    model: type
    attnames: frozenset[str]
    columns: tuple[str, ...]
    converters: tuple

    @classmethod
    @functools.cache
    def of(cls, model, attnames: frozenset[str]) -> _Columns:
        fields = [f for f in model._meta.concrete_fields if f.attname in attnames]
        converters = tuple(
            (i, f, convert)
            for i, f in enumerate(fields)
            for convert in f.get_db_converters(connection)
        )
        return cls(model, attnames, tuple(f.column for f in fields), converters)

    def sql(self, alias: str) -> str:
        return ", ".join(f'{alias}."{column}"' for column in self.columns)

    def build(self, values):
        values = list(values)
        for i, f, convert in self.converters:
            values[i] = convert(values[i], f, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


def _hydrate(cursor, ids: list[int], categories: list[Category] | None = None) -> list[Product]:
    """The products of ``ids`` (public ones only), in that order, as result cards: the
    card's fields only, with ``exhibitor`` and ``category`` set and ``ordered_images``
    holding the first image by position (or nothing). PostgreSQL: one statement, the
    category from ``categories`` (already read), no ORM query building."""
    if not ids:
        return []
    if connection.vendor != "postgresql":
        products = (
            Product.objects.public()
            .filter(pk__in=ids)
            .select_related("exhibitor", "category")
            .defer("search_vector", "description", "exhibitor__description")
            .prefetch_related(
                Prefetch(
                    "images",
                    queryset=ProductImage.objects.order_by("position", "id"),
                    to_attr="ordered_images",
                )
            )
        )
        by_id = {p.pk: p for p in products}
        for product in by_id.values():
            product.ordered_images = product.ordered_images[:1]
        return [by_id[i] for i in ids if i in by_id]
    product_cols = _Columns.of(Product, _CARD_PRODUCT_FIELDS)
    exhibitor_cols = _Columns.of(Exhibitor, _CARD_EXHIBITOR_FIELDS)
    image_cols = _Columns.of(ProductImage, _CARD_IMAGE_FIELDS)
    cursor.execute(
        f"""
        SELECT {product_cols.sql("p")}, {exhibitor_cols.sql("e")}, {image_cols.sql("i")}
          FROM exhibitors_product p
          JOIN exhibitors_exhibitor e ON e.id = p.exhibitor_id
          LEFT JOIN LATERAL (
               SELECT * FROM exhibitors_productimage i WHERE i.product_id = p.id
                ORDER BY i.position, i.id LIMIT 1) AS i ON true
         WHERE p.id = ANY(%s) AND p.search_public
        """,  # noqa: S608 (column names from the models)
        [ids],
    )
    n_product, n_exhibitor = len(product_cols.columns), len(exhibitor_cols.columns)
    category_by_id = {c.pk: c for c in categories or Category.objects.all()}
    exhibitors: dict[int, Exhibitor] = {}
    by_id: dict[int, Product] = {}
    for row in cursor.fetchall():
        product = product_cols.build(row[:n_product])
        exhibitor_row = row[n_product : n_product + n_exhibitor]
        exhibitor = exhibitors.get(exhibitor_row[0])
        if exhibitor is None:
            exhibitor = exhibitors[exhibitor_row[0]] = exhibitor_cols.build(exhibitor_row)
        product.exhibitor = exhibitor
        category = category_by_id.get(product.category_id)
        if category is not None:
            product.category = category
        image_row = row[n_product + n_exhibitor :]
        if image_row[0] is None:
            product.ordered_images = []
        else:
            image = image_cols.build(image_row)
            image.product = product
            product.ordered_images = [image]
        by_id[product.pk] = product
    return [by_id[i] for i in ids if i in by_id]


@functools.lru_cache(maxsize=4096)
def _country_name(language: str | None, code: str) -> str:
    # django-countries translates and sorts on every call: a facet list asks for ~20.
    with override(language):
        return str(countries.name(code) or code)


def _facets(rows, categories: list[Category], capped: bool) -> tuple[Facets, int]:
    names = {c.pk: c for c in categories}
    facets = Facets(is_estimate=capped)
    total = 0
    for kind, value, count in rows:
        if kind == "category" and value is not None:
            node = names.get(int(value))
            if node is not None:
                facets.categories.append(FacetCount(node.slug, node.display_name, count))
        elif kind == "country" and value:
            facets.countries.append(FacetCount(value, _country_name(get_language(), value), count))
        elif kind == "new":
            facets.new_launch = count
        elif kind == "live":
            facets.live = count
        elif kind == "total":
            total = count
    facets.categories.sort(key=lambda f: (-f.count, f.label))
    facets.countries.sort(key=lambda f: (-f.count, f.label))
    return facets, total


_MATCH_EXHIBITOR_FIELDS = frozenset({"id", "display_name", "slug", "country", "is_live", "status"})


def _exhibitor_matches(params: SearchParams, words: list[str], cursor=None) -> list[Exhibitor]:
    """Approved exhibitors whose name contains every word of three letters or more (the
    trigram index on ``UPPER(display_name)``), by name; the country and live filters
    apply. PostgreSQL: raw SQL on ``cursor``, the fields a match shows only."""
    usable = [w for w in words if len(w) >= 3]
    if not usable:
        return []
    if cursor is None or connection.vendor != "postgresql":
        qs = Exhibitor.objects.approved()
        for word in usable:
            qs = qs.filter(display_name__icontains=word)
        if params.country:
            qs = qs.filter(country=params.country)
        if params.live:
            qs = qs.filter(is_live=True)
        return list(qs.order_by("display_name")[:EXHIBITOR_MATCHES])
    columns = _Columns.of(Exhibitor, _MATCH_EXHIBITOR_FIELDS)
    where = ["e.status = %s"]
    args: list = [Exhibitor.Status.APPROVED.value]
    for word in usable:
        where.append("UPPER(e.display_name::text) LIKE UPPER(%s)")
        args.append(f"%{connection.ops.prep_for_like_query(word)}%")
    if params.country:
        where.append("e.country = %s")
        args.append(params.country)
    if params.live:
        where.append("e.is_live")
    cursor.execute(
        f"SELECT {columns.sql('e')} FROM exhibitors_exhibitor e "  # noqa: S608
        f"WHERE {' AND '.join(where)} ORDER BY e.display_name LIMIT %s",
        [*args, EXHIBITOR_MATCHES],
    )
    return [columns.build(row) for row in cursor.fetchall()]


# --- Search --------------------------------------------------------------------------------

# After the settings in a search's first statement: the category tree's fingerprint (any
# change to any category row changes it) and the query's word forms the word list knows.
_CATEGORIES_AND_WORDS_SQL = (
    ", (SELECT md5(string_agg(c::text, ',' ORDER BY c.id)) FROM fair_category c)"
    ", ARRAY(SELECT word FROM exhibitors_searchword WHERE word = ANY(%s::text[]))"
)
_categories_cache: tuple[str, list[Category]] | None = None


def _categories(fingerprint: str | None) -> list[Category]:
    """The category tree, read again only when its fingerprint changed (this process keeps
    the last one read: 66 model instances a search no longer builds). Read after the
    fingerprint, so a cached tree is never older than its fingerprint."""
    global _categories_cache
    cached = _categories_cache
    if fingerprint is not None and cached is not None and cached[0] == fingerprint:
        return list(cached[1])
    categories = list(Category.objects.all())
    if fingerprint is not None:
        _categories_cache = (fingerprint, categories)
    return list(categories)


def products_search(
    params: SearchParams, *, timeout_ms: int | None = None, counts_only: bool = False
) -> SearchResult:
    """Search public products (and, for a text query, approved exhibitors by name).

    Reads only; on PostgreSQL all of it runs in one transaction (a savepoint when called
    inside one) under ``statement_timeout = timeout_ms`` (default ``STATEMENT_TIMEOUT_MS``);
    ``counts_only`` stops after the hit and facet counts (no products, no exhibitors).
    A timeout gives
    ``timed_out=True`` and no results instead of an exception."""
    page = min(max(1, params.page), MAX_PAGE)
    if params.sort not in SORTS:
        params = SearchParams(**{**params.__dict__, "sort": "relevance"})
    if connection.vendor != "postgresql":
        return _search_fallback(params, list(Category.objects.all()), page)
    words = query_words(params.q)
    _checkable, forms = _word_forms(words)
    categories: list[Category] = []
    restore = connection.in_atomic_block
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            settings = {
                **_SESSION_SETTINGS,
                "statement_timeout": str(int(timeout_ms or STATEMENT_TIMEOUT_MS)),
            }
            # One round trip: the settings (keeping their previous values), the category
            # tree's fingerprint (``_categories``) and which forms of the query's words the
            # word list knows (``words_correct``).
            cursor.execute(
                "SELECT "
                + ", ".join("current_setting(%s), set_config(%s, %s, true)" for _ in settings)
                + _CATEGORIES_AND_WORDS_SQL,
                [*(v for name, value in settings.items() for v in (name, name, value)), forms],
            )
            row = cursor.fetchone()
            previous = row[0 : 2 * len(settings) : 2]
            categories = _categories(row[-2])
            result = _search_postgresql(
                cursor,
                params,
                categories,
                page,
                words=words,
                known=set(row[-1]),
                counts_only=counts_only,
            )
            if restore:
                cursor.execute(
                    "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in settings),
                    [v for pair in zip(settings, previous, strict=True) for v in pair],
                )
            return result
    except OperationalError as exc:
        if getattr(exc.__cause__, "pgcode", None) != "57014":  # query_canceled
            raise
        return SearchResult(params=params, page=page, timed_out=True, categories=categories)


@dataclass
class _Where:
    """Conditions over ``exhibitors_product p`` on the columns of migration 0004 (no join).
    ``index`` ones go to the GIN bitmap (vector and selective filters); ``after`` ones are
    checked on the rows the bitmap yields (filters most matches pass anyway, and those no
    index can answer): intersecting a word's posting list with a filter value most rows
    have costs more than dropping the few rows it excludes."""

    index: list[str] = field(default_factory=list)
    index_args: list = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    after_args: list = field(default_factory=list)

    def sql(self) -> tuple[str, list]:
        return " AND ".join(self.index + self.after), [*self.index_args, *self.after_args]


# A filter value on more than this share of public products is checked after the index.
_INDEX_FILTER_MAX_SHARE = 0.1
_value_shares: dict[str, tuple[float, dict[str, float]]] = {}


def _value_share(column: str, value: str) -> float:
    """The share of public products with ``column = value``, from the planner's statistics
    (refreshed by ANALYZE; read at most every 10 minutes per process); 0 when unknown."""
    now = time.monotonic()
    cached = _value_shares.get(column)
    if cached is None or now - cached[0] > 600:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT most_common_vals::text::text[], most_common_freqs FROM pg_stats "
                "WHERE tablename = 'exhibitors_product' AND attname = %s",
                [column],
            )
            row = cursor.fetchone()
        shares = dict(zip(row[0], row[1], strict=True)) if row and row[0] else {}
        cached = _value_shares[column] = (now, shares)
    return cached[1].get(value, 0.0)


def _public_where(
    params: SearchParams, categories: list[Category], tsquery: str | None
) -> _Where | None:
    """Public products matching the query and filters; ``None`` when nothing can match (an
    unknown category slug)."""
    where = _Where(index=["p.search_public"])
    if tsquery:
        where.index.append("p.search_vector @@ to_tsquery('simple', %s)")
        where.index_args.append(tsquery)
    if params.category:
        node = next((c for c in categories if c.slug == params.category), None)
        if node is None:
            return None
        if node.kind == Category.Kind.SECTION:
            where.index.append("p.category_id = %s")
            where.index_args.append(node.pk)
        else:  # a whole top-level category: most of a word's matches are in it
            where.after.append("p.search_top_category_id = %s")
            where.after_args.append(node.pk)
    if params.country:
        common = _value_share("search_country", params.country) > _INDEX_FILTER_MAX_SHARE
        (where.after if common else where.index).append("p.search_country = %s")
        (where.after_args if common else where.index_args).append(params.country)
    # Flags as integers: the planner turns "flag = true" into a plain boolean test, which a
    # GIN index cannot take.
    if params.live:
        where.index.append("p.search_live::int = 1")
    if params.new_launch:
        where.index.append("p.is_new_launch::int = 1")
    if params.certification:
        where.index.append("p.certifications @> %s::jsonb")
        where.index_args.append(json.dumps([params.certification]))
    if params.moq_max is not None:
        where.after.append("p.moq <= %s")
        where.after_args.append(params.moq_max)
    if params.currency and (params.price_min is not None or params.price_max is not None):
        where.after.append("p.currency = %s AND p.price_min IS NOT NULL")
        where.after_args.append(params.currency)
        if params.price_max is not None:
            where.after.append("p.price_min <= %s")
            where.after_args.append(params.price_max)
        if params.price_min is not None:
            where.after.append("(p.price_max >= %s OR (p.price_max IS NULL AND p.price_min >= %s))")
            where.after_args += [params.price_min, params.price_min]
    return where


_SORT_SQL = {
    "newest": "created_at DESC, id DESC",
    "price_asc": "price_min ASC NULLS LAST, id ASC",
    "price_desc": "price_min DESC NULLS LAST, id DESC",
}


def _search_postgresql(
    cursor,
    params: SearchParams,
    categories,
    page: int,
    *,
    words: list[str],
    known: set[str] | None = None,
    counts_only: bool = False,
) -> SearchResult:
    result = SearchResult(params=params, page=page, categories=categories)
    corrected = words_correct(cursor, words, known=known) if words else words
    tsquery = _tsquery(corrected) if corrected else None
    where = _public_where(params, categories, tsquery)
    if where is None:  # an unknown category slug
        return result

    # One pass over the first COUNT_CAP + 1 matches (GIN bitmap, then one heap read each, no
    # join) gives the hit count (the extra row tells "more than COUNT_CAP"), and over the
    # first COUNT_CAP the facets and the page: ranked for relevance; for the other sorts
    # too when every match was read. "OFFSET 0" keeps the ``after`` conditions out of the
    # index scan.
    ranked = tsquery is not None and params.sort == "relevance" and not counts_only
    order = "r DESC, id DESC" if ranked else _SORT_SQL.get(params.sort, _SORT_SQL["newest"])
    rank = "ts_rank(p.search_vector, to_tsquery('simple', %s))" if ranked else "0::real"
    after = " AND ".join(where.after) or "true"
    offset = (page - 1) * PAGE_SIZE
    cursor.execute(
        f"""
        WITH m AS MATERIALIZED (
            SELECT p.id, p.search_top_category_id AS c, p.search_country AS k,
                   p.search_live AS l, p.is_new_launch AS n, p.created_at, p.price_min,
                   {rank} AS r
              FROM (SELECT * FROM exhibitors_product p WHERE {" AND ".join(where.index)}
                    OFFSET 0) AS p
             WHERE {after}
             LIMIT %s),
        f AS (SELECT * FROM m LIMIT %s),
        hits AS (SELECT id, row_number() OVER (ORDER BY {order}) AS o
                   FROM f ORDER BY {order} LIMIT %s OFFSET %s)
        SELECT 'category', c::text, count(*) FROM f GROUP BY c
        UNION ALL SELECT 'country', k, count(*) FROM f GROUP BY k
        UNION ALL SELECT 'new', NULL, count(*) FROM f WHERE n
        UNION ALL SELECT 'live', NULL, count(*) FROM f WHERE l
        UNION ALL SELECT 'total', NULL, count(*) FROM m
        UNION ALL SELECT 'hit', id::text, o FROM hits
        """,  # noqa: S608 (fixed SQL fragments; every value is a bound parameter)
        [
            *([tsquery] if ranked else []),
            *where.index_args,
            *where.after_args,
            COUNT_CAP + 1,
            COUNT_CAP,
            0 if counts_only else PAGE_SIZE,
            offset,
        ],
    )
    rows = cursor.fetchall()
    facets, total = _facets([row for row in rows if row[0] != "hit"], categories, capped=False)
    capped = total > COUNT_CAP
    facets.is_estimate = capped
    result.facets = facets
    result.total = min(total, COUNT_CAP)
    result.total_is_estimate = capped
    result.num_pages = min(MAX_PAGE, math.ceil(result.total / PAGE_SIZE))
    if counts_only:
        return result

    if total:
        if ranked or not capped:
            ids = [int(value) for _o, value in sorted((o, v) for k, v, o in rows if k == "hit")]
        else:
            # More matches than were read: let the planner walk the sort's partial index.
            sql, args = where.sql()
            cursor.execute(
                f"SELECT p.id FROM exhibitors_product p WHERE {sql} "  # noqa: S608
                f"ORDER BY {_SORT_SQL[params.sort]} LIMIT %s OFFSET %s",
                [*args, PAGE_SIZE, offset],
            )
            ids = [row[0] for row in cursor.fetchall()]
        result.products = _hydrate(cursor, ids, categories)
    if corrected != words and total:
        result.corrected_query = " ".join(corrected)
    if corrected:
        result.exhibitors = _exhibitor_matches(params, corrected if total else words, cursor)
    return result


def _search_fallback(params: SearchParams, categories, page: int) -> SearchResult:
    """SQLite (embedded demo): every word in name, keywords or description; newest first."""
    result = SearchResult(params=params, page=page, categories=categories)
    words = query_words(params.q)
    qs = _filtered(params, categories)
    for word in words:
        qs = qs.filter(
            Q(name__icontains=word) | Q(keywords__icontains=word) | Q(description__icontains=word)
        )
    rows = [
        ("category", r["category__parent_id"], r["n"])
        for r in qs.order_by().values("category__parent_id").annotate(n=Count("id"))
    ]
    rows += [
        ("country", r["exhibitor__country"], r["n"])
        for r in qs.order_by().values("exhibitor__country").annotate(n=Count("id"))
    ]
    rows += [
        ("new", None, qs.filter(is_new_launch=True).count()),
        ("live", None, qs.filter(exhibitor__is_live=True).count()),
        ("total", None, qs.count()),
    ]
    result.facets, result.total = _facets(rows, categories, capped=False)
    result.num_pages = min(MAX_PAGE, math.ceil(result.total / PAGE_SIZE))
    offset = (page - 1) * PAGE_SIZE
    sort = "newest" if params.sort == "relevance" else params.sort
    ids = list(_ordered(qs, sort).values_list("id", flat=True)[offset : offset + PAGE_SIZE])
    result.products = _hydrate(None, ids, categories)
    if words:
        result.exhibitors = _exhibitor_matches(params, words)
    return result


# --- Autocomplete --------------------------------------------------------------------------


def products_suggest(q: str, *, limit: int = SUGGEST_LIMIT) -> list[str]:
    """Completions for the search box: distinct public product names containing the typed
    text (trigram index; three characters or more), then the typed text with its last word
    completed from the word list (words seen in public products only)."""
    text = " ".join((q or "").split())[:100]
    if len(text) < 2:
        return []
    suggestions: list[str] = []
    seen: set[str] = set()
    if len(text) >= 3:
        for name in _names_containing(text):
            if name.lower() not in seen:
                seen.add(name.lower())
                suggestions.append(name)
            if len(suggestions) >= limit:
                return suggestions
    words = query_words(text)
    if connection.vendor == "postgresql" and words and text[-1].isalnum():
        head = text[: len(text) - len(words[-1])] if text.lower().endswith(words[-1]) else ""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT word FROM exhibitors_searchword WHERE word LIKE %s AND ndoc > 0 "
                "ORDER BY ndoc DESC, word LIMIT %s",
                [words[-1].replace("\\", "").replace("%", "") + "%", limit],
            )
            for (word,) in cursor.fetchall():
                phrase = f"{head}{word}"
                if phrase.lower() not in seen and phrase.lower() != text.lower():
                    seen.add(phrase.lower())
                    suggestions.append(phrase)
    return suggestions[:limit]


def _names_containing(text: str) -> list[str]:
    """Up to 100 names of public products containing ``text`` (any case): the trigram
    index on ``UPPER(name)``; on PostgreSQL the public flag of migration 0004, no join."""
    if connection.vendor != "postgresql":
        return list(
            Product.objects.public()
            .filter(name__icontains=text)
            .order_by()
            .values_list("name", flat=True)[:100]
        )
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM exhibitors_product WHERE search_public "
            "AND UPPER(name::text) LIKE UPPER(%s) LIMIT 100",
            [f"%{pattern}%"],
        )
        return [row[0] for row in cursor.fetchall()]


def search_words_refresh() -> int:
    """Recount the word list from public products (``ts_stat``): correct frequencies for
    typo correction, and only words of public products offered as completions (words the
    trigger added from unpublished products stay at ndoc 0). Run by seed_scale and on a
    schedule. Returns the number of words with ndoc > 0."""
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        # Inside an enclosing transaction an earlier refresh's table is still there.
        cursor.execute("DROP TABLE IF EXISTS search_words_new")
        cursor.execute(
            """
            CREATE TEMP TABLE search_words_new ON COMMIT DROP AS
            SELECT word, ndoc FROM ts_stat($$
                SELECT p.search_vector FROM exhibitors_product p
                  JOIN exhibitors_exhibitor e ON e.id = p.exhibitor_id
                 WHERE p.is_published AND e.status = 'approved'
            $$) WHERE length(word) BETWEEN 2 AND 40
            """
        )
        cursor.execute(
            "UPDATE exhibitors_searchword w SET ndoc = 0 WHERE ndoc > 0 AND NOT EXISTS "
            "(SELECT 1 FROM search_words_new n WHERE n.word = w.word)"
        )
        cursor.execute(
            "INSERT INTO exhibitors_searchword (word, ndoc) SELECT word, ndoc "
            "FROM search_words_new ORDER BY word "
            "ON CONFLICT (word) DO UPDATE SET ndoc = EXCLUDED.ndoc "
            "WHERE exhibitors_searchword.ndoc IS DISTINCT FROM EXCLUDED.ndoc"
        )
        cursor.execute("SELECT count(*) FROM search_words_new")
        return cursor.fetchone()[0]
