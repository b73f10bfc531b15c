"""Archiving retired partitions and restoring them, on every event store backend.

Each test gets a tracked app with realistic traffic in epoch 1, then unlocked (epoch 1 retired).
The `event_store` fixture below overrides conftest's: every test runs on SQLite and on Cassandra
(`DATALAB_TEST_CASSANDRA_HOSTS`; skipped when unset, failed under `CI=true`). Crashes are injected
at every named step in-process on both stores, and by killing a separate `manage.py` process
(`os._exit`) at every step on SQLite (the `slow` tests at the end).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from apps_registry import services as app_services
from apps_registry.models import App, RetiredPartition
from archive import format as archive_format
from archive import layout, restore
from archive import services as archive
from demo import traffic as synthetic
from eventstore import EventStore, StoredEvent, get_store, reset_store
from eventstore.sqlite import SQLiteEventStore
from funnels.selectors import frozen_config
from tests.conftest import APP_ORIGIN, TRACKED_CONFIG
from tests.services import required_service

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
START_MS = int(START.timestamp() * 1000)
DAYS = 3
VISITORS = 120
RANGE = {"from": "2026-10-01", "to": "2026-10-03", "epoch": "1"}
INSIGHTS = [
    ("overview", {}),
    ("pages", {}),
    ("technology", {}),
    ("sources", {}),
    ("funnel", {}),
    ("funnel", {"distinct": "1"}),
    ("funnel/dropoffs", {"stage": "2"}),
    ("journeys", {}),
    ("elements", {}),
]
CRASH_EXIT = 70


# -- stores, archive directory, a retired partition ---------------------------------------------


@pytest.fixture(scope="session")
def cassandra_settings():
    """`settings.CASSANDRA` for a keyspace of this session: created by `cassandra_migrate`,
    dropped at the end. Without DATALAB_TEST_CASSANDRA_HOSTS: skipped (failed under CI=true)."""
    from cassandra.cluster import Cluster

    hosts = required_service("DATALAB_TEST_CASSANDRA_HOSTS", "Cassandra")
    config = {
        **django_settings.CASSANDRA,
        "hosts": [host.strip() for host in hosts.split(",") if host.strip()],
        "port": int(os.environ.get("DATALAB_TEST_CASSANDRA_PORT") or 9042),
        "keyspace": f"datalab_test_archive_{os.getpid()}",
        "replication": "SimpleStrategy:1",
        "consistency": "LOCAL_QUORUM",
    }
    with override_settings(CASSANDRA=config):
        call_command("cassandra_migrate", verbosity=0)
    yield config
    cluster = Cluster(config["hosts"], port=config["port"])
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {config['keyspace']}", timeout=60)
    finally:
        cluster.shutdown()


@pytest.fixture(params=["sqlite", pytest.param("cassandra", marks=pytest.mark.cassandra)])
def event_store(request, settings, tmp_path, db):
    """The active store, each backend in turn, empty; both backends are configured so that a
    restore may target the other one."""
    settings.EVENT_STORE_SQLITE_PATH = tmp_path / "events.sqlite3"
    if request.param == "cassandra":
        settings.CASSANDRA = request.getfixturevalue("cassandra_settings")
    settings.EVENT_STORE = request.param
    reset_store()
    store = get_store()
    yield store
    if request.param == "cassandra":  # a shared keyspace: leave it empty for the next test
        _delete_every_partition(store)
    reset_store()


def _delete_every_partition(store: EventStore) -> None:
    apps = set(App.objects.values_list("pk", flat=True))
    apps |= set(RetiredPartition.objects.values_list("app_ref", flat=True))
    for app_ref in apps:
        for epoch in store.epochs(app_ref):
            store.delete_partition(app_ref, epoch)


@pytest.fixture(autouse=True)
def archive_dir(settings, tmp_path) -> Path:
    settings.ARCHIVE_DIR = tmp_path / "archive"
    yield settings.ARCHIVE_DIR
    layout.set_step_hook(None)


@dataclass
class Retired:
    app: App
    events: list[StoredEvent]
    store: EventStore

    @property
    def visitors(self) -> list[str]:
        return sorted({event.visitor_id for event in self.events})

    def snapshot(self, store: EventStore | None = None) -> dict:
        """Everything a store holds of the partition, through the store interface."""
        store = store or self.store
        app_id = self.app.pk
        return {
            "events": list(store.events(app_id, 1)),
            "count": store.count_events(app_id, 1),
            "stages": {s: store.stage_visitors(app_id, 1, s) for s in range(4)},
            "last_seen": store.last_seen(app_id, 1, self.visitors),
        }


def traffic(app_id: int, *, visitors: int = VISITORS, seed: int = 7) -> list[StoredEvent]:
    return synthetic.sample(
        app_id=app_id, first_day=START.date(), days=DAYS, visitors=visitors, seed=seed
    )


def append(store: EventStore, events: list[StoredEvent]) -> None:
    for start in range(0, len(events), 500):
        store.append(events[start : start + 500])


@pytest.fixture
def retired(tracked_app, event_store, owner) -> Retired:
    events = traffic(tracked_app.pk)
    append(event_store, events)
    app = app_services.app_unlock(app=tracked_app, actor=owner)
    assert app.epoch == 2
    return Retired(app, events, event_store)


def row_of(retired: Retired, epoch: int = 1) -> RetiredPartition:
    return RetiredPartition.objects.get(app_ref=retired.app.pk, epoch=epoch)


def archive_path(root: Path, retired: Retired, epoch: int = 1) -> Path:
    return root / f"app-{retired.app.pk}" / f"epoch-{epoch}"


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def archive_and_delete() -> str:
    return run("archive_partitions", "--delete-after-verify")


def restore_epoch_1(retired: Retired, *extra: str) -> str:
    return run("restore_partition", "--app", str(retired.app.pk), "--epoch", "1", *extra)


def insights(client, app: App) -> dict:
    answers = {}
    for name, params in INSIGHTS:
        response = client.get(f"/api/v1/apps/{app.pk}/insights/{name}", {**RANGE, **params})
        assert response.status_code == 200, response.content
        answers[(name, tuple(params.items()))] = response.json()
    return answers


def archived_events(root: Path, retired: Retired) -> list[StoredEvent]:
    directory = archive_path(root, retired)
    manifest = archive_format.load_manifest(directory)
    archive_format.verify_archive(directory, manifest)
    return list(archive_format.read_events(directory, manifest["tables"]["events"]))


def in_order(events: list[StoredEvent]) -> list[StoredEvent]:
    return sorted(events, key=lambda e: (e.ts, e.event_id))


ARCHIVE_FILES = [
    "events.jsonl.gz",
    "manifest.json",
    "stage_entries.jsonl.gz",
    "visitor_last.jsonl.gz",
]


def archive_files(root: Path, retired: Retired) -> list[str]:
    return sorted(p.name for p in archive_path(root, retired).iterdir())


# -- archive, delete, restore -------------------------------------------------------------------


def test_archive_then_restore_gives_back_the_same_rows_and_insights(
    retired, archive_dir, owner, client_for
):
    client = client_for(owner)
    before, answers = retired.snapshot(), insights(client, retired.app)
    assert before["count"] == len(retired.events) and answers[("overview", ())]["pageviews"] > 0

    out = archive_and_delete()

    assert "deleted" in out and "1 deleted from the store" in out
    assert retired.snapshot()["events"] == [] and retired.store.count_events(retired.app.pk, 1) == 0
    assert insights(client, retired.app)[("overview", ())]["pageviews"] == 0
    row = row_of(retired)
    assert row.archived_at and row.deleted_at and row.archived_events == len(retired.events)
    assert row.archive_path == str(archive_path(archive_dir, retired))
    assert archived_events(archive_dir, retired) == in_order(retired.events)

    out = restore_epoch_1(retired)

    assert f"restored {len(retired.events):,} events" in out
    assert retired.snapshot() == before
    assert insights(client, retired.app) == answers
    row.refresh_from_db()
    assert row.deleted_at is None and row.restored_at is not None and row.archived_at


def test_the_manifest_describes_the_partition(retired, archive_dir):
    run("archive_partitions")

    directory = archive_path(archive_dir, retired)
    manifest = json.loads((directory / "manifest.json").read_text())
    tables = manifest["tables"]
    by_ts = in_order(retired.events)
    snapshot = retired.snapshot()
    assert manifest["format"] == "datalab-partition-archive" and manifest["format_version"] == 1
    assert (manifest["app"], manifest["epoch"]) == (
        {"id": retired.app.pk, "name": "Shop"},
        1,
    )
    assert manifest["reason"] == "unlocked"
    assert manifest["configuration"] == frozen_config(retired.app.pk, 1) is not None
    assert tables["events"]["rows"] == len(retired.events)
    assert tables["stage_entries"]["rows"] == sum(len(v) for v in snapshot["stages"].values())
    assert tables["visitor_last"]["rows"] == len(retired.visitors)
    assert manifest["time_range"]["first_ts"] == by_ts[0].ts
    assert manifest["time_range"]["last_ts"] == by_ts[-1].ts
    assert sum(manifest["events_per_day"].values()) == len(retired.events)
    # Self-describing: gzip and json alone read it back.
    with gzip.open(directory / tables["events"]["file"], "rt", encoding="utf-8") as handle:
        first = json.loads(handle.readline())
    assert sorted(first) == sorted(tables["events"]["columns"])
    assert first["event_id"] == by_ts[0].event_id


def test_archiving_without_delete_keeps_the_live_data(retired, archive_dir):
    before = retired.snapshot()

    run("archive_partitions")

    assert retired.snapshot() == before
    row = row_of(retired)
    assert row.archived_at is not None and row.deleted_at is None
    assert "nothing to do" in run("archive_partitions")
    files = {p: p.stat().st_mtime_ns for p in archive_path(archive_dir, retired).iterdir()}

    out = archive_and_delete()

    assert "0 exported" in out and f"verified, deleted {len(retired.events):,} events" in out
    assert {p: p.stat().st_mtime_ns for p in files} == files  # not exported again
    assert retired.store.count_events(retired.app.pk, 1) == 0
    assert "nothing to do" in archive_and_delete()


def test_dry_run_changes_nothing(retired, archive_dir):
    before = retired.snapshot()

    out = run("archive_partitions", "--dry-run", "--delete-after-verify")

    assert f"would export {len(retired.events):,} events" in out
    assert "then delete them from the store" in out
    assert not archive_dir.exists()
    assert retired.snapshot() == before
    row = row_of(retired)
    assert (row.archived_at, row.archive_path, row.archived_events, row.deleted_at) == (
        None,
        "",
        None,
        None,
    )


def test_dry_run_after_archiving_says_what_is_left(retired, archive_dir):
    run("archive_partitions")
    listing = sorted(p.name for p in archive_path(archive_dir, retired).iterdir())

    out = run("archive_partitions", "--dry-run", "--delete-after-verify")

    assert "would verify the archive" in out
    assert sorted(p.name for p in archive_path(archive_dir, retired).iterdir()) == listing
    assert retired.store.count_events(retired.app.pk, 1) == len(retired.events)


def test_filters_by_app_and_by_retirement_age(retired, archive_dir, owner, event_store):
    other = app_services.app_create(
        owner=owner, name="Blog", url="https://blog.acme.test", tags=["b"]
    )
    append(event_store, [replace(event, app_id=other.pk) for event in retired.events[:50]])
    other_id = other.pk
    app_services.app_delete(app=other, actor=owner)
    RetiredPartition.objects.filter(app_ref=retired.app.pk).update(
        retired_at=START - dt.timedelta(days=30)
    )

    run("archive_partitions", "--older-than", "10")

    assert row_of(retired).archived_at is not None
    assert RetiredPartition.objects.get(app_ref=other_id).archived_at is None
    run("archive_partitions", "--app", str(other_id), "--delete-after-verify")
    assert RetiredPartition.objects.get(app_ref=other_id).deleted_at is not None
    assert row_of(retired).deleted_at is None
    assert event_store.count_events(other_id, 1) == 0


def test_partitions_of_a_deleted_app_are_archived_and_can_be_restored(
    tracked_app, event_store, owner, archive_dir
):
    events = traffic(tracked_app.pk, visitors=30)
    append(event_store, events)
    app_id = tracked_app.pk
    app_services.app_delete(app=tracked_app, actor=owner)

    archive_and_delete()

    assert event_store.count_events(app_id, 1) == 0
    assert RetiredPartition.objects.get(app_ref=app_id, epoch=1).reason == "deleted"
    run("restore_partition", "--app", str(app_id), "--epoch", "1")
    assert list(event_store.events(app_id, 1)) == in_order(events)


def test_restoring_twice_changes_nothing_the_second_time(retired):
    before = retired.snapshot()
    archive_and_delete()
    restore_epoch_1(retired)

    out = restore_epoch_1(retired)

    assert "nothing to do" in out
    assert retired.snapshot() == before


def test_restore_refuses_the_apps_current_epoch(retired, archive_dir):
    archive_and_delete()
    shutil.copytree(archive_path(archive_dir, retired), archive_path(archive_dir, retired, 2))

    with pytest.raises(CommandError, match="current epoch"):
        run("restore_partition", "--app", str(retired.app.pk), "--epoch", "2")

    assert retired.store.count_events(retired.app.pk, 2) == 0


def test_restore_refuses_a_partition_that_holds_other_events(retired):
    archive_and_delete()
    stranger = traffic(retired.app.pk, visitors=2, seed=99)
    retired.store.append(stranger)

    with pytest.raises(CommandError, match="refusing to mix"):
        restore_epoch_1(retired)

    assert list(retired.store.events(retired.app.pk, 1)) == in_order(stranger)


def test_restore_without_an_archive_is_refused(retired):
    with pytest.raises(CommandError, match="no archive"):
        restore_epoch_1(retired)


@pytest.mark.cassandra
def test_restore_into_the_other_store(retired, settings, archive_dir, request):
    if settings.EVENT_STORE == "sqlite":
        settings.CASSANDRA = request.getfixturevalue("cassandra_settings")
        retired.store = get_store()  # a store setting changed: the active store was rebuilt
    other = "cassandra" if settings.EVENT_STORE == "sqlite" else "sqlite"
    before = retired.snapshot()
    run("archive_partitions")  # kept in the active store

    with archive.opened_store(other) as (target, active):
        assert not active
        try:
            restore_epoch_1(retired, "--store", other)
            assert retired.snapshot(target) == before
        finally:
            target.delete_partition(retired.app.pk, 1)
    assert row_of(retired).restored_at is None  # the database follows the active store only


def test_events_that_arrive_after_archiving_are_archived_anew(retired, archive_dir):
    run("archive_partitions")
    late = traffic(retired.app.pk, visitors=1, seed=5)
    retired.store.append(late)

    out = archive_and_delete()

    assert f"exported {len(retired.events) + len(late):,} events" in out
    assert archived_events(archive_dir, retired) == in_order(retired.events + late)
    assert retired.store.count_events(retired.app.pk, 1) == 0
    assert not list(archive_dir.glob("app-*/.*"))  # no staging or superseded leftovers


def test_an_archive_is_never_replaced_by_fewer_events(retired, archive_dir):
    run("archive_partitions")
    files = {p.name: p.read_bytes() for p in archive_path(archive_dir, retired).iterdir()}
    retired.store.delete_partition(retired.app.pk, 1)  # behind the archiver's back

    with pytest.raises(CommandError, match="need attention"):
        archive_and_delete()

    assert {p.name: p.read_bytes() for p in archive_path(archive_dir, retired).iterdir()} == files
    restore_epoch_1(retired)
    assert list(retired.store.events(retired.app.pk, 1)) == in_order(retired.events)


def test_events_written_after_deletion_block_the_partition(retired):
    archive_and_delete()
    retired.store.append(traffic(retired.app.pk, visitors=1, seed=5))

    with pytest.raises(CommandError, match="need attention"):
        archive_and_delete()

    assert row_of(retired).deleted_at is not None


# -- corruption ---------------------------------------------------------------------------------


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x55
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "file", ["events.jsonl.gz", "stage_entries.jsonl.gz", "visitor_last.jsonl.gz", "manifest.json"]
)
def test_a_corrupted_archive_file_is_detected_and_nothing_is_deleted(retired, archive_dir, file):
    before = retired.snapshot()
    run("archive_partitions")
    _flip_a_byte(archive_path(archive_dir, retired) / file)

    with pytest.raises(CommandError, match="need attention"):
        archive_and_delete()

    assert retired.snapshot() == before
    row = row_of(retired)
    assert row.archived_at is None and row.deleted_at is None
    assert not archive_path(archive_dir, retired).exists()
    rejected = list(archive_dir.glob(f"app-{retired.app.pk}/epoch-1.rejected-*"))
    assert len(rejected) == 1 and (rejected[0] / "REJECTED.txt").exists()
    # The next run exports again and finishes.
    archive_and_delete()
    assert archived_events(archive_dir, retired) == in_order(retired.events)
    assert retired.store.count_events(retired.app.pk, 1) == 0


def test_corruption_between_export_and_verification_deletes_nothing(retired, archive_dir):
    before = retired.snapshot()

    def corrupt(step):
        if step == archive.Step.COMMITTED:
            _flip_a_byte(archive_path(archive_dir, retired) / "events.jsonl.gz")

    layout.set_step_hook(corrupt)
    with pytest.raises(CommandError, match="need attention"):
        archive_and_delete()

    assert retired.snapshot() == before
    assert row_of(retired).archived_at is None


def test_a_corrupted_archive_of_a_deleted_partition_is_reported_and_not_restored(
    retired, archive_dir
):
    archive_and_delete()
    truncated = archive_path(archive_dir, retired) / "events.jsonl.gz"
    truncated.write_bytes(truncated.read_bytes()[:-40])

    with pytest.raises(CommandError, match="corrupt"):
        restore_epoch_1(retired)
    with pytest.raises(CommandError, match="missing or corrupt"):
        run("list_archives", "--verify")

    assert retired.store.count_events(retired.app.pk, 1) == 0
    assert truncated.exists()  # the only copy is never moved or deleted
    assert "nothing to do" in archive_and_delete()  # the archiver does not re-read it


# -- crashes ------------------------------------------------------------------------------------


class Crash(BaseException):
    """A process killed at a step (in-process: nothing after the step runs)."""


def crash_at(target: archive.Step):
    def hook(step):
        if step == target:
            raise Crash(step)

    layout.set_step_hook(hook)


def assert_nothing_lost(retired: Retired, archive_dir: Path) -> None:
    """Every event is in the store or in a committed archive that verifies."""
    kept = {e.event_id: e for e in retired.store.events(retired.app.pk, 1)}
    if (archive_path(archive_dir, retired) / "manifest.json").exists():
        kept |= {e.event_id: e for e in archived_events(archive_dir, retired)}
    assert all(kept.get(event.event_id) == event for event in retired.events)


CRASH_STEPS = [
    s for s in archive.Step if s in layout.ARCHIVE_STEPS and s != archive.Step.SUPERSEDED
]


@pytest.mark.parametrize("step", CRASH_STEPS)
def test_a_crash_at_any_archiving_step_loses_nothing_and_a_rerun_completes(
    retired, archive_dir, step
):
    before = retired.snapshot()
    crash_at(step)
    with pytest.raises(Crash):
        archive_and_delete()
    layout.set_step_hook(None)

    assert_nothing_lost(retired, archive_dir)
    archive_and_delete()

    assert retired.store.count_events(retired.app.pk, 1) == 0
    assert archived_events(archive_dir, retired) == before["events"]
    row = row_of(retired)
    assert row.archived_at and row.deleted_at and row.archived_events == len(retired.events)
    assert archive_files(archive_dir, retired) == ARCHIVE_FILES  # no marker left behind
    restore_epoch_1(retired)
    assert retired.snapshot() == before


def test_a_crash_while_replacing_a_stale_archive_loses_nothing(retired, archive_dir):
    run("archive_partitions")
    late = traffic(retired.app.pk, visitors=1, seed=5)
    retired.store.append(late)
    crash_at(archive.Step.SUPERSEDED)
    with pytest.raises(Crash):
        archive_and_delete()
    layout.set_step_hook(None)

    assert retired.store.count_events(retired.app.pk, 1) == len(retired.events) + len(late)
    archive_and_delete()

    assert archived_events(archive_dir, retired) == in_order(retired.events + late)
    assert not list(archive_dir.glob("app-*/.*"))


@pytest.mark.parametrize("step", layout.RESTORE_STEPS)
def test_a_crash_at_any_restore_step_and_a_rerun_restores_everything(
    retired, archive_dir, step, monkeypatch
):
    monkeypatch.setattr(restore, "BATCH_SIZE", 300)  # several batches: crash between two
    before = retired.snapshot()
    archive_and_delete()
    crash_at(step)
    with pytest.raises(Crash):
        restore_epoch_1(retired)
    layout.set_step_hook(None)

    assert archived_events(archive_dir, retired) == before["events"]
    assert "restored" in restore_epoch_1(retired)

    assert retired.snapshot() == before
    assert not list(archive_path(archive_dir, retired).glob("restoring.*"))
    assert row_of(retired).deleted_at is None


# -- the lock -----------------------------------------------------------------------------------


def test_a_second_archiver_is_refused_while_one_runs(retired, archive_dir):
    before = retired.snapshot()
    archive_dir.mkdir(parents=True)
    with open(archive_dir / ".lock", "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # another run, as far as the kernel knows

        with pytest.raises(CommandError, match="another archiving or restoring run"):
            archive_and_delete()

    assert retired.snapshot() == before
    assert row_of(retired).archived_at is None
    assert sorted(p.name for p in archive_dir.iterdir()) == [".lock"]
    archive_and_delete()  # the lock is free again
    assert retired.store.count_events(retired.app.pk, 1) == 0


# -- listing: command and API -------------------------------------------------------------------


def test_list_archives_shows_when_how_many_and_where(retired, archive_dir):
    out = run("list_archives")
    assert "not archived" in out

    archive_and_delete()
    out = run("list_archives", "--verify")

    line = next(x for x in out.splitlines() if x.startswith(str(retired.app.pk)))
    assert "Shop" in line and "unlocked" in line
    assert f"{len(retired.events):,}" in line
    assert "archived and verified, deleted from the store" in line
    assert str(archive_path(archive_dir, retired)) in line


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("member", 200), ("colleague", 404), ("stranger", 404), ("anonymous", 401)],
)
def test_archived_epochs_are_listed_to_viewers_of_the_app(
    retired, archive_dir, make_user, client_for, owner, role, status
):
    member = make_user("member@acme.test")
    invite = app_services.invite_create(app=retired.app, actor=owner, user_id=member.pk)
    app_services.invite_accept(invite=invite, user=member)
    users = {
        "owner": owner,
        "member": member,
        "colleague": make_user("colleague@acme.test"),
        "stranger": make_user("eve@other.test"),
        "anonymous": None,
    }
    archive_and_delete()

    response = client_for(users[role]).get(f"/api/v1/apps/{retired.app.pk}/archives")

    assert response.status_code == status
    if status == 200:
        row = row_of(retired)
        [body] = response.json()
        assert body == {
            "epoch": 1,
            "reason": "unlocked",
            "retired_at": body["retired_at"],
            "archived_at": body["archived_at"],
            "events": len(retired.events),
            "path": str(archive_path(archive_dir, retired)),
            "deleted_at": body["deleted_at"],
        }
        assert dt.datetime.fromisoformat(body["archived_at"]) == row.archived_at
        assert dt.datetime.fromisoformat(body["deleted_at"]) == row.deleted_at


# -- real kills: a separate process, os._exit at each step (SQLite) ------------------------------

ROOT = Path(__file__).resolve().parent.parent
SEED = """
import datetime
import json
from apps_registry import services as apps
from funnels import services as funnels
from eventstore import get_store
from demo import traffic as synthetic
from orgs.services import user_create_verified
from tokens import services as tokens
owner = user_create_verified(email="owner@acme.test", password="pw-123456")
app = apps.app_create(owner=owner, name="Shop", url=ORIGIN, tags=["web"])
funnels.config_update(app=app, actor=owner, data=CONFIG, version=1)
tokens.token_issue(app=app, actor=owner)
app.refresh_from_db()
events = synthetic.sample(
    app_id=app.pk, url=ORIGIN, config=CONFIG, visitors=VISITORS,
    first_day=datetime.datetime.fromtimestamp(START_MS / 1000, datetime.UTC).date(), days=DAYS,
)
for start in range(0, len(events), 500):
    get_store().append(events[start : start + 500])
