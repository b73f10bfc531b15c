"""The compiled ack-path check (`ingest.fastcheck.fast_ack_ids`, issue 18) next to the full path:
whenever it answers, the full path (orjson, the consumer's frame checks, the real
`services.build_events` for a browser's connection) accepts every event of the frame, rejects
none and acks the same ids in the same order; ordinary frames (the snippet's, the bench's) take
it; anything unusual falls back (None) to the full path."""

from __future__ import annotations

import json
import time
import uuid

import hypothesis
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.ingest_ws import build_frames
from funnels.matching import CompiledConfig
from ingest import constants as c
from ingest import services
from ingest.enrichment import client_of
from ingest.fastcheck import fast_ack_ids
from ingest.validation import MAX_URL, clean_event
from tests.conftest import APP_ORIGIN, TRACKED_CONFIG

NOW = 1_760_000_000_000
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
COMPILED = CompiledConfig.from_dict(TRACKED_CONFIG)
ELEMENT = sorted(COMPILED.element_names())[0]
CLOSED = "closed"


def connection() -> services.Connection:
    return services.Connection(
        app_id=1,
        epoch=1,
        app_host="shop.acme.test",
        compiled=COMPILED,
        client=client_of(CHROME),
        visitor_id="visitor-a",
        allow_visitor_id=True,
    )


def full_path(frame: str | bytes, *, now_ms: int = NOW):
    """What the consumer does with a frame from a browser: CLOSED, "pong", or the acked ids, the
    rejected events and how many events the batch had (`IngestConsumer.receive`'s frame checks,
    then the real build_events)."""
    if len(frame) > c.MAX_FRAME_BYTES:
        return CLOSED
    try:
        message = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return CLOSED
    kind = message.get("type") if isinstance(message, dict) else None
    if kind == c.PING:
        return "pong"
    events = message.get("events") if kind == c.BATCH else None
    if not isinstance(events, list) or len(events) > c.MAX_BATCH:
        return CLOSED
    conn = connection()
    stored, rejected = services.build_events(conn, events, now_ms=now_ms)
    return [event.event_id for event in stored], rejected, len(events)


def fast(frame: str | bytes, *, now_ms: int = NOW) -> list[str] | None:
    return fast_ack_ids(frame, now_ms=now_ms, elements=connection().elements)


def assert_same_as_full_path(frame: str | bytes, *, now_ms: int = NOW) -> list[str] | None:
    ids = fast(frame, now_ms=now_ms)
    if ids is not None:
        full = full_path(frame, now_ms=now_ms)
        assert full == (ids, [], len(ids)), frame
    return ids


def uid() -> str:
    return str(uuid.uuid4())


def pageview(ts: int = NOW - 1000, **fields) -> dict:
    event = {
        "id": uid(),
        "type": "pageview",
        "ts": ts,
        "url": f"{APP_ORIGIN}/products/7?a=1",
        "referrer": "https://www.google.com/",
        "title": "Product",
        "screen": 1440,
        "lang": "en-US",
        **fields,
    }
    return {key: value for key, value in event.items() if value is not ...}


def batch(*events: dict, **fields) -> str:
    return json.dumps({"type": "batch", "events": list(events), **fields}, ensure_ascii=False)


# --- ordinary frames take the fast path, with the full path's answer ---------------------------


def test_the_bench_frames_take_the_fast_path_with_the_full_paths_ids():
    now_ms = int(time.time() * 1000)
    frames = [frame for frames in build_frames(3, 20, 2) for frame in frames]

    for frame in [*frames, frames[0].encode()]:
        ids = assert_same_as_full_path(frame, now_ms=now_ms)

        assert ids == [event["id"] for event in orjson.loads(frame)["events"]]


def test_a_browsers_frame_of_every_covered_type_takes_the_fast_path_sorted_by_time():
    # the snippet's fields (static/client): a leave before the next pageview, clicks, elements;
    # times out of order and tied, as frames re-sent after a reconnect are
    events = [
        pageview(NOW - 50),
        {"id": uid(), "type": "leave", "ts": NOW - 60, "url": f"{APP_ORIGIN}/", "duration": 5120},
        {"id": uid(), "type": "click", "ts": NOW - 50, "url": f"{APP_ORIGIN}/", "selector": "#buy"},
        {
            "id": uid(),
            "type": "element",
            "ts": NOW - 70,
            "name": ELEMENT,
            "action": "leave",
            "duration": 0,
        },
        pageview(NOW - 50, referrer="", title="", screen=None, lang=..., vid=None),
    ]

    ids = assert_same_as_full_path(batch(*events))

    assert ids == [events[i]["id"] for i in (3, 1, 0, 2, 4)]
    assert fast(batch()) == [] and full_path(batch()) == ([], [], 0)


