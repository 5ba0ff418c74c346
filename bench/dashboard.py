"""The organisers' live dashboard at Canton scale: page and figures through a real Daphne,
every figure provider's own compute time, and the uncached snapshot as the baseline.

    .venv/bin/python bench/dashboard.py [--small] [--requests 200] [--runs 30]
        [--uncached-runs 100] [--clients 1,4] [--explain] [--json FILE]

The bench keeps its own database (``cloudfair_bench`` on the server of ``DATABASE_URL``,
``--database-url`` to choose; created and migrated here) and its own Redis key prefix
(``benchdash``, in Redis database 11 of ``REDIS_URL``'s server, ``--redis-url`` to choose),
so the caller's data and other runs' keys are never touched. Seeding is
idempotent and done by the database (``INSERT ... SELECT`` over ``generate_series``, every
random choice a hash of the row number): first the catalogue (``seed_scale --exhibitors
26000 --products 1800000`` when the database holds fewer products; ``--small``: 2,000 /
100,000), then a 10-day fair edition covering now (opened 7 days ago) with

* 250,000 live sessions of the seeded exhibitors, one per exhibitor per time slot (so no
  two sessions of an exhibitor overlap, as the exclusion constraint demands): the past
  ones ended (3 % cancelled), the future ones scheduled, and 5,000 live now (status
  ``live``, ``started_at`` set) with viewers in Redis under ``livestream.presence``'s keys
  (a few big rooms, many small ones; heartbeats stamped two hours ahead, so the counts stay
  inside the presence's 60-second window for the whole run without a heartbeat loop
  competing for the CPU: ``ZCOUNT`` costs the same whatever the scores);
* 200,000 buyers (users and buyer profiles in 120 countries, a few large ones first), 20,000
  of them marked online through ``fair.online``;
* 100,000 negotiations opened over the edition's days so far, 30,000 with a quote (its
  message included), 10,000 of which accepted into purchase intents in five currencies.

Seeded rows are recognised by their marks (users ``dashbench-...@bench.example``, session
titles and quote products ``Dashbench ...``, the edition ``dashbench-edition``); a rerun
with the same sizes within 12 hours of the seeding adds nothing, otherwise the affected
rows are replaced (``--small`` after a full run uses the first 2,000 exhibitors).

Scenarios (bounded: a fixed number of requests or runs each; loopback only):

* ``dashboard_page_cached``: GET ``/organiser/dashboard/`` as an organiser (a real session
  cookie) through Daphne (production settings, DEBUG off): the cached snapshot path.
  No websocket ticker runs, so a request that finds a part stale (``live`` every 5 s,
  the charts every 60 s) recomputes it for everyone, as a page load does in production when
  no organiser keeps the dashboard open: those requests are in the tail;
* ``dashboard_figures_json``: GET ``/organiser/dashboard/figures/``, the same way;
* ``snapshot_refresh_<provider>``: each registered provider's ``compute(figure_context())``
  timed in-process, ``--runs`` times after three warm-up runs (``queries``: how many SQL
  queries one run makes, ``sql_ms`` their time; the rest is Python and Redis);
* baselines in the same run: ``baseline_uncached_snapshot`` is ``dashboard_snapshot(force=
  True)`` in-process (every provider recomputed on every request: the page without its
  cache), ``baseline_healthz`` a Django view doing no work, through the same Daphne.

The server runs with ``DATABASE_CONN_MAX_AGE=0`` (``--conn-max-age`` to change): Django's
ASGI handler runs each request's sync code in a fresh thread, and with persistent
connections every one of those threads keeps its own connection open, so a few hundred
requests exhaust PostgreSQL's ``max_connections`` and the page answers 500.

``@4c`` rows repeat the HTTP scenarios with four concurrent clients (``--clients``). The
table ends with the issue's goal (dashboard server time p95 under 100 ms) and the load
average. A provider whose p95 is over 100 ms (or every provider with ``--explain``) gets
the ``EXPLAIN (ANALYZE, BUFFERS)`` of each of its queries printed and written to the JSON.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    free_port,
    manage,
    print_table,
    server_env,
    summarise,
    write_json,
)

DATABASE_NAME = "cloudfair_bench"
REDIS_PREFIX = "benchdash"
#: The bench's own Redis database: the test suite's ``cache.clear()`` is a FLUSHDB of the
#: database in ``REDIS_URL``, which would wipe the viewers in the middle of a run.
REDIS_DB = 11
COLUMNS = ["clients", "count", "errors", "queries", "sql_ms", "p50_ms", "p95_ms", "p99_ms",
           "max_ms", "mean_ms"]  # fmt: skip
GOAL_MS = 100.0

SCALES = {
    "full": {
        "exhibitors": 26_000, "products": 1_800_000, "buyers": 200_000, "online": 20_000,
        "sessions": 250_000, "live": 5_000, "negotiations": 100_000, "quotes": 30_000,
        "intents": 10_000,
    },
    "small": {
        "exhibitors": 2_000, "products": 100_000, "buyers": 20_000, "online": 2_000,
        "sessions": 25_000, "live": 1_000, "negotiations": 10_000, "quotes": 3_000,
        "intents": 1_000,
    },
}  # fmt: skip

EDITION_SLUG = "dashbench-edition"
EDITION_DAYS = 10
EDITION_ELAPSED = timedelta(days=7)
#: Time-dependent rows (live now, opened today) are replaced when older than this.
RESEED_AFTER = timedelta(hours=12)
#: A LIKE pattern, written for statements with parameters (where % is %%); in those
#: without, "%%" is two wildcards, which match the same.
BUYER_EMAIL = "dashbench-buyer-%%"
ORGANISER_EMAIL = "dashbench-organiser@bench.example"
MARK = "Dashbench"
SEED = 20261125
#: Five currencies, most intents in the first.
CURRENCIES = ["USD", "USD", "USD", "USD", "EUR", "EUR", "CNY", "CNY", "GBP", "AED"]
#: Buyer countries: a few large markets first (the skew puts most buyers there), then
#: others from django-countries up to 120.
TOP_COUNTRIES = ["US", "IN", "SA", "AE", "RU", "BR", "DE", "GB", "MX", "NG", "TR", "ID",
                 "PK", "EG", "FR", "IT", "ES", "KR", "JP", "AU", "VN", "TH", "MY", "PL",
                 "ZA", "KE", "CA", "CL", "AR", "CO"]  # fmt: skip
#: Temp table ``dashbench_buyer(j, id)``: the seeded buyers numbered from 0.
BUYER_TABLE = """
    CREATE TEMP TABLE dashbench_buyer AS
      SELECT (row_number() OVER (ORDER BY id) - 1)::int AS j, id FROM fair_user
      WHERE email LIKE 'dashbench-buyer-%%';
    CREATE UNIQUE INDEX ON dashbench_buyer (j);
    ANALYZE dashbench_buyer
