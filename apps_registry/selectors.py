"""Reads about apps, always through what the user may see."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps_registry.models import App, Invite
from datalab.errors import NotFound
from orgs.selectors import organization_of


def apps_visible_to(user) -> QuerySet[App]:
    """Own apps, private apps the user accepted an invite to, public apps of their org."""
    organization = organization_of(user)
    if organization is None:
        return App.objects.none()
    accepted = Invite.objects.filter(
        app=OuterRef("pk"), invitee=user, status=Invite.Status.ACCEPTED
    )
    return (
        App.objects.filter(organization=organization)
        .annotate(viewer_is_member=Exists(accepted))
        .filter(Q(owner=user) | Q(is_public=True) | Q(viewer_is_member=True))
        .select_related("owner", "organization")
    )


def app_visible_to(user, app_id) -> App:
    """The app if the user may see it; otherwise 404, never 403 (that would reveal it exists)."""
    try:
        return apps_visible_to(user).get(pk=int(app_id))
    except (App.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such app.") from None


def members_of(app: App) -> QuerySet[Invite]:
    return app.invites.filter(status=Invite.Status.ACCEPTED).select_related("invitee")


def pending_invites_of(app: App) -> QuerySet[Invite]:
    return app.invites.filter(
        status=Invite.Status.PENDING, expires_at__gt=timezone.now()
    ).select_related("invitee")


def invites_for(user) -> QuerySet[Invite]:
    """The user's open invitations (pending, not expired) to apps of their organization."""
    organization = organization_of(user)
    if organization is None:
        return Invite.objects.none()
    return Invite.objects.filter(
        invitee=user,
        status=Invite.Status.PENDING,
        expires_at__gt=timezone.now(),
        app__organization=organization,
    ).select_related("app", "invited_by")


def invite_for_invitee(user, invite_id) -> Invite:
    """An invitation addressed to the user (any status), else 404."""
    try:
        return Invite.objects.select_related("app").get(pk=int(invite_id), invitee=user)
    except (Invite.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such invitation.") from None
