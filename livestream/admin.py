from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from livestream import chat
from livestream.models import (
    ChatMessage,
    ChatReport,
    ChatRestriction,
    LiveSession,
    SessionReminder,
    StreamChannel,
    StreamKeyAudit,
)


@admin.register(LiveSession)
class LiveSessionAdmin(admin.ModelAdmin):
    list_display = ["title", "exhibitor", "status", "kind", "scheduled_start", "peak_viewers"]
    list_filter = ["status", "kind", "language", "is_adhoc"]
    search_fields = ["title", "exhibitor__display_name"]
    list_select_related = ["exhibitor"]
    raw_id_fields = ["exhibitor", "pinned_product", "created_by"]
    filter_horizontal = ["featured_products"]
    date_hierarchy = "scheduled_start"


@admin.register(StreamChannel)
class StreamChannelAdmin(admin.ModelAdmin):
    """The key (hash and ciphertext) is never shown here, not even to superusers."""

    list_display = ["exhibitor", "public_id", "key_rotated_at", "current_session"]
    search_fields = ["exhibitor__display_name", "public_id"]
    list_filter = ["exhibitor__status", ("current_session", admin.EmptyFieldListFilter)]
    fields = ["exhibitor", "public_id", "key_rotated_at", "current_session"]
    readonly_fields = fields
    list_select_related = ["exhibitor"]

    def has_add_permission(self, request):
        return False


@admin.register(SessionReminder)
class SessionReminderAdmin(admin.ModelAdmin):
    list_display = ["session", "user", "created_at", "notified_at"]
    raw_id_fields = ["session", "user"]
    search_fields = ["user__email", "session__title"]
    list_filter = [("notified_at", admin.EmptyFieldListFilter), "session__status"]


@admin.register(StreamKeyAudit)
class StreamKeyAuditAdmin(admin.ModelAdmin):
    list_display = ["channel", "user", "action", "at"]
    list_filter = ["action"]
    search_fields = ["channel__exhibitor__display_name", "channel__public_id", "user__email"]
    readonly_fields = ["channel", "user", "action", "at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrganiserViewMixin:
    """Organisers (the group, not Django model permissions) may look here; changes go
    through the chat services, which check the organiser role again."""

    def has_module_permission(self, request):
        return request.user.is_organiser or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_organiser or super().has_view_permission(request, obj)


@admin.register(ChatReport)
class ChatReportAdmin(OrganiserViewMixin, admin.ModelAdmin):
    """The organisers' moderation queue: open reports first, with the reported text."""

    list_display = ["created_at", "status", "message_text", "message_author", "room", "reason"]
    list_filter = ["status", "created_at"]
    search_fields = ["message__body", "message__author_name", "reason"]
    list_select_related = ["message", "message__session"]
    readonly_fields = [
        "message",
        "reporter",
        "reason",
        "status",
        "created_at",
        "resolved_at",
        "resolved_by",
        "decision_note",
    ]
    actions = ["hide_messages", "dismiss"]
    ordering = ["status", "-created_at"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("message"))
    def message_text(self, report):
        return report.message.body[:120]

    @admin.display(description=_("author"))
    def message_author(self, report):
        return report.message.author_name

    @admin.display(description=_("room"))
    def room(self, report):
        return report.message.session.title

    @admin.action(description=_("Hide the reported messages"))
    def hide_messages(self, request, queryset):
        self._resolve(request, queryset, hide=True)

    @admin.action(description=_("Dismiss the reports"))
    def dismiss(self, request, queryset):
        self._resolve(request, queryset, hide=False)

    def _resolve(self, request, queryset, *, hide: bool) -> None:
        try:
            count = chat.chat_report_resolve(
                user=request.user, report_ids=list(queryset.values_list("pk", flat=True)), hide=hide
            )
        except PermissionDenied as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(
            request,
            ngettext("%(n)s report resolved.", "%(n)s reports resolved.", count) % {"n": count},
        )


@admin.register(ChatRestriction)
class ChatRestrictionAdmin(OrganiserViewMixin, admin.ModelAdmin):
    list_display = ["user", "exhibitor", "kind", "until", "created_at", "lifted_at"]
    list_filter = ["kind", ("lifted_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "exhibitor__display_name"]
    list_select_related = ["user", "exhibitor"]
    readonly_fields = [
        "exhibitor",
        "user",
        "kind",
        "until",
        "session",
        "message",
        "created_by",
        "created_at",
        "lifted_at",
        "lifted_by",
    ]
    actions = ["lift"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Lift the selected restrictions"))
    def lift(self, request, queryset):
        for restriction in queryset:
            chat.chat_restriction_lift(user=request.user, restriction_id=restriction.pk)
        self.message_user(request, _("Lifted."))


@admin.register(ChatMessage)
class ChatMessageAdmin(OrganiserViewMixin, admin.ModelAdmin):
    """The stream rooms' public chat, read-only: it was said in front of every viewer, so
    organisers may read it (also hidden messages: moderation needs them). Hiding goes
    through the moderation queue or the room, which broadcast it and write the audit log."""

    list_display = ["created_at", "session", "seq", "author_name", "author_company", "excerpt"]
    list_filter = ["badge", "is_question", ("hidden_at", admin.EmptyFieldListFilter)]
    search_fields = ["body", "author_name", "author_company", "session__title"]
    list_select_related = ["session"]
    show_full_result_count = False  # millions of rows: no second COUNT(*) per page
    readonly_fields = [
        "session",
        "seq",
        "author",
        "client_id",
        "author_name",
        "author_company",
        "badge",
        "body",
        "is_question",
        "answered_at",
        "hidden_at",
        "hidden_by",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("message"))
    def excerpt(self, message):
        return message.body[:120]