apps.app_unlock(app=app, actor=owner)
print("SEED" + json.dumps({"app": app.pk}))
"""
KILL = """
import os
from django.core.management import call_command
from archive import layout, restore
restore.BATCH_SIZE = 300
layout.set_step_hook(lambda step: os._exit(EXIT) if step == STEP else None)
call_command(*ARGS)
"""


class Site:
    """A data directory (metadata database, SQLite event store, archives) that separate
    `manage.py` processes work on."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DATALAB_EVENTS_SQLITE_PATH", "DATALAB_ARCHIVE_DIR")
        }
        self.env |= {
            "DATALAB_DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{data_dir / 'datalab.sqlite3'}",
            "DATALAB_EVENT_STORE": "sqlite",
        }

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"manage.py {args[0]} failed: {result.stderr[-3000:]}")
        return result

    def killed_at(self, step: str, *command: str) -> None:
        code = (
            KILL.replace("EXIT", str(CRASH_EXIT))
            .replace("STEP", repr(str(step)))
            .replace("ARGS", repr(command))
        )
        result = self.manage("shell", "-c", code, check=False)
        assert result.returncode == CRASH_EXIT, result.stderr[-3000:]

    def events(self, app_id: int) -> list[StoredEvent]:
        store = SQLiteEventStore(self.data_dir / "events.sqlite3")
        try:
            return list(store.events(app_id, 1))
        finally:
            store.close()

    def archived(self, app_id: int) -> list[StoredEvent]:
        directory = self.data_dir / "archive" / f"app-{app_id}" / "epoch-1"
        if not (directory / "manifest.json").exists():
            return []
        manifest = archive_format.load_manifest(directory)
        archive_format.verify_archive(directory, manifest)
        return list(archive_format.read_events(directory, manifest["tables"]["events"]))

    def partition_row(self, app_id: int) -> tuple:
        with sqlite3.connect(self.data_dir / "datalab.sqlite3") as conn:
            return conn.execute(
                "SELECT archived_at, deleted_at, archived_events FROM "
                "apps_registry_retiredpartition WHERE app_ref = ? AND epoch = 1",
                (app_id,),
            ).fetchone()


