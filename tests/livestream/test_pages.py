"""The live-video pages: scheduling, going live, the programme, the stream room, reminders,
My fair. Permission matrix per page, the stream-key canary crawl, query counts."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone

from buyers.follow_services import follow_exhibitor
from exhibitors.models import Exhibitor
from exhibitors.services import exhibitor_suspend
from livestream import keys, services
from livestream.models import LiveSession, SessionReminder, StreamChannel, StreamKeyAudit
from livestream.pages.calendars import feed_token
from livestream.pages.timing import session_timing
from livestream.selectors import region_for_country
from tests.exhibitors.factories import add_member, make_exhibitor, make_product, owner_of
from tests.factories import make_buyer, make_organiser

pytestmark = pytest.mark.django_db

ROLES = ("anon", "buyer", "owner", "admin", "sales", "other", "organiser")
LOGIN = "login"


def soon(hours: float = 2) -> datetime:
    return (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)


def schedule(exhibitor, start, end, **kwargs) -> LiveSession:
    return services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title=kwargs.pop("title", "Smart TV launch"),
        start=start,
        end=end,
        **kwargs,
    )


def go_live(session: LiveSession) -> LiveSession:
    """The media server's publish callback, through the real service."""
    channel, key = services.stream_key_reveal(
        user=owner_of(session.exhibitor), exhibitor_id=session.exhibitor_id
    )
    return services.media_publish(public_id=channel.public_id, key=key)


@dataclass
class World:
    users: dict
    exhibitor: Exhibitor
    other_exhibitor: Exhibitor
    product: object
    session: LiveSession
    key: str
    channel: StreamChannel


@pytest.fixture
def world() -> World:
    exhibitor = make_exhibitor()
    other = make_exhibitor(name="Other Co")
    product = make_product(exhibitor)
    session = schedule(
        exhibitor, soon(2), soon(3), target_regions=["mea"], featured_products=[product]
    )
    users = {
        "anon": None,
        "buyer": make_buyer(),
        "owner": owner_of(exhibitor),
        "admin": add_member(exhibitor, "admin"),
        "sales": add_member(exhibitor, "sales"),
        "other": owner_of(other),
        "organiser": make_organiser(),
    }
    channel, key = services.stream_key_reveal(user=users["owner"], exhibitor_id=exhibitor.pk)
    return World(users, exhibitor, other, product, session, key, channel)


def as_role(client, world: World, role: str):
    client.logout()
    if world.users[role] is not None:
        client.force_login(world.users[role])
    return client


def status_of(response) -> object:
    if response.status_code == 302 and response["Location"].startswith(
        resolve_url(django_settings.LOGIN_URL) + "?"
    ):
        return LOGIN
    return response.status_code


# --- The permission matrix of these pages ----------------------------------------------------


def everyone(status) -> dict:
    return dict.fromkeys(ROLES, status)


def staff(owner=200, admin=200, sales=200) -> dict:
    return {
        "anon": LOGIN,
        "buyer": 404,
        "owner": owner,
        "admin": admin,
        "sales": sales,
        "other": 404,
        "organiser": 404,
    }


