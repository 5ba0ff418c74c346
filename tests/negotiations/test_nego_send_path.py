"""The text-message send path (``services.text_store``, one SQL statement): rate-limit counts
(retries and refusals never count), the offline-email slot remembered per process, and the
answer's audience."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from fair.celery import app as celery_app
from fair.exceptions import ApplicationError, NotFound
from negotiations import services
from negotiations.services import rate_limits, room_log
from tests.exhibitors.factories import add_member
from tests.factories import make_buyer
from tests.negotiations.nego_factories import Cast, client_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    return Cast()


def test_retry_does_not_count_and_is_answered_past_the_limit(cast, settings):
    settings.NEGO_MESSAGES_PER_MINUTE = 1
    cid = client_id()
    first, created = services.message_send(
        user=cast.buyer, negotiation_id=cast.room.pk, client_id=cid, body="One"
    )
    retried, created_again = services.message_send(
        user=cast.buyer, negotiation_id=cast.room.pk, client_id=cid, body="One"
    )
    with pytest.raises(ApplicationError) as limited:
        services.message_send(
            user=cast.buyer, negotiation_id=cast.room.pk, client_id=client_id(), body="Two"
        )
    # Past the limit, a retry of the stored message still gets its answer.
    late_retry, late_created = services.message_send(
        user=cast.buyer, negotiation_id=cast.room.pk, client_id=cid, body="One"
    )

    assert (created, created_again, late_created) == (True, False, False)
    assert first.pk == retried.pk == late_retry.pk
    assert limited.value.code == "rate_limited"
    assert 1 <= limited.value.extra["retry_after"] <= 60
    cast.room.refresh_from_db()
    assert cast.room.last_seq == 2  # the refused message burnt no number
    # The stored message and this count: the retries and the refusal were given back.
    assert rate_limits.count(cast.buyer.pk).count == 2


def test_not_found_and_closed_refusals_do_not_count(cast, settings):
    settings.NEGO_MESSAGES_PER_MINUTE = 1
    outsider = make_buyer()
    services.negotiation_close(user=cast.buyer, negotiation_id=cast.room.pk)
    for _ in range(2):
        with pytest.raises(NotFound):
            services.message_send(
                user=outsider, negotiation_id=cast.room.pk, client_id=client_id(), body="x"
            )
        with pytest.raises(ApplicationError) as closed:
            services.message_send(
                user=cast.buyer, negotiation_id=cast.room.pk, client_id=client_id(), body="x"
            )
        assert closed.value.code == "closed"
    services.negotiation_reopen(user=cast.buyer, negotiation_id=cast.room.pk)

    message, created = services.message_send(
        user=cast.buyer, negotiation_id=cast.room.pk, client_id=client_id(), body="Back"
    )

    assert (created, message.seq, message.body) == (True, 4, "Back")


def test_text_store_answers_with_the_rooms_audience_and_the_ack(cast):
    removed = add_member(cast.exhibitor, "sales")
    removed.is_active = False
    removed.save(update_fields=["is_active"])
    cid = client_id()

    sent = services.text_store(
        user=cast.sales, negotiation_id=cast.room.pk, client_id=cid, body="Hello Anne"
    )

    assert sent.created is True
    assert (sent.seq, sent.side, sent.body) == (2, "exhibitor", "Hello Anne")
    assert sorted(sent.audience) == sorted(
        [cast.buyer.pk, cast.owner.pk, cast.admin.pk, cast.sales.pk]
    )
    assert sent.ack() == {
        "type": "nego.ack",
        "negotiation": cast.room.pk,
        "client_id": cid,
        "seq": 2,
        "sent_at": sent.sent_at,
    }
    event = sent.event(cast.sales)
    stored = cast.room.messages.get(seq=2)
    assert event == services.messages.events.broadcast_message_json(stored)
    cast.room.refresh_from_db()
    assert (cast.room.last_speaker, cast.room.exhibitor_last_read_seq) == ("exhibitor", 2)
    assert cast.room.buyer_first_message_at is None  # staff spoke first: no reply time yet
    assert cast.room.first_reply_seconds is None


def test_busy_room_queues_the_offline_email_check_once(cast):
    key = services.notify_pending_key(cast.room.pk)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False  # the task stays pending, as in production
    try:
        room_log.notify_queue(cast.room.pk)
        queued_at = cache.get(key)
        cache.delete(key)
        # Known pending in this process: no Redis round trip, nothing queued again.
        room_log.notify_queue(cast.room.pk)
        assert cache.get(key) is None
        # The task ran (it forgets the room): the next message queues a new check.
        services.notify_forget(cast.room.pk)
        room_log.notify_queue(cast.room.pk)
        assert isinstance(cache.get(key), float)
    finally:
        celery_app.conf.task_always_eager = eager
        services.notify_forget(cast.room.pk)
        cache.delete(key)

    assert isinstance(queued_at, float)