def test_cut_lengths_are_the_full_paths_a_text_at_its_cut_length_is_taken():
    cut = {
        key: len(clean_event(pageview(**{key: "x" * 5000}), now_ms=NOW, elements=())[key])
        for key in ("title", "lang", "referrer")
    }

    for key, length in cut.items():
        assert assert_same_as_full_path(batch(pageview(**{key: "é" * length}))) is not None
        assert fast(batch(pageview(**{key: "x" * (length + 1)}))) is None  # the full path cuts it


# --- anything unusual falls back ------------------------------------------------------------

ID = "0b7b5c2e-3f41-4c55-9d1a-8a9e6f0c1d2e"


@pytest.mark.parametrize(
    "frame",
    [
        batch(pageview(ts=float(NOW))),  # accepted by the full path, but a float
        batch(pageview(screen=1440.0)),
        batch(pageview(screen=True)),
        batch(pageview(vid="declared-visitor-1")),
        batch(pageview(id=ID.upper())),
        batch(pageview(id="{" + ID[1:-1] + "}")),
        batch(pageview(id=ID), pageview(id=ID)),  # stored once by the full path
        batch(pageview(extra=1)),
        batch(pageview(), token="t"),
        batch({"id": uid(), "type": "event", "ts": NOW, "name": "signup"}),
        batch(
            {
                "id": uid(),
                "type": "element",
                "ts": NOW,
                "name": "nope",
                "action": "click",
                "duration": 1,
            }
        ),
        batch(pageview(url="ftp://shop.acme.test/")),
        batch(pageview(url="https://")),
        batch(pageview(url="https://shop.acme.test/" + "a" * MAX_URL)),
        batch(pageview(ts=NOW + c.MAX_FUTURE_MS + 1)),
        batch(pageview(ts=NOW - c.MAX_PAST_MS - 1)),
        batch(*(pageview() for _ in range(c.MAX_BATCH + 1))),
        json.dumps({"type": "ping"}),
        json.dumps([{"type": "batch", "events": []}]),
        batch(pageview())[:-1],
        batch(pageview(title="\ud800")),  # a lone surrogate in a str frame
        batch(pageview(title="?")).replace('"?"', '"\\ud800"'),  # ... or escaped
        batch(pageview(title="é")).encode("latin-1"),  # not UTF-8
        batch(pageview()).replace('"type": "pageview"', '"type": "leave", "type": "pageview"'),
        batch(pageview()) + " x",
        "\ufeff" + batch(pageview()),
        "",
    ],
)
def test_unusual_frames_fall_back(frame):
    assert fast(frame) is None


@pytest.mark.parametrize(
    "frame",
    [
        batch(pageview(x=0)).replace('"x": 0', '"x": 1E400'),  # infinite as a double
        batch(pageview(), x=0).replace('"x": 0', '"x": 1E400'),
        batch(pageview(x=0)).replace('"x": 0', '"x": ' + "[" * 5000 + "]" * 5000),
        batch(pageview(x=0)).replace('"x": 0', '"x": ' + "[" * 1024 + "]" * 1024),
        batch(pageview(x=0)).replace('"x": 0', '"x": ' + "[" * 100 + "]" * 100),
    ],
)
def test_a_field_the_fast_path_does_not_know_falls_back_however_it_reads(frame):
    # msgspec would skip these values where orjson refuses the frame (1E400, nesting past its
    # depth limit 1024), and deep nesting makes msgspec raise RecursionError while it looks ahead
    # for an event's "type"
    assert fast(frame) is None
    assert (full_path(frame) == CLOSED) == ("E400" in frame or "[" * 1024 in frame)


def test_a_frame_over_the_size_limit_falls_back():
    frame = batch(pageview(title=""))
    padded = frame.replace('"title": ""', '"title": ""' + " " * (c.MAX_FRAME_BYTES - len(frame)))

    assert assert_same_as_full_path(padded) is not None
    assert fast(padded + " ") is None and full_path(padded + " ") == CLOSED


