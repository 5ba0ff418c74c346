"""Quotes and their state machine: send (or counter, which supersedes the previous
version), accept (a purchase intent), decline, expire."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exhibitors.models import Product
from fair.exceptions import ApplicationError, NotFound
from fair.models import User
from negotiations import events
from negotiations.models import Message, Negotiation, PurchaseIntent, Quote
from negotiations.selectors import Party, negotiation_for_party, party_user_ids, quote_for_party
from negotiations.services.messages import rate_limit
from negotiations.services.room_log import (
    append,
    broadcast_message,
    idempotent,
    notify_on_commit,
    send_on_commit,
    stored_message,
    system,
    writable,
)

QUOTE_MAX_VALIDITY = timedelta(days=366)

# Quote fields a form, the API or the websocket may set (named here; never taken from
# request keys).
QUOTE_FIELDS = (
    "product_text", "quantity", "unit", "unit_price", "currency", "incoterm", "port",
    "lead_time_days", "payment_terms", "sample_terms", "valid_until",
)  # fmt: skip


def _quote_build(*, negotiation: Negotiation, party: Party, user: User, data: dict) -> Quote:
    """A validated, unsaved quote from named fields of ``data``."""
    quote = Quote(negotiation=negotiation, created_by=user, side=party.side)
    for field in QUOTE_FIELDS:
        if field in data and data[field] is not None:
            setattr(quote, field, data[field])
    product = data.get("product")
    product_id = getattr(product, "pk", product)
    if product_id:
        products = Product.objects.filter(exhibitor_id=negotiation.exhibitor_id)
        if party.is_buyer:
            products = products.filter(is_published=True)
        product = products.filter(pk=product_id).first()
        if product is None:
            raise ValidationError({"product": [_("Choose a product of this exhibitor.")]})
        quote.product = product
        if not (quote.product_text or "").strip():
            quote.product_text = product.name
    quote.product_text = (quote.product_text or "").strip()
    quote.unit = (quote.unit or "").strip()
    if isinstance(quote.currency, str):
        quote.currency = quote.currency.upper()
    if isinstance(quote.incoterm, str):
        quote.incoterm = quote.incoterm.upper()
    quote.full_clean(exclude=["negotiation", "message", "created_by", "previous", "status"])
    now = timezone.now()
    if quote.valid_until <= now:
        raise ValidationError({"valid_until": [_("The validity must end in the future.")]})
    if quote.valid_until > now + QUOTE_MAX_VALIDITY:
        raise ValidationError({"valid_until": [_("A quote is valid for at most a year.")]})
    return quote


@idempotent
@transaction.atomic
def quote_send(
    *,
    user: User,
    negotiation_id: int,
    client_id: str,
    data: dict,
    previous_id: int | None = None,
) -> tuple[Message, bool]:
    """Post a structured quote (``data``: ``product`` (id, optional), ``product_text``,
    ``quantity``, ``unit``, ``unit_price``, ``currency``, ``incoterm``, ``port``,
    ``lead_time_days``, ``payment_terms``, ``sample_terms``, ``valid_until``). With
    ``previous_id`` it is a counter-offer (from the other side) or a revision (from the same
    side) of an open quote of this room: the new quote is the next version and the previous
    one is superseded. Either side may quote. Idempotent on ``client_id``. On commit:
    ``nego.message`` (with the quote) and, for a counter, ``nego.quote`` for the superseded
    one. ``ValidationError`` for bad fields."""
    negotiation, party = negotiation_for_party(
        user=user, negotiation_id=negotiation_id, for_update=True
    )
    existing = stored_message(negotiation.pk, user, client_id)
    if existing is not None:
        return existing, False
    writable(negotiation)
    rate_limit(user)
    quote = _quote_build(negotiation=negotiation, party=party, user=user, data=data)
    previous = None
    if previous_id is not None:
        previous = (
            Quote.objects.select_for_update()
            .filter(pk=previous_id, negotiation=negotiation)
            .first()
        )
        if previous is None:
            raise NotFound("No such quote.")
        if previous.status != Quote.Status.OPEN:
            raise ApplicationError(
                _("Only an open quote can be countered; this one is %(status)s.")
                % {"status": previous.get_status_display().lower()},
                code="quote_not_open",
            )
        quote.previous = previous
        quote.version = previous.version + 1
    message = append(
        negotiation,
        kind=Message.Kind.QUOTE,
        side=party.side,
        author=user,
        body=quote.product_text,
        client_id=client_id,
    )
    quote.message = message
    quote.save()
    message.quote = quote
    broadcast_message(negotiation, message)
    if previous is not None:
        previous.status = Quote.Status.SUPERSEDED
        previous.decided_by = user
        previous.decided_at = timezone.now()
        previous.save(update_fields=["status", "decided_by", "decided_at"])
        send_on_commit(party_user_ids(negotiation=negotiation), events.quote_event(previous))
    notify_on_commit(negotiation.pk)
    return message, True


def _quote_lock_for_decision(*, user: User, quote_id: int) -> tuple[Quote, Negotiation, Party]:
    """Lock the quote's room, then the quote, and check it may be decided by ``user``: an
    open quote of the other side that has not expired."""
    quote, negotiation, _party = quote_for_party(user=user, quote_id=quote_id)
    negotiation, party = negotiation_for_party(
        user=user, negotiation_id=negotiation.pk, for_update=True
    )
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    writable(negotiation)
    if quote.status != Quote.Status.OPEN:
        raise ApplicationError(
            _("This quote is %(status)s and can no longer be decided.")
            % {"status": quote.get_status_display().lower()},
            code="quote_not_open",
        )
    if quote.side == party.side:
        raise ApplicationError(
            _("You cannot accept or decline your own side's quote."), code="own_quote"
        )
    if quote.valid_until <= timezone.now():
        raise ApplicationError(_("This quote has expired."), code="quote_expired")
    return quote, negotiation, party


@transaction.atomic
def quote_accept(*, user: User, quote_id: int) -> PurchaseIntent:
    """Accept the other side's open quote: it becomes a purchase intent (total = quantity x
    unit price, in the quote's currency) and the room is agreed. Refused for one's own side's
    quote, and for superseded, declined, expired or already accepted ones; two people
    accepting at once produce one intent (the room's row lock orders them, the second finds
    the quote accepted). On commit: ``nego.quote``, ``nego.message`` (system),
    ``nego.status``."""
    quote, negotiation, _party = _quote_lock_for_decision(user=user, quote_id=quote_id)
    now = timezone.now()
    quote.status = Quote.Status.ACCEPTED
    quote.decided_by = user
    quote.decided_at = now
    quote.save(update_fields=["status", "decided_by", "decided_at"])
    intent = PurchaseIntent.objects.create(
        quote=quote,
        negotiation=negotiation,
        total=quote.total,
        currency=quote.currency,
        accepted_by=user,
    )
    quote.purchase_intent = intent
    audience = party_user_ids(negotiation=negotiation)
    send_on_commit(audience, events.quote_event(quote))
    system(
        negotiation,
        Message.Event.QUOTE_ACCEPTED,
        {
            "quote": quote.pk,
            "version": quote.version,
            "total": str(intent.total),
            "currency": intent.currency,
        },
    )
    if negotiation.status != Negotiation.Status.AGREED:
        negotiation.status = Negotiation.Status.AGREED
        negotiation.save(update_fields=["status", "updated_at"])
        send_on_commit(
            audience, {"type": "nego.status", "negotiation": negotiation.pk, "status": "agreed"}
        )
    notify_on_commit(negotiation.pk)
    return intent


@transaction.atomic
def quote_decline(*, user: User, quote_id: int) -> Quote:
    """Decline the other side's open quote. On commit: ``nego.quote`` and a system
    message."""
    quote, negotiation, _party = _quote_lock_for_decision(user=user, quote_id=quote_id)
    quote.status = Quote.Status.DECLINED
    quote.decided_by = user
    quote.decided_at = timezone.now()
    quote.save(update_fields=["status", "decided_by", "decided_at"])
    send_on_commit(party_user_ids(negotiation=negotiation), events.quote_event(quote))
    system(negotiation, Message.Event.QUOTE_DECLINED, {"quote": quote.pk, "version": quote.version})
    notify_on_commit(negotiation.pk)
    return quote


def quotes_expire(*, now=None, limit: int = 500) -> int:
    """Expire open quotes whose validity has passed (the beat task's work); returns how many.
    Each quote is expired in its own transaction under its room's lock, with a system message
    and ``nego.quote``; quotes being decided right now are skipped and caught next time.
    Idempotent."""
    now = now or timezone.now()
    due = list(
        Quote.objects.filter(status=Quote.Status.OPEN, valid_until__lte=now)
        .order_by("valid_until")
        .values_list("pk", "negotiation_id")[:limit]
    )
    expired = 0
    for quote_id, negotiation_id in due:
        with transaction.atomic():
            negotiation = (
                Negotiation.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("exhibitor")
                .filter(pk=negotiation_id)
                .first()
            )
            if negotiation is None:
                continue
            changed = Quote.objects.filter(
                pk=quote_id, status=Quote.Status.OPEN, valid_until__lte=now
            ).update(status=Quote.Status.EXPIRED, decided_at=now)
            if not changed:
                continue
            quote = Quote.objects.select_related("message").get(pk=quote_id)
            send_on_commit(party_user_ids(negotiation=negotiation), events.quote_event(quote))
            system(
                negotiation,
                Message.Event.QUOTE_EXPIRED,
                {"quote": quote.pk, "version": quote.version},
            )
            expired += 1
    return expired
