"""One driver connection per process, driver errors as StoreUnavailable, bounded concurrency.

The driver (libev reactor) runs its own I/O thread: callers block only their own thread (the
writer thread, a request worker), never an asyncio loop. When every node is down, requests fail
fast with NoHostAvailable; the driver keeps reconnecting in the background (every 0.5 s, backing
off to 5 s) and the same session works again once a node answers: nothing to rebuild.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import queue
from collections.abc import Iterable, Iterator, Sequence

from cassandra import DriverException, ProtocolVersion
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
from cassandra.concurrent import execute_concurrent
from cassandra.connection import ConnectionException
from cassandra.policies import (
    DCAwareRoundRobinPolicy,
    ExponentialReconnectionPolicy,
    TokenAwarePolicy,
)
from cassandra.protocol import ErrorMessage
from cassandra.query import BatchStatement, BatchType, tuple_factory

from ..values import StoreUnavailable
from .schema import serial_consistency_for

REQUEST_TIMEOUT = 10.0  # seconds, per request (one page of a read)
LONG_TIMEOUT = 120.0  # counting a whole day partition
LONG = "long"  # execution profile of COUNT(*) reads

DRIVER_ERRORS = (DriverException, NoHostAvailable, ConnectionException, ErrorMessage, OSError)


def connect(
    *,
    hosts: Sequence[str],
    port: int,
    local_dc: str,
    consistency: int,
    request_timeout: float = REQUEST_TIMEOUT,
    connect_timeout: float = 5.0,
    reconnect_max_delay: float = 5.0,
) -> Cluster:
    """A driver Cluster (not connected yet): token-aware in the local datacenter, tuple rows."""

    def profile(timeout: float) -> ExecutionProfile:
        return ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=local_dc)),
            consistency_level=consistency,
            serial_consistency_level=serial_consistency_for(consistency),
            request_timeout=timeout,
            row_factory=tuple_factory,
        )

    return Cluster(
        contact_points=list(hosts),
        port=port,
        protocol_version=ProtocolVersion.V5,  # Cassandra 4.0 and later
        execution_profiles={
            EXEC_PROFILE_DEFAULT: profile(request_timeout),
            LONG: profile(max(request_timeout, LONG_TIMEOUT)),
        },
        reconnection_policy=ExponentialReconnectionPolicy(0.5, reconnect_max_delay),
        connect_timeout=connect_timeout,
        control_connection_timeout=connect_timeout,
    )


@contextlib.contextmanager
def translated_errors(what: str) -> Iterator[None]:
    """Driver and network errors become StoreUnavailable (the caller may retry later)."""
    try:
        yield
    except DRIVER_ERRORS as exc:
        raise StoreUnavailable(f"event store (Cassandra) {what}: {_describe(exc)}") from exc


def _describe(exc: BaseException) -> str:
    if isinstance(exc, NoHostAvailable):
        causes = sorted({type(cause).__name__ for cause in exc.errors.values()})
        tried = f"tried: {', '.join(causes)}" if causes else "every node is marked down"
        return f"no node available ({tried}; the driver reconnects in the background)"
    return f"{type(exc).__name__}: {exc}"


BATCH_LIMIT = 50  # writes per unlogged batch (small rows: well under batch_size_warn_threshold)


def run_all(session, calls: Iterable[tuple], *, limit: int, profile=EXEC_PROFILE_DEFAULT) -> list:
    """Execute (statement, parameters) pairs, at most `limit` in flight; their results in order.

    Raises the first error (the others may still be in flight: every call must be safe to
    repeat, which all of this store's statements are).
    """
    calls = list(calls)
    if not calls:
        return []
    results = execute_concurrent(
        session,
        calls,
        concurrency=limit,
        raise_on_first_error=True,
        results_generator=False,
        execution_profile=profile,
    )
    return [result.result_or_exc for result in results]


def by_partition(calls: Iterable[tuple], *, limit: int = BATCH_LIMIT) -> list[tuple]:
    """Writes (statement, parameters) grouped by partition: the writes of one partition key (of
    any table of the keyspace) in unlogged batches of up to `limit`, a lone write as it is.

    A batch of one partition is one mutation on each replica (applied at once), where as many
    single writes are as many requests, commit log entries and memtable updates. Writes of
    different partitions are never batched together (that would only move the fan-out to the
    coordinator). Only for writes that are safe in any order (each of this store's rounds)."""
    groups: dict[bytes | None, list] = {}
    lone = []
    for statement, params in calls:
        bound = statement.bind(params)
        key = bound.routing_key
        if key is None:
            lone.append((bound, None))
        else:
            groups.setdefault(key, []).append(bound)
    result = []
    for members in groups.values():
        if len(members) == 1:
            result.append((members[0], None))
            continue
        for start in range(0, len(members), limit):
            batch = BatchStatement(batch_type=BatchType.UNLOGGED)
            for bound in members[start : start + limit]:
                batch.add(bound)
            result.append((batch, None))
    return result + lone


def paged_rows(
    session, statement, parameters: Iterable[Sequence], *, in_flight: int, page_timeout: float
) -> Iterator[tuple]:
    """The rows of one query per parameter set (e.g. one per day partition), page by page.

    Up to `in_flight` queries run at once; each asks for its next page as soon as the previous
    one is handed over, and holds at most two pages: memory stays bounded while the network is
    kept busy. Rows come as pages arrive, so in no particular order across queries.
    """
    pages: queue.Queue = queue.Queue()
    waiting = iter(parameters)
    active = 0

    def start(params: Sequence) -> None:
        future = session.execute_async(statement, params)
        future.add_callbacks(
            functools.partial(_page_arrived, pages, future),
            functools.partial(_page_failed, pages, future),
        )

    for params in itertools.islice(waiting, in_flight):
        start(params)
        active += 1
    while active:
        try:
            future, rows, error = pages.get(timeout=page_timeout)
        except queue.Empty:
            raise StoreUnavailable("event store (Cassandra): a read page did not arrive") from None
        if error is not None:
            raise error
        if future.has_more_pages:
            future.start_fetching_next_page()
        else:
            active -= 1
            params = next(waiting, None)
            if params is not None:
                start(params)
                active += 1
        yield from rows


def _page_arrived(pages: queue.Queue, future, rows) -> None:
    pages.put((future, rows, None))


def _page_failed(pages: queue.Queue, future, error) -> None:
    pages.put((future, None, error))