"""
#: Viewer heartbeats are stamped this far ahead (see the module docstring).
HEARTBEAT_AHEAD = 2 * 60 * 60


def rnd(expr: str, slot: int) -> str:
    """SQL for a uniform number in [0, 1) from (row, slot): reproducible, no state."""
    return (
        f"((hashint8extended(({expr})::bigint, {SEED * 100 + slot}) & 4503599627370495)"
        "::float8 / 4503599627370496)"
    )


# --- Database and environment ----------------------------------------------------------------


def database_url(args) -> str:
    """The bench's own database on the server of ``DATABASE_URL`` (never the caller's)."""
    if args.database_url:
        return args.database_url
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/cloudfair"
    return urlunsplit(urlsplit(base)._replace(path=f"/{DATABASE_NAME}"))


def database_create(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()


def collectstatic(env: dict[str, str]) -> None:
    """DEBUG off serves hashed names from the manifest, so it must exist. A static file
    that references a missing one (a vendor file's source map not copied yet) fails the
    whole command: such files are left out, with a warning; the dashboard needs none of
    them, and a page that did would fail its requests (counted as errors)."""
    ignored: list[str] = []
    for _ in range(10):
        try:
            manage("collectstatic", "--noinput", *(f"--ignore={i}" for i in ignored), env=env)
            return
        except subprocess.CalledProcessError as exc:
            output = (exc.stderr or b"").decode(errors="replace")
            match = re.search(r"The (?:JS|CSS) file '([^']+)' references a file", output)
            if match is None:
                raise RuntimeError(f"collectstatic failed:\n{output[-3000:]}") from None
            ignored.append(match.group(1).rsplit("/", 1)[-1])
            print(f"WARNING: collectstatic leaves out {match.group(1)}: it references a "
                  "missing file", file=sys.stderr)  # fmt: skip
    raise RuntimeError("collectstatic: too many broken static files")


# --- Seeding -----------------------------------------------------------------------------------


def insert_select(cursor, model, exprs: dict[str, str], source: str, params: dict) -> int:
    """``INSERT INTO <model's table> (...) SELECT <exprs> <source>``. Columns not given get
    the field's Python default (as seed_scale does), so fields added later keep working."""
    from django.db import connection

    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in exprs:
            continue
        columns.append(f'"{field.column}"')
        if field.column in exprs:
            values.append(exprs.pop(field.column))
            continue
        default = field.get_default() if field.has_default() else (None if field.null else "")
        key = f"default_{field.column}"
        params[key] = field.get_db_prep_save(default, connection)
        values.append(f"%({key})s")
    if exprs:
        raise RuntimeError(f"{model._meta.db_table} has no column(s) {sorted(exprs)}")
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} {source}"
    )
    cursor.execute(sql, params)
    return cursor.rowcount


def seeded_counts(cursor) -> dict[str, int]:
    cursor.execute(
        f"""
        {BUYER_TABLE};
        SELECT
          (SELECT count(*) FROM dashbench_buyer),
          (SELECT count(*) FROM buyers_buyerprofile p JOIN dashbench_buyer b ON b.id = p.user_id),
          (SELECT count(*) FROM livestream_livesession WHERE title LIKE '{MARK} %%'),
          (SELECT count(*) FROM livestream_livesession
             WHERE title LIKE '{MARK} %%' AND status = 'live'),
          (SELECT count(*) FROM negotiations_negotiation n
             JOIN dashbench_buyer b ON b.id = n.buyer_id),
          (SELECT count(*) FROM negotiations_quote WHERE product_text LIKE '{MARK} %%'),
          (SELECT count(*) FROM negotiations_purchaseintent i
             JOIN negotiations_quote q ON q.id = i.quote_id
             WHERE q.product_text LIKE '{MARK} %%')
        """  # noqa: S608
    )
    row = cursor.fetchone()
    cursor.execute("DROP TABLE dashbench_buyer")
    keys = ("buyers", "profiles", "sessions", "live", "negotiations", "quotes", "intents")
    return dict(zip(keys, row, strict=True))


