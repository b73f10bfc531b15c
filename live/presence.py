"""Presence: which colleagues are online, pushed to the organization's group `org.<id>`.

A user is online while at least one of their sockets is (several tabs, several processes:
counted in `live.state`). Only the first connection announces "online", only the last one
"offline".
"""

from __future__ import annotations

import time

from channels.layers import get_channel_layer

from live import constants as c
from live.state import get_state


async def _announce(organization_id: int, user_id: int, online: bool) -> None:
    message = {"type": c.LAYER_PRESENCE, "user": user_id, "online": online}
    await get_channel_layer().group_send(c.org_group(organization_id), message)


async def come_online(*, user_id: int, organization_id: int, connection: str) -> None:
    if await get_state().presence_join(user_id, connection, time.time()):
        await _announce(organization_id, user_id, True)


async def go_offline(*, user_id: int, organization_id: int, connection: str) -> None:
    if await get_state().presence_leave(user_id, connection, time.time()):
        await _announce(organization_id, user_id, False)


async def keep_alive(*, user_id: int, connection: str) -> None:
    await get_state().presence_touch(user_id, connection, time.time())


async def online_among(user_ids: list[int]) -> list[int]:
    return sorted(await get_state().presence_online(user_ids, time.time()))
