"""Reads of notifications and the access checks of the live socket, always per user."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from apps_registry.selectors import apps_visible_to
from datalab.errors import NotFound
from live import constants as c
from live.models import Notification
from live.notifications import ADDRESSED_KINDS
from live.serializers import notification_payload
from orgs.selectors import colleagues_of, organization_of


def notifications_for(user) -> QuerySet[Notification]:
    """The user's notifications that are not hidden, newest first. Those about an app (other
    than the ones addressed to the user: invitations, removal, deletion) are left out once the
    user may no longer view the app."""
    visible_apps = apps_visible_to(user).values("pk")
    return Notification.objects.filter(user=user, hidden_at__isnull=True).filter(
        Q(kind__in=ADDRESSED_KINDS) | Q(app_ref__isnull=True) | Q(app_ref__in=visible_apps)
    )


def backlog_for(user) -> list[dict]:
    """What a socket gets on connect: the unread notifications, newest first."""
    unread = notifications_for(user).filter(read_at__isnull=True)[: c.BACKLOG_SIZE]
    return [notification_payload(n) for n in unread]


def notification_of(user, notification_id) -> Notification:
    """One of the user's (not hidden) notifications; 404 for anyone else's."""
    try:
        return notifications_for(user).get(pk=int(notification_id))
    except (Notification.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such notification.") from None


def fresh_user(user_id: int) -> User | None:
    """The user as the database has them now (membership included), if still active."""
    return (
        User.objects.select_related("membership__organization")
        .filter(pk=user_id, is_active=True)
        .first()
    )


def may_view_app(user_id: int, app_id: int) -> bool:
    """Whether the user may view the app now: read fresh, never from a cached user."""
    user = fresh_user(user_id)
    return user is not None and apps_visible_to(user).filter(pk=app_id).exists()


def presence_scope(user_id: int) -> tuple[int | None, list[int]]:
    """The user's organization id (None when unverified) and the ids of their colleagues."""
    user = fresh_user(user_id)
    organization = organization_of(user) if user is not None else None
    if organization is None:
        return None, []
    return organization.pk, list(colleagues_of(user).values_list("pk", flat=True))
