"""Benchmark of the bulk product import: 2,000-row CSV and XLSX files through the real
service and Celery task (run in-process) on PostgreSQL.

Scenarios, each repeated ``--reps`` times:

* ``csv_first`` / ``xlsx_first``: an empty catalogue, every row created;
* ``csv_reimport`` / ``xlsx_reimport``: the same file again, every row unchanged;
* ``csv_update``: every row's price changed, every product updated;
* ``baseline_bulk_create``: a plain ``bulk_create`` of the same 2,000 products (no parsing,
  no validation, no comparison): the floor the importer is measured against.

Each timing runs from the upload (``import_job_start``) to the finished job. The goal: an
import of 2,000 rows in under 10 s on this machine.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cloudfair_bench \\
        .venv/bin/python bench/import.py --reps 5 --json bench/results/import.json

The database is created and migrated if needed; the benchmark's exhibitor is deleted at the
end."""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import print_table, server_env, summarise, write_json  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cloudfair_bench_import"
ROWS = 2000


def ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    config = dj_database_url.parse(url)
    connection = psycopg2.connect(
        dbname="postgres",
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    connection.close()


def setup_django(database_url: str) -> None:
    os.environ.update(
        server_env(
            DATABASE_URL=database_url,
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        )
    )
    os.environ.pop("REDIS_URL", None)  # no broker needed: the task runs in-process
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from fair.celery import app

    # The real task, run in-process when the upload's transaction commits.
    app.conf.task_always_eager = True


def make_rows(sections: list[str], price_bump: str = "0") -> list[dict]:
    rows = []
    for i in range(ROWS):
        low = Decimal(10 + i % 500) + Decimal(price_bump)
        rows.append(
            {
                "sku": f"BENCH-{i:05d}",
                "name": f"Product {i} stainless steel kettle 1.7 l",
                "category": sections[i % len(sections)],
                "description": "A durable product for wholesale buyers. " * 4,
                "specs": f"Capacity={1 + i % 3} l; Power={1000 + i % 800} W; Colour=silver",
                "keywords": "kettle, wholesale, oem",
                "moq": str(100 + i % 900),
                "moq_unit": "pieces",
                "price_min": f"{low:.2f}",
                "price_max": f"{low + 5:.2f}",
                "currency": "USD",
                "incoterm": "FOB",
                "port_of_loading": "Ningbo",
                "lead_time_days": str(15 + i % 60),
                "hs_code": "8516.79",
                "certifications": "CE; RoHS; GS",
                "samples": ("none", "free", "paid")[i % 3],
                "is_new_launch": "yes" if i % 10 == 0 else "no",
                "is_published": "yes",
            }
        )
    return rows


def csv_file(rows: list[dict]) -> bytes:
    import csv

    from exhibitors.imports import COLUMN_NAMES

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMN_NAMES)
    for row in rows:
        writer.writerow([row[c] for c in COLUMN_NAMES])
    return out.getvalue().encode()


def xlsx_file(rows: list[dict]) -> bytes:
    import openpyxl

    from exhibitors.imports import COLUMN_NAMES

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(list(COLUMN_NAMES))
    for row in rows:
        sheet.append([row[c] for c in COLUMN_NAMES])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def run_import(owner, exhibitor, data: bytes, name: str, expect: dict) -> float:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from exhibitors.imports import import_job_start

    started = time.perf_counter()
    job = import_job_start(
        user=owner, exhibitor_id=exhibitor.pk, upload=SimpleUploadedFile(name, data)
    )
    elapsed = time.perf_counter() - started
    job.refresh_from_db()
    got = {key: getattr(job, key) for key in expect}
    if job.status != "succeeded" or got != expect:
        raise SystemExit(f"unexpected import result {job.status} {got} {job.message}")
    return elapsed


