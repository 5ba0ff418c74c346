"""Every write of the live-video app: scheduling, stream keys, the media server's publish
callbacks, and stopping streams (organisers by hand, or a company's suspension). Broadcasts,
notifications and calls to the media server happen only after the transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from exhibitors.models import Exhibitor, Product
from exhibitors.selectors import access_exhibitor
from exhibitors.services import exhibitor_live_set
from fair.audit import audit_record
from fair.exceptions import ApplicationError, Forbidden, NotFound
from fair.models import User
from fair.realtime import live_session_group, send_event_on_commit
from livestream import keys
from livestream.models import LiveSession, Region, StreamChannel, StreamKeyAudit
from livestream.tasks import media_publisher_drop, session_changed_notify, session_replay_make

logger = logging.getLogger(__name__)

#: An encoder may start this long before a scheduled session and still attach to it.
EARLY_START = timedelta(minutes=30)
ADHOC_LENGTH = timedelta(hours=2)
MAX_SESSION_LENGTH = timedelta(hours=12)
PROGRAMME_GROUP = "programme"


class MediaRefused(Exception):
    """The media server must refuse this publish (answered with 403; never says why)."""


def session_event(session: LiveSession, event_type: str) -> dict:
    return {
        "type": event_type,
        "session": session.pk,
        "status": session.status,
        "started_at": session.started_at,
        "ended_at": session.ended_at,
    }


def _broadcast(session: LiveSession, event_type: str) -> None:
    event = session_event(session, event_type)
    send_event_on_commit(live_session_group(session.pk), event)
    send_event_on_commit(PROGRAMME_GROUP, {**event, "exhibitor": session.exhibitor_id})


# --- Stream channels and keys ----------------------------------------------------------------


def _channel_for(exhibitor: Exhibitor) -> tuple[StreamChannel, str | None]:
    channel = StreamChannel.objects.select_for_update().filter(exhibitor=exhibitor).first()
    if channel is not None:
        return channel, None
    key = keys.key_new()
    channel = StreamChannel.objects.create(
        exhibitor=exhibitor,
        public_id=keys.public_id_new(),
        key_hash=keys.key_hash(key),
        key_encrypted=keys.key_encrypt(key),
    )
    return channel, key


@transaction.atomic
def stream_key_reveal(*, user: User, exhibitor_id: int) -> tuple[StreamChannel, str | None]:
    """The channel and its key, for the company's owners and admins only (sales staff and
    everyone else are refused); every reveal is audited."""
    exhibitor, _membership = access_exhibitor(user=user, exhibitor_id=exhibitor_id, edit=True)
    channel, new_key = _channel_for(exhibitor)
    key = new_key or keys.key_decrypt(channel.key_encrypted)
    StreamKeyAudit.objects.create(channel=channel, user=user, action=StreamKeyAudit.Action.REVEAL)
    return channel, key


@transaction.atomic
def stream_key_rotate(*, user: User, exhibitor_id: int) -> tuple[StreamChannel, str]:
    """A new key; the old one stops working at once (the next publish callback checks the
    new hash). A stream already running on the old key is cut by the media server's next
    ``on_update`` callback (``media_update``, every 10 s)."""
    exhibitor, _membership = access_exhibitor(user=user, exhibitor_id=exhibitor_id, edit=True)
    channel, new_key = _channel_for(exhibitor)
    key = new_key or keys.key_new()
    channel.key_hash = keys.key_hash(key)
    channel.key_encrypted = keys.key_encrypt(key)
    channel.key_rotated_at = timezone.now()
    channel.save(update_fields=["key_hash", "key_encrypted", "key_rotated_at"])
    StreamKeyAudit.objects.create(channel=channel, user=user, action=StreamKeyAudit.Action.ROTATE)
    return channel, key


# --- Scheduling ------------------------------------------------------------------------------


def _validate_times(start: datetime, end: datetime) -> None:
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValueError("Session times must be aware datetimes.")
    errors = {}
    if end <= start:
        errors["scheduled_end"] = _("The session must end after it starts.")
    elif end - start > MAX_SESSION_LENGTH:
        errors["scheduled_end"] = _("A session lasts at most 12 hours; schedule several.")
    if errors:
        raise ValidationError(errors)


def _check_overlap(exhibitor_id: int, start, end, *, exclude_id: int | None = None) -> None:
    clash = (
        LiveSession.objects.filter(
            exhibitor_id=exhibitor_id, scheduled_start__lt=end, scheduled_end__gt=start
        )
        .exclude(status=LiveSession.Status.CANCELLED)
        .exclude(pk=exclude_id)
        .order_by("scheduled_start")
        .first()
    )
    if clash is not None:
        raise ApplicationError(
            _(
                "This overlaps your session “%(title)s”. One exhibitor streams one session at "
                "a time."
            )
            % {"title": clash.title},
            code="overlap",
        )


def _save_checked(session: LiveSession) -> LiveSession:
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError as exc:  # the exclusion constraint (a concurrent schedule won)
        raise ApplicationError(
            _("This overlaps another of your sessions."), code="overlap"
        ) from exc
    return session


def _clean_regions(regions: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(regions))
    unknown = [r for r in chosen if r not in Region.values]
    if unknown:
        raise ValidationError({"target_regions": _("Unknown region.")})
    return chosen


@transaction.atomic
def session_schedule(
    *,
    user: User,
    exhibitor_id: int,
    title: str,
    start: datetime,
    end: datetime,
    kind: str = LiveSession.Kind.SHOWCASE,
    language: str = "en",
    description: str = "",
    target_regions: Iterable[str] = (),
    featured_products: Iterable[Product] = (),
    external_hls_url: str = "",
) -> LiveSession:
    """Schedule a session (any staff member of the company). Times are stored in UTC; they
    were entered in the user's own zone. Overlaps with the company's other sessions are
    refused (locked on the exhibitor row; the database constraint backs it up)."""
    exhibitor, _m = access_exhibitor(user=user, exhibitor_id=exhibitor_id, for_update=True)
    _validate_times(start, end)
    if external_hls_url and not external_hls_url.lower().startswith("https://"):
        raise ValidationError({"external_hls_url": _("Use an https:// link to an HLS stream.")})
    _check_overlap(exhibitor.pk, start, end)
    session = LiveSession(
        exhibitor=exhibitor,
        title=title.strip(),
        description=description.strip(),
        kind=kind,
        language=language,
        target_regions=_clean_regions(target_regions),
        scheduled_start=start,
        scheduled_end=end,
        source=LiveSession.Source.EXTERNAL if external_hls_url else LiveSession.Source.RTMP,
        external_hls_url=external_hls_url,
        created_by=user,
    )
    session.full_clean(exclude=["featured_products"])
    _save_checked(session)
    products = [p for p in featured_products if p.exhibitor_id == exhibitor.pk]
    session.featured_products.set(products)
    return session


def _session_for_staff(user: User, session_id: int, *, for_update: bool = True) -> LiveSession:
    session = LiveSession.objects.filter(pk=session_id).first()
    if session is None:
        raise NotFound("No such session.")
    access_exhibitor(user=user, exhibitor_id=session.exhibitor_id)
    if for_update:
        session = LiveSession.objects.select_for_update().get(pk=session_id)
    return session


@transaction.atomic
def session_reschedule(
    *, user: User, session_id: int, start: datetime, end: datetime
) -> LiveSession:
    """Move a scheduled session; buyers who asked to be reminded are told (on commit), and
    their reminder will go out again before the new start."""
    session = _session_for_staff(user, session_id)
    if session.status != LiveSession.Status.SCHEDULED:
        raise ApplicationError(_("Only a scheduled session can be moved."))
    _validate_times(start, end)
    Exhibitor.objects.select_for_update().filter(pk=session.exhibitor_id).first()
    _check_overlap(session.exhibitor_id, start, end, exclude_id=session.pk)
    moved = session.scheduled_start != start
    session.scheduled_start, session.scheduled_end = start, end
    _save_checked(session)
    if moved:
        session.reminders.update(notified_at=None)
        session_changed_notify.delay_on_commit(session_id=session.pk, change="rescheduled")
    _broadcast(session, "session.rescheduled")
    return session


@transaction.atomic
def session_details_update(
    *,
    user: User,
    session_id: int,
    title: str,
    kind: str,
    language: str,
    description: str = "",
    target_regions: Iterable[str] = (),
    featured_products: Iterable[Product] = (),
    external_hls_url: str = "",
) -> LiveSession:
    """Change what a scheduled or live session is about (its times move with
    ``session_reschedule``). Viewers of the room are told on commit."""
    session = _session_for_staff(user, session_id)
    if session.status not in (LiveSession.Status.SCHEDULED, LiveSession.Status.LIVE):
        raise ApplicationError(_("An ended or cancelled session can no longer be changed."))
    if external_hls_url and not external_hls_url.lower().startswith("https://"):
        raise ValidationError({"external_hls_url": _("Use an https:// link to an HLS stream.")})
    if session.status == LiveSession.Status.LIVE and external_hls_url != session.external_hls_url:
        raise ValidationError(
            {"external_hls_url": _("The stream source cannot change while the session is live.")}
        )
    session.title = title.strip()
    session.description = description.strip()
    session.kind = kind
    session.language = language
    session.target_regions = _clean_regions(target_regions)
    session.external_hls_url = external_hls_url
    session.source = LiveSession.Source.EXTERNAL if external_hls_url else LiveSession.Source.RTMP
    session.full_clean(exclude=["featured_products"])
    session.save()
    session.featured_products.set(
        [p for p in featured_products if p.exhibitor_id == session.exhibitor_id]
    )
    send_event_on_commit(
        live_session_group(session.pk),
        {"type": "session.updated", "session": session.pk, "title": session.title},
    )
    return session


@transaction.atomic
def session_cancel(*, user: User, session_id: int) -> LiveSession:
    session = _session_for_staff(user, session_id)
    if session.status != LiveSession.Status.SCHEDULED:
        raise ApplicationError(_("Only a scheduled session can be cancelled."))
    session.status = LiveSession.Status.CANCELLED
    session.save(update_fields=["status", "updated_at"])
    session_changed_notify.delay_on_commit(session_id=session.pk, change="cancelled")
    _broadcast(session, "session.cancelled")
    return session


@transaction.atomic
def session_pin_product(*, user: User, session_id: int, product_id: int | None) -> LiveSession:
    """Pin one of the company's products during a stream (every viewer sees it)."""
    session = _session_for_staff(user, session_id)
    product = None
    if product_id is not None:
        product = Product.objects.filter(
            pk=product_id, exhibitor_id=session.exhibitor_id, is_published=True
        ).first()
        if product is None:
            raise NotFound("No such product.")
    session.pinned_product = product
    session.save(update_fields=["pinned_product", "updated_at"])
    send_event_on_commit(
        live_session_group(session.pk),
        {
            "type": "session.pinned",
            "session": session.pk,
            "product": product.pk if product else None,
            "name": product.name if product else None,
        },
    )
    return session


