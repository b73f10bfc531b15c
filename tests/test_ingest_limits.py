"""The flood limits' cool-downs (ingest/limits.py), on a clock the test moves. What the server
does with them over real sockets: tests/test_ingest_websocket.py and tests/test_ingest_flood.py."""

from __future__ import annotations

import pytest

from ingest import limits as limits_module
from ingest.limits import COOLDOWN_DOUBLINGS, STRIKES_KEPT_SECONDS, Limits

FLOODER, VISITOR = "192.0.2.7", "198.51.100.9"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch, settings):
    settings.INGEST_COOLDOWN_SECONDS = 10
    clock = Clock()
    monkeypatch.setattr(limits_module.time, "monotonic", clock)
    return clock


def cut(limits: Limits, ip: str) -> float:
    """A connection from `ip` admitted, then cut for a limit: the cool-down's seconds left."""
    place = limits.admit(ip=ip, token="t")
    assert place is not None
    seconds = limits.cool_down(place)
    limits.release(place)
    return seconds


def test_a_cut_address_is_refused_until_its_cool_down_ends_and_others_are_not(clock):
    limits = Limits()
    assert cut(limits, FLOODER) == 10

    clock.now += 9.9
    assert limits.refuses(FLOODER) and limits.admit(ip=FLOODER, token="t") is None
    assert not limits.refuses(VISITOR) and limits.admit(ip=VISITOR, token="t") is not None
    clock.now += 0.2
    assert not limits.refuses(FLOODER) and limits.admit(ip=FLOODER, token="t") is not None


def test_an_address_cut_again_after_each_cool_down_cools_down_twice_as_long_up_to_a_cap(clock):
    limits = Limits()
    seconds = []
    for _ in range(COOLDOWN_DOUBLINGS + 3):
        seconds.append(cut(limits, FLOODER))
        clock.now += seconds[-1] + 1  # waits it out, then floods again

    cap = 10 * 2**COOLDOWN_DOUBLINGS
    assert seconds == [10 * 2**i for i in range(COOLDOWN_DOUBLINGS)] + [cap] * 3


def test_the_other_connections_of_a_burst_cut_while_it_cools_do_not_lengthen_it(clock):
    limits = Limits()
    places = [limits.admit(ip=FLOODER, token="t") for _ in range(50)]
    first = limits.cool_down(places[0])
    clock.now += 1
    later = [limits.cool_down(place) for place in places[1:]]

    assert first == 10 and later == [9] * 49
    clock.now += 9.5
    assert cut(limits, FLOODER) == 20  # the next burst, after it ended: the second strike


def test_an_address_left_alone_long_enough_starts_again_from_one_cool_down(clock):
    limits = Limits()
    assert cut(limits, FLOODER) == 10
    clock.now += 11
    assert cut(limits, FLOODER) == 20
    clock.now += 20 + STRIKES_KEPT_SECONDS

    assert cut(limits, FLOODER) == 10