MATRIX = [
    (
        "session_list",
        "get",
        lambda w: reverse("livestream:session_list", args=[w.exhibitor.pk]),
        staff(),
    ),
    (
        "session_create",
        "get",
        lambda w: reverse("livestream:session_create", args=[w.exhibitor.pk]),
        staff(),
    ),
    (
        "session_edit",
        "get",
        lambda w: reverse("livestream:session_edit", args=[w.exhibitor.pk, w.session.pk]),
        staff(),
    ),
    (
        "session_cancel",
        "get",
        lambda w: reverse("livestream:session_cancel", args=[w.exhibitor.pk, w.session.pk]),
        staff(),
    ),
    (
        "go_live",
        "get",
        lambda w: reverse("livestream:go_live", args=[w.exhibitor.pk]),
        staff(sales=403),
    ),
    (
        "key_rotate",
        "post",
        lambda w: reverse("livestream:key_rotate", args=[w.exhibitor.pk]),
        staff(owner=302, admin=302, sales=403),
    ),
    ("live_now", "get", lambda w: reverse("livestream:live_now"), everyone(200)),
    ("upcoming", "get", lambda w: reverse("livestream:upcoming"), everyone(200)),
    ("my_fair", "get", lambda w: reverse("livestream:my_fair"), {**everyone(200), "anon": LOGIN}),
    ("room", "get", lambda w: reverse("livestream:room", args=[w.session.pk]), everyone(200)),
    (
        "chat_history",
        "get",
        lambda w: reverse("livestream:chat_history", args=[w.session.pk]),
        everyone(200),
    ),
    (
        "session_ics",
        "get",
        lambda w: reverse("livestream:session_ics", args=[w.session.pk]),
        everyone(200),
    ),
    (
        "feed",
        "get",
        lambda w: reverse("livestream:feed", args=[feed_token(w.users["buyer"])]),
        everyone(200),
    ),
    (
        "pin",
        "post",
        lambda w: reverse("livestream:pin", args=[w.session.pk]),
        staff(owner=302, admin=302, sales=302),
    ),
    (
        "remind",
        "post",
        lambda w: reverse("livestream:remind", args=[w.session.pk]),
        {**everyone(302), "anon": LOGIN},
    ),
    (
        "unremind",
        "post",
        lambda w: reverse("livestream:unremind", args=[w.session.pk]),
        {**everyone(302), "anon": LOGIN},
    ),
]


@pytest.mark.parametrize("role", ROLES)
def test_pages_permission_matrix_every_role_gets_expected_status(client, world, role):
    as_role(client, world, role)
    hash_before = StreamChannel.objects.get(pk=world.channel.pk).key_hash
    for name, method, url, expect in MATRIX:
        data = {"product": str(world.product.pk)} if name == "pin" else {}
        response = getattr(client, method)(url(world), data)
        assert status_of(response) == expect[role], (name, role, response.status_code)
    # Rotation without the confirmation box changes nothing, for anyone.
    assert StreamChannel.objects.get(pk=world.channel.pk).key_hash == hash_before
    world.session.refresh_from_db()
    pinned_by_staff = role in ("owner", "admin", "sales")
    assert world.session.pinned_product_id == (world.product.pk if pinned_by_staff else None)
    # remind then unremind: nothing left behind, and never a row for a non-buyer.
    assert SessionReminder.objects.count() == 0


def test_pages_urls_all_covered_by_matrix():
    import livestream.urls_pages

    names = {p.name for p in livestream.urls_pages.urlpatterns}
    assert names == {row[0] for row in MATRIX}


@pytest.mark.parametrize("state", ["cancelled", "suspended"])
@pytest.mark.parametrize("role", ROLES)
def test_room_hidden_session_only_staff_of_company(client, world, role, state):
    if state == "cancelled":
        services.session_cancel(user=world.users["owner"], session_id=world.session.pk)
    else:
        exhibitor_suspend(
            actor=world.users["organiser"], exhibitor_id=world.exhibitor.pk, reason="Checks"
        )
    as_role(client, world, role)
    expected = 200 if role in ("owner", "admin", "sales") else 404
    for name in ("room", "session_ics", "chat_history"):
        url = reverse(f"livestream:{name}", args=[world.session.pk])
        assert client.get(url).status_code == (404 if name == "session_ics" else expected)


def test_room_missing_session_404(client):
    assert client.get(reverse("livestream:room", args=[999999])).status_code == 404


def test_session_edit_of_other_company_session_404_for_its_staff(client, world):
    theirs = schedule(world.other_exhibitor, soon(2), soon(3))
    client.force_login(world.users["owner"])
    url = reverse("livestream:session_edit", args=[world.exhibitor.pk, theirs.pk])
    assert client.get(url).status_code == 404


# --- The stream key canary crawl -------------------------------------------------------------


