"""Monitored apps, their invitations, retired data partitions and the audit trail.

The sharing rules live here as cheap predicates (`App.is_owner`, `App.can_view`); services enforce
them where actions happen, views mirror them for early answers.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as tz

from orgs.models import Organization

INVITE_LIFETIME = timedelta(days=7)
REMINDER_INTERVAL = timedelta(days=1)


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, with default ports left out, lower-cased."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


class App(models.Model):
    """A site or web app a team monitors. Its creator is its owner and only admin."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="apps")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_apps"
    )
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    description = models.TextField(blank=True, max_length=1000)
    tags = models.JSONField(default=list)
    is_public = models.BooleanField(default=False)
    timezone = models.CharField(max_length=64, default="UTC")
    allow_visitor_id = models.BooleanField(default=False)
    epoch = models.PositiveIntegerField(default=1)
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=tz.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("name"), name="app_name_unique_in_organization"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def locked(self) -> bool:
        return self.locked_at is not None

    @property
    def origin(self) -> str:
        return origin_of(self.url)

    def is_owner(self, user) -> bool:
        return user is not None and user.is_authenticated and user.pk == self.owner_id

    def is_member(self, user) -> bool:
        """An accepted invitee of the app (owners are not members of their own apps)."""
        if user is None or not user.is_authenticated:
            return False
        return self.invites.filter(invitee=user, status=Invite.Status.ACCEPTED).exists()


class Invite(models.Model):
    """An invitation of a colleague to a private app; an accepted one makes a member."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        REJECTED = "rejected"
        REVOKED = "revoked"
        REMOVED = "removed"

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="invites")
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_invites"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=tz.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["app", "invitee"],
                condition=models.Q(status__in=["pending", "accepted"]),
                name="one_open_invite_per_app_and_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.invitee} to {self.app} ({self.status})"

    def is_expired(self, now=None) -> bool:
        now = now or tz.now()
        return self.status == self.Status.PENDING and self.expires_at <= now


class RetiredPartition(models.Model):
    """The event data of an (app, epoch) that is no longer live: unlocked or deleted apps.

    The archiving command works from these rows, so no data is left orphaned silently.
    `app_ref` is a plain id: the app row may be gone.
    """

    class Reason(models.TextChoices):
        UNLOCKED = "unlocked"
        DELETED = "deleted"

    app_ref = models.BigIntegerField(db_index=True)
    app_name = models.CharField(max_length=100)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    epoch = models.PositiveIntegerField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    retired_at = models.DateTimeField(default=tz.now)
    archived_at = models.DateTimeField(null=True, blank=True)
    archive_path = models.CharField(max_length=500, blank=True)
    archived_events = models.BigIntegerField(null=True, blank=True)
    # Set when the archiver removed the events from the store (the archive is then the only
    # copy); cleared by a restore. docs/archiving.md describes the states.
    deleted_at = models.DateTimeField(null=True, blank=True)
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["app_ref", "epoch"]
        constraints = [
            models.UniqueConstraint(fields=["app_ref", "epoch"], name="one_retirement_per_epoch")
        ]

    def __str__(self) -> str:
        return f"{self.app_name} epoch {self.epoch} ({self.reason})"


class AuditEntry(models.Model):
    """Who did what to which app, when. Written by the services, read in the admin."""

    at = models.DateTimeField(default=tz.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=48)
    app = models.ForeignKey(App, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    app_ref = models.BigIntegerField(db_index=True)
    app_name = models.CharField(max_length=100)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email} {self.action} {self.app_name}"