@pytest.fixture(scope="module")
def seeded_sites(tmp_path_factory):
    """Two data directories, made once: epoch 1 retired; and epoch 1 archived and deleted."""
    retired = Site(tmp_path_factory.mktemp("retired"))
    retired.manage("migrate", "--noinput", "-v", "0")
    seed = (
        SEED.replace("ORIGIN", repr(APP_ORIGIN))
        .replace("CONFIG", repr(TRACKED_CONFIG))
        .replace("VISITORS", str(VISITORS // 2))
        .replace("START_MS", str(START_MS))
        .replace("DAYS", str(DAYS))
    )
    out = retired.manage("shell", "-c", seed).stdout
    app_id = json.loads(next(x for x in out.splitlines() if x.startswith("SEED"))[4:])["app"]
    archived = Site(tmp_path_factory.mktemp("archived"))
    shutil.copytree(retired.data_dir, archived.data_dir, dirs_exist_ok=True)
    archived.manage("archive_partitions", "--delete-after-verify")
    return retired, archived, app_id, retired.events(app_id)


def _copy(site: Site, target: Path) -> Site:
    shutil.copytree(site.data_dir, target)
    return Site(target)


@pytest.mark.slow
@pytest.mark.parametrize("step", CRASH_STEPS)
def test_a_process_killed_at_any_archiving_step_loses_nothing(seeded_sites, tmp_path, step):
    template, _, app_id, original = seeded_sites
    site = _copy(template, tmp_path / "site")

    site.killed_at(step, "archive_partitions", "--delete-after-verify")

    kept = {e.event_id: e for e in site.events(app_id) + site.archived(app_id)}
    assert all(kept.get(event.event_id) == event for event in original)
    site.manage("archive_partitions", "--delete-after-verify")
    assert site.events(app_id) == []
    assert site.archived(app_id) == original
    archived_at, deleted_at, events = site.partition_row(app_id)
    assert archived_at and deleted_at and events == len(original)


@pytest.mark.slow
@pytest.mark.parametrize("step", layout.RESTORE_STEPS)
def test_a_process_killed_at_any_restore_step_loses_nothing(seeded_sites, tmp_path, step):
    _, template, app_id, original = seeded_sites
    site = _copy(template, tmp_path / "site")
    restore_args = ("restore_partition", "--app", str(app_id), "--epoch", "1")

    site.killed_at(step, *restore_args)

    assert site.archived(app_id) == original
    site.manage(*restore_args)
    assert site.events(app_id) == original
    assert site.partition_row(app_id)[1] is None  # deleted_at cleared: the events are back