def crawl_urls(world: World, live: LiveSession) -> list[str]:
    e, s = world.exhibitor.pk, world.session.pk
    return [
        reverse("livestream:session_list", args=[e]),
        reverse("livestream:session_list", args=[e]) + "?show=past",
        reverse("livestream:session_create", args=[e]),
        reverse("livestream:session_edit", args=[e, s]),
        reverse("livestream:session_edit", args=[e, live.pk]),
        reverse("livestream:session_cancel", args=[e, s]),
        reverse("livestream:go_live", args=[e]),
        reverse("livestream:live_now"),
        reverse("livestream:upcoming"),
        reverse("livestream:my_fair"),
        reverse("livestream:room", args=[s]),
        reverse("livestream:room", args=[live.pk]),
        reverse("livestream:session_ics", args=[s]),
        reverse("livestream:feed", args=[feed_token(world.users["buyer"])]),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_stream_key_canary_only_on_go_live_page_for_owner_and_admin(client, world, role):
    # A second company that streams right now: its room plays the public id, never the key.
    live = go_live(schedule(world.exhibitor, soon(-0.5), soon(0.5), title="On air"))
    follow_exhibitor(user=world.users["buyer"], exhibitor_id=world.exhibitor.pk)
    _channel, key = services.stream_key_reveal(
        user=world.users["owner"], exhibitor_id=world.exhibitor.pk
    )
    canaries = [key, key[:12], keys.key_hash(key)[:16], world.channel.key_encrypted[:24]]
    as_role(client, world, role)
    seen_on = []
    for url in crawl_urls(world, live):
        response = client.get(url, follow=True)
        body = response.content.decode()
        if any(canary in body for canary in canaries):
            seen_on.append(url)
        for header, value in response.items():
            assert key not in value, (url, header)
    go_live_url = reverse("livestream:go_live", args=[world.exhibitor.pk])
    assert seen_on == ([go_live_url] if role in ("owner", "admin") else [])


def test_room_of_live_rtmp_session_plays_public_id_playlist(client, world, settings):
    settings.MEDIA_HLS_URL = "https://media.example/hls/"
    live = go_live(schedule(world.exhibitor, soon(-0.5), soon(0.5), title="On air"))
    body = client.get(reverse("livestream:room", args=[live.pk])).content.decode()
    playlist = f"https://media.example/hls/{world.channel.public_id}.m3u8"
    assert f'data-hls-url="{playlist}"' in body
    assert "data-autostart" in body
    assert "data-live-badge>" in body  # visible (not hidden) while live
    assert world.key not in body
    assert f'data-ws-path="/ws/live/{live.pk}/"' in body
    assert f'data-session-id="{live.pk}"' in body
    assert "livestream/js/room.js" in body


def test_room_of_external_session_plays_its_https_url(client, world):
    session = schedule(
        world.exhibitor, soon(5), soon(6), external_hls_url="https://cdn.example/live/abc.m3u8"
    )
    body = client.get(reverse("livestream:room", args=[session.pk])).content.decode()
    assert 'data-hls-url="https://cdn.example/live/abc.m3u8"' in body
    assert "data-autostart" not in body  # not live yet: the player waits, hidden


def test_room_before_start_shows_countdown_and_no_player_autostart(client, world):
    body = client.get(reverse("livestream:room", args=[world.session.pk])).content.decode()
    start = world.session.scheduled_start.astimezone(UTC).isoformat()
    assert f'<time datetime="{start}" data-countdown' in body
    assert "data-autostart" not in body
    assert "data-live-badge hidden" in body


def test_room_ended_with_ready_replay_shows_video(client, world, settings):
    session = world.session
    LiveSession.objects.filter(pk=session.pk).update(
        status="ended", replay_status="ready", replay="replays/launch.mp4"
    )
    body = client.get(reverse("livestream:room", args=[session.pk])).content.decode()
    assert "This session has ended." in body
    assert f'src="{settings.MEDIA_URL}replays/launch.mp4"' in body
    assert "data-player-video" not in body


def test_room_pinned_product_highlighted_for_everyone(client, world):
    services.session_pin_product(
        user=world.users["sales"], session_id=world.session.pk, product_id=world.product.pk
    )
    client.force_login(world.users["buyer"])
    body = client.get(reverse("livestream:room", args=[world.session.pk])).content.decode()
    assert f'data-pinned-product="{world.product.pk}"' in body
    assert 'class="featured-product is-pinned"' in body
    assert 'data-testid="pin-button"' not in body  # buyers get no pin buttons


def test_room_staff_see_pin_buttons_and_go_live_link_by_role(client, world):
    go_live_url = reverse("livestream:go_live", args=[world.exhibitor.pk])
    room_url = reverse("livestream:room", args=[world.session.pk])
    client.force_login(world.users["sales"])
    body = client.get(room_url).content.decode()
    assert 'data-testid="pin-button"' in body
    assert go_live_url not in body
    client.force_login(world.users["admin"])
    assert go_live_url in client.get(room_url).content.decode()


def test_pin_then_unpin_by_staff(client, world):
    client.force_login(world.users["sales"])
    url = reverse("livestream:pin", args=[world.session.pk])
    client.post(url, {"product": world.product.pk})
    world.session.refresh_from_db()
    assert world.session.pinned_product_id == world.product.pk
    client.post(url, {"product": ""})
    world.session.refresh_from_db()
    assert world.session.pinned_product_id is None


def test_pin_other_companys_product_404_and_nothing_pinned(client, world):
    theirs = make_product(world.other_exhibitor)
    client.force_login(world.users["owner"])
    response = client.post(
        reverse("livestream:pin", args=[world.session.pk]), {"product": theirs.pk}
    )
    assert response.status_code == 404
    world.session.refresh_from_db()
    assert world.session.pinned_product_id is None


# --- Scheduling --------------------------------------------------------------------------------


def local_input(moment: datetime, zone: str = "") -> str:
    """A datetime-local value as the user types it (in the fair's zone when they have none)."""
    zone = zone or django_settings.FAIR_DEFAULT_TIME_ZONE
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def test_schedule_form_creates_session_with_everything(client, world):
    client.force_login(world.users["sales"])
    start = soon(30)
    response = client.post(
        reverse("livestream:session_create", args=[world.exhibitor.pk]),
        {
            "title": "Factory tour",
            "description": "Our new line.",
            "kind": "factory_tour",
            "language": "ar",
            "target_regions": ["mea", "europe"],
            "featured_products": [world.product.pk],
            "start": local_input(start),
            "end": local_input(start + timedelta(hours=1)),
            "external_hls_url": "",
        },
    )
    session = LiveSession.objects.get(title="Factory tour")
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "livestream:session_edit", args=[world.exhibitor.pk, session.pk]
    )
    assert (session.kind, session.language, session.target_regions) == (
        "factory_tour",
        "ar",
        ["mea", "europe"],
    )
    assert (session.scheduled_start, session.scheduled_end) == (start, start + timedelta(hours=1))
    assert list(session.featured_products.all()) == [world.product]
    assert session.created_by == world.users["sales"]


