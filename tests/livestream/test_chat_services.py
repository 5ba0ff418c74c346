"""The chat's domain rules (livestream.chat): storing, numbering without gaps, idempotency
under concurrency, validation, restrictions, moderation, reports, history pages."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from fair.exceptions import ApplicationError, Forbidden
from livestream import chat, services
from livestream.models import ChatMessage, ChatReport, ChatRestriction, LiveSession
from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS
from tests.exhibitors.factories import add_member, make_exhibitor, owner_of
from tests.factories import make_buyer, make_organiser


@pytest.fixture
def reference_data(transactional_db) -> None:
    """Rows data migrations load: ``transactional_db`` empties every table after a test."""
    import importlib

    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


def _session(exhibitor=None, minutes_ago: int = 5) -> LiveSession:
    exhibitor = exhibitor or make_exhibitor()
    start = timezone.now() - timedelta(minutes=minutes_ago)
    return services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title="Launch",
        start=start,
        end=start + timedelta(hours=1),
    )


def _identity(user, session, *, is_staff=False) -> chat.ChatIdentity:
    return chat.chat_identity(user=user, exhibitor_id=session.exhibitor_id, is_staff=is_staff)


def _send(user, session, body="Hello", client_id=None, **kwargs) -> chat.SendResult:
    _send.counter = getattr(_send, "counter", 0) + 1
    return chat.chat_message_send(
        session_id=session.pk,
        identity=_identity(user, session, is_staff=kwargs.pop("is_staff", False)),
        client_id=client_id or f"client-{_send.counter:06d}",
        body=body,
        **kwargs,
    )


# --- Identity ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_identity_buyer_without_consent_shows_short_name_and_no_company():
    session = _session()
    buyer = make_buyer(full_name="Khalid Al Saud", company="Gulf Trading")

    identity = _identity(buyer, session)

    assert (identity.name, identity.company, identity.badge, identity.is_moderator) == (
        "Khalid S.",
        "",
        "",
        False,
    )


@pytest.mark.django_db
def test_identity_buyer_with_consent_shows_company():
    session = _session()
    buyer = make_buyer(full_name="Khalid Al Saud", company="Gulf Trading")
    buyer.buyer_profile.show_identity_in_rooms = True
    buyer.buyer_profile.save()

    assert _identity(buyer, session).company == "Gulf Trading"


@pytest.mark.django_db
def test_identity_staff_speak_for_company_with_badge_and_organisers_with_theirs():
    exhibitor = make_exhibitor(name="Sunrise Lighting")
    session = _session(exhibitor)
    sales = add_member(exhibitor, "sales")
    organiser = make_organiser()

    staff = _identity(sales, session, is_staff=True)
    org = _identity(organiser, session)

    assert (staff.company, staff.badge, staff.is_moderator) == (
        exhibitor.display_name,
        "exhibitor",
        True,
    )
    assert (org.badge, org.is_moderator) == ("organiser", True)


@pytest.mark.django_db
def test_identity_anonymous_is_none():
    from django.contrib.auth.models import AnonymousUser

    session = _session()
    assert (
        chat.chat_identity(user=AnonymousUser(), exhibitor_id=session.exhibitor_id, is_staff=False)
        is None
    )


# --- Sending ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_send_numbers_messages_from_one_and_stores_author_fields():
    session = _session()
    buyer = make_buyer(full_name="Anne Buyer")

    first = _send(buyer, session, "Can it ship in Q3?", is_question=True)
    second = _send(buyer, session, "  And in Q4?  ")

    assert (first.seq, first.created, second.seq) == (1, True, 2)
    rows = list(
        ChatMessage.objects.filter(session=session)
        .order_by("seq")
        .values_list("seq", "body", "is_question", "author_name")
    )
    assert rows == [
        (1, "Can it ship in Q3?", True, "Anne B."),
        (2, "And in Q4?", False, "Anne B."),
    ]
    session.refresh_from_db()
    assert session.chat_last_seq == 2


@pytest.mark.django_db
def test_send_same_client_id_again_returns_stored_message_and_broadcasts_nothing(
    django_capture_on_commit_callbacks,
):
    session = _session()
    buyer = make_buyer()
    with django_capture_on_commit_callbacks() as first_callbacks:
        first = _send(buyer, session, "Hi", client_id="retry-000001")
    with django_capture_on_commit_callbacks() as second_callbacks:
        again = _send(buyer, session, "Hi (edited?)", client_id="retry-000001")

    assert (again.seq, again.sent_at, again.created) == (first.seq, first.sent_at, False)
    assert ChatMessage.objects.filter(session=session).count() == 1
    assert len(first_callbacks) == 1
    assert len(second_callbacks) == 0


@pytest.mark.django_db
def test_send_same_client_id_by_two_users_is_two_messages():
    session = _session()
    a, b = make_buyer(), make_buyer()

    assert _send(a, session, client_id="same-id-0001").seq == 1
    assert _send(b, session, client_id="same-id-0001").seq == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write a message first."),
        ("   \n\t ", "Write a message first."),
        (None, "Write a message first."),
        ("x" * 1001, "A message can be at most 1000 characters (this one has 1001)."),
    ],
)
@pytest.mark.django_db
def test_send_invalid_body_is_refused_with_a_clear_message_and_stores_nothing(body, message):
    session = _session()
    with pytest.raises(ApplicationError) as error:
        _send(make_buyer(), session, body)

    assert (error.value.code, error.value.message) == ("invalid", message)
    assert ChatMessage.objects.count() == 0
    session.refresh_from_db()
    assert session.chat_last_seq == 0


@pytest.mark.django_db
def test_send_body_of_exactly_1000_characters_is_accepted_and_control_characters_removed():
    session = _session()
    _send(make_buyer(), session, "a\x00b\x1bc" + "x" * 997)

    assert ChatMessage.objects.get().body == "abc" + "x" * 997


@pytest.mark.parametrize("client_id", ["short", "has space in it", "x" * 65, 12345678, None])
@pytest.mark.django_db
def test_send_bad_client_id_is_invalid(client_id):
    session = _session()
    with pytest.raises(ApplicationError) as error:
        chat.chat_message_send(
            session_id=session.pk,
            identity=_identity(make_buyer(), session),
            client_id=client_id,
            body="Hi",
        )
    assert error.value.code == "invalid"


@pytest.mark.parametrize("status", ["ended", "cancelled"])
@pytest.mark.django_db
def test_send_to_closed_session_is_chat_closed_and_burns_no_number(status):
    session = _session()
    LiveSession.objects.filter(pk=session.pk).update(status=status)

    with pytest.raises(ApplicationError) as error:
        _send(make_buyer(), session)

    assert error.value.code == "chat_closed"
    session.refresh_from_db()
    assert session.chat_last_seq == 0


@pytest.mark.django_db(transaction=True)
def test_send_same_client_id_five_times_concurrently_stores_one_message(reference_data):
    session = _session()
    buyer = make_buyer()
    identity = _identity(buyer, session)
    barrier = threading.Barrier(5)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(
                chat.chat_message_send(
                    session_id=session.pk, identity=identity, client_id="dup-client-1", body="Hi"
                ).seq
            )
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert results == [1, 1, 1, 1, 1]
    assert ChatMessage.objects.filter(session=session).count() == 1
    session.refresh_from_db()
    assert session.chat_last_seq == 1


@pytest.mark.django_db(transaction=True)
def test_send_twenty_concurrent_messages_get_numbers_one_to_twenty_without_gaps(
    reference_data,
):
    session = _session()
    buyers = [make_buyer() for _ in range(4)]
    identities = [_identity(b, session) for b in buyers]
    barrier = threading.Barrier(20)
    seqs, errors = [], []

    def worker(n):
        try:
            barrier.wait()
            for_user = identities[n % 4]
            seqs.append(
                chat.chat_message_send(
                    session_id=session.pk,
                    identity=for_user,
                    client_id=f"concurrent-{n:04d}",
                    body=f"m{n}",
                ).seq
            )
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(seqs) == list(range(1, 21))
    stored = list(ChatMessage.objects.filter(session=session).values_list("seq", flat=True))
    assert sorted(stored) == list(range(1, 21))


# --- Restrictions -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_muted_user_gets_muted_with_until_then_can_send_after_it_ends():
    exhibitor = make_exhibitor()
    session = _session(exhibitor)
    buyer = make_buyer()
    _send(buyer, session, "spam")
    restriction = chat.chat_user_restrict(
        user=owner_of(exhibitor), session_id=session.pk, seq=1, kind="mute", minutes=10
    )

    with pytest.raises(ApplicationError) as error:
        _send(buyer, session, "more spam")
    assert error.value.code == "muted"
    assert error.value.extra["until"] == chat.iso(restriction.until)
    assert 9 * 60 < (restriction.until - timezone.now()).total_seconds() <= 10 * 60

    ChatRestriction.objects.filter(pk=restriction.pk).update(
        until=timezone.now() - timedelta(seconds=1)
    )
    assert _send(buyer, session, "sorry").seq == 2


@pytest.mark.django_db
def test_ban_applies_to_every_room_of_that_exhibitor_but_not_to_others():
    exhibitor = make_exhibitor()
    session = _session(exhibitor)
    later = services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title="Second",
        start=timezone.now() + timedelta(hours=3),
        end=timezone.now() + timedelta(hours=4),
    )
    elsewhere = _session()
    buyer = make_buyer()
    _send(buyer, session, "spam")
    chat.chat_user_restrict(user=owner_of(exhibitor), session_id=session.pk, seq=1, kind="ban")

    for room in (session, later):
        with pytest.raises(ApplicationError) as error:
            _send(buyer, room, "again")
        assert error.value.code == "banned"
    assert _send(buyer, elsewhere, "hello elsewhere").seq == 1


@pytest.mark.django_db
def test_lifted_ban_lets_the_user_send_again():
    exhibitor = make_exhibitor()
    session = _session(exhibitor)
    buyer = make_buyer()
    _send(buyer, session, "spam")
    ban = chat.chat_user_restrict(
        user=owner_of(exhibitor), session_id=session.pk, seq=1, kind="ban"
    )

    chat.chat_restriction_lift(user=owner_of(exhibitor), restriction_id=ban.pk)

    assert _send(buyer, session, "back").seq == 2


@pytest.mark.django_db
def test_staff_and_organisers_cannot_be_restricted_nor_can_one_restrict_oneself():
    exhibitor = make_exhibitor()
    session = _session(exhibitor)
    sales = add_member(exhibitor, "sales")
    organiser = make_organiser()
    _send(sales, session, "Welcome!", is_staff=True)
    _send(organiser, session, "Fair notice")

    for seq in (1, 2):
        with pytest.raises(ApplicationError):
            chat.chat_user_restrict(
                user=owner_of(exhibitor), session_id=session.pk, seq=seq, kind="ban"
            )
    with pytest.raises(ApplicationError):
        chat.chat_user_restrict(user=sales, session_id=session.pk, seq=1, kind="ban")
    assert ChatRestriction.objects.count() == 0


@pytest.mark.parametrize("minutes", [0, 1441, "10", None, True])
@pytest.mark.django_db
def test_mute_minutes_out_of_range_is_invalid(minutes):
    exhibitor = make_exhibitor()
    session = _session(exhibitor)
    _send(make_buyer(), session)

    with pytest.raises(ApplicationError) as error:
        chat.chat_user_restrict(
            user=owner_of(exhibitor), session_id=session.pk, seq=1, kind="mute", minutes=minutes
        )
    assert error.value.code == "invalid"
    assert ChatRestriction.objects.count() == 0


# --- Moderation -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_moderation_by_a_buyer_or_staff_of_another_company_is_forbidden():
    session = _session()
    _send(make_buyer(), session, "Hello")
    outsiders = [make_buyer(), owner_of(make_exhibitor(name="Other Co"))]

    for user in outsiders:
        for action in (
            lambda u: chat.chat_message_hide(user=u, session_id=session.pk, seq=1),
            lambda u: chat.chat_message_pin(user=u, session_id=session.pk, seq=1),
            lambda u: chat.chat_slow_mode_set(user=u, session_id=session.pk, seconds=10),
        ):
            with pytest.raises(Forbidden):
                action(user)
    assert ChatMessage.objects.get().hidden_at is None


@pytest.mark.django_db
def test_hide_keeps_the_number_hides_the_text_and_unpins(django_capture_on_commit_callbacks):
    exhibitor = make_exhibitor()
    session = _session(exhibitor)
    _send(make_buyer(), session, "<b>rude</b>")
    owner = owner_of(exhibitor)
    chat.chat_message_pin(user=owner, session_id=session.pk, seq=1)

    chat.chat_message_hide(user=owner, session_id=session.pk, seq=1)

    messages, more = chat.chat_history(session_id=session.pk)
    assert messages == [{"type": "chat.message", "session": session.pk, "seq": 1, "hidden": True}]
    assert more is False
    session.refresh_from_db()
    assert session.chat_pinned_seq is None


@pytest.mark.django_db
def test_questions_list_only_open_questions_and_answering_closes_them():
    exhibitor = make_exhibitor()
    session = _session(exhibitor)
    buyer = make_buyer()
    _send(buyer, session, "Q1?", is_question=True)
    _send(buyer, session, "just a remark")
    _send(buyer, session, "Q2?", is_question=True)
    owner = owner_of(exhibitor)

    chat.chat_question_answer(user=owner, session_id=session.pk, seq=1)

    questions = chat.chat_questions_open(session_id=session.pk)
    assert [(q["seq"], q["body"]) for q in questions] == [(3, "Q2?")]
    with pytest.raises(ApplicationError):
        chat.chat_question_answer(user=owner, session_id=session.pk, seq=2)


@pytest.mark.parametrize("seconds", [-1, 301, "5", 1.5])
@pytest.mark.django_db
def test_slow_mode_out_of_range_is_invalid(seconds):
    exhibitor = make_exhibitor()
    session = _session(exhibitor)
    with pytest.raises(ApplicationError):
        chat.chat_slow_mode_set(user=owner_of(exhibitor), session_id=session.pk, seconds=seconds)
    session.refresh_from_db()
    assert session.chat_slow_mode_seconds == 0


# --- Reports ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_report_lands_once_in_the_queue_and_organiser_hides_it():
    session = _session()
    _send(make_buyer(), session, "Buy cheap watches at spam.example")
    reporter = make_buyer()

    assert chat.chat_message_report(user=reporter, session_id=session.pk, seq=1, reason="spam")
    assert not chat.chat_message_report(user=reporter, session_id=session.pk, seq=1)
    report = ChatReport.objects.get()
    assert (report.status, report.reason) == ("open", "spam")

    with pytest.raises(Forbidden):
        chat.chat_report_resolve(user=make_buyer(), report_ids=[report.pk], hide=True)
    assert chat.chat_report_resolve(user=make_organiser(), report_ids=[report.pk], hide=True) == 1

    report.refresh_from_db()
    assert report.status == "hidden"
    assert ChatMessage.objects.get().hidden_at is not None


@pytest.mark.django_db
def test_report_dismissed_leaves_the_message_visible():
    session = _session()
    _send(make_buyer(), session, "Fine message")
    chat.chat_message_report(user=make_buyer(), session_id=session.pk, seq=1)
    report = ChatReport.objects.get()

    chat.chat_report_resolve(user=make_organiser(), report_ids=[report.pk], hide=False)

    report.refresh_from_db()
    assert report.status == "dismissed"
    assert ChatMessage.objects.get().hidden_at is None


@pytest.mark.django_db
def test_report_of_own_message_or_missing_message_is_refused():
    session = _session()
    buyer = make_buyer()
    _send(buyer, session, "mine")

    with pytest.raises(ApplicationError):
        chat.chat_message_report(user=buyer, session_id=session.pk, seq=1)
    with pytest.raises(ApplicationError) as missing:
        chat.chat_message_report(user=make_buyer(), session_id=session.pk, seq=99)
    assert missing.value.code == "not_found"
    assert ChatReport.objects.count() == 0


@pytest.mark.django_db
def test_organiser_admin_lists_reports_and_hides_through_the_action(client):
    session = _session()
    _send(make_buyer(), session, "Reported text here")
    chat.chat_message_report(user=make_buyer(), session_id=session.pk, seq=1, reason="rude")
    report = ChatReport.objects.get()
    client.force_login(make_organiser())

    listing = client.get(reverse("admin:livestream_chatreport_changelist"))
    response = client.post(
        reverse("admin:livestream_chatreport_changelist"),
        {"action": "hide_messages", "_selected_action": [report.pk]},
    )

    assert listing.status_code == 200
    assert "Reported text here" in listing.content.decode()
    assert response.status_code == 302
    assert ChatMessage.objects.get().hidden_at is not None


@pytest.mark.django_db
def test_buyer_cannot_open_the_moderation_queue_in_admin(client):
    client.force_login(make_buyer())
    response = client.get(reverse("admin:livestream_chatreport_changelist"))
    assert response.status_code == 302  # to the admin log-in: not staff
    assert "/admin/login/" in response["Location"]


# --- History ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_history_pages_backwards_fifty_at_a_time(client):
    session = _session()
    buyer = make_buyer()
    for n in range(1, 121):
        _send(buyer, session, f"message {n}", client_id=f"history-{n:05d}")
    url = reverse("livestream:chat_history", args=[session.pk])

    latest = client.get(url).json()
    earlier = client.get(url, {"before": latest["messages"][0]["seq"]}).json()
    first = client.get(url, {"before": earlier["messages"][0]["seq"]}).json()

    assert [m["seq"] for m in latest["messages"]] == list(range(71, 121))
    assert latest["more_before"] is True
    assert [m["seq"] for m in earlier["messages"]] == list(range(21, 71))
    assert [m["seq"] for m in first["messages"]] == list(range(1, 21))
    assert first["more_before"] is False
    assert latest["messages"][-1]["body"] == "message 120"


@pytest.mark.django_db
def test_history_bad_before_is_400_with_a_message(client):
    session = _session()
    response = client.get(reverse("livestream:chat_history", args=[session.pk]), {"before": "abc"})
    assert response.status_code == 400
    assert response.json()["detail"] == "before must be a message number."


@pytest.mark.django_db
def test_history_after_resume_caps_at_200_and_says_more_follow():
    session = _session()
    identity = _identity(make_buyer(), session)
    for n in range(1, 206):
        chat.chat_message_send(
            session_id=session.pk, identity=identity, client_id=f"resume-{n:05d}", body=str(n)
        )

    page, more = chat.chat_history(session_id=session.pk, after=3)

    assert [m["seq"] for m in page] == list(range(4, 204))
    assert more is True
    rest, more = chat.chat_history(session_id=session.pk, after=203)
    assert [m["seq"] for m in rest] == [204, 205]
    assert more is False


@pytest.mark.django_db
def test_history_query_count_is_flat(django_assert_num_queries):
    session = _session()
    identity = _identity(make_buyer(), session)
    for n in range(60):
        chat.chat_message_send(
            session_id=session.pk, identity=identity, client_id=f"flat-{n:05d}", body=str(n)
        )
    with django_assert_num_queries(1):
        chat.chat_history(session_id=session.pk)
    with django_assert_num_queries(1):
        chat.chat_history(session_id=session.pk, after=0)
