"""Writes for apps: create, edit, share, lock/unlock, transfer, delete.

Each service checks its rule itself (owner-only actions, who may be invited), so the REST API,
the admin, management commands and consumers cannot bypass it. Every change is audited and
published as a domain event through `apps_registry.audit.record`.
"""

from __future__ import annotations

import zoneinfo
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone as tz

from accounts.models import User, normalize_email_address
from apps_registry import audit
from apps_registry.models import (
    INVITE_LIFETIME,
    REMINDER_INTERVAL,
    App,
    Invite,
    RetiredPartition,
)
from apps_registry.permissions import can_remove_member
from datalab.errors import Conflict, Forbidden, InvalidInput, Locked, RateLimited
from orgs.selectors import are_colleagues, organization_of
from outbox import kinds

EDITABLE_FIELDS = (
    "name",
    "url",
    "description",
    "tags",
    "is_public",
    "timezone",
    "allow_visitor_id",
)
MAX_TAGS = 5


def locked_for_update(app: App) -> App:
    """The app's current row, locked until the transaction ends: services decide on fresh
    state, never on a caller's possibly stale instance."""
    return App.objects.select_for_update().get(pk=app.pk)


def require_owner(app: App, actor) -> None:
    if not app.is_owner(actor):
        raise Forbidden("Only the app's owner may do this.", code="owner_only")


