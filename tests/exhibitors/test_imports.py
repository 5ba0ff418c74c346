"""Bulk import of products (CSV / XLSX): parsing, validation, upsert by SKU, file-level
errors, progress, pages and permissions."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exhibitors.imports import (
    COLUMN_NAMES,
    ImportFileError,
    import_job_run,
    import_job_start,
    parse_file,
)
from exhibitors.imports import jobs as import_jobs
from exhibitors.models import ImportJob, Product
from fair.exceptions import ApplicationError, Forbidden, NotFound
from tests.exhibitors.factories import add_member, make_exhibitor, make_product, owner_of
from tests.factories import make_buyer, make_organiser

pytestmark = pytest.mark.django_db

GOOD = {
    "sku": "TV-55-4K",
    "name": "55-inch 4K TV",
    "category": "household-appliances",
    "description": "Slim bezel smart TV.",
    "specs": "Screen size=55 in; Resolution=4K",
    "keywords": "television, smart tv",
    "moq": "100",
    "moq_unit": "pieces",
    "price_min": "120.50",
    "price_max": "135",
    "currency": "USD",
    "incoterm": "FOB",
    "port_of_loading": "Shenzhen",
    "lead_time_days": "30",
    "hs_code": "8528.72",
    "certifications": "CE; RoHS",
    "samples": "free",
    "is_new_launch": "yes",
    "is_published": "no",
}


def row(**overrides) -> dict:
    return {**GOOD, **overrides}


def rows(n: int, **overrides) -> list[dict]:
    return [row(sku=f"SKU-{i:05d}", name=f"Product {i}", **overrides) for i in range(1, n + 1)]


def csv_bytes(records: list[dict], header: list[str] | None = None, bom: bool = False) -> bytes:
    header = header or list(COLUMN_NAMES)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for record in records:
        writer.writerow([record.get(c, "") for c in header])
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def xlsx_bytes(records: list[list], header: list[str] | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header or list(COLUMN_NAMES))
    for record in records:
        sheet.append(record)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def start(user, exhibitor, data: bytes, name: str = "products.csv") -> ImportJob:
    return import_job_start(
        user=user, exhibitor_id=exhibitor.pk, upload=SimpleUploadedFile(name, data)
    )


def run_import(django_capture_on_commit_callbacks, user, exhibitor, data, name="products.csv"):
    with django_capture_on_commit_callbacks(execute=True):
        job = start(user, exhibitor, data, name)
    job.refresh_from_db()
    return job


@pytest.fixture
def exhibitor():
    return make_exhibitor()


@pytest.fixture
def owner(exhibitor):
    return owner_of(exhibitor)


@pytest.fixture
def do_import(django_capture_on_commit_callbacks, exhibitor, owner):
    def _do(data: bytes, name: str = "products.csv", user=None) -> ImportJob:
        return run_import(django_capture_on_commit_callbacks, user or owner, exhibitor, data, name)

    return _do


# --- Good files ------------------------------------------------------------------------------


def test_import_good_csv_creates_products_with_exact_values(do_import, exhibitor):
    data = csv_bytes([row(), row(sku="TV-65", name="65-inch TV", price_min="", price_max="")])

    job = do_import(data)

    assert (job.status, job.total_rows, job.processed_rows) == ("succeeded", 2, 2)
    assert (job.created_count, job.updated_count, job.unchanged_count, job.error_count) == (
        2,
        0,
        0,
        0,
    )
    assert job.errors == []
    tv = Product.objects.get(exhibitor=exhibitor, sku="TV-55-4K")
    assert tv.name == "55-inch 4K TV"
    assert tv.category.slug == "household-appliances"
    assert tv.description == "Slim bezel smart TV."
    assert tv.specs == [["Screen size", "55 in"], ["Resolution", "4K"]]
    assert tv.keywords == "television, smart tv"
    assert (tv.moq, tv.moq_unit) == (100, "pieces")
    assert (tv.price_min, tv.price_max, tv.currency) == (
        Decimal("120.50"),
        Decimal("135.00"),
        "USD",
    )
    assert (tv.incoterm, tv.port_of_loading, tv.lead_time_days) == ("FOB", "Shenzhen", 30)
    assert tv.hs_code == "8528.72"
    assert tv.certifications == ["CE", "RoHS"]
    assert (tv.samples, tv.is_new_launch, tv.is_published) == ("free", True, False)
    other = Product.objects.get(exhibitor=exhibitor, sku="TV-65")
    assert (other.price_min, other.price_max) == (None, None)


def test_import_csv_with_bom_and_semicolons_is_read(do_import, exhibitor):
    data = csv_bytes([row()], bom=True).decode("utf-8").replace(",", ";", len(COLUMN_NAMES) - 1)
    header_only = data.split("\n", 1)[0]
    semicolon_file = (
        header_only + "\n" + ";".join(f'"{v}"' for v in row().values()) + "\n"
    ).encode()

    job = do_import(semicolon_file)

    assert (job.status, job.created_count) == ("succeeded", 1)
    assert Product.objects.get(exhibitor=exhibitor).price_min == Decimal("120.50")


def test_import_blank_optional_cells_take_model_defaults(do_import, exhibitor):
    data = csv_bytes([{"sku": "A1", "name": "Kettle", "category": "household-appliances"}])

    job = do_import(data)

    product = Product.objects.get(exhibitor=exhibitor, sku="A1")
    assert job.created_count == 1
    assert (product.moq, product.moq_unit, product.currency, product.incoterm) == (
        1,
        "pieces",
        "USD",
        "FOB",
    )
    assert (product.samples, product.is_new_launch, product.specs) == ("none", False, [])


def test_import_same_file_again_changes_nothing(do_import, exhibitor):
    data = csv_bytes(rows(3))
    do_import(data)
    before = dict(Product.objects.filter(exhibitor=exhibitor).values_list("sku", "updated_at"))

    job = do_import(data)

    after = dict(Product.objects.filter(exhibitor=exhibitor).values_list("sku", "updated_at"))
    assert (job.created_count, job.updated_count, job.unchanged_count, job.error_count) == (
        0,
        0,
        3,
        0,
    )
    assert after == before


def test_import_changed_row_updates_only_that_product(do_import, exhibitor):
    do_import(csv_bytes(rows(3)))
    before = dict(Product.objects.filter(exhibitor=exhibitor).values_list("sku", "updated_at"))
    changed = rows(3)
    changed[1]["price_max"] = "199.99"

    job = do_import(csv_bytes(changed))

    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 2)
    after = dict(Product.objects.filter(exhibitor=exhibitor).values_list("sku", "updated_at"))
    assert after["SKU-00001"] == before["SKU-00001"]
    assert after["SKU-00002"] > before["SKU-00002"]
    assert Product.objects.get(sku="SKU-00002").price_max == Decimal("199.99")


def test_import_without_optional_columns_leaves_those_fields_alone(do_import, exhibitor):
    do_import(csv_bytes([row()]))

    job = do_import(csv_bytes([row(name="Renamed TV")], header=["sku", "name", "category"]))

    product = Product.objects.get(exhibitor=exhibitor)
    assert job.updated_count == 1
    assert (product.name, product.price_min, product.certifications) == (
        "Renamed TV",
        Decimal("120.50"),
        ["CE", "RoHS"],
    )


def test_import_xlsx_creates_products_from_typed_cells(do_import, exhibitor):
    header = [
        "sku",
        "name",
        "category",
        "moq",
        "price_min",
        "price_max",
        "hs_code",
        "is_new_launch",
    ]
    data = xlsx_bytes(
        [
            ["X-1", "Air fryer", "household-appliances", 500, 12.5, 14, "8516.60", True],
            [],  # a blank row is skipped
            [10023, "Toaster", "household-appliances", None, None, None, "85167200", "no"],
        ],
        header=header,
    )

    job = do_import(data, name="catalogue.xlsx")

    assert (job.status, job.file_format, job.created_count, job.error_count) == (
        "succeeded",
        "xlsx",
        2,
        0,
    )
    fryer = Product.objects.get(exhibitor=exhibitor, sku="X-1")
    assert (fryer.moq, fryer.price_min, fryer.price_max, fryer.hs_code, fryer.is_new_launch) == (
        500,
        Decimal("12.50"),
        Decimal("14.00"),
        "8516.60",
        True,
    )
    toaster = Product.objects.get(exhibitor=exhibitor, sku="10023")
    assert (toaster.moq, toaster.hs_code, toaster.is_new_launch) == (1, "85167200", False)


def test_import_xlsx_reimport_changes_nothing(do_import, exhibitor):
    data = xlsx_bytes(
        [["X-1", "Air fryer", "household-appliances"]], header=["sku", "name", "category"]
    )
    do_import(data, name="a.xlsx")

    job = do_import(data, name="a.xlsx")

    assert (job.created_count, job.unchanged_count) == (0, 1)


def test_import_products_belong_only_to_the_importing_exhibitor(do_import, exhibitor):
    other = make_exhibitor(name="Other Co")
    services_product = make_product(other, sku="TV-55-4K", name="Other TV")

    job = do_import(csv_bytes([row()]))

    assert job.created_count == 1
    services_product.refresh_from_db()
    assert services_product.name == "Other TV"
    assert Product.objects.filter(sku="TV-55-4K").count() == 2
    assert Product.objects.get(exhibitor=exhibitor, sku="TV-55-4K").name == "55-inch 4K TV"


# --- Bad rows --------------------------------------------------------------------------------


def test_import_bad_rows_are_reported_and_other_rows_imported(do_import, exhibitor):
    data = csv_bytes(
        [
            row(sku="OK-1"),
            row(sku="BAD-PRICE", price_min="50", price_max="40"),
            row(sku="BAD-CAT", category="flying-cars"),
            row(sku="BAD-HS", hs_code="85"),
            row(sku="BAD-CUR", currency="XYZ"),
            row(sku="OK-2"),
        ]
    )

    job = do_import(data)

    assert (job.status, job.created_count, job.error_count) == ("succeeded", 2, 4)
    assert set(Product.objects.filter(exhibitor=exhibitor).values_list("sku", flat=True)) == {
        "OK-1",
        "OK-2",
    }
    assert job.errors == [
        {
            "row": 3,
            "column": "price_max",
            "message": "The highest price must not be below the lowest.",
        },
        {
            "row": 4,
            "column": "category",
            "message": "Unknown exhibition section “flying-cars” (see the template's Sections "
            "sheet).",
        },
        {
            "row": 5,
            "column": "hs_code",
            "message": "An HS code has 6 to 10 digits, e.g. 8528.72 or 85287200.",
        },
        {
            "row": 6,
            "column": "currency",
            "message": "“XYZ” is not a supported ISO 4217 currency code.",
        },
    ]


def test_import_row_with_several_problems_reports_each_column(do_import):
    job = do_import(csv_bytes([row(moq="lots", is_new_launch="maybe", incoterm="XXX")]))

    assert job.error_count == 1
    assert sorted((e["row"], e["column"], e["message"]) for e in job.errors) == [
        (2, "incoterm", "Value 'XXX' is not a valid choice."),
        (2, "is_new_launch", "Write yes or no."),
        (2, "moq", "Enter a whole number."),
    ]


def test_import_top_level_category_is_refused_with_a_hint(do_import):
    job = do_import(csv_bytes([row(category="electronics-appliances")]))

    assert job.errors == [
        {
            "row": 2,
            "column": "category",
            "message": "“electronics-appliances” is a product category; give one of its "
            "exhibition sections.",
        }
    ]


def test_import_row_is_never_half_imported(do_import, exhibitor):
    do_import(csv_bytes([row()]))
    before = Product.objects.get(exhibitor=exhibitor)

    job = do_import(csv_bytes([row(name="New name", price_min="abc", description="New text")]))

    after = Product.objects.get(exhibitor=exhibitor)
    assert (job.updated_count, job.error_count) == (0, 1)
    assert job.errors == [
        {
            "row": 2,
            "column": "price_min",
            "message": "Enter a number such as 12.50 (a dot for decimals).",
        }
    ]
    assert (after.name, after.description, after.updated_at) == (
        before.name,
        before.description,
        before.updated_at,
    )


def test_import_duplicate_sku_in_file_reports_the_later_row(do_import, exhibitor):
    job = do_import(csv_bytes([row(), row(name="Other"), row(sku="")]))

    assert job.created_count == 1
    assert job.errors == [
        {"row": 3, "column": "sku", "message": "This SKU is already used in row 2 of this file."},
        {"row": 4, "column": "sku", "message": "This column is required."},
    ]
    assert Product.objects.get(exhibitor=exhibitor).name == "55-inch 4K TV"


def test_import_invalid_sku_characters_are_refused(do_import):
    job = do_import(csv_bytes([row(sku="bad sku!")]))

    assert job.errors == [
        {
            "row": 2,
            "column": "sku",
            "message": "Use letters, digits and . _ - / only (up to 64 characters).",
        }
    ]


# --- File-level errors -----------------------------------------------------------------------


def xlsx_bomb(uncompressed_mb: int = 120) -> bytes:
    """A workbook whose sheet XML inflates to ``uncompressed_mb`` MB (a few hundred KB
    compressed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b" " * (1024 * 1024)
            for _ in range(uncompressed_mb):
                sheet.write(chunk)
    return buffer.getvalue()


FILE_ERRORS = [
    (
        "latin1.csv",
        "sku,name,category\nA1,Caf\xe9 machine,household-appliances\n".encode("latin-1"),
        "The file is not UTF-8 text (line 2 cannot be read). In Excel, save it as “CSV UTF-8 "
        "(comma delimited)”, or upload the .xlsx workbook.",
    ),
    (
        "no-header.csv",
        b"TV-1,Smart TV,household-appliances\n",
        "The first row must be the header row naming the columns (sku, name, category), as in "
        "the template.",
    ),
    (
        "missing-column.csv",
        b"sku,name\nTV-1,Smart TV\n",
        "The header row is missing the required column(s): category.",
    ),
    (
        "unknown-column.csv",
        b"sku,name,category,colour\nTV-1,Smart TV,household-appliances,red\n",
        "Unknown column(s) in the header row: colour. Use the template's names.",
    ),
    ("blank.csv", b"\xef\xbb\xbf\n\n  \n", "The file is empty."),
    (
        "header-only.csv",
        b"sku,name,category\n",
        "The file has a header row but no product rows.",
    ),
    (
        "renamed.xlsx",
        b"sku,name,category\nTV-1,Smart TV,household-appliances\n",
        "This file is not an Excel .xlsx workbook (it may be an old .xls file or another kind "
        "of file renamed). Save it as .xlsx or as CSV UTF-8.",
    ),
    (
        "bomb.xlsx",
        None,  # built lazily: see the test
        "The workbook unpacks to 120 MB, more than the 100 MB accepted. Remove unused sheets "
        "or images, or upload a CSV file.",
    ),
]


@pytest.mark.parametrize(("name", "data", "message"), FILE_ERRORS, ids=[f[0] for f in FILE_ERRORS])
def test_import_bad_file_fails_with_message_and_changes_nothing(
    do_import, exhibitor, name, data, message
):
    do_import(csv_bytes([row()]))
    before = list(Product.objects.filter(exhibitor=exhibitor).values())
    data = xlsx_bomb() if data is None else data

    job = do_import(data, name=name)

    assert (job.status, job.message) == ("failed", message)
    assert (job.created_count, job.updated_count, job.processed_rows) == (0, 0, 0)
    assert list(Product.objects.filter(exhibitor=exhibitor).values()) == before


def test_import_more_than_10000_rows_fails_and_changes_nothing(do_import, exhibitor):
    lines = ["sku,name,category"] + [f"S{i},P,household-appliances" for i in range(10_001)]

    job = do_import("\n".join(lines).encode())

    assert (job.status, job.message) == (
        "failed",
        "The file has more than 10,000 product rows. Split it into smaller files.",
    )
    assert Product.objects.filter(exhibitor=exhibitor).count() == 0


def test_import_start_refuses_file_over_5_mb(exhibitor, owner):
    data = csv_bytes([row()]) + b"#" * (5 * 1024 * 1024)

    with pytest.raises(ApplicationError) as raised:
        start(owner, exhibitor, data)

    assert raised.value.message == "The file is larger than 5 MB. Split it into smaller files."
    assert ImportJob.objects.count() == 0
    assert Product.objects.count() == 0


def test_parse_file_refuses_data_over_5_mb():
    with pytest.raises(ImportFileError) as raised:
        parse_file(b"a" * (5 * 1024 * 1024 + 1), "csv")

    assert raised.value.message == "The file is larger than 5 MB. Split it into smaller files."


@pytest.mark.parametrize("name", ["products.xls", "products.txt", "products"])
def test_import_start_refuses_other_formats(exhibitor, owner, name):
    with pytest.raises(ApplicationError) as raised:
        start(owner, exhibitor, b"sku,name,category\n", name=name)

    assert raised.value.code == "import_format"
    assert ImportJob.objects.count() == 0


def test_import_start_refuses_empty_upload(exhibitor, owner):
    with pytest.raises(ApplicationError) as raised:
        start(owner, exhibitor, b"")

    assert raised.value.message == "The file is empty."


def test_import_start_refuses_second_import_while_one_is_queued(exhibitor, owner):
    start(owner, exhibitor, csv_bytes([row()]))  # queued: its task runs only on commit

    with pytest.raises(ApplicationError) as raised:
        start(owner, exhibitor, csv_bytes([row()]))

    assert raised.value.code == "import_busy"
    assert ImportJob.objects.count() == 1


def test_import_start_queues_task_only_on_commit(
    django_capture_on_commit_callbacks, exhibitor, owner
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = start(owner, exhibitor, csv_bytes([row()]))

    job.refresh_from_db()
    assert (job.status, len(callbacks)) == ("queued", 1)
    assert Product.objects.count() == 0


def test_import_job_run_twice_is_a_no_op(do_import, exhibitor):
    job = do_import(csv_bytes([row()]))

    result = import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert result == "succeeded"
    assert (job.created_count, job.unchanged_count, job.processed_rows) == (1, 0, 1)


def test_import_redelivered_running_job_resumes_after_committed_rows(exhibitor, owner):
    job = start(owner, exhibitor, csv_bytes(rows(150)))
    # The first chunk of a crashed run committed together with its counters.
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", processed_rows=100, created_count=100, finished_at=None
    )
    Product.objects.filter(exhibitor=exhibitor, sku__gt="SKU-00100").delete()

    import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_count, job.unchanged_count) == (
        "succeeded",
        150,
        150,
        0,
    )
    assert Product.objects.filter(exhibitor=exhibitor).count() == 150


