"""The compiled check of the ack path (issue 18): the ids a batch frame's ack would list, decided
in C for the ordinary frame, or None to take the full path.

`fast_ack_ids` decodes a frame with one msgspec decoder into typed structs whose constraints
(types, lengths, ranges, the allowed fields) are checked while decoding; what is left (the ids'
form, duplicates, the time window, the URLs, the element names) is checked once per frame. It
decides nothing differently from the full path (orjson, the consumer's frame checks and
`services.build_events` for a client that is not a bot): when it returns a list, the full path
accepts every event of the frame, rejects none, and acks exactly those ids in that order. Any
frame it is not sure of gives None:
- a frame over MAX_FRAME_BYTES, not JSON, not UTF-8, not a {"type": "batch", "events": [...]}
  object of at most MAX_BATCH events, or with any field besides those two;
- an event of a type other than pageview, leave, click and element (custom events take the full
  path), or with a field its type does not have, or a non-null `vid` (a declared visitor id);
- an id that is not a lower-case canonical UUID, the same id twice in the frame;
- a number given as a float or a bool, a `ts` outside the accepted window, a number out of range;
- a page URL that is empty, longer than MAX_URL or not http(s) with a host, a selector empty or
  longer than 200, an element name not tracked;
- a referrer, title or lang longer than the length the full path cuts it to (300 for titles, 35
  for langs, MAX_URL for referrers): accepted there, but cut, so left to it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from operator import attrgetter
from typing import Annotated, Literal

import msgspec

from ingest import constants as c
from ingest import validation as v

# The limits of ingest.validation; tests/test_ingest_fastcheck.py checks this module against it.
Id = Annotated[str, msgspec.Meta(min_length=36, max_length=36)]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=v.MAX_URL)]
Referrer = Annotated[str, msgspec.Meta(max_length=v.MAX_URL)]
Title = Annotated[str, msgspec.Meta(max_length=v.MAX_TITLE)]
Lang = Annotated[str, msgspec.Meta(max_length=v.MAX_LANG)]
Screen = Annotated[int, msgspec.Meta(ge=0, le=v.MAX_SCREEN)]
Selector = Annotated[str, msgspec.Meta(min_length=1, max_length=v.MAX_SELECTOR)]
ElementName = Annotated[str, msgspec.Meta(max_length=v.MAX_ELEMENT_NAME)]
ElementDuration = Annotated[int, msgspec.Meta(ge=0, le=v.MAX_HOVER_MS)]
LeaveDuration = Annotated[int, msgspec.Meta(ge=0, le=v.MAX_LEAVE_MS)]


class _Event(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, gc=False):
    id: Id
    ts: int


class Pageview(_Event, tag=c.PAGEVIEW, forbid_unknown_fields=True, gc=False):
    url: Url
    referrer: Referrer | None = None
    title: Title | None = None
    screen: Screen | None = None
    lang: Lang | None = None
    vid: None = None  # a declared visitor id takes the full path


class Leave(_Event, tag=c.LEAVE, forbid_unknown_fields=True, gc=False):
    url: Url
    duration: LeaveDuration
    vid: None = None


class Click(_Event, tag=c.CLICK, forbid_unknown_fields=True, gc=False):
    url: Url
    selector: Selector
    vid: None = None


class Element(_Event, tag=c.ELEMENT, forbid_unknown_fields=True, gc=False):
    name: ElementName
    action: Literal["click", "leave"]
    duration: ElementDuration
    vid: None = None


class Batch(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["batch"]
    events: Annotated[
        list[Pageview | Leave | Click | Element], msgspec.Meta(max_length=c.MAX_BATCH)
    ]


_DECODER = msgspec.json.Decoder(Batch)
_HEX = "[0-9a-f]"
_UUID = f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
_IDS = re.compile(f"(?:{_UUID}\n)*")  # the frame's ids, one per line
_BY_TS = attrgetter("ts")


def fast_ack_ids(frame: str | bytes, *, now_ms: int, elements: Collection[str]) -> list[str] | None:
    """The ids the full path would ack for this frame, in its order (the events stably sorted by
    ts), when it would accept every event of the frame; else None (take the full path). For a
    connection whose client is not a bot: its caller checks that, and the rate limits."""
    if len(frame) > c.MAX_FRAME_BYTES:
        return None
    try:
        events = _DECODER.decode(frame).events
    except (msgspec.DecodeError, UnicodeError, RecursionError):
        # UnicodeError: a str with a lone surrogate (it is not UTF-8); RecursionError: deep
        # nesting skipped while msgspec looks for an event's "type" (orjson refuses it too)
        return None
    if not events:
        return []
    ids = [event.id for event in events]
    if not _IDS.fullmatch("\n".join(ids) + "\n") or len(set(ids)) != len(ids):
        return None
    stamps = [event.ts for event in events]
    if min(stamps) < now_ms - c.MAX_PAST_MS or max(stamps) > now_ms + c.MAX_FUTURE_MS:
        return None
    for event in events:
        if type(event) is Element:
            if event.name not in elements:
                return None
        elif not v.web_url(event.url):
            return None
    if stamps == sorted(stamps):
        return ids
    return [event.id for event in sorted(events, key=_BY_TS)]  # a stable sort, as the full path