def clear_negotiations(cursor) -> None:
    cursor.execute(
        f"""
        CREATE TEMP TABLE dashbench_nego AS
          SELECT n.id FROM negotiations_negotiation n JOIN fair_user u ON u.id = n.buyer_id
          WHERE u.email LIKE '{BUYER_EMAIL}';
        DELETE FROM negotiations_purchaseintent WHERE negotiation_id IN (TABLE dashbench_nego);
        DELETE FROM negotiations_quote WHERE negotiation_id IN (TABLE dashbench_nego);
        DELETE FROM negotiations_message WHERE negotiation_id IN (TABLE dashbench_nego);
        DELETE FROM negotiations_negotiation WHERE id IN (TABLE dashbench_nego);
        DROP TABLE dashbench_nego;
        """  # noqa: S608
    )


def clear_sessions(cursor) -> None:
    cursor.execute(f"DELETE FROM livestream_livesession WHERE title LIKE '{MARK} %%'")  # noqa: S608


def clear_buyers(cursor) -> None:
    clear_negotiations(cursor)
    cursor.execute(
        f"""
        DELETE FROM buyers_buyerprofile WHERE user_id IN
          (SELECT id FROM fair_user WHERE email LIKE '{BUYER_EMAIL}');
        DELETE FROM fair_user WHERE email LIKE '{BUYER_EMAIL}';
        """  # noqa: S608
    )


def seed_catalogue(scale: dict) -> None:
    from django.core.management import call_command
    from django.db import connection

    from exhibitors.management.commands.seed_scale import SLUG_PREFIX
    from exhibitors.models import Exhibitor, Product

    products = Product.objects.count()
    exhibitors = Exhibitor.objects.filter(slug__startswith=SLUG_PREFIX).count()
    if products >= scale["products"] and exhibitors >= scale["exhibitors"]:
        return
    # seed_scale replaces its exhibitors: the rows pointing at them go first.
    with connection.cursor() as cursor:
        clear_buyers(cursor)
        clear_sessions(cursor)
    print(
        f"Seeding the catalogue: {scale['exhibitors']} exhibitors, {scale['products']} "
        "products (seed_scale; a few minutes at full scale) ...",
        flush=True,
    )
    call_command(
        "seed_scale", exhibitors=scale["exhibitors"], products=scale["products"], reset=True
    )


def seed_edition(now):
    """The 10-day edition covering ``now``; returns it and whether it was (re)made now."""
    from fair.models import FairEdition
    from fair.selectors import fair_edition_cache_clear

    edition = FairEdition.objects.filter(slug=EDITION_SLUG).first()
    if edition is not None and now - edition.created_at < RESEED_AFTER:
        return edition, False
    FairEdition.objects.filter(slug=EDITION_SLUG).delete()
    starts = (now - EDITION_ELAPSED).replace(minute=0, second=0, microsecond=0)
    edition = FairEdition.objects.create(
        name="Dashboard bench fair",
        slug=EDITION_SLUG,
        starts_at=starts,
        ends_at=starts + timedelta(days=EDITION_DAYS),
        time_zone="Asia/Shanghai",
    )
    fair_edition_cache_clear()
    return edition, True


def seed_buyers(cursor, scale: dict, edition) -> None:
    from django_countries.data import COUNTRIES

    from buyers.models import BuyerProfile
    from fair.models import User

    countries = TOP_COUNTRIES + sorted(set(COUNTRIES) - set(TOP_COUNTRIES))
    countries = countries[:120]
    params = {"n": scale["buyers"], "t0": edition.starts_at, "countries": countries}
    insert_select(
        cursor,
        User,
        {
            "password": "'!dashbench'",
            "last_login": "NULL",
            "is_superuser": "false",
            "email": "'dashbench-buyer-' || g.i || '@bench.example'",
            "full_name": "'Bench Buyer ' || g.i",
            "language": "'en'",
            "time_zone": "''",
            "is_staff": "false",
            "is_active": "true",
            "date_joined": f"%(t0)s - {rnd('g.i', 1)} * interval '60 days'",
        },
        "FROM generate_series(0, %(n)s - 1) AS g(i)",
        params,
    )
    insert_select(
        cursor,
        BuyerProfile,
        {
            "company": "'Bench Trading ' || u.id",
            # Skewed: the first countries hold most buyers, every one of the 120 some.
            "country": f"(%(countries)s::text[])[1 + floor(120 * {rnd('u.id', 2)} ^ 2.5)::int]",
            "buyer_type": f"(ARRAY['importer','wholesaler','retailer','ecommerce','other'])"
            f"[1 + floor(5 * {rnd('u.id', 3)})::int]",
            "show_identity_in_rooms": "false",
            "share_contact_in_negotiations": "false",
            "created_at": "u.date_joined",
            "updated_at": "u.date_joined",
            "user_id": "u.id",
        },
        f"FROM fair_user u WHERE u.email LIKE '{BUYER_EMAIL}'",
        params,
    )


