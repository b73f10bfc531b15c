"""Signing and checking of user JWTs (access and refresh) with pyjwt.

Only HS256 is accepted when decoding, so `alg: none` and key-confusion tricks fail. The key is
derived from SECRET_KEY with its own salt, so tokens of one purpose never validate as another.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from django.conf import settings

ALGORITHM = "HS256"
ACCESS = "access"
REFRESH = "refresh"
ISSUER = "datalab"


class TokenInvalid(Exception):
    """The token is malformed, forged, expired or of the wrong type."""


@lru_cache(maxsize=8)
def signing_key(purpose: str, secret: str) -> bytes:
    return hmac.new(secret.encode(), f"datalab.{purpose}".encode(), hashlib.sha256).digest()


def _key(purpose: str) -> bytes:
    return signing_key(purpose, settings.SECRET_KEY)


@dataclass(frozen=True)
class Claims:
    user_id: int
    session_id: uuid.UUID
    jti: uuid.UUID
    expires_at: datetime


def encode(
    *, kind: str, user_id: int, session_id: uuid.UUID, jti: uuid.UUID, now: datetime, ttl: timedelta
) -> str:
    payload = {
        "iss": ISSUER,
        "typ": kind,
        "sub": str(user_id),
        "sid": str(session_id),
        "jti": str(jti),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(payload, _key("user-token"), algorithm=ALGORITHM)


def decode(token: str, *, kind: str) -> Claims:
    try:
        payload = jwt.decode(
            token,
            _key("user-token"),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "sid", "jti", "typ"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenInvalid(str(exc)) from exc
    if payload.get("typ") != kind:
        raise TokenInvalid(f"expected a {kind} token")
    try:
        return Claims(
            user_id=int(payload["sub"]),
            session_id=uuid.UUID(payload["sid"]),
            jti=uuid.UUID(payload["jti"]),
            expires_at=datetime.fromtimestamp(payload["exp"], tz=UTC),
        )
    except (ValueError, TypeError) as exc:
        raise TokenInvalid("malformed claims") from exc
