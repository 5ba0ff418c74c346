"""Rooms and messages: who may open a room, context messages, sequence numbers, idempotent
sends, read markers, first-reply time, assignment, closing, offline emails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from exhibitors import services as exhibitor_services
from exhibitors.models import Exhibitor
from fair.exceptions import ApplicationError, Forbidden, NotFound
from livestream import services as live_services
from negotiations import services
from negotiations.models import Message, Negotiation
from negotiations.presence import presence
from negotiations.tasks import mailed_key
from tests.exhibitors.factories import add_member, make_exhibitor, make_product, owner_of
from tests.factories import make_buyer, make_organiser, make_user
from tests.negotiations.nego_factories import client_id, make_room, send

pytestmark = pytest.mark.django_db


# --- Opening --------------------------------------------------------------------------------


def test_open_new_room_posts_context_of_session_and_product():
    exhibitor = make_exhibitor()
    product = make_product(exhibitor)
    start = timezone.now() + timedelta(hours=1)
    session = live_services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title="Autumn launch",
        start=start,
        end=start + timedelta(hours=1),
    )
    buyer = make_buyer()

    room, created = services.negotiation_open(
        buyer=buyer, exhibitor_id=exhibitor.pk, session_id=session.pk, product_id=product.pk
    )

    assert created is True
    assert (room.buyer_id, room.exhibitor_id, room.status) == (buyer.pk, exhibitor.pk, "open")
    assert (room.opened_from_session_id, room.opened_from_product_id) == (session.pk, product.pk)
    messages = list(room.messages.all())
    assert [(m.seq, m.kind, m.event, m.author_id) for m in messages] == [
        (1, "system", "opened", None)
    ]
    assert messages[0].text == (
        "Asked from the live session “Autumn launch” about “55-inch 4K Smart TV”."
    )
    room.refresh_from_db()
    assert (room.last_seq, room.buyer_last_read_seq, room.last_speaker) == (1, 0, "")


def test_open_again_reuses_room_and_posts_only_a_new_context():
    exhibitor = make_exhibitor()
    product = make_product(exhibitor)
    other_product = make_product(exhibitor, sku="TV-65", name="65-inch TV")
    buyer = make_buyer()
    room, _ = services.negotiation_open(
        buyer=buyer, exhibitor_id=exhibitor.pk, product_id=product.pk
    )

    again, created_again = services.negotiation_open(
        buyer=buyer, exhibitor_id=exhibitor.pk, product_id=product.pk
    )
    plain, created_plain = services.negotiation_open(buyer=buyer, exhibitor_id=exhibitor.pk)
    other, created_other = services.negotiation_open(
        buyer=buyer, exhibitor_id=exhibitor.pk, product_id=other_product.pk
    )

    assert {again.pk, plain.pk, other.pk} == {room.pk}
    assert (created_again, created_plain, created_other) == (False, False, False)
    assert Negotiation.objects.count() == 1
    assert [(m.seq, m.event, m.text) for m in Message.objects.order_by("seq")] == [
        (1, "opened", "Asked about “55-inch 4K Smart TV”."),
        (2, "context", "Asked about “65-inch TV”."),
    ]


def test_open_ignores_context_of_another_exhibitor():
    exhibitor = make_exhibitor()
    foreign_product = make_product(make_exhibitor(name="Foreign Co"))

    room, _ = services.negotiation_open(
        buyer=make_buyer(), exhibitor_id=exhibitor.pk, product_id=foreign_product.pk
    )

    assert room.opened_from_product_id is None
    assert room.messages.get().text == "Negotiation opened."


def test_open_own_company_refused_for_every_staff_role():
    exhibitor = make_exhibitor()
    # Staff with a buyer profile too: still their own company.
    sales = make_buyer()
    exhibitor.members.create(user=sales, role="sales")

    for user in (owner_of(exhibitor), add_member(exhibitor, "admin"), sales):
        with pytest.raises(ApplicationError) as error:
            services.negotiation_open(buyer=user, exhibitor_id=exhibitor.pk)
        assert error.value.code in ("own_company", "not_a_buyer")
    with pytest.raises(ApplicationError) as error:
        services.negotiation_open(buyer=sales, exhibitor_id=exhibitor.pk)
    assert error.value.code == "own_company"
    assert Negotiation.objects.count() == 0


def test_open_refused_for_non_buyers_organisers_and_anonymous():
    exhibitor = make_exhibitor()

    with pytest.raises(ApplicationError) as no_profile:
        services.negotiation_open(buyer=make_user(), exhibitor_id=exhibitor.pk)
    with pytest.raises(ApplicationError) as organiser:
        services.negotiation_open(buyer=make_organiser(), exhibitor_id=exhibitor.pk)
    with pytest.raises(ApplicationError) as anonymous:
        services.negotiation_open(buyer=AnonymousUser(), exhibitor_id=exhibitor.pk)

    assert (no_profile.value.code, organiser.value.code, anonymous.value.code) == (
        "not_a_buyer",
        "not_a_buyer",
        "sign_in_required",
    )
    assert Negotiation.objects.count() == 0


@pytest.mark.parametrize("status", ["pending", "suspended", "rejected"])
def test_open_exhibitor_not_approved_answers_not_found(status):
    exhibitor = make_exhibitor()
    Exhibitor.objects.filter(pk=exhibitor.pk).update(status=status)

    with pytest.raises(NotFound):
        services.negotiation_open(buyer=make_buyer(), exhibitor_id=exhibitor.pk)
    with pytest.raises(NotFound):
        services.negotiation_open(buyer=make_buyer(), exhibitor_id=999_999)
    assert Negotiation.objects.count() == 0


def test_open_rate_limited_after_twenty_new_rooms_per_hour():
    buyer = make_buyer()
    exhibitors = [make_exhibitor(name=f"Maker {i}") for i in range(services.ROOMS_PER_HOUR + 1)]
    for exhibitor in exhibitors[:-1]:
        services.negotiation_open(buyer=buyer, exhibitor_id=exhibitor.pk)

    with pytest.raises(ApplicationError) as error:
        services.negotiation_open(buyer=buyer, exhibitor_id=exhibitors[-1].pk)
    # Reusing an existing room is not limited.
    room, created = services.negotiation_open(buyer=buyer, exhibitor_id=exhibitors[0].pk)

    assert error.value.code == "rate_limited"
    assert created is False
    assert Negotiation.objects.filter(buyer=buyer).count() == services.ROOMS_PER_HOUR


def test_open_closed_room_reopens_it():
    buyer = make_buyer()
    room = make_room(buyer=buyer)
    services.negotiation_close(user=buyer, negotiation_id=room.pk)

    again, created = services.negotiation_open(buyer=buyer, exhibitor_id=room.exhibitor_id)

    assert (again.pk, created, again.status) == (room.pk, False, "open")
    assert list(room.messages.values_list("event", flat=True)) == ["opened", "closed", "reopened"]


# --- Messages -------------------------------------------------------------------------------


def test_message_send_numbers_messages_and_tracks_speakers_and_reads():
    room = make_room()
    owner = owner_of(room.exhibitor)

    first = send(room.buyer, room, "Do you ship to Riyadh?")
    reply = send(owner, room, "Yes, by sea from Shenzhen.")

    room.refresh_from_db()
    assert (first.seq, first.side, first.kind) == (2, "buyer", "text")
    assert (reply.seq, reply.side, reply.author_id) == (3, "exhibitor", owner.pk)
    assert (room.last_seq, room.last_speaker) == (3, "exhibitor")
    assert (room.buyer_last_read_seq, room.exhibitor_last_read_seq) == (2, 3)
    assert room.last_message_at == reply.created_at


def test_message_send_same_client_id_returns_stored_message():
    room = make_room()
    cid = client_id()

    first, created = services.message_send(
        user=room.buyer, negotiation_id=room.pk, client_id=cid, body="Hello"
    )
    again, created_again = services.message_send(
        user=room.buyer, negotiation_id=room.pk, client_id=cid, body="Hello (retry)"
    )

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and again.body == "Hello"
    room.refresh_from_db()
    assert room.last_seq == 2
    assert room.messages.count() == 2


def test_message_send_same_client_id_of_another_author_is_another_message():
    room = make_room()
    cid = client_id()

    a, _ = services.message_send(user=room.buyer, negotiation_id=room.pk, client_id=cid, body="a")
    b, created = services.message_send(
        user=owner_of(room.exhibitor), negotiation_id=room.pk, client_id=cid, body="b"
    )

    assert created is True
    assert (a.seq, b.seq) == (2, 3)


@pytest.mark.parametrize(
    ("body", "cid"),
    [("", "c1d2e3f4-ok"), ("   ", "c1d2e3f4-ok"), ("x" * 5001, "c1d2e3f4-ok"), ("hi", "short")],
)
def test_message_send_invalid_input_refused_and_nothing_stored(body, cid):
    room = make_room()

    with pytest.raises(ApplicationError) as error:
        services.message_send(user=room.buyer, negotiation_id=room.pk, client_id=cid, body=body)

    assert error.value.code == "invalid"
    room.refresh_from_db()
    assert room.last_seq == 1


def test_message_send_by_non_party_not_found_and_nothing_stored():
    room = make_room()

    for outsider in (make_buyer(), owner_of(make_exhibitor(name="Y")), make_organiser()):
        with pytest.raises(NotFound):
            send(outsider, room, "Let me in")

    room.refresh_from_db()
    assert room.last_seq == 1


def test_message_send_refused_in_closed_room_and_for_suspended_exhibitor():
    room = make_room()
    services.negotiation_close(user=room.buyer, negotiation_id=room.pk)

    with pytest.raises(ApplicationError) as closed:
        send(room.buyer, room)
    services.negotiation_reopen(user=room.buyer, negotiation_id=room.pk)
    exhibitor_services.exhibitor_suspend(
        actor=make_organiser(), exhibitor_id=room.exhibitor_id, reason="Fake certificates"
    )
    with pytest.raises(ApplicationError) as suspended_buyer:
        send(room.buyer, room)
    with pytest.raises(ApplicationError) as suspended_staff:
        send(owner_of(room.exhibitor), room)

    assert closed.value.code == "closed"
    assert (suspended_buyer.value.code, suspended_staff.value.code) == ("read_only", "read_only")
    assert room.messages.filter(kind="text").count() == 0


def test_deactivated_staff_is_no_longer_a_party():
    room = make_room()
    sales = add_member(room.exhibitor, "sales")
    send(sales, room, "Welcome")
    sales.is_active = False
    sales.save(update_fields=["is_active"])

    with pytest.raises(NotFound):
        send(sales, room, "Still here?")


# --- First-reply time -----------------------------------------------------------------------


def test_first_reply_seconds_measured_from_buyer_first_message_to_first_staff_reply():
    room = make_room()
    owner = owner_of(room.exhibitor)
    send(owner, room, "Welcome to our booth")  # before the buyer wrote: not a reply
    send(room.buyer, room, "Price for 500?")
    asked_at = timezone.now() - timedelta(minutes=7)
    Negotiation.objects.filter(pk=room.pk).update(buyer_first_message_at=asked_at)
    send(room.buyer, room, "Hello?")

    send(owner, room, "182.50 USD FOB")
    send(owner, room, "And samples are free")

    room.refresh_from_db()
    assert room.buyer_first_message_at == asked_at
    assert 7 * 60 <= room.first_reply_seconds <= 7 * 60 + 5


def test_first_reply_seconds_stays_empty_without_a_staff_reply():
    room = make_room()
    send(room.buyer, room, "Price?")

    room.refresh_from_db()
    assert room.first_reply_seconds is None
    assert room.buyer_first_message_at is not None


# --- Read markers ---------------------------------------------------------------------------


def test_mark_read_moves_only_forward_and_never_past_last_seq():
    room = make_room()
    owner = owner_of(room.exhibitor)
    for body in ("a", "b", "c"):
        send(room.buyer, room, body)

    assert services.negotiation_mark_read(user=owner, negotiation_id=room.pk, seq=3) == 3
    assert services.negotiation_mark_read(user=owner, negotiation_id=room.pk, seq=2) == 3
    assert services.negotiation_mark_read(user=owner, negotiation_id=room.pk, seq=99) == 4
    room.refresh_from_db()
    assert (room.exhibitor_last_read_seq, room.buyer_last_read_seq) == (4, 4)


def test_mark_read_is_shared_by_the_exhibitor_staff_and_refused_to_outsiders():
    room = make_room()
    sales = add_member(room.exhibitor, "sales")
    send(room.buyer, room, "a")

    services.negotiation_mark_read(user=sales, negotiation_id=room.pk, seq=2)
    with pytest.raises(NotFound):
        services.negotiation_mark_read(user=make_buyer(), negotiation_id=room.pk, seq=2)

    room.refresh_from_db()
    assert room.exhibitor_last_read_seq == 2
    assert room.unread_for("exhibitor") == 0


# --- Assignment and closing -----------------------------------------------------------------


def test_assign_by_owner_or_admin_to_a_staff_member():
    room = make_room()
    admin = add_member(room.exhibitor, "admin")
    sales = add_member(room.exhibitor, "sales")

    services.negotiation_assign(user=admin, negotiation_id=room.pk, assignee_id=sales.pk)
    room.refresh_from_db()
    assert room.assigned_to_id == sales.pk
    services.negotiation_assign(
        user=owner_of(room.exhibitor), negotiation_id=room.pk, assignee_id=None
    )
    room.refresh_from_db()
    assert room.assigned_to_id is None


def test_assign_refused_for_sales_buyer_outsiders_and_non_staff_assignees():
    room = make_room()
    sales = add_member(room.exhibitor, "sales")
    owner = owner_of(room.exhibitor)

    with pytest.raises(Forbidden):
        services.negotiation_assign(user=sales, negotiation_id=room.pk, assignee_id=sales.pk)
    with pytest.raises(Forbidden):
        services.negotiation_assign(user=room.buyer, negotiation_id=room.pk, assignee_id=None)
    with pytest.raises(NotFound):
        services.negotiation_assign(
            user=owner_of(make_exhibitor(name="Y")), negotiation_id=room.pk, assignee_id=None
        )
    with pytest.raises(ApplicationError) as error:
        services.negotiation_assign(user=owner, negotiation_id=room.pk, assignee_id=room.buyer_id)

    assert error.value.code == "not_staff"
    room.refresh_from_db()
    assert room.assigned_to_id is None


def test_close_and_reopen_by_either_party():
    room = make_room()
    owner = owner_of(room.exhibitor)

    services.negotiation_close(user=owner, negotiation_id=room.pk)
    services.negotiation_close(user=room.buyer, negotiation_id=room.pk)  # no-op
    room.refresh_from_db()
    assert room.status == "closed"
    services.negotiation_reopen(user=room.buyer, negotiation_id=room.pk)
    room.refresh_from_db()
    assert room.status == "open"
    assert list(room.messages.values_list("event", flat=True)) == ["opened", "closed", "reopened"]
    with pytest.raises(NotFound):
        services.negotiation_close(user=make_buyer(), negotiation_id=room.pk)


# --- Offline emails -------------------------------------------------------------------------


def test_offline_party_gets_one_email_per_room_per_ten_minutes(
    django_capture_on_commit_callbacks,
):
    room = make_room()
    owner = owner_of(room.exhibitor)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        send(room.buyer, room, "Price for 500 pieces?")
    with django_capture_on_commit_callbacks(execute=True):
        send(room.buyer, room, "And for 1000?")

    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "Price for 500" not in mail.outbox[0].body  # no contents in mails
    assert f"/negotiations/{room.pk}/" in mail.outbox[0].body
    assert "Anne Buyer (Buyer Co)" in mail.outbox[0].subject
    assert cache.get(mailed_key(room.pk, owner.pk)) == 1


def test_offline_email_goes_only_to_the_assignee_and_not_to_online_users(
    django_capture_on_commit_callbacks,
):
    room = make_room()
    owner = owner_of(room.exhibitor)
    sales = add_member(room.exhibitor, "sales")
    services.negotiation_assign(user=owner, negotiation_id=room.pk, assignee_id=sales.pk)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        send(room.buyer, room, "Hello")
    assert [m.to for m in mail.outbox] == [[sales.email]]

    mail.outbox.clear()
    # The buyer has a negotiations socket open (as the consumer records it).
    async_to_sync(presence.backend.add)(room.buyer_id, "test.socket", presence.clock())
    try:
        assert presence.online(room.buyer_id) is True
        with django_capture_on_commit_callbacks(execute=True):
            send(sales, room, "Hi Anne")
    finally:
        async_to_sync(presence.backend.remove)(room.buyer_id, "test.socket")
    assert mail.outbox == []
    assert presence.online(room.buyer_id) is False


def test_no_email_when_nothing_is_unread(django_capture_on_commit_callbacks):
    room = make_room()
    owner = owner_of(room.exhibitor)
    send(room.buyer, room, "Hello")
    services.negotiation_mark_read(user=owner, negotiation_id=room.pk, seq=2)
    mail.outbox.clear()
    from negotiations.tasks import negotiation_notify_offline

    sent = negotiation_notify_offline(negotiation_id=room.pk)

    assert sent == 0
    assert mail.outbox == []