# --- Access ----------------------------------------------------------------------------------


def test_import_start_by_sales_staff_is_forbidden(exhibitor):
    sales = add_member(exhibitor, "sales")

    with pytest.raises(Forbidden):
        start(sales, exhibitor, csv_bytes([row()]))

    assert ImportJob.objects.count() == 0


def test_import_start_by_admin_is_allowed(do_import, exhibitor):
    admin = add_member(exhibitor, "admin")

    job = do_import(csv_bytes([row()]), user=admin)

    assert (job.status, job.created_by_id) == ("succeeded", admin.pk)


def test_import_start_by_other_company_staff_is_not_found(exhibitor):
    stranger = owner_of(make_exhibitor(name="Rival Co"))

    with pytest.raises(NotFound):
        start(stranger, exhibitor, csv_bytes([row()]))

    assert ImportJob.objects.count() == 0


# --- Progress --------------------------------------------------------------------------------


def test_import_progress_is_saved_every_100_rows(do_import, monkeypatch):
    seen = []
    original = import_jobs._record_chunk

    def spy(job, *args):
        original(job, *args)
        seen.append(ImportJob.objects.values_list("processed_rows", flat=True).get(pk=job.pk))

    monkeypatch.setattr(import_jobs, "_record_chunk", spy)

    job = do_import(csv_bytes(rows(250)))

    assert seen == [100, 200, 250]
    assert (job.total_rows, job.processed_rows, job.created_count) == (250, 250, 250)


