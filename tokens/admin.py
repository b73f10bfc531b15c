from django.contrib import admin

from tokens.models import AppToken


@admin.register(AppToken)
class AppTokenAdmin(admin.ModelAdmin):
    list_display = ["jti", "app", "epoch", "issued_at", "expires_at", "revoked_at"]
    list_filter = ["app"]
    readonly_fields = [f.name for f in AppToken._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
