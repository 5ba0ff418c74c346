"""The organisers' exhibitors CSV: exact content, filters, injection safety, streaming,
audit and a flat query count."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from buyers.follow_services import follow_exhibitor
from exhibitors import services
from exhibitors.models import BoothVisitDay, Exhibitor
from fair.models import AuditEntry
from tests.exhibitors.factories import add_member, make_exhibitor, make_product
from tests.factories import make_buyer, make_user

pytestmark = pytest.mark.django_db

EXPORT = reverse("org_exhibitors:export_csv")
HEADER = [
    "Company",
    "Legal name",
    "Country",
    "Status",
    "Applied at (UTC)",
    "Reviewed at (UTC)",
    "Reviewer",
    "Reason",
    "Staff",
    "Products published",
    "Products total",
    "Followers",
    "Booth views",
    "Product views",
]
APPLIED = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
REVIEWED = datetime(2026, 3, 2, 9, 45, 15, tzinfo=UTC)


def _rows(response) -> list[list[str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _dated(exhibitor: Exhibitor) -> None:
    Exhibitor.objects.filter(pk=exhibitor.pk).update(created_at=APPLIED, reviewed_at=REVIEWED)


@pytest.fixture
def fair(organiser):
    """A suspended company with figures and a pending one with nothing yet."""
    busy = make_exhibitor(name="Busy Lamps", country="VN", organiser=organiser)
    add_member(busy, "sales")
    add_member(busy, "admin")
    make_product(busy, sku="A-1")
    make_product(busy, sku="A-2")
    make_product(busy, sku="A-3", published=False)
    follow_exhibitor(user=make_buyer(), exhibitor_id=busy.pk)
    follow_exhibitor(user=make_buyer(), exhibitor_id=busy.pk)
    BoothVisitDay.objects.create(
        exhibitor=busy, day=date(2026, 3, 3), booth_views=40, product_views=7
    )
    BoothVisitDay.objects.create(
        exhibitor=busy, day=date(2026, 3, 4), booth_views=2, product_views=1
    )
    services.exhibitor_suspend(
        actor=organiser, exhibitor_id=busy.pk, reason='=HYPERLINK("http://x")'
    )
    _dated(busy)
    waiting = make_exhibitor(name="+Plus Waiting", country="CN", approved=False)
    _dated(waiting)
    Exhibitor.objects.filter(pk=waiting.pk).update(reviewed_at=None)
    return {"busy": busy, "waiting": waiting}


def test_org_export_csv_all_rows_exact(client, organiser, fair):
    client.force_login(organiser)

    response = client.get(EXPORT, {"status": "all"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    # "Today" where the organiser is (the zone the request ran in), not on the test's clock.
    zone = ZoneInfo(response.wsgi_request.time_zone_name)
    today = timezone.localdate(timezone=zone).isoformat()
    assert response["Content-Disposition"] == (f'attachment; filename="exhibitors-all-{today}.csv"')
    assert response["Cache-Control"] == "private, no-store"
    assert _rows(response) == [
        HEADER,
        [
            "'+Plus Waiting",
            "'+Plus Waiting Co., Ltd.",
            "CN",
            "pending",
            "2026-03-01 08:30:00",
            "",
            "",
            "",
            "1",
            "0",
            "0",
            "0",
            "0",
            "0",
        ],
        [
            "Busy Lamps",
            "Busy Lamps Co., Ltd.",
            "VN",
            "suspended",
            "2026-03-01 08:30:00",
            "2026-03-02 09:45:15",
            organiser.email,
            '\'=HYPERLINK("http://x")',
            "3",
            "2",
            "3",
            "2",
            "42",
            "8",
        ],
    ]


def test_org_export_csv_honours_status_and_search(client, organiser, fair):
    client.force_login(organiser)

    suspended = _rows(client.get(EXPORT, {"status": "suspended"}))
    pending = _rows(client.get(EXPORT))
    searched = _rows(client.get(EXPORT, {"status": "all", "q": "viet"}))
    nothing = _rows(client.get(EXPORT, {"status": "approved"}))

    assert [row[0] for row in suspended[1:]] == ["Busy Lamps"]
    assert [row[0] for row in pending[1:]] == ["'+Plus Waiting"]
    assert [row[0] for row in searched[1:]] == ["Busy Lamps"]
    assert nothing == [HEADER]


@pytest.mark.parametrize("value", ["=1+2", "+1", "-1", "@SUM(A1)", "=cmd|' /C calc'!A0"])
def test_org_export_csv_cells_never_start_a_formula(client, organiser, value):
    exhibitor = make_exhibitor(name=f"{value} Ltd", approved=False)
    services.exhibitor_reject(actor=organiser, exhibitor_id=exhibitor.pk, reason=f"{value}!")
    client.force_login(organiser)

    rows = _rows(client.get(EXPORT, {"status": "rejected"}))

    assert rows[1][0] == f"'{value} Ltd"
    assert rows[1][7] == f"'{value}!"


def test_org_export_csv_download_is_audited_with_filters(client, organiser, fair):
    client.force_login(organiser)

    response = client.get(EXPORT, {"status": "all", "q": "lamps"})
    _rows(response)

    entry = AuditEntry.objects.get(action="export.download")
    assert (entry.actor, entry.target_label) == (organiser, "exhibitors.csv")
    assert entry.data == {
        "export": "exhibitors",
        "filters": {"status": "all", "q": "lamps"},
        "rows": 1,
    }


@pytest.mark.parametrize("who", ["buyer", "owner"])
def test_org_export_csv_refused_to_non_organisers_without_entry(client, fair, who):
    users = {"buyer": make_buyer(), "owner": fair["busy"].members.get(role="owner").user}
    client.force_login(users[who])

    response = client.get(EXPORT, {"status": "all"})

    assert response.status_code == 404
    assert b"Busy Lamps" not in response.content
    assert AuditEntry.objects.filter(action="export.download").count() == 0


def _apply_firms(n: int, start: int = 0) -> None:
    owner = make_user()
    for i in range(start, start + n):
        services.exhibitor_apply(
            user=owner, display_name=f"Firm {i}", legal_name="L", country="CN", description="d"
        )


def test_org_export_csv_query_count_is_flat_at_1_and_30_rows(
    client, organiser, django_assert_num_queries
):
    """The export's own queries: the row count for the audit entry, the audit entry, the
    product counts (grouped) and one statement for the rows with the other figures."""
    _apply_firms(1)
    client.force_login(organiser)
    with CaptureQueriesContext(connection) as one_row:
        lines = _rows(client.get(EXPORT))
    assert len(lines) == 2
    own = [q["sql"] for q in one_row.captured_queries if "exhibitors_" in q["sql"]]
    assert len(own) == 3  # the row count, the product counts, the rows with their figures
    assert len([q for q in one_row.captured_queries if "fair_auditentry" in q["sql"]]) == 1
    _apply_firms(29, start=1)

    with django_assert_num_queries(len(one_row)):
        lines = _rows(client.get(EXPORT))

    assert len(lines) == 31


def test_org_export_csv_streams_in_chunks(client, organiser, monkeypatch):
    from fair import csv_export

    monkeypatch.setattr(csv_export, "ROWS_PER_CHUNK", 2)
    owner = make_user()
    for n in range(5):
        services.exhibitor_apply(
            user=owner, display_name=f"Firm {n}", legal_name="L", country="CN", description="d"
        )
    client.force_login(organiser)

    chunks = list(client.get(EXPORT).streaming_content)

    # header + 2 rows, 2 rows, the last row
    assert [chunk.decode().count("\r\n") for chunk in chunks] == [3, 2, 1]


@pytest.fixture
def reference_data(transactional_db) -> None:
    """Rows data migrations load (organisers group, category tree): ``transactional_db``
    empties every table after a test, so they are loaded again (idempotent)."""
    import importlib

    from django.apps import apps

    from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


@pytest.mark.django_db(transaction=True)
async def test_org_export_csv_streams_asynchronously_under_asgi(
    async_client, monkeypatch, reference_data
):
    """Under Daphne the rows go out as an asynchronous stream (a synchronous one would be
    gathered into one list first), read chunk by chunk on the request's connection."""
    from asgiref.sync import sync_to_async

    from fair import csv_export
    from tests.factories import make_organiser

    monkeypatch.setattr(csv_export, "ROWS_PER_CHUNK", 2)

    def arrange():
        _apply_firms(3)
        return make_organiser()

    organiser = await sync_to_async(arrange)()
    await async_client.aforce_login(organiser)

    response = await async_client.get(EXPORT)

    assert response.status_code == 200
    assert response.is_async
    chunks = [chunk async for chunk in response.streaming_content]
    assert [chunk.decode().count("\r\n") for chunk in chunks] == [3, 1]
    text = b"".join(chunks).decode()
    assert [line.split(",")[0] for line in text.splitlines()[1:]] == ["Firm 0", "Firm 1", "Firm 2"]