def test_schedule_form_overlap_shows_service_message_and_saves_nothing(client, world):
    client.force_login(world.users["owner"])
    start = world.session.scheduled_start + timedelta(minutes=30)
    response = client.post(
        reverse("livestream:session_create", args=[world.exhibitor.pk]),
        {
            "title": "Clash",
            "kind": "showcase",
            "language": "en",
            "start": local_input(start),
            "end": local_input(start + timedelta(hours=1)),
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        "This overlaps your session “Smart TV launch”. One exhibitor streams one session at a time."
        in body
    )
    assert LiveSession.objects.filter(exhibitor=world.exhibitor).count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"external_hls_url": "http://cdn.example/x.m3u8"},
            "external_hls_url",
            "Use an https:// link to an HLS stream.",
        ),
        ({"end_offset": -1}, "end", "The session must end after it starts."),
        ({"end_offset": 13}, "end", "A session lasts at most 12 hours; schedule several."),
        ({"start_offset": -52}, "start", "This start is in the past."),
        (
            {"target_regions": ["atlantis"]},
            "target_regions",
            "Select a valid choice. atlantis is not one of the available choices.",
        ),
    ],
)
def test_schedule_form_invalid_input_refused_with_message(client, world, data, field, message):
    client.force_login(world.users["owner"])
    data = dict(data)
    start = soon(50 + data.pop("start_offset", 0))
    post = {
        "title": "Refused",
        "kind": "showcase",
        "language": "en",
        "start": local_input(start),
        "end": local_input(start + timedelta(hours=data.pop("end_offset", 1))),
        **data,
    }
    response = client.post(reverse("livestream:session_create", args=[world.exhibitor.pk]), post)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert not LiveSession.objects.filter(title="Refused").exists()


def test_schedule_form_other_companys_product_refused(client, world):
    theirs = make_product(world.other_exhibitor)
    client.force_login(world.users["owner"])
    start = soon(40)
    response = client.post(
        reverse("livestream:session_create", args=[world.exhibitor.pk]),
        {
            "title": "Sneaky",
            "kind": "showcase",
            "language": "en",
            "featured_products": [theirs.pk],
            "start": local_input(start),
            "end": local_input(start + timedelta(hours=1)),
        },
    )
    assert response.status_code == 200
    assert "featured_products" in response.context["form"].errors
    assert not LiveSession.objects.filter(title="Sneaky").exists()


