"""Organizations (one per e-mail domain) and who belongs to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Organization(models.Model):
    """A company, identified by the domain of its members' e-mail addresses."""

    domain = models.CharField(max_length=253, unique=True)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class Membership(models.Model):
    """A user's place in their organization. Unverified members see no organization data."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    is_founder = models.BooleanField(default=False)
    joined_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "verified_at"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization}"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None