# --- The media server's callbacks ----------------------------------------------------------


def _channel_checked(public_id: str, key: str) -> StreamChannel:
    channel = (
        StreamChannel.objects.select_for_update()
        .select_related("exhibitor")
        .filter(public_id=public_id)
        .first()
    )
    # Compare anyway when the channel is unknown, so timing tells nothing.
    stored = channel.key_hash if channel is not None else keys.key_hash("no-such-channel")
    if not keys.key_matches(key, stored) or channel is None:
        raise MediaRefused("bad key")
    if channel.exhibitor.status != Exhibitor.Status.APPROVED:
        raise MediaRefused("exhibitor not approved")
    return channel


@transaction.atomic
def media_publish(*, public_id: str, key: str) -> LiveSession:
    """An encoder starts publishing. Checks the key (constant time), then attaches the
    stream to the company's session scheduled around now, or opens an ad-hoc "live now"
    session (the fair runs 24 hours a day). Marks it live and broadcasts on commit."""
    channel = _channel_checked(public_id, key)
    now = timezone.now()
    exhibitor = Exhibitor.objects.select_for_update().get(pk=channel.exhibitor_id)
    session = (
        LiveSession.objects.select_for_update()
        .filter(exhibitor=exhibitor, source=LiveSession.Source.RTMP)
        .filter(
            Q(status=LiveSession.Status.LIVE)
            | Q(
                status=LiveSession.Status.SCHEDULED,
                scheduled_start__lte=now + EARLY_START,
                scheduled_end__gt=now,
            )
        )
        .order_by("status", "scheduled_start")  # "live" sorts before "scheduled"
        .first()
    )
    if session is None:
        next_start = (
            LiveSession.objects.filter(exhibitor=exhibitor, scheduled_start__gt=now)
            .exclude(status=LiveSession.Status.CANCELLED)
            .order_by("scheduled_start")
            .values_list("scheduled_start", flat=True)
            .first()
        )
        end = min(now + ADHOC_LENGTH, next_start) if next_start else now + ADHOC_LENGTH
        session = _save_checked(
            LiveSession(
                exhibitor=exhibitor,
                title=_("%(company)s is live now") % {"company": exhibitor.display_name},
                kind=LiveSession.Kind.SHOWCASE,
                scheduled_start=now,
                scheduled_end=end,
                is_adhoc=True,
            )
        )
    if session.status != LiveSession.Status.LIVE:
        session.status = LiveSession.Status.LIVE
        session.started_at = now
        session.save(update_fields=["status", "started_at", "updated_at"])
    channel.current_session = session
    channel.save(update_fields=["current_session"])
    exhibitor_live_set(exhibitor_id=exhibitor.pk, is_live=True)
    _broadcast(session, "session.live")
    logger.info("stream started: channel=%s session=%s", channel.public_id, session.pk)
    return session


