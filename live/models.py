"""Notifications: what each user should know about, kept until they hide it."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    """Something a user should know about, kept until they hide it (the backlog of offline
    users). `app_ref`/`app_name` are copies: the app may be gone (deleted)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=48)
    app_ref = models.BigIntegerField(null=True, blank=True)
    app_name = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "hidden_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"
