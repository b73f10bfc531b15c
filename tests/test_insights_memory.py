"""What a request reads is freed when its answers are made, not when Python's cyclic collector
happens to run: at 10M events a request's rollups hold some 200 MB, and a cycle through them
grew a server by that much per journeys request (docs/benchmarks.md, "Insights")."""

import gc
import weakref

from eventstore.rollups import NAMES
from tests.test_eventstore_contract import APP, EPOCH
from tests.test_insights_rollups import RANGES, answers, flushed_store


def test_a_requests_rollups_are_freed_as_soon_as_every_report_is_made(tmp_path):
    store = flushed_store(tmp_path / "events.sqlite3")
    start, end = RANGES["whole days"]
    gc.disable()
    try:
        rollups = store.rollups(APP, EPOCH, start, end, NAMES)
        answers(rollups, start, end)
        assert rollups.cache and len(rollups.pieces) > 1  # the sessions were derived from parts
        freed = weakref.ref(rollups)
        del rollups

        assert freed() is None
    finally:
        gc.enable()
        store.close()
