"""The Django admin for negotiations: rooms, quotes and purchase intents, read-only, with
search and filters for staff and organisers.

**Never a message's contents or an attachment** (issue 6 item 8, issue 7 item 8; SECURITY
A7): there is no ``Message`` or ``Attachment`` admin, no inline of either, and the room's
page shows counters (``last_seq``), not its log. Quotes show their figures but not the free
text the parties typed into them (payment and sample terms). Everything is read-only: rooms
change only through ``negotiations.services``, which keep the room's counters and sequence
numbers consistent and broadcast the change to the parties."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from negotiations.models import Negotiation, PurchaseIntent, Quote


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by organisers (and by staff with the view permission), changed by nobody."""

    show_full_result_count = False  # no second COUNT(*) over ~100k rooms per page

    def has_module_permission(self, request):
        return request.user.is_organiser or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_organiser or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Negotiation)
class NegotiationAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "exhibitor",
        "buyer",
        "status",
        "assigned_to",
        "last_seq",
        "created_at",
        "last_message_at",
    ]
    list_filter = ["status", "created_at", "last_speaker"]
    search_fields = ["=id", "exhibitor__display_name", "buyer__email", "buyer__full_name"]
    list_select_related = ["exhibitor", "buyer", "assigned_to"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    fields = [
        "buyer",
        "exhibitor",
        "status",
        "assigned_to",
        "opened_from_session",
        "opened_from_product",
        "last_seq",
        "last_speaker",
        "first_reply_seconds",
        "created_at",
        "last_message_at",
        "updated_at",
    ]
    readonly_fields = fields


@admin.register(Quote)
class QuoteAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "negotiation",
        "exhibitor",
        "version",
        "side",
        "status",
        "product_text",
        "quantity",
        "unit_price",
        "currency",
        "incoterm",
        "created_at",
    ]
    list_filter = ["status", "side", "currency", "incoterm", "created_at"]
    search_fields = ["=negotiation__id", "negotiation__exhibitor__display_name", "product_text"]
    list_select_related = ["negotiation__exhibitor"]
    ordering = ["-created_at", "-pk"]
    fields = [
        "negotiation",
        "version",
        "previous",
        "side",
        "status",
        "product",
        "product_text",
        "quantity",
        "unit",
        "unit_price",
        "currency",
        "incoterm",
        "port",
        "lead_time_days",
        "valid_until",
        "created_by",
        "decided_by",
        "decided_at",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("exhibitor"), ordering="negotiation__exhibitor__display_name")
    def exhibitor(self, quote: Quote) -> str:
        return quote.negotiation.exhibitor.display_name


@admin.register(PurchaseIntent)
class PurchaseIntentAdmin(ReadOnlyAdmin):
    list_display = ["pk", "negotiation", "exhibitor", "total", "currency", "created_at"]
    list_filter = ["currency", "created_at"]
    search_fields = ["=negotiation__id", "negotiation__exhibitor__display_name"]
    list_select_related = ["negotiation__exhibitor"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    fields = ["negotiation", "quote", "total", "currency", "accepted_by", "created_at"]
    readonly_fields = fields

    @admin.display(description=_("exhibitor"), ordering="negotiation__exhibitor__display_name")
    def exhibitor(self, intent: PurchaseIntent) -> str:
        return intent.negotiation.exhibitor.display_name