def test_schedule_page_shows_zone_and_suggested_times_for_regions(client, world):
    world.users["owner"].time_zone = "Asia/Shanghai"
    world.users["owner"].save(update_fields=["time_zone"])
    client.force_login(world.users["owner"])
    url = reverse("livestream:session_edit", args=[world.exhibitor.pk, world.session.pk])
    body = client.get(url).content.decode()
    assert "<strong>Asia/Shanghai</strong>" in body
    rows = re.findall(r'data-region="(\w+)" data-zone="([\w/]+)"', body)
    assert rows == [
        ("mea", "Asia/Riyadh"),
        ("mea", "Asia/Dubai"),
        ("mea", "Africa/Lagos"),
        ("mea", "Africa/Cairo"),
    ]


def test_reschedule_moves_session_and_resets_reminders(
    client, world, django_capture_on_commit_callbacks
):
    buyer = world.users["buyer"]
    SessionReminder.objects.create(session=world.session, user=buyer, notified_at=timezone.now())
    client.force_login(world.users["sales"])
    start = soon(20)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("livestream:session_edit", args=[world.exhibitor.pk, world.session.pk]),
            {"start": local_input(start), "end": local_input(start + timedelta(hours=2))},
        )
    assert response.status_code == 302
    world.session.refresh_from_db()
    assert (world.session.scheduled_start, world.session.scheduled_end) == (
        start,
        start + timedelta(hours=2),
    )
    assert SessionReminder.objects.get(user=buyer).notified_at is None


def test_cancel_confirm_then_post_cancels(client, world):
    client.force_login(world.users["admin"])
    url = reverse("livestream:session_cancel", args=[world.exhibitor.pk, world.session.pk])
    assert "Yes, cancel the session" in client.get(url).content.decode()
    world.session.refresh_from_db()
    assert world.session.status == "scheduled"
    response = client.post(url)
    assert response.status_code == 302
    world.session.refresh_from_db()
    assert world.session.status == "cancelled"


@pytest.mark.parametrize("role", ["buyer", "other", "organiser"])
def test_cancel_post_by_outsider_404_and_unchanged(client, world, role):
    as_role(client, world, role)
    url = reverse("livestream:session_cancel", args=[world.exhibitor.pk, world.session.pk])
    assert client.post(url).status_code == 404
    world.session.refresh_from_db()
    assert world.session.status == "scheduled"


def test_session_list_shows_company_sessions_only(client, world):
    theirs = schedule(world.other_exhibitor, soon(2), soon(3), title="Their session")
    client.force_login(world.users["sales"])
    body = client.get(
        reverse("livestream:session_list", args=[world.exhibitor.pk])
    ).content.decode()
    assert "Smart TV launch" in body
    assert theirs.title not in body


# --- Going live --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_go_live_page_shows_server_and_key_with_safe_headers_and_audits(
    client, world, role, settings
):
    settings.MEDIA_RTMP_URL = "rtmp://media.example/live"
    client.force_login(world.users[role])
    audits = StreamKeyAudit.objects.filter(action="reveal").count()
    response = client.get(reverse("livestream:go_live", args=[world.exhibitor.pk]))
    body = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert 'value="rtmp://media.example/live"' in body
    obs_key = f"{world.channel.public_id}?key={world.key}"
    assert f'id="stream-key" type="password" value="{obs_key}"' in body
    assert f'value="rtmp://media.example/live/{obs_key}"' in body
    assert "Smart TV launch" in body  # the next session
    assert "<script" not in body.split("</head>")[1]  # no inline script in the page body
    assert StreamKeyAudit.objects.filter(action="reveal").count() == audits + 1


def test_go_live_sales_403_without_key_and_no_audit(client, world):
    client.force_login(world.users["sales"])
    audits = StreamKeyAudit.objects.count()
    response = client.get(reverse("livestream:go_live", args=[world.exhibitor.pk]))
    assert response.status_code == 403
    assert world.key not in response.content.decode()
    assert StreamKeyAudit.objects.count() == audits


