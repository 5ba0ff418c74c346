"""The negotiation pages (negotiations.pages): the "One-to-one negotiation" button on the stream
room, booth and product pages, the start page (log in and come back), the room page and its
plain-form actions, the buyer's list and the exhibitor's shared inbox, and the navigation
badge. Privacy: every non-party gets the same 404 as for a room that does not exist."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.contrib.messages import get_messages
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from exhibitors import services as exhibitor_services
from exhibitors.models import Exhibitor
from livestream import services as live_services
from livestream.models import LiveSession
from negotiations import services
from negotiations.models import Message, Negotiation
from tests.exhibitors.factories import add_member, make_exhibitor, make_product, owner_of
from tests.exhibitors.factories_partc import section
from tests.factories import make_buyer, make_organiser, make_user
from tests.negotiations.nego_factories import Cast, make_quote, make_room, send

pytestmark = pytest.mark.django_db

BUTTON = 'data-testid="negotiate-button"'
SECRET = "Our target price is 171.20 per piece"


@pytest.fixture
def cast():
    return Cast()


def _login(client, user):
    if user is not None:
        client.force_login(user)
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _initial(response) -> dict:
    match = re.search(
        r'<script id="nego-initial" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the room page carries its history as JSON"
    return json.loads(match.group(1))


def _without_tokens(body: bytes) -> str:
    """A page with what differs on every answer blanked: CSRF tokens, the current path in the
    language form, the footer's clock."""
    text = body.decode()
    text = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', text)
    text = re.sub(r'name="next" value="[^"]+"', 'name="next"', text)
    text = re.sub(r'<time datetime="[^"]+">', "<time>", text)  # the footer's "now"
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken"', text)


def _publish_booth(exhibitor) -> None:
    owner = owner_of(exhibitor)
    exhibitor_services.booth_update(
        user=owner, exhibitor_id=exhibitor.pk, data={"tagline": "Lights", "section": section()}
    )
    exhibitor_services.booth_publish(user=owner, exhibitor_id=exhibitor.pk, published=True)


def _session(exhibitor, owner, *, products=(), pinned=None) -> LiveSession:
    start = timezone.now() + timedelta(hours=1)
    session = live_services.session_schedule(
        user=owner,
        exhibitor_id=exhibitor.pk,
        title="Lantern launch",
        start=start,
        end=start + timedelta(hours=1),
        featured_products=list(products),
    )
    if pinned is not None:
        live_services.session_pin_product(user=owner, session_id=session.pk, product_id=pinned.pk)
        session.refresh_from_db()
    return session


# --- The button ---------------------------------------------------------------------------------


def test_button_booth_anonymous_links_to_start_then_login_and_back(client):
    exhibitor = make_exhibitor(name="Harbour Lights")
    _publish_booth(exhibitor)
    start = reverse("negotiations:start", args=[exhibitor.pk])

    booth = client.get(reverse("exhibitors:booth", args=[exhibitor.slug])).content.decode()
    assert f'<a class="button nego-button-action" href="{start}" data-nego-start-link' in booth
    assert "You will be asked to log in as a buyer." in booth

    product = make_product(exhibitor)
    page = client.get(reverse("exhibitors:product", args=[product.pk])).content.decode()
    link = f"{start}?product={product.pk}"
    assert f'href="{link}"' in page

    # Following the link: log in first, then back to the same action.
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={quote(link, safe='/')}"
    client.force_login(make_buyer())
    confirm = client.get(link)
    body = confirm.content.decode()
    assert confirm.status_code == 200
    assert "One-to-one negotiation with Harbour Lights" in body
    assert f'<input type="hidden" name="product" value="{product.pk}">' in body
    assert "Start the negotiation" in body
    assert Negotiation.objects.count() == 0  # nothing happens on GET


def test_button_product_page_buyer_posts_straight_to_start_with_the_product(client):
    exhibitor = make_exhibitor()
    product = make_product(exhibitor)
    client.force_login(make_buyer())

    body = client.get(reverse("exhibitors:product", args=[product.pk])).content.decode()

    start = reverse("negotiations:start", args=[exhibitor.pk])
    assert f'<form method="post" action="{start}" class="nego-button-form">' in body
    assert f'<input type="hidden" name="product" value="{product.pk}" data-nego-product>' in body
    assert ">One-to-one negotiation<" in body
    assert "data-nego-start-link" not in body


