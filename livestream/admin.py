from django.contrib import admin

from livestream.models import LiveSession, SessionReminder, StreamChannel, StreamKeyAudit


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


@admin.register(StreamKeyAudit)
class StreamKeyAuditAdmin(admin.ModelAdmin):
    list_display = ["channel", "user", "action", "at"]
    list_filter = ["action"]
    readonly_fields = ["channel", "user", "action", "at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
