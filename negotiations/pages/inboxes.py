"""The inboxes: a buyer's "My negotiations" and an exhibitor's shared inbox.

Both are one selector query per page of rooms (``negotiations_of_buyer`` /
``negotiations_of_exhibitor``, related rows joined, ``unread`` annotated) plus the
paginator's count: the number of queries does not grow with the number of rooms. The shared
inbox is for the company's staff only (any role); everyone else gets 404 as for a company
that does not exist. Message contents never appear in a list: who, status, last activity,
unread count, and whose turn it is."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from exhibitors.selectors import access_exhibitor, memberships_of, staff_of
from negotiations import selectors
from negotiations.models import Negotiation
from negotiations.pages.badge import nav_unread_forget
from negotiations.pages.rooms import buyer_profile_of

PAGE_SIZE = 20
#: The shared inbox's tabs: ``view`` values of ``negotiations_of_exhibitor`` ("" is all).
INBOX_TABS = [
    ("", _("All")),
    ("awaiting_us", _("Awaiting our reply")),
    ("awaiting_buyer", _("Awaiting the buyer")),
    ("agreed", _("Agreed")),
    ("closed", _("Closed")),
    ("unread", _("Unread")),
]


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
        },
    )
