"""The inboxes: a buyer's "My negotiations" and an exhibitor's shared inbox.

Both are one selector query per page of rooms (``negotiations_of_buyer`` /
``negotiations_of_exhibitor``, related rows joined, ``unread`` annotated), the paginator's
count and one query for the rooms' last messages (``last_messages``): the number of queries
does not grow with the number of rooms. The shared inbox is for the company's staff only (any
role); everyone else gets 404 as for a company that does not exist. A row shows who, status,
last activity, unread count, whose turn it is, and a one-line preview of the last message
(only parties ever see a list row).

**Live.** ``static/negotiations/js/inbox.js`` keeps the page current over the
``/ws/negotiations/`` socket (``nego.message``, ``nego.read``, ``nego.status``,
``nego.assigned``, ``nego.room``): a row on the page takes the new preview, time, unread count
and turn and, on the first page, moves to the top; activity in a room that is not on the page
(or a new room) shows a "refresh" notice instead of changing the page's rows, so pagination
stays right."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from exhibitors.selectors import access_exhibitor, memberships_of, staff_of
from negotiations import selectors
from negotiations.models import Message, Negotiation
from negotiations.pages.badge import nav_unread_forget
from negotiations.pages.rooms import buyer_profile_of

PAGE_SIZE = 20
PREVIEW_CHARS = 140
#: The shared inbox's tabs: ``view`` values of ``negotiations_of_exhibitor`` ("" is all).
INBOX_TABS = [
    ("", _("All")),
    ("awaiting_us", _("Awaiting our reply")),
    ("awaiting_buyer", _("Awaiting the buyer")),
    ("agreed", _("Agreed")),
    ("closed", _("Closed")),
    ("unread", _("Unread")),
]


def last_messages(rows) -> dict[int, Message]:
    """The last message of each room of a page, by room id: one query (rooms read through a
    party selector; the message is the one at the room's ``last_seq``)."""
    if not rows:
        return {}
    messages = Message.objects.filter(
        negotiation_id__in=[row.pk for row in rows], seq=F("negotiation__last_seq")
    ).select_related("attachment", "quote")
    return {message.negotiation_id: message for message in messages}


def preview_text(message: Message | None) -> str:
    """A message as one line of an inbox (the same words inbox.js writes for a live one)."""
    if message is None:
        return ""
    if message.kind == Message.Kind.ATTACHMENT and hasattr(message, "attachment"):
        text = gettext("File: {name}").replace("{name}", message.attachment.safe_name)
    elif message.kind == Message.Kind.QUOTE and hasattr(message, "quote"):
        text = gettext("Quote v{version}").replace("{version}", str(message.quote.version))
    else:
        text = message.text
    return Truncator(" ".join(text.split())).chars(PREVIEW_CHARS)


def _with_previews(rows) -> None:
    last = last_messages(rows)
    for row in rows:
        row.preview = preview_text(last.get(row.pk))


@login_required
@require_GET
def my_negotiations(request: HttpRequest) -> HttpResponse:
    """The buyer's rooms, newest activity first, filterable by status. Exhibitor staff who are
    not buyers land in their company's shared inbox (the navigation bar links here for
    everyone)."""
    user = request.user
    memberships = list(memberships_of(user))
    is_buyer = buyer_profile_of(user) is not None
    if not is_buyer and len(memberships) == 1 and not user.is_organiser:
        return redirect("negotiations:exhibitor_inbox", exhibitor_id=memberships[0].exhibitor_id)
    status = request.GET.get("status") or ""
    if status not in Negotiation.Status.values:
        status = ""
    rooms = selectors.negotiations_of_buyer(user=user, status=status or None)
    nav_unread_forget(user.pk)  # the list and the badge agree
    page = Paginator(rooms, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    replies = (
        selectors.exhibitors_median_first_reply(exhibitor_ids=[r.exhibitor_id for r in rows])
        if rows
        else {}
    )
    for row in rows:
        row.reply = replies.get(row.exhibitor_id)
    _with_previews(rows)
    return render(
        request,
        "negotiations/my_negotiations.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": Negotiation.Status.choices,
            "params": urlencode({"status": status} if status else {}),
            "is_buyer": is_buyer,
            "memberships": memberships,
            "zone_name": getattr(request, "time_zone_name", ""),
        },
    )


@login_required
@require_GET
def exhibitor_inbox(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    """The company's shared inbox (any staff role): filters ``view`` (awaiting_us,
    awaiting_buyer, agreed, closed, unread) and ``assigned`` (me, none, a staff member's id),
    unread markers, assignment, pagination; the leads CSV link."""
    exhibitor, membership = access_exhibitor(user=request.user, exhibitor_id=exhibitor_id)
    view = request.GET.get("view") or ""
    if view not in selectors.INBOX_VIEWS:
        view = ""
    staff = list(staff_of(exhibitor=exhibitor))
    assigned = request.GET.get("assigned") or ""
    staff_ids = {str(member.user_id) for member in staff}
    if assigned not in ("me", "none") and assigned not in staff_ids:
        assigned = ""
    rooms = selectors.negotiations_of_exhibitor(
        user=request.user,
        exhibitor_id=exhibitor.pk,
        view=view or None,
        assigned=assigned or None,
    )
    page = Paginator(rooms, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    nav_unread_forget(request.user.pk)
    for row in rows:
        row.buyer_profile = buyer_profile_of(row.buyer)
    _with_previews(rows)
    return render(
        request,
        "negotiations/exhibitor_inbox.html",
        {
            "exhibitor": exhibitor,
            "membership": membership,
            "page": page,
            "rows": rows,
            "view": view,
            "assigned": assigned,
            "staff": staff,
            "params": urlencode({k: v for k, v in (("view", view), ("assigned", assigned)) if v}),
            "views": INBOX_TABS,
            "zone_name": getattr(request, "time_zone_name", ""),
        },
    )
