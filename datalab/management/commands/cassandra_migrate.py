"""python manage.py cassandra_migrate [--keyspace NAME] [--check]

Creates the Cassandra event store's keyspace (with DATALAB_CASSANDRA_REPLICATION) and its tables,
whatever of them is missing. Safe to run again, from any machine, on every deploy.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from eventstore import StoreUnavailable, store_class

BACKEND = "cassandra"


class Command(BaseCommand):
    help = "Create the Cassandra event store's keyspace and tables (those missing)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--keyspace", help="instead of DATALAB_CASSANDRA_KEYSPACE (e.g. a test keyspace)"
        )
        parser.add_argument(
            "--check", action="store_true", help="change nothing; fail when something is missing"
        )

    def handle(self, *args, **options):
        backend = store_class(BACKEND)
        keyspace = options["keyspace"] or settings.CASSANDRA["keyspace"]
        try:
            if options["check"]:
                missing = backend.schema_missing(namespace=keyspace)
                if missing:
                    raise CommandError(f"missing: {', '.join(missing)} (run cassandra_migrate)")
                self._say(options, f"keyspace {keyspace}: every table is there")
                return
            report = backend.schema_migrate(namespace=keyspace)
        except StoreUnavailable as exc:
            raise CommandError(str(exc)) from exc
        for what in report.created:
            self._say(options, f"created {what}")
        if not report.created:
            self._say(options, f"keyspace {keyspace}: every table is there, nothing to do")
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")

    def _say(self, options, message: str) -> None:
        if options["verbosity"] >= 1:
            self.stdout.write(message)
