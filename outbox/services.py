"""The one door every service publishes through; subscribers (live) register at start-up.

`publish` records a domain event inside the caller's transaction and delivers it once that
commits; `note_traffic` hands ingest's stored events to traffic subscribers at once. Services
never know about sockets, and this module never calls back into the services.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import transaction

from outbox.models import DomainEvent

log = logging.getLogger(__name__)

EventCallback = Callable[[DomainEvent], None]
TrafficCallback = Callable[[int, Sequence], None]

_subscribers: list[EventCallback] = []
_traffic_subscribers: list[TrafficCallback] = []


def subscribe(callback: EventCallback) -> None:
    """Register a callable(event) run after each publishing transaction commits."""
    if callback not in _subscribers:
        _subscribers.append(callback)


def subscribe_traffic(callback: TrafficCallback) -> None:
    """Register a callable(app_id, events) run with the events ingest stored and acked. It must
    be cheap and must not block: it runs on ingest's path."""
    if callback not in _traffic_subscribers:
        _traffic_subscribers.append(callback)


def publish(
    kind: str,
    *,
    actor=None,
    app=None,
    organization_id: int | None = None,
    recipients: Iterable[int] = (),
    data: dict[str, Any] | None = None,
) -> DomainEvent:
    """Record a domain event (`outbox.kinds`) and deliver it to subscribers once the
    transaction commits."""
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


def note_traffic(app_id: int, events: Sequence) -> None:
    """Announce events of an app that ingest stored and acked (StoredEvent-like). Never
    raises: what listens to traffic must not slow or break ingest."""
    if not events:
        return
    for callback in list(_traffic_subscribers):
        try:
            callback(app_id, events)
        except Exception:
            log.exception("traffic subscriber %r failed for app %s", callback, app_id)


def _deliver(event: DomainEvent) -> None:
    for callback in list(_subscribers):
        callback(event)
