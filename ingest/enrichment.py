"""Server-side enrichment: User-Agent, visitor identity, referrer. Pure, cached, no I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

from ua_parser import parse as parse_user_agent

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@dataclass(frozen=True, slots=True)
class Client:
    browser: str
    os: str
    device: str  # desktop | mobile | tablet | bot
    is_bot: bool


@lru_cache(maxsize=4096)
def client_of(user_agent: str) -> Client:
    """Browser, OS and device class from the User-Agent (ua-parser); known bots flagged."""
    if not user_agent.strip():
        return Client(browser="", os="", device="bot", is_bot=True)
    result = parse_user_agent(user_agent)
    browser = result.user_agent.family if result.user_agent else "Other"
    os_name = result.os.family if result.os else "Other"
    device_family = result.device.family if result.device else ""
    if device_family == "Spider":
        return Client(browser=browser, os=os_name, device="bot", is_bot=True)
    return Client(
        browser=browser,
        os=os_name,
        device=_device_class(device_family, os_name, user_agent),
        is_bot=False,
    )


def _device_class(device_family: str, os_name: str, user_agent: str) -> str:
    if (
        "iPad" in device_family
        or "Tablet" in user_agent
        or (os_name == "Android" and "Mobile" not in user_agent)
    ):
        return "tablet"
    if os_name in ("iOS", "Android") or "Mobile" in user_agent:
        return "mobile"
    return "desktop"


def visitor_hash(*, salt: str, app_id: int, ip: str, user_agent: str) -> str:
    """An anonymous visitor id that changes daily with the salt; the IP never leaves here."""
    material = f"{salt}\x1f{app_id}\x1f{ip}\x1f{user_agent}".encode()
    return hashlib.blake2b(material, digest_size=12).hexdigest()


def declared_visitor_hash(*, app_id: int, visitor_id: str, secret: str) -> str:
    """A stable id from a first-party visitor id the site sends (when the app allows it)."""
    material = f"{secret}\x1fvid\x1f{app_id}\x1f{visitor_id}".encode()
    return hashlib.blake2b(material, digest_size=12).hexdigest()


def session_hash(visitor_id: str, start_ts: int) -> str:
    return hashlib.blake2b(f"{visitor_id}:{start_ts}".encode(), digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True)
class Location:
    path: str
    query: str
    utm: dict | None


def location_of(url: str) -> Location:
    parts = urlsplit(url)
    utm = None
    if "utm_" in parts.query:
        utm = {k: v for k, v in parse_qsl(parts.query) if k in UTM_KEYS and v}
    return Location(path=parts.path or "/", query=parts.query[:1024], utm=utm or None)


def referrer_of(referrer: str, *, app_host: str) -> str:
    """External referrers reduce to their host; internal navigation keeps its path."""
    if not referrer:
        return ""
    parts = urlsplit(referrer)
    host = (parts.hostname or "").lower()
    if not host:
        return ""
    if host == app_host:
        return parts.path or "/"
    return host.removeprefix("www.")
