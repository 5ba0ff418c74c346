"""Live sessions: scheduling rules, stream keys, the media server's callbacks, reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from exhibitors.models import Exhibitor
from exhibitors.services import exhibitor_suspend
from fair.exceptions import ApplicationError, Forbidden, NotFound
from livestream import keys, services
from livestream.models import LiveSession, SessionReminder, StreamChannel, StreamKeyAudit
from livestream.tasks import reminders_send
from tests.exhibitors.factories import add_member, make_exhibitor, make_product, owner_of
from tests.factories import make_buyer, make_organiser

pytestmark = pytest.mark.django_db

SECRET = "test-callback-secret-value"


def at(hour: int, minute: int = 0, day: int = 15) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)


def schedule(exhibitor, start, end, **kwargs) -> LiveSession:
    return services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title=kwargs.pop("title", "Launch"),
        start=start,
        end=end,
        **kwargs,
    )


def test_session_schedule_valid_stores_utc_and_featured_products_of_own_company():
    exhibitor = make_exhibitor()
    other = make_exhibitor(name="Other Co")
    mine, theirs = make_product(exhibitor), make_product(other)
    session = schedule(
        exhibitor,
        at(11),
        at(12),
        kind="launch",
        language="ar",
        target_regions=["mea"],
        featured_products=[mine, theirs],
    )
    session.refresh_from_db()
    assert (session.scheduled_start, session.scheduled_end) == (at(11), at(12))
    assert (session.kind, session.language, session.target_regions) == ("launch", "ar", ["mea"])
    assert list(session.featured_products.all()) == [mine]


def test_session_schedule_overlap_refused_and_touching_allowed():
    exhibitor = make_exhibitor()
    schedule(exhibitor, at(11), at(12), title="First")
    with pytest.raises(ApplicationError) as raised:
        schedule(exhibitor, at(11, 30), at(12, 30))
    assert raised.value.code == "overlap"
    assert "First" in raised.value.message
    schedule(exhibitor, at(12), at(13))  # starts exactly when the first ends
    other = make_exhibitor(name="Other Co")
    schedule(other, at(11), at(12))  # other companies are independent
    assert LiveSession.objects.count() == 3


def test_session_overlap_database_constraint_backs_up_the_service():
    exhibitor = make_exhibitor()
    schedule(exhibitor, at(11), at(12))
    with pytest.raises(IntegrityError), transaction.atomic():
        LiveSession.objects.create(
            exhibitor=exhibitor,
            title="Sneaky",
            scheduled_start=at(11, 15),
            scheduled_end=at(11, 45),
        )


def test_session_cancelled_frees_the_slot():
    exhibitor = make_exhibitor()
    first = schedule(exhibitor, at(11), at(12))
    services.session_cancel(user=owner_of(exhibitor), session_id=first.pk)
    schedule(exhibitor, at(11), at(12), title="Replacement")
    assert LiveSession.objects.filter(status="scheduled").count() == 1


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (at(12), at(11), "The session must end after it starts."),
        (at(0), at(13), "A session lasts at most 12 hours; schedule several."),
    ],
)
def test_session_schedule_bad_times_refused(start, end, message):
    exhibitor = make_exhibitor()
    with pytest.raises(ValidationError) as raised:
        schedule(exhibitor, start, end)
    assert raised.value.message_dict["scheduled_end"] == [message]
    assert LiveSession.objects.count() == 0


def test_session_schedule_external_url_must_be_https():
    exhibitor = make_exhibitor()
    with pytest.raises(ValidationError):
        schedule(exhibitor, at(11), at(12), external_hls_url="http://cdn.example/live.m3u8")
    session = schedule(exhibitor, at(11), at(12), external_hls_url="https://cdn.example/live.m3u8")
    assert session.source == "external"


def test_session_schedule_outsider_not_found():
    exhibitor = make_exhibitor()
    with pytest.raises(NotFound):
        services.session_schedule(
            user=make_buyer(), exhibitor_id=exhibitor.pk, title="x", start=at(11), end=at(12)
        )
    assert LiveSession.objects.count() == 0


def test_session_reschedule_notifies_reminded_buyers(django_capture_on_commit_callbacks):
    exhibitor = make_exhibitor()
    session = schedule(exhibitor, at(11), at(12), title="TV launch")
    buyer = make_buyer(email="khalid@example.test")
    SessionReminder.objects.create(session=session, user=buyer, notified_at=timezone.now())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.session_reschedule(
            user=owner_of(exhibitor), session_id=session.pk, start=at(14), end=at(15)
        )
    assert [m.to for m in mail.outbox] == [["khalid@example.test"]]
    assert mail.outbox[0].subject == "New time: TV launch"
    assert SessionReminder.objects.get().notified_at is None  # reminded again later


def test_session_cancel_notifies_and_only_scheduled_can_be_cancelled(
    django_capture_on_commit_callbacks,
):
    exhibitor = make_exhibitor()
    session = schedule(exhibitor, at(11), at(12), title="TV launch")
    SessionReminder.objects.create(session=session, user=make_buyer())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.session_cancel(user=owner_of(exhibitor), session_id=session.pk)
    assert mail.outbox[0].subject == "Cancelled: TV launch"
    with pytest.raises(ApplicationError):
        services.session_cancel(user=owner_of(exhibitor), session_id=session.pk)


def test_reminders_send_exactly_once_even_if_beat_runs_twice():
    exhibitor = make_exhibitor()
    now = timezone.now()
    soon = schedule(
        exhibitor, now + timedelta(minutes=10), now + timedelta(minutes=70), title="Soon"
    )
    later = schedule(exhibitor, now + timedelta(hours=3), now + timedelta(hours=4))
    buyer = make_buyer(email="anne@example.test")
    SessionReminder.objects.create(session=soon, user=buyer)
    SessionReminder.objects.create(session=later, user=buyer)
    mail.outbox.clear()
    assert reminders_send() == 1
    assert reminders_send() == 0
    assert [m.to for m in mail.outbox] == [["anne@example.test"]]
    assert mail.outbox[0].subject.endswith(": Soon")
    assert SessionReminder.objects.get(session=later).notified_at is None


def test_stream_key_reveal_owner_admin_only_and_audited():
    exhibitor = make_exhibitor()
    admin = add_member(exhibitor, "admin")
    sales = add_member(exhibitor, "sales")
    channel, key = services.stream_key_reveal(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk)
    assert len(key) >= 43  # 32 random bytes, URL-safe
    assert channel.key_hash == keys.key_hash(key) and key not in channel.key_encrypted
    assert channel.public_id not in key and key not in channel.public_id
    _again, same = services.stream_key_reveal(user=admin, exhibitor_id=exhibitor.pk)
    assert same == key
    with pytest.raises(Forbidden):
        services.stream_key_reveal(user=sales, exhibitor_id=exhibitor.pk)
    with pytest.raises(NotFound):
        services.stream_key_reveal(user=make_organiser(), exhibitor_id=exhibitor.pk)
    assert StreamKeyAudit.objects.filter(action="reveal").count() == 2


def test_stream_key_rotate_old_key_refused_at_once():
    exhibitor = make_exhibitor()
    channel, old = services.stream_key_reveal(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk)
    _channel, new = services.stream_key_rotate(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk)
    assert new != old
    with pytest.raises(services.MediaRefused):
        services.media_publish(public_id=channel.public_id, key=old)
    assert services.media_publish(public_id=channel.public_id, key=new).status == "live"


def test_media_publish_attaches_to_scheduled_session_and_marks_live(
    django_capture_on_commit_callbacks,
):
    exhibitor = make_exhibitor()
    now = timezone.now()
    session = schedule(exhibitor, now + timedelta(minutes=10), now + timedelta(hours=1))
    channel, key = services.stream_key_reveal(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk)
    live = services.media_publish(public_id=channel.public_id, key=key)
    assert live.pk == session.pk
    live.refresh_from_db()
    assert live.status == "live" and live.started_at is not None
    assert Exhibitor.objects.get(pk=exhibitor.pk).is_live is True
    ended = services.media_publish_done(public_id=channel.public_id, key=key)
    ended.refresh_from_db()
    assert ended.status == "ended" and ended.ended_at is not None
    assert Exhibitor.objects.get(pk=exhibitor.pk).is_live is False
    assert StreamChannel.objects.get().current_session is None


def test_media_publish_without_schedule_opens_adhoc_session_until_next_one():
    exhibitor = make_exhibitor()
    now = timezone.now()
    upcoming = schedule(exhibitor, now + timedelta(minutes=50), now + timedelta(hours=2))
    channel, key = services.stream_key_reveal(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk)
    session = services.media_publish(public_id=channel.public_id, key=key)
    assert session.is_adhoc is True and session.pk != upcoming.pk
    assert session.scheduled_end == upcoming.scheduled_start
    assert session.title == "Sunrise Electronics is live now"


@pytest.mark.parametrize("case", ["wrong key", "unknown channel", "suspended", "pending"])
def test_media_publish_refused_changes_nothing(case):
    exhibitor = make_exhibitor(approved=case != "pending")
    owner = owner_of(exhibitor)
    channel, key = services.stream_key_reveal(user=owner, exhibitor_id=exhibitor.pk)
    public_id = channel.public_id
    if case == "wrong key":
        key = key[:-1] + ("A" if key[-1] != "A" else "B")
    elif case == "unknown channel":
        public_id = "0" * 16
    elif case == "suspended":
        exhibitor_suspend(actor=make_organiser(), exhibitor_id=exhibitor.pk, reason="Check")
    with pytest.raises(services.MediaRefused):
        services.media_publish(public_id=public_id, key=key)
    assert LiveSession.objects.count() == 0
    assert Exhibitor.objects.get(pk=exhibitor.pk).is_live is False


def test_session_pin_product_broadcast_and_foreign_product_refused():
    exhibitor = make_exhibitor()
    product = make_product(exhibitor)
    foreign = make_product(make_exhibitor(name="Other Co"))
    session = schedule(exhibitor, at(11), at(12))
    pinned = services.session_pin_product(
        user=owner_of(exhibitor), session_id=session.pk, product_id=product.pk
    )
    assert pinned.pinned_product == product
    with pytest.raises(NotFound):
        services.session_pin_product(
            user=owner_of(exhibitor), session_id=session.pk, product_id=foreign.pk
        )


@pytest.fixture
def callback_secret(settings):
    settings.MEDIA_STREAM_CALLBACK_SECRET = SECRET
    return SECRET


def test_media_callback_with_secret_and_key_allows_publish(client, callback_secret, caplog):
    exhibitor = make_exhibitor()
    channel, key = services.stream_key_reveal(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk)
    response = client.post(
        reverse("livestream:media_on_publish"),
        {"name": channel.public_id, "key": key, "app": "live", "addr": "127.0.0.1"},
        HTTP_X_MEDIA_CALLBACK_SECRET=callback_secret,
    )
    assert response.status_code == 204
    assert LiveSession.objects.get().status == "live"
    assert key not in caplog.text
    done = client.post(
        reverse("livestream:media_on_publish_done"),
        {"name": channel.public_id, "key": key},
        HTTP_X_MEDIA_CALLBACK_SECRET=callback_secret,
    )
    assert done.status_code == 204
    assert LiveSession.objects.get().status == "ended"


@pytest.mark.parametrize("secret", ["", "wrong-secret"])
def test_media_callback_without_right_secret_is_refused(client, callback_secret, secret):
    exhibitor = make_exhibitor()
    channel, key = services.stream_key_reveal(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk)
    response = client.post(
        reverse("livestream:media_on_publish"),
        {"name": channel.public_id, "key": key},
        HTTP_X_MEDIA_CALLBACK_SECRET=secret,
    )
    assert response.status_code == 403
    assert LiveSession.objects.count() == 0


def test_media_callback_secret_unset_refuses_everything(client, settings):
    settings.MEDIA_STREAM_CALLBACK_SECRET = ""
    response = client.post(
        reverse("livestream:media_on_publish"),
        {"name": "x", "key": "y"},
        HTTP_X_MEDIA_CALLBACK_SECRET="",
    )
    assert response.status_code == 403


def test_media_callback_wrong_key_is_403_and_key_not_logged(client, callback_secret, caplog):
    exhibitor = make_exhibitor()
    channel, _key = services.stream_key_reveal(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk)
    response = client.post(
        reverse("livestream:media_on_publish"),
        {"name": channel.public_id, "key": "guessed-key-value"},
        HTTP_X_MEDIA_CALLBACK_SECRET=callback_secret,
    )
    assert response.status_code == 403
    assert "guessed-key-value" not in caplog.text
    assert LiveSession.objects.count() == 0


def test_reminders_send_also_leaves_an_in_app_notice_shown_on_my_fair(client):
    from fair.models import Notice

    exhibitor = make_exhibitor()
    now = timezone.now()
    soon = schedule(
        exhibitor, now + timedelta(minutes=10), now + timedelta(minutes=70), title="Soon"
    )
    buyer = make_buyer()
    SessionReminder.objects.create(session=soon, user=buyer)
    reminders_send()
    notice = Notice.objects.get(user=buyer)
    assert notice.text == mail.outbox[-1].subject
    assert notice.url == reverse("livestream:room", args=[soon.pk])
    client.force_login(buyer)
    page = client.get(reverse("livestream:my_fair")).content.decode()
    assert notice.text in page
    client.post(reverse("notices_read"), {"next": "/"})
    assert Notice.objects.get(user=buyer).read_at is not None
    assert notice.text not in client.get(reverse("livestream:my_fair")).content.decode()


def test_session_details_update_rules(django_capture_on_commit_callbacks):
    exhibitor = make_exhibitor()
    product = make_product(exhibitor)
    foreign = make_product(make_exhibitor(name="Other Co"))
    session = schedule(exhibitor, at(11), at(12))
    updated = services.session_details_update(
        user=add_member(exhibitor, "sales"),
        session_id=session.pk,
        title=" New title ",
        kind="factory_tour",
        language="ru",
        target_regions=["russia_ca"],
        featured_products=[product, foreign],
    )
    assert (updated.title, updated.kind, updated.target_regions) == (
        "New title",
        "factory_tour",
        ["russia_ca"],
    )
    assert list(updated.featured_products.all()) == [product]
    with pytest.raises(NotFound):
        services.session_details_update(
            user=make_buyer(), session_id=session.pk, title="x", kind="launch", language="en"
        )
    services.session_cancel(user=owner_of(exhibitor), session_id=session.pk)
    with pytest.raises(ApplicationError):
        services.session_details_update(
            user=owner_of(exhibitor), session_id=session.pk, title="x", kind="launch", language="en"
        )
    assert LiveSession.objects.get(pk=session.pk).title == "New title"
