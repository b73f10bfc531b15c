from django.contrib import admin

from funnels.models import Configuration, FrozenConfiguration


@admin.register(Configuration)
class ConfigurationAdmin(admin.ModelAdmin):
    list_display = ["app", "version", "updated_at", "updated_by"]
    readonly_fields = ["app", "version", "data", "updated_at", "updated_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # edits go through the API's service (lock and version rules)


@admin.register(FrozenConfiguration)
class FrozenConfigurationAdmin(admin.ModelAdmin):
    list_display = ["app_ref", "epoch", "version", "frozen_at"]
    readonly_fields = ["app_ref", "epoch", "version", "data", "frozen_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
