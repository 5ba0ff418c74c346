"""iCalendar files: escaping, folding at 75 octets, CRLF line endings, the session download
and the personal feed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from livestream import services
from livestream.calendar import CalendarEvent, calendar_build, escape_text, fold, utc_stamp
from livestream.models import SessionReminder
from livestream.pages.calendars import feed_token
from tests.exhibitors.factories import make_exhibitor, owner_of
from tests.factories import make_buyer


def unfold(text: str) -> str:
    return text.replace("\r\n ", "")


def properties(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unfold(text).split("\r\n"):
        if line:
            name, _, value = line.partition(":")
            found.setdefault(name, []).append(value)
    return found


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("Launch; new, models", "Launch\\; new\\, models"),
        ("line one\nline two", "line one\\nline two"),
        ("windows\r\nbreak", "windows\\nbreak"),
        ("back\\slash", "back\\\\slash"),
        ("a:b", "a:b"),  # colons need no escaping in a value
    ],
)
def test_escape_text_rfc5545(raw, escaped):
    assert escape_text(raw) == escaped


def test_fold_short_line_unchanged():
    line = "SUMMARY:" + "x" * 67  # 75 octets exactly
    assert fold(line) == line


def test_fold_long_ascii_line_at_75_octets():
    line = "DESCRIPTION:" + "abcdefghij" * 20
    folded = fold(line)
    physical = folded.split("\r\n")
    assert [len(p.encode()) for p in physical] == [75, 75, 64]  # 212 octets: 75 + 1+74 + 1+63
    assert all(p.startswith(" ") for p in physical[1:])
    assert unfold(folded) == line


def test_fold_never_splits_a_multibyte_character():
    line = "SUMMARY:" + "智能电视新品发布会" * 10  # 3 octets per character
    folded = fold(line)
    physical = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in physical)
    assert [len(p.encode()) for p in physical[:2]] == [74, 73]
    for part in physical:
        part.encode().decode("utf-8")  # every physical line is valid UTF-8 on its own
    assert unfold(folded) == line


def test_utc_stamp_converts_aware_times():
    riyadh = datetime(2026, 6, 15, 14, 0, tzinfo=timezone.get_fixed_timezone(180))
    assert utc_stamp(riyadh) == "20260615T110000Z"


def test_calendar_build_crlf_everywhere_and_required_properties():
    start = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)
    body = calendar_build(
        [
            CalendarEvent(
                uid="live-session-7@fair.example",
                start=start,
                end=start + timedelta(hours=1),
                summary="Launch; TVs, monitors",
                description="First line\nSecond line " + "long " * 30,
                url="https://fair.example/live/7/",
                updated=start - timedelta(days=1),
            )
        ],
        name="My sessions",
        stamp=datetime(2026, 6, 1, tzinfo=UTC),
    )
    assert body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")  # no bare line feeds
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    props = properties(body)
    assert props["BEGIN"] == ["VCALENDAR", "VEVENT"]
    assert props["VERSION"] == ["2.0"]
    assert props["UID"] == ["live-session-7@fair.example"]
    assert props["DTSTAMP"] == ["20260601T000000Z"]
    assert props["DTSTART"] == ["20260615T110000Z"]
    assert props["DTEND"] == ["20260615T120000Z"]
    assert props["SUMMARY"] == ["Launch\\; TVs\\, monitors"]
    assert props["DESCRIPTION"] == ["First line\\nSecond line " + "long " * 30]
    assert props["URL"] == ["https://fair.example/live/7/"]
    assert props["X-WR-CALNAME"] == ["My sessions"]


@pytest.mark.django_db
def test_session_ics_download(client):
    exhibitor = make_exhibitor(name="Sunrise, Electronics; Ltd")
    start = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    session = services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title="Launch: TVs, monitors; more",
        description="Bring questions.\nWe answer live.",
        start=start,
        end=start + timedelta(minutes=90),
    )
    response = client.get(reverse("livestream:session_ics", args=[session.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="cloudfair-session-{session.pk}.ics"'
    )
    body = response.content.decode()
    props = properties(body)
    room = f"http://testserver/live/{session.pk}/"
    assert props["UID"] == [f"live-session-{session.pk}@testserver"]
    assert props["DTSTART"] == [start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")]
    assert props["DTEND"] == [
        (start + timedelta(minutes=90)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    ]
    assert props["SUMMARY"] == ["Launch: TVs\\, monitors\\; more · Sunrise\\, Electronics\\; Ltd"]
    assert props["DESCRIPTION"] == [
        "A live session by Sunrise\\, Electronics\\; Ltd at CloudFair.\\n\\n"
        f"Bring questions.\\nWe answer live.\\n\\nWatch: {room}"
    ]
    assert props["URL"] == [room]
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


@pytest.mark.django_db
def test_feed_contains_only_this_buyers_sessions_and_skips_cancelled(client):
    buyer, other_buyer = make_buyer(), make_buyer()
    exhibitor = make_exhibitor()
    start = timezone.now() + timedelta(days=1)
    mine = services.session_schedule(
        user=owner_of(exhibitor), exhibitor_id=exhibitor.pk, title="Mine",
        start=start, end=start + timedelta(hours=1),
    )  # fmt: skip
    cancelled = services.session_schedule(
        user=owner_of(exhibitor), exhibitor_id=exhibitor.pk, title="Called off",
        start=start + timedelta(hours=2), end=start + timedelta(hours=3),
    )  # fmt: skip
    others = services.session_schedule(
        user=owner_of(exhibitor), exhibitor_id=exhibitor.pk, title="Someone else's",
        start=start + timedelta(hours=4), end=start + timedelta(hours=5),
    )  # fmt: skip
    SessionReminder.objects.create(session=mine, user=buyer)
    SessionReminder.objects.create(session=cancelled, user=buyer)
    SessionReminder.objects.create(session=others, user=other_buyer)
    services.session_cancel(user=owner_of(exhibitor), session_id=cancelled.pk)
    response = client.get(reverse("livestream:feed", args=[feed_token(buyer)]))
    props = properties(response.content.decode())
    assert props["SUMMARY"] == ["Mine · Sunrise Electronics"]
    assert props["X-WR-CALNAME"] == ["CloudFair: my live sessions"]
    assert response["Content-Disposition"] == 'inline; filename="cloudfair-my-sessions.ics"'


@pytest.mark.django_db
def test_feed_of_inactive_user_404(client):
    buyer = make_buyer()
    token = feed_token(buyer)
    buyer.is_active = False
    buyer.save(update_fields=["is_active"])
    assert client.get(reverse("livestream:feed", args=[token])).status_code == 404


@pytest.mark.django_db
def test_feed_token_is_one_url_segment_and_stable():
    buyer = make_buyer()
    token = feed_token(buyer)
    assert re.fullmatch(r"[A-Za-z0-9_\-:]+", token)
    assert feed_token(buyer) == token
    assert reverse("livestream:feed", args=[token]) == f"/live/feed/{token}.ics"
