"""The "exhibitors" audience: staff of approved exhibitors (announcements, figures)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from exhibitors import services
from exhibitors.models import ExhibitorMember
from fair.audiences import audience_get, audience_users, audiences_of
from tests.exhibitors.factories import add_member, make_exhibitor, owner_of
from tests.factories import make_buyer, make_organiser, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    approved = make_exhibitor(name="Approved Co")
    pending = make_exhibitor(name="Pending Co", approved=False)
    suspended = make_exhibitor(name="Suspended Co")
    services.exhibitor_suspend(actor=make_organiser(), exhibitor_id=suspended.pk, reason="x")
    sales = add_member(approved, "sales")
    # Staff of two companies, one approved: counted once.
    both = add_member(approved, "admin")
    pending_admin = add_member(pending, "admin")
    ExhibitorMember.objects.create(exhibitor=pending, user=both, role="sales")
    return {
        "approved_owner": owner_of(approved),
        "sales": sales,
        "both": both,
        "pending_owner": owner_of(pending),
        "pending_admin": pending_admin,
        "suspended_owner": owner_of(suspended),
        "buyer": make_buyer(),
        "nobody": make_user(),
    }


def test_org_audience_exhibitors_includes_staff_of_approved_exhibitors_only(people):
    audience = audience_get("exhibitors")
    included = {name for name, user in people.items() if audience.includes(user)}

    assert included == {"approved_owner", "sales", "both"}
    assert audience.includes(AnonymousUser()) is False


def test_org_audience_exhibitors_users_is_exact_and_distinct(people):
    users = list(audience_users("exhibitors").order_by("pk"))

    assert users == sorted(
        [people["approved_owner"], people["sales"], people["both"]], key=lambda u: u.pk
    )


def test_org_audience_exhibitors_users_skips_inactive_accounts(people):
    people["sales"].is_active = False
    people["sales"].save(update_fields=["is_active"])

    assert set(audience_users("exhibitors")) == {people["approved_owner"], people["both"]}


def test_org_audiences_of_staff_and_buyer(people):
    assert "exhibitors" in audiences_of(people["sales"])
    assert "exhibitors" not in audiences_of(people["pending_owner"])
    assert "exhibitors" not in audiences_of(people["buyer"])