def _session_end(session: LiveSession, channel: StreamChannel | None) -> None:
    """End a live session (locked by the caller) now: ``ended``, its recording queued to
    become the replay, the channel and the company no longer live; the room and the
    programme hear ``session.ended`` on commit."""
    now = timezone.now()
    if session.status == LiveSession.Status.LIVE:
        session.status = LiveSession.Status.ENDED
        session.ended_at = now
        if session.is_adhoc or session.scheduled_end > now:
            session.scheduled_end = max(now, session.scheduled_start + timedelta(seconds=1))
        session.save(update_fields=["status", "ended_at", "scheduled_end", "updated_at"])
        session_replay_make.delay_on_commit(session_id=session.pk)
    if channel is not None and channel.current_session_id == session.pk:
        channel.current_session = None
        channel.save(update_fields=["current_session"])
    exhibitor_live_set(exhibitor_id=session.exhibitor_id, is_live=False)
    _broadcast(session, "session.ended")


@transaction.atomic
def media_publish_done(*, public_id: str, key: str) -> LiveSession | None:
    """The encoder stopped: the current session ends (its recording becomes the replay)."""
    channel = _channel_checked_for_done(public_id, key)
    if channel is None or channel.current_session_id is None:
        return None
    session = LiveSession.objects.select_for_update().get(pk=channel.current_session_id)
    _session_end(session, channel)
    logger.info("stream ended: channel=%s session=%s", channel.public_id, session.pk)
    return session


