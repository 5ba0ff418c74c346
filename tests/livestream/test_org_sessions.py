"""The organisers' sessions list (/organiser/live/sessions/) with viewer figures, its CSV,
stopping a stream by hand, a suspension ending the company's streams, and the media
server's ``on_update`` callback."""

from __future__ import annotations

import csv
import io
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from exhibitors.models import Exhibitor
from exhibitors.services import exhibitor_reinstate, exhibitor_suspend
from fair.exceptions import Forbidden
from fair.models import AuditEntry
from livestream import chat, services
from livestream.models import LiveSession, StreamChannel
from livestream.presence import presence
from livestream.tasks import media_publisher_drop
from tests.exhibitors.factories import make_exhibitor, owner_of
from tests.factories import make_buyer, make_organiser

pytestmark = pytest.mark.django_db

SECRET = "org-sessions-callback-secret"


def _audit():
    return AuditEntry.objects.exclude(action__startswith="exhibitor.")


def _schedule(exhibitor, title, start, hours=1, **kwargs) -> LiveSession:
    return services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title=title,
        start=start,
        end=start + timedelta(hours=hours),
        **kwargs,
    )


def _live(name="Live Co", title="Live now", minutes_ago=5):
    """An approved exhibitor streaming now through the real publish callback."""
    exhibitor = make_exhibitor(name=name)
    channel, key = services.stream_key_reveal(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk)
    _schedule(exhibitor, title, timezone.now() - timedelta(minutes=minutes_ago))
    session = services.media_publish(public_id=channel.public_id, key=key)
    return exhibitor, channel, key, session


def _viewers(session_id: int, anonymous: int = 0, users: tuple[int, ...] = ()) -> None:
    """Viewers joining the room through the real presence backend (Redis)."""
    now = time.time()
    for n in range(anonymous):
        async_to_sync(presence.backend.join)(session_id, f"anon-{session_id}-{n}", None, now)
    for user_id in users:
        async_to_sync(presence.backend.join)(session_id, f"u-{session_id}-{user_id}", user_id, now)


# --- The list ----------------------------------------------------------------------------------


def _mixed_sessions():
    now = timezone.now()
    _e1, _c1, _k1, live_old = _live(name="Alpha Co", title="Alpha live", minutes_ago=20)
    _e2, _c2, _k2, live_new = _live(name="Beta Co", title="Beta live", minutes_ago=2)
    other = make_exhibitor(name="Gamma Co")
    later = _schedule(other, "Gamma later", now + timedelta(hours=5))
    soon = _schedule(other, "Gamma soon", now + timedelta(hours=2))
    cancelled = _schedule(other, "Gamma cancelled", now + timedelta(hours=8))
    services.session_cancel(user=owner_of(other), session_id=cancelled.pk)
    ended_old = _schedule(other, "Gamma ended early", now - timedelta(hours=10))
    ended_new = _schedule(other, "Gamma ended late", now - timedelta(hours=4))
    LiveSession.objects.filter(pk=ended_old.pk).update(
        status="ended", started_at=now - timedelta(hours=10), ended_at=now - timedelta(hours=9)
    )
    LiveSession.objects.filter(pk=ended_new.pk).update(
        status="ended", started_at=now - timedelta(hours=4), ended_at=now - timedelta(hours=3)
    )
    return [live_new, live_old, soon, later, ended_new, ended_old, cancelled]


def test_sessions_live_first_then_upcoming_then_ended_then_cancelled(client):
    expected = _mixed_sessions()
    client.force_login(make_organiser())

    response = client.get(reverse("org_live:sessions"))

    assert response.status_code == 200
    assert [s.pk for s in response.context["page"].object_list] == [s.pk for s in expected]


def test_sessions_filters_by_status_search_and_day(client):
    _mixed_sessions()
    client.force_login(make_organiser())
    url = reverse("org_live:sessions")

    def titles(**query):
        return [s.title for s in client.get(url, query).context["page"].object_list]

    assert titles(status="live") == ["Beta live", "Alpha live"]
    assert titles(q="gamma", status="scheduled") == ["Gamma soon", "Gamma later"]
    assert titles(q="BETA") == ["Beta live"]
    assert titles(q="nothing like it") == []
    tomorrow = (timezone.localdate() + timedelta(days=2)).isoformat()
    assert titles(day=tomorrow) == []
    assert titles(status="bogus") == titles()  # a bad filter value is ignored


def test_sessions_show_viewers_now_from_redis_and_the_peak(client):
    _e, _c, _k, session = _live()
    buyers = [make_buyer(), make_buyer()]
    _viewers(session.pk, anonymous=3, users=tuple(b.pk for b in buyers))
    LiveSession.objects.filter(pk=session.pk).update(peak_viewers=2)
    client.force_login(make_organiser())

    response = client.get(reverse("org_live:sessions"))

    [row] = response.context["page"].object_list
    assert (row.viewers_now, row.peak_shown) == (5, 5)
    assert '<td data-testid="viewers-now">5</td>' in response.content.decode()


