"""The one function through which services announce domain events.

Services call `publish` inside their transaction; the event is recorded at once and delivered
(to notifications and websockets) only after the transaction commits. Services never know
about sockets; this module never calls back into the services.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from live.models import DomainEvent

# Event kinds, defined once.
INVITE_SENT = "invite.sent"
INVITE_REMINDED = "invite.reminded"
INVITE_ACCEPTED = "invite.accepted"
INVITE_REJECTED = "invite.rejected"
INVITE_REVOKED = "invite.revoked"
MEMBER_REMOVED = "member.removed"
APP_CREATED = "app.created"
APP_UPDATED = "app.updated"
APP_LOCKED = "app.locked"
APP_UNLOCKED = "app.unlocked"
APP_DELETED = "app.deleted"
APP_TRANSFERRED = "app.transferred"
CONFIG_CHANGED = "config.changed"
TOKEN_ROTATED = "token.rotated"
TOKEN_REVOKED = "token.revoked"

_subscribers: list = []


def subscribe(callback) -> None:
    """Register a callable(event: DomainEvent) run after the publishing transaction commits."""
    if callback not in _subscribers:
        _subscribers.append(callback)


def publish(
    kind: str,
    *,
    actor=None,
    app=None,
    organization_id: int | None = None,
    recipients: Iterable[int] = (),
    data: dict[str, Any] | None = None,
) -> DomainEvent:
    """Record a domain event and deliver it to subscribers once the transaction commits."""
    event = DomainEvent.objects.create(
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        app_ref=app.pk if app is not None else None,
        organization_ref=organization_id or (app.organization_id if app is not None else None),
        recipients=sorted(set(recipients)),
        data=data or {},
    )
    transaction.on_commit(lambda: _deliver(event))
    return event


def _deliver(event: DomainEvent) -> None:
    for callback in list(_subscribers):
        callback(event)
