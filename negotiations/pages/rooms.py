"""The room pages: starting a negotiation from the button, the room itself, and the room's
actions that work as plain forms (assign, close, reopen).

**Starting.** The "One-to-one negotiation" button (``{% negotiate_button %}``) POSTs straight
here for a signed-in buyer; a signed-out visitor follows a link to the same URL, logs in, and
comes back to a confirmation page (GET) whose form POSTs. Either way the POST calls
``negotiation_open`` (which reuses the room and posts the context as a system message) and
redirects to the room; a refusal (own company, not a buyer, organiser, too many new rooms)
is shown in plain words as a message on the page the button was on.

**The room.** Loaded through ``negotiation_for_party``: parties only, 404 for everyone else
exactly as for a room that does not exist. Opening it marks it read up to its newest message
(the page shows them; the script marks later ones as they arrive); a suspended exhibitor's
room is read-only (a notice instead of the composer and the quote form). The page carries the
newest history (JSON, in the reader's language), the other side's read marker, the purchase
intents and, for the quote form, the exhibitor's catalogue; ``static/negotiations/js/room.js``
makes it live."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buyers.models import BuyerProfile
from exhibitors.models import CURRENCIES, Exhibitor, Incoterm, Product
from exhibitors.selectors import (
    exhibitors_public,
    membership_get,
    products_public,
    staff_of,
)
from fair.exceptions import ApplicationError, NotFound
from livestream.models import LiveSession
from negotiations import events, selectors, services
from negotiations.models import MESSAGE_MAX_LENGTH, Negotiation, Quote, Side
from negotiations.pages.badge import nav_unread_forget
from negotiations.uploads import ALLOWED_EXTENSIONS, MAX_ATTACHMENT_BYTES

#: Products offered in the quote form's list (the rest can be named as free text).
QUOTE_PRODUCTS_LIMIT = 300


def positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def safe_next(request: HttpRequest, fallback: str) -> str:
    """``next`` from the form or query when it points into this site, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def buyer_profile_of(user) -> BuyerProfile | None:
    try:
        return user.buyer_profile
    except BuyerProfile.DoesNotExist:
        return None


