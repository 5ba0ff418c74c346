"""Rooms: opening (who may contact whom), read markers, assignment, closing and reopening."""

from __future__ import annotations

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest, Least
from django.utils.translation import gettext as _

from buyers.models import BuyerProfile
from exhibitors.models import Exhibitor, ExhibitorMember, Product
from fair.exceptions import ApplicationError, Forbidden, NotFound
from fair.models import User
from livestream.models import LiveSession
from negotiations import events
from negotiations.models import Message, Negotiation, PurchaseIntent
from negotiations.selectors import negotiation_for_party, party_user_ids, staff_user_ids
from negotiations.services.room_log import send_on_commit, system, write_refusal

#: New rooms a buyer may open per hour (SECURITY I: room creation is rate limited).
ROOMS_PER_HOUR = 20


def _buyer_check(user: User, exhibitor_id: int) -> None:
    if not user.is_authenticated or not user.is_active:
        raise ApplicationError(_("Log in to start a negotiation."), code="sign_in_required")
    if user.is_organiser:
        raise ApplicationError(
            _("Organisers cannot negotiate with exhibitors."), code="not_a_buyer"
        )
    if ExhibitorMember.objects.filter(exhibitor_id=exhibitor_id, user=user).exists():
        raise ApplicationError(
            _("You cannot open a negotiation with your own company."), code="own_company"
        )
    if not BuyerProfile.objects.filter(user=user).exists():
        raise ApplicationError(
            _("Only buyers can start a negotiation. Complete your buyer profile first."),
            code="not_a_buyer",
        )


def _context(
    exhibitor: Exhibitor, session_id: int | None, product_id: int | None
) -> tuple[LiveSession | None, Product | None]:
    """The live session and product the button was pressed from, if they are this
    exhibitor's (a mismatched id is ignored, never shown)."""
    session = product = None
    if session_id:
        session = (
            LiveSession.objects.filter(pk=session_id, exhibitor=exhibitor)
            .exclude(status=LiveSession.Status.CANCELLED)
            .first()
        )
    if product_id:
        product = Product.objects.public().filter(pk=product_id, exhibitor=exhibitor).first()
    return session, product


def _rooms_rate_limit(user: User) -> None:
    key = f"nego:rooms-opened:{user.pk}"
    cache.add(key, 0, timeout=3600)
    try:
        opened = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        opened = 1
    if opened > ROOMS_PER_HOUR:
        raise ApplicationError(
            _("You have opened many negotiations in the last hour. Please try again later."),
            code="rate_limited",
        )


@transaction.atomic
def negotiation_open(
    *,
    buyer: User,
    exhibitor_id: int,
    session_id: int | None = None,
    product_id: int | None = None,
) -> tuple[Negotiation, bool]:
    """Open (or reuse) the room between ``buyer`` and the exhibitor; returns ``(room,
    created)``. Posts the context ("Asked from the live session X about product Y") as a
    system message when the room is new or the context differs from the last one posted;
    reopens a closed room. On commit: ``nego.room`` (new rooms) and ``nego.message``.

    Refused (``ApplicationError``) for non-buyers, organisers and the exhibitor's own staff;
    an exhibitor that is not approved answers ``NotFound`` as a missing one does. New rooms
    are limited to ``ROOMS_PER_HOUR`` per buyer."""
    _buyer_check(buyer, exhibitor_id)
    exhibitor = Exhibitor.objects.approved().filter(pk=exhibitor_id).first()
    if exhibitor is None:
        raise NotFound("No such exhibitor.")
    session, product = _context(exhibitor, session_id, product_id)
    created = False
    negotiation = (
        Negotiation.objects.select_for_update(of=("self",))
        .filter(buyer=buyer, exhibitor=exhibitor)
        .select_related("exhibitor", "buyer")
        .first()
    )
    if negotiation is None:
        _rooms_rate_limit(buyer)
        try:
            with transaction.atomic():
                Negotiation.objects.create(
                    buyer=buyer,
                    exhibitor=exhibitor,
                    opened_from_session=session,
                    opened_from_product=product,
                )
                created = True
        except IntegrityError:
            pass  # the same buyer opened it a moment ago (another tab): use that one
        negotiation = (
            Negotiation.objects.select_for_update(of=("self",))
            .select_related("exhibitor", "buyer")
            .get(buyer=buyer, exhibitor=exhibitor)
        )
    context = f"s{session.pk if session else ''}:p{product.pk if product else ''}"
    if negotiation.status == Negotiation.Status.CLOSED:
        negotiation.status = Negotiation.Status.OPEN
        negotiation.save(update_fields=["status", "updated_at"])
        system(negotiation, Message.Event.REOPENED)
        send_on_commit(
            party_user_ids(negotiation=negotiation),
            {"type": "nego.status", "negotiation": negotiation.pk, "status": negotiation.status},
        )
    if created or (context != "s:p" and context != negotiation.last_context):
        data = {}
        if session is not None:
            data.update(session=session.pk, session_title=session.title)
        if product is not None:
            data.update(product=product.pk, product_name=product.name)
        event = Message.Event.OPENED if created else Message.Event.CONTEXT
        negotiation.last_context = context
        negotiation.save(update_fields=["last_context", "updated_at"])
        system(negotiation, event, data)
    if created:
        send_on_commit(
            party_user_ids(negotiation=negotiation),
            {"type": "nego.room", "negotiation": negotiation.pk, **events.room_json(negotiation)},
        )
    return negotiation, created


