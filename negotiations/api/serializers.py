"""Serializers of the negotiations API: plain ``Serializer`` classes. Inputs name every field
a caller may set (anything else is ignored: no ``exhibitor``, ``status``, ``side`` or
``author`` ever comes from a request). Outputs describe the JSON shapes of
``negotiations.events`` (the same shapes the websocket carries); the views build the data
with those functions and these classes document it in the OpenAPI schema."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from exhibitors.api.serializers import StrictCharField
from exhibitors.models import CURRENCIES, Incoterm
from negotiations.models import MESSAGE_MAX_LENGTH, Message, Negotiation, Side
from negotiations.selectors import INBOX_VIEWS


class ClientIdField(serializers.RegexField):
    def __init__(self, **kwargs):
        super().__init__(
            r"^[A-Za-z0-9-]{8,64}$",
            error_messages={"invalid": _("Use 8 to 64 letters, digits or dashes (a UUID).")},
            **kwargs,
        )


# --- Inputs ---------------------------------------------------------------------------------


class OpenInputSerializer(serializers.Serializer):
    exhibitor = serializers.IntegerField(min_value=1)
    session = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    product = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class BuyerListFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Negotiation.Status.choices, required=False)


class InboxFilterSerializer(serializers.Serializer):
    view = serializers.ChoiceField(choices=[(v, v) for v in INBOX_VIEWS], required=False)
    assigned = serializers.RegexField(r"^(me|none|\d{1,18})$", required=False)


class HistoryFilterSerializer(serializers.Serializer):
    before = serializers.IntegerField(min_value=1, required=False)
    after = serializers.IntegerField(min_value=0, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=200, required=False)

    def validate(self, attrs):
        if "before" in attrs and "after" in attrs:
            raise serializers.ValidationError(_("Ask for messages before or after, not both."))
        return attrs


class MessageSendInputSerializer(serializers.Serializer):
    client_id = ClientIdField()
    body = StrictCharField(max_length=MESSAGE_MAX_LENGTH, trim_whitespace=True)


class AttachmentSendInputSerializer(serializers.Serializer):
    client_id = ClientIdField()
    file = serializers.FileField(allow_empty_file=False)
    caption = serializers.CharField(
        max_length=MESSAGE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class QuoteSendInputSerializer(serializers.Serializer):
    client_id = ClientIdField()
    previous = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    product = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    product_text = serializers.CharField(max_length=200, required=False, allow_blank=True)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit = serializers.CharField(max_length=20)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=4)
    currency = serializers.ChoiceField(choices=[(c, c) for c in CURRENCIES])
    incoterm = serializers.ChoiceField(choices=Incoterm.choices)
    port = serializers.CharField(max_length=100, required=False, allow_blank=True)
    lead_time_days = serializers.IntegerField(
        min_value=0, max_value=720, required=False, allow_null=True
    )
    payment_terms = serializers.CharField(max_length=200, required=False, allow_blank=True)
    sample_terms = serializers.CharField(max_length=200, required=False, allow_blank=True)
    valid_until = serializers.DateTimeField()


class ReadInputSerializer(serializers.Serializer):
    seq = serializers.IntegerField(min_value=0)


class AssignInputSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(min_value=1, allow_null=True)


# --- Outputs (schema of the dicts built by negotiations.events) -----------------------------


class UserRefOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ExhibitorRefOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()


class BuyerCardOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    company = serializers.CharField()
    country = serializers.CharField()
    email = serializers.EmailField(
        allow_null=True, help_text="Only where the buyer consented to share contact details."
    )


class IntentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=20, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()


class QuoteOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    seq = serializers.IntegerField(help_text="The sequence number of the quote's message.")
    version = serializers.IntegerField()
    previous = serializers.IntegerField(allow_null=True)
    side = serializers.ChoiceField(choices=Side.choices)
    status = serializers.CharField(help_text="open, accepted, declined, superseded, expired")
    product = serializers.IntegerField(allow_null=True)
    product_text = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, coerce_to_string=True)
    unit = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)
    currency = serializers.CharField()
    incoterm = serializers.CharField()
    port = serializers.CharField()
    lead_time_days = serializers.IntegerField(allow_null=True)
    payment_terms = serializers.CharField()
    sample_terms = serializers.CharField()
    valid_until = serializers.DateTimeField()
    total = serializers.DecimalField(max_digits=20, decimal_places=2, coerce_to_string=True)
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    intent = IntentOutputSerializer(allow_null=True)


class AttachmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.CharField(help_text="The permission-checked download URL.")


class MessageOutputSerializer(serializers.Serializer):
    type = serializers.CharField(default="nego.message")
    negotiation = serializers.IntegerField()
    seq = serializers.IntegerField()
    client_id = serializers.CharField()
    kind = serializers.ChoiceField(choices=Message.Kind.choices)
    side = serializers.CharField(help_text="buyer, exhibitor, or empty for system messages.")
    author = UserRefOutputSerializer(allow_null=True)
    body = serializers.CharField()
    event = serializers.CharField()
    sent_at = serializers.DateTimeField()
    attachment = AttachmentOutputSerializer(allow_null=True)
    quote = QuoteOutputSerializer(allow_null=True)


class MessagePageOutputSerializer(serializers.Serializer):
    messages = MessageOutputSerializer(many=True)
    more_before = serializers.BooleanField(required=False)
    complete = serializers.BooleanField(required=False)


class RoomOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    exhibitor = ExhibitorRefOutputSerializer()
    buyer = UserRefOutputSerializer()
    status = serializers.CharField(help_text="open, agreed or closed")
    last_seq = serializers.IntegerField()
    last_message_at = serializers.DateTimeField()
    last_speaker = serializers.CharField()
    buyer_last_read_seq = serializers.IntegerField()
    exhibitor_last_read_seq = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    unread = serializers.IntegerField()


class StaffRoomOutputSerializer(RoomOutputSerializer):
    buyer_card = BuyerCardOutputSerializer()
    assigned_to = UserRefOutputSerializer(allow_null=True)


class RoomDetailOutputSerializer(StaffRoomOutputSerializer):
    side = serializers.ChoiceField(choices=Side.choices)
    role = serializers.CharField()
    reply_time_minutes = serializers.IntegerField(
        allow_null=True, help_text="The exhibitor's median first-reply time (the badge)."
    )


class OpenOutputSerializer(serializers.Serializer):
    created = serializers.BooleanField()
    negotiation = RoomOutputSerializer()


class AckOutputSerializer(serializers.Serializer):
    created = serializers.BooleanField()
    message = MessageOutputSerializer()


class ReadOutputSerializer(serializers.Serializer):
    seq = serializers.IntegerField()


class UnreadOutputSerializer(serializers.Serializer):
    rooms = serializers.IntegerField()


class FiguresOutputSerializer(serializers.Serializer):
    rooms = serializers.DictField(child=serializers.IntegerField())
    quotes = serializers.DictField(child=serializers.IntegerField())
    intents = serializers.DictField()