# --- Pages -----------------------------------------------------------------------------------


def page_urls(exhibitor, job) -> dict[str, str]:
    return {
        "list": reverse("exhibitors:import_list", args=[exhibitor.pk]),
        "template_csv": reverse("exhibitors:import_template", args=[exhibitor.pk, "csv"]),
        "template_xlsx": reverse("exhibitors:import_template", args=[exhibitor.pk, "xlsx"]),
        "detail": reverse("exhibitors:import_detail", args=[exhibitor.pk, job.pk]),
        "progress": reverse("exhibitors:import_progress", args=[exhibitor.pk, job.pk]),
    }


@pytest.fixture
def queued_job(exhibitor, owner):
    return start(owner, exhibitor, csv_bytes(rows(2)))


@pytest.mark.parametrize("page", ["list", "template_csv", "template_xlsx", "detail", "progress"])
@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("admin", 200), ("sales", 403), ("stranger", 404), ("buyer", 404),
     ("organiser", 404)],
)  # fmt: skip
def test_import_pages_by_role(client, exhibitor, owner, queued_job, page, role, status):
    users = {
        "owner": lambda: owner,
        "admin": lambda: add_member(exhibitor, "admin"),
        "sales": lambda: add_member(exhibitor, "sales"),
        "stranger": lambda: owner_of(make_exhibitor(name="Rival Co")),
        "buyer": make_buyer,
        "organiser": make_organiser,
    }
    client.force_login(users[role]())

    response = client.get(page_urls(exhibitor, queued_job)[page])

    assert response.status_code == status
    if status != 200:
        assert b"products.csv" not in response.content


