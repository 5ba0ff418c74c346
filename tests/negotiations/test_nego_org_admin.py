"""The Django admin shows rooms, quotes and purchase intents, read-only, with search and
filters, but never a message's contents or an attachment (issue 6 item 8, issue 7 item 8):
not to organisers, not to a superuser."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from negotiations import services
from negotiations.models import Attachment, Message, Negotiation, PurchaseIntent, Quote
from tests.exhibitors.factories import pdf_bytes, upload
from tests.factories import make_buyer, make_user
from tests.negotiations.nego_factories import Cast, client_id, make_quote, send

SECRET = "Our floor price is 4711 per unit"
FILE_NAME = "confidential-price-list.pdf"
PAYMENT_TERMS = "Letter of credit 90 days secret"


@pytest.fixture
def cast(db, django_capture_on_commit_callbacks):
    cast = Cast()
    with django_capture_on_commit_callbacks(execute=True):
        send(cast.buyer, cast.room, SECRET)
        services.attachment_send(
            user=cast.buyer,
            negotiation_id=cast.room.pk,
            client_id=client_id(),
            upload=upload(FILE_NAME, pdf_bytes()),
        )
        quote = make_quote(cast.owner, cast.room, payment_terms=PAYMENT_TERMS)
        services.quote_accept(user=cast.buyer, quote_id=quote.pk)
    cast.quote = quote
    cast.intent = PurchaseIntent.objects.get(quote=quote)
    return cast


def _superuser():
    return make_user(is_staff=True, is_superuser=True)


def _admin_pages(cast) -> list[str]:
    return [
        reverse("admin:negotiations_negotiation_changelist"),
        reverse("admin:negotiations_negotiation_change", args=[cast.room.pk]),
        reverse("admin:negotiations_quote_changelist"),
        reverse("admin:negotiations_quote_change", args=[cast.quote.pk]),
        reverse("admin:negotiations_purchaseintent_changelist"),
        reverse("admin:negotiations_purchaseintent_change", args=[cast.intent.pk]),
        reverse("admin:index"),
        reverse("admin:app_list", args=["negotiations"]),
    ]


def test_admin_registers_rooms_quotes_intents_but_never_messages_or_attachments():
    registered = set(admin.site._registry)

    assert {Negotiation, Quote, PurchaseIntent} <= registered
    assert registered.isdisjoint({Message, Attachment})
    for model in (Negotiation, Quote, PurchaseIntent):
        model_admin = admin.site._registry[model]
        assert not model_admin.inlines
        assert "body" not in (model_admin.fields or [])


@pytest.mark.parametrize("who", ["superuser", "organiser"])
def test_admin_pages_show_no_message_text_and_no_attachment_name(client, cast, who):
    client.force_login(_superuser() if who == "superuser" else cast.organiser)

    for url in _admin_pages(cast):
        response = client.get(url)

        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in (SECRET, FILE_NAME, "confidential-price-list", PAYMENT_TERMS):
            assert secret not in body, (url, secret)
        assert "/negotiations/attachments/" not in body, url


def test_admin_room_page_shows_the_rooms_figures(client, cast):
    client.force_login(_superuser())

    body = client.get(
        reverse("admin:negotiations_negotiation_change", args=[cast.room.pk])
    ).content.decode()

    assert cast.exhibitor.display_name in body
    assert cast.buyer.email in body
    assert "Agreed" in body  # the accepted quote agreed the room


def test_admin_is_read_only_even_for_a_superuser(client, cast):
    client.force_login(_superuser())

    add = client.get(reverse("admin:negotiations_negotiation_add"))
    post = client.post(
        reverse("admin:negotiations_negotiation_change", args=[cast.room.pk]),
        {"status": "closed"},
    )
    delete = client.post(
        reverse("admin:negotiations_negotiation_delete", args=[cast.room.pk]), {"post": "yes"}
    )
    quote_delete = client.post(
        reverse("admin:negotiations_quote_delete", args=[cast.quote.pk]), {"post": "yes"}
    )

    assert add.status_code == 403
    assert post.status_code == 403
    assert delete.status_code == 403
    assert quote_delete.status_code == 403
    room = Negotiation.objects.get(pk=cast.room.pk)
    assert room.status == "agreed"
    assert Quote.objects.filter(pk=cast.quote.pk).exists()
    assert Message.objects.filter(negotiation=room).count() == room.last_seq


def test_admin_search_and_filters_find_rooms_by_company_buyer_and_status(client, cast):
    other_room = services.negotiation_open(buyer=make_buyer(), exhibitor_id=cast.exhibitor.pk)[0]
    client.force_login(cast.organiser)
    changelist = reverse("admin:negotiations_negotiation_changelist")

    by_email = client.get(changelist, {"q": cast.buyer.email}).context["cl"]
    by_status = client.get(changelist, {"status__exact": "open"}).context["cl"]
    by_id = client.get(changelist, {"q": str(other_room.pk)}).context["cl"]
    by_text = client.get(changelist, {"q": "not-a-number"})

    assert [room.pk for room in by_email.result_list] == [cast.room.pk]
    assert [room.pk for room in by_status.result_list] == [other_room.pk]
    assert other_room.pk in [room.pk for room in by_id.result_list]
    assert by_text.status_code == 200


def test_admin_quotes_filter_by_currency_and_status(client, cast):
    make_quote(cast.owner, cast.room, currency="EUR")
    client.force_login(cast.organiser)
    changelist = reverse("admin:negotiations_quote_changelist")

    eur = client.get(changelist, {"currency": "EUR"}).context["cl"]
    accepted = client.get(changelist, {"status__exact": "accepted"}).context["cl"]

    assert [q.currency for q in eur.result_list] == ["EUR"]
    assert [q.pk for q in accepted.result_list] == [cast.quote.pk]


@pytest.mark.parametrize("role", ["buyer", "owner", "other_staff"])
def test_admin_is_closed_to_buyers_and_exhibitor_staff(client, cast, role):
    client.force_login(cast.role(role))

    response = client.get(reverse("admin:negotiations_negotiation_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
