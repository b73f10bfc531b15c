"""manage.py list_archives [--app ID] [--verify]

Every retired partition with its archive: when it was archived, how many events, where, and
whether its events are still in the store. `--verify` re-reads every archive file and checks it
against its manifest (exit status 1 when one is missing or corrupt). docs/archiving.md.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from archive import services as archive

_COLUMNS = ("APP", "NAME", "EPOCH", "REASON", "RETIRED", "ARCHIVED", "EVENTS", "STATUS", "PATH")


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M") if moment else "-"


class Command(BaseCommand):
    help = "List retired partitions and their archives."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--app", type=int, metavar="ID", help="only this app's partitions")
        parser.add_argument(
            "--verify", action="store_true", help="re-read every archive and check its checksums"
        )

    def handle(self, *, app, verify, **options) -> None:
        root = archive.archive_root()
        listing = archive.archive_listing(
            root=root, store_label=archive.store_label(), app_ref=app, verify=verify
        )
        rows = [
            (
                str(item.app_ref),
                item.app_name,
                str(item.epoch),
                item.reason,
                _when(item.retired_at),
                _when(item.archived_at),
                "-" if item.events is None else f"{item.events:,}",
                item.status,
                item.path or "-",
            )
            for item in listing
        ]
        self._table(rows)
        self.stdout.write(f"{len(rows)} retired partitions; archive directory {root}")
        if app is None:
            known = {(item.app_ref, item.epoch) for item in listing}
            for path in archive.unlisted_archives(root, known):
                self.stdout.write(f"not in the database: {path}")
        broken = [item for item in listing if item.status.startswith(archive.BROKEN_STATUSES)]
        if broken:
            raise CommandError(f"{len(broken)} archives are missing or corrupt")

    def _table(self, rows: list[tuple[str, ...]]) -> None:
        widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(_COLUMNS)]
        for line in (_COLUMNS, *rows):
            cells = (v.ljust(w) for v, w in zip(line, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())
