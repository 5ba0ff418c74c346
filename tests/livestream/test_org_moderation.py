"""The organisers' moderation queue (/organiser/live/reports/): reported messages grouped per
message with their context, the decisions taken from there (through the chat's own
services), the reports closed with who / when / what, and the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fair.exceptions import ApplicationError, Forbidden, NotFound
from fair.models import AuditEntry
from livestream import chat, moderation, services
from livestream.models import ChatMessage, ChatReport, ChatRestriction, LiveSession
from tests.exhibitors.factories import add_member, make_exhibitor, owner_of
from tests.factories import make_buyer, make_organiser

pytestmark = pytest.mark.django_db

_counter = iter(range(1, 10**6))


def _audit():
    """Entries of this area (the factories' approvals write ``exhibitor.approve``)."""
    return AuditEntry.objects.exclude(action__startswith="exhibitor.")


def _session(exhibitor=None, title="Launch") -> LiveSession:
    exhibitor = exhibitor or make_exhibitor()
    start = timezone.now() - timedelta(minutes=5)
    return services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title=title,
        start=start,
        end=start + timedelta(hours=1),
    )


def _send(user, session, body="Hello", *, is_staff=False) -> int:
    identity = chat.chat_identity(user=user, exhibitor_id=session.exhibitor_id, is_staff=is_staff)
    return chat.chat_message_send(
        session_id=session.pk,
        identity=identity,
        client_id=f"org-{next(_counter):08d}",
        body=body,
    ).seq


def _message(session, seq) -> ChatMessage:
    return ChatMessage.objects.get(session=session, seq=seq)


def _report(user, session, seq, reason="") -> None:
    assert chat.chat_message_report(user=user, session_id=session.pk, seq=seq, reason=reason)


def _chat_with_report(*, reporters=2):
    """A room with 12 messages; #7 (by the spammer) is reported by ``reporters`` buyers."""
    session = _session()
    spammer = make_buyer(full_name="Sam Spammer")
    talker = make_buyer(full_name="Tina Talker")
    for n in range(1, 13):
        author = spammer if n == 7 else talker
        body = "<b>buy cheap</b> =HYPERLINK()" if n == 7 else f"line {n}"
        assert _send(author, session, body) == n
    people = [make_buyer(full_name=f"Reporter {i}") for i in range(reporters)]
    for i, person in enumerate(people):
        _report(person, session, 7, reason=f"spam {i}")
    return session, spammer, people


# --- The queue ---------------------------------------------------------------------------------


def test_queue_groups_reports_per_message_with_figures_and_context():
    session, spammer, reporters = _chat_with_report(reporters=3)
    earlier = _session(title="Earlier")
    old = _send(spammer, earlier, "old spam")
    chat.chat_message_hide(user=owner_of(earlier.exhibitor), session_id=earlier.pk, seq=old)
    organiser = make_organiser()

    rows = list(moderation.reported_messages(user=organiser))
    details = moderation.queue_page_details(rows)

    assert len(rows) == 1
    row = details[0]
    message = row.message
    assert (message.seq, message.report_count, message.open_count) == (7, 3, 3)
    assert message.prior_hidden == 1
    assert message.restriction_kind is None
    assert sorted(row.reasons) == ["spam 0", "spam 1", "spam 2"]
    assert sorted(r.reporter_id for r in row.reports) == sorted(p.pk for p in reporters)
    assert [n.seq for n in row.context] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]


def test_queue_context_is_cut_at_the_start_of_the_chat_and_shows_no_other_room():
    session = _session()
    other_room = _session(title="Other room")
    buyer = make_buyer()
    for n in range(3):
        _send(buyer, session, f"here {n}")
        _send(buyer, other_room, f"there {n}")
    _report(make_buyer(), session, 2)

    [row] = moderation.queue_page_details(list(moderation.reported_messages(user=make_organiser())))

    assert [(n.session_id, n.seq) for n in row.context] == [
        (session.pk, 1),
        (session.pk, 2),
        (session.pk, 3),
    ]


def test_queue_open_first_filter_open_and_decided():
    session = _session()
    buyer, reporter = make_buyer(), make_buyer()
    for n in range(3):
        _send(buyer, session, f"m{n}")
    _report(reporter, session, 1)
    _report(reporter, session, 2)
    _report(reporter, session, 3)
    organiser = make_organiser()
    moderation.report_decide(user=organiser, message_id=_message(session, 2).pk, action="dismiss")

    open_rows = [m.seq for m in moderation.reported_messages(user=organiser, show="open")]
    decided = [m.seq for m in moderation.reported_messages(user=organiser, show="decided")]
    everything = [m.seq for m in moderation.reported_messages(user=organiser, show="all")]

    assert open_rows == [3, 1]  # most recently reported first
    assert decided == [2]
    assert everything == [3, 1, 2]  # open ones first


