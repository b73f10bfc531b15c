"""App tokens: issue (locks the app), rotate with a grace period, revoke, and check on ingest.

A token is a pyjwt-signed claim {app, epoch, jti}. It is public by nature (it sits in the site's
HTML): it only lets its holder *send* events for its app, from the app's origin.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

import jwt
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps_registry import audit
from apps_registry.models import App
from apps_registry.services import app_lock, locked_for_update, require_owner
from datalab.errors import Conflict, NotFound
from funnels.services import config_freeze
from outbox import kinds
from tokens.models import AppToken

ALGORITHM = "HS256"
TOKEN_TYPE = "app"
DEFAULT_GRACE = timedelta(hours=24)


class TokenRefused(Exception):
    """The token cannot be used to send events (reason in the message)."""


def _key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), b"datalab.app-token", hashlib.sha256).digest()


def encode(record: AppToken) -> str:
    claims = {
        "typ": TOKEN_TYPE,
        "app": record.app_id,
        "epoch": record.epoch,
        "jti": str(record.jti),
        "iat": int(record.issued_at.timestamp()),
    }
    return jwt.encode(claims, _key(), algorithm=ALGORITHM)


def snippet(token: str) -> str:
    return (
        f'<script async src="{settings.PUBLIC_URL}/static/datalab.js" '
        f'data-token="{token}"></script>'
    )


@dataclass(frozen=True)
class IssuedToken:
    record: AppToken
    token: str

    @property
    def snippet(self) -> str:
        return snippet(self.token)


def _active(app: App):
    now = timezone.now()
    return app.tokens.filter(revoked_at__isnull=True, epoch=app.epoch).exclude(expires_at__lte=now)


def _new_token(app: App, actor) -> IssuedToken:
    record = AppToken.objects.create(app=app, epoch=app.epoch, issued_by=actor)
    return IssuedToken(record=record, token=encode(record))


@transaction.atomic
def token_issue(*, app: App, actor) -> IssuedToken:
    """Issue the app's token (owner only). Freezes the configuration for the current epoch and
    locks the app."""
    require_owner(app, actor)
    app = locked_for_update(app)
    if _active(app).filter(expires_at__isnull=True).exists() and app.locked:
        raise Conflict(
            "The app already has a token: rotate it, or revoke it first.", code="token_exists"
        )
    config_freeze(app=app)
    app = app_lock(app=app, actor=actor)
    return _new_token(app, actor)


@transaction.atomic
def token_rotate(*, app: App, actor, grace: timedelta = DEFAULT_GRACE) -> IssuedToken:
    """A new token; the current ones keep working for the grace period (owner only)."""
    require_owner(app, actor)
    app = locked_for_update(app)
    if not app.locked:
        raise Conflict("The app has no token to rotate: issue one.", code="no_token")
    _active(app).filter(expires_at__isnull=True).update(expires_at=timezone.now() + grace)
    issued = _new_token(app, actor)
    audit.record(
        kinds.TOKEN_ROTATED, actor=actor, app=app, grace_seconds=int(grace.total_seconds())
    )
    return issued


@transaction.atomic
def token_revoke(*, app: App, actor) -> int:
    """Revoke every token of the app at once (owner only). The app stays locked."""
    require_owner(app, actor)
    count = app.tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit.record(kinds.TOKEN_REVOKED, actor=actor, app=app, tokens=count)
    return count


def current_token(app: App) -> IssuedToken:
    """The newest usable token of the app, for members to read the snippet."""
    record = _active(app).filter(expires_at__isnull=True).order_by("-issued_at").first()
    if record is None or not app.locked:
        raise NotFound("The app has no token yet.", code="no_token")
    return IssuedToken(record=record, token=encode(record))


@dataclass(frozen=True)
class Grant:
    """What a valid token allows: sending events to (app, epoch) from `origin`."""

    app: App
    epoch: int
    jti: str


def token_check(token: str | None) -> Grant:
    """Validate an app token for ingest; raises TokenRefused with the reason."""
    if not token:
        raise TokenRefused("missing token")
    try:
        claims = jwt.decode(
            token, _key(), algorithms=[ALGORITHM], options={"require": ["app", "epoch", "jti"]}
        )
    except jwt.PyJWTError as exc:
        raise TokenRefused(f"invalid token ({exc.__class__.__name__})") from None
    if claims.get("typ") != TOKEN_TYPE:
        raise TokenRefused("not an app token")
    record = AppToken.objects.select_related("app").filter(jti=claims["jti"]).first()
    if record is None:
        raise TokenRefused("unknown token (app deleted?)")
    if not record.is_active():
        raise TokenRefused("token revoked or rotated out")
    app = record.app
    if not app.locked or app.epoch != record.epoch or claims["epoch"] != record.epoch:
        raise TokenRefused("app unlocked since the token was issued")
    return Grant(app=app, epoch=record.epoch, jti=str(record.jti))
