"""The "buyers" audience and the buyers app's Django admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from buyers.follow_services import follow_exhibitor
from fair.audiences import audience_get, audience_users, audiences_of
from tests.exhibitors.factories import make_exhibitor, owner_of
from tests.factories import make_buyer, make_organiser, make_user

pytestmark = pytest.mark.django_db


def test_org_audience_buyers_is_accounts_with_a_buyer_profile():
    first = make_buyer()
    second = make_buyer()
    exhibitor_owner = owner_of(make_exhibitor())
    plain = make_user()
    audience = audience_get("buyers")

    assert [audience.includes(u) for u in (first, second, exhibitor_owner, plain)] == [
        True,
        True,
        False,
        False,
    ]
    assert audience.includes(AnonymousUser()) is False
    assert set(audience_users("buyers")) == {first, second}
    assert "buyers" in audiences_of(first)
    assert "buyers" not in audiences_of(plain)


def test_org_buyers_admin_lists_and_searches_every_model(client):
    buyer = make_buyer(email="anne@buyer.test", company="Anne Imports")
    follow_exhibitor(user=buyer, exhibitor_id=make_exhibitor(name="Followed Co").pk)
    superuser = make_user(is_staff=True, is_superuser=True)
    client.force_login(superuser)

    profiles = client.get(
        reverse("admin:buyers_buyerprofile_changelist"), {"q": "anne", "buyer_type": "importer"}
    )
    follows = client.get(
        reverse("admin:buyers_follow_changelist"),
        {"q": "followed", "exhibitor__status": "approved"},
    )

    assert profiles.status_code == 200
    assert "Anne Imports" in profiles.content.decode()
    assert follows.status_code == 200
    assert "anne@buyer.test follows Followed Co" in follows.content.decode()


def test_org_buyers_admin_not_for_organisers_without_permissions(client):
    client.force_login(make_organiser())

    assert client.get(reverse("admin:buyers_buyerprofile_changelist")).status_code == 403
