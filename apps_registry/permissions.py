"""Who may do what with an app: defined once, used by services, selectors and views."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from apps_registry.models import App
from orgs.selectors import organization_of


def can_view(app: App, user) -> bool:
    """Owner, accepted members, and every verified colleague when the app is public."""
    organization = organization_of(user)
    if organization is None or organization.pk != app.organization_id:
        return False
    return app.is_owner(user) or app.is_public or app.is_member(user)


def can_edit_config(app: App, user) -> bool:
    """Everyone who may view the app may edit its configuration (while it is unlocked)."""
    return can_view(app, user)


def can_remove_member(app: App, actor, user_id: int) -> bool:
    """The owner removes any member; a member removes only themselves (leaves the app)."""
    return app.is_owner(actor) or (actor.pk == user_id and app.is_member(actor))


class IsAppOwner(BasePermission):
    """Early 403 for owner-only actions; the services enforce the same rule."""

    message = "Only the app's owner may do this."

    def has_object_permission(self, request, view, obj) -> bool:
        return obj.is_owner(request.user)
