"""The template tags other pages use, and the Django admin door kept shut (SECURITY A7: the
admin shows organisers no negotiation contents)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from negotiations.models import Attachment, Message, Negotiation, PurchaseIntent, Quote
from tests.exhibitors.factories import make_exhibitor, owner_of
from tests.negotiations.nego_factories import make_room, send

pytestmark = pytest.mark.django_db


def render(source: str, user=None) -> str:
    request = RequestFactory().get("/")
    request.user = user or AnonymousUser()
    return Template("{% load negotiation_tags %}" + source).render(Context({"request": request}))


def test_unread_count_tag():
    room = make_room()
    send(room.buyer, room, "Hello")

    assert render("{% nego_unread_count as n %}{{ n }}", owner_of(room.exhibitor)) == "1"
    assert render("{% nego_unread_count as n %}{{ n }}", room.buyer) == "0"
    assert render("{% nego_unread_count as n %}{{ n }}") == "0"


def test_reply_time_tag():
    exhibitor = make_exhibitor(name="Quick Co")
    for seconds in (120, 240, 360):
        room = make_room(exhibitor=exhibitor)
        send(room.buyer, room, "Hello")
        Negotiation.objects.filter(pk=room.pk).update(
            buyer_first_message_at=timezone.now() - timedelta(seconds=seconds)
        )
        send(owner_of(exhibitor), room, "Hi")
    source = "{% nego_reply_time exhibitor_id as reply %}{{ reply.minutes }}|{{ reply.rooms }}"

    shown = Template("{% load negotiation_tags %}" + source).render(
        Context({"exhibitor_id": exhibitor.pk})
    )
    none = Template("{% load negotiation_tags %}{% nego_reply_time 0 as r %}{{ r }}").render(
        Context({})
    )

    assert shown == "4|3"
    assert none == "None"


def test_no_negotiation_contents_are_in_the_django_admin():
    registered = set(admin.site._registry)

    # Rooms, quotes and intents are listed for staff (negotiations/admin.py); messages and
    # attachments never are (what the admin pages show is tested in test_nego_org_admin.py).
    assert registered.isdisjoint({Message, Attachment})
    assert {Negotiation, Quote, PurchaseIntent} <= registered
