"""The quote state machine: send, counter (supersedes), accept (purchase intent), decline,
expire; every illegal transition refused with nothing changed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from fair.exceptions import ApplicationError, NotFound
from negotiations import services
from negotiations.models import Message, Negotiation, PurchaseIntent, Quote
from negotiations.tasks import quotes_expire
from tests.exhibitors.factories import add_member, make_exhibitor, make_product, owner_of
from tests.factories import make_buyer, make_organiser
from tests.negotiations.nego_factories import client_id, make_quote, make_room, quote_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def room():
    return make_room()


@pytest.fixture
def owner(room):
    return owner_of(room.exhibitor)


def test_quote_send_stores_a_quote_message_with_every_term(room, owner):
    product = make_product(room.exhibitor)

    quote = make_quote(owner, room, product=product.pk, product_text="")

    assert quote.message.kind == "quote"
    assert (quote.message.seq, quote.message.side) == (2, "exhibitor")
    assert (quote.side, quote.status, quote.version, quote.previous_id) == (
        "exhibitor",
        "open",
        1,
        None,
    )
    assert (quote.product_id, quote.product_text) == (product.pk, "55-inch 4K Smart TV")
    assert (quote.quantity, quote.unit, quote.unit_price) == (
        Decimal("500.000"),
        "pieces",
        Decimal("182.5000"),
    )
    assert (quote.currency, quote.incoterm, quote.port, quote.lead_time_days) == (
        "USD",
        "FOB",
        "Shenzhen",
        35,
    )
    assert quote.total == Decimal("91250.00")
    room.refresh_from_db()
    assert (room.last_seq, room.last_speaker) == (2, "exhibitor")


def test_buyer_may_quote_too(room):
    quote = make_quote(room.buyer, room, unit_price=Decimal("170"))

    assert (quote.side, quote.created_by_id) == ("buyer", room.buyer_id)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"incoterm": "ABC"}, "incoterm"),
        ({"quantity": Decimal("0")}, "quantity"),
        ({"unit_price": Decimal("-1")}, "unit_price"),
        ({"lead_time_days": 900}, "lead_time_days"),
        ({"product_text": ""}, "product_text"),
        ({"unit": ""}, "unit"),
        ({"valid_until": timezone.now() - timedelta(minutes=1)}, "valid_until"),
        ({"valid_until": timezone.now() + timedelta(days=400)}, "valid_until"),
    ],
)
def test_quote_send_invalid_terms_refused_and_nothing_stored(room, owner, overrides, field):
    with pytest.raises(ValidationError) as error:
        make_quote(owner, room, **overrides)

    assert field in error.value.message_dict
    assert Quote.objects.count() == 0
    room.refresh_from_db()
    assert room.last_seq == 1


def test_quote_product_must_be_of_this_exhibitor_and_public_for_buyers(room, owner):
    foreign = make_product(make_exhibitor(name="Other Co"))
    draft = make_product(room.exhibitor, published=False, sku="DRAFT-1")

    with pytest.raises(ValidationError) as foreign_error:
        make_quote(owner, room, product=foreign.pk)
    with pytest.raises(ValidationError) as draft_error:
        make_quote(room.buyer, room, product=draft.pk)
    staff_quote = make_quote(owner, room, product=draft.pk)

    assert "product" in foreign_error.value.message_dict
    assert "product" in draft_error.value.message_dict
    assert staff_quote.product_id == draft.pk
    assert Quote.objects.count() == 1


def test_quote_send_is_idempotent_on_client_id(room, owner):
    cid = client_id()

    first, created = services.quote_send(
        user=owner, negotiation_id=room.pk, client_id=cid, data=quote_data()
    )
    again, created_again = services.quote_send(
        user=owner, negotiation_id=room.pk, client_id=cid, data=quote_data(quantity=9)
    )

    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert Quote.objects.get().quantity == Decimal("500.000")


def test_counter_offer_supersedes_the_previous_version(room, owner):
    first = make_quote(owner, room)

    counter = make_quote(room.buyer, room, previous=first, unit_price=Decimal("175"))
    revision = make_quote(owner, room, previous=counter, unit_price=Decimal("178"))

    first.refresh_from_db()
    counter.refresh_from_db()
    assert (first.status, first.decided_by_id) == ("superseded", room.buyer_id)
    assert (counter.status, counter.version, counter.previous_id) == ("superseded", 2, first.pk)
    assert (revision.status, revision.version, revision.previous_id) == ("open", 3, counter.pk)
    assert list(room.messages.filter(kind="quote").values_list("seq", flat=True)) == [2, 3, 4]


@pytest.mark.parametrize("status", ["superseded", "declined", "expired", "accepted"])
def test_counter_of_a_closed_quote_refused(room, owner, status):
    quote = make_quote(owner, room)
    Quote.objects.filter(pk=quote.pk).update(status=status)

    with pytest.raises(ApplicationError) as error:
        make_quote(room.buyer, room, previous=quote)

    assert error.value.code == "quote_not_open"
    assert Quote.objects.count() == 1


def test_counter_of_a_quote_of_another_room_not_found(room, owner):
    other_room = make_room(exhibitor=room.exhibitor)
    foreign = make_quote(owner, other_room)

    with pytest.raises(NotFound):
        make_quote(room.buyer, room, previous=foreign)

    foreign.refresh_from_db()
    assert foreign.status == "open"


def test_accept_creates_purchase_intent_and_agrees_the_room(room, owner):
    quote = make_quote(owner, room, quantity=Decimal("1200"), unit_price=Decimal("0.355"))

    intent = services.quote_accept(user=room.buyer, quote_id=quote.pk)

    quote.refresh_from_db()
    room.refresh_from_db()
    assert (intent.total, intent.currency, intent.accepted_by_id) == (
        Decimal("426.00"),
        "USD",
        room.buyer_id,
    )
    assert (intent.quote_id, intent.negotiation_id) == (quote.pk, room.pk)
    assert (quote.status, quote.decided_by_id) == ("accepted", room.buyer_id)
    assert room.status == "agreed"
    system = room.messages.order_by("-seq").first()
    assert (system.kind, system.event) == ("system", "quote_accepted")
    assert system.text == "Quote 1 accepted: purchase intent of 426.00 USD."


def test_accept_by_any_staff_of_a_buyer_quote(room):
    sales = add_member(room.exhibitor, "sales")
    quote = make_quote(room.buyer, room)

    intent = services.quote_accept(user=sales, quote_id=quote.pk)

    assert intent.accepted_by_id == sales.pk


def test_accept_own_sides_quote_refused(room, owner):
    admin = add_member(room.exhibitor, "admin")
    staff_quote = make_quote(owner, room)
    buyer_quote = make_quote(room.buyer, room)

    with pytest.raises(ApplicationError) as own:
        services.quote_accept(user=owner, quote_id=staff_quote.pk)
    with pytest.raises(ApplicationError) as colleague:
        services.quote_accept(user=admin, quote_id=staff_quote.pk)
    with pytest.raises(ApplicationError) as buyer_own:
        services.quote_accept(user=room.buyer, quote_id=buyer_quote.pk)

    assert {own.value.code, colleague.value.code, buyer_own.value.code} == {"own_quote"}
    assert PurchaseIntent.objects.count() == 0
    assert set(Quote.objects.values_list("status", flat=True)) == {"open"}


@pytest.mark.parametrize("status", ["superseded", "declined", "expired", "accepted"])
def test_accept_quote_not_open_refused(room, owner, status):
    quote = make_quote(owner, room)
    Quote.objects.filter(pk=quote.pk).update(status=status)

    with pytest.raises(ApplicationError) as error:
        services.quote_accept(user=room.buyer, quote_id=quote.pk)

    assert error.value.code == "quote_not_open"
    assert PurchaseIntent.objects.count() == 0
    room.refresh_from_db()
    assert room.status == "open"


def test_accept_twice_gives_one_intent(room, owner):
    quote = make_quote(owner, room)
    services.quote_accept(user=room.buyer, quote_id=quote.pk)

    with pytest.raises(ApplicationError):
        services.quote_accept(user=room.buyer, quote_id=quote.pk)

    assert PurchaseIntent.objects.count() == 1


def test_accept_past_validity_refused_even_before_the_expiry_task(room, owner):
    quote = make_quote(owner, room)
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.now() - timedelta(seconds=1))

    with pytest.raises(ApplicationError) as error:
        services.quote_accept(user=room.buyer, quote_id=quote.pk)

    assert error.value.code == "quote_expired"
    assert PurchaseIntent.objects.count() == 0


def test_accept_superseded_version_refused_after_counter(room, owner):
    first = make_quote(owner, room)
    make_quote(room.buyer, room, previous=first)

    with pytest.raises(ApplicationError):
        services.quote_accept(user=room.buyer, quote_id=first.pk)

    assert PurchaseIntent.objects.count() == 0


@pytest.mark.parametrize("who", ["other_buyer", "other_staff", "organiser"])
def test_accept_or_decline_by_non_party_not_found(room, owner, who):
    quote = make_quote(owner, room)
    outsider = {
        "other_buyer": make_buyer,
        "other_staff": lambda: owner_of(make_exhibitor(name="Y")),
        "organiser": make_organiser,
    }[who]()

    with pytest.raises(NotFound):
        services.quote_accept(user=outsider, quote_id=quote.pk)
    with pytest.raises(NotFound):
        services.quote_decline(user=outsider, quote_id=quote.pk)
    with pytest.raises(NotFound):
        services.quote_accept(user=outsider, quote_id=999_999)

    quote.refresh_from_db()
    assert quote.status == "open"
    assert PurchaseIntent.objects.count() == 0


def test_decline_then_accept_refused(room, owner):
    quote = make_quote(owner, room)

    declined = services.quote_decline(user=room.buyer, quote_id=quote.pk)
    with pytest.raises(ApplicationError):
        services.quote_accept(user=room.buyer, quote_id=quote.pk)

    assert (declined.status, declined.decided_by_id) == ("declined", room.buyer_id)
    assert PurchaseIntent.objects.count() == 0
    assert room.messages.filter(event="quote_declined").count() == 1


def test_decline_own_quote_refused(room, owner):
    quote = make_quote(owner, room)

    with pytest.raises(ApplicationError) as error:
        services.quote_decline(user=owner, quote_id=quote.pk)

    assert error.value.code == "own_quote"


def test_accept_in_closed_room_refused(room, owner):
    quote = make_quote(owner, room)
    services.negotiation_close(user=owner, negotiation_id=room.pk)

    with pytest.raises(ApplicationError) as error:
        services.quote_accept(user=room.buyer, quote_id=quote.pk)

    assert error.value.code == "closed"
    assert PurchaseIntent.objects.count() == 0


def test_quotes_expire_closes_only_open_quotes_past_validity(room, owner):
    due = make_quote(owner, room)
    fresh = make_quote(owner, room)
    accepted = make_quote(owner, room)
    services.quote_accept(user=room.buyer, quote_id=accepted.pk)
    past = timezone.now() - timedelta(minutes=1)
    Quote.objects.filter(pk__in=[due.pk, accepted.pk]).update(valid_until=past)

    expired = quotes_expire()
    again = quotes_expire()

    assert (expired, again) == (1, 0)
    statuses = dict(Quote.objects.values_list("pk", "status"))
    assert statuses == {due.pk: "expired", fresh.pk: "open", accepted.pk: "accepted"}
    assert Message.objects.filter(negotiation=room, event="quote_expired").count() == 1
    with pytest.raises(ApplicationError):
        services.quote_accept(user=room.buyer, quote_id=due.pk)


def test_reopen_after_agreement_is_agreed_again(room, owner):
    quote = make_quote(owner, room)
    services.quote_accept(user=room.buyer, quote_id=quote.pk)
    services.negotiation_close(user=owner, negotiation_id=room.pk)

    services.negotiation_reopen(user=room.buyer, negotiation_id=room.pk)

    assert Negotiation.objects.get(pk=room.pk).status == "agreed"
