"""The live state in this process's memory: correct with one server process only."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection

from live import constants as c
from live.state.base import Contribution, LiveState, Snapshot


class _AppFigures:
    def __init__(self) -> None:
        self.visitors: dict[str, int] = {}
        self.per_second: dict[int, int] = {}
        self.latest: deque[dict] = deque(maxlen=c.LATEST_EVENTS)  # newest first
        self.dirty = False
        self.claimed_until = 0


class MemoryState(LiveState):
    def __init__(self) -> None:
        self.connections: dict[int, dict[str, float]] = {}
        self.apps: dict[int, _AppFigures] = {}

    def _alive(self, user_id: int, now: float) -> dict[str, float]:
        connections = self.connections.get(user_id, {})
        for name in [n for n, seen in connections.items() if seen < now - c.PRESENCE_TTL]:
            del connections[name]
        return connections

    async def presence_join(self, user_id: int, connection: str, now: float) -> bool:
        connections = self._alive(user_id, now)
        connections[connection] = now
        self.connections[user_id] = connections
        return len(connections) == 1

    async def presence_leave(self, user_id: int, connection: str, now: float) -> bool:
        connections = self._alive(user_id, now)
        connections.pop(connection, None)
        if not connections:
            self.connections.pop(user_id, None)
        return not connections

    async def presence_touch(self, user_id: int, connection: str, now: float) -> None:
        self.connections.setdefault(user_id, {})[connection] = now

    async def presence_online(self, user_ids: Collection[int], now: float) -> set[int]:
        return {user_id for user_id in user_ids if self._alive(user_id, now)}

    async def realtime_flush(
        self, app_id: int, contribution: Contribution | None, now_ms: int
    ) -> Snapshot | float | None:
        figures = self.apps.setdefault(app_id, _AppFigures())
        if contribution is not None and contribution.count:
            for visitor, ts in contribution.visitors.items():
                figures.visitors[visitor] = max(ts, figures.visitors.get(visitor, 0))
            second = now_ms // 1000
            figures.per_second[second] = figures.per_second.get(second, 0) + contribution.count
            figures.latest.extendleft(contribution.latest)
            figures.dirty = True
        if not figures.dirty:
            return None
        if figures.claimed_until > now_ms:
            return (figures.claimed_until - now_ms) / 1000
        figures.claimed_until = now_ms + int(c.REALTIME_INTERVAL * 1000)
        figures.dirty = False
        return self._snapshot(figures, now_ms)

    @staticmethod
    def _snapshot(figures: _AppFigures, now_ms: int) -> Snapshot:
        oldest = now_ms - int(c.ACTIVE_VISITOR_WINDOW * 1000)
        figures.visitors = {v: ts for v, ts in figures.visitors.items() if ts > oldest}
        first_second = now_ms // 1000 - c.RATE_WINDOW
        figures.per_second = {s: n for s, n in figures.per_second.items() if s > first_second}
        return Snapshot(
            visitors=len(figures.visitors),
            events_per_second=round(sum(figures.per_second.values()) / c.RATE_WINDOW, 1),
            latest=list(figures.latest),
        )