def test_queue_shows_current_restriction_of_the_author_in_this_company():
    session, spammer, _ = _chat_with_report()
    owner = owner_of(session.exhibitor)
    other_session = _session(title="Other company")
    other_seq = _send(spammer, other_session, "hi")
    chat.chat_user_restrict(
        user=owner_of(other_session.exhibitor),
        session_id=other_session.pk,
        seq=other_seq,
        kind="ban",
    )
    organiser = make_organiser()
    assert moderation.reported_messages(user=organiser).get().restriction_kind is None

    chat.chat_user_restrict(user=owner, session_id=session.pk, seq=7, kind="mute", minutes=30)

    row = moderation.reported_messages(user=organiser).get()
    assert row.restriction_kind == "mute"
    assert timedelta(minutes=29) < row.restriction_until - timezone.now() <= timedelta(minutes=30)


def test_queue_refuses_non_organisers():
    session, _spammer, _ = _chat_with_report()
    for user in (make_buyer(), owner_of(session.exhibitor)):
        with pytest.raises(Forbidden):
            moderation.reported_messages(user=user)


def _queue_queries(client, messages: int) -> list[str]:
    session = _session()
    buyer = make_buyer()
    for n in range(messages):
        _send(buyer, session, f"m{n}")
        for reporter in (make_buyer(), make_buyer()):
            _report(reporter, session, n + 1, reason="bad")
    url = reverse("org_live:reports")
    client.get(url)  # warm caches (edition, nav)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('class="org-report"') == messages
    return [q["sql"] for q in captured.captured_queries]


def test_queue_page_query_count_is_flat(client):
    client.force_login(make_organiser())
    one = _queue_queries(client, 1)
    ChatReport.objects.all().delete()
    three = _queue_queries(client, 3)

    # session, user, count, page, the page's reports, the chat around them (+ messages)
    assert len(one) == len(three), "\n\n".join(three)
    assert len(one) <= 7, "\n\n".join(one)


def test_queue_page_escapes_the_message_and_lists_reporters(client):
    session, _spammer, reporters = _chat_with_report()
    client.force_login(make_organiser())

    body = client.get(reverse("org_live:reports")).content.decode()

    assert "<b>buy cheap</b>" not in body
    assert "&lt;b&gt;buy cheap&lt;/b&gt; =HYPERLINK()" in body
    assert "Sam S." in body
    for person in reporters:
        assert person.full_name in body
    assert "spam 0" in body and "spam 1" in body
    assert reverse("livestream:room", args=[session.pk]) in body
    assert reverse("org_live:report_decide", args=[_message(session, 7).pk]) in body


def test_queue_page_empty(client):
    client.force_login(make_organiser())
    response = client.get(reverse("org_live:reports"))
    assert response.status_code == 200
    assert "No open reports" in response.content.decode()


# --- Decisions ---------------------------------------------------------------------------------


def _decide(client, message, **data):
    return client.post(reverse("org_live:report_decide", args=[message.pk]), data)


def test_decide_hide_hides_closes_every_report_and_audits(
    client, django_capture_on_commit_callbacks
):
    session, _spammer, _ = _chat_with_report(reporters=2)
    organiser = make_organiser()
    client.force_login(organiser)
    message = _message(session, 7)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _decide(client, message, action="hide", reason="Spam link")

    assert response.status_code == 302
    message.refresh_from_db()
    assert message.hidden_at is not None and message.hidden_by_id == organiser.pk
    reports = list(ChatReport.objects.filter(message=message))
    assert {(r.status, r.resolved_by_id, r.decision_note) for r in reports} == {
        ("hidden", organiser.pk, "Spam link")
    }
    assert all(r.resolved_at is not None for r in reports)
    entry = _audit().get()
    assert (entry.action, entry.actor_id, entry.reason) == ("chat.hide", organiser.pk, "Spam link")
    assert (entry.target_type, entry.target_id) == ("livestream.chatmessage", str(message.pk))
    assert entry.data == {"session": session.pk, "seq": 7, "author_id": message.author_id}
    assert "buy cheap" not in entry.target_label
    assert len(callbacks) >= 1  # the chat.hidden broadcast waits for the commit


