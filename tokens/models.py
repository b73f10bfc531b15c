"""App tokens: what the server keeps to check and revoke them (never the signed token)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps_registry.models import App


class AppToken(models.Model):
    """One issued app token. The JWT is re-derivable from these fields, so its snippet can be
    shown again without storing the token itself."""

    jti = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="tokens")
    epoch = models.PositiveIntegerField()
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Rotation: the old token keeps working until `expires_at` (the grace period).
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["app", "revoked_at"])]

    def __str__(self) -> str:
        return f"token {self.jti} of {self.app_id} (epoch {self.epoch})"

    def is_active(self, now=None) -> bool:
        """Not revoked and not past its rotation grace period (the app's lock is checked too,
        by `tokens.services.token_check`)."""
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
