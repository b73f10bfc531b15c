from django.contrib import admin

from outbox.models import DomainEvent


@admin.register(DomainEvent)
class DomainEventAdmin(admin.ModelAdmin):
    list_display = ["at", "kind", "actor", "app_ref"]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in DomainEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
