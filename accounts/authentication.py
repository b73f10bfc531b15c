"""`Authorization: Bearer <access>` for the REST API (and the user lookup websockets reuse)."""

from __future__ import annotations

from rest_framework import authentication

from accounts import tokens
from accounts.models import AuthSession, User
from accounts.services import NotAuthenticated


def user_for_access_token(token: str) -> tuple[User, tokens.Claims]:
    """The active user of a valid access token whose session is not revoked."""
    try:
        claims = tokens.decode(token, kind=tokens.ACCESS)
    except tokens.TokenInvalid:
        raise NotAuthenticated("The access token is not valid.", code="token_invalid") from None
    session = (
        AuthSession.objects.select_related("user")
        .filter(pk=claims.session_id, user_id=claims.user_id, revoked_at__isnull=True)
        .first()
    )
    if session is None or not session.user.is_active:
        raise NotAuthenticated("The session has ended; log in again.", code="token_revoked")
    return session.user, claims


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, token = header.partition(" ")
        if keyword != self.keyword:
            return None
        token = token.strip()
        if not token or " " in token:
            raise NotAuthenticated("Malformed Authorization header.", code="token_invalid")
        return user_for_access_token(token)

    def authenticate_header(self, request) -> str:
        return self.keyword
