"""The dashboard websocket's contract: close codes, message types, groups and limits.

Protocol of `ws(s)://HOST/ws/live` (JSON text frames):

Authentication: `?token=ACCESS_TOKEN`, or the subprotocols `bearer, ACCESS_TOKEN` (the server
then answers with the subprotocol `bearer`). Without a valid token the socket is closed with
4401; it is also closed with 4401 when the token expires, unless the client sent a fresh one
first: `{"type": "auth", "token": "..."}` -> `{"type": "auth", "expires_at": ISO}`.

Server -> client:
- `{"type": "backlog", "notifications": [N, ...]}` once, right after connecting: the unread,
  not hidden notifications, newest first.
- `{"type": "notification", "notification": N}` when one is created for the user.
- `{"type": "updated", "ids": [...], "state": "read" | "hidden"}` when notifications were marked
  read or hidden (by any tab, or the REST API).
- `{"type": "presence", "users": [{"id": 7, "online": true}, ...]}`: on connect the colleagues
  online; afterwards one entry per colleague who comes online or goes offline.
- `{"type": "subscribed" | "unsubscribed", "app": ID, "reason": ...}`; reasons of an
  unsubscription the client did not ask for: "access_lost".
- `{"type": "realtime", "app": ID, "visitors": n, "events_per_second": x, "latest": [
  {"path": "/p", "type": "pageview", "stages": ["Landing"], "ts": ms}, ...]}` at most once a
  second per subscribed app while traffic flows (visitors active in the last 5 minutes, events
  per second averaged over the last 5 seconds, the latest events newest first).
- `{"type": "sync", "app": ID, "config_version": n}`: a subscribed app's configuration changed.
- `{"type": "error", "code": "...", "app": ID?}` and `{"type": "pong"}`.

Client -> server: `subscribe` / `unsubscribe` `{"app": ID}`, `auth` `{"token"}`,
`read` / `hide` `{"ids": [...]}`, `clear` (hides every notification), `ping`.

A notification N is `{"id", "kind", "app", "app_name", "data", "created_at", "read_at"}`;
its kinds are the domain event kinds of `live.events` (invite.sent, invite.reminded, ...).
"""

# Close codes
BAD_MESSAGE = 4400
UNAUTHENTICATED = 4401  # no token, a token that is not valid, or one that expired

# Authentication through the Sec-WebSocket-Protocol header: "bearer, <access token>".
AUTH_SUBPROTOCOL = "bearer"

# Client -> server message types
SUBSCRIBE = "subscribe"
UNSUBSCRIBE = "unsubscribe"
AUTH = "auth"
READ = "read"
HIDE = "hide"
CLEAR = "clear"
PING = "ping"

# Server -> client message types
BACKLOG = "backlog"
NOTIFICATION = "notification"
UPDATED = "updated"
PRESENCE = "presence"
SUBSCRIBED = "subscribed"
UNSUBSCRIBED = "unsubscribed"
REALTIME = "realtime"
SYNC = "sync"
ERROR = "error"
PONG = "pong"

# Reasons and error codes
ACCESS_LOST = "access_lost"
NOT_FOUND = "not_found"
TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
BAD_MESSAGE_CODE = "bad_message"

# Notification states in `updated` messages
STATE_READ = "read"
STATE_HIDDEN = "hidden"

# Channel-layer message types (handled by LiveConsumer methods, dots become underscores)
LAYER_NOTIFICATION = "live.notification"
LAYER_UPDATED = "live.updated"
LAYER_PRESENCE = "live.presence"
LAYER_REALTIME = "live.realtime"
LAYER_SYNC = "live.sync"
LAYER_ACCESS = "live.access"  # re-check access to an app now (and drop it if lost)

# Limits
MAX_FRAME_BYTES = 16 * 1024
MAX_SUBSCRIPTIONS = 20
BACKLOG_SIZE = 100
REALTIME_INTERVAL = 1.0  # seconds between two pushes of one app, at least
ACTIVE_VISITOR_WINDOW = 300.0  # seconds: "visitors active in the last 5 minutes"
RATE_WINDOW = 5  # seconds the events-per-second figure is averaged over
LATEST_EVENTS = 20
ACCESS_RECHECK_SECONDS = 10.0  # a subscription's access is re-read at least this often
PRESENCE_HEARTBEAT = 30.0  # seconds between refreshes of a connection's presence
PRESENCE_TTL = 90.0  # a connection not refreshed for this long counts as gone (crashed process)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def org_group(organization_id: int) -> str:
    return f"org.{organization_id}"


def app_group(app_id: int) -> str:
    return f"app.{app_id}.live"
