"""Ingest's own metadata: the daily visitor-hash salts and the count of dropped bot events."""

from django.db import models


class Salt(models.Model):
    """A random secret for one UTC day. Visitor ids hash it with the app, IP and User-Agent;
    salts older than 48 hours are deleted, so old ids cannot be recomputed from an IP."""

    day = models.DateField(primary_key=True)
    value = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"salt of {self.day}"


class DroppedEvents(models.Model):
    """Events dropped on purpose (known bots), counted per app, day and reason."""

    app_ref = models.BigIntegerField()
    day = models.DateField()
    reason = models.CharField(max_length=16)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app_ref", "day", "reason"], name="one_drop_counter")
        ]
        verbose_name_plural = "dropped events"

    def __str__(self) -> str:
        return f"{self.count} {self.reason} events of app {self.app_ref} on {self.day}"
