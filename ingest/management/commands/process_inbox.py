"""python manage.py process_inbox [--once]

Capture mode's processor (ingest/processor.py): builds and stores the events of the frames the
ingest sockets acked into the inbox (`DATALAB_INGEST_INBOX_DIR`). One runs per inbox: a second
one waits for the first to stop. `manage.py serve` starts one in capture mode; run it yourself
to drain an inbox (`--once`: what is there now, then exit). Running on, it takes a lower CPU
priority (`NICENESS`) than the servers: acking and answering come first, building catches up in
between (the inbox bounds how far it may fall behind).
"""

import asyncio
import contextlib
import fcntl
import os
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from eventstore import get_store
from ingest.processor import Processor, run

NICENESS = 10


class Command(BaseCommand):
    help = "Build and store the events of the ingest inbox (capture mode)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="drain the inbox, then exit")
        parser.add_argument(
            "--parent", type=int, default=None, help="exit, drained, once this process is gone"
        )

    def handle(self, *args, **options):
        directory = settings.INGEST_INBOX_DIR
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / "processor.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.stderr.write("another processor has this inbox; waiting for it to stop")
                fcntl.flock(lock, fcntl.LOCK_EX)
            processor = Processor(directory, get_store())
            if options["once"]:
                built = 0
                while count := processor.run_once():
                    built += count
                while processor.store.flush_pending():
                    pass
                self.stdout.write(f"{built} events built from the inbox")
                return
            os.nice(NICENESS)
            asyncio.run(self._run(processor, options["parent"]))

    async def _run(self, processor: Processor, parent: int | None) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        await run(processor, stop=stop, parent=parent)
