from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from exhibitors import services
from exhibitors.models import (
    Booth,
    Exhibitor,
    ExhibitorMember,
    ImportJob,
    Product,
    ProductImage,
    StaffInvitation,
)
from fair.exceptions import ApplicationError


class MemberInline(admin.TabularInline):
    model = ExhibitorMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Exhibitor)
class ExhibitorAdmin(admin.ModelAdmin):
    list_display = ["display_name", "country", "status", "is_live", "follower_count", "created_at"]
    list_filter = ["status", "is_live", "country"]
    search_fields = ["display_name", "legal_name", "slug"]
    readonly_fields = ["reviewed_by", "reviewed_at", "follower_count", "is_live"]
    inlines = [MemberInline]
    actions = ["approve"]

    # Organisers review applications here until their own area exists; the approve service
    # checks the organiser role again.
    def has_module_permission(self, request):
        return request.user.is_organiser or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_organiser or super().has_view_permission(request, obj)

    @admin.action(description=_("Approve the selected applications"))
    def approve(self, request, queryset):
        approved = 0
        for exhibitor in queryset:
            try:
                services.exhibitor_approve(actor=request.user, exhibitor_id=exhibitor.pk)
                approved += 1
            except ApplicationError as error:
                self.message_user(request, f"{exhibitor}: {error.message}", messages.WARNING)
        self.message_user(
            request,
            ngettext("%(n)s exhibitor approved.", "%(n)s exhibitors approved.", approved)
            % {"n": approved},
        )


@admin.register(Booth)
class BoothAdmin(admin.ModelAdmin):
    list_display = ["exhibitor", "section", "is_published", "updated_at"]
    list_filter = ["is_published"]
    search_fields = ["exhibitor__display_name", "tagline"]
    list_select_related = ["exhibitor", "section"]


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    readonly_fields = ["width", "height", "thumbnail"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "sku", "exhibitor", "category", "is_published", "updated_at"]
    list_filter = ["is_published", "is_new_launch", "category__parent"]
    search_fields = ["name", "sku", "exhibitor__display_name"]
    list_select_related = ["exhibitor", "category"]
    raw_id_fields = ["exhibitor"]
    inlines = [ProductImageInline]


@admin.register(StaffInvitation)
class StaffInvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "exhibitor", "role", "created_at", "expires_at", "accepted_at"]
    search_fields = ["email", "exhibitor__display_name"]
    exclude = ["token_hash"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "exhibitor",
        "status",
        "total_rows",
        "error_count",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["original_name", "exhibitor__display_name"]
