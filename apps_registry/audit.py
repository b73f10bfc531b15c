"""The audit trail and the domain events of apps: one call records both."""

from __future__ import annotations

from collections.abc import Iterable

from apps_registry.models import App, AuditEntry
from outbox import services as outbox


def record(kind: str, *, actor, app: App, recipients: Iterable[int] = (), **data) -> AuditEntry:
    """Write an audit entry for `kind` and publish it as a domain event."""
    entry = AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_email=getattr(actor, "email", "") or "",
        action=kind,
        app=app,
        app_ref=app.pk,
        app_name=app.name,
        organization_id=app.organization_id,
        data=data,
    )
    outbox.publish(kind, actor=actor, app=app, recipients=recipients, data=data)
    return entry
