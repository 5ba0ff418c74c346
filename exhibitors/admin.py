"""Django admin of the exhibitors app, for staff: search and filters on every model.

Review decisions go through ``exhibitors.services`` (the organiser check and the audit log
live there): the status fields are read-only here, the approve and reinstate actions call
the services, and rejections and suspensions (which need a reason) are made in the
organisers' area."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from exhibitors import services
from exhibitors.models import (
    Booth,
    BoothVisitDay,
    BoothVisitor,
    Exhibitor,
    ExhibitorMember,
    ImportJob,
    Product,
    ProductImage,
    StaffInvitation,
)
from fair.exceptions import ApplicationError


class OrganiserViewMixin:
    """Organisers may look at exhibitors (as before their own area existed); changes need
    the usual Django permissions."""

    def has_module_permission(self, request):
        return request.user.is_organiser or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_organiser or super().has_view_permission(request, obj)


class MemberInline(admin.TabularInline):
    model = ExhibitorMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Exhibitor)
class ExhibitorAdmin(OrganiserViewMixin, admin.ModelAdmin):
    list_display = ["display_name", "country", "status", "is_live", "follower_count", "created_at"]
    list_filter = ["status", "is_live", "country"]
    search_fields = ["display_name", "legal_name", "slug"]
    readonly_fields = [
        "status",
        "status_reason",
        "reviewed_by",
        "reviewed_at",
        "follower_count",
        "is_live",
        "review_page",
    ]
    # The licence is a private file: only the organisers' page hands it out (checked,
    # audited), never a storage URL in a form widget.
    exclude = ["business_licence"]
    inlines = [MemberInline]
    actions = ["approve", "reinstate"]

    @admin.display(description=_("Review and documents"))
    def review_page(self, obj):
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("org_exhibitors:detail", args=[obj.pk]),
            _("Open in the organisers' area"),
        )

    def _decide(self, request, queryset, decide, done_message) -> None:
        done = 0
        for exhibitor in queryset:
            try:
                decide(actor=request.user, exhibitor_id=exhibitor.pk)
                done += 1
            except ApplicationError as error:
                self.message_user(request, f"{exhibitor}: {error.message}", messages.WARNING)
        self.message_user(request, done_message(done) % {"n": done})

    @admin.action(description=_("Approve the selected applications"))
    def approve(self, request, queryset):
        self._decide(
            request,
            queryset,
            services.exhibitor_approve,
            lambda n: ngettext("%(n)s exhibitor approved.", "%(n)s exhibitors approved.", n),
        )

    @admin.action(description=_("Reinstate the selected suspended exhibitors"))
    def reinstate(self, request, queryset):
        self._decide(
            request,
            queryset,
            services.exhibitor_reinstate,
            lambda n: ngettext("%(n)s exhibitor reinstated.", "%(n)s exhibitors reinstated.", n),
        )


@admin.register(ExhibitorMember)
class ExhibitorMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "exhibitor", "role", "created_at"]
    list_filter = ["role", "exhibitor__status"]
    search_fields = ["user__email", "user__full_name", "exhibitor__display_name"]
    list_select_related = ["user", "exhibitor"]
    raw_id_fields = ["user", "exhibitor"]


@admin.register(Booth)
class BoothAdmin(admin.ModelAdmin):
    list_display = ["exhibitor", "section", "is_published", "updated_at"]
    list_filter = ["is_published", "section__parent", "exhibitor__status"]
    search_fields = ["exhibitor__display_name", "tagline", "contact_person", "contact_email"]
    list_select_related = ["exhibitor", "section"]
    raw_id_fields = ["exhibitor"]


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    readonly_fields = ["width", "height", "thumbnail"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "sku", "exhibitor", "category", "is_published", "updated_at"]
    list_filter = ["is_published", "is_new_launch", "category__parent", "exhibitor__status"]
    search_fields = ["name", "sku", "exhibitor__display_name"]
    list_select_related = ["exhibitor", "category"]
    raw_id_fields = ["exhibitor"]
    inlines = [ProductImageInline]
    # 1.8 M products: no full COUNT(*) on every change-list page.
    show_full_result_count = False


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "product", "position", "width", "height", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["product__name", "product__sku", "alt_text"]
    list_select_related = ["product"]
    raw_id_fields = ["product"]
    readonly_fields = ["width", "height", "thumbnail"]
    show_full_result_count = False


@admin.register(StaffInvitation)
class StaffInvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "exhibitor", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role", "created_at", "accepted_at", "revoked_at"]
    search_fields = ["email", "exhibitor__display_name"]
    list_select_related = ["exhibitor"]
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
    list_filter = ["status", "file_format", "created_at"]
    search_fields = ["original_name", "exhibitor__display_name"]
    list_select_related = ["exhibitor"]


@admin.register(BoothVisitDay)
class BoothVisitDayAdmin(admin.ModelAdmin):
    list_display = ["exhibitor", "day", "booth_views", "product_views"]
    list_filter = ["day"]
    search_fields = ["exhibitor__display_name"]
    list_select_related = ["exhibitor"]
    raw_id_fields = ["exhibitor"]


@admin.register(BoothVisitor)
class BoothVisitorAdmin(admin.ModelAdmin):
    list_display = ["user", "exhibitor", "visits", "first_seen", "last_seen"]
    list_filter = ["last_seen"]
    search_fields = ["exhibitor__display_name", "user__email"]
    list_select_related = ["user", "exhibitor"]
    raw_id_fields = ["exhibitor", "user"]