def jsonable(data):
    """The JSON the websocket and the API send for the same objects (one encoder)."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


# --- Starting -------------------------------------------------------------------------------


def _start_refusal(request: HttpRequest, exhibitor) -> tuple[str, object]:
    """Why this user cannot start a negotiation with ``exhibitor`` (plain words, the same
    rules ``negotiation_open`` applies), and their membership of it; ``""`` when they can."""
    user = request.user
    if user.is_organiser:
        return _("Organisers cannot negotiate with exhibitors."), None
    membership = membership_get(user=user, exhibitor_id=exhibitor.pk)
    if membership is not None:
        return _(
            "You are staff of %(company)s: buyers start negotiations with you, and you answer "
            "them in your company's shared inbox."
        ) % {"company": exhibitor.display_name}, membership
    if buyer_profile_of(user) is None:
        return _("Only buyers can start a negotiation. Complete your buyer profile first."), None
    return "", None


@login_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    """GET: the confirmation page (where a visitor lands after logging in). POST: open (or
    reuse) the room and go there. ``session`` / ``product``: where the button was pressed."""
    exhibitor = exhibitors_public().filter(pk=exhibitor_id).first()
    if exhibitor is None:
        raise NotFound("No such exhibitor.")
    data = request.POST if request.method == "POST" else request.GET
    session_id = positive_int(data.get("session"))
    product_id = positive_int(data.get("product"))
    back = safe_next(request, reverse("exhibitors:booth", args=[exhibitor.slug]))

    if request.method == "POST":
        try:
            negotiation, created = services.negotiation_open(
                buyer=request.user,
                exhibitor_id=exhibitor.pk,
                session_id=session_id,
                product_id=product_id,
            )
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect(back)
        if created:
            messages.success(
                request,
                _(
                    "Your negotiation with %(company)s is open. Only you and the company's "
                    "staff can read it."
                )
                % {"company": exhibitor.display_name},
            )
        return redirect("negotiations:room", negotiation_id=negotiation.pk)

    refusal, membership = _start_refusal(request, exhibitor)
    session = product = None
    if session_id:
        session = (
            LiveSession.objects.filter(pk=session_id, exhibitor=exhibitor)
            .exclude(status=LiveSession.Status.CANCELLED)
            .only("pk", "title")
            .first()
        )
    if product_id:
        product = products_public().filter(pk=product_id, exhibitor=exhibitor).first()
    existing = None
    if not refusal:
        existing = (
            Negotiation.objects.filter(buyer=request.user, exhibitor=exhibitor)
            .only("pk", "status")
            .first()
        )
    return render(
        request,
        "negotiations/start.html",
        {
            "exhibitor": exhibitor,
            "session": session,
            "product": product,
            "refusal": refusal,
            "membership": membership,
            "existing": existing,
            "back": back,
        },
    )


# --- The room -------------------------------------------------------------------------------


def buyer_card(negotiation: Negotiation) -> dict:
    """Who the buyer is, for the exhibitor's staff: the email only where the buyer consented
    to share contact details in negotiations."""
    buyer = negotiation.buyer
    profile = buyer_profile_of(buyer)
    consented = bool(profile and profile.share_contact_in_negotiations)
    return {
        "name": buyer.full_name or buyer.get_short_name(),
        "company": profile.company if profile else "",
        "country": profile.country.name if profile and profile.country else "",
        "buyer_type": profile.get_buyer_type_display() if profile else "",
        "email": buyer.email if consented else "",
    }


def _quote_products(negotiation: Negotiation, party) -> list[Product]:
    if party.is_buyer:
        products = products_public().filter(exhibitor_id=negotiation.exhibitor_id)
    else:
        # Staff may quote any product of their catalogue, published or not.
        products = Product.objects.filter(exhibitor_id=negotiation.exhibitor_id)
    return list(
        products.order_by("name", "pk").only(
            "pk",
            "name",
            "moq_unit",
            "currency",
            "incoterm",
            "port_of_loading",
            "lead_time_days",
        )[:QUOTE_PRODUCTS_LIMIT]
    )


def _intents(negotiation: Negotiation) -> list[dict]:
    rows = []
    for quote in selectors.quotes_of(negotiation=negotiation).filter(status=Quote.Status.ACCEPTED):
        intent = events.intent_json(getattr(quote, "purchase_intent", None))
        if intent is not None:
            rows.append({**intent, "quote": quote.pk, "version": quote.version})
    return rows


@login_required
@require_GET
def room(request: HttpRequest, negotiation_id: int) -> HttpResponse:
    negotiation, party = selectors.negotiation_for_party(
        user=request.user, negotiation_id=negotiation_id
    )
    my_read_field = "buyer_last_read_seq" if party.is_buyer else "exhibitor_last_read_seq"
    if negotiation.last_seq > getattr(negotiation, my_read_field):
        # Opening the room shows its newest messages: they are read (the other side's "Seen"
        # follows), and the navigation badge counts again without this room.
        services.negotiation_mark_read(
            user=request.user, negotiation_id=negotiation.pk, seq=negotiation.last_seq
        )
        nav_unread_forget(request.user.pk)
    negotiation = Negotiation.objects.select_related(
        "buyer", "buyer__buyer_profile", "exhibitor", "exhibitor__booth", "assigned_to"
    ).get(pk=negotiation.pk)
    history, more_before = selectors.messages_before(negotiation=negotiation)
    initial = {
        "messages": [events.message_json(message) for message in history],
        "more_before": more_before,
        "intents": _intents(negotiation),
    }
    if party.is_buyer:
        other_read = negotiation.exhibitor_last_read_seq
        my_read = negotiation.buyer_last_read_seq
    else:
        other_read = negotiation.buyer_last_read_seq
        my_read = negotiation.exhibitor_last_read_seq
    exhibitor = negotiation.exhibitor
    reply = selectors.exhibitor_median_first_reply(exhibitor_id=exhibitor.pk)
    booth = getattr(exhibitor, "booth", None)
    return render(
        request,
        "negotiations/room.html",
        {
            "negotiation": negotiation,
            "party": party,
            "is_buyer": party.is_buyer,
            "exhibitor": exhibitor,
            "booth_published": bool(booth is not None and booth.is_published),
            "buyer_card": None if party.is_buyer else buyer_card(negotiation),
            "reply": reply,
            "initial": jsonable(initial),
            "other_read": other_read,
            "my_read": my_read,
            "staff": list(staff_of(exhibitor=exhibitor)) if party.can_assign else [],
            "products": _quote_products(negotiation, party),
            "currencies": CURRENCIES,
            "incoterms": Incoterm.choices,
            "max_length": MESSAGE_MAX_LENGTH,
            "max_upload": MAX_ATTACHMENT_BYTES,
            "accept_extensions": ",".join(f".{ext}" for ext in ALLOWED_EXTENSIONS),
            "side_buyer": Side.BUYER,
            # A suspended exhibitor's rooms stay readable; nobody writes in them.
            "read_only": exhibitor.status == Exhibitor.Status.SUSPENDED,
            "zone_name": getattr(request, "time_zone_name", ""),
            "default_language": settings.LANGUAGE_CODE,
        },
    )


# --- Room actions (plain forms) -------------------------------------------------------------


def _back_to_room(request: HttpRequest, negotiation_id: int) -> HttpResponse:
    return redirect(safe_next(request, reverse("negotiations:room", args=[negotiation_id])))


@login_required
@require_POST
def assign(request: HttpRequest, negotiation_id: int) -> HttpResponse:
    """Assign the room to a staff member, or to nobody (``assignee`` empty). Owners and admins
    of the exhibitor (403 for sales staff and the buyer, 404 for non-parties)."""
    assignee_id = positive_int(request.POST.get("assignee"))
    try:
        negotiation = services.negotiation_assign(
            user=request.user, negotiation_id=negotiation_id, assignee_id=assignee_id
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if negotiation.assigned_to is None:
            messages.success(request, _("The negotiation is no longer assigned to anyone."))
        else:
            messages.success(
                request,
                _("Assigned to %(name)s.")
                % {"name": negotiation.assigned_to.full_name or negotiation.assigned_to.email},
            )
    return _back_to_room(request, negotiation_id)


@login_required
@require_POST
def close(request: HttpRequest, negotiation_id: int) -> HttpResponse:
    """Either party closes the room (nobody writes until it is reopened)."""
    try:
        services.negotiation_close(user=request.user, negotiation_id=negotiation_id)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The negotiation is closed. You can reopen it at any time."))
    return _back_to_room(request, negotiation_id)


@login_required
@require_POST
def reopen(request: HttpRequest, negotiation_id: int) -> HttpResponse:
    """Either party reopens a closed room."""
    try:
        services.negotiation_reopen(user=request.user, negotiation_id=negotiation_id)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The negotiation is open again."))
    return _back_to_room(request, negotiation_id)
