"""manage.py archive_partitions [--app ID] [--older-than DAYS] [--dry-run] [--delete-after-verify]

Exports every retired partition (older epochs of unlocked apps, every epoch of deleted apps) from
the active event store into the archive directory, verifies each archive, and with
`--delete-after-verify` deletes the partition from the store. Safe to re-run at any time; a run
that was killed is finished by the next one. docs/archiving.md.
"""

from __future__ import annotations

import argparse
import time

from django.core.management.base import BaseCommand, CommandError

from archive import records
from archive import services as archive
from archive.services import Action, Archiver, Outcome, Plan
from eventstore import StoreUnavailable, get_store

_NOTHING_TO_DO = (Action.KEEP, Action.DONE)


def _days(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError("DAYS is a whole number of days (0 or more)")
    return int(value)


def _title(row) -> str:
    return f'app {row.app_ref} "{row.app_name}" epoch {row.epoch} ({row.reason})'


def _planned(plan: Plan, path, delete: bool) -> str:
    then_delete = ", then delete them from the store" if delete else ""
    if plan.action == Action.EXPORT:
        return f"would export {plan.store_events:,} events to {path} and verify{then_delete}"
    if plan.action == Action.REEXPORT:
        return (
            f"would export again ({plan.note}: {plan.store_events:,} events in the store, "
            f"{plan.archived_events:,} archived) and verify{then_delete}"
        )
    return {
        Action.VERIFY: f"would verify the archive in {path}{then_delete}",
        Action.KEEP: f"archived in {path}, kept in the store (nothing to do)",
        Action.RESUME_DELETE: "would finish deleting it from the store (interrupted before)",
        Action.DONE: f"archived in {path} and deleted from the store (nothing to do)",
        Action.REJECT: f"would set the unreadable archive aside ({plan.note})",
        Action.BLOCKED: f"blocked: {plan.note}",
    }[plan.action]


def _done(outcome: Outcome) -> str:
    if outcome.plan.action in (*_NOTHING_TO_DO, Action.BLOCKED, Action.REJECT):
        return _planned(outcome.plan, outcome.path, delete=False)
    parts = []
    if outcome.exported_events is not None:
        parts.append(f"exported {outcome.exported_events:,} events to {outcome.path}")
    if outcome.verified:
        parts.append("verified")
    if outcome.deleted_events is not None:
        parts.append(f"deleted {outcome.deleted_events:,} events from the store")
    if outcome.error:
        parts.append(outcome.error)
    return ", ".join(parts)


class Command(BaseCommand):
    help = (
        "Export retired partitions (older epochs of unlocked apps, deleted apps) from the event "
        "store into the archive directory and verify them; --delete-after-verify then removes "
        "them from the store."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--app", type=int, metavar="ID", help="only this app's partitions")
        parser.add_argument(
            "--older-than",
            type=_days,
            metavar="DAYS",
            help="only partitions retired at least DAYS days ago",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would be done; change nothing"
        )
        parser.add_argument(
            "--delete-after-verify",
            action="store_true",
            help="delete each partition from the store once its archive is verified",
        )

    def handle(self, *, app, older_than, dry_run, delete_after_verify, **options) -> None:
        rows = list(
            records.retired_partitions(app_ref=app, older_than_days=older_than).select_related(
                "organization"
            )
        )
        if not rows:
            self.stdout.write("No retired partitions to archive.")
            return
        archiver = Archiver(
            store=get_store(),
            store_label=archive.store_label(),
            root=archive.archive_root(),
            delete=delete_after_verify,
            progress=archive.terminal_progress,
        )
        try:
            if dry_run:
                self._dry_run(archiver, rows)
            else:
                self._archive(archiver, rows)
        except StoreUnavailable as exc:
            raise CommandError(f"the event store is unavailable: {exc}") from None

    def _dry_run(self, archiver: Archiver, rows) -> None:
        self.stdout.write("Dry run: nothing is written, nothing deleted.")
        for row in rows:
            plan = archiver.plan(row)
            self.stdout.write(
                f"{_title(row)}: {_planned(plan, archiver.final_dir(row), archiver.delete)}"
            )

    def _archive(self, archiver: Archiver, rows) -> None:
        started = time.monotonic()
        outcomes = []
        try:
            with archive.archive_lock(archiver.root):
                for row in rows:
                    outcome = archiver.run(row)
                    outcomes.append(outcome)
                    write = self.stderr.write if outcome.failed else self.stdout.write
                    write(f"{_title(row)}: {_done(outcome)}")
        except archive.ArchiveBusy as exc:
            raise CommandError(str(exc)) from None
        self._summary(outcomes, time.monotonic() - started)

    def _summary(self, outcomes: list[Outcome], seconds: float) -> None:
        exported = [o for o in outcomes if o.exported_events is not None]
        deleted = [o for o in outcomes if o.deleted_events is not None]
        idle = sum(1 for o in outcomes if o.plan.action in _NOTHING_TO_DO)
        failed = [o for o in outcomes if o.failed]
        self.stdout.write(
            f"{len(outcomes)} partitions in {seconds:.1f} s: "
            f"{len(exported)} exported ({sum(o.exported_events for o in exported):,} events), "
            f"{sum(o.verified for o in outcomes)} verified, "
            f"{len(deleted)} deleted from the store "
            f"({sum(o.deleted_events for o in deleted):,} events), "
            f"{idle} with nothing to do, {len(failed)} failed."
        )
        if failed:
            raise CommandError(f"{len(failed)} partitions need attention (see above)")
