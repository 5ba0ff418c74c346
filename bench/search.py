"""Catalogue search at fair scale: the Django search function against a seeded PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cloudfair_scale \\
        .venv/bin/python bench/search.py [--products 1800000 | --quick] [--json FILE]

Seeds the database first (``seed_scale``) when it holds fewer products than asked. Each
scenario runs ``--queries`` varied buyer queries (default 200) with one client, then split
over ``--clients`` processes (default 4), each with its own database connection, calling
``exhibitors.search`` directly. The plain GIN full-text query (ts_rank over every match, no
caps, exact count) runs in the same run as the baseline. Prints p50/p95/p99 and queries per
second per scenario, the typo-correction rate and the load average before and after the
run; ``--only a,b`` runs some scenarios only; ``--json FILE`` writes them."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import secrets
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import print_table, summarise, write_json  # noqa: E402

COLUMNS = ["count", "errors", "timeouts", "p50_ms", "p95_ms", "p99_ms", "max_ms", "qps"]


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fair.settings.base")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1")
    os.environ.setdefault("DJANGO_SECURE", "0")
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (e.g. cloudfair_scale).")
    import django

    django.setup()


# --- Query sets ----------------------------------------------------------------------------


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["delete", "swap", "replace", "insert"])
    letters = "abcdefghijklmnopqrstuvwxyz"
    if kind == "delete":
        return word[:i] + word[i + 1 :]
    if kind == "swap":
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if kind == "replace":
        return word[:i] + rng.choice(letters.replace(word[i], "")) + word[i + 1 :]
    return word[:i] + rng.choice(letters) + word[i:]


def build_queries(n: int, seed: int = 7) -> dict[str, list]:
    from exhibitors.management.commands.seed_scale import CATALOGUE, SENTENCES
    from exhibitors.search import SearchParams
    from fair.models import Category

    rng = random.Random(seed)
    sections = {
        c.parent.slug: [] for c in Category.objects.filter(kind="section").select_related("parent")
    }
    for c in Category.objects.filter(kind="section").select_related("parent"):
        sections[c.parent.slug].append(c.slug)
    tops = list(CATALOGUE)

    def noun(top=None):
        return rng.choice(CATALOGUE[top or rng.choice(tops)]["nouns"])

    def phrase():
        top = rng.choice(tops)
        vocab = CATALOGUE[top]
        words = [noun(top)]
        if rng.random() < 0.5:
            words.insert(0, rng.choice(vocab["adjs"]))
        if rng.random() < 0.3:
            words.append(rng.choice(vocab["specs"]))
        return " ".join(words)

    broad_words = ["led", "wholesale", "price", "quality", "custom", "steel", "smart",
                   "factory", "oem", "supply", "service", "electric", "portable",
                   "stainless"]  # fmt: skip
    broad_words += [
        w.strip(".,;").lower() for s in SENTENCES for w in s.split() if len(w.strip(".,;")) > 5
    ][:10]
    vocabulary = sorted(
        {
            w
            for v in CATALOGUE.values()
            for item in v["nouns"] + v["adjs"]
            for w in item.split()
            if w.isalpha() and len(w) >= 5
        }
    )
    queries: dict[str, list] = {}
    queries["keyword_category"] = []
    for _ in range(n):
        top = rng.choice(tops)
        category = rng.choice([top, *sections.get(top, [])])
        queries["keyword_category"].append(SearchParams(q=noun(top), category=category))
    queries["keyword_filters"] = []
    for _ in range(n):
        extra = rng.choice(
            [
                {"currency": "USD", "price_min": Decimal(rng.choice([1, 5, 10])),
                 "price_max": Decimal(rng.choice([20, 50, 200]))},
                {"moq_max": rng.choice([10, 100, 500])},
                {"country": rng.choice(["CN", "VN", "IN", "TR", "DE"])},
                {"country": "CN", "moq_max": 500, "currency": "USD",
                 "price_max": Decimal(100)},
                {"certification": rng.choice(["CE", "RoHS", "FCC"])},
                {"new_launch": True},
            ]
        )  # fmt: skip
        queries["keyword_filters"].append(SearchParams(q=phrase(), **extra))
    queries["global_keyword"] = [SearchParams(q=phrase()) for _ in range(n)]
    queries["broad_one_word"] = [
        SearchParams(
            q=broad_words[i % len(broad_words)],
            sort=rng.choice(["relevance"] * 3 + ["newest", "price_asc"]),
        )
        for i in range(n)
    ]
    typos = []
    for _ in range(n):
        word = rng.choice(vocabulary)
        typos.append((SearchParams(q=_typo(rng, word)), word))
    queries["typo"] = typos
    queries["page_5"] = [SearchParams(q=noun(), page=5) for _ in range(n)]
    queries["hit_and_facet_counts"] = [
        SearchParams(q=rng.choice([noun(), phrase(), rng.choice(broad_words)])) for _ in range(n)
    ]
    queries["autocomplete"] = []
    for _ in range(n):
        text = phrase()
        queries["autocomplete"].append(text[: rng.randint(3, min(len(text), 14))])
    return queries


# --- Runners -------------------------------------------------------------------------------


def run_one(scenario: str, item, ctx: dict) -> tuple[bool, bool]:
    """Run one query; returns (timed_out, typo_corrected)."""
    from exhibitors import search

    if scenario == "autocomplete":
        search.products_suggest(item)
        return False, False
    if scenario == "typo":
        params, expected = item
        result = search.products_search(params)
        return result.timed_out, bool(result.corrected_query) and expected in (
            result.corrected_query or ""
        ).split()
    if scenario == "hit_and_facet_counts":
        return search.products_search(item, counts_only=True).timed_out, False
    if scenario.startswith("baseline_"):
        baseline(item)
        return False, False
    if scenario == "product_page":
        from exhibitors.selectors import product_public_get

        product = product_public_get(product_id=item)
        list(product.images.all())
        return False, False
    if scenario == "booth_page":
        booth_page(item)
        return False, False
    return search.products_search(item).timed_out, False


def baseline(params) -> None:
    """The plain GIN full-text query: rank every match, exact count; no caps."""
    from django.db import connection

    where = ["p.search_vector @@ plainto_tsquery('simple', %s)", "p.is_published",
             "e.status = 'approved'"]  # fmt: skip
    args: list = [params.q]
    if params.category:
        where.append(
            "p.category_id IN (SELECT id FROM fair_category WHERE slug = %s "
            "OR parent_id = (SELECT id FROM fair_category WHERE slug = %s))"
        )
        args += [params.category, params.category]
    sql_where = " AND ".join(where)
    base = f"FROM exhibitors_product p JOIN exhibitors_exhibitor e ON e.id = p.exhibitor_id WHERE {sql_where}"  # noqa: S608,E501
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.id FROM (SELECT p.id, ts_rank(p.search_vector, plainto_tsquery('simple', %s)) r {base}) p "  # noqa: S608,E501
            "ORDER BY r DESC, id DESC LIMIT 24",
            [params.q, *args],
        )
        cursor.fetchall()
        cursor.execute(f"SELECT count(*) {base}", args)  # noqa: S608
        cursor.fetchone()


def booth_page(slug: str) -> None:
    from django.db.models import Prefetch

    from exhibitors.models import ProductImage
    from exhibitors.selectors import exhibitor_public_get, products_public

    exhibitor = exhibitor_public_get(slug=slug)
    products = (
        products_public()
        .filter(exhibitor=exhibitor)
        .select_related("category")
        .prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("position")))
        .order_by("-created_at")
    )
    products.count()
    list(products[:24])


def _work(scenario: str, items: list, ctx: dict) -> tuple[list[float], int, int, int]:
    latencies, errors, timeouts, corrected = [], 0, 0, 0
    for item in items:
        started = time.perf_counter()
        try:
            timed_out, fixed = run_one(scenario, item, ctx)
            timeouts += timed_out
            corrected += fixed
        except Exception as exc:  # counted and reported, the run goes on
            errors += 1
            print(f"  {scenario}: {type(exc).__name__}: {exc}", file=sys.stderr)
        latencies.append(time.perf_counter() - started)
    return latencies, errors, timeouts, corrected


def _child(args):
    from django.db import connections

    connections.close_all()
    scenario, items, ctx = args
    try:
        return _work(scenario, items, ctx)
    finally:
        connections.close_all()


def run_scenario(scenario: str, items: list, clients: int, ctx: dict, pool=None) -> dict:
    # Warm-up (plans, caches): a few queries not counted.
    _work(scenario, items[:5], ctx)
    started = time.perf_counter()
    if clients == 1:
        latencies, errors, timeouts, corrected = _work(scenario, items, ctx)
    else:
        chunks = [(scenario, items[i::clients], ctx) for i in range(clients)]
        latencies, errors, timeouts, corrected = [], 0, 0, 0
        for lat, err, tmo, cor in pool.map(_child, chunks):
            latencies += lat
            errors += err
            timeouts += tmo
            corrected += cor
    wall = time.perf_counter() - started
    extra = {"timeouts": timeouts}
    if scenario == "typo":
        extra["corrected"] = corrected
        extra["correction_rate"] = round(corrected / len(items), 3)
    return summarise(latencies, wall, errors=errors, **extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=1_800_000)
    parser.add_argument("--quick", action="store_true", help="100,000 products")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--baseline-broad-queries", type=int, default=60,
                        help="the uncapped broad baseline takes seconds per query")  # fmt: skip
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--only", help="comma-separated scenarios to run (default: all)")
    parser.add_argument("--json")
    args = parser.parse_args()
    products = 100_000 if args.quick else args.products
    exhibitors = max(5, round(products * 26_000 / 1_800_000))
    django_setup()

    from django.core.management import call_command
    from django.db import connection, connections

    from exhibitors.models import Exhibitor, Product
    from exhibitors.search import SearchParams

    if Product.objects.count() < products:
        print(f"Seeding {exhibitors} exhibitors and {products} products ...")
        call_command("seed_scale", exhibitors=exhibitors, products=products, reset=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM exhibitors_product")
        total = cursor.fetchone()[0]
    print(f"Catalogue: {total} products")

    queries = build_queries(args.queries)
    rng = random.Random(11)
    max_id = Product.objects.order_by("-id").values_list("id", flat=True).first()
    min_id = Product.objects.order_by("id").values_list("id", flat=True).first()
    queries["product_page"] = [rng.randint(min_id, max_id) for _ in range(args.queries)]
    slugs = list(Exhibitor.objects.approved().order_by("?").values_list("slug", flat=True)[:500])
    queries["booth_page"] = [rng.choice(slugs) for _ in range(args.queries)]
    queries["baseline_keyword_category"] = queries["keyword_category"]
    broad = [SearchParams(q=p.q) for p in queries["broad_one_word"]]
    queries["baseline_broad_one_word"] = broad[: args.baseline_broad_queries]
    if args.only:
        wanted = set(args.only.split(","))
        queries = {name: items for name, items in queries.items() if name in wanted}
    connections.close_all()

    results: dict[str, dict] = {}
    ctx: dict = {}
    load_before = os.getloadavg()
    pool = multiprocessing.get_context("fork").Pool(args.clients)
    try:
        for scenario, items in queries.items():
            print(f"{scenario} ...", flush=True)
            results[scenario] = run_scenario(scenario, items, 1, ctx)
            connections.close_all()
            if not scenario.startswith("baseline_broad"):
                results[f"{scenario}@{args.clients}"] = run_scenario(
                    scenario, items, args.clients, ctx, pool
                )
    finally:
        pool.close()
        pool.join()
    load_after = os.getloadavg()
    print_table(f"Catalogue search, {total} products", results, COLUMNS)
    print(
        "\nLoad average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f}"
        " (the run's own clients included)".format(*load_before, *load_after)
    )
    rate = results.get("typo", {}).get("correction_rate")
    if rate is not None:
        print(f"\nSingle-word typos corrected: {rate:.1%}")
    write_json(
        args.json,
        results,
        products=total,
        typo_correction_rate=rate,
        load_average_before=[round(x, 2) for x in load_before],
        load_average_after=[round(x, 2) for x in load_after],
    )


if __name__ == "__main__":
    main()
