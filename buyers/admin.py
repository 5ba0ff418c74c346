from django.contrib import admin

from buyers.models import BuyerProfile


@admin.register(BuyerProfile)
class BuyerProfileAdmin(admin.ModelAdmin):
    list_display = ["company", "user", "country", "buyer_type", "created_at"]
    list_filter = ["buyer_type", "country", "show_identity_in_rooms"]
    search_fields = ["company", "user__email", "user__full_name"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["interests"]