def exhibitor_pool(cursor, count: int) -> int:
    """Temp table ``dashbench_ex(j, id)``: the first ``count`` seeded exhibitors."""
    from exhibitors.management.commands.seed_scale import SLUG_PREFIX

    cursor.execute(
        "DROP TABLE IF EXISTS dashbench_ex; "
        "CREATE TEMP TABLE dashbench_ex AS SELECT (row_number() OVER (ORDER BY id) - 1)::int "
        "AS j, id FROM exhibitors_exhibitor WHERE slug LIKE %s AND status = 'approved' "
        "ORDER BY id LIMIT %s; CREATE UNIQUE INDEX ON dashbench_ex (j); ANALYZE dashbench_ex",
        [SLUG_PREFIX + "%", count],
    )
    cursor.execute("SELECT count(*) FROM dashbench_ex")
    return cursor.fetchone()[0]


def seed_sessions(cursor, scale: dict, edition, now, exhibitors: int) -> None:
    """Slot ``k`` of exhibitor ``j`` holds session ``i = k * E + j``; a session lies inside
    its slot, so an exhibitor's sessions never overlap. The first ``live`` exhibitors are
    live now, in the slot containing now."""
    from livestream.models import LiveSession

    slots = math.ceil(scale["sessions"] / exhibitors)
    slot = (edition.ends_at - edition.starts_at) / slots
    k_now = int((now - edition.starts_at) / slot)
    live = min(scale["live"], exhibitors)
    if k_now >= slots or (k_now == slots - 1 and live > scale["sessions"] - k_now * exhibitors):
        raise RuntimeError("Too few sessions for the live ones: raise the session count.")
    params = {
        "n": scale["sessions"],
        "e": exhibitors,
        "t0": edition.starts_at,
        "slot": slot,
        "now": now,
        "live": live,
        "k_now": k_now,
    }
    source = f"""
        FROM (
          SELECT t.*,
            CASE WHEN t.is_live THEN 'live'
                 WHEN {rnd("t.i", 5)} < 0.03 THEN 'cancelled'
                 WHEN t.en <= %(now)s THEN 'ended'
                 ELSE 'scheduled' END AS status
          FROM (
            SELECT s.*,
              CASE WHEN s.is_live
                   THEN greatest(s.slot_start, %(now)s - {rnd("s.i", 3)} * interval '50 minutes')
                   ELSE s.slot_start + {rnd("s.i", 1)} * (%(slot)s - s.dur) END AS st,
              CASE WHEN s.is_live
                   THEN least(s.slot_start + %(slot)s,
                              %(now)s + interval '20 minutes' + {rnd("s.i", 4)} * interval '1 hour')
                   ELSE s.slot_start + {rnd("s.i", 1)} * (%(slot)s - s.dur) + s.dur END AS en
            FROM (
              SELECT g.i, ex.id AS exhibitor_id, g.i / %(e)s AS k,
                     %(t0)s + (g.i / %(e)s) * %(slot)s AS slot_start,
                     (ex.j < %(live)s AND g.i / %(e)s = %(k_now)s) AS is_live,
                     least(interval '30 minutes' + {rnd("g.i", 2)} * interval '90 minutes',
                           %(slot)s * 0.6) AS dur
              FROM generate_series(0, %(n)s - 1) AS g(i)
              JOIN dashbench_ex ex ON ex.j = g.i %% %(e)s
            ) s
          ) t
        ) x
    """  # noqa: S608 (constants and hash expressions only; values go as parameters)
    insert_select(
        cursor,
        LiveSession,
        {
            "title": f"'{MARK} session ' || x.i",
            "description": "''",
            "kind": f"(ARRAY['launch','showcase','factory_tour','briefing'])"
            f"[1 + floor(4 * {rnd('x.i', 6)})::int]",
            "language": f"(ARRAY['en','en','en','zh','ar','ru','es','fr'])"
            f"[1 + floor(8 * {rnd('x.i', 7)})::int]",
            "target_regions": "'[]'::jsonb",
            "scheduled_start": "x.st",
            "scheduled_end": "x.en",
            "status": "x.status",
            "is_adhoc": "false",
            "started_at": f"""CASE x.status
                WHEN 'live' THEN least(x.st + {rnd("x.i", 8)} * interval '2 minutes', %(now)s)
                WHEN 'ended' THEN x.st + {rnd("x.i", 8)} * interval '3 minutes' END""",
            "ended_at": f"""CASE x.status WHEN 'ended'
                THEN least(x.en + {rnd("x.i", 9)} * interval '5 minutes', %(now)s) END""",
            "peak_viewers": f"CASE WHEN x.status = 'ended' "
            f"THEN floor(600 * {rnd('x.i', 10)} ^ 4)::int ELSE 0 END",
            "created_at": "least(x.st, %(now)s) - interval '2 days'",
            "updated_at": "least(x.st, %(now)s)",
            "exhibitor_id": "x.exhibitor_id",
        },
        source,
        params,
    )