def test_key_rotate_with_confirmation_replaces_key_and_old_one_fails(client, world):
    client.force_login(world.users["admin"])
    response = client.post(
        reverse("livestream:key_rotate", args=[world.exhibitor.pk]), {"confirm": "on"}
    )
    assert response.status_code == 302
    assert response["Cache-Control"] == "no-store"
    channel = StreamChannel.objects.get(pk=world.channel.pk)
    assert not keys.key_matches(world.key, channel.key_hash)
    assert StreamKeyAudit.objects.filter(action="rotate", user=world.users["admin"]).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert world.key not in page
    assert keys.key_decrypt(channel.key_encrypted) in page


def test_key_rotate_without_confirmation_changes_nothing(client, world):
    client.force_login(world.users["owner"])
    client.post(reverse("livestream:key_rotate", args=[world.exhibitor.pk]), {})
    channel = StreamChannel.objects.get(pk=world.channel.pk)
    assert keys.key_matches(world.key, channel.key_hash)
    assert not StreamKeyAudit.objects.filter(action="rotate").exists()


# --- The programme -----------------------------------------------------------------------------


def test_live_now_lists_live_public_sessions_only(client, world):
    live = go_live(schedule(world.exhibitor, soon(-0.5), soon(0.5), title="On air"))
    LiveSession.objects.filter(pk=live.pk).update(started_at=timezone.now() - timedelta(minutes=30))
    other_live = go_live(schedule(world.other_exhibitor, soon(-0.25), soon(1), title="Also on air"))
    exhibitor_suspend(
        actor=world.users["organiser"], exhibitor_id=world.other_exhibitor.pk, reason="x"
    )
    body = client.get(reverse("livestream:live_now")).content.decode()
    assert "On air" in body
    assert other_live.title not in body
    assert "Smart TV launch" not in body  # scheduled, not live
    assert "data-live-programme" in body
    assert f'data-session-id="{live.pk}"' in body
    assert "live now · started 30 min ago" in body


def test_live_now_empty_state(client, world):
    body = client.get(reverse("livestream:live_now")).content.decode()
    assert "Nobody is live right now." in body
    assert 'data-testid="empty"' in body


def test_upcoming_card_says_starts_in_and_local_time(client, world, settings):
    world.users["buyer"].time_zone = "UTC"
    world.users["buyer"].save(update_fields=["time_zone"])
    client.force_login(world.users["buyer"])
    body = client.get(reverse("livestream:upcoming")).content.decode()
    expected = session_timing(world.session, timezone.now())
    assert re.search(r"starts in (1 h 59 min|2 h) \(", expected)
    assert expected in body
    assert "Middle East &amp; Africa" in body
    assert 'data-testid="remind-button"' in body


def test_upcoming_excludes_cancelled_and_unapproved_exhibitors(client, world):
    pending = make_exhibitor(name="Pending Co", approved=False)
    schedule(pending, soon(2), soon(3), title="Pending session")
    cancelled = schedule(world.exhibitor, soon(10), soon(11), title="Called off")
    services.session_cancel(user=world.users["owner"], session_id=cancelled.pk)
    body = client.get(reverse("livestream:upcoming")).content.decode()
    assert "Smart TV launch" in body
    assert "Pending session" not in body
    assert "Called off" not in body


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("region=mea", {"Smart TV launch"}),
        ("region=europe", {"Euro briefing"}),
        ("language=de", {"Euro briefing"}),
        ("kind=briefing", {"Euro briefing"}),
        ("category=electronics-appliances", {"Smart TV launch", "Euro briefing"}),
        ("category=household-appliances", set()),
        ("region=nowhere", {"Smart TV launch", "Euro briefing"}),  # a bad value is ignored
    ],
)
def test_upcoming_filters(client, world, query, shown):
    schedule(
        world.other_exhibitor, soon(4), soon(5), title="Euro briefing", kind="briefing",
        language="de", target_regions=["europe"],
    )  # fmt: skip
    body = client.get(reverse("livestream:upcoming") + "?" + query).content.decode()
    titles = {"Smart TV launch", "Euro briefing"}
    assert {t for t in titles if t in body} == shown