def _sessions_queries(client, n: int) -> int:
    for i in range(n):
        _live(name=f"Co {n}-{i}", title=f"S {i}")
    url = reverse("org_live:sessions")
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_sessions_query_count_is_flat(client):
    client.force_login(make_organiser())
    one = _sessions_queries(client, 1)
    LiveSession.objects.all().delete()
    assert _sessions_queries(client, 3) == one
    assert one <= 5


# --- CSV ---------------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_sessions_csv_columns_figures_and_audit(client):
    exhibitor = make_exhibitor(name="=Evil Co")
    start = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)
    session = _schedule(exhibitor, "+Launch day", start, kind="launch", language="ar")
    LiveSession.objects.filter(pk=session.pk).update(peak_viewers=42)
    live_exhibitor, _c, _k, live = _live(name="Chatty Co", title="Chatty")
    buyer = make_buyer()
    identity = chat.chat_identity(user=buyer, exhibitor_id=live_exhibitor.pk, is_staff=False)
    for n, question in enumerate((False, True, True)):
        chat.chat_message_send(
            session_id=live.pk,
            identity=identity,
            client_id=f"csv-{n:08d}",
            body="q?",
            is_question=question,
        )
    organiser = make_organiser()
    client.force_login(organiser)

    response = client.get(reverse("org_live:sessions_csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="live-sessions-')
    rows = _csv(response)
    assert rows[0] == [
        "Session",
        "Exhibitor",
        "Kind",
        "Language",
        "Scheduled start (UTC)",
        "Scheduled end (UTC)",
        "Actual start (UTC)",
        "Actual end (UTC)",
        "Status",
        "Peak viewers",
        "Chat messages",
        "Questions",
    ]
    live.refresh_from_db()
    assert rows[1] == [
        "Chatty",
        "Chatty Co",
        "showcase",
        "en",
        live.scheduled_start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        live.scheduled_end.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        live.started_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "",
        "live",
        "0",
        "3",
        "2",
    ]
    assert rows[2] == [
        "'+Launch day",
        "'=Evil Co",
        "launch",
        "ar",
        "2030-05-01T08:00:00Z",
        "2030-05-01T09:00:00Z",
        "",
        "",
        "scheduled",
        "42",
        "0",
        "0",
    ]
    assert len(rows) == 3
    entry = _audit().get()
    assert (entry.action, entry.actor_id) == ("export.download", organiser.pk)
    assert entry.data == {"export": "livestream.sessions", "q": "", "status": "", "day": ""}


def test_sessions_csv_filtered_and_flat_queries(client):
    client.force_login(make_organiser())
    for i in range(3):
        _live(name=f"Filter Co {i}", title=f"Match {i}")
    make_exhibitor(name="Quiet Co")
    url = reverse("org_live:sessions_csv")

    with CaptureQueriesContext(connection) as one:
        rows_one = _csv(client.get(url, {"q": "Match 1"}))
    with CaptureQueriesContext(connection) as three:
        rows_three = _csv(client.get(url, {"q": "match", "status": "live"}))

    assert [r[0] for r in rows_one[1:]] == ["Match 1"]
    assert sorted(r[0] for r in rows_three[1:]) == ["Match 0", "Match 1", "Match 2"]
    assert len(one.captured_queries) == len(three.captured_queries)


# --- Stopping a stream by hand -----------------------------------------------------------------


class _ControlEndpoint:
    """A stand-in for nginx-rtmp's control endpoint on a loopback port: records requests
    and answers the count of dropped publishers, as nginx does."""

    def __init__(self) -> None:
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                seen.append((self.path, self.headers.get("X-Media-Callback-Secret")))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"1\n")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/control"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_stream_stop_ends_session_drops_publisher_and_audits(
    client, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_STREAM_CALLBACK_SECRET = SECRET
    exhibitor, channel, key, session = _live()
    organiser = make_organiser()
    client.force_login(organiser)
    with _ControlEndpoint() as control:
        settings.MEDIA_CONTROL_URL = control.url
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("org_live:stream_stop", args=[session.pk]), {"reason": "Off-topic"}
            )

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == "ended" and session.ended_at is not None
    channel.refresh_from_db()
    assert channel.current_session_id is None
    assert Exhibitor.objects.get(pk=exhibitor.pk).is_live is False
    assert control.seen == [(f"/control/drop/publisher?app=live&name={channel.public_id}", SECRET)]
    entry = _audit().get()
    assert (entry.action, entry.actor_id) == ("stream.stop", organiser.pk)
    assert entry.reason == "Off-topic"
    assert (entry.target_type, entry.target_id) == ("livestream.livesession", str(session.pk))
    assert entry.data == {"exhibitor_id": exhibitor.pk, "cause": "organiser"}
    # The encoder's next update is refused; the company may publish again.
    with pytest.raises(services.MediaRefused):
        services.media_update(public_id=channel.public_id, key=key)
    again = services.media_publish(public_id=channel.public_id, key=key)
    assert again.pk != session.pk and again.status == "live"


def test_stream_stop_of_a_session_not_live_changes_nothing(client):
    session = _schedule(make_exhibitor(), "Later", timezone.now() + timedelta(hours=3))
    client.force_login(make_organiser())

    response = client.post(reverse("org_live:stream_stop", args=[session.pk]), follow=True)

    assert "This session is not live." in response.content.decode()
    session.refresh_from_db()
    assert session.status == "scheduled"
    assert not _audit().exists()


