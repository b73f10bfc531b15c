"""Close codes, message types and limits of the ingest protocol (docs/ingest-protocol.md)."""

# Close codes
BAD_MESSAGE = 4400
BAD_TOKEN = 4401
BAD_ORIGIN = 4403
TOO_SLOW = 4408
TOO_LARGE = 4413
RATE_LIMITED = 4429
STORE_FAILING = 4503  # (1011 is not sendable by daphne: servers may only use 1000, 3000-4999)

# Message types
HELLO = "hello"
BATCH = "batch"
ACK = "ack"
PING = "ping"
PONG = "pong"

# Event types
PAGEVIEW = "pageview"
CLICK = "click"
ELEMENT = "element"
EVENT = "event"
LEAVE = "leave"
EVENT_TYPES = frozenset({PAGEVIEW, CLICK, ELEMENT, EVENT, LEAVE})

# Limits
MAX_FRAME_BYTES = 64 * 1024
MAX_BATCH = 100
FLUSH_MS = 1000
MAX_FUTURE_MS = 5 * 60 * 1000
MAX_PAST_MS = 24 * 3600 * 1000
SESSION_GAP_MS = 30 * 60 * 1000
