"""Booth and product visits: counted in Redis on the hot path, flushed to the database by a
beat task; the exhibitor's visits page (issue 3, item 10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from exhibitors import visits
from exhibitors.models import BoothVisitDay, BoothVisitor
from exhibitors.visits import visit_record, visits_flush
from tests.exhibitors.factories_partc import add_staff, make_exhibitor, make_product
from tests.factories import make_buyer, make_organiser, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_visit_keys():
    def clean():
        client = visits._redis()
        keys = list(client.scan_iter(match=visits._key("*"), count=1000))
        if keys:
            client.delete(*keys)

    clean()
    yield
    clean()


def _pending(exhibitor_id: int, kind: str = "b") -> int:
    client = visits._redis()
    day = datetime.now(UTC).date().isoformat()
    value = client.hget(visits._key("day", day), f"{exhibitor_id}:{kind}")
    return int(value or 0)


def _day_row(exhibitor_id: int) -> tuple[int, int]:
    row = BoothVisitDay.objects.get(exhibitor_id=exhibitor_id, day=datetime.now(UTC).date())
    return row.booth_views, row.product_views


# --- Hot path --------------------------------------------------------------------------------


def test_visit_record_signed_in_counts_in_redis_without_database_queries(
    django_assert_num_queries,
):
    exhibitor, _ = make_exhibitor()
    buyer = make_buyer()

    with django_assert_num_queries(0):
        visit_record(exhibitor_id=exhibitor.pk, user=buyer, kind="booth")
        visit_record(exhibitor_id=exhibitor.pk, user=buyer, kind="product")
        visit_record(exhibitor_id=exhibitor.pk, user=None, kind="booth")

    assert _pending(exhibitor.pk, "b") == 2
    assert _pending(exhibitor.pk, "p") == 1
    client = visits._redis()
    assert int(client.hget(visits._key("vcount"), f"{exhibitor.pk}:{buyer.pk}")) == 2
    assert BoothVisitDay.objects.count() == 0
    assert BoothVisitor.objects.count() == 0


def test_visit_record_without_redis_writes_database_directly(settings):
    exhibitor, _ = make_exhibitor()
    buyer = make_buyer()
    settings.REDIS_URL = ""

    visit_record(exhibitor_id=exhibitor.pk, user=buyer, kind="booth")
    visit_record(exhibitor_id=exhibitor.pk, user=None, kind="product")

    assert _day_row(exhibitor.pk) == (1, 1)
    assert BoothVisitor.objects.get(exhibitor=exhibitor, user=buyer).visits == 1


def test_booth_and_product_pages_record_visits(client):
    exhibitor, owner = make_exhibitor()
    product = make_product(exhibitor, owner)

    client.get(reverse("exhibitors:booth", args=[exhibitor.slug]))
    client.get(reverse("exhibitors:product", args=[product.pk]))
    client.get(reverse("exhibitors:product", args=[product.pk]))

    assert _pending(exhibitor.pk, "b") == 1
    assert _pending(exhibitor.pk, "p") == 2


def test_booth_page_not_public_records_no_visit(client):
    exhibitor, _ = make_exhibitor(status="pending")

    assert client.get(reverse("exhibitors:booth", args=[exhibitor.slug])).status_code == 404

    assert _pending(exhibitor.pk, "b") == 0


# --- Flush -----------------------------------------------------------------------------------


def test_visits_flush_moves_counts_to_database_and_clears_redis():
    exhibitor, _ = make_exhibitor()
    buyer = make_buyer()
    for _ in range(3):
        visit_record(exhibitor_id=exhibitor.pk, user=buyer, kind="booth")
    visit_record(exhibitor_id=exhibitor.pk, user=None, kind="product")

    written = visits_flush()

    assert written == {"batches": 1, "days": 1, "visitors": 1}
    assert _day_row(exhibitor.pk) == (3, 1)
    visitor = BoothVisitor.objects.get(exhibitor=exhibitor, user=buyer)
    assert visitor.visits == 3
    assert visitor.first_seen <= visitor.last_seen
    # Only the index of recent days stays (today may still get views).
    left = {k.decode() for k in visits._redis().scan_iter(match=visits._key("*"))}
    assert left == {visits._key("days")}


def test_visits_flush_twice_writes_nothing_twice():
    exhibitor, _ = make_exhibitor()
    buyer = make_buyer()
    visit_record(exhibitor_id=exhibitor.pk, user=buyer, kind="booth")

    visits_flush()
    second = visits_flush()

    assert second == {"batches": 0, "days": 0, "visitors": 0}
    assert _day_row(exhibitor.pk) == (1, 0)
    assert BoothVisitor.objects.get(exhibitor=exhibitor, user=buyer).visits == 1


def test_visits_flush_adds_to_existing_rows():
    exhibitor, _ = make_exhibitor()
    buyer = make_buyer()
    visit_record(exhibitor_id=exhibitor.pk, user=buyer, kind="booth")
    visits_flush()
    visit_record(exhibitor_id=exhibitor.pk, user=buyer, kind="booth")
    visit_record(exhibitor_id=exhibitor.pk, user=buyer, kind="product")

    visits_flush()

    assert _day_row(exhibitor.pk) == (2, 1)
    assert BoothVisitor.objects.get(exhibitor=exhibitor, user=buyer).visits == 3
    assert BoothVisitDay.objects.filter(exhibitor=exhibitor).count() == 1


def test_visits_flush_increments_between_read_and_delete_are_not_lost(monkeypatch):
    exhibitor, _ = make_exhibitor()
    buyer = make_buyer()
    for _ in range(3):
        visit_record(exhibitor_id=exhibitor.pk, user=buyer, kind="booth")
    original_read = visits._batch_read

    def read_then_more_views(client, batch_id):
        result = original_read(client, batch_id)
        # Page views arriving while the flush holds the batch it has read.
        visit_record(exhibitor_id=exhibitor.pk, user=buyer, kind="booth")
        visit_record(exhibitor_id=exhibitor.pk, user=buyer, kind="booth")
        return result

    monkeypatch.setattr(visits, "_batch_read", read_then_more_views)
    visits_flush()
    monkeypatch.setattr(visits, "_batch_read", original_read)

    assert _day_row(exhibitor.pk) == (3, 0)
    assert _pending(exhibitor.pk, "b") == 2

    visits_flush()

    assert _day_row(exhibitor.pk) == (5, 0)
    assert BoothVisitor.objects.get(exhibitor=exhibitor, user=buyer).visits == 5
    assert _pending(exhibitor.pk, "b") == 0


def test_visits_flush_failed_write_keeps_batch_for_next_flush(monkeypatch):
    exhibitor, _ = make_exhibitor()
    visit_record(exhibitor_id=exhibitor.pk, user=None, kind="booth")
    visit_record(exhibitor_id=exhibitor.pk, user=None, kind="booth")

    def broken_write(**kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(visits, "_write", broken_write)
    with pytest.raises(RuntimeError):
        visits_flush()
    monkeypatch.undo()
    visit_record(exhibitor_id=exhibitor.pk, user=None, kind="booth")

    written = visits_flush()

    assert written["batches"] == 2  # the one left behind, then the new one
    assert _day_row(exhibitor.pk) == (3, 0)


def test_visits_flush_while_another_flush_holds_the_lock_writes_nothing():
    exhibitor, _ = make_exhibitor()
    visit_record(exhibitor_id=exhibitor.pk, user=None, kind="booth")
    visits._redis().set(visits._key("flush-lock"), "other", ex=60)

    written = visits_flush()

    assert written == {"batches": 0, "days": 0, "visitors": 0}
    assert BoothVisitDay.objects.count() == 0
    assert _pending(exhibitor.pk, "b") == 1


def test_visits_flush_drops_counts_of_deleted_exhibitor():
    exhibitor, _ = make_exhibitor()
    kept, _ = make_exhibitor()
    visit_record(exhibitor_id=exhibitor.pk, user=None, kind="booth")
    visit_record(exhibitor_id=kept.pk, user=None, kind="booth")
    exhibitor.delete()

    visits_flush()

    assert list(BoothVisitDay.objects.values_list("exhibitor_id", "booth_views")) == [(kept.pk, 1)]


def test_visits_flush_task_runs_the_flush():
    exhibitor, _ = make_exhibitor()
    visit_record(exhibitor_id=exhibitor.pk, user=None, kind="product")

    result = visits.visits_flush_task.delay()

    assert result.get() == {"batches": 1, "days": 1, "visitors": 0}
    assert _day_row(exhibitor.pk) == (0, 1)


# --- The exhibitor's visits page -------------------------------------------------------------


def test_visits_page_lists_only_buyers_who_consented(client):
    exhibitor, owner = make_exhibitor()
    sharing = make_buyer(full_name="Sara Shares", company="Open Imports", country="AE")
    sharing.buyer_profile.show_identity_in_rooms = True
    sharing.buyer_profile.save()
    private = make_buyer(full_name="Pia Private", company="Quiet Trading")
    for user in (sharing, private, sharing):
        visit_record(exhibitor_id=exhibitor.pk, user=user, kind="booth")
    visits_flush()
    client.force_login(owner)

    response = client.get(reverse("exhibitors:visits", args=[exhibitor.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert [v.user_id for v in response.context["page"].object_list] == [sharing.pk]
    assert "Sara Shares" in html and "Open Imports" in html and "United Arab Emirates" in html
    assert "Pia Private" not in html and "Quiet Trading" not in html
    days = response.context["days"]
    assert len(days) == 14
    assert days[-1] == (datetime.now(UTC).date(), 3, 0)
    assert days[0][0] == datetime.now(UTC).date() - timedelta(days=13)


def test_visits_page_sales_staff_may_see_it(client, django_capture_on_commit_callbacks):
    exhibitor, owner = make_exhibitor()
    sales = add_staff(
        exhibitor,
        owner,
        role="sales",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )
    client.force_login(sales)

    assert client.get(reverse("exhibitors:visits", args=[exhibitor.pk])).status_code == 200


@pytest.mark.parametrize("who", ["buyer", "other_exhibitor_owner", "organiser", "plain_user"])
def test_visits_page_non_staff_get_404(client, who):
    exhibitor, _ = make_exhibitor()
    sharing = make_buyer(full_name="Sara Shares", show_identity_in_rooms=True)
    visit_record(exhibitor_id=exhibitor.pk, user=sharing, kind="booth")
    visits_flush()
    users = {
        "buyer": make_buyer,
        "other_exhibitor_owner": lambda: make_exhibitor()[1],
        "organiser": make_organiser,
        "plain_user": make_user,
    }
    client.force_login(users[who]())

    response = client.get(reverse("exhibitors:visits", args=[exhibitor.pk]))

    assert response.status_code == 404
    assert "Sara Shares" not in response.content.decode()


def test_visits_page_anonymous_is_sent_to_login(client):
    exhibitor, _ = make_exhibitor()

    response = client.get(reverse("exhibitors:visits", args=[exhibitor.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("n", [1, 3])
def test_visits_page_query_count_flat(client, django_assert_num_queries, n):
    exhibitor, owner = make_exhibitor()
    for _ in range(n):
        visitor = make_buyer(show_identity_in_rooms=True)
        visit_record(exhibitor_id=exhibitor.pk, user=visitor, kind="booth")
    visits_flush()
    client.force_login(owner)
    url = reverse("exhibitors:visits", args=[exhibitor.pk])
    client.get(url)

    # user, membership+exhibitor, visit days, visitors count, visitors page (user+profile
    # joined), organiser group, buyer profile of the viewer (header)
    with django_assert_num_queries(7):
        response = client.get(url)

    assert len(response.context["page"].object_list) == n
