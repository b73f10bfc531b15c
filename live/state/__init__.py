"""The shared state of the live features, picked by settings: Redis when `DATALAB_REDIS_URL`
is set (every server process shares it), this process's memory otherwise (one process only)."""

from __future__ import annotations

from django.conf import settings

from live.state.base import Contribution, LiveState, Snapshot

__all__ = ["Contribution", "LiveState", "Snapshot", "get_state"]

_state: LiveState | None = None
_state_url: str | None = None


def get_state() -> LiveState:
    """The process's state backend (rebuilt when the Redis URL setting changes, as in tests)."""
    global _state, _state_url
    url = settings.REDIS_URL
    if _state is None or url != _state_url:
        if url:
            from live.state.redis import RedisState

            _state = RedisState(url)
        else:
            from live.state.memory import MemoryState

            _state = MemoryState()
        _state_url = url
    return _state


def reset_state(state: LiveState | None = None) -> None:
    """Forget the backend (and, for memory, everything it held), or use `state` from now on
    (for the current Redis URL setting). For tests."""
    global _state, _state_url
    _state, _state_url = state, (settings.REDIS_URL if state is not None else None)
