"""The negotiations REST API, the attachment download and the CSV exports: what parties get,
and that non-parties get the same bare 404 as for a missing object, with nothing changed and
nothing leaked (SECURITY A2, A4, A5, A6, D3, F10, H4)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from buyers.models import BuyerProfile
from negotiations import services
from negotiations.models import Message, Negotiation, PurchaseIntent, Quote
from tests.exhibitors.factories import make_exhibitor, make_product, pdf_bytes, upload
from tests.factories import make_buyer
from tests.negotiations.nego_factories import Cast, client_id, make_quote, make_room, send

pytestmark = pytest.mark.django_db

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64


@pytest.fixture
def cast():
    return Cast()


def as_user(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post_json(client: Client, url: str, data: dict | None = None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def assert_not_found_without_leak(response, *secrets: str) -> None:
    assert response.status_code == 404, response.status_code
    body = response.content.decode()
    assert json.loads(body) == {"detail": "Not found."}
    for secret in secrets:
        assert secret not in body


# --- Opening and lists ----------------------------------------------------------------------


def test_open_creates_then_reuses_the_room():
    exhibitor = make_exhibitor()
    product = make_product(exhibitor)
    client = as_user(make_buyer())
    url = reverse("api_nego_open")

    first = post_json(client, url, {"exhibitor": exhibitor.pk, "product": product.pk})
    again = post_json(client, url, {"exhibitor": exhibitor.pk})

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["created"] is True and again.json()["created"] is False
    room = first.json()["negotiation"]
    assert room["id"] == again.json()["negotiation"]["id"]
    assert room["exhibitor"] == {
        "id": exhibitor.pk,
        "name": exhibitor.display_name,
        "slug": exhibitor.slug,
    }
    assert (room["status"], room["last_seq"], room["unread"]) == ("open", 1, 1)


def test_open_refusals():
    exhibitor = make_exhibitor()
    suspended = make_exhibitor(name="Suspended Co")
    from exhibitors.models import Exhibitor

    Exhibitor.objects.filter(pk=suspended.pk).update(status="suspended")
    owner = exhibitor.members.get().user
    url = reverse("api_nego_open")

    anonymous = post_json(as_user(None), url, {"exhibitor": exhibitor.pk})
    own = post_json(as_user(owner), url, {"exhibitor": exhibitor.pk})
    gone = post_json(as_user(make_buyer()), url, {"exhibitor": suspended.pk})
    bad = post_json(as_user(make_buyer()), url, {"exhibitor": "x"})

    assert anonymous.status_code == 403
    assert (own.status_code, own.json()["code"]) == (400, "own_company")
    assert_not_found_without_leak(gone, "Suspended Co")
    assert bad.status_code == 400
    assert Negotiation.objects.count() == 0


def test_buyer_list_shows_only_own_rooms(cast):
    make_room(exhibitor=cast.other_exhibitor, buyer=cast.other_buyer)

    response = as_user(cast.buyer).get(reverse("api_nego_list"))

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [cast.room.pk]
    assert response.json()["results"][0]["unread"] == 1


@pytest.mark.parametrize("url_name", ["api_nego_list", "api_nego_inbox"])
def test_lists_have_flat_query_counts(cast, url_name):
    def queries() -> int:
        client = as_user(cast.buyer if url_name == "api_nego_list" else cast.sales)
        args = [] if url_name == "api_nego_list" else [cast.exhibitor.pk]
        with CaptureQueriesContext(connection) as context:
            assert client.get(reverse(url_name, args=args)).status_code == 200
        return len(context.captured_queries)

    one = queries()
    for _ in range(2):
        exhibitor = make_exhibitor(name="More Co")
        make_room(exhibitor=exhibitor, buyer=cast.buyer)
        make_room(exhibitor=cast.exhibitor)
    assert queries() == one


def test_inbox_for_staff_with_buyer_card_and_consent(cast):
    BuyerProfile.objects.filter(user=cast.buyer).update(share_contact_in_negotiations=True)
    quiet = make_room(exhibitor=cast.exhibitor)
    send(cast.buyer, cast.room, "Price?")

    response = as_user(cast.sales).get(
        reverse("api_nego_inbox", args=[cast.exhibitor.pk]), {"view": "awaiting_us"}
    )
    everything = as_user(cast.sales).get(reverse("api_nego_inbox", args=[cast.exhibitor.pk]))

    assert response.status_code == 200
    [line] = response.json()["results"]
    assert line["id"] == cast.room.pk
    assert line["buyer_card"] == {
        "id": cast.buyer.pk,
        "name": "Anne Buyer",
        "company": "Anne Imports",
        "country": "SA",
        "email": cast.buyer.email,
    }
    quiet_line = next(r for r in everything.json()["results"] if r["id"] == quiet.pk)
    assert quiet_line["buyer_card"]["email"] is None  # no consent: no contact details


@pytest.mark.parametrize("role", ["buyer", "other_buyer", "other_staff", "organiser"])
def test_inbox_refused_to_non_staff(cast, role):
    response = as_user(cast.role(role)).get(reverse("api_nego_inbox", args=[cast.exhibitor.pk]))

    assert_not_found_without_leak(response, "Anne", cast.exhibitor.display_name)


def test_unread_badge(cast):
    send(cast.buyer, cast.room, "Hello")

    assert as_user(cast.owner).get(reverse("api_nego_unread")).json() == {"rooms": 1}
    assert as_user(cast.other_buyer).get(reverse("api_nego_unread")).json() == {"rooms": 0}


# --- A room ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "side"), [("buyer", "buyer"), ("sales", "exhibitor")])
def test_detail_for_parties(cast, role, side):
    response = as_user(cast.role(role)).get(reverse("api_nego_detail", args=[cast.room.pk]))

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["side"], body["role"]) == (
        cast.room.pk,
        side,
        "" if role == "buyer" else "sales",
    )
    assert body["reply_time_minutes"] is None


@pytest.mark.parametrize("role", ["other_buyer", "other_staff", "organiser"])
def test_every_room_door_answers_bare_404_to_non_parties(cast, role):
    send(cast.buyer, cast.room, "Our target price is 150")
    quote = make_quote(cast.owner, cast.room)
    client = as_user(cast.role(role))
    room = cast.room.pk
    secrets = ("Anne", "150", cast.exhibitor.display_name, "55-inch")
    before = (Message.objects.count(), Quote.objects.get(pk=quote.pk).status)

    for response in (
        client.get(reverse("api_nego_detail", args=[room])),
        client.get(reverse("api_nego_messages", args=[room])),
        client.get(reverse("api_nego_quote_list", args=[room])),
        post_json(
            client,
            reverse("api_nego_message_send", args=[room]),
            {"client_id": client_id(), "body": "x"},
        ),
        post_json(client, reverse("api_nego_read", args=[room]), {"seq": 1}),
        post_json(client, reverse("api_nego_assign", args=[room]), {"assignee": None}),
        post_json(client, reverse("api_nego_close", args=[room])),
        post_json(client, reverse("api_nego_reopen", args=[room])),
        post_json(client, reverse("api_nego_quote_accept", args=[quote.pk])),
        post_json(client, reverse("api_nego_quote_decline", args=[quote.pk])),
        post_json(
            client,
            reverse("api_nego_quote_send", args=[room]),
            {"client_id": client_id(), "quantity": "1", "unit": "pc", "unit_price": "1"},
        ),
        client.post(
            reverse("api_nego_attachment_send", args=[room]),
            {"client_id": client_id(), "file": upload("specs.pdf", pdf_bytes())},
        ),
    ):
        assert_not_found_without_leak(response, *secrets)

    assert (Message.objects.count(), Quote.objects.get(pk=quote.pk).status) == before
    assert Negotiation.objects.get(pk=room).status == "open"
    assert PurchaseIntent.objects.count() == 0


def test_missing_room_answers_the_same_404(cast):
    response = as_user(cast.buyer).get(reverse("api_nego_detail", args=[cast.room.pk + 999]))

    assert_not_found_without_leak(response)


def test_history_backwards_and_resume(cast):
    for i in range(5):
        send(cast.owner, cast.room, f"m{i}")
    client = as_user(cast.buyer)
    url = reverse("api_nego_messages", args=[cast.room.pk])

    newest = client.get(url, {"limit": 2}).json()
    older = client.get(url, {"before": newest["messages"][0]["seq"], "limit": 2}).json()
    missed = client.get(url, {"after": 4}).json()
    both = client.get(url, {"before": 3, "after": 1})

    assert ([m["seq"] for m in newest["messages"]], newest["more_before"]) == ([5, 6], True)
    assert ([m["seq"] for m in older["messages"]], older["more_before"]) == ([3, 4], True)
    assert ([m["body"] for m in missed["messages"]], missed["complete"]) == (["m3", "m4"], True)
    assert both.status_code == 400


def test_send_is_idempotent_and_ignores_fields_it_does_not_name(cast):
    url = reverse("api_nego_message_send", args=[cast.room.pk])
    cid = client_id()
    payload = {
        "client_id": cid,
        "body": "Hello",
        "side": "exhibitor",
        "author": cast.owner.pk,
        "seq": 99,
        "negotiation": 12345,
        "kind": "system",
    }

    first = post_json(as_user(cast.buyer), url, payload)
    again = post_json(as_user(cast.buyer), url, {**payload, "body": "Changed"})

    assert (first.status_code, again.status_code) == (201, 200)
    message = first.json()["message"]
    assert (message["seq"], message["side"], message["kind"], message["author"]["id"]) == (
        2,
        "buyer",
        "text",
        cast.buyer.pk,
    )
    assert again.json()["message"] == message
    assert Message.objects.filter(negotiation=cast.room).count() == 2


def test_send_requires_csrf_token_for_session_callers(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.buyer)

    response = post_json(
        client,
        reverse("api_nego_message_send", args=[cast.room.pk]),
        {"client_id": client_id(), "body": "x"},
    )

    assert response.status_code == 403
    assert Message.objects.filter(negotiation=cast.room).count() == 1


# --- Attachments and downloads --------------------------------------------------------------


def _attach(cast, name="Specs sheet.pdf", content=None):
    return cast.buyer, as_user(cast.buyer).post(
        reverse("api_nego_attachment_send", args=[cast.room.pk]),
        {"client_id": client_id(), "file": upload(name, content or pdf_bytes()), "caption": "v2"},
    )


def test_attachment_upload_and_download_by_parties(cast):
    _buyer, response = _attach(cast)

    assert response.status_code == 201
    attachment = response.json()["message"]["attachment"]
    assert (attachment["name"], attachment["content_type"]) == (
        "Specs sheet.pdf",
        "application/pdf",
    )
    assert attachment["url"] == reverse("negotiations:attachment_download", args=[attachment["id"]])
    for user in (cast.buyer, cast.sales):
        download = as_user(user).get(attachment["url"])
        assert download.status_code == 200
        assert download["Content-Type"] == "application/pdf"
        assert download["Content-Disposition"].startswith('attachment; filename="Specs sheet.pdf"')
        assert download["X-Content-Type-Options"] == "nosniff"
        assert download["Cache-Control"] == "private, no-store"
        assert download.content == pdf_bytes()


def test_disguised_executable_upload_refused_under_file(cast):
    _buyer, response = _attach(cast, "specs.pdf", ELF)

    assert response.status_code == 400
    assert response.json() == {"file": ["This file is not a PDF document."]}
    assert Message.objects.filter(kind="attachment").count() == 0


@pytest.mark.parametrize("role", ["other_buyer", "other_staff", "organiser"])
def test_download_refused_to_non_parties_without_the_file_name(cast, role):
    _buyer, response = _attach(cast, "Secret plan.pdf")
    url = response.json()["message"]["attachment"]["url"]

    refused = as_user(cast.role(role)).get(url)
    anonymous = as_user(None).get(url)

    assert refused.status_code == 404
    assert b"Secret" not in refused.content and b"%PDF" not in refused.content
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))


# --- Quotes ---------------------------------------------------------------------------------


def test_quote_send_counter_accept_through_the_api(cast):
    valid_until = (timezone.now() + timedelta(days=5)).isoformat()
    terms = {
        "quantity": "500",
        "unit": "pieces",
        "unit_price": "182.50",
        "currency": "USD",
        "incoterm": "FOB",
        "port": "Shenzhen",
        "valid_until": valid_until,
        "product_text": "TV",
        "status": "accepted",  # not a field callers set
    }
    quote_url = reverse("api_nego_quote_send", args=[cast.room.pk])

    offer = post_json(as_user(cast.owner), quote_url, {"client_id": client_id(), **terms})
    offer_id = offer.json()["message"]["quote"]["id"]
    counter = post_json(
        as_user(cast.buyer),
        quote_url,
        {"client_id": client_id(), **terms, "unit_price": "175", "previous": offer_id},
    )
    counter_id = counter.json()["message"]["quote"]["id"]
    own = post_json(as_user(cast.buyer), reverse("api_nego_quote_accept", args=[counter_id]))
    accepted = post_json(as_user(cast.admin), reverse("api_nego_quote_accept", args=[counter_id]))
    listed = as_user(cast.buyer).get(reverse("api_nego_quote_list", args=[cast.room.pk])).json()

    assert (offer.status_code, counter.status_code) == (201, 201)
    assert offer.json()["message"]["quote"]["status"] == "open"
    assert (own.status_code, own.json()["code"]) == (400, "own_quote")
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["intent"]["total"] == "87500.00"
    assert [(q["id"], q["status"], q["version"]) for q in listed] == [
        (offer_id, "superseded", 1),
        (counter_id, "accepted", 2),
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"currency": "XYZ"}, "currency"),
        ({"valid_until": "past"}, "valid_until"),
        ({"product": 999_999}, "product"),
    ],
)
def test_quote_send_validation_errors_are_400_by_field(cast, overrides, field):
    data = {
        "client_id": client_id(),
        "quantity": "10",
        "unit": "pcs",
        "unit_price": "1",
        "currency": "USD",
        "incoterm": "FOB",
        "product_text": "TV",
        "valid_until": (timezone.now() + timedelta(days=1)).isoformat(),
        **overrides,
    }
    if data["valid_until"] == "past":
        data["valid_until"] = (timezone.now() - timedelta(days=1)).isoformat()

    response = post_json(
        as_user(cast.owner), reverse("api_nego_quote_send", args=[cast.room.pk]), data
    )

    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert Quote.objects.count() == 0


def test_read_assign_close_reopen_through_the_api(cast):
    send(cast.buyer, cast.room, "Hello")

    read = post_json(as_user(cast.sales), reverse("api_nego_read", args=[cast.room.pk]), {"seq": 2})
    sales_assign = post_json(
        as_user(cast.sales),
        reverse("api_nego_assign", args=[cast.room.pk]),
        {"assignee": cast.sales.pk},
    )
    assign = post_json(
        as_user(cast.admin),
        reverse("api_nego_assign", args=[cast.room.pk]),
        {"assignee": cast.sales.pk},
    )
    close = post_json(as_user(cast.buyer), reverse("api_nego_close", args=[cast.room.pk]))
    reopen = post_json(as_user(cast.owner), reverse("api_nego_reopen", args=[cast.room.pk]))

    assert read.json() == {"seq": 2}
    assert sales_assign.status_code == 403
    assert assign.json()["assigned_to"] == {"id": cast.sales.pk, "name": "Sam Sales"}
    assert (close.json()["status"], reopen.json()["status"]) == ("closed", "open")


def test_figures_for_organisers_only(cast):
    ok = as_user(cast.organiser).get(reverse("api_nego_figures"))

    assert ok.status_code == 200
    assert ok.json()["rooms"]["total"] == 1
    for role in ("buyer", "owner", "other_staff"):
        assert as_user(cast.role(role)).get(reverse("api_nego_figures")).status_code == 403


def test_api_schema_documents_the_negotiation_paths():
    schema = Client().get(reverse("api_schema"), {"format": "json"}).json()

    paths = [p for p in schema["paths"] if p.startswith("/api/v1/negotiations/")]
    assert len(paths) == 17


# --- Exports --------------------------------------------------------------------------------


def _rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_transcript_csv_for_parties_with_quotes_and_formula_escaping(cast):
    send(cast.buyer, cast.room, '=HYPERLINK("http://evil")')
    quote = make_quote(cast.owner, cast.room)
    services.quote_accept(user=cast.buyer, quote_id=quote.pk)

    response = as_user(cast.sales).get(reverse("negotiations:transcript_csv", args=[cast.room.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="negotiation-{cast.room.pk}-transcript.csv"'
    )
    rows = _rows(response)
    assert rows[0][:6] == ["seq", "sent_at_utc", "side", "author", "kind", "text"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    assert rows[2][5] == '\'=HYPERLINK("http://evil")'
    quote_row = rows[3]
    assert (quote_row[4], quote_row[7], quote_row[8], quote_row[20], quote_row[21]) == (
        "quote",
        "1",
        "accepted",
        "91250.00",
        "91250.00 USD",
    )
    assert rows[4][5] == "Quote 1 accepted: purchase intent of 91250.00 USD."


@pytest.mark.parametrize("role", ["other_buyer", "other_staff", "organiser"])
def test_transcript_refused_to_non_parties(cast, role):
    send(cast.buyer, cast.room, "Secret target price")

    response = as_user(cast.role(role)).get(
        reverse("negotiations:transcript_csv", args=[cast.room.pk])
    )

    assert response.status_code == 404
    assert b"Secret" not in response.content


def test_leads_csv_with_contact_only_where_consented(cast):
    consenting = make_buyer(full_name="Carla Consent", company="Open Co")
    BuyerProfile.objects.filter(user=consenting).update(share_contact_in_negotiations=True)
    consented_room = make_room(exhibitor=cast.exhibitor, buyer=consenting)
    quote = make_quote(cast.owner, consented_room)
    services.quote_accept(user=consenting, quote_id=quote.pk)
    make_room(exhibitor=cast.other_exhibitor, buyer=cast.other_buyer)  # another company's

    response = as_user(cast.sales).get(reverse("negotiations:leads_csv", args=[cast.exhibitor.pk]))

    assert response.status_code == 200
    rows = _rows(response)
    assert rows[0][:6] == ["buyer", "company", "country", "buyer_type", "email", "room_status"]
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"Anne Buyer", "Carla Consent"}
    assert by_name["Carla Consent"][4] == consenting.email
    assert by_name["Carla Consent"][5] == "agreed"
    assert by_name["Carla Consent"][8:14] == [
        "55-inch 4K Smart TV",
        "500.000",
        "pieces",
        "182.5000",
        "USD",
        "accepted",
    ]
    assert by_name["Carla Consent"][14] == "91250.00 USD"
    assert by_name["Anne Buyer"][4] == ""
    assert cast.buyer.email not in response.content.decode()


@pytest.mark.parametrize("role", ["buyer", "other_staff", "organiser"])
def test_leads_refused_to_everyone_but_the_staff(cast, role):
    response = as_user(cast.role(role)).get(
        reverse("negotiations:leads_csv", args=[cast.exhibitor.pk])
    )

    assert response.status_code == 404
    assert b"Anne Imports" not in response.content


def test_settings_keep_private_files_off_public_urls():
    assert settings.STORAGES["private"]["OPTIONS"]["location"] != str(settings.MEDIA_ROOT)