@pytest.mark.parametrize("role", ["owner", "admin", "sales", "organiser"])
def test_button_hidden_for_the_exhibitors_staff_and_organisers(client, cast, role):
    _publish_booth(cast.exhibitor)
    product = make_product(cast.exhibitor)
    _login(client, cast.role(role))

    booth = client.get(reverse("exhibitors:booth", args=[cast.exhibitor.slug]))
    page = client.get(reverse("exhibitors:product", args=[product.pk]))

    assert booth.status_code == page.status_code == 200
    assert BUTTON not in booth.content.decode()
    assert BUTTON not in page.content.decode()


def test_button_shown_to_staff_of_another_exhibitor(client, cast):
    _publish_booth(cast.exhibitor)
    client.force_login(cast.other_staff)

    booth = client.get(reverse("exhibitors:booth", args=[cast.exhibitor.slug])).content.decode()

    assert BUTTON in booth


def test_button_stream_room_passes_session_and_pinned_product(client):
    exhibitor = make_exhibitor()
    owner = owner_of(exhibitor)
    lamp = make_product(exhibitor, name="Lamp", sku="LAMP-1")
    lantern = make_product(exhibitor, name="Lantern", sku="LANTERN-1")
    session = _session(exhibitor, owner, products=[lamp, lantern], pinned=lantern)
    client.force_login(make_buyer())

    body = client.get(reverse("livestream:room", args=[session.pk])).content.decode()

    assert f'<input type="hidden" name="session" value="{session.pk}">' in body
    assert f'name="product" value="{lantern.pk}" data-nego-product>' in body
    assert "negotiations/js/button.js" in body


def test_button_stream_room_hidden_for_the_exhibitors_staff(client):
    exhibitor = make_exhibitor()
    owner = owner_of(exhibitor)
    session = _session(exhibitor, owner)
    client.force_login(owner)

    body = client.get(reverse("livestream:room", args=[session.pk])).content.decode()

    assert BUTTON not in body


def test_button_not_rendered_for_an_exhibitor_that_is_not_approved():
    exhibitor = make_exhibitor(approved=False)
    request = RequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    template = Template("{% load negotiation_tags %}[{% negotiate_button exhibitor %}]")

    pending = template.render(Context({"request": request, "exhibitor": exhibitor}))
    Exhibitor.objects.filter(pk=exhibitor.pk).update(status=Exhibitor.Status.APPROVED)
    exhibitor.refresh_from_db()
    approved = template.render(Context({"request": request, "exhibitor": exhibitor}))

    assert re.sub(r"\s", "", pending) == "[]"
    assert BUTTON in approved


def test_button_existing_room_continues_with_its_unread_count(client, cast):
    _publish_booth(cast.exhibitor)
    send(cast.owner, cast.room, "Welcome")
    send(cast.owner, cast.room, "Here is our catalogue")
    client.force_login(cast.buyer)

    body = client.get(reverse("exhibitors:booth", args=[cast.exhibitor.slug])).content.decode()

    assert "Continue the negotiation" in body
    assert '<span class="badge nego-unread-badge">3<span class="visually-hidden"> unread' in body


# --- Starting -----------------------------------------------------------------------------------


def test_start_post_opens_the_room_with_its_context_and_goes_there(client):
    exhibitor = make_exhibitor(name="Harbour Lights")
    owner = owner_of(exhibitor)
    lantern = make_product(exhibitor, name="LED lantern")
    session = _session(exhibitor, owner, products=[lantern])
    buyer = make_buyer()
    client.force_login(buyer)

    response = client.post(
        reverse("negotiations:start", args=[exhibitor.pk]),
        {"session": session.pk, "product": lantern.pk, "next": "/"},
    )

    room = Negotiation.objects.get(buyer=buyer, exhibitor=exhibitor)
    assert response.status_code == 302
    assert response["Location"] == reverse("negotiations:room", args=[room.pk])
    assert (room.opened_from_session_id, room.opened_from_product_id) == (session.pk, lantern.pk)
    system = Message.objects.get(negotiation=room)
    assert system.text == "Asked from the live session “Lantern launch” about “LED lantern”."
    assert _messages(response) == [
        "Your negotiation with Harbour Lights is open. Only you and the company's staff can "
        "read it."
    ]

    # Pressing it again from the same place reuses the room and says nothing new.
    again = client.post(
        reverse("negotiations:start", args=[exhibitor.pk]),
        {"session": session.pk, "product": lantern.pk},
    )
    assert again["Location"] == reverse("negotiations:room", args=[room.pk])
    assert Negotiation.objects.filter(buyer=buyer).count() == 1
    assert Message.objects.filter(negotiation=room).count() == 1


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ("owner", "You cannot open a negotiation with your own company."),
        ("sales", "You cannot open a negotiation with your own company."),
        ("organiser", "Organisers cannot negotiate with exhibitors."),
        (
            "other_staff",
            "Only buyers can start a negotiation. Complete your buyer profile first.",
        ),
    ],
)
def test_start_post_refusals_come_back_in_plain_words(client, cast, role, message):
    booth = reverse("exhibitors:booth", args=[cast.exhibitor.slug])
    client.force_login(cast.role(role))
    before = Negotiation.objects.count()

    response = client.post(reverse("negotiations:start", args=[cast.exhibitor.pk]), {"next": booth})

    assert response.status_code == 302
    assert response["Location"] == booth
    assert _messages(response) == [message]
    assert Negotiation.objects.count() == before