def negotiation_mark_read(*, user: User, negotiation_id: int, seq: int) -> int:
    """Move the caller's side's read marker up to ``seq`` (never down, never past the last
    message); returns the marker. One conditional UPDATE, no lock: markers only grow. On
    commit, when it moved: ``nego.read`` to both parties (read receipts)."""
    negotiation, party = negotiation_for_party(user=user, negotiation_id=negotiation_id)
    try:
        seq = int(seq)
    except (TypeError, ValueError):
        raise ApplicationError(_("A read marker is a sequence number."), code="invalid") from None
    field = "buyer_last_read_seq" if party.is_buyer else "exhibitor_last_read_seq"
    with transaction.atomic():
        target = Least(Value(seq), F("last_seq"))
        moved = Negotiation.objects.filter(pk=negotiation.pk, **{f"{field}__lt": target}).update(
            **{field: Greatest(F(field), target)}
        )
        current = (
            Negotiation.objects.filter(pk=negotiation.pk).values_list(field, flat=True).first()
        )
        if moved:
            send_on_commit(
                party_user_ids(negotiation=negotiation),
                {
                    "type": "nego.read",
                    "negotiation": negotiation.pk,
                    "side": party.side,
                    "seq": current,
                },
            )
    return current


@transaction.atomic
def negotiation_assign(*, user: User, negotiation_id: int, assignee_id: int | None) -> Negotiation:
    """Assign the room to a staff member of its exhibitor (or to nobody). Owners and admins
    only (``Forbidden`` for sales staff, ``NotFound`` for non-parties). On commit:
    ``nego.assigned`` to the exhibitor's staff (the buyer is not told who handles it)."""
    negotiation, party = negotiation_for_party(
        user=user, negotiation_id=negotiation_id, for_update=True
    )
    if not party.can_assign:
        raise Forbidden("Only the company's owners and admins can assign negotiations.")
    assignee = None
    if assignee_id is not None:
        member = (
            ExhibitorMember.objects.select_related("user")
            .filter(
                exhibitor_id=negotiation.exhibitor_id, user_id=assignee_id, user__is_active=True
            )
            .first()
        )
        if member is None:
            raise ApplicationError(_("Choose a member of your company's staff."), code="not_staff")
        assignee = member.user
    negotiation.assigned_to = assignee
    negotiation.save(update_fields=["assigned_to", "updated_at"])
    send_on_commit(
        staff_user_ids(exhibitor_id=negotiation.exhibitor_id),
        {
            "type": "nego.assigned",
            "negotiation": negotiation.pk,
            "assigned_to": events.user_json(assignee),
        },
    )
    return negotiation


def _status_set(*, user: User, negotiation_id: int, close: bool) -> Negotiation:
    negotiation, _party = negotiation_for_party(
        user=user, negotiation_id=negotiation_id, for_update=True
    )
    S = Negotiation.Status
    if close:
        if negotiation.status == S.CLOSED:
            return negotiation
        status, event = S.CLOSED, Message.Event.CLOSED
    else:
        if negotiation.status != S.CLOSED:
            return negotiation
        # A suspended exhibitor's room stays as it is (read-only); so does a closed one.
        refusal = write_refusal(exhibitor_status=negotiation.exhibitor.status, room_status=S.OPEN)
        if refusal is not None:
            raise refusal
        has_intent = PurchaseIntent.objects.filter(negotiation=negotiation).exists()
        status, event = (S.AGREED if has_intent else S.OPEN), Message.Event.REOPENED
    negotiation.status = status
    negotiation.save(update_fields=["status", "updated_at"])
    system(negotiation, event)
    send_on_commit(
        party_user_ids(negotiation=negotiation),
        {"type": "nego.status", "negotiation": negotiation.pk, "status": status},
    )
    return negotiation


@transaction.atomic
def negotiation_close(*, user: User, negotiation_id: int) -> Negotiation:
    """Either party closes the room: nobody writes until it is reopened (open quotes can no
    longer be decided). Closing a closed room changes nothing. On commit: a system message
    and ``nego.status``."""
    return _status_set(user=user, negotiation_id=negotiation_id, close=True)


@transaction.atomic
def negotiation_reopen(*, user: User, negotiation_id: int) -> Negotiation:
    """Either party reopens a closed room (agreed again if it has a purchase intent). On
    commit: a system message and ``nego.status``."""
    return _status_set(user=user, negotiation_id=negotiation_id, close=False)
