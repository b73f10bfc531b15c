"""Reads of configurations: the live one, and the one that holds for a data epoch."""

from __future__ import annotations

from apps_registry.models import App
from funnels.config import default_config_dict
from funnels.models import Configuration, FrozenConfiguration


def configuration_of(app: App) -> Configuration:
    """The app's live configuration; a new app starts with the empty default."""
    configuration, _ = Configuration.objects.get_or_create(
        app=app, defaults={"data": default_config_dict()}
    )
    return configuration


def config_for_epoch(app: App, epoch: int) -> dict:
    """The configuration that interprets data of `epoch`: frozen when that epoch locked, else
    (the current, unlocked epoch) the live one."""
    frozen = FrozenConfiguration.objects.filter(app_ref=app.pk, epoch=epoch).first()
    if frozen is not None:
        return frozen.data
    return configuration_of(app).data


def frozen_config(app_ref: int, epoch: int) -> dict | None:
    frozen = FrozenConfiguration.objects.filter(app_ref=app_ref, epoch=epoch).first()
    return frozen.data if frozen else None
