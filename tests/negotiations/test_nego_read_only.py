"""A suspended exhibitor's negotiations (issue 7): readable for the buyer and the staff, but
read-only. Nobody sends messages, files or quotes, accepts, declines or reopens there; every
door answers ``read_only``; the room page shows a notice instead of the composer; reinstating
the exhibitor makes the rooms writable again, with sequence numbers going on without a gap."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from exhibitors import services as exhibitor_services
from fair.exceptions import ApplicationError
from negotiations import selectors, services
from negotiations.models import Message, Negotiation, Quote
from tests.exhibitors.factories import owner_of, pdf_bytes, upload
from tests.factories import make_organiser
from tests.negotiations.nego_factories import Cast, client_id, make_quote, quote_data, send

pytestmark = pytest.mark.django_db

READ_ONLY_TEXT = "This exhibitor is suspended; the conversation is read-only."


@pytest.fixture
def cast():
    return Cast()


def suspend(cast: Cast) -> None:
    exhibitor_services.exhibitor_suspend(
        actor=make_organiser(), exhibitor_id=cast.exhibitor.pk, reason="Fake certificates"
    )


def reinstate(cast: Cast) -> None:
    exhibitor_services.exhibitor_reinstate(actor=make_organiser(), exhibitor_id=cast.exhibitor.pk)


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def room_state(room: Negotiation) -> tuple:
    room.refresh_from_db()
    return (
        room.status,
        room.last_seq,
        room.buyer_last_read_seq,
        room.exhibitor_last_read_seq,
        room.last_speaker,
        room.messages.count(),
    )


def assert_read_only(error) -> None:
    assert (error.value.code, error.value.message) == ("read_only", READ_ONLY_TEXT)


@pytest.mark.parametrize("role", ["buyer", "owner", "sales"])
def test_suspended_room_refuses_messages_files_and_quotes_of_every_party(cast, role, settings):
    settings.NEGO_MESSAGES_PER_MINUTE = 2
    user = cast.role(role)
    suspend(cast)
    before = room_state(cast.room)

    with pytest.raises(ApplicationError) as text:
        send(user, cast.room, "Still there?")
    with pytest.raises(ApplicationError) as quote:
        services.quote_send(
            user=user, negotiation_id=cast.room.pk, client_id=client_id(), data=quote_data()
        )
    with pytest.raises(ApplicationError) as attachment:
        services.attachment_send(
            user=user,
            negotiation_id=cast.room.pk,
            client_id=client_id(),
            upload=upload("offer.pdf", pdf_bytes(), "application/pdf"),
        )
    # Refusals do not count against the rate limit (two allowed per minute here).
    for _ in range(3):
        with pytest.raises(ApplicationError) as again:
            send(user, cast.room, "Hello?")
        assert_read_only(again)

    for error in (text, quote, attachment):
        assert_read_only(error)
    assert room_state(cast.room) == before
    assert Quote.objects.filter(negotiation=cast.room).count() == 0


@pytest.mark.parametrize("decision", ["accept", "decline"])
def test_suspended_room_refuses_deciding_an_open_quote(cast, decision):
    quote = make_quote(cast.owner, cast.room)
    suspend(cast)
    before = room_state(cast.room)

    with pytest.raises(ApplicationError) as error:
        getattr(services, f"quote_{decision}")(user=cast.buyer, quote_id=quote.pk)

    assert_read_only(error)
    quote.refresh_from_db()
    assert (quote.status, quote.decided_by_id) == ("open", None)
    assert room_state(cast.room) == before


def test_suspended_room_cannot_be_reopened(cast):
    services.negotiation_close(user=cast.buyer, negotiation_id=cast.room.pk)
    suspend(cast)

    with pytest.raises(ApplicationError) as error:
        services.negotiation_reopen(user=cast.buyer, negotiation_id=cast.room.pk)

    assert_read_only(error)
    cast.room.refresh_from_db()
    assert cast.room.status == "closed"


def test_suspended_room_stays_readable_for_the_buyer_and_the_staff(cast):
    send(cast.buyer, cast.room, "Our target price is 171.20")
    suspend(cast)

    for user in (cast.buyer, cast.owner, cast.sales):
        room, _party = selectors.negotiation_for_party(user=user, negotiation_id=cast.room.pk)
        messages, _more = selectors.messages_before(negotiation=room)
        assert [m.body for m in messages if m.kind == "text"] == ["Our target price is 171.20"]
    # Reading moves the read marker as before.
    assert services.negotiation_mark_read(user=cast.owner, negotiation_id=cast.room.pk, seq=2) == 2


def test_retry_of_a_message_stored_before_the_suspension_still_gets_its_ack(cast):
    cid = client_id()
    first, _created = services.message_send(
        user=cast.buyer, negotiation_id=cast.room.pk, client_id=cid, body="Hello"
    )
    suspend(cast)

    again, created = services.message_send(
        user=cast.buyer, negotiation_id=cast.room.pk, client_id=cid, body="Hello"
    )

    assert (again.pk, again.seq, created) == (first.pk, first.seq, False)


def test_reinstating_the_exhibitor_restores_sending_without_a_gap(cast):
    send(cast.buyer, cast.room, "Before")
    suspend(cast)
    with pytest.raises(ApplicationError):
        send(cast.owner, cast.room, "During")
    reinstate(cast)

    reply = send(cast.owner, cast.room, "After")

    assert reply.seq == 3
    assert list(cast.room.messages.order_by("seq").values_list("seq", "body")) == [
        (1, ""),
        (2, "Before"),
        (3, "After"),
    ]


def test_api_answers_read_only_and_stores_nothing(cast):
    quote = make_quote(cast.owner, cast.room)
    suspend(cast)
    buyer = as_user(cast.buyer)
    before = room_state(cast.room)

    text = buyer.post(
        reverse("api_nego_message_send", args=[cast.room.pk]),
        json.dumps({"client_id": client_id(), "body": "Hi"}),
        content_type="application/json",
    )
    accept = buyer.post(reverse("api_nego_quote_accept", args=[quote.pk]))
    listed = buyer.get(reverse("api_nego_messages", args=[cast.room.pk]))

    assert (text.status_code, text.json()) == (400, {"detail": READ_ONLY_TEXT, "code": "read_only"})
    assert (accept.status_code, accept.json()["code"]) == (400, "read_only")
    assert listed.status_code == 200
    assert [m["kind"] for m in listed.json()["messages"]] == ["system", "quote"]
    assert room_state(cast.room) == before


@pytest.mark.parametrize("role", ["buyer", "owner"])
def test_room_page_of_suspended_exhibitor_shows_notice_instead_of_composer(cast, role):
    send(cast.buyer, cast.room, "Our target price is 171.20")
    suspend(cast)

    response = as_user(cast.role(role)).get(reverse("negotiations:room", args=[cast.room.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-read-only="1"' in body
    assert "Our target price is 171.20" in body  # the history is there
    note = body[body.index("data-nego-read-only-note") :]
    assert note[: note.index(">")].endswith('data-testid="read-only-note"')  # not hidden
    assert "the conversation is read-only" in note[: note.index("</p>")]
    assert "data-nego-compose hidden>" in body
    assert "data-nego-quote-box hidden>" in body


def test_room_page_after_reinstating_has_the_composer_again(cast):
    suspend(cast)
    reinstate(cast)

    body = as_user(cast.buyer).get(reverse("negotiations:room", args=[cast.room.pk])).content
    body = body.decode()

    assert 'data-read-only="0"' in body
    assert 'data-testid="read-only-note" hidden>' in body
    assert '<form class="nego-compose" data-nego-compose>' in body


def test_message_text_of_staff_reply_keeps_first_reply_figures_after_reinstating(cast):
    send(cast.buyer, cast.room, "Hello")
    suspend(cast)
    reinstate(cast)

    send(owner_of(cast.exhibitor), cast.room, "Hi")

    cast.room.refresh_from_db()
    assert cast.room.first_reply_seconds is not None
    assert cast.room.last_speaker == "exhibitor"
    assert Message.objects.filter(negotiation=cast.room, kind="text").count() == 2
