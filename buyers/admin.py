from django.contrib import admin

from buyers.models import BuyerProfile, Follow


@admin.register(BuyerProfile)
class BuyerProfileAdmin(admin.ModelAdmin):
    list_display = ["company", "user", "country", "buyer_type", "created_at"]
    list_filter = ["buyer_type", "country", "show_identity_in_rooms"]
    search_fields = ["company", "user__email", "user__full_name"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["interests"]


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["user", "exhibitor", "created_at"]
    list_filter = ["created_at", "exhibitor__status"]
    search_fields = ["user__email", "exhibitor__display_name"]
    list_select_related = ["user", "exhibitor"]
    raw_id_fields = ["user", "exhibitor"]