@pytest.mark.parametrize("page", ["list", "detail", "progress"])
def test_import_pages_anonymous_redirect_to_login(client, exhibitor, queued_job, page):
    response = client.get(page_urls(exhibitor, queued_job)[page])

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_import_upload_by_sales_is_forbidden_and_stores_nothing(client, exhibitor):
    client.force_login(add_member(exhibitor, "sales"))

    response = client.post(
        reverse("exhibitors:import_list", args=[exhibitor.pk]),
        {"file": SimpleUploadedFile("p.csv", csv_bytes([row()]))},
    )

    assert response.status_code == 403
    assert (ImportJob.objects.count(), Product.objects.count()) == (0, 0)


def test_import_detail_of_another_exhibitors_job_is_not_found(client, exhibitor, queued_job):
    rival = make_exhibitor(name="Rival Co")
    client.force_login(owner_of(rival))

    response = client.get(reverse("exhibitors:import_detail", args=[rival.pk, queued_job.pk]))

    assert response.status_code == 404


def test_import_upload_page_runs_import_and_shows_errors(
    client, django_capture_on_commit_callbacks, exhibitor, owner
):
    client.force_login(owner)
    data = csv_bytes([row(), row(sku="BAD", currency="XYZ")])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("exhibitors:import_list", args=[exhibitor.pk]),
            {"file": SimpleUploadedFile("products.csv", data)},
        )
    job = ImportJob.objects.get()
    page = client.get(response["Location"])

    assert response.status_code == 302
    assert response["Location"] == reverse("exhibitors:import_detail", args=[exhibitor.pk, job.pk])
    html = page.content.decode()
    assert 'data-testid="count-created">1<' in html
    assert 'data-testid="count-errors">1<' in html
    assert "1 row had errors and was not imported; every other row was imported." in html
    assert "<td>3</td>" in html and "<code>currency</code>" in html
    assert "“XYZ” is not a supported ISO 4217 currency code." in html
    assert "hx-trigger" not in html


