"""The JSON shapes of negotiation objects, shared by the real-time events the services
broadcast, the websocket replies and the REST API, so a message looks the same whichever
door it came through.

Server-to-client event types (every one carries ``"negotiation": <room id>``):

* ``nego.message``: a new message of any kind (``message_json``);
* ``nego.quote``: a quote changed status (accepted, declined, superseded, expired), with
  ``"quote": quote_json`` (and its purchase intent once accepted);
* ``nego.read``: ``{"side": "buyer" | "exhibitor", "seq": n}``: that side read up to ``n``;
* ``nego.status``: ``{"status": "open" | "agreed" | "closed"}``;
* ``nego.assigned``: ``{"assigned_to": {"id", "name"} | null}`` (exhibitor staff only);
* ``nego.room``: a new room, ``room_json`` (its inbox line);
* ``nego.typing``: ``{"side", "name"}`` (sent by the consumer, never stored).

They go to ``party_group(user_id)`` of each party (the buyer, each staff member of the
exhibitor): only ``/ws/negotiations/`` sockets join it, so a user's other sockets (notices,
chat) never carry negotiation traffic.

Nothing here reads the database: callers pass objects with their related rows loaded."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from negotiations.models import Attachment, Message, Negotiation, PurchaseIntent, Quote


def party_group(user_id: int) -> str:
    """Every ``/ws/negotiations/`` socket of one user."""
    return f"nego.user.{user_id}"


def user_json(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.full_name or user.get_short_name()}


def attachment_json(attachment: Attachment) -> dict:
    return {
        "id": attachment.pk,
        "name": attachment.safe_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": reverse("negotiations:attachment_download", args=[attachment.pk]),
    }


def intent_json(intent: PurchaseIntent | None) -> dict | None:
    if intent is None:
        return None
    return {
        "id": intent.pk,
        "total": str(intent.total),
        "currency": intent.currency,
        "created_at": intent.created_at,
    }


def _intent_of(quote: Quote) -> PurchaseIntent | None:
    try:
        return quote.purchase_intent
    except PurchaseIntent.DoesNotExist:
        return None


def quote_json(quote: Quote) -> dict:
    return {
        "id": quote.pk,
        "seq": getattr(quote, "_seq", None) or quote.message.seq,
        "version": quote.version,
        "previous": quote.previous_id,
        "side": quote.side,
        "status": quote.status,
        "product": quote.product_id,
        "product_text": quote.product_text,
        "quantity": str(quote.quantity),
        "unit": quote.unit,
        "unit_price": str(quote.unit_price),
        "currency": quote.currency,
        "incoterm": quote.incoterm,
        "port": quote.port,
        "lead_time_days": quote.lead_time_days,
        "payment_terms": quote.payment_terms,
        "sample_terms": quote.sample_terms,
        "valid_until": quote.valid_until,
        "total": str(quote.total),
        "created_at": quote.created_at,
        "decided_at": quote.decided_at,
        "intent": _intent_of(quote),
    }


def _with_intent(data: dict) -> dict:
    data["intent"] = intent_json(data["intent"])
    return data


def _attachment_of(message: Message) -> Attachment | None:
    try:
        return message.attachment
    except Attachment.DoesNotExist:
        return None


def _quote_of(message: Message) -> Quote | None:
    try:
        return message.quote
    except Quote.DoesNotExist:
        return None


def message_json(message: Message, *, language: str | None = None) -> dict:
    """A message as the ``nego.message`` event and history lists carry it. System messages'
    text is rendered in ``language`` (the fair's default for broadcasts, which go to readers
    of every language; pages and API answers use the reader's)."""
    if message.kind == Message.Kind.SYSTEM and language:
        with translation.override(language):
            body = message.text
    else:
        body = message.text
    attachment = _attachment_of(message) if message.kind == Message.Kind.ATTACHMENT else None
    quote = _quote_of(message) if message.kind == Message.Kind.QUOTE else None
    if quote is not None:
        quote._seq = message.seq
    return {
        "type": "nego.message",
        "negotiation": message.negotiation_id,
        "seq": message.seq,
        "client_id": message.client_id,
        "kind": message.kind,
        "side": message.side,
        "author": user_json(message.author) if message.author_id else None,
        "body": body,
        "event": message.event,
        "sent_at": message.created_at,
        "attachment": attachment_json(attachment) if attachment else None,
        "quote": _with_intent(quote_json(quote)) if quote else None,
    }


def broadcast_message_json(message: Message) -> dict:
    return message_json(message, language=settings.LANGUAGE_CODE)


def text_message_json(
    *, negotiation_id: int, seq: int, client_id: str, side: str, author, body: str, sent_at
) -> dict:
    """``message_json`` of a text message from its known fields (the websocket's hot path
    builds no model instance); the same keys, in the same order."""
    return {
        "type": "nego.message",
        "negotiation": negotiation_id,
        "seq": seq,
        "client_id": client_id,
        "kind": Message.Kind.TEXT.value,
        "side": side,
        "author": user_json(author),
        "body": body,
        "event": "",
        "sent_at": sent_at,
        "attachment": None,
        "quote": None,
    }


def quote_event(quote: Quote) -> dict:
    return {
        "type": "nego.quote",
        "negotiation": quote.negotiation_id,
        "quote": _with_intent(quote_json(quote)),
    }


def room_json(negotiation: Negotiation) -> dict:
    """A room's inbox line (no message contents): who, status, counters."""
    return {
        "id": negotiation.pk,
        "exhibitor": {
            "id": negotiation.exhibitor_id,
            "name": negotiation.exhibitor.display_name,
            "slug": negotiation.exhibitor.slug,
        },
        "buyer": user_json(negotiation.buyer),
        "status": negotiation.status,
        "last_seq": negotiation.last_seq,
        "last_message_at": negotiation.last_message_at,
        "last_speaker": negotiation.last_speaker,
        "buyer_last_read_seq": negotiation.buyer_last_read_seq,
        "exhibitor_last_read_seq": negotiation.exhibitor_last_read_seq,
        "created_at": negotiation.created_at,
    }
