"""The live state in Redis, shared by every server process that uses the same Redis (>= 6.2).

Keys (all expire when unused):
- `datalab:live:presence:<user>`: sorted set of the user's connections, scored by last touch.
- `datalab:live:rt:<app>:visitors`: sorted set of visitors, scored by their latest event (ms).
- `datalab:live:rt:<app>:rate`: hash second -> events counted in that second.
- `datalab:live:rt:<app>:latest`: list of the latest events (JSON), newest first.
- `datalab:live:rt:<app>:claim`: held for REALTIME_INTERVAL by the process that pushed last.
- `datalab:live:rt:<app>:dirty`: set while some figures were not pushed yet.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Collection

import orjson
import redis.asyncio as aioredis

from live import constants as c
from live.state.base import Contribution, LiveState, Snapshot

PREFIX = "datalab:live"
KEY_TTL_SECONDS = 600

# KEYS: visitors, rate, latest, claim, dirty
# ARGV: now_ms, interval_ms, visitor_window_ms, rate_window_s, latest_max, key_ttl_s, count,
#       visitor_count, (visitor, ts) * visitor_count, latest_json...
FLUSH_SCRIPT = """
local now = tonumber(ARGV[1])
local count = tonumber(ARGV[7])
local ttl = tonumber(ARGV[6])
if count > 0 then
  local i = 9
  for _ = 1, tonumber(ARGV[8]) do
    redis.call('ZADD', KEYS[1], 'GT', ARGV[i + 1], ARGV[i])
    i = i + 2
  end
  redis.call('HINCRBY', KEYS[2], math.floor(now / 1000), count)
  for j = i, #ARGV do
    redis.call('LPUSH', KEYS[3], ARGV[j])
  end
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[5]) - 1)
  for k = 1, 3 do
    redis.call('EXPIRE', KEYS[k], ttl)
  end
  redis.call('SET', KEYS[5], '1', 'EX', ttl)
end
if redis.call('EXISTS', KEYS[5]) == 0 then
  return {0}
end
local wait = redis.call('PTTL', KEYS[4])
if wait > 0 then
  return {1, wait}
end
redis.call('SET', KEYS[4], '1', 'PX', tonumber(ARGV[2]))
redis.call('DEL', KEYS[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
local visitors = redis.call('ZCARD', KEYS[1])
local second = math.floor(now / 1000)
local total = 0
local rate = redis.call('HGETALL', KEYS[2])
for j = 1, #rate, 2 do
  if tonumber(rate[j]) > second - tonumber(ARGV[4]) then
    total = total + tonumber(rate[j + 1])
  else
    redis.call('HDEL', KEYS[2], rate[j])
  end
end
return {2, visitors, total, redis.call('LRANGE', KEYS[3], 0, -1)}
"""


class RedisState(LiveState):
    def __init__(self, url: str, *, prefix: str = PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        # redis.asyncio clients belong to the event loop they were created on.
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _client(self) -> tuple[aioredis.Redis, object]:
        loop = asyncio.get_running_loop()
        pair = self._clients.get(loop)
        if pair is None:
            client = aioredis.from_url(self.url, socket_connect_timeout=2, socket_timeout=2)
            pair = (client, client.register_script(FLUSH_SCRIPT))
            self._clients[loop] = pair
        return pair

    async def close(self) -> None:
        pair = self._clients.pop(asyncio.get_running_loop(), None)
        if pair is not None:
            await pair[0].aclose()

    def _presence_key(self, user_id: int) -> str:
        return f"{self.prefix}:presence:{user_id}"

    async def _connections_after(
        self, user_id: int, now: float, *, add: str | None = None, remove: str | None = None
    ) -> int:
        """Add or remove a connection, drop stale ones; the user's live connections after."""
        key = self._presence_key(user_id)
        async with self._client()[0].pipeline(transaction=True) as pipe:
            if add is not None:
                pipe.zadd(key, {add: now})
            if remove is not None:
                pipe.zrem(key, remove)
            pipe.zremrangebyscore(key, "-inf", now - c.PRESENCE_TTL)
            pipe.zcard(key)
            pipe.expire(key, int(c.PRESENCE_TTL) * 2)
            results = await pipe.execute()
        return int(results[-2])

    async def presence_join(self, user_id: int, connection: str, now: float) -> bool:
        return await self._connections_after(user_id, now, add=connection) == 1

    async def presence_leave(self, user_id: int, connection: str, now: float) -> bool:
        return await self._connections_after(user_id, now, remove=connection) == 0

    async def presence_touch(self, user_id: int, connection: str, now: float) -> None:
        await self._connections_after(user_id, now, add=connection)

    async def presence_online(self, user_ids: Collection[int], now: float) -> set[int]:
        ids = list(user_ids)
        if not ids:
            return set()
        async with self._client()[0].pipeline(transaction=False) as pipe:
            for user_id in ids:
                pipe.zcount(self._presence_key(user_id), now - c.PRESENCE_TTL, "+inf")
            counts = await pipe.execute()
        return {user_id for user_id, count in zip(ids, counts, strict=True) if count}

    async def realtime_flush(
        self, app_id: int, contribution: Contribution | None, now_ms: int
    ) -> Snapshot | float | None:
        base = f"{self.prefix}:rt:{app_id}"
        keys = [f"{base}:{name}" for name in ("visitors", "rate", "latest", "claim", "dirty")]
        args: list = [
            now_ms,
            int(c.REALTIME_INTERVAL * 1000),
            int(c.ACTIVE_VISITOR_WINDOW * 1000),
            c.RATE_WINDOW,
            c.LATEST_EVENTS,
            KEY_TTL_SECONDS,
            contribution.count if contribution else 0,
            len(contribution.visitors) if contribution else 0,
        ]
        if contribution is not None:
            for visitor, ts in contribution.visitors.items():
                args += [visitor, ts]
            args += [orjson.dumps(event) for event in contribution.latest]
        result = await self._client()[1](keys=keys, args=args)
        if result[0] == 0:
            return None
        if result[0] == 1:
            return int(result[1]) / 1000
        return Snapshot(
            visitors=int(result[1]),
            events_per_second=round(int(result[2]) / c.RATE_WINDOW, 1),
            latest=[orjson.loads(item) for item in result[3]],
        )
