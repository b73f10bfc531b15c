"""A forked process (generate_traffic's workers) builds its own event store and writer: it never
uses or closes its parent's connections, and the parent's store goes on after it."""

from __future__ import annotations

import os

from eventstore import get_store, get_writer
from tests.test_eventstore_contract import APP, EPOCH, T0, make_event


def _in_child(check) -> int:
    """Fork, run `check` in the child (its return value: the exit code), return that code."""
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            code = check()
        finally:
            os._exit(code)  # no interpreter teardown: nothing of the parent's is closed
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_a_forked_child_stores_through_its_own_store_and_the_parents_goes_on(event_store):
    event_store.append([make_event(ts=T0)])
    parent_writer = get_writer()

    def child() -> int:
        store = get_store()
        if store is event_store or get_writer() is parent_writer:
            return 1
        store.append([make_event(ts=T0 + 1), make_event(ts=T0 + 2)])
        get_writer().submit_sync([make_event(ts=T0 + 3)])
        return 0

    assert _in_child(child) == 0
    assert get_store() is event_store and get_writer() is parent_writer
    event_store.append([make_event(ts=T0 + 4)])  # the parent's connection still works
    assert event_store.count_events(APP, EPOCH) == 5
    assert len(parent_writer.submit_sync([make_event(ts=T0 + 5)]).new_keys) == 1
    assert event_store.count_events(APP, EPOCH) == 6
