"""From domain events to users: stored notifications and pushes to connected sockets.

`on_domain_event` is registered as a `live.events` subscriber (LiveConfig.ready), so it runs
once the publishing transaction has committed. It decides who hears about an event, stores a
notification per user (the backlog of whoever is offline) and pushes to the sockets: the new
notifications, "sync" to the dashboards showing an app whose configuration changed, and access
re-checks that make consumers drop realtime subscriptions a user may no longer see. It never
raises: a failure is logged, the service that published the event is not affected.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q

from accounts.models import User
from apps_registry.models import App, AuditEntry, Invite
from apps_registry.permissions import can_view
from live import constants as c
from live import push, services
from live.models import Notification
from live.serializers import notification_payload
from outbox import kinds
from outbox.models import DomainEvent

log = logging.getLogger(__name__)

# Notified to the event's recipients only (the people the event is addressed to).
ADDRESSED_KINDS = frozenset(
    {
        kinds.INVITE_SENT,
        kinds.INVITE_REMINDED,
        kinds.INVITE_ACCEPTED,
        kinds.INVITE_REJECTED,
        kinds.MEMBER_REMOVED,
        kinds.MEMBER_LEFT,
        kinds.APP_DELETED,
    }
)
# Notified to the recipients and to everyone who may view the app (the actor excepted).
VIEWER_KINDS = frozenset(
    {kinds.APP_LOCKED, kinds.APP_UNLOCKED, kinds.APP_TRANSFERRED, kinds.CONFIG_CHANGED}
)
# Events after which some users may have lost access to an app.
ACCESS_LOST_BY_RECIPIENTS = frozenset({kinds.MEMBER_REMOVED, kinds.INVITE_REVOKED})


def on_domain_event(event: DomainEvent) -> None:
    """The `live.events` subscriber. Never raises."""
    for step in (_deliver, _withdraw_revoked_invite):
        try:
            step(event)
        except Exception:
            log.exception("live: could not handle %s of app %s", event.kind, event.app_ref)


def _deliver(event: DomainEvent) -> None:
    push.send(_notify(event) + _access_messages(event) + _sync_messages(event))


def _withdraw_revoked_invite(event: DomainEvent) -> None:
    if event.kind == kinds.INVITE_REVOKED:
        services.invite_notifications_withdraw(
            invite_id=event.data.get("invite"), user_ids=event.recipients
        )


def viewers_of(app: App) -> set[int]:
    """The ids of the active users who may view the app now (the rule is `can_view`)."""
    users = User.objects.filter(
        is_active=True,
        membership__organization_id=app.organization_id,
        membership__verified_at__isnull=False,
    ).select_related("membership__organization")
    if not app.is_public:
        members = Invite.objects.filter(app=app, status=Invite.Status.ACCEPTED)
        users = users.filter(Q(pk=app.owner_id) | Q(pk__in=members.values("invitee_id")))
    return {user.pk for user in users if can_view(app, user)}


def audience(event: DomainEvent, app: App | None) -> list[int]:
    """Who gets a notification of the event: its recipients, plus the app's viewers for
    VIEWER_KINDS (and, for a deleted public app, its former viewers: the colleagues)."""
    user_ids = set(event.recipients)
    if event.kind in VIEWER_KINDS and app is not None:
        user_ids |= viewers_of(app)
    if event.kind == kinds.APP_DELETED and event.data.get("was_public"):
        user_ids |= set(
            User.objects.filter(
                is_active=True,
                membership__organization_id=event.organization_ref,
                membership__verified_at__isnull=False,
            ).values_list("pk", flat=True)
        )
    user_ids.discard(event.actor_id)
    return sorted(User.objects.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True))


def _app_name(event: DomainEvent, app: App | None) -> str:
    if app is not None:
        return app.name
    entry = AuditEntry.objects.filter(app_ref=event.app_ref).order_by("-at", "-id").first()
    return entry.app_name if entry else ""


def _notify(event: DomainEvent) -> list[tuple[str, dict]]:
    if event.kind not in ADDRESSED_KINDS | VIEWER_KINDS:
        return []
    app = App.objects.filter(pk=event.app_ref).first() if event.app_ref else None
    user_ids = audience(event, app)
    if not user_ids:
        return []
    actor = event.actor
    data = {
        **event.data,
        "actor": {"id": actor.pk, "name": actor.full_name or actor.email} if actor else None,
    }
    common = {
        "kind": event.kind,
        "app_ref": event.app_ref,
        "app_name": _app_name(event, app),
        "data": data,
        "created_at": event.at,
    }
    with transaction.atomic():
        created = Notification.objects.bulk_create(
            [Notification(user_id=user_id, **common) for user_id in user_ids]
        )
    return [
        (
            c.user_group(n.user_id),
            {"type": c.LAYER_NOTIFICATION, "notification": notification_payload(n)},
        )
        for n in created
    ]


def _access_messages(event: DomainEvent) -> list[tuple[str, dict]]:
    """Re-checks of access, sent to the users or to the app's dashboards that may have lost it."""
    check = {"type": c.LAYER_ACCESS, "app": event.app_ref}
    if event.kind in ACCESS_LOST_BY_RECIPIENTS:
        return [(c.user_group(user_id), check) for user_id in event.recipients]
    if event.kind == kinds.MEMBER_LEFT:  # the one who left: their other tabs drop the app
        return [(c.user_group(event.actor_id), check)]
    made_private = event.kind == kinds.APP_UPDATED and "is_public" in event.data.get("fields", [])
    if event.kind == kinds.APP_DELETED or made_private:
        return [(c.app_group(event.app_ref), check)]
    return []


def _sync_messages(event: DomainEvent) -> list[tuple[str, dict]]:
    if event.kind != kinds.CONFIG_CHANGED:
        return []
    message = {"type": c.LAYER_SYNC, "app": event.app_ref, "config_version": event.data["version"]}
    return [(c.app_group(event.app_ref), message)]
