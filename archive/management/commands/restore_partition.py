"""manage.py restore_partition --app ID --epoch N [--store sqlite|cassandra]

Puts an archived partition back into an event store (the active one by default). Idempotent: run
again after a crash, it finishes; run again after success, it changes nothing. Refuses an app's
current epoch and a partition that already holds other events. docs/archiving.md.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from archive import services as archive
from archive.services import ArchiveBusy, ArchiveCorrupt, RestoreFailed, Restorer, RestoreRefused
from eventstore import BACKENDS, StoreUnavailable


class Command(BaseCommand):
    help = "Restore an archived partition (app, epoch) into the event store."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--app", type=int, required=True, metavar="ID")
        parser.add_argument("--epoch", type=int, required=True, metavar="N")
        parser.add_argument(
            "--store",
            choices=sorted(BACKENDS),
            help="the store to restore into (default: the active one, DATALAB_EVENT_STORE)",
        )

    def handle(self, *, app, epoch, store, **options) -> None:
        root = archive.archive_root()
        try:
            with archive.opened_store(store) as (target, active):
                restorer = Restorer(
                    store=target,
                    store_label=archive.store_label(store),
                    root=root,
                    records=active,
                    progress=archive.terminal_progress,
                )
                restorer.preflight(app, epoch)  # refusals before taking the lock
                with archive.archive_lock(root):
                    outcome = restorer.run(app, epoch)
        except (ArchiveBusy, RestoreRefused, RestoreFailed) as exc:
            raise CommandError(str(exc)) from None
        except ArchiveCorrupt as exc:
            raise CommandError(f"the archive is corrupt, nothing restored: {exc}") from None
        except StoreUnavailable as exc:
            raise CommandError(f"the event store is unavailable: {exc}") from None
        where = archive.store_label(store)
        if outcome.already:
            self.stdout.write(
                f"app {app} epoch {epoch}: the {where} store already holds the archive's "
                f"{outcome.events:,} events (nothing to do)."
            )
            return
        self.stdout.write(
            f"app {app} epoch {epoch}: restored {outcome.events:,} events from {outcome.path} "
            f"into the {where} store ({outcome.appended:,} newly stored), verified."
        )
