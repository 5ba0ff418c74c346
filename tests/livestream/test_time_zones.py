"""Time zones: a session at 2026-06-15 11:00 UTC shows as 14:00 in Riyadh, 19:00 in
Guangzhou (Asia/Shanghai), 07:00 in New York, on the room page, in the programme and in the
.ics; the scheduling form reads local input in the user's own zone."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from livestream import services
from livestream.models import LiveSession
from tests.exhibitors.factories import make_exhibitor, owner_of
from tests.factories import make_buyer

pytestmark = pytest.mark.django_db

SESSION_START = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)
FROZEN_NOW = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)  # three hours before
CASES = [
    ("Asia/Riyadh", "14:00", "15:00"),
    ("Asia/Shanghai", "19:00", "20:00"),
    ("America/New_York", "07:00", "08:00"),
]


@pytest.fixture
def frozen(monkeypatch):
    """Pages and selectors read ``django.utils.timezone.now``: pin it before the session."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: FROZEN_NOW)
    return FROZEN_NOW


@pytest.fixture
def session() -> LiveSession:
    exhibitor = make_exhibitor()
    return services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title="Smart TV launch",
        start=SESSION_START,
        end=SESSION_START + timedelta(hours=1),
        target_regions=["mea"],
    )


def viewer_in(client, zone: str):
    user = make_buyer()
    user.time_zone = zone
    user.save(update_fields=["time_zone"])
    client.force_login(user)
    return user


@pytest.mark.parametrize(("zone", "start", "end"), CASES)
def test_room_page_shows_start_in_viewer_zone(client, session, zone, start, end):
    viewer_in(client, zone)
    body = client.get(reverse("livestream:room", args=[session.pk])).content.decode()
    shown = re.search(r'data-testid="room-start">([^<]+)<', body).group(1)
    assert shown == f"Monday 15 June 2026, {start}"
    assert f'–<time datetime="2026-06-15T12:00:00+00:00">{end}</time>' in body
    assert f"({zone})" in body


@pytest.mark.parametrize(("zone", "start", "_end"), CASES)
def test_programme_card_shows_start_in_viewer_zone(client, session, frozen, zone, start, _end):
    viewer_in(client, zone)
    body = client.get(reverse("livestream:upcoming")).content.decode()
    assert f"starts in 3 h ({start} your time)" in body
    assert f"<strong>{zone}</strong>" in body
    assert re.search(r'class="day-heading">Today <span class="day-date">Mon 15 Jun</span>', body)


def test_programme_day_heading_follows_viewer_date(client, session, frozen):
    # 11:00 UTC is already 01:00 on 16 June at UTC+14.
    viewer_in(client, "Pacific/Kiritimati")
    body = client.get(reverse("livestream:upcoming")).content.decode()
    assert "starts in 3 h (Tue 16 Jun, 01:00 your time)" in body
    assert re.search(r'class="day-heading">Tomorrow <span class="day-date">Tue 16 Jun</span>', body)


def test_anonymous_viewer_gets_browser_reported_zone(client, session, frozen):
    browser_session = client.session
    browser_session["time_zone"] = "Asia/Riyadh"
    browser_session.save()
    body = client.get(reverse("livestream:upcoming")).content.decode()
    assert "starts in 3 h (14:00 your time)" in body


@pytest.mark.parametrize(("zone", "_start", "_end"), CASES)
def test_ics_start_is_utc_whatever_the_viewer_zone(client, session, zone, _start, _end):
    viewer_in(client, zone)
    body = client.get(reverse("livestream:session_ics", args=[session.pk])).content.decode()
    assert "\r\nDTSTART:20260615T110000Z\r\n" in body
    assert "\r\nDTEND:20260615T120000Z\r\n" in body


def _next_january_15() -> date:
    return date(datetime.now(UTC).year + 1, 1, 15)


@pytest.mark.parametrize(
    ("zone", "typed", "utc_hour"),
    [
        ("Asia/Riyadh", "14:00", 11),
        ("Asia/Shanghai", "14:00", 6),
        ("America/New_York", "14:00", 19),
    ],
)
def test_schedule_form_converts_local_input_to_utc(client, zone, typed, utc_hour):
    exhibitor = make_exhibitor()
    owner = owner_of(exhibitor)
    owner.time_zone = zone
    owner.save(update_fields=["time_zone"])
    client.force_login(owner)
    day = _next_january_15()
    response = client.post(
        reverse("livestream:session_create", args=[exhibitor.pk]),
        {
            "title": "Winter launch",
            "kind": "launch",
            "language": "en",
            "start": f"{day.isoformat()}T{typed}",
            "end": f"{day.isoformat()}T15:30",
        },
    )
    assert response.status_code == 302
    session = LiveSession.objects.get(title="Winter launch")
    assert session.scheduled_start == datetime(day.year, 1, 15, utc_hour, 0, tzinfo=UTC)
    assert session.scheduled_end == datetime(
        day.year, 1, 15, 15, 30, tzinfo=zoneinfo.ZoneInfo(zone)
    ).astimezone(UTC)


def _next_new_york_spring_gap() -> datetime:
    """02:30 on the next second Sunday of March: a wall time New York skips."""
    year = datetime.now(UTC).year + 1
    first = date(year, 3, 1)
    second_sunday = first + timedelta(days=(6 - first.weekday()) % 7 + 7)
    return datetime(second_sunday.year, 3, second_sunday.day, 2, 30)


def test_schedule_form_refuses_wall_time_that_does_not_exist(client):
    exhibitor = make_exhibitor()
    owner = owner_of(exhibitor)
    owner.time_zone = "America/New_York"
    owner.save(update_fields=["time_zone"])
    client.force_login(owner)
    gap = _next_new_york_spring_gap()
    response = client.post(
        reverse("livestream:session_create", args=[exhibitor.pk]),
        {
            "title": "Ghost",
            "kind": "launch",
            "language": "en",
            "start": gap.strftime("%Y-%m-%dT%H:%M"),
            "end": (gap + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 200
    assert (
        response.context["form"]
        .errors["start"][0]
        .startswith(
            f"{gap:%Y-%m-%d %H:%M:%S} couldn’t be interpreted in time zone America/New_York"
        )
    )
    assert not LiveSession.objects.filter(title="Ghost").exists()


def test_schedule_form_names_the_users_zone(client):
    exhibitor = make_exhibitor()
    owner = owner_of(exhibitor)
    owner.time_zone = "Asia/Riyadh"
    owner.save(update_fields=["time_zone"])
    client.force_login(owner)
    body = client.get(reverse("livestream:session_create", args=[exhibitor.pk])).content.decode()
    assert "in your own time zone, <strong>Asia/Riyadh</strong>" in body
    assert body.count('data-zone="Asia/Riyadh"') >= 3  # both inputs and the Riyadh table row
