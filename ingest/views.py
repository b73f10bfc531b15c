"""POST /api/v1/ingest: the HTTP fallback (sendBeacon when a page closes, or no websockets)."""

from __future__ import annotations

import logging
import time

import orjson
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps_registry.models import origin_of
from datalab.errors import error_body
from eventstore import StoreUnavailable, get_writer
from ingest import constants as c
from ingest import services
from ingest.limits import get_limits

log = logging.getLogger(__name__)

_STATUS_BY_CLOSE_CODE = {c.BAD_TOKEN: 401, c.BAD_ORIGIN: 403}


def _cors(response: HttpResponse, origin: str | None) -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type, X-Datalab-Token"
        response["Access-Control-Max-Age"] = "86400"
        response["Vary"] = "Origin"
    return response


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


@csrf_exempt
def ingest_batch(request: HttpRequest) -> HttpResponse:
    origin = request.headers.get("Origin")
    if request.method == "OPTIONS":
        # The preflight cannot carry the token, so it names the caller's origin; the POST
        # itself is refused unless that origin is the app's.
        return _cors(HttpResponse(status=204), origin_of(origin) if origin else None)
    if request.method != "POST":
        return _error("method_not_allowed", "Use POST.", 405)
    response, allowed_origin = _handle(request, origin)
    return _cors(response, allowed_origin)


def _handle(request: HttpRequest, origin: str | None) -> tuple[HttpResponse, str | None]:
    if len(request.body) > c.MAX_FRAME_BYTES:
        return _error("too_large", "The batch is larger than 64 KiB.", 413), None
    try:
        message = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        return _error("parse_error", "The body is not JSON.", 400), None
    if not isinstance(message, dict) or message.get("type", c.BATCH) != c.BATCH:
        return _error("bad_message", 'Send {"type": "batch", "events": [...]}.', 400), None
    events = message.get("events")
    if not isinstance(events, list) or len(events) > c.MAX_BATCH:
        return _error("bad_message", f"Send 1 to {c.MAX_BATCH} events.", 400), None
    token = message.get("token") or request.headers.get("X-Datalab-Token")
    limits, ip = get_limits(), request.META.get("REMOTE_ADDR", "")
    place = limits.admit(ip=ip, token=str(token or ""))
    if place is None:
        return _error("rate_limited", "Too many connections from here.", 429), None
    try:
        if not limits.events(place, len(events)):
            limits.cool_down(place)
            return _error("rate_limited", "Too many events from here: slow down.", 429), None
        return _stored(request, origin, token, ip, events)
    finally:
        limits.release(place)


def _stored(request, origin, token, ip: str, events: list) -> tuple[HttpResponse, str | None]:
    try:
        connection = services.open_connection(
            token=token,
            origin=origin,
            user_agent=request.headers.get("User-Agent", ""),
            ip=ip,
        )
    except services.ConnectionRefused as exc:
        log.info("ingest fallback refused (%s): %s", exc.code, exc.reason)
        status = _STATUS_BY_CLOSE_CODE.get(exc.code, 400)
        return _error(
            "token_refused" if status == 401 else "origin_refused", exc.reason, status
        ), None
    stored, rejected = services.build_events(connection, events, now_ms=int(time.time() * 1000))
    result = None
    if stored:
        try:
            result = get_writer().submit_sync(stored)
        except StoreUnavailable:
            return _error("store_unavailable", "Try again later.", 503), origin
    services.record_dropped(connection)
    return JsonResponse(services.acknowledge(connection, stored, rejected, result)), origin
