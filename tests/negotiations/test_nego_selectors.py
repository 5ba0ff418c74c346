"""Who is a party (the one selector every door uses), inboxes and their filters, history
pages, resume, unread counts, the first-reply median, organiser figures; flat query counts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from fair.exceptions import Forbidden, NotFound
from negotiations import selectors, services
from negotiations.models import Negotiation
from tests.exhibitors.factories import make_exhibitor, owner_of
from tests.factories import make_buyer
from tests.negotiations.nego_factories import (
    NON_PARTIES,
    PARTIES,
    Cast,
    make_quote,
    make_room,
    send,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    return Cast()


# --- Party-ness -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", PARTIES)
def test_parties_reach_the_room_with_their_side(cast, role):
    negotiation, party = selectors.negotiation_for_party(
        user=cast.role(role), negotiation_id=cast.room.pk
    )

    assert negotiation.pk == cast.room.pk
    expected = ("buyer", "") if role == "buyer" else ("exhibitor", role)
    assert (party.side, party.role) == expected
    assert party.can_assign is (role in ("owner", "admin"))


@pytest.mark.parametrize("role", NON_PARTIES)
def test_non_parties_get_the_same_not_found_as_a_missing_room(cast, role):
    user = cast.role(role) or AnonymousUser()

    with pytest.raises(NotFound) as forbidden:
        selectors.negotiation_for_party(user=user, negotiation_id=cast.room.pk)
    with pytest.raises(NotFound) as missing:
        selectors.negotiation_for_party(user=cast.buyer, negotiation_id=cast.room.pk + 1000)

    assert str(forbidden.value) == str(missing.value) == "No such negotiation."


@pytest.mark.parametrize("role", NON_PARTIES)
def test_non_parties_cannot_reach_quotes_or_attachments(cast, role):
    from tests.exhibitors.factories import pdf_bytes, upload
    from tests.negotiations.nego_factories import client_id

    quote = make_quote(cast.owner, cast.room)
    message, _ = services.attachment_send(
        user=cast.buyer,
        negotiation_id=cast.room.pk,
        client_id=client_id(),
        upload=upload("specs.pdf", pdf_bytes()),
    )
    user = cast.role(role) or AnonymousUser()

    with pytest.raises(NotFound):
        selectors.quote_for_party(user=user, quote_id=quote.pk)
    with pytest.raises(NotFound):
        selectors.attachment_for_party(user=user, attachment_id=message.attachment.pk)
    assert selectors.attachment_for_party(user=cast.sales, attachment_id=message.attachment.pk)[
        0
    ] == (message.attachment)


def test_removed_or_deactivated_staff_lose_the_room(cast):
    cast.exhibitor.members.filter(user=cast.sales).delete()
    cast.admin.is_active = False
    cast.admin.save(update_fields=["is_active"])

    for user in (cast.sales, cast.admin):
        with pytest.raises(NotFound):
            selectors.negotiation_for_party(user=user, negotiation_id=cast.room.pk)


def test_party_check_is_one_query(cast, django_assert_num_queries):
    with django_assert_num_queries(1):
        selectors.negotiation_for_party(user=cast.sales, negotiation_id=cast.room.pk)
    with django_assert_num_queries(1):
        selectors.negotiation_for_party(user=cast.buyer, negotiation_id=cast.room.pk)


def test_party_user_ids_are_buyer_and_active_staff(cast):
    cast.sales.is_active = False
    cast.sales.save(update_fields=["is_active"])

    ids = selectors.party_user_ids(negotiation=cast.room)

    assert ids[0] == cast.buyer.pk
    assert sorted(ids[1:]) == sorted([cast.owner.pk, cast.admin.pk])


# --- Inboxes --------------------------------------------------------------------------------


def test_buyer_inbox_lists_only_own_rooms_newest_first_with_unread(cast):
    second = make_room(exhibitor=cast.other_exhibitor, buyer=cast.buyer)
    make_room(exhibitor=cast.exhibitor, buyer=cast.other_buyer)
    send(cast.owner, cast.room, "Welcome")
    send(cast.owner, cast.room, "Any questions?")

    rooms = list(selectors.negotiations_of_buyer(user=cast.buyer))

    assert [r.pk for r in rooms] == [cast.room.pk, second.pk]
    assert [r.unread for r in rooms] == [3, 1]
    assert list(selectors.negotiations_of_buyer(user=AnonymousUser())) == []


def test_exhibitor_inbox_filters(cast):
    awaiting_us = cast.room
    send(cast.buyer, awaiting_us, "Price?")
    awaiting_buyer = make_room(exhibitor=cast.exhibitor)
    send(cast.sales, awaiting_buyer, "Here is our catalogue")
    agreed = make_room(exhibitor=cast.exhibitor)
    quote = make_quote(cast.owner, agreed)
    services.quote_accept(user=agreed.buyer, quote_id=quote.pk)
    closed = make_room(exhibitor=cast.exhibitor)
    services.negotiation_close(user=closed.buyer, negotiation_id=closed.pk)
    make_room(exhibitor=cast.other_exhibitor)  # another company's: never listed
    services.negotiation_mark_read(user=cast.owner, negotiation_id=agreed.pk, seq=99)

    def ids(**kwargs):
        return {
            r.pk
            for r in selectors.negotiations_of_exhibitor(
                user=cast.sales, exhibitor_id=cast.exhibitor.pk, **kwargs
            )
        }

    assert ids() == {awaiting_us.pk, awaiting_buyer.pk, agreed.pk, closed.pk}
    assert ids(view="awaiting_us") == {awaiting_us.pk}
    assert ids(view="awaiting_buyer") == {awaiting_buyer.pk}
    assert ids(view="agreed") == {agreed.pk}
    assert ids(view="closed") == {closed.pk}
    assert ids(view="unread") == {awaiting_us.pk, closed.pk}


def test_exhibitor_inbox_assigned_filter(cast):
    other = make_room(exhibitor=cast.exhibitor)
    services.negotiation_assign(user=cast.owner, negotiation_id=other.pk, assignee_id=cast.sales.pk)

    def ids(user, assigned):
        return [
            r.pk
            for r in selectors.negotiations_of_exhibitor(
                user=user, exhibitor_id=cast.exhibitor.pk, assigned=assigned
            )
        ]

    assert ids(cast.sales, "me") == [other.pk]
    assert ids(cast.owner, "me") == []
    assert ids(cast.owner, "none") == [cast.room.pk]
    assert ids(cast.owner, str(cast.sales.pk)) == [other.pk]
    assert ids(cast.owner, "nonsense") == []


@pytest.mark.parametrize("role", ["anon", "buyer", "other_buyer", "other_staff", "organiser"])
def test_exhibitor_inbox_refused_to_non_staff(cast, role):
    with pytest.raises(NotFound):
        selectors.negotiations_of_exhibitor(
            user=cast.role(role) or AnonymousUser(), exhibitor_id=cast.exhibitor.pk
        )


def _inbox_queries(cast, count: int, django_assert_num_queries) -> None:
    for _ in range(count - 1):
        room = make_room(exhibitor=cast.exhibitor)
        send(room.buyer, room, "Hello")
    with django_assert_num_queries(2):  # the membership check, then one list query
        rooms = list(
            selectors.negotiations_of_exhibitor(user=cast.sales, exhibitor_id=cast.exhibitor.pk)
        )
        lines = [
            (r.buyer.full_name, r.buyer.buyer_profile.company, r.assigned_to, r.unread)
            for r in rooms
        ]
    assert len(lines) == count


@pytest.mark.parametrize("count", [1, 3])
def test_exhibitor_inbox_query_count_is_flat(cast, count, django_assert_num_queries):
    _inbox_queries(cast, count, django_assert_num_queries)


@pytest.mark.parametrize("count", [1, 3])
def test_buyer_inbox_query_count_is_flat(cast, count, django_assert_num_queries):
    for _ in range(count - 1):
        make_room(buyer=cast.buyer)
    with django_assert_num_queries(1):
        rooms = list(selectors.negotiations_of_buyer(user=cast.buyer))
        lines = [(r.exhibitor.display_name, r.exhibitor.booth.tagline, r.unread) for r in rooms]
    assert len(lines) == count


def test_unread_count_for_navigation_bar(cast):
    send(cast.buyer, cast.room, "Hello")  # unread for the staff
    second = make_room(exhibitor=cast.other_exhibitor, buyer=cast.buyer)  # unread for buyer
    make_room(exhibitor=cast.other_exhibitor)  # nothing to do with our users

    assert selectors.negotiations_unread_count(user=cast.buyer) == 1
    assert selectors.negotiations_unread_count(user=cast.sales) == 1
    assert selectors.negotiations_unread_count(user=cast.other_buyer) == 0
    assert selectors.negotiations_unread_count(user=AnonymousUser()) == 0
    services.negotiation_mark_read(user=cast.buyer, negotiation_id=second.pk, seq=1)
    services.negotiation_mark_read(user=cast.owner, negotiation_id=cast.room.pk, seq=2)
    assert selectors.negotiations_unread_count(user=cast.buyer) == 0
    assert selectors.negotiations_unread_count(user=cast.sales) == 0


# --- History and resume ---------------------------------------------------------------------


def test_history_pages_backwards_without_limit(cast):
    for i in range(7):
        send(cast.buyer, cast.room, f"m{i}")

    newest, more = selectors.messages_before(negotiation=cast.room, limit=3)
    older, more_older = selectors.messages_before(
        negotiation=cast.room, before_seq=newest[0].seq, limit=3
    )
    oldest, more_oldest = selectors.messages_before(
        negotiation=cast.room, before_seq=older[0].seq, limit=3
    )

    assert ([m.seq for m in newest], more) == ([6, 7, 8], True)
    assert ([m.seq for m in older], more_older) == ([3, 4, 5], True)
    assert ([m.seq for m in oldest], more_oldest) == ([1, 2], False)


def test_resume_after_seq_returns_exactly_the_missed_messages(cast):
    for i in range(5):
        send(cast.owner, cast.room, f"m{i}")

    missed, complete = selectors.messages_after(negotiation=cast.room, after_seq=3)
    partial, partial_complete = selectors.messages_after(
        negotiation=cast.room, after_seq=0, limit=4
    )

    assert ([m.seq for m in missed], complete) == ([4, 5, 6], True)
    assert ([m.seq for m in partial], partial_complete) == ([1, 2, 3, 4], False)


@pytest.mark.parametrize("count", [1, 3])
def test_history_query_count_is_flat(cast, count, django_assert_num_queries):
    from tests.exhibitors.factories import pdf_bytes, upload
    from tests.negotiations.nego_factories import client_id

    for _ in range(count):
        make_quote(cast.owner, cast.room)
        services.attachment_send(
            user=cast.buyer,
            negotiation_id=cast.room.pk,
            client_id=client_id(),
            upload=upload("a.pdf", pdf_bytes()),
        )
    from negotiations.events import message_json

    with django_assert_num_queries(1):
        messages, _more = selectors.messages_before(negotiation=cast.room)
        payload = [message_json(m) for m in messages]
    assert len(payload) == 1 + 2 * count


# --- First-reply median ---------------------------------------------------------------------


def _answered_room(exhibitor, seconds: int) -> Negotiation:
    room = make_room(exhibitor=exhibitor)
    send(room.buyer, room, "Hello")
    Negotiation.objects.filter(pk=room.pk).update(
        buyer_first_message_at=timezone.now() - timedelta(seconds=seconds)
    )
    send(owner_of(exhibitor), room, "Hi")
    return room


def test_median_first_reply_time_of_an_exhibitor():
    exhibitor = make_exhibitor(name="Fast Co")
    for seconds in (60, 300, 3600, 120):
        _answered_room(exhibitor, seconds)
    make_room(exhibitor=exhibitor)  # never answered: not counted

    reply = selectors.exhibitor_median_first_reply(exhibitor_id=exhibitor.pk)

    assert reply.rooms == 4
    assert 210 <= reply.seconds <= 212  # percentile_cont: the mean of 120 and 300
    assert reply.minutes == 4


def test_median_needs_three_answered_rooms_and_is_per_exhibitor():
    slow = make_exhibitor(name="Slow Co")
    few = make_exhibitor(name="Few Co")
    for seconds in (600, 900, 1200):
        _answered_room(slow, seconds)
    _answered_room(few, 30)

    result = selectors.exhibitors_median_first_reply(exhibitor_ids=[slow.pk, few.pk])

    assert set(result) == {slow.pk}
    assert 900 <= result[slow.pk].seconds <= 902
    assert selectors.exhibitor_median_first_reply(exhibitor_id=few.pk) is None


# --- Organiser figures ----------------------------------------------------------------------


def test_organiser_figures_count_without_contents(cast):
    quote = make_quote(cast.owner, cast.room, quantity=Decimal("2"), unit_price=Decimal("10"))
    services.quote_accept(user=cast.buyer, quote_id=quote.pk)
    other = make_room(exhibitor=cast.other_exhibitor)
    eur = make_quote(
        cast.other_staff, other, currency="EUR", quantity=Decimal("1"), unit_price=Decimal("5")
    )
    services.quote_accept(user=other.buyer, quote_id=eur.pk)
    make_quote(cast.owner, cast.room)

    figures = selectors.negotiation_figures(user=cast.organiser)

    assert figures["rooms"] == {"total": 2, "open": 0, "agreed": 2, "closed": 0}
    assert figures["quotes"]["total"] == 3
    assert (figures["quotes"]["accepted"], figures["quotes"]["open"]) == (2, 1)
    assert figures["intents"]["total"] == 2
    assert sorted(
        (i["currency"], i["count"], i["total"]) for i in figures["intents"]["by_currency"]
    ) == [("EUR", 1, Decimal("5.00")), ("USD", 1, Decimal("20.00"))]
    text = repr(figures)
    for private in ("55-inch", cast.buyer.full_name, cast.exhibitor.display_name):
        assert private not in text


@pytest.mark.parametrize("role", ["anon", "buyer", "owner", "other_staff"])
def test_figures_refused_to_everyone_but_organisers(cast, role):
    with pytest.raises(Forbidden):
        selectors.negotiation_figures(user=cast.role(role) or AnonymousUser())


def test_leads_of_exhibitor_scoped_to_its_staff(cast):
    make_room(exhibitor=cast.other_exhibitor, buyer=cast.other_buyer)

    rooms = list(selectors.leads_of_exhibitor(user=cast.sales, exhibitor_id=cast.exhibitor.pk))

    assert [r.pk for r in rooms] == [cast.room.pk]
    with pytest.raises(NotFound):
        selectors.leads_of_exhibitor(user=cast.other_staff, exhibitor_id=cast.exhibitor.pk)
    with pytest.raises(NotFound):
        selectors.leads_of_exhibitor(user=make_buyer(), exhibitor_id=cast.exhibitor.pk)
