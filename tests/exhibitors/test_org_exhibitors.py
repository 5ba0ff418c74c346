"""The organisers' approval queue: list, detail, decisions (audited, signalled), the licence
download and the Django admin's approve action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from exhibitors import services
from exhibitors.models import Exhibitor
from exhibitors.signals import exhibitor_status_changed
from fair.exceptions import Forbidden
from fair.models import AuditEntry
from fair.organiser.nav import organiser_nav
from tests.exhibitors.factories import make_exhibitor, owner_of, pdf_bytes
from tests.factories import make_buyer, make_user

pytestmark = pytest.mark.django_db

LIST = reverse("org_exhibitors:list")


def _applied(name: str, *, days_ago: int, country: str = "CN", approved: bool = False):
    exhibitor = make_exhibitor(name=name, country=country, approved=approved)
    Exhibitor.objects.filter(pk=exhibitor.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    return exhibitor


def _names(response) -> list[str]:
    return [e.display_name for e in response.context["page"].object_list]


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def queue(organiser):
    """Three pending applications (applied 3, 5 and 1 days ago), one of each other status."""
    pending = [
        _applied("Middle Pumps", days_ago=3),
        _applied("Oldest Lamps", days_ago=5, country="VN"),
        _applied("Newest Fans", days_ago=1),
    ]
    approved = _applied("Approved Tools", days_ago=9, approved=True)
    rejected = _applied("Rejected Toys", days_ago=8)
    services.exhibitor_reject(actor=organiser, exhibitor_id=rejected.pk, reason="No licence")
    suspended = _applied("Suspended Tiles", days_ago=7, approved=True)
    services.exhibitor_suspend(actor=organiser, exhibitor_id=suspended.pk, reason="Fraud")
    return {"pending": pending, "approved": approved, "rejected": rejected, "suspended": suspended}


# --- The queue --------------------------------------------------------------------------------


def test_org_list_default_tab_is_pending_oldest_first_with_counts(client, organiser, queue):
    client.force_login(organiser)

    response = client.get(LIST)

    assert response.status_code == 200
    assert _names(response) == ["Oldest Lamps", "Middle Pumps", "Newest Fans"]
    assert response.context["counts"] == {
        "pending": 3,
        "approved": 1,
        "rejected": 1,
        "suspended": 1,
        "all": 6,
    }
    html = response.content.decode()
    assert '<h1 id="org-title">Exhibitors</h1>' in html
    assert 'href="?status=pending" aria-current="page" data-tab="pending"' in html


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("approved", ["Approved Tools"]),
        ("rejected", ["Rejected Toys"]),
        ("suspended", ["Suspended Tiles"]),
        ("nonsense", ["Oldest Lamps", "Middle Pumps", "Newest Fans"]),
    ],
)
def test_org_list_status_tab_filters(client, organiser, queue, status, expected):
    client.force_login(organiser)

    assert _names(client.get(LIST, {"status": status})) == expected


def test_org_list_all_tab_puts_pending_first(client, organiser, queue):
    client.force_login(organiser)

    assert _names(client.get(LIST, {"status": "all"})) == [
        "Oldest Lamps",
        "Middle Pumps",
        "Newest Fans",
        "Approved Tools",
        "Rejected Toys",
        "Suspended Tiles",
    ]


def test_org_list_search_by_name_and_country(client, organiser, queue):
    client.force_login(organiser)

    by_name = client.get(LIST, {"status": "all", "q": "tiles"})
    by_code = client.get(LIST, {"status": "all", "q": "vn"})
    by_country_name = client.get(LIST, {"status": "all", "q": "viet"})
    by_legal_name = client.get(LIST, {"status": "pending", "q": "Fans Co., Ltd."})

    assert _names(by_name) == ["Suspended Tiles"]
    assert by_name.context["counts"] == {
        "pending": 0,
        "approved": 0,
        "rejected": 0,
        "suspended": 1,
        "all": 1,
    }
    assert _names(by_code) == ["Oldest Lamps"]
    assert _names(by_country_name) == ["Oldest Lamps"]
    assert _names(by_legal_name) == ["Newest Fans"]


def test_org_list_unknown_tab_keeps_the_search(client, organiser, queue):
    client.force_login(organiser)

    response = client.get(LIST, {"status": "nonsense", "q": "lamps"})

    assert response.context["filters"] == {"status": "pending", "q": "lamps"}
    assert _names(response) == ["Oldest Lamps"]


def test_org_list_paginates_by_50(client, organiser):
    owner = make_user()
    for n in range(52):
        services.exhibitor_apply(
            user=owner, display_name=f"Firm {n:02}", legal_name="L", country="CN", description="d"
        )
    client.force_login(organiser)

    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert _names(second) == ["Firm 50", "Firm 51"]
    assert 'href="?status=pending&amp;page=2"' in first.content.decode()


def _reject_firms(organiser, n: int, start: int = 0) -> None:
    owner = make_user()
    for i in range(start, start + n):
        exhibitor = services.exhibitor_apply(
            user=owner, display_name=f"Firm {i}", legal_name="L", country="CN", description="d"
        )
        services.exhibitor_reject(actor=organiser, exhibitor_id=exhibitor.pk, reason="r")


def test_org_list_query_count_is_flat_at_1_and_30_rows(
    client, organiser, django_assert_num_queries
):
    """The page's own queries are the status counts, the page count and the page's rows
    (reviewer joined); whatever the base template adds, 30 rows cost what 1 row costs."""
    _reject_firms(organiser, 1)
    client.force_login(organiser)
    client.get(LIST, {"status": "rejected"})  # warm the base template's caches
    with CaptureQueriesContext(connection) as one_row:
        response = client.get(LIST, {"status": "rejected"})
    assert len(response.context["page"].object_list) == 1
    own = [q["sql"] for q in one_row.captured_queries if "exhibitors_exhibitor" in q["sql"]]
    assert len(own) == 3
    _reject_firms(organiser, 29, start=1)

    with django_assert_num_queries(len(one_row)):
        response = client.get(LIST, {"status": "rejected"})

    assert len(response.context["page"].object_list) == 30


@pytest.mark.parametrize("who", ["buyer", "owner", "staff_user"])
def test_org_list_non_organiser_gets_404(client, who):
    exhibitor = make_exhibitor(name="Hidden Applicant Ltd", approved=False)
    users = {
        "buyer": make_buyer(),
        "owner": owner_of(exhibitor),
        "staff_user": make_user(is_staff=True),
    }
    client.force_login(users[who])

    response = client.get(LIST)

    assert response.status_code == 404
    assert "Hidden Applicant" not in response.content.decode()


def test_org_nav_lists_exhibitors_section():
    items = organiser_nav(LIST)

    assert {"label": "Exhibitors", "url": LIST, "current": True} in [
        {**item, "label": str(item["label"])} for item in items
    ]


# --- One application ----------------------------------------------------------------------


def test_org_detail_shows_application_staff_and_history(client, organiser):
    owner = make_user(email="olga@sunrise.test", full_name="Olga Owner")
    exhibitor = make_exhibitor(owner=owner, approved=False)
    services.exhibitor_reject(
        actor=organiser, exhibitor_id=exhibitor.pk, reason="The licence is unreadable."
    )
    services.exhibitor_approve(actor=organiser, exhibitor_id=exhibitor.pk, note="New scan OK")
    client.force_login(organiser)

    response = client.get(reverse("org_exhibitors:detail", args=[exhibitor.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Sunrise Electronics Co., Ltd." in html
    assert "We make televisions." in html
    assert "Electronics" in html  # a main category
    assert 'href="mailto:olga@sunrise.test"' in html
    assert reverse("org_exhibitors:document", args=[exhibitor.pk]) in html
    assert "Download the licence (PDF)" in html
    history = [(item["entry"].action, item["entry"].reason) for item in response.context["history"]]
    assert history == [
        ("exhibitor.approve", "New scan OK"),
        ("exhibitor.reject", "The licence is unreadable."),
    ]
    assert "Approved exhibitor" in html and "Rejected exhibitor" in html
    # Approved: the only decision offered is a suspension.
    assert reverse("org_exhibitors:suspend", args=[exhibitor.pk]) in html
    assert reverse("org_exhibitors:approve", args=[exhibitor.pk]) not in html
    assert reverse("org_exhibitors:reject", args=[exhibitor.pk]) not in html


def test_org_detail_of_missing_exhibitor_is_404(client, organiser):
    client.force_login(organiser)

    assert client.get(reverse("org_exhibitors:detail", args=[999999])).status_code == 404


# --- Decisions --------------------------------------------------------------------------------


def _post(client, action: str, exhibitor: Exhibitor, **data):
    return client.post(reverse(f"org_exhibitors:{action}", args=[exhibitor.pk]), data)


@pytest.mark.parametrize(
    ("start", "action", "data", "status", "reason", "audit_reason"),
    [
        ("pending", "approve", {"note": "Docs fine"}, "approved", "", "Docs fine"),
        ("pending", "reject", {"reason": " Fake licence "}, "rejected", "Fake licence", None),
        ("rejected", "approve", {}, "approved", "", ""),
        ("approved", "suspend", {"reason": "Counterfeits"}, "suspended", "Counterfeits", None),
        ("suspended", "reinstate", {"note": "Cleared"}, "approved", "", "Cleared"),
    ],
)
def test_org_decision_writes_one_audit_entry_and_redirects_to_detail(
    client,
    organiser,
    django_capture_on_commit_callbacks,
    start,
    action,
    data,
    status,
    reason,
    audit_reason,
):
    exhibitor = make_exhibitor(approved=start != "pending")
    if start == "rejected":
        exhibitor = make_exhibitor(name="Second Try", approved=False)
        services.exhibitor_reject(actor=organiser, exhibitor_id=exhibitor.pk, reason="Blurry")
    if start == "suspended":
        services.exhibitor_suspend(actor=organiser, exhibitor_id=exhibitor.pk, reason="Check")
    before = set(AuditEntry.objects.values_list("pk", flat=True))
    client.force_login(organiser)

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, action, exhibitor, **data)

    assert response.status_code == 302
    assert response["Location"] == reverse("org_exhibitors:detail", args=[exhibitor.pk])
    exhibitor.refresh_from_db()
    assert (exhibitor.status, exhibitor.status_reason) == (status, reason)
    assert exhibitor.reviewed_by == organiser
    entries = list(AuditEntry.objects.exclude(pk__in=before))
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.action, entry.actor, entry.actor_email) == (
        f"exhibitor.{action}",
        organiser,
        organiser.email,
    )
    assert (entry.target_type, entry.target_id, entry.target_label) == (
        "exhibitors.exhibitor",
        str(exhibitor.pk),
        exhibitor.display_name,
    )
    assert entry.reason == (reason if audit_reason is None else audit_reason)
    assert entry.data == {"from": start, "to": status}
    assert len(_messages(response)) == 1


@pytest.mark.parametrize(
    ("start", "action", "data"),
    [
        ("pending", "suspend", {"reason": "x"}),
        ("pending", "reinstate", {}),
        ("approved", "approve", {}),
        ("approved", "reject", {"reason": "x"}),
        ("approved", "reinstate", {}),
    ],
)
def test_org_decision_illegal_transition_gives_message_and_no_entry(
    client, organiser, start, action, data
):
    exhibitor = make_exhibitor(approved=start == "approved")
    before = AuditEntry.objects.count()
    client.force_login(organiser)

    response = _post(client, action, exhibitor, **data)

    assert response.status_code == 302
    assert _messages(response) == [
        f"This exhibitor is {Exhibitor.Status(start).label.lower()}; "
        "that change is not possible from there."
    ]
    assert Exhibitor.objects.get(pk=exhibitor.pk).status == start
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize(("action", "approved"), [("reject", False), ("suspend", True)])
def test_org_decision_without_reason_is_refused(client, organiser, action, approved):
    exhibitor = make_exhibitor(approved=approved)
    status = exhibitor.status
    before = AuditEntry.objects.count()
    client.force_login(organiser)

    response = _post(client, action, exhibitor, reason="   ")

    assert response.status_code == 302
    assert _messages(response) == ["This field is required."]
    assert Exhibitor.objects.get(pk=exhibitor.pk).status == status
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("who", ["anon", "buyer", "owner", "staff_user"])
@pytest.mark.parametrize(
    ("action", "approved", "data"),
    [
        ("approve", False, {}),
        ("reject", False, {"reason": "x"}),
        ("suspend", True, {"reason": "x"}),
    ],
)
def test_org_decision_by_non_organiser_changes_nothing(client, who, action, approved, data):
    exhibitor = make_exhibitor(approved=approved)
    status = exhibitor.status
    users = {
        "anon": None,
        "buyer": make_buyer(),
        "owner": owner_of(exhibitor),
        "staff_user": make_user(is_staff=True),
    }
    before = AuditEntry.objects.count()
    if users[who]:
        client.force_login(users[who])

    response = _post(client, action, exhibitor, **data)

    assert response.status_code == (302 if who == "anon" else 404)
    if who == "anon":
        assert response["Location"].startswith(reverse("login"))
    assert Exhibitor.objects.get(pk=exhibitor.pk).status == status
    assert AuditEntry.objects.count() == before


def test_org_decision_get_is_not_allowed(client, organiser):
    exhibitor = make_exhibitor(approved=False)
    client.force_login(organiser)

    assert client.get(reverse("org_exhibitors:approve", args=[exhibitor.pk])).status_code == 405
    assert Exhibitor.objects.get(pk=exhibitor.pk).status == "pending"


def test_org_service_refuses_non_organiser_without_entry():
    exhibitor = make_exhibitor(approved=False)

    with pytest.raises(Forbidden):
        services.exhibitor_approve(actor=owner_of(exhibitor), exhibitor_id=exhibitor.pk)

    assert AuditEntry.objects.count() == 0


# --- The signal -------------------------------------------------------------------------------


@pytest.fixture
def received():
    calls = []

    def receiver(sender, **kwargs):
        kwargs.pop("signal")
        calls.append((sender, kwargs))

    exhibitor_status_changed.connect(receiver, dispatch_uid="test-org-receiver")
    yield calls
    exhibitor_status_changed.disconnect(dispatch_uid="test-org-receiver")


def test_org_status_signal_sent_once_on_commit(
    organiser, received, django_capture_on_commit_callbacks
):
    exhibitor = make_exhibitor()

    with django_capture_on_commit_callbacks(execute=True):
        services.exhibitor_suspend(actor=organiser, exhibitor_id=exhibitor.pk, reason="Fraud")
        assert received == []  # not before the commit

    assert received == [
        (
            Exhibitor,
            {
                "exhibitor_id": exhibitor.pk,
                "old_status": "approved",
                "new_status": "suspended",
                "actor_id": organiser.pk,
            },
        )
    ]


def test_org_status_signal_not_sent_on_rollback(
    organiser, received, django_capture_on_commit_callbacks
):
    exhibitor = make_exhibitor()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.exhibitor_suspend(actor=organiser, exhibitor_id=exhibitor.pk, reason="x")
        raise RuntimeError("the caller failed after the decision")

    assert callbacks == []
    assert received == []
    assert Exhibitor.objects.get(pk=exhibitor.pk).status == "approved"
    assert AuditEntry.objects.filter(action="exhibitor.suspend").count() == 0


def test_org_status_signal_not_sent_for_illegal_transition(organiser, received):
    exhibitor = make_exhibitor(approved=False)

    with pytest.raises(services.ApplicationError):
        services.exhibitor_reinstate(actor=organiser, exhibitor_id=exhibitor.pk)

    assert received == []


# --- The licence document ---------------------------------------------------------------------


def test_org_document_download_is_private_attachment_and_audited(client, organiser):
    exhibitor = make_exhibitor(approved=False)
    client.force_login(organiser)

    response = client.get(reverse("org_exhibitors:document", args=[exhibitor.pk]))

    assert response.status_code == 200
    assert response.content == pdf_bytes()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="licence-sunrise-electronics.pdf"'
    )
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    entry = AuditEntry.objects.get(action="exhibitor.document_view")
    assert (entry.actor, entry.target_type, entry.target_id) == (
        organiser,
        "exhibitors.exhibitor",
        str(exhibitor.pk),
    )


@pytest.mark.parametrize("who", ["buyer", "owner", "staff_user"])
def test_org_document_refused_to_non_organisers_without_entry(client, who):
    exhibitor = make_exhibitor(approved=False)
    users = {
        "buyer": make_buyer(),
        "owner": owner_of(exhibitor),
        "staff_user": make_user(is_staff=True),
    }
    client.force_login(users[who])

    response = client.get(reverse("org_exhibitors:document", args=[exhibitor.pk]))

    assert response.status_code == 404
    assert b"%PDF" not in response.content
    assert AuditEntry.objects.filter(action="exhibitor.document_view").count() == 0


def test_org_document_missing_is_404_without_entry(client, organiser):
    owner = make_user()
    exhibitor = services.exhibitor_apply(
        user=owner, display_name="No Docs", legal_name="No Docs", country="CN", description="d"
    )
    client.force_login(organiser)

    assert client.get(reverse("org_exhibitors:document", args=[exhibitor.pk])).status_code == 404
    assert client.get(reverse("org_exhibitors:document", args=[999999])).status_code == 404
    assert AuditEntry.objects.filter(action="exhibitor.document_view").count() == 0


# --- Django admin -----------------------------------------------------------------------------


def test_org_admin_approve_action_goes_through_the_service_and_is_audited(client, organiser):
    pending = make_exhibitor(approved=False)
    approved = make_exhibitor(name="Already In")
    organiser.user_permissions.add(Permission.objects.get(codename="change_exhibitor"))
    client.force_login(organiser)

    response = client.post(
        reverse("admin:exhibitors_exhibitor_changelist"),
        {"action": "approve", "_selected_action": [pending.pk, approved.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert Exhibitor.objects.get(pk=pending.pk).status == "approved"
    entries = list(AuditEntry.objects.filter(action="exhibitor.approve", actor=organiser))
    # One for the pending company; "Already In" was approved by the factory's organiser.
    assert [e.target_id for e in entries] == [str(pending.pk)]
    texts = [str(m) for m in response.context["messages"]]
    assert "1 exhibitor approved." in texts
    assert (
        "Already In: This exhibitor is approved; that change is not possible from there." in texts
    )


def test_org_admin_change_form_keeps_status_read_only(client, organiser):
    exhibitor = make_exhibitor(approved=False)
    organiser.user_permissions.add(Permission.objects.get(codename="change_exhibitor"))
    client.force_login(organiser)

    page = client.get(reverse("admin:exhibitors_exhibitor_change", args=[exhibitor.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="status"' not in html
    assert 'name="business_licence"' not in html
    assert reverse("org_exhibitors:detail", args=[exhibitor.pk]) in html
