"""Flood limits of the ingest socket, per process: frames and events per connection, open
connections and events per client address and per app token.

A connection asks `Limits.admit` before anything costly (no database, no token check) and gives
its place back on disconnect; each frame takes from its connection's frame bucket, and each
batch's events from the connection's, its address's and its token's buckets. Addresses are kept
as keyed hashes, in memory only, while they have open connections: never stored or logged.
With several server processes, each applies the limits to what it serves.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field

from django.conf import settings

FRAME_BURST_SECONDS = 5  # a connection may send this many seconds' worth of frames at once

_KEY = secrets.token_bytes(16)  # per process: the hashes mean nothing elsewhere


def _frame_bucket() -> TokenBucket:
    rate = settings.INGEST_FRAME_RATE
    return TokenBucket(rate, FRAME_BURST_SECONDS * rate)


class TokenBucket:
    """`rate` per second, up to `burst` at once."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.capacity, self.tokens = rate, burst, burst
        self.updated = time.monotonic()

    def take(self, count: float = 1) -> bool:
        self._refill()
        if count > self.tokens:
            return False
        self.tokens -= count
        return True

    def full(self) -> bool:
        self._refill()
        return self.tokens >= self.capacity

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now


@dataclass
class _Source:
    """The open connections of one address or one token, and their shared event bucket."""

    bucket: TokenBucket
    connections: int = 0


@dataclass
class Place:
    """A connection's place: what its frames and events are counted against."""

    address: str
    token: str
    frames: TokenBucket = field(default_factory=_frame_bucket)
    events: TokenBucket = field(
        default_factory=lambda: TokenBucket(settings.INGEST_RATE, settings.INGEST_BURST)
    )


SWEEP_EVERY = 1000  # admissions between two sweeps of sources without connections
COOLDOWN_DOUBLINGS = 5  # an address cut again and again cools down up to 32x as long
STRIKES_KEPT_SECONDS = 600.0  # an address not cut for this long starts again from one cool-down


class Limits:
    def __init__(self) -> None:
        self.addresses: dict[str, _Source] = {}
        self.tokens: dict[str, _Source] = {}
        self.cooling: dict[str, float] = {}  # address -> until when (monotonic) it is refused
        self.strikes: dict[str, tuple[int, float]] = {}  # address -> (cuts in a row, last cut)
        self.admitted = 0

    def admit(self, *, ip: str, token: str) -> Place | None:
        """A place for a new connection (or one HTTP batch), or None when its address or token
        has too many open."""
        self.admitted += 1
        if self.admitted % SWEEP_EVERY == 0:
            self._sweep()
        address = _hashed(ip)
        if self._cooling(address):
            return None
        token_key = _hashed(token)
        by_address = self.addresses.get(address)
        by_token = self.tokens.get(token_key)
        if by_address and by_address.connections >= settings.INGEST_CONNECTIONS_PER_ADDRESS:
            return None
        if by_token and by_token.connections >= settings.INGEST_CONNECTIONS_PER_TOKEN:
            return None
        if by_address is None:
            by_address = self.addresses[address] = _Source(
                TokenBucket(settings.INGEST_ADDRESS_RATE, settings.INGEST_ADDRESS_RATE * 5)
            )
        if by_token is None:
            by_token = self.tokens[token_key] = _Source(
                TokenBucket(settings.INGEST_TOKEN_RATE, settings.INGEST_TOKEN_RATE * 5)
            )
        by_address.connections += 1
        by_token.connections += 1
        return Place(address, token_key)

    def release(self, place: Place) -> None:
        """Give a connection's place back. Its address and token keep their event buckets
        until they have refilled: a burst of short HTTP batches is counted like a socket's."""
        for sources, key in ((self.addresses, place.address), (self.tokens, place.token)):
            source = sources.get(key)
            if source is not None:
                source.connections = max(0, source.connections - 1)

    def cool_down(self, place: Place) -> float:
        """The connection was cut for going past a limit: its address's new connections are
        refused for a while (cheaply, before the token is checked), so that a flood that
        reconnects at once costs the server next to nothing. An address cut again soon after
        its cool-down ended cools down twice as long (up to 2**COOLDOWN_DOUBLINGS times): a
        flood that waits out each cool-down gets one burst in ever longer intervals. The other
        connections of a burst cut while it cools change nothing. Returns the seconds left."""
        now = time.monotonic()
        until = self.cooling.get(place.address, 0.0)
        if until <= now:
            count, last = self.strikes.get(place.address, (0, 0.0))
            count = count + 1 if now - last < STRIKES_KEPT_SECONDS else 1
            self.strikes[place.address] = (count, now)
            doublings = min(count - 1, COOLDOWN_DOUBLINGS)
            until = self.cooling[place.address] = (
                now + settings.INGEST_COOLDOWN_SECONDS * 2**doublings
            )
        return until - now

    def refuses(self, ip: str) -> bool:
        """Whether a new connection from `ip` would be refused because its address is cooling
        down: asked by the server before it reads a byte of the connection (serve.py)."""
        return bool(self.cooling) and self._cooling(_hashed(ip))

    def _cooling(self, address: str) -> bool:
        return self.cooling.get(address, 0.0) > time.monotonic()

    def _sweep(self) -> None:
        now = time.monotonic()
        self.cooling = {address: until for address, until in self.cooling.items() if until > now}
        self.strikes = {
            address: strike
            for address, strike in self.strikes.items()
            if now - strike[1] < STRIKES_KEPT_SECONDS
        }
        for sources in (self.addresses, self.tokens):
            idle = [key for key, s in sources.items() if not s.connections and s.bucket.full()]
            for key in idle:
                del sources[key]

    def frame(self, place: Place) -> bool:
        """Whether the connection may send another frame now."""
        return place.frames.take()

    def events(self, place: Place, count: int) -> bool:
        """Whether the connection may send `count` more events now (its own rate, its
        address's and its token's)."""
        address, token = self.addresses.get(place.address), self.tokens.get(place.token)
        return (
            place.events.take(count)
            and (address is None or address.bucket.take(count))
            and (token is None or token.bucket.take(count))
        )


def _hashed(value: str) -> str:
    return hashlib.blake2b(value.encode(), key=_KEY, digest_size=12).hexdigest()


_limits = Limits()


def get_limits() -> Limits:
    """This process's limits."""
    return _limits


def reset_limits() -> None:
    """Forget every connection (tests)."""
    global _limits
    _limits = Limits()
