"""What happened in the domain, recorded as it happened (the source of notifications)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class DomainEvent(models.Model):
    """One domain event emitted by a service (invite sent, app locked, config changed, ...)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=48)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    app_ref = models.BigIntegerField(null=True, blank=True, db_index=True)
    organization_ref = models.BigIntegerField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} app={self.app_ref}"
