"""What other apps' pages show of negotiations, without importing this app (DESIGN.md: lower
apps compose a higher app's fragment in the template): ``{% load negotiation_tags %}``.

* ``{% nego_unread_count as n %}``: rooms with unread messages for the signed-in user (0 for
  visitors). One query.
* ``{% nego_nav_unread as n %}``: the same number for the navigation bar on every page, cached
  per user for a few seconds (``negotiations.pages.badge``).
* ``{% nego_nav_item %}``: the navigation bar's whole "Negotiations" item (link, that badge,
  and ``static/negotiations/js/nav.js``, which keeps the badge live). Same cost as
  ``nego_nav_unread``.
* ``{% nego_reply_time exhibitor.pk as reply %}``: the exhibitor's median first-reply time
  (``reply.minutes``, ``reply.rooms``) or ``None`` before three rooms were answered (the
  badge on booth and product pages). Cached ten minutes.
* ``{% negotiate_button exhibitor session=session product=product staff=is_staff %}``: the
  "One-to-one negotiation" button (stream room, booth and product pages), with the reply-time
  badge. Hidden for the exhibitor's own staff, organisers and exhibitors that are not
  approved; a signed-in buyer POSTs straight to ``negotiations:start``, a visitor follows a
  link to it (log in, then confirm). A buyer who already has a room with the exhibitor sees
  "Continue the negotiation" and its unread count. At most one query (membership and
  existing room together; none for visitors, or when ``staff`` is passed true).
* ``{% nego_inbox_link exhibitor %}``: the link to the company's shared inbox with its unread
  count, for the exhibitor area's navigation. One query.
* ``{% nego_awaiting_reply %}``: the signed-in buyer's open rooms where the exhibitor spoke
  last (newest first, at most five, with unread counts), for "My fair". One query."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.db.models import Exists, F, OuterRef, Subquery
from django.urls import reverse

from exhibitors.models import Exhibitor, ExhibitorMember
from negotiations.models import Negotiation, Side
from negotiations.pages.badge import nav_unread
from negotiations.selectors import (
    exhibitor_median_first_reply,
    negotiations_of_buyer,
    negotiations_unread_count,
)

AWAITING_REPLY_SHOWN = 5

register = template.Library()


@register.simple_tag(takes_context=True)
def nego_unread_count(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return negotiations_unread_count(user=user)


@register.simple_tag(takes_context=True)
def nego_nav_unread(context) -> int:
    request = context.get("request")
    return nav_unread(getattr(request, "user", None))


@register.inclusion_tag("negotiations/_nav_item.html", takes_context=True)
def nego_nav_item(context) -> dict:
    request = context.get("request")
    return {"unread": nav_unread(getattr(request, "user", None))}


@register.simple_tag
def nego_reply_time(exhibitor_id):
    try:
        return exhibitor_median_first_reply(exhibitor_id=int(exhibitor_id))
    except (TypeError, ValueError):
        return None


@register.filter
def reply_hours(reply) -> int:
    """A reply time in whole hours (at least one), for badges past an hour and a half."""
    minutes = getattr(reply, "minutes", 0) or 0
    return max(1, round(minutes / 60))


def _pk(value) -> int | None:
    value = getattr(value, "pk", value)
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _button_state(user, exhibitor_id: int) -> dict:
    """Whether ``user`` is staff of the exhibitor, and their existing room with it (id and
    unread count), in one query."""
    staff = ExhibitorMember.objects.filter(exhibitor_id=OuterRef("pk"), user=user)
    rooms = Negotiation.objects.filter(exhibitor_id=OuterRef("pk"), buyer=user)
    unread = rooms.annotate(unread=F("last_seq") - F("buyer_last_read_seq")).values("unread")
    row = (
        Exhibitor.objects.filter(pk=exhibitor_id)
        .annotate(
            is_staff=Exists(staff),
            room_id=Subquery(rooms.values("pk")[:1]),
            room_unread=Subquery(unread[:1]),
        )
        .values("is_staff", "room_id", "room_unread")
        .first()
    )
    return row or {"is_staff": False, "room_id": None, "room_unread": None}


@register.inclusion_tag("negotiations/_negotiate_button.html", takes_context=True)
def negotiate_button(context, exhibitor, session=None, product=None, staff=False) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    hidden = {"show": False}
    if exhibitor is None or getattr(exhibitor, "status", None) != Exhibitor.Status.APPROVED:
        return hidden
    if staff or (signed_in and user.is_organiser):
        return hidden
    room_id = room_unread = None
    if signed_in:
        state = _button_state(user, exhibitor.pk)
        if state["is_staff"]:
            return hidden
        room_id, room_unread = state["room_id"], state["room_unread"]
    session_id, product_id = _pk(session), _pk(product)
    query = urlencode({k: v for k, v in (("session", session_id), ("product", product_id)) if v})
    start_url = reverse("negotiations:start", args=[exhibitor.pk])
    return {
        "show": True,
        "exhibitor": exhibitor,
        "signed_in": signed_in,
        "session_id": session_id,
        "product_id": product_id,
        "start_url": start_url,
        "start_link": f"{start_url}?{query}" if query else start_url,
        "room_id": room_id,
        "room_unread": room_unread or 0,
        "reply": exhibitor_median_first_reply(exhibitor_id=exhibitor.pk),
        "next": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("negotiations/_inbox_link.html")
def nego_inbox_link(exhibitor) -> dict:
    unread = Negotiation.objects.filter(exhibitor_id=exhibitor.pk).unread_for_exhibitor().count()
    return {"exhibitor": exhibitor, "unread": unread}


@register.inclusion_tag("negotiations/_awaiting_reply.html", takes_context=True)
def nego_awaiting_reply(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    rooms = []
    if user is not None and user.is_authenticated:
        rooms = list(
            negotiations_of_buyer(user=user, status=Negotiation.Status.OPEN).filter(
                last_speaker=Side.EXHIBITOR
            )[:AWAITING_REPLY_SHOWN]
        )
    return {"rooms": rooms}