def test_decide_dismiss_closes_reports_keeps_message_and_audits(client):
    session, _spammer, _ = _chat_with_report(reporters=2)
    organiser = make_organiser()
    client.force_login(organiser)
    message = _message(session, 7)

    _decide(client, message, action="dismiss", reason="Not spam")

    message.refresh_from_db()
    assert message.hidden_at is None
    assert set(ChatReport.objects.values_list("status", "decision_note")) == {
        ("dismissed", "Not spam")
    }
    entry = _audit().get()
    assert (entry.action, entry.target_id, entry.data["reports"]) == (
        "report.dismiss",
        str(message.pk),
        2,
    )
    # Dismissing again: nothing open, refused, nothing written.
    response = _decide(client, message, action="dismiss")
    assert response.status_code == 302
    assert _audit().count() == 1


def test_decide_mute_restricts_author_notifies_and_hides_when_asked(client):
    session, spammer, _ = _chat_with_report()
    organiser = make_organiser()
    client.force_login(organiser)
    message = _message(session, 7)

    _decide(client, message, action="mute", minutes="45", reason="Flooding", hide="on")

    restriction = ChatRestriction.objects.get()
    assert (restriction.user_id, restriction.kind, restriction.exhibitor_id) == (
        spammer.pk,
        "mute",
        session.exhibitor_id,
    )
    assert timedelta(minutes=44) < restriction.until - timezone.now() <= timedelta(minutes=45)
    message.refresh_from_db()
    assert message.hidden_at is not None
    assert set(ChatReport.objects.values_list("status", flat=True)) == {"muted"}
    actions = list(_audit().order_by("pk").values_list("action", "reason"))
    assert actions == [("chat.mute", "Flooding"), ("chat.hide", "Flooding")]
    mute = _audit().get(action="chat.mute")
    assert (mute.target_type, mute.target_id) == ("livestream.chatrestriction", str(restriction.pk))
    assert mute.data["minutes"] == 45 and mute.data["user_id"] == spammer.pk
    # The author can no longer post in this company's rooms.
    with pytest.raises(ApplicationError) as refused:
        _send(spammer, session, "again")
    assert refused.value.code == "muted"


def test_decide_ban_without_hide_keeps_message_visible(client):
    session, spammer, _ = _chat_with_report()
    organiser = make_organiser()
    client.force_login(organiser)
    message = _message(session, 7)

    _decide(client, message, action="ban", reason="Scam")

    message.refresh_from_db()
    assert message.hidden_at is None
    assert ChatRestriction.objects.get().kind == "ban"
    assert set(ChatReport.objects.values_list("status", flat=True)) == {"banned"}
    assert list(_audit().values_list("action", flat=True)) == ["chat.ban"]
    with pytest.raises(ApplicationError) as refused:
        _send(spammer, session, "again")
    assert refused.value.code == "banned"


def test_decide_mute_without_minutes_changes_nothing(client):
    session, _spammer, _ = _chat_with_report()
    client.force_login(make_organiser())

    response = _decide(client, _message(session, 7), action="mute", minutes="")

    assert response.status_code == 302
    assert not ChatRestriction.objects.exists()
    assert set(ChatReport.objects.values_list("status", flat=True)) == {"open"}
    assert not _audit().exists()


def test_decide_on_staff_author_is_refused_and_changes_nothing(client):
    session = _session()
    staff = add_member(session.exhibitor, "sales")
    _send(staff, session, "our offer", is_staff=True)
    _report(make_buyer(), session, 1, reason="advert")
    client.force_login(make_organiser())

    response = _decide(client, _message(session, 1), action="ban")

    assert response.status_code == 302
    assert not ChatRestriction.objects.exists()
    assert ChatReport.objects.get().status == "open"
    assert not _audit().exists()


def test_decide_hide_of_message_hidden_in_the_room_closes_reports_once(client):
    session, _spammer, _ = _chat_with_report()
    owner = owner_of(session.exhibitor)
    # The exhibitor's staff hid it from the room before the organiser got to the queue;
    # that closes the reports too (and is audited under the staff member).
    chat.chat_message_hide(user=owner, session_id=session.pk, seq=7)
    assert set(ChatReport.objects.values_list("status", "resolved_by")) == {("hidden", owner.pk)}
    _report(make_buyer(), session, 7, reason="late report")
    organiser = make_organiser()
    client.force_login(organiser)

    _decide(client, _message(session, 7), action="hide")

    late = ChatReport.objects.get(reason="late report")
    assert (late.status, late.resolved_by_id) == ("hidden", organiser.pk)
    assert list(_audit().values_list("action", "actor_id")) == [("chat.hide", owner.pk)]


