"""Pushes from synchronous code (services, the notification subscriber) to connected sockets.

A push never fails its caller: when the channel layer is down the push is logged and dropped
(notifications stay stored and reach the user in the backlog of their next connection).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


async def _send_all(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    for group, message in messages:
        await layer.group_send(group, message)


def send(messages: Iterable[tuple[str, dict]]) -> None:
    """group_send each (group, message), in order; log and carry on if the layer fails."""
    messages = list(messages)
    if not messages:
        return
    try:
        async_to_sync(_send_all)(messages)
    except Exception:
        log.exception("live push failed (%d messages dropped)", len(messages))
