"""The ingest path: open a connection for a token, turn client events into stored events.

`open_connection` does the checks that need the database (token, app, origin, salt) once per
connection; `build_events` is then pure and cheap, so the per-frame hot path never touches the
ORM.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from urllib.parse import urlsplit

import orjson
from django.conf import settings
from django.db.models import F

from apps_registry.models import origin_of
from eventstore import AppendResult, StoredEvent, get_store
from funnels.matching import CompiledConfig
from funnels.selectors import frozen_config
from ingest import constants as c
from ingest.enrichment import (
    Client,
    client_of,
    declared_visitor_hash,
    location_of,
    referrer_of,
    session_hash,
    visitor_hash,
)
from ingest.models import DroppedEvents, Salt
from ingest.validation import EventRejected, clean_event, event_id
from outbox import services as outbox
from tokens.services import TokenRefused, token_check

log = logging.getLogger(__name__)
SALT_KEEP = dt.timedelta(hours=48)
PASSES_KEPT = 10_000  # tokens whose last passed check this process remembers

# token -> (monotonic time, epoch) of its last passed check in this process: the sockets of one
# app share a token, so one query every few seconds re-checks all of them.
_passes: dict[str, tuple[float, int]] = {}


class ConnectionRefused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass
class Connection:
    """What one websocket (or one fallback request) may do, and its visitor's session state."""

    app_id: int
    epoch: int
    app_host: str
    compiled: CompiledConfig
    client: Client
    visitor_id: str
    allow_visitor_id: bool
    token: str = ""
    user_agent: str = ""
    sessions: dict[str, tuple[str, int]] = field(default_factory=dict)
    dropped: int = 0

    def facts(self) -> bytes:
        """What `reopen_connection` rebuilds this connection from (capture mode's inbox)."""
        return orjson.dumps(
            {
                "app": self.app_id,
                "epoch": self.epoch,
                "host": self.app_host,
                "ua": self.user_agent,
                "visitor": self.visitor_id,
                "vid": self.allow_visitor_id,
            }
        )

    @cached_property
    def elements(self) -> frozenset[str]:
        """The names of the configuration's tracked elements (fixed for the connection)."""
        return frozenset(self.compiled.element_names())

    def hello(self) -> dict:
        return {
            "type": c.HELLO,
            "config": {
                "clicks": self.compiled.click_selectors(),
                "elements": self.compiled.elements(),
                "max_batch": c.MAX_BATCH,
                "flush_ms": c.FLUSH_MS,
                "max_frame_bytes": c.MAX_FRAME_BYTES,
                "visitor_id": self.allow_visitor_id,
            },
        }


def salt_for(day: dt.date) -> str:
    """The secret salt of a UTC day, created on first use; salts past 48 hours are deleted."""
    salt, created = Salt.objects.get_or_create(day=day, defaults={"value": secrets.token_hex(32)})
    if created:
        Salt.objects.filter(day__lt=day - SALT_KEEP).delete()
    return salt.value


@lru_cache(maxsize=1024)
def compiled_config(app_id: int, epoch: int) -> CompiledConfig:
    """The matcher of an (app, epoch). Frozen configurations never change, so caching is safe."""
    data = frozen_config(app_id, epoch)
    if data is None:
        raise ConnectionRefused(c.BAD_TOKEN, "no configuration frozen for this epoch")
    return CompiledConfig.from_dict(data)


def open_connection(
    *, token: str | None, origin: str | None, user_agent: str, ip: str, builds: bool = True
) -> Connection:
    """Check the token, the app and the Origin; compute the visitor. Raises ConnectionRefused.
    `builds`: the connection builds its events (not in capture mode, where the processor does),
    so it continues its visitor's last session, read from the store."""
    try:
        grant = token_check(token)
    except TokenRefused as exc:
        raise ConnectionRefused(c.BAD_TOKEN, str(exc)) from None
    app = grant.app
    if not origin or origin_of(origin) != app.origin:
        raise ConnectionRefused(c.BAD_ORIGIN, f"origin {origin!r} is not {app.origin}")
    today = dt.datetime.now(dt.UTC).date()
    client = client_of(user_agent)
    visitor = visitor_hash(salt=salt_for(today), app_id=app.pk, ip=ip, user_agent=user_agent)
    connection = Connection(
        app_id=app.pk,
        epoch=grant.epoch,
        app_host=(urlsplit(app.url).hostname or "").lower(),
        compiled=compiled_config(app.pk, grant.epoch),
        client=client,
        visitor_id=visitor,
        allow_visitor_id=app.allow_visitor_id,
        token=token or "",
        user_agent=user_agent,
    )
    if builds:
        connection.sessions.update(get_store().last_seen(app.pk, grant.epoch, [visitor]))
    _passed(connection.token, grant.epoch)
    return connection