def test_decide_unhide_shows_message_again_and_audits(client):
    session, _spammer, _ = _chat_with_report()
    organiser = make_organiser()
    client.force_login(organiser)
    message = _message(session, 7)
    _decide(client, message, action="hide")

    _decide(client, message, action="unhide", reason="Mistake")

    message.refresh_from_db()
    assert message.hidden_at is None and message.hidden_by_id is None
    assert list(_audit().order_by("pk").values_list("action", "reason")) == [
        ("chat.hide", ""),
        ("chat.unhide", "Mistake"),
    ]
    history, _more = chat.chat_history(session_id=session.pk)
    assert history[6]["body"] == "<b>buy cheap</b> =HYPERLINK()"


def test_decide_service_refuses_non_organisers_and_unreported_messages():
    session, _spammer, _ = _chat_with_report()
    message = _message(session, 7)
    with pytest.raises(Forbidden):
        moderation.report_decide(
            user=owner_of(session.exhibitor), message_id=message.pk, action="hide"
        )
    with pytest.raises(NotFound):
        moderation.report_decide(
            user=make_organiser(), message_id=_message(session, 1).pk, action="hide"
        )
    with pytest.raises(ApplicationError):
        moderation.report_decide(user=make_organiser(), message_id=message.pk, action="delete")
    assert set(ChatReport.objects.values_list("status", flat=True)) == {"open"}
    assert not _audit().exists()


def test_decided_row_shows_who_decided(client):
    session, _spammer, _ = _chat_with_report()
    organiser = make_organiser()
    client.force_login(organiser)
    _decide(client, _message(session, 7), action="dismiss", reason="Fine by us")

    body = client.get(reverse("org_live:reports") + "?show=decided").content.decode()

    assert "Dismissed" in body
    assert organiser.email in body
    assert "Fine by us" in body


# --- Audit of moderation taken elsewhere ------------------------------------------------------


def test_room_moderation_services_write_audit_entries():
    session = _session()
    owner = owner_of(session.exhibitor)
    buyer = make_buyer()
    _send(buyer, session, "one")
    _send(buyer, session, "two")

    chat.chat_message_hide(user=owner, session_id=session.pk, seq=1)
    chat.chat_message_hide(user=owner, session_id=session.pk, seq=1)  # idempotent: no entry
    chat.chat_message_unhide(user=owner, session_id=session.pk, seq=1)
    chat.chat_slow_mode_set(user=owner, session_id=session.pk, seconds=30)
    chat.chat_slow_mode_set(user=owner, session_id=session.pk, seconds=30)  # unchanged
    restriction = chat.chat_user_restrict(
        user=owner, session_id=session.pk, seq=2, kind="mute", minutes=5
    )
    chat.chat_restriction_lift(user=owner, restriction_id=restriction.pk)
    chat.chat_user_restrict(user=owner, session_id=session.pk, seq=2, kind="ban")

    entries = list(_audit().order_by("pk").values_list("action", "actor_id", "data"))
    assert [(a, actor) for a, actor, _d in entries] == [
        ("chat.hide", owner.pk),
        ("chat.unhide", owner.pk),
        ("chat.slow_mode", owner.pk),
        ("chat.mute", owner.pk),
        ("chat.unban", owner.pk),
        ("chat.ban", owner.pk),
    ]
    assert entries[2][2] == {"session": session.pk, "seconds": 30}


def test_refused_moderation_writes_no_audit_entry():
    session = _session()
    buyer = make_buyer()
    _send(buyer, session, "one")
    with pytest.raises(Forbidden):
        chat.chat_message_hide(user=make_buyer(), session_id=session.pk, seq=1)
    with pytest.raises(ApplicationError):
        chat.chat_slow_mode_set(user=owner_of(session.exhibitor), session_id=session.pk, seconds=-1)
    assert not _audit().exists()


def test_admin_report_resolve_audits_each_message_once():
    session, _spammer, _ = _chat_with_report(reporters=3)
    organiser = make_organiser()
    ids = list(ChatReport.objects.values_list("pk", flat=True))

    assert chat.chat_report_resolve(user=organiser, report_ids=ids, hide=False) == 3

    assert list(_audit().values_list("action", "target_id")) == [
        ("report.dismiss", str(_message(session, 7).pk))
    ]