def test_upcoming_day_navigation_starts_at_local_midnight(client, world):
    later = schedule(world.exhibitor, soon(24 * 3), soon(24 * 3 + 1), title="Later on")
    client.force_login(world.users["buyer"])
    day = timezone.localtime(
        later.scheduled_start, zoneinfo.ZoneInfo(django_settings.FAIR_DEFAULT_TIME_ZONE)
    )
    buyer = world.users["buyer"]
    buyer.time_zone = django_settings.FAIR_DEFAULT_TIME_ZONE
    buyer.save(update_fields=["time_zone"])
    body = client.get(
        reverse("livestream:upcoming") + f"?day={day.date().isoformat()}"
    ).content.decode()
    assert "Later on" in body
    assert "Smart TV launch" not in body


@pytest.mark.parametrize("name", ["live_now", "upcoming"])
def test_programme_query_count_flat(client, world, django_assert_num_queries, name):
    def make(n, offset):
        for i in range(n):
            exhibitor = make_exhibitor(name=f"Streamer {offset + i}")
            session = schedule(exhibitor, soon(5 + i), soon(6 + i), title=f"S{offset + i}")
            if name == "live_now":
                LiveSession.objects.filter(pk=session.pk).update(
                    status="live", started_at=timezone.now()
                )

    LiveSession.objects.all().delete()
    client.force_login(world.users["buyer"])
    url = reverse(f"livestream:{name}") + "?region=&category=electronics-appliances"
    make(1, 0)
    client.get(url)  # warm the caches the page header uses
    with django_assert_num_queries(7) as one:
        assert client.get(url).status_code == 200
    make(2, 10)
    with django_assert_num_queries(len(one.captured_queries)):
        body = client.get(url).content.decode()
    assert body.count('class="session-card card"') == 3


# --- Reminders ---------------------------------------------------------------------------------


def test_remind_and_unremind_buyer(client, world):
    client.force_login(world.users["buyer"])
    url = reverse("livestream:remind", args=[world.session.pk])
    client.post(url, {"next": "/live/upcoming/"})
    response = client.post(url, {"next": "/live/upcoming/"})
    assert response["Location"] == "/live/upcoming/"
    assert SessionReminder.objects.filter(user=world.users["buyer"]).count() == 1
    body = client.get(reverse("livestream:room", args=[world.session.pk])).content.decode()
    assert 'data-testid="unremind-button"' in body
    client.post(reverse("livestream:unremind", args=[world.session.pk]))
    assert SessionReminder.objects.count() == 0


def test_remind_non_buyer_gets_clear_message_and_no_row(client, world):
    client.force_login(world.users["owner"])
    response = client.post(reverse("livestream:remind", args=[world.session.pk]), follow=True)
    assert "Reminders are for buyer accounts" in response.content.decode()
    assert SessionReminder.objects.count() == 0


def test_remind_live_session_refused(client, world):
    live = go_live(schedule(world.exhibitor, soon(-0.5), soon(0.5), title="On air"))
    client.force_login(world.users["buyer"])
    response = client.post(reverse("livestream:remind", args=[live.pk]), follow=True)
    assert "This session has already started." in response.content.decode()
    assert SessionReminder.objects.count() == 0


