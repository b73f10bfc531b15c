"""Writes of configurations: edit (with optimistic versioning) and freeze per epoch."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps_registry import audit, permissions
from apps_registry.models import App
from apps_registry.services import locked_for_update
from datalab.errors import Conflict, Forbidden, InvalidInput, Locked
from funnels.config import ConfigInvalid
from funnels.models import Configuration, FrozenConfiguration
from funnels.selectors import configuration_of
from funnels.validation import validate_config
from outbox import kinds


def _locked_error(app: App, actor) -> Locked:
    if app.is_owner(actor):
        return Locked(
            "The app is locked by its token: unlock it to change the configuration "
            "(that starts a new data epoch).",
            code="app_locked",
        )
    return Locked(
        "The app is locked by its token: ask the owner to unlock it to change the configuration.",
        code="app_locked",
    )


@transaction.atomic
def config_update(*, app: App, actor, data: dict, version: int) -> Configuration:
    """Replace the configuration. Refused when the app is locked (423) or when `version` is not
    the current one (409, someone else saved in between)."""
    if not permissions.can_edit_config(app, actor):
        raise Forbidden("You may not edit this app's configuration.")
    app = locked_for_update(app)
    if app.locked:
        raise _locked_error(app, actor)
    configuration = configuration_of(app)
    if version != configuration.version:
        raise Conflict(
            "The configuration changed since you loaded it; reload and apply your edit again.",
            code="version_conflict",
            extra={"current_version": configuration.version},
        )
    try:
        config = validate_config(data)
    except ConfigInvalid as exc:
        raise InvalidInput("The configuration is not valid.", fields=exc.fields) from None
    configuration.data = config.to_dict()
    configuration.version += 1
    configuration.updated_at = timezone.now()
    configuration.updated_by = actor
    configuration.save()
    audit.record(kinds.CONFIG_CHANGED, actor=actor, app=app, version=configuration.version)
    return configuration


@transaction.atomic
def config_freeze(*, app: App) -> FrozenConfiguration:
    """Freeze the live configuration for the app's current epoch (when the app locks).
    Idempotent: the first freeze of an epoch wins, since the configuration cannot change
    while locked."""
    configuration = configuration_of(app)
    frozen, _ = FrozenConfiguration.objects.get_or_create(
        app_ref=app.pk,
        epoch=app.epoch,
        defaults={"version": configuration.version, "data": configuration.data},
    )
    return frozen
