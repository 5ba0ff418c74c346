"""Following booths (issue 3, item 9): services, the Follow button and "Followed booths"."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from buyers.follow_services import follow_exhibitor, unfollow_exhibitor
from buyers.models import Follow
from exhibitors import services
from exhibitors.models import Exhibitor
from fair.exceptions import ApplicationError, NotFound
from tests.exhibitors.factories_partc import make_exhibitor
from tests.factories import make_buyer, make_organiser, make_user

pytestmark = pytest.mark.django_db


def _count(exhibitor: Exhibitor) -> int:
    return Exhibitor.objects.values_list("follower_count", flat=True).get(pk=exhibitor.pk)


# --- Services --------------------------------------------------------------------------------


def test_follow_exhibitor_twice_keeps_one_follow_and_count_one():
    exhibitor, _ = make_exhibitor()
    buyer = make_buyer()

    first = follow_exhibitor(user=buyer, exhibitor_id=exhibitor.pk)
    second = follow_exhibitor(user=buyer, exhibitor_id=exhibitor.pk)

    assert first.pk == second.pk
    assert Follow.objects.filter(exhibitor=exhibitor).count() == 1
    assert _count(exhibitor) == 1


def test_follow_exhibitor_two_buyers_count_two():
    exhibitor, _ = make_exhibitor()

    follow_exhibitor(user=make_buyer(), exhibitor_id=exhibitor.pk)
    follow_exhibitor(user=make_buyer(), exhibitor_id=exhibitor.pk)

    assert _count(exhibitor) == 2


def test_unfollow_exhibitor_twice_removes_once_and_count_zero():
    exhibitor, _ = make_exhibitor()
    buyer = make_buyer()
    other = make_buyer()
    follow_exhibitor(user=buyer, exhibitor_id=exhibitor.pk)
    follow_exhibitor(user=other, exhibitor_id=exhibitor.pk)

    removed = unfollow_exhibitor(user=buyer, exhibitor_id=exhibitor.pk)
    removed_again = unfollow_exhibitor(user=buyer, exhibitor_id=exhibitor.pk)

    assert (removed, removed_again) == (True, False)
    assert list(Follow.objects.values_list("user_id", flat=True)) == [other.pk]
    assert _count(exhibitor) == 1


def test_follow_exhibitor_non_buyer_is_refused_with_clear_error():
    exhibitor, owner = make_exhibitor()
    staff_user = make_exhibitor()[1]

    for user in (owner, staff_user, make_user()):
        with pytest.raises(ApplicationError) as error:
            follow_exhibitor(user=user, exhibitor_id=exhibitor.pk)
        assert error.value.code == "not_a_buyer"
        assert error.value.message == (
            "Only buyer accounts can follow booths. This account has no buyer profile."
        )

    assert Follow.objects.count() == 0
    assert _count(exhibitor) == 0


@pytest.mark.parametrize("status", ["pending", "rejected", "suspended"])
def test_follow_exhibitor_not_approved_is_not_found(status):
    exhibitor, _ = make_exhibitor(status=status)

    with pytest.raises(NotFound):
        follow_exhibitor(user=make_buyer(), exhibitor_id=exhibitor.pk)

    assert Follow.objects.count() == 0
    assert _count(exhibitor) == 0


def test_unfollow_exhibitor_after_suspension_still_possible():
    exhibitor, _ = make_exhibitor()
    buyer = make_buyer()
    follow_exhibitor(user=buyer, exhibitor_id=exhibitor.pk)
    services.exhibitor_suspend(actor=make_organiser(), exhibitor_id=exhibitor.pk, reason="Audit")

    assert unfollow_exhibitor(user=buyer, exhibitor_id=exhibitor.pk) is True
    assert _count(exhibitor) == 0


# --- Pages -----------------------------------------------------------------------------------


def test_follow_view_buyer_follows_and_booth_shows_unfollow(client):
    exhibitor, _ = make_exhibitor()
    buyer = make_buyer()
    client.force_login(buyer)
    booth_url = reverse("exhibitors:booth", args=[exhibitor.slug])

    response = client.post(reverse("buyers:follow", args=[exhibitor.slug]), {"next": booth_url})

    assert response.status_code == 302
    assert response["Location"] == booth_url
    assert _count(exhibitor) == 1
    html = client.get(booth_url).content.decode()
    assert 'data-testid="unfollow-button"' in html
    assert "1 follower" in html


def test_follow_view_htmx_returns_button_fragment(client):
    exhibitor, _ = make_exhibitor()
    client.force_login(make_buyer())

    response = client.post(
        reverse("buyers:follow", args=[exhibitor.slug]), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith(f'<div class="follow-box" id="follow-{exhibitor.pk}">')
    assert 'data-testid="unfollow-button"' in html
    assert "1 follower" in html


def test_unfollow_view_buyer_unfollows(client):
    exhibitor, _ = make_exhibitor()
    buyer = make_buyer()
    follow_exhibitor(user=buyer, exhibitor_id=exhibitor.pk)
    client.force_login(buyer)

    response = client.post(reverse("buyers:unfollow", args=[exhibitor.slug]))

    assert response.status_code == 302
    assert response["Location"] == reverse("exhibitors:booth", args=[exhibitor.slug])
    assert Follow.objects.count() == 0
    assert _count(exhibitor) == 0


def test_follow_view_next_to_other_host_is_ignored(client):
    exhibitor, _ = make_exhibitor()
    client.force_login(make_buyer())

    response = client.post(
        reverse("buyers:follow", args=[exhibitor.slug]), {"next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("exhibitors:booth", args=[exhibitor.slug])


def test_follow_view_non_buyer_gets_error_message_and_nothing_changes(client):
    exhibitor, owner = make_exhibitor()
    client.force_login(owner)

    response = client.post(reverse("buyers:follow", args=[exhibitor.slug]), follow=True)

    assert "Only buyer accounts can follow booths." in response.content.decode()
    assert Follow.objects.count() == 0
    assert _count(exhibitor) == 0


def test_booth_page_non_buyer_sees_no_follow_button(client):
    exhibitor, owner = make_exhibitor()
    client.force_login(owner)

    html = client.get(reverse("exhibitors:booth", args=[exhibitor.slug])).content.decode()

    assert 'data-testid="follow-button"' not in html
    assert "0 followers" in html


def test_booth_page_anonymous_is_invited_to_log_in_to_follow(client):
    exhibitor, _ = make_exhibitor()

    html = client.get(reverse("exhibitors:booth", args=[exhibitor.slug])).content.decode()

    assert "Log in as a buyer to follow this booth" in html
    assert 'data-testid="follow-button"' not in html


def test_follow_view_anonymous_is_sent_to_login(client):
    exhibitor, _ = make_exhibitor()

    response = client.post(reverse("buyers:follow", args=[exhibitor.slug]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert Follow.objects.count() == 0


def test_follow_view_get_is_not_allowed(client):
    exhibitor, _ = make_exhibitor()
    client.force_login(make_buyer())

    response = client.get(reverse("buyers:follow", args=[exhibitor.slug]))

    assert response.status_code == 405
    assert Follow.objects.count() == 0


def test_follow_view_pending_exhibitor_is_404(client):
    exhibitor, _ = make_exhibitor(status="pending")
    client.force_login(make_buyer())

    response = client.post(reverse("buyers:follow", args=[exhibitor.slug]))

    assert response.status_code == 404
    assert Follow.objects.count() == 0


def test_follow_view_without_csrf_token_is_refused():
    exhibitor, _ = make_exhibitor()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(make_buyer())

    response = csrf_client.post(reverse("buyers:follow", args=[exhibitor.slug]))

    assert response.status_code == 403
    assert Follow.objects.count() == 0


def test_followed_page_lists_public_followed_booths_only(client):
    shown, _ = make_exhibitor(name="Shown Booth")
    suspended, _ = make_exhibitor(name="Soon Suspended")
    make_exhibitor(name="Not Followed")
    buyer = make_buyer()
    follow_exhibitor(user=buyer, exhibitor_id=shown.pk)
    follow_exhibitor(user=buyer, exhibitor_id=suspended.pk)
    services.exhibitor_suspend(actor=make_organiser(), exhibitor_id=suspended.pk, reason="x")
    client.force_login(buyer)

    response = client.get(reverse("buyers:followed"))

    html = response.content.decode()
    assert [f.exhibitor_id for f in response.context["page"].object_list] == [shown.pk]
    assert "Shown Booth" in html
    assert "Soon Suspended" not in html and "Not Followed" not in html
    assert f'data-next-session-for="{shown.pk}"' in html


def test_followed_page_empty_state(client):
    client.force_login(make_buyer())

    html = client.get(reverse("buyers:followed")).content.decode()

    assert "You do not follow any booth yet." in html


def test_followed_page_anonymous_is_sent_to_login(client):
    response = client.get(reverse("buyers:followed"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("n", [1, 3])
def test_followed_page_query_count_flat(client, django_assert_num_queries, n):
    buyer = make_buyer()
    for _ in range(n):
        exhibitor, _ = make_exhibitor()
        follow_exhibitor(user=buyer, exhibitor_id=exhibitor.pk)
    client.force_login(buyer)
    url = reverse("buyers:followed")
    client.get(url)

    # user, buyer check, follows count, page of follows (exhibitor, booth, section joined),
    # organiser group, buyer profile (header)
    with django_assert_num_queries(7):
        response = client.get(url)

    assert len(response.context["page"].object_list) == n