def test_remind_next_to_other_site_ignored(client, world):
    client.force_login(world.users["buyer"])
    response = client.post(
        reverse("livestream:remind", args=[world.session.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("livestream:room", args=[world.session.pk])


def test_remind_cancelled_session_404(client, world):
    services.session_cancel(user=world.users["owner"], session_id=world.session.pk)
    client.force_login(world.users["buyer"])
    assert client.post(reverse("livestream:remind", args=[world.session.pk])).status_code == 404
    assert SessionReminder.objects.count() == 0


# --- My fair and the calendar feed ----------------------------------------------------------------


def test_my_fair_lists_reminded_followed_and_regional_sessions(client, world):
    buyer = world.users["buyer"]  # country SA: Middle East & Africa
    followed = schedule(world.other_exhibitor, soon(5), soon(6), title="Followed booth show")
    follow_exhibitor(user=buyer, exhibitor_id=world.other_exhibitor.pk)
    third = make_exhibitor(name="Third Co")
    reminded = schedule(third, soon(26), soon(27), title="Reminded one")
    SessionReminder.objects.create(session=reminded, user=buyer)
    schedule(make_exhibitor(name="Far Co"), soon(30), soon(31), title="Not for me")
    schedule(
        make_exhibitor(name="Later Co"),
        soon(24 * 9),
        soon(24 * 9 + 1),
        title="Next week",
        target_regions=["mea"],
    )
    client.force_login(buyer)
    response = client.get(reverse("livestream:my_fair"))
    body = response.content.decode()
    sections = {
        name: [s.title for g in response.context[f"{name}_groups"] for s in g["sessions"]]
        for name in ("reminded", "followed", "regional")
    }
    assert sections == {
        "reminded": ["Reminded one"],
        "followed": ["Followed booth show"],
        "regional": ["Smart TV launch"],
    }
    assert "Not for me" not in body
    assert "Next week" not in body
    assert "Rooms awaiting your reply" in body
    assert followed.title in body
    feed_url = "http://testserver" + reverse("livestream:feed", args=[feed_token(buyer)])
    assert f'value="{feed_url}"' in body


def test_my_fair_non_buyer_gets_explanation(client, world):
    client.force_login(world.users["owner"])
    response = client.get(reverse("livestream:my_fair"))
    assert response.status_code == 200
    assert 'data-testid="not-buyer"' in response.content.decode()


def test_feed_lists_reminded_and_followed_sessions_only(client, world):
    buyer = world.users["buyer"]
    follow_exhibitor(user=buyer, exhibitor_id=world.other_exhibitor.pk)
    theirs = schedule(world.other_exhibitor, soon(5), soon(6), title="Followed booth show")
    reminded = schedule(make_exhibitor(name="Third Co"), soon(7), soon(8), title="Reminded one")
    SessionReminder.objects.create(session=reminded, user=buyer)
    response = client.get(reverse("livestream:feed", args=[feed_token(buyer)]))
    body = response.content.decode().replace("\r\n ", "")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    uids = re.findall(r"UID:live-session-(\d+)@testserver", body)
    assert uids == [str(theirs.pk), str(reminded.pk)]


@pytest.mark.parametrize("token", ["nonsense", "MQ:wrong-signature", "MQ"])
def test_feed_wrong_token_404(client, world, token):
    assert client.get(reverse("livestream:feed", args=[token])).status_code == 404


def test_feed_token_of_other_salt_refused(client, world):
    from django.core import signing

    forged = signing.dumps(world.users["buyer"].pk, salt="something-else")
    assert client.get(reverse("livestream:feed", args=[forged])).status_code == 404


def test_region_for_country_mapping():
    assert [
        region_for_country(c)
        for c in ("SA", "NG", "DE", "GB", "BR", "US", "JP", "AU", "RU", "KZ", "CN", "HK", "xx")
    ] == [
        "mea",
        "mea",
        "europe",
        "europe",
        "americas",
        "americas",
        "apac",
        "apac",
        "russia_ca",
        "russia_ca",
        "china",
        "apac",
        None,
    ]


def test_session_details_form_changes_title_and_products_not_times(client, world):
    client.force_login(world.users["sales"])
    start_before = world.session.scheduled_start
    response = client.post(
        reverse("livestream:session_edit", args=[world.exhibitor.pk, world.session.pk]),
        {
            "form": "details",
            "title": "Launch, now with 8 models",
            "description": "Ask in the chat.",
            "kind": "launch",
            "language": "ar",
            "target_regions": ["mea", "europe"],
            "featured_products": [],
        },
    )
    assert response.status_code == 302
    world.session.refresh_from_db()
    assert (world.session.title, world.session.language) == ("Launch, now with 8 models", "ar")
    assert world.session.target_regions == ["mea", "europe"]
    assert list(world.session.featured_products.all()) == []
    assert world.session.scheduled_start == start_before


def test_session_details_form_bad_url_and_empty_title_show_messages(client, world):
    client.force_login(world.users["owner"])
    response = client.post(
        reverse("livestream:session_edit", args=[world.exhibitor.pk, world.session.pk]),
        {
            "form": "details",
            "title": "",
            "kind": "launch",
            "language": "en",
            "external_hls_url": "http://cdn.example/x.m3u8",
        },
    )
    assert response.status_code == 200
    errors = response.context["details_form"].errors
    assert errors["title"] == ["This field is required."]
    assert errors["external_hls_url"] == ["Use an https:// link to an HLS stream."]
    world.session.refresh_from_db()
    assert world.session.title != ""