def _clean_fields(changes: dict) -> dict:
    """Domain rules of an app's fields; raises InvalidInput with per-field messages."""
    errors: dict[str, list[str]] = {}
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if not changes["name"]:
            errors["name"] = ["The name may not be blank."]
    if "url" in changes:
        parts = urlsplit(changes["url"].strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors["url"] = ["Enter an http or https URL of the monitored site."]
        changes["url"] = changes["url"].strip()
    if "tags" in changes:
        tags = [str(tag).strip() for tag in changes["tags"]]
        if not 1 <= len(tags) <= MAX_TAGS or any(not t or len(t) > 32 for t in tags):
            errors["tags"] = [f"Give 1 to {MAX_TAGS} tags of 1 to 32 characters."]
        elif len({t.lower() for t in tags}) != len(tags):
            errors["tags"] = ["Tags must be different from each other."]
        changes["tags"] = tags
    if "timezone" in changes and changes["timezone"] not in zoneinfo.available_timezones():
        errors["timezone"] = ["Unknown time zone (use an IANA name such as Europe/Berlin)."]
    if errors:
        raise InvalidInput("Some fields are not valid.", fields=errors)
    return changes


def _save_unique(app: App, **save_kwargs) -> None:
    try:
        with transaction.atomic():
            app.save(**save_kwargs)
    except IntegrityError:
        raise InvalidInput(
            "Your organization already has an app with this name.",
            fields={"name": ["Your organization already has an app with this name."]},
        ) from None


@transaction.atomic
def app_create(
    *,
    owner: User,
    name: str,
    url: str,
    tags: list[str],
    description: str = "",
    is_public: bool = False,
    timezone: str = "UTC",
    allow_visitor_id: bool = False,
) -> App:
    """Create an app in the owner's organization; the creator is its owner and only admin."""
    organization = organization_of(owner)
    if organization is None:
        raise Forbidden("Confirm your e-mail address first.", code="not_verified")
    fields = _clean_fields(
        {
            "name": name,
            "url": url,
            "tags": tags,
            "description": description,
            "is_public": is_public,
            "timezone": timezone,
            "allow_visitor_id": allow_visitor_id,
        }
    )
    app = App(organization=organization, owner=owner, **fields)
    _save_unique(app)
    audit.record(kinds.APP_CREATED, actor=owner, app=app)
    return app


@transaction.atomic
def app_update(*, app: App, actor: User, **changes) -> App:
    """Change an app's settings or visibility (owner only). The URL of a locked app is part of
    its token's contract (the allowed origin), so it changes only after unlocking."""
    require_owner(app, actor)
    app = locked_for_update(app)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput("Unknown fields.", fields={k: ["Not editable."] for k in unknown})
    changes = _clean_fields(dict(changes))
    if app.locked and "url" in changes and changes["url"] != app.url:
        raise Locked("The app is locked: unlock it before changing its URL.", code="app_locked")
    becomes_public = changes.get("is_public") and not app.is_public
    for field, value in changes.items():
        setattr(app, field, value)
    _save_unique(app, update_fields=[*changes, "updated_at"])
    if becomes_public:
        # Public apps take no invitations: pending ones lapse.
        app.invites.filter(status=Invite.Status.PENDING).update(
            status=Invite.Status.REVOKED, responded_at=tz.now()
        )
    audit.record(kinds.APP_UPDATED, actor=actor, app=app, fields=sorted(changes))
    return app


@transaction.atomic
def app_lock(*, app: App, actor: User) -> App:
    """Lock the app's configuration (issuing a token does this). Owner only."""
    require_owner(app, actor)
    app = locked_for_update(app)
    if not app.locked:
        app.locked_at = tz.now()
        app.locked_by = actor
        app.save(update_fields=["locked_at", "locked_by", "updated_at"])
        audit.record(kinds.APP_LOCKED, actor=actor, app=app, epoch=app.epoch)
    return app


@transaction.atomic
def app_unlock(*, app: App, actor: User) -> App:
    """Unlock: every token of the app stops working and a new data epoch starts; the old
    epoch's partitions are retired for archiving."""
    require_owner(app, actor)
    app = locked_for_update(app)
    if not app.locked:
        raise Conflict("The app is not locked.", code="not_locked")
    RetiredPartition.objects.get_or_create(
        app_ref=app.pk,
        epoch=app.epoch,
        defaults={
            "app_name": app.name,
            "organization_id": app.organization_id,
            "reason": RetiredPartition.Reason.UNLOCKED,
        },
    )
    old_epoch = app.epoch
    app.epoch += 1
    app.locked_at = None
    app.locked_by = actor
    app.save(update_fields=["epoch", "locked_at", "locked_by", "updated_at"])
    audit.record(kinds.APP_UNLOCKED, actor=actor, app=app, old_epoch=old_epoch, epoch=app.epoch)
    return app


@transaction.atomic
def app_delete(*, app: App, actor: User) -> None:
    """Delete the app with its configuration and tokens; its event data is retired for
    archiving or purge (never left orphaned)."""
    require_owner(app, actor)
    recipients = [m.invitee_id for m in app.invites.filter(status=Invite.Status.ACCEPTED)]
    for epoch in range(1, app.epoch + 1):
        RetiredPartition.objects.get_or_create(
            app_ref=app.pk,
            epoch=epoch,
            defaults={
                "app_name": app.name,
                "organization_id": app.organization_id,
                "reason": RetiredPartition.Reason.DELETED,
            },
        )
    audit.record(
        kinds.APP_DELETED,
        actor=actor,
        app=app,
        recipients=recipients,
        was_public=app.is_public,
    )
    app.delete()


@transaction.atomic
def app_transfer(*, app: App, actor: User, new_owner_id: int) -> App:
    """Hand the app to an accepted member (or, for public apps, any verified colleague).
    The former owner stays on as a member."""
    require_owner(app, actor)
    new_owner = User.objects.filter(pk=new_owner_id, is_active=True).first()
    eligible = new_owner is not None and (
        app.is_member(new_owner) or (app.is_public and are_colleagues(actor, new_owner))
    )
    if not eligible or new_owner.pk == actor.pk:
        raise InvalidInput(
            "Transfer to an accepted member (or, for a public app, a verified colleague).",
            fields={"user_id": ["Not an eligible new owner."]},
        )
    app.invites.filter(invitee=new_owner).delete()
    now = tz.now()
    Invite.objects.create(
        app=app,
        invitee=actor,
        invited_by=new_owner,
        status=Invite.Status.ACCEPTED,
        expires_at=now,
        responded_at=now,
    )
    app.owner = new_owner
    app.save(update_fields=["owner", "updated_at"])
    audit.record(
        kinds.APP_TRANSFERRED,
        actor=actor,
        app=app,
        recipients=[new_owner.pk],
        new_owner=new_owner.pk,
    )
    return app


def _invitee(app: App, *, user_id: int | None, email: str | None) -> User:
    query = User.objects.filter(is_active=True)
    if user_id is not None:
        user = query.filter(pk=user_id).first()
    else:
        user = query.filter(email=normalize_email_address(email or "")).first()
    field = "user_id" if user_id is not None else "email"
    if user is None or getattr(getattr(user, "membership", None), "organization_id", None) != (
        app.organization_id
    ):
        raise InvalidInput(
            "Only colleagues of your organization can be invited.",
            fields={field: ["No colleague with this address or id."]},
            code="not_a_colleague",
        )
    if not user.membership.is_verified:
        raise InvalidInput(
            "This colleague has not confirmed their e-mail address yet.",
            fields={field: ["Not verified yet."]},
            code="invitee_unverified",
        )
    if app.is_owner(user):
        raise InvalidInput(
            "The owner is already the app's admin.",
            fields={field: ["This is the owner."]},
            code="invitee_is_owner",
        )
    return user


@transaction.atomic
def invite_create(
    *, app: App, actor: User, user_id: int | None = None, email: str | None = None
) -> Invite:
    """Invite a verified colleague to a private app (owner only)."""
    require_owner(app, actor)
    if app.is_public:
        raise Conflict(
            "Public apps are open to the whole organization and take no invitations.",
            code="app_is_public",
        )
    invitee = _invitee(app, user_id=user_id, email=email)
    now = tz.now()
    app.invites.filter(invitee=invitee, status=Invite.Status.PENDING, expires_at__lte=now).update(
        status=Invite.Status.REVOKED, responded_at=now
    )
    existing = app.invites.filter(
        invitee=invitee, status__in=[Invite.Status.PENDING, Invite.Status.ACCEPTED]
    ).first()
    if existing is not None:
        what = "a member" if existing.status == Invite.Status.ACCEPTED else "invited already"
        raise Conflict(f"This colleague is {what}.", code="already_invited")
    invite = Invite.objects.create(
        app=app, invitee=invitee, invited_by=actor, created_at=now, expires_at=now + INVITE_LIFETIME
    )
    audit.record(kinds.INVITE_SENT, actor=actor, app=app, recipients=[invitee.pk], invite=invite.pk)
    return invite


def _pending(invite: Invite, now) -> None:
    if invite.status != Invite.Status.PENDING:
        raise Conflict(f"The invitation is {invite.status}.", code="invite_not_pending")
    if invite.is_expired(now):
        raise Conflict("The invitation has expired.", code="invite_expired")


@transaction.atomic
def invite_remind(*, invite: Invite, actor: User) -> Invite:
    """Remind a pending invitee (owner only), at most once a day."""
    require_owner(invite.app, actor)
    now = tz.now()
    _pending(invite, now)
    last = invite.last_reminded_at or invite.created_at
    if now - last < REMINDER_INTERVAL:
        wait = int((REMINDER_INTERVAL - (now - last)).total_seconds()) + 1
        raise RateLimited(
            "A reminder can be sent once a day.",
            code="reminder_too_soon",
            extra={"retry_after": wait},
        )
    invite.last_reminded_at = now
    invite.save(update_fields=["last_reminded_at"])
    audit.record(
        kinds.INVITE_REMINDED,
        actor=actor,
        app=invite.app,
        recipients=[invite.invitee_id],
        invite=invite.pk,
    )
    return invite


@transaction.atomic
def invite_revoke(*, invite: Invite, actor: User) -> Invite:
    """Withdraw a pending invitation (owner only)."""
    require_owner(invite.app, actor)
    if invite.status != Invite.Status.PENDING:
        raise Conflict(f"The invitation is {invite.status}.", code="invite_not_pending")
    invite.status = Invite.Status.REVOKED
    invite.responded_at = tz.now()
    invite.save(update_fields=["status", "responded_at"])
    audit.record(
        kinds.INVITE_REVOKED,
        actor=actor,
        app=invite.app,
        recipients=[invite.invitee_id],
        invite=invite.pk,
    )
    return invite


def _respond(invite: Invite, user: User, status: str, kind: str) -> Invite:
    if invite.invitee_id != user.pk:
        raise Forbidden("This invitation is addressed to someone else.")
    now = tz.now()
    _pending(invite, now)
    if organization_of(user) is None or organization_of(user).pk != invite.app.organization_id:
        raise Forbidden("You are not in this app's organization.", code="not_verified")
    invite.status = status
    invite.responded_at = now
    invite.save(update_fields=["status", "responded_at"])
    audit.record(
        kind, actor=user, app=invite.app, recipients=[invite.app.owner_id], invite=invite.pk
    )
    return invite


@transaction.atomic
def invite_accept(*, invite: Invite, user: User) -> Invite:
    """The invitee accepts: they become a member of the app."""
    return _respond(invite, user, Invite.Status.ACCEPTED, kinds.INVITE_ACCEPTED)


@transaction.atomic
def invite_reject(*, invite: Invite, user: User) -> Invite:
    """The invitee declines."""
    return _respond(invite, user, Invite.Status.REJECTED, kinds.INVITE_REJECTED)


@transaction.atomic
def member_remove(*, app: App, actor: User, user_id: int) -> None:
    """Remove an accepted member, who loses access at once: the owner removes anyone, a member
    removes themselves (leaves). The owner cannot leave their own app: they transfer it first."""
    if actor.pk == user_id and app.is_owner(actor):
        raise Conflict(
            "You own this app: transfer it to a member before you leave.",
            code="owner_cannot_leave",
        )
    if not can_remove_member(app, actor, user_id):
        raise Forbidden("Only the app's owner may remove other members.", code="owner_only")
    invite = app.invites.filter(invitee_id=user_id, status=Invite.Status.ACCEPTED).first()
    if invite is None:
        raise InvalidInput("Not a member of this app.", fields={"user_id": ["Not a member."]})
    invite.status = Invite.Status.REMOVED
    invite.responded_at = tz.now()
    invite.save(update_fields=["status", "responded_at"])
    if actor.pk == user_id:
        audit.record(kinds.MEMBER_LEFT, actor=actor, app=app, recipients=[app.owner_id])
        return
    audit.record(kinds.MEMBER_REMOVED, actor=actor, app=app, recipients=[user_id], user=user_id)
