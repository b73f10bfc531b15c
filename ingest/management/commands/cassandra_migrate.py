"""python manage.py cassandra_migrate [--keyspace NAME] [--check]

Creates the Cassandra event store's keyspace (with DATALAB_CASSANDRA_REPLICATION) and its tables,
whatever of them is missing. Safe to run again, from any machine, on every deploy.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ingest.eventstore.base import StoreUnavailable
from ingest.eventstore.cassandra import schema
from ingest.eventstore.cassandra.connection import connect, translated_errors


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
        self.verbosity = options["verbosity"]
        config = settings.CASSANDRA
        keyspace = schema.check_keyspace_name(options["keyspace"] or config["keyspace"])
        replication = schema.parse_replication(config["replication"])
        cluster = connect(
            hosts=config["hosts"],
            port=config["port"],
            local_dc=config["local_dc"],
            consistency=schema.parse_consistency(config["consistency"]),
        )
        try:
            with translated_errors(f"at {', '.join(config['hosts'])} port {config['port']}"):
                session = cluster.connect()
                if options["check"]:
                    self._check(cluster, keyspace)
                else:
                    self._migrate(session, keyspace, replication)
        except StoreUnavailable as exc:
            raise CommandError(str(exc)) from exc
        finally:
            cluster.shutdown()

    def _say(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)

    def _check(self, cluster, keyspace: str) -> None:
        missing = schema.missing_schema(cluster, keyspace)
        if missing:
            raise CommandError(f"missing: {', '.join(missing)} (run cassandra_migrate)")
        self._say(f"keyspace {keyspace}: every table is there")

    def _migrate(self, session, keyspace: str, replication: dict) -> None:
        created = schema.create_schema(session, keyspace, replication)
        for what in created:
            self._say(f"created {what}")
        if not created:
            self._say(f"keyspace {keyspace}: every table is there, nothing to do")
        differs = schema.replication_differs(session, keyspace, replication)
        if differs:
            self.stderr.write(
                f"warning: {differs}. Left as is: to change it, run\n"
                f"  {schema.alter_keyspace_cql(keyspace, replication)};\n"
                "then `nodetool repair --full` on every node."
            )