def seed_negotiations(cursor, scale: dict, edition, now, exhibitors: int) -> None:
    """Rooms opened over the edition's days so far, one per (buyer, exhibitor) pair; every
    ``step``-th has a quote (with its message), the first ``intents`` of those accepted."""
    from negotiations.models import Message, Negotiation, PurchaseIntent, Quote

    n, buyers = scale["negotiations"], scale["buyers"]
    step = max(1, n // scale["quotes"])
    params = {
        "n": n,
        "b": buyers,
        "e": exhibitors,
        "t0": edition.starts_at,
        "now": now,
        "step": step,
        "quotes": scale["quotes"],
        "intents": scale["intents"],
        "currencies": CURRENCIES,
    }
    cursor.execute(BUYER_TABLE)
    has_quote = "(t.i %% %(step)s = 0 AND t.i / %(step)s < %(quotes)s)"
    has_intent = "(t.i %% %(step)s = 0 AND t.i / %(step)s < %(intents)s)"
    insert_select(
        cursor,
        Negotiation,
        {
            "last_context": "''",
            "status": f"CASE WHEN {has_intent} THEN 'agreed' ELSE 'open' END",
            "last_message_at": "t.created",
            "last_seq": f"CASE WHEN {has_quote} THEN 1 ELSE 0 END",
            "buyer_last_read_seq": "0",
            "exhibitor_last_read_seq": "0",
            "last_speaker": f"CASE WHEN {has_quote} THEN 'exhibitor' ELSE '' END",
            "created_at": "t.created",
            "updated_at": "t.created",
            "buyer_id": "b.id",
            # For one buyer, i / B differs between its rooms: distinct exhibitors.
            "exhibitor_id": "ex.id",
        },
        f"""FROM (SELECT g.i, %(t0)s + {rnd("g.i", 11)} * (%(now)s - %(t0)s) AS created
                  FROM generate_series(0, %(n)s - 1) AS g(i)) t
            JOIN dashbench_buyer b ON b.j = t.i %% %(b)s
            JOIN dashbench_ex ex
              ON ex.j = ((hashint8extended(b.j, {SEED}) & 1073741823) + t.i / %(b)s) %% %(e)s""",  # noqa: S608,E501 (constants)
        params,
    )
    seeded = "n.buyer_id IN (SELECT id FROM dashbench_buyer)"
    insert_select(
        cursor,
        Message,
        {
            "seq": "1",
            "kind": "'quote'",
            "side": "'exhibitor'",
            "body": "''",
            "event": "''",
            "data": "'{}'::jsonb",
            "client_id": "''",
            "created_at": f"n.created_at + {rnd('n.id', 12)} * (%(now)s - n.created_at)",
            "negotiation_id": "n.id",
        },
        f"FROM negotiations_negotiation n WHERE n.last_seq = 1 AND {seeded}",
        params,
    )
    decided = f"m.created_at + {rnd('m.id', 13)} * (%(now)s - m.created_at)"
    insert_select(
        cursor,
        Quote,
        {
            "side": "'exhibitor'",
            "product_text": f"'{MARK} product ' || n.id",
            "quantity": f"(100 + floor(9900 * {rnd('m.id', 14)}))::numeric",
            "unit": "'pieces'",
            "unit_price": f"round((0.5 + 99.5 * {rnd('m.id', 15)} ^ 2)::numeric, 4)",
            "currency": f"(%(currencies)s::text[])[1 + floor(10 * {rnd('n.id', 16)})::int]",
            "incoterm": "'FOB'",
            "port": "'Shenzhen'",
            "lead_time_days": "30",
            "payment_terms": "''",
            "sample_terms": "''",
            "valid_until": "m.created_at + interval '14 days'",
            "status": f"""CASE WHEN n.status = 'agreed' THEN 'accepted'
                WHEN {rnd("m.id", 17)} < 0.2 THEN 'declined' ELSE 'open' END""",
            "version": "1",
            "decided_at": f"CASE WHEN n.status = 'agreed' THEN {decided} END",
            "created_at": "m.created_at",
            "message_id": "m.id",
            "negotiation_id": "n.id",
        },
        f"""FROM negotiations_message m JOIN negotiations_negotiation n ON n.id = m.negotiation_id
            WHERE m.kind = 'quote' AND {seeded}""",
        params,
    )
    insert_select(
        cursor,
        PurchaseIntent,
        {
            "total": "round(q.quantity * q.unit_price, 2)",
            "currency": "q.currency",
            "created_at": "q.decided_at",
            "accepted_by_id": "n.buyer_id",
            "negotiation_id": "n.id",
            "quote_id": "q.id",
        },
        f"""FROM negotiations_quote q JOIN negotiations_negotiation n ON n.id = q.negotiation_id
            WHERE q.status = 'accepted' AND {seeded}""",
        params,
    )
    cursor.execute("DROP TABLE dashbench_buyer")


def seed_fair(scale: dict) -> dict:
    """Everything the dashboard counts (idempotent); returns the seeded figures."""
    from django.db import connection, transaction
    from django.utils import timezone

    seed_catalogue(scale)
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        edition, fresh = seed_edition(now)
        counts = seeded_counts(cursor)
        exhibitors = exhibitor_pool(cursor, scale["exhibitors"])
        if counts["buyers"] != scale["buyers"] or counts["profiles"] != scale["buyers"]:
            print(f"Seeding {scale['buyers']} buyers ...", flush=True)
            clear_buyers(cursor)
            seed_buyers(cursor, scale, edition)
            counts["negotiations"] = -1
        if fresh or counts["sessions"] != scale["sessions"] or counts["live"] != scale["live"]:
            print(f"Seeding {scale['sessions']} live sessions ...", flush=True)
            clear_sessions(cursor)
            seed_sessions(cursor, scale, edition, now, exhibitors)
        if fresh or any(counts[k] != scale[k] for k in ("negotiations", "quotes", "intents")):
            print(f"Seeding {scale['negotiations']} negotiations ...", flush=True)
            clear_negotiations(cursor)
            seed_negotiations(cursor, scale, edition, now, exhibitors)
        cursor.execute("DROP TABLE dashbench_ex")
        counts = seeded_counts(cursor)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        for table in ("fair_user", "buyers_buyerprofile", "livestream_livesession",
                      "negotiations_negotiation", "negotiations_message", "negotiations_quote",
                      "negotiations_purchaseintent"):  # fmt: skip
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"Seeded fair ready in {elapsed:.1f} s: {counts}", flush=True)
    return counts


