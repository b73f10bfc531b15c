"""Operators' view of apps. Actions go through the same services as the API, so the admin
cannot bypass the rules (an operator who is not the owner is refused like anyone else)."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from apps_registry import services
from apps_registry.models import App, AuditEntry, Invite, RetiredPartition
from datalab.errors import DomainError


class InviteInline(admin.TabularInline):
    model = Invite
    fk_name = "app"
    extra = 0
    can_delete = False
    fields = ["invitee", "status", "created_at", "expires_at", "responded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class TransferForm(forms.Form):
    user_id = forms.IntegerField(label="New owner (user id)")


def _run(modeladmin, request, queryset, action, **kwargs) -> None:
    for app in queryset:
        try:
            action(app=app, actor=request.user, **kwargs)
        except DomainError as exc:
            modeladmin.message_user(request, f"{app}: {exc.detail}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{app}: done.", messages.SUCCESS)


@admin.register(App)
class AppAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "organization", "is_public", "is_locked", "epoch", "members"]
    list_filter = ["is_public", "organization"]
    search_fields = ["name", "url", "owner__email", "organization__domain"]
    readonly_fields = ["organization", "owner", "epoch", "locked_at", "locked_by", "created_at"]
    fields = ["name", "url", "description", "tags", "is_public", "timezone", *readonly_fields]
    inlines = [InviteInline]
    actions = ["unlock", "transfer"]

    def has_add_permission(self, request) -> bool:
        return False  # apps are created by their owners, through the API

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # settings change through the owner's services; actions below

    @admin.display(boolean=True, description="locked")
    def is_locked(self, app: App) -> bool:
        return app.locked

    @admin.display(description="members")
    def members(self, app: App) -> int:
        return app.invites.filter(status=Invite.Status.ACCEPTED).count()

    @admin.action(description="Unlock (new data epoch; owner only)")
    def unlock(self, request, queryset):
        _run(self, request, queryset, services.app_unlock)

    @admin.action(description="Transfer ownership (owner only)")
    def transfer(self, request, queryset):
        form = TransferForm(request.POST if "user_id" in request.POST else None)
        if form.is_valid():
            _run(
                self,
                request,
                queryset,
                services.app_transfer,
                new_owner_id=form.cleaned_data["user_id"],
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Transfer ownership",
            "form": form,
            "apps": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/apps_registry/transfer.html", context)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_email", "action", "app_name", "organization"]
    list_filter = ["action", "organization"]
    search_fields = ["actor_email", "app_name"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RetiredPartition)
class RetiredPartitionAdmin(admin.ModelAdmin):
    list_display = [
        "app_name",
        "app_ref",
        "epoch",
        "reason",
        "retired_at",
        "archived_at",
        "archived_events",
        "deleted_at",
        "archive_path",
    ]
    list_filter = [
        "reason",
        ("archived_at", admin.EmptyFieldListFilter),
        ("deleted_at", admin.EmptyFieldListFilter),
    ]
    readonly_fields = [f.name for f in RetiredPartition._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
