"""REST API of the negotiation rooms (mounted under ``/api/v1/negotiations/``).

Every view calls one selector or service of ``negotiations``; the party check is
``negotiation_for_party`` (directly or through the service): a room, quote or attachment of
someone else answers 404 exactly like one that does not exist, with DRF's generic body (no
id, name or file name). Anonymous callers get 403 (session authentication sends no
challenge). Sends are idempotent on ``client_id``: a retry answers 200 with the stored
message instead of 201. Bodies use the shapes of ``negotiations.events``, the same the
websocket carries."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from exhibitors.api.base import PAGE_PARAMETERS, ApiPagination, ExhibitorsApiView, page_of
from negotiations import events, selectors, services
from negotiations.api.serializers import (
    AckOutputSerializer,
    AssignInputSerializer,
    AttachmentSendInputSerializer,
    BuyerListFilterSerializer,
    FiguresOutputSerializer,
    HistoryFilterSerializer,
    InboxFilterSerializer,
    MessagePageOutputSerializer,
    MessageSendInputSerializer,
    OpenInputSerializer,
    OpenOutputSerializer,
    QuoteOutputSerializer,
    QuoteSendInputSerializer,
    ReadInputSerializer,
    ReadOutputSerializer,
    RoomDetailOutputSerializer,
    RoomOutputSerializer,
    StaffRoomOutputSerializer,
    UnreadOutputSerializer,
)
from negotiations.models import Side

TAG = "negotiations"


def jsonable(data):
    """The exact JSON the websocket sends for the same object (one encoder for both)."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def buyer_card(negotiation) -> dict:
    """Who the buyer is, for the exhibitor's staff: the email only where the buyer consented
    to share contact details in negotiations."""
    buyer = negotiation.buyer
    profile = getattr(buyer, "buyer_profile", None)
    consented = bool(profile and profile.share_contact_in_negotiations)
    return {
        "id": buyer.pk,
        "name": buyer.full_name,
        "company": profile.company if profile else "",
        "country": str(profile.country) if profile else "",
        "email": buyer.email if consented else None,
    }


def room_line(negotiation, *, side: str) -> dict:
    data = {**events.room_json(negotiation), "unread": negotiation.unread_for(side)}
    if side == Side.EXHIBITOR:
        data["buyer_card"] = buyer_card(negotiation)
        data["assigned_to"] = events.user_json(negotiation.assigned_to)
    return data


class NegotiationsApiView(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]


def _page(request, view, rows, build) -> Response:
    paginator = ApiPagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(jsonable([build(row) for row in page]))


# --- Rooms ----------------------------------------------------------------------------------


class NegotiationListApi(NegotiationsApiView):
    @extend_schema(
        operation_id="negotiation_list",
        tags=[TAG],
        summary="The caller's rooms as a buyer, most recent activity first",
        parameters=[BuyerListFilterSerializer, *PAGE_PARAMETERS],
        responses=page_of(RoomOutputSerializer),
    )
    def get(self, request):
        query = BuyerListFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rooms = selectors.negotiations_of_buyer(
            user=request.user, status=query.validated_data.get("status")
        ).select_related("buyer")
        return _page(request, self, rooms, lambda room: room_line(room, side=Side.BUYER))


class NegotiationInboxApi(NegotiationsApiView):
    @extend_schema(
        operation_id="negotiation_inbox",
        tags=[TAG],
        summary="The exhibitor's shared inbox (any staff role)",
        description=(
            "``view``: awaiting_us (the buyer wrote last), awaiting_buyer, agreed, closed, "
            "unread. ``assigned``: me, none or a staff member's user id."
        ),
        parameters=[InboxFilterSerializer, *PAGE_PARAMETERS],
        responses=page_of(StaffRoomOutputSerializer),
    )
    def get(self, request, exhibitor_id: int):
        query = InboxFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rooms = selectors.negotiations_of_exhibitor(
            user=request.user,
            exhibitor_id=exhibitor_id,
            view=query.validated_data.get("view"),
            assigned=query.validated_data.get("assigned"),
        ).select_related("exhibitor")
        return _page(request, self, rooms, lambda room: room_line(room, side=Side.EXHIBITOR))


