from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from fair.models import Announcement, AuditEntry, Category, FairEdition, Hall, Notice, User
from fair.selectors import fair_edition_cache_clear


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "language", "time_zone", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "language"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name", "language", "time_zone")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )


@admin.register(FairEdition)
class FairEditionAdmin(admin.ModelAdmin):
    list_display = ["name", "starts_at", "ends_at", "time_zone"]
    list_filter = ["time_zone"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        fair_edition_cache_clear()


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "slug", "position"]
    list_filter = ["kind", "parent"]
    search_fields = ["name", "slug"]
    list_select_related = ["parent"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by services only (with their broadcasts and audit entries): the
    admin shows them, never changes them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Hall)
class HallAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "edition", "position"]
    list_filter = ["edition"]
    search_fields = ["code", "name"]
    filter_horizontal = ["sections"]
    list_select_related = ["edition"]


@admin.register(Announcement)
class AnnouncementAdmin(ReadOnlyAdmin):
    list_display = ["title", "audience", "created_at", "expires_at", "withdrawn_at", "email_status"]
    list_filter = ["audience", "email_status", "created_at"]
    search_fields = ["title", "body"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit log is append-only: no add, change or delete here (and the database refuses
    updates and deletes anyway)."""

    list_display = ["created_at", "actor_email", "action", "target_label", "reason"]
    list_filter = ["action", "target_type", "created_at"]
    search_fields = ["actor_email", "target_label", "reason", "target_id"]
    date_hierarchy = "created_at"


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["user", "text", "created_at", "read_at"]
    list_filter = ["created_at"]
    search_fields = ["user__email", "text"]
    list_select_related = ["user"]