def test_start_post_ignores_a_next_outside_the_site(client, cast):
    client.force_login(cast.owner)

    response = client.post(
        reverse("negotiations:start", args=[cast.exhibitor.pk]),
        {"next": "https://evil.example/phish"},
    )

    assert response["Location"] == reverse("exhibitors:booth", args=[cast.exhibitor.slug])


def test_start_get_explains_why_staff_cannot_start(client, cast):
    client.force_login(cast.sales)

    response = client.get(reverse("negotiations:start", args=[cast.exhibitor.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "buyers start negotiations with you" in body
    assert reverse("negotiations:exhibitor_inbox", args=[cast.exhibitor.pk]) in body
    assert "Start the negotiation" not in body


def test_start_get_with_an_existing_room_offers_to_continue(client, cast):
    client.force_login(cast.buyer)

    body = client.get(reverse("negotiations:start", args=[cast.exhibitor.pk])).content.decode()

    assert "You already have a negotiation with this exhibitor: you will continue it." in body
    assert ">Continue the negotiation<" in body


@pytest.mark.parametrize("method", ["get", "post"])
def test_start_exhibitor_not_approved_is_404_and_opens_nothing(client, method):
    pending = make_exhibitor(approved=False)
    client.force_login(make_buyer())

    response = getattr(client, method)(reverse("negotiations:start", args=[pending.pk]))

    assert response.status_code == 404
    assert Negotiation.objects.count() == 0


def test_start_ignores_a_product_of_another_exhibitor(client, cast):
    foreign = make_product(cast.other_exhibitor, name="Foreign widget")
    buyer = make_buyer()
    client.force_login(buyer)

    get = client.get(
        reverse("negotiations:start", args=[cast.exhibitor.pk]), {"product": foreign.pk}
    )
    post = client.post(
        reverse("negotiations:start", args=[cast.exhibitor.pk]), {"product": foreign.pk}
    )

    assert "Foreign widget" not in get.content.decode()
    room = Negotiation.objects.get(buyer=buyer)
    assert post["Location"] == reverse("negotiations:room", args=[room.pk])
    assert room.opened_from_product_id is None
    assert Message.objects.get(negotiation=room).text == "Negotiation opened."


# --- The room page ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["buyer", "owner", "admin", "sales"])
def test_room_page_parties_see_the_room(client, cast, role):
    send(cast.buyer, cast.room, SECRET)
    _login(client, cast.role(role))

    response = client.get(reverse("negotiations:room", args=[cast.room.pk]))

    assert response.status_code == 200
    bodies = [m["body"] for m in _initial(response)["messages"]]
    assert bodies == ["Negotiation opened.", SECRET]


@pytest.mark.parametrize("role", ["other_buyer", "other_staff", "organiser"])
def test_room_page_non_parties_get_exactly_the_missing_room_answer(client, cast, role):
    send(cast.buyer, cast.room, SECRET)
    _login(client, cast.role(role))

    response = client.get(reverse("negotiations:room", args=[cast.room.pk]))
    missing = client.get(reverse("negotiations:room", args=[cast.room.pk + 1000]))

    assert response.status_code == missing.status_code == 404
    assert _without_tokens(response.content) == _without_tokens(missing.content)
    body = response.content.decode()
    for secret in (SECRET, "Anne Buyer", "Anne Imports", cast.exhibitor.display_name):
        assert secret not in body


def test_room_page_anonymous_is_sent_to_log_in(client, cast):
    url = reverse("negotiations:room", args=[cast.room.pk])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_room_page_buyer_sees_the_exhibitor_and_its_reply_time(client, cast):
    for _ in range(3):
        other = make_room(exhibitor=cast.exhibitor)
        send(other.buyer, other, "Hello?")
        send(cast.owner, other, "Hello!")
    client.force_login(cast.buyer)

    response = client.get(reverse("negotiations:room", args=[cast.room.pk]))

    body = response.content.decode()
    assert f"Negotiation with {cast.exhibitor.display_name}" in body
    assert "Usually replies within 1 min" in body
    assert 'data-side="buyer"' in body
    assert 'data-testid="buyer-card"' not in body
    assert "Assigned to" not in body


@pytest.mark.parametrize(("consented", "shown"), [(True, True), (False, False)])
def test_room_page_staff_see_the_buyer_card_email_only_with_consent(client, consented, shown):
    exhibitor = make_exhibitor()
    buyer = make_buyer(
        full_name="Khalid Alsaud",
        company="Gulf Trading",
        country="SA",
        share_contact_in_negotiations=consented,
    )
    room = make_room(exhibitor=exhibitor, buyer=buyer)
    client.force_login(owner_of(exhibitor))

    body = client.get(reverse("negotiations:room", args=[room.pk])).content.decode()

    assert "Negotiation with Khalid Alsaud" in body
    assert "<dd>Gulf Trading</dd>" in body
    assert "<dd>Saudi Arabia</dd>" in body
    assert (buyer.email in body) is shown
    assert ("Not shared by the buyer" in body) is not shown
    assert 'data-side="exhibitor"' in body


def test_room_page_assignment_form_for_owners_and_admins_only(client, cast):
    room_url = reverse("negotiations:room", args=[cast.room.pk])

    owner_page = _login(client, cast.owner).get(room_url).content.decode()
    sales_page = _login(client, cast.sales).get(room_url).content.decode()

    assert 'name="assignee"' in owner_page
    assert "Sam Sales (Sales)" in owner_page
    assert 'name="assignee"' not in sales_page
    assert "Assigned to:" in sales_page


def test_room_page_history_is_the_newest_page_and_says_more_exist(client, cast):
    for n in range(60):
        send(cast.owner if n % 2 else cast.buyer, cast.room, f"Message {n}")
    client.force_login(cast.buyer)

    response = client.get(reverse("negotiations:room", args=[cast.room.pk]))

    initial = _initial(response)
    assert [m["seq"] for m in initial["messages"]] == list(range(12, 62))
    assert initial["more_before"] is True
    body = response.content.decode()
    assert 'data-last-seq="61"' in body
    assert 'data-my-read="61"' in body  # opening the room read it


def test_room_page_opening_reads_the_room_and_the_badge_follows(client, cast):
    second = make_room(buyer=cast.buyer)
    send(owner_of(second.exhibitor), second, "News")
    send(cast.owner, cast.room, "News too")
    client.force_login(cast.buyer)
    assert 'data-nego-nav-badge data-count="2"' in client.get(reverse("home")).content.decode()

    page = client.get(reverse("negotiations:room", args=[cast.room.pk])).content.decode()

    cast.room.refresh_from_db()
    assert cast.room.buyer_last_read_seq == cast.room.last_seq == 2
    assert cast.room.exhibitor_last_read_seq == 2  # untouched: the owner wrote the last one
    assert 'data-nego-nav-badge data-count="1"' in page
    home = client.get(reverse("home")).content.decode()
    assert 'data-nego-nav-badge data-count="1"' in home


def test_room_page_opened_by_staff_marks_the_shared_inbox_read(client, cast):
    send(cast.buyer, cast.room, SECRET)
    client.force_login(cast.sales)

    client.get(reverse("negotiations:room", args=[cast.room.pk]))

    cast.room.refresh_from_db()
    assert cast.room.exhibitor_last_read_seq == cast.room.last_seq == 2
    assert cast.room.buyer_last_read_seq == 2


def test_room_page_carries_the_purchase_intents(client, cast):
    quote = make_quote(cast.owner, cast.room)
    services.quote_accept(user=cast.buyer, quote_id=quote.pk)
    client.force_login(cast.owner)

    response = client.get(reverse("negotiations:room", args=[cast.room.pk]))

    intents = _initial(response)["intents"]
    assert [(i["total"], i["currency"], i["version"]) for i in intents] == [("91250.00", "USD", 1)]
    assert 'data-status="agreed"' in response.content.decode()


def test_room_page_quote_form_lists_the_catalogue_published_only_for_buyers(client, cast):
    make_product(cast.exhibitor, name="Shown lantern", sku="SHOWN-1")
    make_product(cast.exhibitor, name="Draft lantern", sku="DRAFT-1", published=False)
    make_product(cast.other_exhibitor, name="Foreign lantern")

    buyer_page = _login(client, cast.buyer).get(reverse("negotiations:room", args=[cast.room.pk]))
    staff_page = _login(client, cast.owner).get(reverse("negotiations:room", args=[cast.room.pk]))

    assert [p.name for p in buyer_page.context["products"]] == ["Shown lantern"]
    assert [p.name for p in staff_page.context["products"]] == ["Draft lantern", "Shown lantern"]


# --- Room actions -------------------------------------------------------------------------------


def test_assign_owner_assigns_then_unassigns(client, cast):
    client.force_login(cast.owner)
    url = reverse("negotiations:assign", args=[cast.room.pk])

    response = client.post(url, {"assignee": cast.sales.pk})
    cast.room.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("negotiations:room", args=[cast.room.pk])
    assert cast.room.assigned_to_id == cast.sales.pk
    assert _messages(response) == ["Assigned to Sam Sales."]

    client.get(response["Location"])  # shows (and consumes) the message
    response = client.post(url, {"assignee": ""})
    cast.room.refresh_from_db()
    assert cast.room.assigned_to_id is None
    assert _messages(response) == ["The negotiation is no longer assigned to anyone."]


def test_assign_to_someone_outside_the_staff_is_refused_in_plain_words(client, cast):
    client.force_login(cast.admin)

    response = client.post(
        reverse("negotiations:assign", args=[cast.room.pk]), {"assignee": cast.other_staff.pk}
    )

    cast.room.refresh_from_db()
    assert response.status_code == 302
    assert cast.room.assigned_to_id is None
    assert _messages(response) == ["Choose a member of your company's staff."]


@pytest.mark.parametrize(
    ("role", "status"),
    [("sales", 403), ("buyer", 403), ("other_staff", 404), ("organiser", 404)],
)
def test_assign_refused_changes_nothing(client, cast, role, status):
    client.force_login(cast.role(role))

    response = client.post(
        reverse("negotiations:assign", args=[cast.room.pk]), {"assignee": cast.sales.pk}
    )

    cast.room.refresh_from_db()
    assert response.status_code == status
    assert cast.room.assigned_to_id is None


@pytest.mark.parametrize("role", ["buyer", "sales"])
def test_close_and_reopen_by_either_party(client, cast, role):
    client.force_login(cast.role(role))

    closed = client.post(reverse("negotiations:close", args=[cast.room.pk]))
    cast.room.refresh_from_db()
    assert closed.status_code == 302
    assert cast.room.status == Negotiation.Status.CLOSED
    assert _messages(closed) == ["The negotiation is closed. You can reopen it at any time."]
    page = client.get(reverse("negotiations:room", args=[cast.room.pk])).content.decode()
    assert re.search(r"<form [^>]*data-nego-compose hidden>", page)

    reopened = client.post(reverse("negotiations:reopen", args=[cast.room.pk]))
    cast.room.refresh_from_db()
    assert cast.room.status == Negotiation.Status.OPEN
    assert _messages(reopened) == ["The negotiation is open again."]
    assert [m.text for m in cast.room.messages.order_by("seq")][-2:] == [
        "Negotiation closed.",
        "Negotiation reopened.",
    ]


@pytest.mark.parametrize("name", ["close", "reopen"])
@pytest.mark.parametrize("role", ["other_buyer", "other_staff", "organiser"])
def test_close_reopen_non_parties_404_nothing_changes(client, cast, name, role):
    client.force_login(cast.role(role))

    response = client.post(reverse(f"negotiations:{name}", args=[cast.room.pk]))

    cast.room.refresh_from_db()
    assert response.status_code == 404
    assert cast.room.status == Negotiation.Status.OPEN
    assert cast.room.messages.count() == 1


def test_room_actions_need_post(client, cast):
    client.force_login(cast.owner)

    for name in ("assign", "close", "reopen"):
        assert client.get(reverse(f"negotiations:{name}", args=[cast.room.pk])).status_code == 405


# --- The buyer's list ---------------------------------------------------------------------------


def test_my_negotiations_lists_rooms_newest_first_with_unread_and_turns(client):
    buyer = make_buyer()
    quiet = make_room(exhibitor=make_exhibitor(name="Quiet Co"), buyer=buyer)
    busy = make_room(exhibitor=make_exhibitor(name="Busy Co"), buyer=buyer)
    send(buyer, quiet, "Any news?")
    services.negotiation_mark_read(user=buyer, negotiation_id=quiet.pk, seq=2)
    send(owner_of(busy.exhibitor), busy, "We can do it")
    client.force_login(buyer)

    response = client.get(reverse("negotiations:list"))

    body = response.content.decode()
    assert [row.exhibitor.display_name for row in response.context["rows"]] == [
        "Busy Co",
        "Quiet Co",
    ]
    assert [row.unread for row in response.context["rows"]] == [2, 0]
    assert body.count('data-testid="unread"') == 1
    assert "2 new" in body
    assert "The exhibitor answered" in body
    assert "Waiting for the exhibitor's reply" in body


def test_my_negotiations_status_filter_and_its_empty_state(client, cast):
    client.force_login(cast.buyer)

    open_rooms = client.get(reverse("negotiations:list"), {"status": "open"})
    agreed = client.get(reverse("negotiations:list"), {"status": "agreed"})
    bogus = client.get(reverse("negotiations:list"), {"status": "nonsense"})

    assert [r.pk for r in open_rooms.context["rows"]] == [cast.room.pk]
    assert agreed.context["rows"] == []
    assert "No negotiations with this status." in agreed.content.decode()
    assert [r.pk for r in bogus.context["rows"]] == [cast.room.pk]


def test_my_negotiations_empty_state_for_a_new_buyer(client):
    client.force_login(make_buyer())

    body = client.get(reverse("negotiations:list")).content.decode()

    assert "You have no negotiations yet." in body
    assert reverse("exhibitors:directory") in body


def test_my_negotiations_staff_who_are_not_buyers_land_in_their_inbox(client, cast):
    client.force_login(cast.sales)

    response = client.get(reverse("negotiations:list"))

    assert response.status_code == 302
    assert response["Location"] == reverse("negotiations:exhibitor_inbox", args=[cast.exhibitor.pk])


def test_my_negotiations_never_shows_other_buyers_rooms(client, cast):
    send(cast.buyer, cast.room, SECRET)
    client.force_login(cast.other_buyer)

    response = client.get(reverse("negotiations:list"))

    assert response.context["rows"] == []
    assert cast.exhibitor.display_name not in response.content.decode()


@pytest.mark.parametrize("n", [1, 3])
def test_my_negotiations_query_count_flat(client, django_assert_num_queries, n):
    buyer = make_buyer()
    for _ in range(n):
        room = make_room(buyer=buyer)
        send(owner_of(room.exhibitor), room, "Hello")
    client.force_login(buyer)
    url = reverse("negotiations:list")
    client.get(url)  # the session, reply-time and category caches are warm

    # user, memberships, buyer profile (page and nav), count, the page of rooms, their last
    # messages (previews), organiser group, nav badge (the reply times come from the cache)
    with django_assert_num_queries(8):
        response = client.get(url)

    assert len(response.context["rows"]) == n


# --- The exhibitor's shared inbox ---------------------------------------------------------------


@pytest.fixture
def inbox(cast):
    """Rooms of exhibitor X in every state the filters name."""
    e = cast.exhibitor
    rooms = {"fresh": cast.room}  # opened, nobody spoke: only the system message
    rooms["waiting"] = make_room(exhibitor=e)
    send(rooms["waiting"].buyer, rooms["waiting"], "Hello?")
    rooms["answered"] = make_room(exhibitor=e)
    send(rooms["answered"].buyer, rooms["answered"], "Price?")
    send(cast.sales, rooms["answered"], "182.50")
    rooms["agreed"] = make_room(exhibitor=e)
    quote = make_quote(cast.owner, rooms["agreed"])
    services.quote_accept(user=rooms["agreed"].buyer, quote_id=quote.pk)
    rooms["closed"] = make_room(exhibitor=e)
    services.negotiation_close(user=cast.owner, negotiation_id=rooms["closed"].pk)
    for name in ("agreed", "closed", "fresh"):
        room = Negotiation.objects.get(pk=rooms[name].pk)
        services.negotiation_mark_read(user=cast.owner, negotiation_id=room.pk, seq=room.last_seq)
    services.negotiation_assign(
        user=cast.owner, negotiation_id=rooms["waiting"].pk, assignee_id=cast.sales.pk
    )
    services.negotiation_assign(
        user=cast.owner, negotiation_id=rooms["agreed"].pk, assignee_id=cast.owner.pk
    )
    make_room(exhibitor=cast.other_exhibitor)  # another company's: never listed
    return rooms


def _listed(response) -> set[int]:
    return {row.pk for row in response.context["rows"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"fresh", "waiting", "answered", "agreed", "closed"}),
        ({"view": "awaiting_us"}, {"waiting"}),
        ({"view": "awaiting_buyer"}, {"answered"}),
        ({"view": "agreed"}, {"agreed"}),
        ({"view": "closed"}, {"closed"}),
        ({"view": "unread"}, {"waiting"}),
        ({"assigned": "none"}, {"fresh", "answered", "closed"}),
        ({"view": "awaiting_us", "assigned": "none"}, set()),
        (
            {"view": "nonsense", "assigned": "nobody-at-all"},
            {"fresh", "waiting", "answered", "agreed", "closed"},
        ),
    ],
)
def test_inbox_filters(client, cast, inbox, query, expected):
    client.force_login(cast.admin)

    response = client.get(reverse("negotiations:exhibitor_inbox", args=[cast.exhibitor.pk]), query)

    assert response.status_code == 200
    assert _listed(response) == {inbox[name].pk for name in expected}


def test_inbox_assigned_to_me_and_to_a_member(client, cast, inbox):
    url = reverse("negotiations:exhibitor_inbox", args=[cast.exhibitor.pk])

    mine_sales = _login(client, cast.sales).get(url, {"assigned": "me"})
    mine_owner = _login(client, cast.owner).get(url, {"assigned": "me"})
    of_sales = client.get(url, {"assigned": str(cast.sales.pk)})

    assert _listed(mine_sales) == {inbox["waiting"].pk}
    assert _listed(mine_owner) == {inbox["agreed"].pk}
    assert _listed(of_sales) == {inbox["waiting"].pk}


def test_inbox_shows_unread_markers_turns_and_the_leads_link(client, cast, inbox):
    client.force_login(cast.owner)

    response = client.get(reverse("negotiations:exhibitor_inbox", args=[cast.exhibitor.pk]))

    body = response.content.decode()
    rows = {row.pk: row for row in response.context["rows"]}
    assert rows[inbox["waiting"].pk].unread == 2
    assert rows[inbox["fresh"].pk].unread == 0
    assert body.count('data-testid="unread"') == sum(1 for r in rows.values() if r.unread)
    assert "Awaiting our reply" in body
    assert reverse("negotiations:leads_csv", args=[cast.exhibitor.pk]) in body
    assert "Anne Buyer" in body


@pytest.mark.parametrize("role", ["buyer", "other_buyer", "other_staff", "organiser"])
def test_inbox_outsiders_get_404(client, cast, inbox, role):
    client.force_login(cast.role(role))

    response = client.get(reverse("negotiations:exhibitor_inbox", args=[cast.exhibitor.pk]))

    assert response.status_code == 404
    assert "Anne Buyer" not in response.content.decode()


def test_inbox_empty_states(client):
    exhibitor = make_exhibitor()
    client.force_login(owner_of(exhibitor))
    url = reverse("negotiations:exhibitor_inbox", args=[exhibitor.pk])

    everything = client.get(url).content.decode()
    waiting = client.get(url, {"view": "awaiting_us"}).content.decode()

    assert "No buyer has started a negotiation yet." in everything
    assert "No buyer is waiting for your reply." in waiting


def test_inbox_paginates_twenty_per_page(client):
    exhibitor = make_exhibitor()
    for _ in range(21):
        make_room(exhibitor=exhibitor)
    client.force_login(owner_of(exhibitor))
    url = reverse("negotiations:exhibitor_inbox", args=[exhibitor.pk])

    first = client.get(url, {"view": "awaiting_us"})
    assert first.context["rows"] == []
    first = client.get(url)
    second = client.get(url, {"page": 2})

    assert len(first.context["rows"]) == 20
    assert len(second.context["rows"]) == 1
    assert 'href="?page=2" rel="next"' in first.content.decode()


@pytest.mark.parametrize("n", [1, 3])
def test_inbox_query_count_flat(client, django_assert_num_queries, n):
    exhibitor = make_exhibitor()
    owner = owner_of(exhibitor)
    add_member(exhibitor, "sales")
    for _ in range(n):
        room = make_room(exhibitor=exhibitor)
        send(room.buyer, room, "Hello")
    client.force_login(owner)
    url = reverse("negotiations:exhibitor_inbox", args=[exhibitor.pk])
    client.get(url)

    # user, organiser group, buyer profile (nav), nav badge, membership (page), staff,
    # membership (selector), count, the page of rooms, their last messages (previews), the
    # inbox link's unread count (menu)
    with django_assert_num_queries(11):
        response = client.get(url, {"view": "awaiting_us"})

    assert len(response.context["rows"]) == n


# --- Navigation badge and the inbox link --------------------------------------------------------


def test_nav_badge_counts_rooms_with_unread_messages(client, cast):
    second = make_room(buyer=cast.buyer)
    send(owner_of(second.exhibitor), second, "News")
    send(cast.owner, cast.room, "News too")
    client.force_login(cast.buyer)

    body = client.get(reverse("home")).content.decode()

    assert 'data-testid="nav-negotiations"' in body
    assert 'data-nego-nav-badge data-count="2"' in body


def test_nav_badge_absent_when_all_read_and_for_visitors_and_organisers(client, cast):
    services.negotiation_mark_read(user=cast.buyer, negotiation_id=cast.room.pk, seq=1)

    anonymous = client.get(reverse("home")).content.decode()
    buyer = _login(client, cast.buyer).get(reverse("home")).content.decode()
    organiser = _login(client, cast.organiser).get(reverse("home")).content.decode()

    assert 'data-testid="nav-negotiations"' not in anonymous
    assert 'data-testid="nav-negotiations"' in buyer
    assert "data-nego-nav-badge" not in buyer
    assert 'data-testid="nav-negotiations"' not in organiser


def test_nav_badge_counts_the_shared_inbox_for_staff(client, cast):
    client.force_login(cast.sales)

    body = client.get(reverse("home")).content.decode()

    assert 'data-nego-nav-badge data-count="1"' in body  # the new room's system message


def test_inbox_link_tag_shows_the_companys_unread_rooms(cast):
    make_room(exhibitor=cast.exhibitor)
    template = Template("{% load negotiation_tags %}{% nego_inbox_link exhibitor %}")

    html = template.render(Context({"exhibitor": cast.exhibitor}))

    assert reverse("negotiations:exhibitor_inbox", args=[cast.exhibitor.pk]) in html
    assert '<span class="badge" aria-hidden="true">2</span>' in html


def test_user_without_profile_or_company_sees_why(client):
    client.force_login(make_user())

    body = client.get(reverse("negotiations:list")).content.decode()

    assert "Only buyers negotiate with exhibitors." in body


def test_start_page_for_an_organiser_explains(client):
    exhibitor = make_exhibitor()
    client.force_login(make_organiser())

    body = client.get(reverse("negotiations:start", args=[exhibitor.pk])).content.decode()

    assert "Organisers cannot negotiate with exhibitors." in body


def test_awaiting_reply_tag_lists_open_rooms_where_the_exhibitor_spoke_last(cast):
    answered = make_room(exhibitor=make_exhibitor(name="Answered Co"), buyer=cast.buyer)
    send(owner_of(answered.exhibitor), answered, "Our price is 182.50")
    asked = make_room(exhibitor=make_exhibitor(name="Asked Co"), buyer=cast.buyer)
    send(cast.buyer, asked, "Price?")
    closed = make_room(exhibitor=make_exhibitor(name="Closed Co"), buyer=cast.buyer)
    send(owner_of(closed.exhibitor), closed, "Bye")
    services.negotiation_close(user=cast.buyer, negotiation_id=closed.pk)
    other = make_room(exhibitor=make_exhibitor(name="Someone Else's Co"))
    send(owner_of(other.exhibitor), other, "Hello")
    template = Template("{% load negotiation_tags %}{% nego_awaiting_reply %}")

    request = RequestFactory().get("/")
    request.user = cast.buyer
    html = template.render(Context({"request": request}))
    request.user = cast.other_buyer
    empty = template.render(Context({"request": request}))

    assert reverse("negotiations:room", args=[answered.pk]) in html
    assert "Answered Co" in html
    assert "2 new" in html
    for name in ("Asked Co", "Closed Co", "Someone Else", cast.exhibitor.display_name):
        assert name not in html
    assert "No exhibitor is waiting for your answer." in empty
