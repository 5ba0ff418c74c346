"""Permission-matrix rows of the organisers' live-video pages (/organiser/live/) and of the
media server's ``on_update`` callback (gathered by tests/test_permission_matrix.py)."""

from __future__ import annotations

from django.urls import reverse

from fair.models import AuditEntry
from livestream.models import ChatMessage, ChatReport, ChatRestriction, LiveSession
from tests.matrix_common import Row, World, everyone, organiser_only

ORG = "org_live:"


def _reported(w: World) -> ChatMessage:
    """A message in the world's session chat, reported by a second buyer (built once)."""
    if getattr(w, "org_live_message", None) is None:
        from livestream import chat
        from tests.factories import make_buyer

        author = w.users["buyer"]
        identity = chat.chat_identity(
            user=author, exhibitor_id=w.session.exhibitor_id, is_staff=False
        )
        chat.chat_message_send(
            session_id=w.session.pk, identity=identity, client_id="matrix-org-live", body="spam"
        )
        chat.chat_message_report(
            user=make_buyer(), session_id=w.session.pk, seq=1, reason="matrix report"
        )
        w.org_live_message = ChatMessage.objects.get(session=w.session, seq=1)
    return w.org_live_message


def _nothing_decided(w: World) -> None:
    message = ChatMessage.objects.get(pk=_reported(w).pk)
    assert message.hidden_at is None
    assert set(ChatReport.objects.filter(message=message).values_list("status", flat=True)) == {
        "open"
    }
    assert not ChatRestriction.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="chat.").exists()
    assert not AuditEntry.objects.filter(action="report.dismiss").exists()


def _session_unchanged(w: World) -> None:
    assert LiveSession.objects.get(pk=w.session.pk).status == "scheduled"
    assert not AuditEntry.objects.filter(action="stream.stop").exists()


def _no_export_recorded(w: World) -> None:
    assert not AuditEntry.objects.filter(action="export.download").exists()


ROWS: list[Row] = [
    Row(ORG + "reports", "get", lambda w: reverse(ORG + "reports"), organiser_only()),
    Row(
        ORG + "report_decide",
        "post",
        lambda w: reverse(ORG + "report_decide", args=[_reported(w).pk]),
        organiser_only(302),
        data=lambda w: {"action": "ban", "reason": "matrix", "hide": "on"},
        check=_nothing_decided,
    ),
    Row(ORG + "sessions", "get", lambda w: reverse(ORG + "sessions"), organiser_only()),
    Row(
        ORG + "sessions_csv",
        "get",
        lambda w: reverse(ORG + "sessions_csv"),
        organiser_only(),
        check=_no_export_recorded,
    ),
    Row(
        ORG + "stream_stop",
        "post",
        lambda w: reverse(ORG + "stream_stop", args=[w.session.pk]),
        organiser_only(302),
        data=lambda w: {"reason": "matrix"},
        check=_session_unchanged,
    ),
    # The media server's update callback needs its shared secret, which no browser has.
    Row(
        "livestream:media_on_update",
        "post",
        lambda w: reverse("livestream:media_on_update"),
        everyone(403),
        data=lambda w: {"name": "x", "key": "y", "call": "update_publish"},
    ),
]