def reopen_connection(facts: bytes) -> Connection:
    """The connection `Connection.facts` describes, for building its captured frames (its
    sessions left to the caller). Raises ConnectionRefused when its epoch has no frozen
    configuration any more (the app was deleted since)."""
    known = orjson.loads(facts)
    return Connection(
        app_id=known["app"],
        epoch=known["epoch"],
        app_host=known["host"],
        compiled=compiled_config(known["app"], known["epoch"]),
        client=client_of(known["ua"]),
        visitor_id=known["visitor"],
        allow_visitor_id=known["vid"],
        user_agent=known["ua"],
    )


def recheck_token(conn: Connection) -> None:
    """Raise ConnectionRefused when the connection's token stopped being valid for its epoch
    (revoked, rotated out, the app unlocked or deleted) since the connection opened."""
    try:
        grant = token_check(conn.token)
    except TokenRefused as exc:
        _passes.pop(conn.token, None)
        raise ConnectionRefused(c.BAD_TOKEN, str(exc)) from None
    if grant.epoch != conn.epoch:
        _passes.pop(conn.token, None)
        raise ConnectionRefused(c.BAD_TOKEN, "the app's data epoch changed")
    _passed(conn.token, grant.epoch)


def token_pass_age(conn: Connection) -> float:
    """Seconds since the connection's token last passed a check for its epoch in this process
    (at any connection's open or re-check); infinite if it never did or failed since. No query."""
    passed = _passes.get(conn.token)
    if passed is None or passed[1] != conn.epoch:
        return float("inf")
    return time.monotonic() - passed[0]


def _passed(token: str, epoch: int) -> None:
    if len(_passes) >= PASSES_KEPT and token not in _passes:
        _passes.clear()  # a cache: forgetting costs one query per token
    _passes[token] = (time.monotonic(), epoch)


def _visitor(conn: Connection, clean: dict) -> str:
    vid = clean.get("vid")
    if vid and conn.allow_visitor_id:
        return declared_visitor_hash(app_id=conn.app_id, visitor_id=vid, secret=settings.SECRET_KEY)
    return conn.visitor_id


def _session(conn: Connection, visitor: str, ts: int) -> str:
    current = conn.sessions.get(visitor)
    if current is not None and 0 <= ts - current[1] < c.SESSION_GAP_MS:
        conn.sessions[visitor] = (current[0], ts)
        return current[0]
    if current is not None and ts < current[1]:
        return current[0]  # a late event of the ongoing session
    session = session_hash(visitor, ts)
    conn.sessions[visitor] = (session, ts)
    return session


@lru_cache(maxsize=16384)
def page_facts(compiled: CompiledConfig, url: str) -> tuple:
    """(location, stages, campaign) of a page URL. Sites have few distinct URLs, so this
    parses each once per configuration instead of three times per event."""
    stages = tuple(compiled.stages_for_pageview(url))
    return location_of(url), stages, compiled.campaign_for(url) or ""


_location = lru_cache(maxsize=16384)(location_of)
_referrer = lru_cache(maxsize=16384)(referrer_of)


def _stored(conn: Connection, eid: str, clean: dict) -> StoredEvent:
    kind, ts, client = clean["type"], clean["ts"], conn.client
    visitor = _visitor(conn, clean) if "vid" in clean else conn.visitor_id
    if kind == c.PAGEVIEW:  # nearly all traffic: its fields in one dict display
        location, stages, campaign = page_facts(conn.compiled, clean["url"])
        fields = {
            "stages": stages,
            "path": location.path,
            "query": location.query,
            "title": clean["title"],
            "referrer": _referrer(clean["referrer"], app_host=conn.app_host),
            "screen": clean["screen"],
            "lang": clean["lang"],
            "campaign": campaign,
            "utm": location.utm,
        }
    else:
        fields = _other_fields(conn.compiled, kind, clean)
    return StoredEvent(
        app_id=conn.app_id,
        epoch=conn.epoch,
        event_id=eid,
        ts=ts,
        type=kind,
        visitor_id=visitor,
        session_id=_session(conn, visitor, ts),
        browser=client.browser,
        os=client.os,
        device=client.device,
        **fields,
    )


