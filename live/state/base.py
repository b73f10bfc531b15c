"""The state the live features share across server processes: presence and realtime figures.

One backend per module (`memory`: this process only; `redis`: every process using the same
Redis). `live.state.get_state()` picks Redis when `DATALAB_REDIS_URL` is set.
"""

from __future__ import annotations

import abc
from collections.abc import Collection
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one process saw of an app since its last flush."""

    count: int
    visitors: dict[str, int]  # visitor id -> latest event time (ms)
    latest: list[dict] = field(default_factory=list)  # oldest first


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The figures to push to an app's dashboards."""

    visitors: int
    events_per_second: float
    latest: list[dict]  # newest first


class LiveState(abc.ABC):
    """Shared state of the live features. Async: called from consumers and the flusher."""

    # -- presence ------------------------------------------------------------------------------

    @abc.abstractmethod
    async def presence_join(self, user_id: int, connection: str, now: float) -> bool:
        """Record a connection of the user; True when it is the user's only live one."""

    @abc.abstractmethod
    async def presence_leave(self, user_id: int, connection: str, now: float) -> bool:
        """Forget a connection; True when the user has no live connection left."""

    @abc.abstractmethod
    async def presence_touch(self, user_id: int, connection: str, now: float) -> None:
        """Keep a connection alive (connections not touched for PRESENCE_TTL count as gone)."""

    @abc.abstractmethod
    async def presence_online(self, user_ids: Collection[int], now: float) -> set[int]:
        """Those of the users who have a live connection."""

    # -- realtime ------------------------------------------------------------------------------

    @abc.abstractmethod
    async def realtime_flush(
        self, app_id: int, contribution: Contribution | None, now_ms: int
    ) -> Snapshot | float | None:
        """Add a contribution (if any) to the app's figures, then claim the app's next push.

        Returns a Snapshot when this caller must push now (the claim holds for
        REALTIME_INTERVAL across all processes); the seconds to wait before asking again when
        figures are pending but another push happened less than REALTIME_INTERVAL ago; None
        when nothing is pending (someone else pushed it already).
        """

    async def close(self) -> None:  # noqa: B027 (optional hook)
        """Release connections (tests)."""