def test_stream_stop_service_refuses_non_organisers():
    _e, _c, _k, session = _live()
    with pytest.raises(Forbidden):
        services.session_stream_stop(actor=owner_of(session.exhibitor), session_id=session.pk)
    assert LiveSession.objects.get(pk=session.pk).status == "live"


def test_sessions_page_offers_stop_button_for_live_sessions_only(client):
    _e, _c, _k, live = _live()
    later = _schedule(make_exhibitor(name="Later Co"), "Later", timezone.now() + timedelta(hours=3))
    client.force_login(make_organiser())

    body = client.get(reverse("org_live:sessions")).content.decode()

    assert reverse("org_live:stream_stop", args=[live.pk]) in body
    assert reverse("org_live:stream_stop", args=[later.pk]) not in body


def test_media_publisher_drop_without_control_url_does_nothing(settings):
    settings.MEDIA_CONTROL_URL = ""
    assert media_publisher_drop(public_id="abc") == -1


def test_media_publisher_drop_unreachable_is_logged_not_raised(settings):
    settings.MEDIA_CONTROL_URL = "http://127.0.0.1:9/control"  # discard port: refused
    assert media_publisher_drop(public_id="abc") == -1


# --- Suspension --------------------------------------------------------------------------------


def test_suspension_ends_live_sessions_and_refuses_the_key_reinstate_accepts_it(
    settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_CONTROL_URL = ""
    exhibitor, channel, key, session = _live()
    organiser = make_organiser()

    with django_capture_on_commit_callbacks(execute=True):
        exhibitor_suspend(actor=organiser, exhibitor_id=exhibitor.pk, reason="Fake goods")

    session.refresh_from_db()
    assert session.status == "ended" and session.ended_at is not None
    channel.refresh_from_db()
    assert channel.current_session_id is None
    assert Exhibitor.objects.get(pk=exhibitor.pk).is_live is False
    entry = _audit().get()
    assert (entry.action, entry.actor_id, entry.target_id) == (
        "stream.stop",
        organiser.pk,
        str(session.pk),
    )
    assert entry.data == {"exhibitor_id": exhibitor.pk, "cause": "exhibitor_suspended"}
    with pytest.raises(services.MediaRefused):
        services.media_update(public_id=channel.public_id, key=key)
    with pytest.raises(services.MediaRefused):
        services.media_publish(public_id=channel.public_id, key=key)

    with django_capture_on_commit_callbacks(execute=True):
        exhibitor_reinstate(actor=organiser, exhibitor_id=exhibitor.pk)

    back = services.media_publish(public_id=channel.public_id, key=key)
    assert back.status == "live"
    services.media_update(public_id=channel.public_id, key=key)  # accepted: no exception
    assert _audit().count() == 1


def test_suspension_of_a_company_not_streaming_changes_no_session(
    django_capture_on_commit_callbacks,
):
    exhibitor = make_exhibitor()
    scheduled = _schedule(exhibitor, "Tomorrow", timezone.now() + timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        exhibitor_suspend(actor=make_organiser(), exhibitor_id=exhibitor.pk, reason="Check")

    assert LiveSession.objects.get(pk=scheduled.pk).status == "scheduled"
    assert not _audit().exists()


# --- The media server's update callback ------------------------------------------------------


def _update(client, **data):
    return client.post(
        reverse("livestream:media_on_update"),
        {"call": "update_publish", "app": "live", **data},
        headers={"X-Media-Callback-Secret": SECRET},
    )


def test_on_update_keeps_a_good_publisher_and_drops_the_others(client, settings):
    settings.MEDIA_STREAM_CALLBACK_SECRET = SECRET
    exhibitor, channel, key, _session = _live()

    assert _update(client, name=channel.public_id, key=key).status_code == 204
    assert _update(client, name=channel.public_id, key="x" + key[1:]).status_code == 403
    assert _update(client, name="no-such-channel", key=key).status_code == 403
    assert _update(client).status_code == 403
    no_secret = client.post(
        reverse("livestream:media_on_update"), {"name": channel.public_id, "key": key}
    )
    assert no_secret.status_code == 403

    _channel, new_key = services.stream_key_rotate(
        user=owner_of(exhibitor), exhibitor_id=exhibitor.pk
    )
    assert _update(client, name=channel.public_id, key=key).status_code == 403
    assert _update(client, name=channel.public_id, key=new_key).status_code == 204


def test_on_update_refuses_a_suspended_company(client, settings):
    settings.MEDIA_STREAM_CALLBACK_SECRET = SECRET
    exhibitor, channel, key, _session = _live()
    # Only the status (as if the stop had not run yet): the callback reads it alone.
    Exhibitor.objects.filter(pk=exhibitor.pk).update(status=Exhibitor.Status.SUSPENDED)

    assert _update(client, name=channel.public_id, key=key).status_code == 403
    assert StreamChannel.objects.get(pk=channel.pk).current_session_id is not None
