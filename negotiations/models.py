"""One-to-one negotiation rooms between a buyer and an exhibitor: messages (with sequence
numbers per room), private attachments, structured quotes and the purchase intents accepted
quotes become.

Privacy is decided in ``negotiations.selectors.negotiation_for_party`` and nowhere else: the
models carry no "visible to" logic of their own. A room's counters (``last_seq``, the two read
markers, ``last_speaker``, ``first_reply_seconds``) are written only by
``negotiations.services`` while it holds the room's row lock, so sequence numbers have no gaps
and the inbox filters read them without touching the messages table."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from exhibitors.models import Incoterm, validate_currency
from fair.storage import private_storage

MESSAGE_MAX_LENGTH = 5000
CENT = Decimal("0.01")


class Side(models.TextChoices):
    """Which party wrote something: the buyer, or (any staff member of) the exhibitor."""

    BUYER = "buyer", _("Buyer")
    EXHIBITOR = "exhibitor", _("Exhibitor")


class NegotiationQuerySet(models.QuerySet):
    def unread_for_buyer(self):
        return self.filter(last_seq__gt=F("buyer_last_read_seq"))

    def unread_for_exhibitor(self):
        return self.filter(last_seq__gt=F("exhibitor_last_read_seq"))


class Negotiation(models.Model):
    """The one room between a buyer and an exhibitor (reused whenever the buyer presses the
    button again)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        AGREED = "agreed", _("Agreed")
        CLOSED = "closed", _("Closed")

    # No index of their own: the inbox indexes and the unique pair below start with them
    # (an index fewer to update for every message).
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="negotiations_as_buyer",
        verbose_name=_("buyer"),
        db_index=False,
    )
    exhibitor = models.ForeignKey(
        "exhibitors.Exhibitor",
        on_delete=models.CASCADE,
        related_name="negotiations",
        verbose_name=_("exhibitor"),
        db_index=False,
    )
    opened_from_session = models.ForeignKey(
        "livestream.LiveSession",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened from live session"),
    )
    opened_from_product = models.ForeignKey(
        "exhibitors.Product",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened about product"),
    )
    #: The last context posted as a system message ("s<id>:p<id>"), so pressing the button
    #: again from the same page does not repeat it.
    last_context = models.CharField(max_length=40, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="negotiations_assigned",
        verbose_name=_("assigned to"),
    )
    #: Set when the room opens (its first system message), then by every message.
    last_message_at = models.DateTimeField(default=timezone.now)
    #: The last sequence number handed out in this room (every kind of message counts).
    last_seq = models.PositiveIntegerField(default=0)
    buyer_last_read_seq = models.PositiveIntegerField(default=0)
    #: Shared by the exhibitor's staff: the company's inbox is one inbox.
    exhibitor_last_read_seq = models.PositiveIntegerField(default=0)
    #: Who wrote the last text, attachment or quote ("" before anyone did): drives the
    #: "awaiting our reply" / "awaiting the buyer" filters.
    last_speaker = models.CharField(max_length=10, choices=Side.choices, blank=True)
    buyer_first_message_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: Seconds from the buyer's first message to the first staff reply after it.
    first_reply_seconds = models.PositiveIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NegotiationQuerySet.as_manager()

    class Meta:
        ordering = ["-last_message_at", "-pk"]
        verbose_name = _("negotiation")
        verbose_name_plural = _("negotiations")
        constraints = [
            models.UniqueConstraint(fields=["buyer", "exhibitor"], name="negotiation_unique_pair"),
            models.CheckConstraint(
                condition=Q(buyer_last_read_seq__lte=F("last_seq"))
                & Q(exhibitor_last_read_seq__lte=F("last_seq")),
                name="negotiation_read_within_seq",
            ),
        ]
        indexes = [
            # The buyer's list and the exhibitor's shared inbox, newest activity first.
            models.Index(fields=["buyer", "-last_message_at"], name="nego_buyer_inbox_idx"),
            models.Index(
                fields=["exhibitor", "status", "-last_message_at"], name="nego_exhibitor_inbox_idx"
            ),
            models.Index(
                fields=["exhibitor", "-last_message_at"], name="nego_exhibitor_recent_idx"
            ),
            # The organisers' figures: rooms opened today and per day.
            models.Index(fields=["created_at"], name="nego_created_idx"),
            models.Index(fields=["exhibitor", "assigned_to"], name="nego_exhibitor_assigned_idx"),
            # The first-reply median per exhibitor reads only rooms that have one.
            models.Index(
                fields=["exhibitor", "first_reply_seconds"],
                name="nego_first_reply_idx",
                condition=Q(first_reply_seconds__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Negotiation {self.pk}"

    def unread_for(self, side: str) -> int:
        read = self.buyer_last_read_seq if side == Side.BUYER else self.exhibitor_last_read_seq
        return max(0, self.last_seq - read)


class Message(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        ATTACHMENT = "attachment", _("Attachment")
        QUOTE = "quote", _("Quote")
        SYSTEM = "system", _("System")

    class Event(models.TextChoices):
        """What a system message reports (its text is rendered in the reader's language)."""

        OPENED = "opened", _("Opened")
        CONTEXT = "context", _("Context")
        QUOTE_ACCEPTED = "quote_accepted", _("Quote accepted")
        QUOTE_DECLINED = "quote_declined", _("Quote declined")
        QUOTE_EXPIRED = "quote_expired", _("Quote expired")
        CLOSED = "closed", _("Closed")
        REOPENED = "reopened", _("Reopened")

    # Indexed by the (negotiation, seq) unique constraint, which starts with it.
    negotiation = models.ForeignKey(
        Negotiation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    #: Empty for system messages.
    side = models.CharField(max_length=10, choices=Side.choices, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    body = models.TextField(max_length=MESSAGE_MAX_LENGTH, blank=True)
    #: A system message's event and its parameters (names, numbers: never other rooms' data).
    event = models.CharField(max_length=20, choices=Event.choices, blank=True)
    data = models.JSONField(default=dict, blank=True)
    client_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["negotiation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["negotiation", "seq"], name="nego_message_seq_unique"),
            models.UniqueConstraint(
                fields=["negotiation", "author", "client_id"],
                condition=~Q(client_id=""),
                name="nego_message_client_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.seq} of negotiation {self.negotiation_id}"

    @property
    def text(self) -> str:
        """What a reader sees: the body, or a system event in the active language."""
        if self.kind == self.Kind.SYSTEM:
            return system_text(self.event, self.data)
        return self.body


def system_text(event: str, data: dict) -> str:
    """The sentence of a system message, in the active language."""
    E = Message.Event
    if event in (E.OPENED, E.CONTEXT):
        session, product = data.get("session_title"), data.get("product_name")
        if session and product:
            return gettext("Asked from the live session “%(session)s” about “%(product)s”.") % {
                "session": session,
                "product": product,
            }
        if session:
            return gettext("Asked from the live session “%(session)s”.") % {"session": session}
        if product:
            return gettext("Asked about “%(product)s”.") % {"product": product}
        return gettext("Negotiation opened.")
    if event == E.QUOTE_ACCEPTED:
        return gettext("Quote %(version)s accepted: purchase intent of %(total)s %(currency)s.") % {
            "version": data.get("version", ""),
            "total": data.get("total", ""),
            "currency": data.get("currency", ""),
        }
    if event == E.QUOTE_DECLINED:
        return gettext("Quote %(version)s declined.") % {"version": data.get("version", "")}
    if event == E.QUOTE_EXPIRED:
        return gettext("Quote %(version)s expired.") % {"version": data.get("version", "")}
    if event == E.CLOSED:
        return gettext("Negotiation closed.")
    if event == E.REOPENED:
        return gettext("Negotiation reopened.")
    return ""


def attachment_upload_to(instance, filename: str) -> str:
    # Server-generated names only: nothing of the uploader's file name reaches storage, and
    # the random part makes keys unguessable (SECURITY A10).
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"negotiations/{instance.negotiation_id}/{uuid.uuid4().hex}.{extension}"


class Attachment(models.Model):
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="attachment")
    #: Denormalised from the message, for the storage path and for per-room queries.
    negotiation = models.ForeignKey(
        Negotiation, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(storage=private_storage, upload_to=attachment_upload_to)
    original_name = models.CharField(max_length=255)
    #: The name downloads carry (sanitised; the extension of the checked content).
    safe_name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.safe_name


class Quote(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        SUPERSEDED = "superseded", _("Superseded")
        EXPIRED = "expired", _("Expired")

    negotiation = models.ForeignKey(Negotiation, on_delete=models.CASCADE, related_name="quotes")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="quote")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    side = models.CharField(max_length=10, choices=Side.choices)
    product = models.ForeignKey(
        "exhibitors.Product",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    product_text = models.CharField(_("product"), max_length=200)
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=14,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    unit = models.CharField(_("unit"), max_length=20)
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=14,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    incoterm = models.CharField(_("Incoterm"), max_length=3, choices=Incoterm.choices)
    port = models.CharField(_("port"), max_length=100, blank=True)
    lead_time_days = models.PositiveSmallIntegerField(
        _("lead time (days)"), null=True, blank=True, validators=[MaxValueValidator(720)]
    )
    payment_terms = models.CharField(_("payment terms"), max_length=200, blank=True)
    sample_terms = models.CharField(_("sample terms"), max_length=200, blank=True)
    valid_until = models.DateTimeField(_("valid until"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    previous = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="counters",
        verbose_name=_("previous version"),
    )
    version = models.PositiveSmallIntegerField(default=1)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A quote is countered (or revised) once: two counters racing cannot both win.
            models.UniqueConstraint(
                fields=["previous"],
                condition=Q(previous__isnull=False),
                name="nego_quote_one_counter",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="nego_quote_quantity_pos"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="nego_quote_price_nonneg"),
        ]
        indexes = [
            # The expiry task reads open quotes by validity.
            models.Index(
                fields=["valid_until"],
                name="nego_quote_open_valid_idx",
                condition=Q(status="open"),
            ),
            models.Index(fields=["negotiation", "status"], name="nego_quote_room_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Quote {self.pk} (v{self.version})"

    @property
    def total(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


class PurchaseIntent(models.Model):
    """What an accepted quote becomes: the deal figures organisers count (never contents)."""

    quote = models.OneToOneField(Quote, on_delete=models.CASCADE, related_name="purchase_intent")
    negotiation = models.ForeignKey(
        Negotiation, on_delete=models.CASCADE, related_name="purchase_intents"
    )
    total = models.DecimalField(max_digits=20, decimal_places=2)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["currency"], name="nego_intent_currency_idx"),
            models.Index(fields=["created_at"], name="nego_intent_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.total} {self.currency}"