# --- the property: whenever it answers, the full path gives the same answer -----------------


class Raw(str):
    """JSON text written as is (escapes, numbers orjson and msgspec might read differently)."""


class Obj(list):
    """A JSON object as (key, value) pairs: keys may repeat."""


def dump(value, ascii_only: bool, space: str = "") -> str:
    """JSON text of `value`, with `space` (JSON whitespace) around its separators."""
    comma, colon = f"{space},{space}", f"{space}:{space}"

    def text(value) -> str:
        if isinstance(value, Raw):
            return str(value)
        if isinstance(value, Obj):
            return "{" + comma.join(f"{text(k)}{colon}{text(v)}" for k, v in value) + "}"
        if isinstance(value, list):
            return "[" + comma.join(text(item) for item in value) + "]"
        return json.dumps(value, ensure_ascii=ascii_only)

    return space + text(value) + space


LIMITS = (0, 1, 35, 64, 200, 300, MAX_URL, 100_000, 3_600_000, 86_400_000)
near_limits = st.sampled_from(LIMITS).flatmap(lambda n: st.sampled_from([n - 1, n, n + 1]))
CHARS = ["a", "Z", "é", "😀", "\u2028", "\x00", '"', "\\", "/", "\n", "\t"]
JUNK = [
    "[]",
    "{}",
    '[1, [2.5, {"a": null}]]',
    '{"a": {"b": [true, "x"]}}',
    '{"a": 1, "a": 2}',
    "[" * 600 + "]" * 600,
    "[" * 1100 + "]" * 1100,
]  # nested past orjson's depth limit
RAW_TOKENS = [
    "-0",
    "1.0",
    "1e3",
    "1E400",
    "-1E400",
    "01",
    "NaN",
    "Infinity",
    '"\\ud800"',
    '"\\udc00"',
    '"\\ud83d\\ude00"',
    '"\\u0041"',
    '"\\x"',
    "tru",
    "[",
    "{}",
    str(2**63),
    str(2**64),
    str(-(2**63) - 1),
    str(10**30),
    *JUNK,
]
raw_tokens = st.sampled_from(RAW_TOKENS).map(Raw)


def texts(limit: int, *, valid: bool = True):
    """A string of up to `limit` characters (often exactly), of awkward characters; unless valid
    also one or two characters longer, or with a lone surrogate."""
    chars = st.sampled_from(CHARS if valid else [*CHARS, "\ud800"])
    length = st.sampled_from([limit - 1, limit]) | st.integers(0, limit)
    if not valid:
        length |= st.sampled_from([limit + 1, limit + 2])
    return st.tuples(length.filter(lambda n: n >= 0), chars, chars).map(
        lambda t: (t[1] * t[0])[: max(0, t[0] - 1)] + t[2] * min(1, t[0])
    )


anything = st.one_of(st.none(), st.booleans(), st.integers(), texts(5, valid=False), raw_tokens)


def wrong_number(low: int, high: int):
    """Numbers the full path may read differently: floats, bools, out of range, other JSON."""
    inside = st.integers(low, high) | st.sampled_from([low, high])
    edges = st.sampled_from([low - 1, high + 1])
    return st.one_of(edges, edges, inside.map(float), st.booleans(), near_limits, anything)


def wrong_text(limit: int):
    return st.one_of(st.just(""), texts(limit, valid=False), anything)