def test_import_upload_page_shows_form_error_for_wrong_format(client, exhibitor, owner):
    client.force_login(owner)

    response = client.post(
        reverse("exhibitors:import_list", args=[exhibitor.pk]),
        {"file": SimpleUploadedFile("products.xls", b"\xd0\xcf\x11\xe0")},
    )

    assert response.status_code == 400
    assert "Upload a .csv or .xlsx file" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_import_progress_fragment_polls_while_running(client, exhibitor, owner, queued_job):
    ImportJob.objects.filter(pk=queued_job.pk).update(
        status="running", total_rows=200, processed_rows=100
    )
    client.force_login(owner)

    response = client.get(reverse("exhibitors:import_progress", args=[exhibitor.pk, queued_job.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert 'hx-trigger="every 1s"' in html
    assert '<progress id="import-progress-bar" max="200" value="100">50 %</progress>' in html
    assert "100 of 200 rows (50 %)" in html
    assert "<html" not in html


def test_import_progress_fragment_stops_polling_when_finished(client, exhibitor, owner, queued_job):
    ImportJob.objects.filter(pk=queued_job.pk).update(status="failed", message="The file is empty.")
    client.force_login(owner)

    response = client.get(reverse("exhibitors:import_progress", args=[exhibitor.pk, queued_job.pk]))

    html = response.content.decode()
    assert "hx-trigger" not in html
    assert "Nothing was changed in your catalogue." in html
    assert "The file is empty." in html


@pytest.mark.parametrize("count", [1, 3])
def test_import_list_page_query_count_is_flat(
    client, django_assert_num_queries, exhibitor, owner, count
):
    for i in range(count):
        job = start(owner, exhibitor, csv_bytes([row()]), name=f"file{i}.csv")
        ImportJob.objects.filter(pk=job.pk).update(status="succeeded")
    client.force_login(owner)
    url = reverse("exhibitors:import_list", args=[exhibitor.pk])
    client.get(url)  # warm the session and caches

    # user, organiser check, buyer profile (base page; the session is cached); membership; jobs;
    # the negotiation inbox link's unread count (exhibitor menu)
    with django_assert_num_queries(6):
        response = client.get(url)

    assert response.content.decode().count("file") >= count


# --- Templates -------------------------------------------------------------------------------


def test_import_csv_template_parses_back_and_its_example_imports(
    client, do_import, owner, exhibitor
):
    client.force_login(owner)

    response = client.get(reverse("exhibitors:import_template", args=[exhibitor.pk, "csv"]))
    content = b"".join(response.streaming_content) if response.streaming else response.content
    parsed = parse_file(content, "csv")

    assert response["Content-Disposition"] == 'attachment; filename="cloudfair-products.csv"'
    assert (parsed.columns, parsed.rows) == (list(COLUMN_NAMES), [])
    example_line = content.decode("utf-8-sig").splitlines()[2]
    assert example_line.startswith("# ")
    filled = content + example_line[2:].encode() + b"\r\n"
    job = do_import(filled)
    assert (job.status, job.created_count, job.error_count) == ("succeeded", 1, 0)
    product = Product.objects.get(exhibitor=exhibitor)
    assert (product.sku, product.specs) == (
        "TV-55-4K",
        [["Screen size", "55 in"], ["Resolution", "4K"]],
    )


def test_import_xlsx_template_parses_back_and_its_examples_import(
    client, do_import, owner, exhibitor
):
    client.force_login(owner)

    response = client.get(reverse("exhibitors:import_template", args=[exhibitor.pk, "xlsx"]))
    parsed = parse_file(response.content, "xlsx")

    assert (parsed.columns, parsed.rows) == (list(COLUMN_NAMES), [])
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Products", "Columns", "Sections"]
    help_rows = list(workbook["Columns"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in help_rows] == list(COLUMN_NAMES)
    section_codes = [r[0] for r in workbook["Sections"].iter_rows(min_row=2, values_only=True)]
    assert "household-appliances" in section_codes
    workbook["Products"].append([r[3] for r in help_rows])
    output = io.BytesIO()
    workbook.save(output)
    job = do_import(output.getvalue(), name="filled.xlsx")
    assert (job.status, job.created_count, job.error_count) == ("succeeded", 1, 0)
    assert Product.objects.get(exhibitor=exhibitor).hs_code == "8528.72"


def test_import_sku_created_meanwhile_is_reported_and_other_rows_imported(
    do_import, exhibitor, monkeypatch
):
    original = import_jobs._process_chunk

    def create_concurrently(**kwargs):
        # Another editor creates TV-55-4K after the importer read the catalogue.
        make_product(exhibitor, sku="TV-55-4K", name="Made meanwhile")
        monkeypatch.setattr(import_jobs, "_process_chunk", original)
        original(**kwargs)

    monkeypatch.setattr(import_jobs, "_process_chunk", create_concurrently)

    job = do_import(csv_bytes([row(sku="OK-1"), row(), row(sku="OK-2")]))

    assert (job.status, job.created_count, job.error_count) == ("succeeded", 2, 1)
    assert job.errors == [
        {"row": 3, "column": "sku", "message": "You already have a product with this SKU."}
    ]
    assert Product.objects.get(exhibitor=exhibitor, sku="TV-55-4K").name == "Made meanwhile"
    assert Product.objects.filter(exhibitor=exhibitor).count() == 3
