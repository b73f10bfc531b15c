"""An app's configuration (funnel, campaigns, tracked elements) and its per-epoch snapshots."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps_registry.models import App


class Configuration(models.Model):
    """The live, editable configuration of an app. `version` guards concurrent edits."""

    app = models.OneToOneField(App, on_delete=models.CASCADE, related_name="configuration")
    version = models.PositiveIntegerField(default=1)
    data = models.JSONField()
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"configuration of {self.app} v{self.version}"


class FrozenConfiguration(models.Model):
    """The configuration that was active while an (app, epoch) collected data, frozen when the
    app locked. It outlives the app (plain `app_ref`), so archives can always explain data."""

    app_ref = models.BigIntegerField()
    epoch = models.PositiveIntegerField()
    version = models.PositiveIntegerField()
    data = models.JSONField()
    frozen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app_ref", "epoch"], name="one_frozen_config_per_epoch")
        ]

    def __str__(self) -> str:
        return f"app {self.app_ref} epoch {self.epoch} (v{self.version})"