uuids = st.uuids().map(str)
WRONG_ID = st.one_of(
    uuids.map(str.upper),
    uuids.map(lambda u: u[:-1]),
    uuids.map(lambda u: u + "0"),
    uuids.map(lambda u: u.replace("-", "")),
    uuids.map(lambda u: "{" + u[1:-1] + "}"),
    uuids.map(lambda u: Raw(json.dumps(u).replace("a", "\\u0061"))),  # the same id, escaped
    uuids.map(lambda u: Raw(json.dumps(u).replace("a", "\\u0041"))),
    anything,
)
GOOD_URLS = [
    f"{APP_ORIGIN}/",
    f"{APP_ORIGIN}/products/7?utm_source=newsletter",
    "http://shop.acme.test/a#b",
    "https://other.test/é",
    "https://x.test/" + "a" * (MAX_URL - 15),
]
BAD_URLS = [
    "",
    "https://",
    "ftp://x.test/",
    "shop.acme.test/",
    "//x.test/",
    "https:x.test",
    "https://x.test/" + "a" * (MAX_URL - 14),
]
WINDOW = (NOW - c.MAX_PAST_MS, NOW + c.MAX_FUTURE_MS)
COMMON = {
    "id": (uuids, WRONG_ID),
    "ts": (
        st.integers(NOW - 100, NOW) | st.integers(*WINDOW) | st.sampled_from(WINDOW),
        wrong_number(*WINDOW),
    ),
}
URL = (st.sampled_from(GOOD_URLS), st.sampled_from(BAD_URLS) | anything)
# Per covered type, per field: (valid values, values the full path may refuse or read otherwise)
FIELDS = {
    "pageview": {
        "url": URL,
        "referrer": (st.just("") | texts(MAX_URL) | st.none(), wrong_text(MAX_URL)),
        "title": (texts(300) | st.none(), wrong_text(300)),
        "screen": (st.integers(0, 100_000) | st.none(), wrong_number(0, 100_000)),
        "lang": (texts(35) | st.none(), wrong_text(35)),
    },
    "leave": {"url": URL, "duration": (st.integers(0, 86_400_000), wrong_number(0, 86_400_000))},
    "click": {"url": URL, "selector": (st.just("#buy") | texts(200).filter(bool), wrong_text(200))},
    "element": {
        "name": (st.just(ELEMENT), st.sampled_from(["nope", "", ELEMENT.upper()]) | wrong_text(64)),
        "action": (st.sampled_from(["click", "leave"]), st.just("Click") | anything),
        "duration": (st.integers(0, 3_600_000), wrong_number(0, 3_600_000)),
    },
}
OTHER_KINDS = ["event", "Pageview", "bogus", Raw('"p\\u0061geview"'), Raw('"pageview\\u0000"')]
EXTRA_KEYS = [
    "vid",
    "extra",
    "ts",
    "id",
    "type",
    "url",
    "props",
    Raw('"t\\u0079pe"'),
    Raw('"i\\u0064"'),
]
EXTRA_VALUES = anything | st.sampled_from(["declared-visitor-1", *FIELDS]) | uuids


@st.composite
def event_objects(draw, *, valid: bool = False):
    """An event as (key, value) pairs; unless valid, with up to three changes that the full path
    may refuse or read differently (a wrong value, a field missing or added, a key twice)."""
    kind = draw(st.sampled_from(list(FIELDS)))
    fields = {**COMMON, **FIELDS[kind]}
    pairs = [(key, draw(good)) for key, (good, _) in fields.items()]
    pairs.insert(1, ("type", kind))
    if valid:
        return Obj(draw(st.permutations(pairs)))
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        i = draw(st.integers(0, len(pairs) - 1))
        key = pairs[i][0]
        change = draw(st.sampled_from(["wrong", "wrong", "drop", "add", "twice", "kind"]))
        if change == "wrong" and key in fields:
            pairs[i] = (key, draw(fields[key][1]))
        elif change == "drop":
            del pairs[i]
        elif change == "add":
            pairs.insert(i, (draw(st.sampled_from(EXTRA_KEYS)), draw(EXTRA_VALUES)))
        elif change == "twice" and key in fields:
            pairs.insert(i + draw(st.integers(0, 1)), (key, draw(st.one_of(*fields[key]))))
        elif change == "kind":
            pairs.insert(i, ("type", draw(st.sampled_from([*OTHER_KINDS, *FIELDS]))))
        if not pairs:
            break
    if draw(st.booleans()):
        pairs = draw(st.permutations(pairs))
    return Obj(pairs)