def baseline(exhibitor, rows: list[dict], sections: dict) -> float:
    from exhibitors.models import Product

    products = [
        Product(
            exhibitor=exhibitor,
            sku=row["sku"],
            name=row["name"],
            category=sections[row["category"]],
            description=row["description"],
            specs=[part.split("=") for part in row["specs"].split("; ")],
            keywords=row["keywords"],
            moq=int(row["moq"]),
            moq_unit=row["moq_unit"],
            price_min=Decimal(row["price_min"]),
            price_max=Decimal(row["price_max"]),
            currency=row["currency"],
            incoterm=row["incoterm"],
            port_of_loading=row["port_of_loading"],
            lead_time_days=int(row["lead_time_days"]),
            hs_code=row["hs_code"],
            certifications=row["certifications"].split("; "),
            samples=row["samples"],
            is_new_launch=row["is_new_launch"] == "yes",
            is_published=True,
        )
        for row in rows
    ]
    started = time.perf_counter()
    Product.objects.bulk_create(products, batch_size=500)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not database_url.startswith("postgres"):
        raise SystemExit("The import benchmark runs on PostgreSQL: set DATABASE_URL.")
    ensure_database(database_url)
    setup_django(database_url)

    from django.contrib.auth.models import Group

    from exhibitors.models import Product
    from exhibitors.services import exhibitor_apply, exhibitor_approve
    from fair.models import ORGANISERS_GROUP, Category, User

    suffix = uuid.uuid4().hex[:8]
    owner = User.objects.create_user(email=f"bench-owner-{suffix}@example.test", full_name="B")
    organiser = User.objects.create_user(
        email=f"bench-org-{suffix}@example.test", full_name="O", is_staff=True
    )
    organiser.groups.add(Group.objects.get(name=ORGANISERS_GROUP))
    exhibitor = exhibitor_apply(
        user=owner,
        display_name=f"Bench Imports {suffix}",
        legal_name="Bench Imports Ltd",
        country="CN",
        description="Benchmark exhibitor.",
    )
    exhibitor_approve(actor=organiser, exhibitor_id=exhibitor.pk)
    section_objects = {c.slug: c for c in Category.objects.filter(kind="section")}
    sections = sorted(section_objects)[:12]
    rows = make_rows(sections)
    bumped = make_rows(sections, price_bump="1")
    files = {
        "csv": csv_file(rows),
        "csv_bumped": csv_file(bumped),
        "xlsx": xlsx_file(rows),
    }
    print(
        f"{ROWS} rows; CSV {len(files['csv']) // 1024} KB, XLSX {len(files['xlsx']) // 1024} KB; "
        f"{args.reps} repetitions per scenario"
    )

    def empty_catalogue() -> None:
        Product.objects.filter(exhibitor=exhibitor).delete()

    timings: dict[str, list[float]] = {
        name: []
        for name in (
            "baseline_bulk_create",
            "csv_first",
            "csv_reimport",
            "csv_update",
            "xlsx_first",
            "xlsx_reimport",
        )
    }
    created = {"created_count": ROWS, "updated_count": 0, "unchanged_count": 0, "error_count": 0}
    unchanged = {"created_count": 0, "updated_count": 0, "unchanged_count": ROWS, "error_count": 0}
    updated = {"created_count": 0, "updated_count": ROWS, "unchanged_count": 0, "error_count": 0}
    wall_started = time.perf_counter()
    try:
        for _rep in range(args.reps):
            empty_catalogue()
            timings["baseline_bulk_create"].append(baseline(exhibitor, rows, section_objects))
            empty_catalogue()
            timings["csv_first"].append(
                run_import(owner, exhibitor, files["csv"], "a.csv", created)
            )
            timings["csv_reimport"].append(
                run_import(owner, exhibitor, files["csv"], "a.csv", unchanged)
            )
            timings["csv_update"].append(
                run_import(owner, exhibitor, files["csv_bumped"], "b.csv", updated)
            )
            empty_catalogue()
            timings["xlsx_first"].append(
                run_import(owner, exhibitor, files["xlsx"], "a.xlsx", created)
            )
            timings["xlsx_reimport"].append(
                run_import(owner, exhibitor, files["xlsx"], "a.xlsx", unchanged)
            )
    finally:
        exhibitor.imports.all().delete()
        exhibitor.delete()
        owner.delete()
        organiser.delete()
    wall = time.perf_counter() - wall_started

    scenarios = {}
    for name, values in timings.items():
        result = summarise(values, wall)
        median_s = result["p50_ms"] / 1000
        scenarios[name] = {
            "p50_ms": result["p50_ms"],
            "p95_ms": result["p95_ms"],
            "p99_ms": result["p99_ms"],
            "max_ms": result["max_ms"],
            "rows_per_s": round(ROWS / median_s) if median_s else None,
            "runs": result["count"],
        }
    print_table(
        f"Bulk import of {ROWS} rows (PostgreSQL, real task in-process; goal: under 10 s)",
        scenarios,
        ["p50_ms", "p95_ms", "p99_ms", "max_ms", "rows_per_s", "runs"],
    )
    write_json(args.json, scenarios, rows=ROWS, reps=args.reps, goal_ms=10_000)


if __name__ == "__main__":
    main()
