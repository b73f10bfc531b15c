"""Validation of the events a client sends: pure functions, no I/O.

`clean_event` returns the event's clean fields or raises `EventRejected` with a short, stable
reason that goes back to the client in the ack's `rejected` list.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from ingest import constants as c

_EVENT_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_URL = 2048
MAX_PROPS = 20
# The fields' limits, here and in the compiled check (ingest/fastcheck.py).
MAX_TITLE = 300  # cut to it
MAX_LANG = 35  # cut to it
MAX_SCREEN = 100_000
MAX_SELECTOR = 200
MAX_ELEMENT_NAME = 64
MAX_HOVER_MS = 3_600_000
MAX_LEAVE_MS = 86_400_000


class EventRejected(ValueError):
    """The event can never be stored; `reason` is sent to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def event_id(raw: Any) -> str | None:
    """The event's id if it is a UUID string in its canonical form (lower-cased), else None."""
    if not isinstance(raw, str) or len(raw) != 36:
        return None
    lowered = raw.lower()
    return lowered if _UUID.fullmatch(lowered) else None


def _int(event: dict, key: str, *, low: int, high: int, required: bool = True) -> int | None:
    value = event.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise EventRejected(f"{key}_invalid")
    if not low <= value <= high:
        raise EventRejected(f"{key}_out_of_range")
    return int(value)


def _text(event: dict, key: str, *, most: int, required: bool = True, cut: bool = False) -> str:
    value = event.get(key, None if required else "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise EventRejected(f"{key}_invalid")
    if len(value) > most:
        if not cut:
            raise EventRejected(f"{key}_too_long")
        value = value[:most]
    return value


def _url(event: dict, key: str = "url", *, required: bool = True) -> str:
    value = _text(event, key, most=MAX_URL, required=required)
    if not value:
        if required:
            raise EventRejected(f"{key}_missing")
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise EventRejected(f"{key}_invalid")
    return value


def _props(raw: Any) -> dict | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) > MAX_PROPS:
        raise EventRejected("props_invalid")
    for key, value in raw.items():
        if not isinstance(key, str) or not 0 < len(key) <= 64:
            raise EventRejected("props_invalid")
        if isinstance(value, str) and len(value) > 256:
            raise EventRejected("props_invalid")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise EventRejected("props_invalid")
    return raw


def _ts(event: dict, now_ms: int) -> int:
    ts = event.get("ts")
    if type(ts) is int and now_ms - c.MAX_PAST_MS <= ts <= now_ms + c.MAX_FUTURE_MS:
        return ts  # the common case, checked in one go; anything else takes the full check
    return _int(event, "ts", low=now_ms - c.MAX_PAST_MS, high=now_ms + c.MAX_FUTURE_MS)


def _cut_text(event: dict, key: str, most: int) -> str:
    """An optional text, cut to `most` characters."""
    value = event.get(key)
    if type(value) is str and len(value) <= most:
        return value
    return _text(event, key, most=most, required=False, cut=True)


@lru_cache(maxsize=16384)
def web_url(value: str) -> bool:
    """Whether a URL is http(s) with a host (cached: sites have few distinct URLs)."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _page_url(event: dict) -> str:
    value = event.get("url")
    if type(value) is str and 0 < len(value) <= MAX_URL and web_url(value):
        return value
    return _url(event)  # the reason it is refused


def _pageview(event: dict, clean: dict, elements: Collection[str]) -> None:
    clean["url"] = _page_url(event)
    clean["referrer"] = _cut_text(event, "referrer", MAX_URL)
    clean["title"] = _cut_text(event, "title", MAX_TITLE)
    screen = event.get("screen")
    if not (type(screen) is int and 0 <= screen <= MAX_SCREEN):
        screen = _int(event, "screen", low=0, high=MAX_SCREEN, required=False)
    clean["screen"] = screen
    clean["lang"] = _cut_text(event, "lang", MAX_LANG)


def _click(event: dict, clean: dict, elements: Collection[str]) -> None:
    clean["url"] = _page_url(event)
    clean["selector"] = _text(event, "selector", most=MAX_SELECTOR)
    if not clean["selector"]:
        raise EventRejected("selector_missing")


def _element(event: dict, clean: dict, elements: Collection[str]) -> None:
    clean["name"] = _text(event, "name", most=MAX_ELEMENT_NAME)
    if clean["name"] not in elements:
        raise EventRejected("element_unknown")
    action = event.get("action")
    if action not in ("click", "leave"):
        raise EventRejected("action_invalid")
    clean["action"] = action
    clean["duration"] = _int(event, "duration", low=0, high=MAX_HOVER_MS)


def _custom(event: dict, clean: dict, elements: Collection[str]) -> None:
    name = event.get("name")
    if not isinstance(name, str) or not _EVENT_NAME.match(name):
        raise EventRejected("name_invalid")
    clean["name"] = name
    clean["props"] = _props(event.get("props"))


def _leave(event: dict, clean: dict, elements: Collection[str]) -> None:
    clean["url"] = _page_url(event)
    clean["duration"] = _int(event, "duration", low=0, high=MAX_LEAVE_MS)


# The fields of each type, checked by one function per type (one lookup, no chain of tests).
_BY_TYPE = {
    c.PAGEVIEW: _pageview,
    c.CLICK: _click,
    c.ELEMENT: _element,
    c.EVENT: _custom,
    c.LEAVE: _leave,
}


def clean_event(event: Any, *, now_ms: int, elements: Collection[str]) -> dict:
    """Check one event; returns {type, ts, ...fields of its type}."""
    if not isinstance(event, dict):
        raise EventRejected("not_an_object")
    kind = event.get("type")
    fields_of = _BY_TYPE.get(kind) if isinstance(kind, str) else None
    if fields_of is None:
        raise EventRejected("type_unknown")
    clean: dict[str, Any] = {"type": kind, "ts": _ts(event, now_ms)}
    vid = event.get("vid")
    if vid is not None:
        if not isinstance(vid, str) or not _VISITOR_ID.match(vid):
            raise EventRejected("vid_invalid")
        clean["vid"] = vid
    fields_of(event, clean, elements)
    return clean
