"""What `clean_event` keeps, cuts or refuses: the common case takes a shorter path than the
rest, and both must give the same answers (the reasons go back to the client in the ack)."""

from __future__ import annotations

import pytest

from ingest import constants as c
from ingest.validation import MAX_URL, EventRejected, clean_event

NOW = 1_760_000_000_000
ELEMENTS = frozenset({"signup"})


def pageview(**fields) -> dict:
    event = {
        "type": "pageview",
        "ts": NOW - 1000,
        "url": "https://shop.example/p?q=1",
        "referrer": "https://www.google.com/",
        "title": "Product",
        "screen": 1440,
        "lang": "en-US",
    }
    event.update(fields)
    return {key: value for key, value in event.items() if value is not ...}


def reason(event: dict) -> str:
    with pytest.raises(EventRejected) as refused:
        clean_event(event, now_ms=NOW, elements=ELEMENTS)
    return refused.value.reason


def test_a_common_pageview_keeps_its_fields():
    sent = pageview()

    assert clean_event(sent, now_ms=NOW, elements=ELEMENTS) == sent


def test_optional_pageview_fields_default_and_long_texts_are_cut():
    clean = clean_event(
        pageview(referrer=..., title=None, screen=..., lang="x" * 40, ts=float(NOW)),
        now_ms=NOW,
        elements=ELEMENTS,
    )

    assert (clean["referrer"], clean["title"], clean["screen"]) == ("", "", None)
    assert clean["lang"] == "x" * 35
    assert clean["ts"] == NOW and isinstance(clean["ts"], int)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"ts": NOW + c.MAX_FUTURE_MS + 1}, "ts_out_of_range"),
        ({"ts": NOW - c.MAX_PAST_MS - 1}, "ts_out_of_range"),
        ({"ts": True}, "ts_invalid"),
        ({"ts": "1"}, "ts_invalid"),
        ({"ts": ...}, "ts_invalid"),
        ({"url": ...}, "url_missing"),
        ({"url": ""}, "url_missing"),
        ({"url": "ftp://shop.example/"}, "url_invalid"),
        ({"url": "https://"}, "url_invalid"),
        ({"url": "https://shop.example/" + "a" * MAX_URL}, "url_too_long"),
        ({"url": 7}, "url_invalid"),
        ({"title": 7}, "title_invalid"),
        ({"screen": True}, "screen_invalid"),
        ({"screen": 100_001}, "screen_out_of_range"),
        ({"screen": -1}, "screen_out_of_range"),
        ({"type": "pageviews"}, "type_unknown"),
        ({"type": ["pageview"]}, "type_unknown"),
        ({"vid": "short"}, "vid_invalid"),
    ],
)
def test_a_pageview_is_refused_with_its_reason(fields, expected):
    assert reason(pageview(**fields)) == expected


def test_the_other_types_keep_their_own_fields():
    def clean(**event):
        return clean_event({"ts": NOW, **event}, now_ms=NOW, elements=ELEMENTS)

    url = "https://shop.example/"
    assert clean(type="click", url=url, selector="#buy")["selector"] == "#buy"
    assert clean(type="leave", url=url, duration=5)["duration"] == 5
    assert clean(type="event", name="paid", props={"plan": "pro"})["props"] == {"plan": "pro"}
    element = clean(type="element", name="signup", action="click", duration=3)
    assert (element["name"], element["action"], element["duration"]) == ("signup", "click", 3)
    assert reason({"ts": NOW, "type": "element", "name": "other", "action": "click"}) == (
        "element_unknown"
    )
    assert reason({"ts": NOW, "type": "click", "url": url, "selector": ""}) == "selector_missing"
