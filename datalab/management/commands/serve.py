"""python manage.py serve [--host H] [--port P] [--proxy-headers] [--prepare]

daphne (ASGI: HTTP and websockets) with an access log that never writes client IP addresses.
Served directly (no `--proxy-headers`), a connection from an address cooling down after a flood
is closed as it is accepted, before a byte of it is read (docs/ingest-protocol.md).
With `--prepare` (what `make run` uses), first the pending migrations and `collectstatic`, in
this process: one Python start instead of three.
"""

import atexit
import logging
import os
import signal
import subprocess
import sys
import threading

from daphne.access import AccessLogGenerator
from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from datalab.memory import keep_freed_memory
from ingest.limits import get_limits

PROCESSOR_STOP_SECONDS = 30.0
PROCESSOR_RESTART_SECONDS = 1.0
log = logging.getLogger(__name__)


class GuardedServer(Server):
    """daphne's server, closing connections from addresses that are cooling down as they are
    accepted: a flood that reconnects at once costs an accept and a close, not an HTTP request,
    a websocket handshake and an application instance each (which held a well-behaved
    visitor's acks back by a hundred milliseconds and more under a flood)."""

    def listen_success(self, port):
        factory = self.http_factory
        if not getattr(factory, "guarded", False):
            factory.buildProtocol = _unless_cooling(factory.buildProtocol)
            factory.guarded = True
        super().listen_success(port)


def _unless_cooling(build_protocol):
    def build_unless_cooling(addr):
        if get_limits().refuses(getattr(addr, "host", "")):
            return None  # Twisted closes the socket it just accepted
        return build_protocol(addr)

    return build_unless_cooling


class PrivateAccessLog(AccessLogGenerator):
    """daphne's NCSA-style access log with the client address left out."""

    def write_entry(self, host, date, request, status=None, length=None, ident=None, user=None):
        super().write_entry("-", date, request, status, length, ident, user)


def daphne_server(
    application,
    *,
    host: str,
    port: int,
    access_log: bool = True,
    proxy_headers: bool = False,
    verbosity: int = 1,
) -> Server:
    """The daphne server `serve` runs (benchmarks serve their own ASGI app through it too).
    Behind a proxy every connection comes from the proxy's address: the address limits apply to
    the forwarded one, at the handshake (4429), never at accept."""
    return (Server if proxy_headers else GuardedServer)(
        application=application,
        endpoints=build_endpoint_description_strings(host=host, port=port),
        action_logger=PrivateAccessLog(sys.stdout) if access_log else None,
        websocket_max_message_size=1024 * 1024,
        proxy_forwarded_address_header="X-Forwarded-For" if proxy_headers else None,
        proxy_forwarded_port_header="X-Forwarded-Port" if proxy_headers else None,
        proxy_forwarded_proto_header="X-Forwarded-Proto" if proxy_headers else None,
        verbosity=verbosity,
    )


class Command(BaseCommand):
    help = "Serve datalab (HTTP and websockets) with daphne; no IPs in the access log."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--proxy-headers",
            action="store_true",
            help="take the client address from X-Forwarded-For (behind a trusted proxy)",
        )
        parser.add_argument("--no-access-log", action="store_true")
        parser.add_argument(
            "--prepare",
            action="store_true",
            help="apply pending migrations and collect static files first, in this process",
        )

    def handle(self, *args, **options):
        from django.conf import settings

        from datalab.asgi import application
        from eventstore import get_store, reset_writer

        if options["prepare"]:
            prepare()
        if settings.KEEP_FREED_MEMORY:
            keep_freed_memory()
        if settings.EVENT_STORE != "sqlite":
            get_store()  # fail at boot, not at the first event, if the schema is missing
        atexit.register(reset_writer)  # commit what is queued when the server stops
        if settings.INGEST_CAPTURE:
            start_processor()
        daphne_server(
            application,
            host=options["host"],
            port=options["port"],
            access_log=not options["no_access_log"],
            proxy_headers=options["proxy_headers"],
            verbosity=options["verbosity"],
        ).run()


def start_processor() -> None:
    """Capture mode: the inbox's processor in a process of its own (it waits if another serve
    started one on the same inbox), started again if it dies, stopped with this server once it
    has drained the inbox."""
    from django.conf import settings

    if not settings.REDIS_URL:
        raise CommandError(
            "capture mode (DATALAB_INGEST_CAPTURE) needs DATALAB_REDIS_URL: its processor, "
            "a process of its own, pushes the live view's traffic through Redis"
        )
    command = ["process_inbox", "--parent", str(os.getpid())]
    keeper = ProcessorKeeper([sys.executable, settings.BASE_DIR / "manage.py", *command])
    atexit.register(keeper.stop)


class ProcessorKeeper:
    """Runs the inbox processor and starts it again (after a pause) whenever it exits."""

    def __init__(self, command: list) -> None:
        self.command = command
        self.stopping = threading.Event()
        self.process = subprocess.Popen(command)
        threading.Thread(target=self._watch, name="inbox-processor", daemon=True).start()

    def _watch(self) -> None:
        while True:
            code = self.process.wait()
            if self.stopping.wait(PROCESSOR_RESTART_SECONDS):
                return
            log.error("the inbox processor exited (%s): starting it again", code)
            self.process = subprocess.Popen(self.command)

    def stop(self) -> None:
        from ingest.inbox import reset_inbox

        self.stopping.set()
        reset_inbox()  # seal this server's segment: the processor takes it to its end
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(PROCESSOR_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()  # what it had not built stays in the inbox for the next one


def prepare() -> None:
    """Migrate if a migration is pending (loading the plan costs far less than `migrate`'s own
    start), then collect the static files (only changed files are copied)."""
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, skip_checks=True)
    call_command("collectstatic", interactive=False, verbosity=0, skip_checks=True)
