"""Writes for accounts: log in, rotate refresh tokens, log out, edit the profile."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from accounts import tokens
from accounts.models import AuthSession, RefreshToken, User
from datalab.errors import DomainError

log = logging.getLogger(__name__)


class NotAuthenticated(DomainError):
    status_code = 401
    default_code = "not_authenticated"
    default_detail = "Authentication credentials were not provided or are not valid."


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    session_id: uuid.UUID


def _issue_pair(session: AuthSession) -> TokenPair:
    now = timezone.now()
    refresh = RefreshToken.objects.create(
        session=session, issued_at=now, expires_at=now + settings.REFRESH_TOKEN_LIFETIME
    )
    common = {"user_id": session.user_id, "session_id": session.id, "now": now}
    return TokenPair(
        access=tokens.encode(
            kind=tokens.ACCESS, jti=uuid.uuid4(), ttl=settings.ACCESS_TOKEN_LIFETIME, **common
        ),
        refresh=tokens.encode(
            kind=tokens.REFRESH, jti=refresh.jti, ttl=settings.REFRESH_TOKEN_LIFETIME, **common
        ),
        session_id=session.id,
    )


def auth_login(*, email: str, password: str) -> TokenPair:
    """Check the credentials and open a new session with a fresh token pair."""
    user = authenticate(username=email, password=password)
    if user is None:
        raise NotAuthenticated("E-mail or password is wrong.", code="invalid_credentials")
    with transaction.atomic():
        session = AuthSession.objects.create(user=user)
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
        return _issue_pair(session)


def auth_refresh(*, refresh: str) -> TokenPair:
    """Rotate a refresh token. Presenting one that was already used revokes its whole chain."""
    try:
        claims = tokens.decode(refresh, kind=tokens.REFRESH)
    except tokens.TokenInvalid:
        raise NotAuthenticated("The refresh token is not valid.", code="token_invalid") from None
    with transaction.atomic():
        record = (
            RefreshToken.objects.select_for_update()
            .select_related("session", "session__user")
            .filter(jti=claims.jti, session_id=claims.session_id)
            .first()
        )
        if record is None or not record.session.is_active or not record.session.user.is_active:
            raise NotAuthenticated("The refresh token was revoked.", code="token_revoked")
        if record.used_at is None:
            record.used_at = timezone.now()
            record.save(update_fields=["used_at"])
            return _issue_pair(record.session)
    # A used token presented again: someone holds a copy. Revoke the chain (outside the
    # transaction above, so raising the error does not roll the revocation back).
    _revoke(record.session, reason="refresh_reuse")
    log.warning("refresh token reuse detected; session %s revoked", record.session_id)
    raise NotAuthenticated(
        "This refresh token was already used; the session is revoked.", code="token_reused"
    )


def _revoke(session: AuthSession, *, reason: str) -> None:
    AuthSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )


def auth_logout(*, session_id: uuid.UUID) -> None:
    """Revoke the session: its access and refresh tokens stop working at once."""
    AuthSession.objects.filter(pk=session_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason="logout"
    )


def session_of_refresh_token(refresh: str) -> uuid.UUID:
    try:
        return tokens.decode(refresh, kind=tokens.REFRESH).session_id
    except tokens.TokenInvalid:
        raise NotAuthenticated("The refresh token is not valid.", code="token_invalid") from None


PROFILE_FIELDS = ("first_name", "last_name", "position")


def profile_update(*, user: User, **changes: str) -> User:
    """Edit the editable parts of a profile (names and position)."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    for field, value in changes.items():
        setattr(user, field, value.strip())
    user.save(update_fields=list(changes))
    return user
