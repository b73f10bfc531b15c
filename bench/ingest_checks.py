"""The ack path's checks alone, in one process: CPU per event of the full check next to the
compiled one (`ingest.fastcheck.fast_ack_ids`, issue 18), on the same frames.

    .venv/bin/python -m bench.ingest_checks [--reps 20] [--connections 50] [--batch 20]
        [--frames 20] [--core 0]

Method: the frames of `bench.ingest_ws` (C connections x F frames of B pageviews each, as the
ws bench sends them), each rep runs every frame through each check in turn, pinned to one core.
The full check is what the consumer does before enrichment: `orjson.loads`, the frame checks of
`IngestConsumer.receive`, then `services.check_events`, the checks of `services.build_events`
(`event_id`, the bot flag, duplicates within the frame, `clean_event`, the stable sort by ts),
down to the ids it acks.
The compiled check is `fast_ack_ids` (its answer is checked to be the same list first). Printed
per check: the process's CPU time per event, the median and the best of the reps; `orjson.loads`
alone is printed too, for scale.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import orjson

from bench.ingest_ws import build_frames, user_agent
from demo.shop import demo_config
from ingest import constants as c


def _connection():
    """A browser's connection to the demo shop (no database: only the checks run)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datalab.settings")
    os.environ.setdefault("DATALAB_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from funnels.matching import CompiledConfig
    from ingest import services
    from ingest.enrichment import client_of

    return services.Connection(
        app_id=1,
        epoch=1,
        app_host="shop.bench.test",
        compiled=CompiledConfig.from_dict(demo_config()),
        client=client_of(user_agent(0)),
        visitor_id="0" * 24,
        allow_visitor_id=False,
    )


def _checks(conn) -> dict[str, Callable[[str, int], object]]:
    from ingest import services
    from ingest.fastcheck import fast_ack_ids

    def full_check(frame: str, now_ms: int) -> list[str] | None:
        """The consumer's frame checks and build_events' checks (`services.check_events`),
        without enrichment: the ids it would ack, None where the consumer would close."""
        message = orjson.loads(frame)
        kind = message.get("type") if isinstance(message, dict) else None
        events = message.get("events") if kind == c.BATCH else None
        if not isinstance(events, list) or len(events) > c.MAX_BATCH:
            return None
        accepted, _ = services.check_events(conn, events, now_ms=now_ms)
        return [eid for eid, _ in accepted]

    elements = conn.elements
    return {
        "orjson.loads alone": lambda frame, now_ms: orjson.loads(frame),
        "full check": full_check,
        "fast_ack_ids": lambda frame, now_ms: fast_ack_ids(frame, now_ms=now_ms, elements=elements),
    }


def _cpu_per_event(check: Callable[[str, int], object], frames: list[str], events: int) -> float:
    now_ms = int(time.time() * 1000)
    start = time.process_time()
    for frame in frames:
        check(frame, now_ms)
    return (time.process_time() - start) / events * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--frames", type=int, default=20, help="frames per connection")
    parser.add_argument("--core", type=int, default=0)
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    frames = [f for each in build_frames(args.connections, args.batch, args.frames) for f in each]
    events = len(frames) * args.batch
    checks = _checks(_connection())
    now_ms = int(time.time() * 1000)
    for frame in frames:  # the same answer, and the fast path taken
        expected = checks["full check"](frame, now_ms)
        assert expected is not None and checks["fast_ack_ids"](frame, now_ms) == expected, frame
    figures: dict[str, list[float]] = {name: [] for name in checks}
    for _ in range(args.reps):
        for name, check in checks.items():
            figures[name].append(_cpu_per_event(check, frames, events))
    print(f"{len(frames):,} frames of {args.batch} pageviews ({events:,} events), {args.reps} reps")
    for name, per_event in figures.items():
        print(
            f"{name:>20}: {statistics.median(per_event):.3f} us/event median, "
            f"{min(per_event):.3f} best"
        )
    full, fast = (statistics.median(figures[name]) for name in ("full check", "fast_ack_ids"))
    print(f"{'full / fast':>20}: {full / fast:.1f}x")


if __name__ == "__main__":
    main()