def media_update(*, public_id: str, key: str) -> None:
    """nginx-rtmp's ``on_update`` (every ``notify_update_timeout`` while a publisher is
    connected): raises ``MediaRefused`` when the publisher must be dropped: the key no
    longer matches (rotated), the company is not approved (suspended), or the channel has
    no live session any more (an organiser stopped it). A read only: no lock, no write."""
    channel = (
        StreamChannel.objects.select_related("exhibitor", "current_session")
        .filter(public_id=public_id)
        .first()
    )
    stored = channel.key_hash if channel is not None else keys.key_hash("no-such-channel")
    if not keys.key_matches(key, stored) or channel is None:
        raise MediaRefused("bad key")
    if channel.exhibitor.status != Exhibitor.Status.APPROVED:
        raise MediaRefused("exhibitor not approved")
    session = channel.current_session
    if session is None or session.status != LiveSession.Status.LIVE:
        raise MediaRefused("no live session")


# --- Stopping streams ------------------------------------------------------------------------


def _streams_end(sessions: list[LiveSession], channel: StreamChannel | None) -> None:
    """End these locked live sessions and have the media server drop the company's
    publisher once committed (``on_update`` refuses it within 10 s anyway, should the
    control call fail)."""
    for session in sessions:
        _session_end(session, channel)
    if channel is not None:
        media_publisher_drop.delay_on_commit(public_id=channel.public_id)


@transaction.atomic
def session_stream_stop(*, actor: User, session_id: int, reason: str = "") -> LiveSession:
    """Organisers: end a live session now and cut its encoder (audited ``stream.stop``).
    The company may go live again; to keep it off the air, suspend it."""
    if not actor.is_organiser:
        raise Forbidden(_("Only organisers can stop a stream."))
    session = LiveSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None:
        raise NotFound("No such session.")
    if session.status != LiveSession.Status.LIVE:
        raise ApplicationError(_("This session is not live."), code="not_live")
    channel = StreamChannel.objects.select_for_update().filter(exhibitor_id=session.exhibitor_id)
    channel = channel.first()
    _streams_end([session], channel)
    audit_record(
        actor=actor,
        action="stream.stop",
        target=session,
        reason=reason,
        data={"exhibitor_id": session.exhibitor_id, "cause": "organiser"},
    )
    logger.info("stream stopped by an organiser: session=%s", session.pk)
    return session


@transaction.atomic
def exhibitor_streams_stop(*, exhibitor_id: int, actor_id: int | None = None) -> list[int]:
    """A company was suspended: end its live sessions now and cut its encoder (the key is
    refused from now on, see ``_channel_checked``). Idempotent; returns the ended session
    ids. Each ended session is audited ``stream.stop`` (cause: suspension) under the
    suspending organiser's name."""
    channel = StreamChannel.objects.select_for_update().filter(exhibitor_id=exhibitor_id).first()
    sessions = list(
        LiveSession.objects.select_for_update()
        .filter(exhibitor_id=exhibitor_id, status=LiveSession.Status.LIVE)
        .order_by("pk")
    )
    if not sessions and (channel is None or channel.current_session_id is None):
        return []
    _streams_end(sessions, channel)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    for session in sessions:
        audit_record(
            actor=actor,
            action="stream.stop",
            target=session,
            data={"exhibitor_id": exhibitor_id, "cause": "exhibitor_suspended"},
        )
    logger.info("streams stopped for suspended exhibitor %s: %s", exhibitor_id, sessions)
    return [session.pk for session in sessions]


def _channel_checked_for_done(public_id: str, key: str) -> StreamChannel | None:
    """publish-done is honoured for the channel whatever its key now is (a key rotated
    mid-stream must still end that stream), but only for a real channel."""
    return StreamChannel.objects.select_for_update().filter(public_id=public_id).first()