def _other_fields(compiled: CompiledConfig, kind: str, clean: dict) -> dict:
    """The fields (and stages) of an event other than a pageview."""
    fields: dict = {}
    stages: tuple[int, ...] | list[int] = ()
    if "url" in clean:
        location = _location(clean["url"])
        fields.update(path=location.path, query=location.query)
    if kind == c.CLICK:
        fields["selector"] = clean["selector"]
        stages = compiled.stages_for_click(clean["selector"])
    elif kind == c.ELEMENT:
        fields.update(name=clean["name"], action=clean["action"], duration_ms=clean["duration"])
    elif kind == c.EVENT:
        fields.update(name=clean["name"], props=clean["props"])
        stages = compiled.stages_for_event(clean["name"])
    elif kind == c.LEAVE:
        fields["duration_ms"] = clean["duration"]
    fields["stages"] = tuple(stages)
    return fields


def check_events(
    conn: Connection, raw_events: list, *, now_ms: int
) -> tuple[list[tuple[str, dict]], list[dict]]:
    """Validate a batch: the accepted events as (id, clean fields) in the order they are stored
    (by time; an id twice in the batch once), and the rejected ones with reasons. Events of
    known bots are all rejected (and counted), never stored."""
    accepted: list[tuple[str, dict]] = []
    rejected: list[dict] = []
    seen: set[str] = set()
    elements = conn.elements
    for raw in raw_events:
        eid = event_id(raw.get("id")) if isinstance(raw, dict) else None
        if eid is None:
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            rejected.append(
                {"id": raw_id if isinstance(raw_id, str) else None, "error": "id_invalid"}
            )
            continue
        if conn.client.is_bot:
            conn.dropped += 1
            rejected.append({"id": eid, "error": "bot"})
            continue
        if eid in seen:
            continue  # the same event twice in one batch: stored (and acked) once
        seen.add(eid)
        try:
            accepted.append((eid, clean_event(raw, now_ms=now_ms, elements=elements)))
        except EventRejected as exc:
            rejected.append({"id": eid, "error": exc.reason})
    accepted.sort(key=lambda pair: pair[1]["ts"])
    return accepted, rejected


def build_events(
    conn: Connection, raw_events: list, *, now_ms: int
) -> tuple[list[StoredEvent], list[dict]]:
    """Validate (`check_events`) and enrich a batch: the events to store, and the rejected ones
    with reasons."""
    accepted, rejected = check_events(conn, raw_events, now_ms=now_ms)
    return [_stored(conn, eid, clean) for eid, clean in accepted], rejected


def ack_of(ids: list[str], rejected: list[dict] | None = None) -> dict:
    """The protocol's ack: the ids stored (or, in capture mode, in the inbox: the processor
    stores them, or finds them stored already if they were re-sent), the rejected with reasons."""
    return {"type": c.ACK, "ids": ids, "rejected": rejected or []}


def acknowledge(
    conn: Connection, stored: list[StoredEvent], rejected: list[dict], result: AppendResult | None
) -> dict:
    """The ack of a committed batch (ids in the client's order; re-sent ones too, since they
    are stored), and the realtime view told about the events stored for the first time."""
    ids: list[str] = []
    if result is not None:
        new = result.new_ids
        if new:
            fresh = stored if len(new) == len(stored) else [e for e in stored if e.event_id in new]
            outbox.note_traffic(conn.app_id, fresh)
        committed = new | result.duplicate_ids
        ids = [event.event_id for event in stored if event.event_id in committed]
    return ack_of(ids, rejected)


def record_dropped(conn: Connection, *, reason: str = "bot") -> None:
    """Add the connection's dropped-event count to today's counter."""
    if not conn.dropped:
        return
    today = dt.datetime.now(dt.UTC).date()
    counter, _ = DroppedEvents.objects.get_or_create(app_ref=conn.app_id, day=today, reason=reason)
    DroppedEvents.objects.filter(pk=counter.pk).update(count=F("count") + conn.dropped)
    conn.dropped = 0
