"""Negotiation test data, built through the real services."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from exhibitors.models import Exhibitor
from fair.models import User
from negotiations import services
from negotiations.models import Message, Negotiation, Quote
from tests.exhibitors.factories import add_member, make_exhibitor, owner_of
from tests.factories import make_buyer, make_organiser

_names = itertools.count(1)


def client_id() -> str:
    return str(uuid.uuid4())


def make_room(
    *,
    exhibitor: Exhibitor | None = None,
    buyer: User | None = None,
    session_id: int | None = None,
    product_id: int | None = None,
) -> Negotiation:
    exhibitor = exhibitor or make_exhibitor(name=f"Maker {next(_names)}")
    buyer = buyer or make_buyer()
    room, _created = services.negotiation_open(
        buyer=buyer, exhibitor_id=exhibitor.pk, session_id=session_id, product_id=product_id
    )
    return room


def send(user: User, room: Negotiation, body: str = "Hello", *, cid: str | None = None) -> Message:
    message, _created = services.message_send(
        user=user, negotiation_id=room.pk, client_id=cid or client_id(), body=body
    )
    return message


def quote_data(**overrides) -> dict:
    data = {
        "product_text": "55-inch 4K Smart TV",
        "quantity": Decimal("500"),
        "unit": "pieces",
        "unit_price": Decimal("182.50"),
        "currency": "USD",
        "incoterm": "FOB",
        "port": "Shenzhen",
        "lead_time_days": 35,
        "payment_terms": "30% deposit, 70% against B/L copy",
        "sample_terms": "2 free samples, buyer pays courier",
        "valid_until": timezone.now() + timedelta(days=7),
    }
    data.update(overrides)
    return data


def make_quote(
    user: User, room: Negotiation, *, previous: Quote | None = None, **overrides
) -> Quote:
    message, _created = services.quote_send(
        user=user,
        negotiation_id=room.pk,
        client_id=client_id(),
        data=quote_data(**overrides),
        previous_id=previous.pk if previous else None,
    )
    return message.quote


class Cast:
    """Everyone the privacy rules name, around one room of buyer A with exhibitor X."""

    def __init__(self) -> None:
        self.exhibitor = make_exhibitor(name=f"Sunrise {next(_names)}")
        self.other_exhibitor = make_exhibitor(name=f"Other {next(_names)}")
        self.buyer = make_buyer(full_name="Anne Buyer", company="Anne Imports")
        self.other_buyer = make_buyer(full_name="Bob Buyer", company="Bob Trading")
        self.owner = owner_of(self.exhibitor)
        self.admin = add_member(self.exhibitor, "admin", full_name="Adam Admin")
        self.sales = add_member(self.exhibitor, "sales", full_name="Sam Sales")
        self.other_staff = owner_of(self.other_exhibitor)
        self.organiser = make_organiser()
        self.room = make_room(exhibitor=self.exhibitor, buyer=self.buyer)

    def role(self, name: str) -> User | None:
        return {
            "anon": None,
            "buyer": self.buyer,
            "other_buyer": self.other_buyer,
            "owner": self.owner,
            "admin": self.admin,
            "sales": self.sales,
            "other_staff": self.other_staff,
            "organiser": self.organiser,
        }[name]


PARTIES = ("buyer", "owner", "admin", "sales")
NON_PARTIES = ("anon", "other_buyer", "other_staff", "organiser")