def live_viewers_seed(scale: dict) -> int:
    """Viewers of every live session in Redis, under ``livestream.presence``'s keys: signed-in
    users in ``users``, anonymous sockets in ``anon``, and ``peak``; and each room's count in
    the fair-wide summary the presence ticks publish (what the ``live`` figures read), as
    written by a tick at the heartbeats' stamp. Returns the total."""
    import redis
    from django.conf import settings

    from livestream.models import LiveSession
    from livestream.presence import presence, summary_keys

    key = presence.backend.key
    client = redis.Redis.from_url(settings.REDIS_URL)
    live_ids = sorted(LiveSession.objects.live().values_list("pk", flat=True))
    stamp = time.time() + HEARTBEAT_AHEAD
    total = 0
    published = {}
    pipe = client.pipeline(transaction=False)
    for n, session_id in enumerate(live_ids):
        # A few big rooms, many small ones (a heavy tail from a fixed hash of the index).
        share = ((n * 2654435761) % 2**32) / 2**32
        users = 1 + int(400 * share**6)
        anon = users // 3
        names = {"users": {str(100_000 + n * 7 + u): stamp for u in range(users)}}
        names["anon"] = {f"specific.bench!{n}-{a}": stamp for a in range(anon)}
        for name, members in names.items():
            pipe.delete(key(session_id, name))
            if members:
                pipe.zadd(key(session_id, name), members)
                pipe.expire(key(session_id, name), HEARTBEAT_AHEAD + 3600)
        pipe.set(key(session_id, "peak"), users + anon, ex=HEARTBEAT_AHEAD + 3600)
        published[str(session_id)] = users + anon
        total += users + anon
        if n % 500 == 499:
            pipe.execute()
    summary, written = summary_keys(settings.REDIS_KEY_PREFIX)
    pipe.delete(summary, written)
    if published:
        pipe.zadd(summary, published)
        pipe.zadd(written, dict.fromkeys(published, stamp))
        pipe.expire(summary, HEARTBEAT_AHEAD + 3600)
        pipe.expire(written, HEARTBEAT_AHEAD + 3600)
    pipe.execute()
    return total


def buyers_online_mark(scale: dict) -> None:
    """Mark ``online`` seeded buyers online (``fair.online``; its key lives 5 minutes, so
    this runs before every scenario)."""
    from fair.models import User
    from fair.online import online_mark

    ids = list(
        User.objects.filter(email__startswith="dashbench-buyer-")
        .order_by("pk")
        .values_list("pk", flat=True)[: scale["online"]]
    )
    online_mark({"buyers": ids})


def organiser_cookie() -> str:
    """A signed-in organiser's session cookie (a real session in the session store)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.cached_db import SessionStore

    from fair.models import ORGANISERS_GROUP, User

    user = User.objects.filter(email=ORGANISER_EMAIL).first()
    if user is None:
        user = User.objects.create_user(
            email=ORGANISER_EMAIL, password=None, full_name="Bench Organiser"
        )
    user.groups.add(Group.objects.get_or_create(name=ORGANISERS_GROUP)[0])
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


@contextmanager
def daphne_logged(env: dict[str, str], log_path: Path, timeout: float = 30.0):
    """``harness.daphne_server`` with the server's output in a file: that one keeps stderr in
    a pipe it reads only when the server fails to start, and the providers' "took N ms"
    warnings fill the pipe (64 KiB) until the server blocks on a log write. Yields the
    base URL."""
    port = free_port()
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
               "--verbosity", "0", "fair.asgi:application"]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        tail = log_path.read_text(errors="replace")[-2000:]
                        raise RuntimeError(f"Daphne did not start: {tail}") from None
                    time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


# --- Scenarios -----------------------------------------------------------------------------------


def http_timings(base_url: str, path: str, total: int, clients: int, cookie: str | None) -> dict:
    """``total`` GETs of ``path`` over ``clients`` keep-alive connections; non-200 answers
    are errors (and not timed)."""
    parsed = urlparse(base_url)
    headers = {"Accept-Language": "en", **({"Cookie": cookie} if cookie else {})}
    latencies: list[float] = []
    errors = 0
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def worker(count: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        mine, bad, seen = [], 0, {}
        for _ in range(count):
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
            except OSError as exc:
                bad += 1
                seen[type(exc).__name__] = seen.get(type(exc).__name__, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
                continue
            if response.status != 200:
                bad += 1
                seen[str(response.status)] = seen.get(str(response.status), 0) + 1
                continue
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad
            for key, n in seen.items():
                statuses[key] = statuses.get(key, 0) + n

    threads = [threading.Thread(target=worker, args=(total // clients,)) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    extra = {"failures": statuses} if statuses else {}
    return summarise(latencies, wall, errors=errors, clients=clients, **extra)


def timed_runs(function, runs: int, warm_up: int = 3) -> tuple[list[float], dict]:
    """Latencies of ``runs`` calls after ``warm_up`` uncounted ones, and what one call does
    in SQL: ``queries`` and their time ``sql_ms`` (the rest is Python and Redis)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warm_up):
        function()
    with CaptureQueriesContext(connection) as captured:
        function()
    latencies = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        latencies.append(time.perf_counter() - started)
    sql = {
        "queries": len(captured.captured_queries),
        "sql_ms": round(sum(float(q["time"]) for q in captured.captured_queries) * 1000, 2),
    }
    return latencies, sql