class NegotiationUnreadApi(NegotiationsApiView):
    @extend_schema(
        operation_id="negotiation_unread",
        tags=[TAG],
        summary="How many rooms have unread messages (the navigation badge)",
        responses=UnreadOutputSerializer,
    )
    def get(self, request):
        return Response({"rooms": selectors.negotiations_unread_count(user=request.user)})


class NegotiationOpenApi(NegotiationsApiView):
    error_codes = ("404",)  # the exhibitor, product or session in the body

    @extend_schema(
        operation_id="negotiation_open",
        tags=[TAG],
        summary="Open (or reuse) the room with an exhibitor",
        description=(
            "Buyers only, never with their own company; an exhibitor that is not approved "
            "answers 404. ``session`` / ``product`` name where the button was pressed and "
            "are posted as the room's context. 201 for a new room, 200 for the existing one."
        ),
        request=OpenInputSerializer,
        responses={200: OpenOutputSerializer, 201: OpenOutputSerializer},
    )
    def post(self, request):
        data = OpenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        negotiation, created = services.negotiation_open(
            buyer=request.user,
            exhibitor_id=data.validated_data["exhibitor"],
            session_id=data.validated_data.get("session"),
            product_id=data.validated_data.get("product"),
        )
        body = {"created": created, "negotiation": room_line(negotiation, side=Side.BUYER)}
        return Response(
            jsonable(body), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class NegotiationDetailApi(NegotiationsApiView):
    @extend_schema(
        operation_id="negotiation_detail",
        tags=[TAG],
        summary="A room, with the caller's side and role in it (parties only)",
        responses=RoomDetailOutputSerializer,
    )
    def get(self, request, negotiation_id: int):
        negotiation, party = selectors.negotiation_for_party(
            user=request.user, negotiation_id=negotiation_id
        )
        negotiation = (
            type(negotiation)
            .objects.select_related("buyer", "buyer__buyer_profile", "exhibitor", "assigned_to")
            .get(pk=negotiation.pk)
        )
        data = {
            **events.room_json(negotiation),
            "unread": negotiation.unread_for(party.side),
            "buyer_card": buyer_card(negotiation),
            "assigned_to": events.user_json(negotiation.assigned_to),
            "side": party.side,
            "role": party.role,
        }
        reply = selectors.exhibitor_median_first_reply(exhibitor_id=negotiation.exhibitor_id)
        data["reply_time_minutes"] = reply.minutes if reply else None
        if party.is_buyer:
            # The company decides who handles a room; buyers see only its name.
            data["assigned_to"] = None
        return Response(jsonable(data))


class NegotiationMessagesApi(NegotiationsApiView):
    @extend_schema(
        operation_id="negotiation_messages",
        tags=[TAG],
        summary="History: a page going backwards (before), or what was missed (after)",
        description=(
            "Without parameters: the newest 50 messages. ``before=S``: up to ``limit`` "
            "(default 50) messages with seq < S, and ``more_before``. ``after=S``: up to "
            "``limit`` (default 200) messages with seq > S, and ``complete``. Ascending."
        ),
        parameters=[HistoryFilterSerializer],
        responses=MessagePageOutputSerializer,
    )
    def get(self, request, negotiation_id: int):
        negotiation, _party = selectors.negotiation_for_party(
            user=request.user, negotiation_id=negotiation_id
        )
        query = HistoryFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        if "after" in params:
            messages, complete = selectors.messages_after(
                negotiation=negotiation,
                after_seq=params["after"],
                limit=params.get("limit", selectors.RESUME_LIMIT),
            )
            body = {"messages": [events.message_json(m) for m in messages], "complete": complete}
        else:
            messages, more = selectors.messages_before(
                negotiation=negotiation,
                before_seq=params.get("before"),
                limit=params.get("limit", selectors.HISTORY_PAGE),
            )
            body = {"messages": [events.message_json(m) for m in messages], "more_before": more}
        return Response(jsonable(body))


def _ack(message, created: bool) -> Response:
    return Response(
        jsonable({"created": created, "message": events.message_json(message)}),
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


class MessageSendApi(NegotiationsApiView):
    @extend_schema(
        operation_id="negotiation_message_send",
        tags=[TAG],
        summary="Send a text message (idempotent on client_id)",
        request=MessageSendInputSerializer,
        responses={200: AckOutputSerializer, 201: AckOutputSerializer},
    )
    def post(self, request, negotiation_id: int):
        # Access first: an outsider gets 404 before any input is judged.
        selectors.negotiation_for_party(user=request.user, negotiation_id=negotiation_id)
        data = MessageSendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message, created = services.message_send(
            user=request.user, negotiation_id=negotiation_id, **data.validated_data
        )
        return _ack(message, created)


class AttachmentSendApi(NegotiationsApiView):
    parser_classes = [MultiPartParser, FormParser]
    error_field = "file"

    @extend_schema(
        operation_id="negotiation_attachment_send",
        tags=[TAG],
        summary="Send a file: PDF, JPEG/PNG/WebP image, XLSX or CSV, up to 20 MB",
        description=(
            "Checked by content (a renamed executable is refused with 400 under ``file``); "
            "stored privately, downloaded only through the permission-checked URL."
        ),
        request={"multipart/form-data": AttachmentSendInputSerializer},
        responses={200: AckOutputSerializer, 201: AckOutputSerializer},
    )
    def post(self, request, negotiation_id: int):
        selectors.negotiation_for_party(user=request.user, negotiation_id=negotiation_id)
        data = AttachmentSendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        message, created = services.attachment_send(
            user=request.user,
            negotiation_id=negotiation_id,
            client_id=data.validated_data["client_id"],
            upload=upload,
            name=upload.name,
            caption=data.validated_data["caption"],
        )
        return _ack(message, created)


# --- Quotes ---------------------------------------------------------------------------------


class QuoteListApi(NegotiationsApiView):
    @extend_schema(
        operation_id="negotiation_quote_list",
        tags=[TAG],
        summary="Every quote of a room, oldest first, with their purchase intents",
        responses=QuoteOutputSerializer(many=True),
    )
    def get(self, request, negotiation_id: int):
        negotiation, _party = selectors.negotiation_for_party(
            user=request.user, negotiation_id=negotiation_id
        )
        quotes = selectors.quotes_of(negotiation=negotiation).select_related("message")
        return Response(jsonable([events.quote_event(q)["quote"] for q in quotes]))


class QuoteSendApi(NegotiationsApiView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        operation_id="negotiation_quote_send",
        tags=[TAG],
        summary="Send a quote, or counter / revise an open one (``previous``)",
        request=QuoteSendInputSerializer,
        responses={200: AckOutputSerializer, 201: AckOutputSerializer},
    )
    def post(self, request, negotiation_id: int):
        selectors.negotiation_for_party(user=request.user, negotiation_id=negotiation_id)
        data = QuoteSendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        client_id = fields.pop("client_id")
        previous = fields.pop("previous", None)
        message, created = services.quote_send(
            user=request.user,
            negotiation_id=negotiation_id,
            client_id=client_id,
            data=fields,
            previous_id=previous,
        )
        return _ack(message, created)


def _quote_response(quote) -> Response:
    quote = type(quote).objects.select_related("message", "purchase_intent").get(pk=quote.pk)
    return Response(jsonable(events.quote_event(quote)["quote"]))


class QuoteAcceptApi(NegotiationsApiView):
    @extend_schema(
        operation_id="negotiation_quote_accept",
        tags=[TAG],
        summary="Accept the other side's open quote: a purchase intent",
        request=None,
        responses=QuoteOutputSerializer,
    )
    def post(self, request, quote_id: int):
        intent = services.quote_accept(user=request.user, quote_id=quote_id)
        return _quote_response(intent.quote)


class QuoteDeclineApi(NegotiationsApiView):
    @extend_schema(
        operation_id="negotiation_quote_decline",
        tags=[TAG],
        summary="Decline the other side's open quote",
        request=None,
        responses=QuoteOutputSerializer,
    )
    def post(self, request, quote_id: int):
        return _quote_response(services.quote_decline(user=request.user, quote_id=quote_id))


# --- Room actions ---------------------------------------------------------------------------


class ReadApi(NegotiationsApiView):
    @extend_schema(
        operation_id="negotiation_read",
        tags=[TAG],
        summary="Mark the room read up to seq (for the caller's side)",
        request=ReadInputSerializer,
        responses=ReadOutputSerializer,
    )
    def post(self, request, negotiation_id: int):
        selectors.negotiation_for_party(user=request.user, negotiation_id=negotiation_id)
        data = ReadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        seq = services.negotiation_mark_read(
            user=request.user, negotiation_id=negotiation_id, seq=data.validated_data["seq"]
        )
        return Response({"seq": seq})


class AssignApi(NegotiationsApiView):
    @extend_schema(
        operation_id="negotiation_assign",
        tags=[TAG],
        summary="Assign the room to a staff member, or to nobody (owner or admin)",
        request=AssignInputSerializer,
        responses=StaffRoomOutputSerializer,
    )
    def post(self, request, negotiation_id: int):
        selectors.negotiation_for_party(user=request.user, negotiation_id=negotiation_id)
        data = AssignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        negotiation = services.negotiation_assign(
            user=request.user,
            negotiation_id=negotiation_id,
            assignee_id=data.validated_data["assignee"],
        )
        negotiation = (
            type(negotiation)
            .objects.select_related("buyer", "buyer__buyer_profile", "exhibitor", "assigned_to")
            .get(pk=negotiation.pk)
        )
        return Response(jsonable(room_line(negotiation, side=Side.EXHIBITOR)))


class _StatusApi(NegotiationsApiView):
    service = None

    def post(self, request, negotiation_id: int):
        negotiation = type(self).service(user=request.user, negotiation_id=negotiation_id)
        _negotiation, party = selectors.negotiation_for_party(
            user=request.user, negotiation_id=negotiation.pk
        )
        negotiation = (
            type(negotiation)
            .objects.select_related("buyer", "buyer__buyer_profile", "exhibitor", "assigned_to")
            .get(pk=negotiation.pk)
        )
        return Response(jsonable(room_line(negotiation, side=party.side)))


class CloseApi(_StatusApi):
    service = staticmethod(services.negotiation_close)

    @extend_schema(
        operation_id="negotiation_close",
        tags=[TAG],
        summary="Close the room (either party)",
        request=None,
        responses=RoomOutputSerializer,
    )
    def post(self, request, negotiation_id: int):
        return super().post(request, negotiation_id)


class ReopenApi(_StatusApi):
    service = staticmethod(services.negotiation_reopen)

    @extend_schema(
        operation_id="negotiation_reopen",
        tags=[TAG],
        summary="Reopen a closed room (either party)",
        request=None,
        responses=RoomOutputSerializer,
    )
    def post(self, request, negotiation_id: int):
        return super().post(request, negotiation_id)


# --- Organisers -----------------------------------------------------------------------------


class FiguresApi(NegotiationsApiView):
    @extend_schema(
        operation_id="negotiation_figures",
        tags=[TAG],
        summary="Fair-wide figures for organisers (counts and values, never contents)",
        responses=FiguresOutputSerializer,
    )
    def get(self, request):
        return Response(jsonable(selectors.negotiation_figures(user=request.user)))