@st.composite
def frames(draw, *, valid: bool = False):
    """A batch frame as the websocket receives it (str or UTF-8 bytes); unless valid, its events
    changed (see event_objects), an id repeated, its top level changed, or its text damaged."""
    unique_id = (lambda pairs: dict(pairs)["id"]) if valid else None
    event_list = draw(st.lists(event_objects(valid=valid), max_size=5, unique_by=unique_id))
    pairs = [("type", "batch"), ("events", event_list)]
    if not valid:
        change = draw(st.sampled_from(["none", "none", "none", "size", "repeat", "top", "text"]))
        if change == "size" and event_list:  # around MAX_BATCH
            size = draw(st.sampled_from([c.MAX_BATCH, c.MAX_BATCH + 1]))
            pairs[1] = (
                "events",
                [Obj([("id", str(uuid.UUID(int=k))), *event_list[0][1:]]) for k in range(size)],
            )
        elif change == "repeat" and event_list:  # an id twice
            i, j = (
                draw(st.integers(0, len(event_list) - 1)),
                draw(st.integers(0, len(event_list) - 1)),
            )
            event_list[j] = Obj([*event_list[j], ("id", dict(event_list[i]).get("id"))])
        elif change == "top":
            key = draw(st.sampled_from(["type", "events", "x", Raw('"typ\\u0065"')]))
            value = draw(st.sampled_from(["batch", "ping", "Batch"]) | raw_tokens | anything)
            pairs.insert(draw(st.integers(0, 2)), (key, value))
    space = draw(st.sampled_from(["", "", " ", "\n\t\r "]))
    text = dump(Obj(pairs), draw(st.booleans()), space)
    if not valid and change == "text":
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(st.sampled_from(["", "x", "\x01", "]", ",", "\ufeff", " "]))
            + (text[at + draw(st.integers(0, 2)) :])
        )
    if draw(st.booleans()):
        return text.encode("utf-8", "surrogatepass")  # a lone surrogate: not UTF-8
    return text


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames())
def test_whenever_it_answers_the_full_path_acks_the_same_ids_and_rejects_nothing(frame):
    ids = assert_same_as_full_path(frame)

    hypothesis.event("fast path" if ids is not None else "full path")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(valid=True))
def test_frames_of_valid_events_take_the_fast_path(frame):
    # not vacuous: the generator's events with every field in range do take the fast path
    ids = assert_same_as_full_path(frame)

    assert ids is not None and ids == full_path(frame)[0]


def edge_values() -> list:
    """Each limit's neighbours as ints, floats and strings, the odd JSON tokens, other types."""
    numbers = {n for limit in (*LIMITS, *WINDOW) for n in (limit - 1, limit, limit + 1)}
    lengths = {n for limit in LIMITS if limit < 5000 for n in (limit - 1, limit, limit + 1)}
    texts = [char * n for n in lengths if n >= 0 for char in ("x", "😀")]
    others = [
        None,
        True,
        False,
        [],
        {},
        "\ud800",
        "declared-visitor-1",
        "short",
        "nope",
        ELEMENT,
        "click",
        "leave",
        *GOOD_URLS,
        *BAD_URLS,
        *FIELDS,
        str(uuid.uuid4()).upper(),
    ]
    return [*numbers, *map(float, numbers), *texts, *map(Raw, RAW_TOKENS), *others]


BASE = {
    "pageview": {
        "url": GOOD_URLS[1],
        "referrer": "https://www.google.com/",
        "title": "Product",
        "screen": 1440,
        "lang": "en-US",
    },
    "leave": {"url": GOOD_URLS[0], "duration": 5120},
    "click": {"url": GOOD_URLS[0], "selector": "#buy"},
    "element": {"name": ELEMENT, "action": "click", "duration": 10},
}


def changed(pairs: list, key, value) -> Obj:
    """`pairs` with `key` set to `value`, or left out if value is ..."""
    return Obj([(k, v) for k, v in pairs if k != key] + ([] if value is ... else [(key, value)]))


def test_each_field_changed_alone_to_each_edge_value_gives_the_full_paths_answer_or_none():
    # the property above, exhaustively for one change at a time: each field of each covered type
    # (and `vid`, an unknown field, the frame's own fields) set to each edge value, or left out
    values, answered = [*edge_values(), ...], 0
    for kind, fields in BASE.items():
        event = [("id", str(uuid.uuid4())), ("type", kind), ("ts", NOW - 1), *fields.items()]
        for key in [*fields, "id", "type", "ts", "vid", "extra"]:
            for value in values:
                frame = dump(
                    Obj([("type", "batch"), ("events", [changed(event, key, value)])]), False
                )
                answered += assert_same_as_full_path(frame) is not None
        for key in ("type", "events", "extra"):
            for value in values:
                frame = dump(
                    changed([("type", "batch"), ("events", [Obj(event)])], key, value), False
                )
                answered += assert_same_as_full_path(frame) is not None
    assert answered > 100  # the valid edges (a title at its cut length, ts at the window's ends)