def explain_provider(provider) -> list[dict]:
    """Each query one run of the provider makes, with its ``EXPLAIN (ANALYZE, BUFFERS)``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fair.dashboard import figure_context

    with CaptureQueriesContext(connection) as captured:
        provider.compute(figure_context())
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plans.append(
                {
                    "sql": sql,
                    "time_ms": float(query["time"]) * 1000,
                    "plan": "\n".join(row[0] for row in cursor.fetchall()),
                }
            )
    return plans


def figures_check(snapshot: dict, viewers: int, scale: dict) -> tuple[list[str], list[str]]:
    """What the dashboard shows against the database and Redis (a wrong figure is a bench
    or provider bug, and its timings would not mean much). Returns the mismatches and the
    figures not checked because their provider is not registered."""
    from buyers.models import BuyerProfile
    from livestream.models import LiveSession
    from negotiations.models import Negotiation, PurchaseIntent, Quote

    expected = {
        "live.streams_live": LiveSession.objects.live().count(),
        "live.viewers_now": viewers,
        "negotiations.opened_total": Negotiation.objects.count(),
        "negotiations.quotes_sent": Quote.objects.count(),
        "negotiations.intents.count": PurchaseIntent.objects.count(),
        "buyers_by_country.total": BuyerProfile.objects.count(),
        "buyers_online.online": scale["online"],
    }
    problems, unchecked = [], []
    for path, wanted in expected.items():
        provider, *parts = path.split(".")
        if provider not in snapshot:
            unchecked.append(path)
            continue
        value = snapshot[provider]
        for part in parts:
            value = value.get(part) if isinstance(value, dict) else None
        if value != wanted:
            problems.append(f"{path}: shown {value}, expected {wanted}")
    return problems, unchecked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="2,000 exhibitors, 100,000 products")
    parser.add_argument("--requests", type=int, default=200, help="per HTTP scenario")
    parser.add_argument("--runs", type=int, default=30, help="per provider")
    parser.add_argument("--uncached-runs", type=int, default=100)
    parser.add_argument("--clients", default="1,4", help="client counts of the HTTP scenarios")
    parser.add_argument("--explain", action="store_true", help="plans of every provider")
    parser.add_argument("--database-url", help=f"default: {DATABASE_NAME} on DATABASE_URL's server")
    parser.add_argument("--redis-url", help=f"default: database {REDIS_DB} on REDIS_URL's server")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=0,
        help="the server's DATABASE_CONN_MAX_AGE (the settings' default, 60, leaks a "
        "connection per request under Daphne; see the module docstring)",
    )
    parser.add_argument("--json")
    args = parser.parse_args()
    scale = SCALES["small" if args.small else "full"]
    client_counts = [int(c) for c in args.clients.split(",") if c]

    db_url = database_url(args)
    redis_url = args.redis_url or urlunsplit(
        urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")._replace(
            path=f"/{REDIS_DB}"
        )
    )
    env = server_env(
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=REDIS_PREFIX,
        DATABASE_CONN_MAX_AGE=str(args.conn_max_age),
    )
    print(
        f"dashboard: database {urlsplit(db_url).path.lstrip('/')}, redis {redis_url} prefix "
        f"{REDIS_PREFIX}, load {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    database_create(db_url)
    manage("migrate", "--noinput", env=env)
    collectstatic(env)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connections

    from fair.dashboard import (
        CACHE_PREFIX,
        LOCK_PREFIX,
        dashboard_snapshot,
        figure_context,
        figure_providers,
    )
    from fair.selectors import fair_edition_cache_clear, fair_edition_current

    counts = seed_fair(scale)
    viewers = live_viewers_seed(scale)
    buyers_online_mark(scale)
    cookie = organiser_cookie()
    fair_edition_cache_clear()
    edition = fair_edition_current()
    if edition is None or edition.slug != EDITION_SLUG:
        print(f"WARNING: the current edition is {edition}, not the bench's", file=sys.stderr)
    providers = figure_providers()
    print(f"Viewers in Redis: {viewers}; providers: {', '.join(providers)}", flush=True)

    def cache_clear() -> None:
        cache.delete_many([p + name for name in providers for p in (CACHE_PREFIX, LOCK_PREFIX)])

    load_before = os.getloadavg()
    results: dict[str, dict] = {}
    slow: dict[str, list[dict]] = {}
    for name, provider in providers.items():
        buyers_online_mark(scale)
        print(f"snapshot_refresh_{name} ...", flush=True)
        latencies, sql = timed_runs(lambda p=provider: p.compute(figure_context()), args.runs)
        results[f"snapshot_refresh_{name}"] = summarise(latencies, sum(latencies), clients=1, **sql)
    print("baseline_uncached_snapshot ...", flush=True)
    buyers_online_mark(scale)
    latencies, sql = timed_runs(lambda: dashboard_snapshot(force=True), args.uncached_runs)
    results["baseline_uncached_snapshot"] = summarise(latencies, sum(latencies), clients=1, **sql)
    snapshot = dashboard_snapshot(force=True)
    problems, unchecked = figures_check(snapshot, viewers, scale)
    connections.close_all()

    pages = {
        "dashboard_page_cached": ("/organiser/dashboard/", cookie),
        "dashboard_figures_json": ("/organiser/dashboard/figures/", cookie),
        "baseline_healthz": ("/healthz", None),
    }
    server_log = Path(tempfile.mkdtemp(prefix="bench-dashboard-")) / "daphne.log"
    with daphne_logged(env, server_log) as base_url:
        cache_clear()
        for path, page_cookie in pages.values():  # warm up: code paths, connections, cache
            http_timings(base_url, path, 10, 1, page_cookie)
        for clients in client_counts:
            for name, (path, page_cookie) in pages.items():
                buyers_online_mark(scale)
                label = name if clients == 1 else f"{name}@{clients}c"
                print(f"{label} ...", flush=True)
                results[label] = http_timings(base_url, path, args.requests, clients, page_cookie)
    load_after = os.getloadavg()

    for name, provider in providers.items():
        result = results[f"snapshot_refresh_{name}"]
        if args.explain or result["p95_ms"] > GOAL_MS:
            slow[name] = explain_provider(provider)

    total_products = _count("exhibitors_product")
    print_table(
        f"Organisers' dashboard, {total_products} products, {counts['sessions']} sessions "
        f"({counts['live']} live, {viewers} viewers), {counts['negotiations']} negotiations, "
        f"{counts['buyers']} buyers (baselines: uncached snapshot, /healthz)",
        results,
        COLUMNS,
    )
    print("\nFigures shown:", _figures_line(snapshot))
    for problem in problems:
        print(f"FIGURE MISMATCH: {problem}")
    if unchecked:
        print(f"Not checked (provider not registered): {', '.join(unchecked)}")
    goals = {}
    for name in ("dashboard_page_cached", "dashboard_figures_json"):
        if name in results:
            p95 = results[name]["p95_ms"]
            goals[name] = p95 < GOAL_MS
            print(f"Goal: {name} p95 {p95} ms < {GOAL_MS:.0f} ms: "
                  f"{'PASS' if goals[name] else 'FAIL'}")  # fmt: skip
    for name, plans in slow.items():
        print(f"\n== {name}: {len(plans)} queries")
        for plan in plans:
            print(f"-- {plan['time_ms']:.1f} ms: {plan['sql'][:1500]}\n{plan['plan']}")
    print(
        "\nLoad average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f}"
        " (the run's own server and client included)".format(*load_before, *load_after)
    )
    write_json(
        args.json,
        results,
        baseline=["baseline_uncached_snapshot", "baseline_healthz"],
        seeded={**counts, "products": total_products, "viewers": viewers},
        figures=snapshot,
        figure_problems=problems,
        figures_unchecked=unchecked,
        goal_p95_ms=GOAL_MS,
        goals_met=goals,
        explain=slow,
        load_average_before=[round(x, 2) for x in load_before],
        load_average_after=[round(x, 2) for x in load_after],
    )
    log_text = server_log.read_text(errors="replace")
    print(
        f"Server log: {server_log} ({log_text.count(' WARNING fair.dashboard ')} slow-figure "
        f"warnings, {log_text.count(' ERROR ')} errors)"
    )
    for name, result in results.items():
        if result.get("failures"):
            print(f"Failed requests of {name}: {result['failures']} (see the server log)")
    _redis_clear(redis_url)
    sys.exit(1 if problems else 0)


def _count(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        return cursor.fetchone()[0]


def _figures_line(snapshot: dict) -> str:
    live = snapshot.get("live", {})
    nego = snapshot.get("negotiations", {})
    buyers = snapshot.get("buyers_by_country", {})
    online = snapshot.get("buyers_online", {})
    return (
        f"streams live {live.get('streams_live')}, viewers {live.get('viewers_now')}, "
        f"negotiations today {nego.get('opened_today')} / total {nego.get('opened_total')}, "
        f"quotes {nego.get('quotes_sent')}, intents {nego.get('intents', {}).get('count')}, "
        f"buyers {buyers.get('total')} in {buyers.get('countries')} countries, "
        f"online {online.get('online')}, hours charted "
        f"{len(snapshot.get('streams_per_hour', {}).get('values', []))}, days charted "
        f"{len(snapshot.get('negotiations_per_day', {}).get('values', []))}"
    )


def _redis_clear(redis_url: str) -> None:
    """The run's keys (viewers, online buyers, cached figures, sessions) are this bench's
    prefix only."""
    import redis

    client = redis.Redis.from_url(redis_url)
    batch = []
    for key in client.scan_iter(match=f"{REDIS_PREFIX}:*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            client.delete(*batch)
            batch = []
    if batch:
        client.delete(*batch)


if __name__ == "__main__":
    main()
