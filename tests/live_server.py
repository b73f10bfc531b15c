"""A real datalab server in a separate process, for tests that restart or kill it.

Each `LiveSite` has its own data directory (metadata and event SQLite files), is seeded with an
owner and a locked, tracked app through the real services, and serves with `manage.py serve`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SEED = """
import json
from apps_registry import services as apps
from funnels import services as funnels
from orgs.services import user_create_verified
from tokens import services as tokens
owner = user_create_verified(email="owner@acme.test", password="pw-123456")
app = apps.app_create(owner=owner, name="Shop", url=ORIGIN, tags=["web"])
funnels.config_update(app=app, actor=owner, data=CONFIG, version=1)
issued = tokens.token_issue(app=app, actor=owner)
print("SEED" + json.dumps({"app": app.pk, "token": issued.token}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveSite:
    """A server process. With `share=other`, a second process of the same site: same data
    directory (metadata database, secret key), already migrated and seeded by `other`, whose
    app and token it takes over; give it its own event-store file through `env`. Without a
    `config`, migrated but not seeded (seed it through `manage`)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        origin: str = "",
        config: dict | None = None,
        env: dict | None = None,
        share: LiveSite | None = None,
    ):
        self.data_dir = data_dir
        self.origin = origin
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATALAB_DATA_DIR": str(data_dir),
            "DATALAB_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        if "DATABASE_URL" not in (env or {}):
            # A site's metadata lives in its own data directory: the suite's DATABASE_URL names
            # one shared database (the PostgreSQL run), where seeded sites would collide.
            self.env.pop("DATABASE_URL", None)
        self.process: subprocess.Popen | None = None
        self.log_path = data_dir / ("server.log" if share is None else f"server-{self.port}.log")
        if share is not None:
            self.app_id: int = share.app_id
            self.token: str = share.token
            return
        self.manage("migrate", "--noinput", "-v", "0")
        if config is None:
            return
        seed = SEED.replace("ORIGIN", repr(origin)).replace("CONFIG", repr(config))
        out = self.manage("shell", "-c", seed)
        line = next(x for x in out.splitlines() if x.startswith("SEED"))
        seeded = json.loads(line[4:])
        self.app_id: int = seeded["app"]
        self.token: str = seeded["token"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def shell(self, code: str) -> str:
        """Run Python code in `manage.py shell` against the site's data; its stdout."""
        return self.manage("shell", "-c", code)

    def manage(self, *args: str) -> str:
        """Run a management command against the site's data; its stdout."""
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed: {result.stderr[-2000:]}")
        return result.stdout

    def stored_events(self, order_by: str = "event_id") -> list[dict]:
        """The event rows in the site's embedded store, read straight from its file.

        Empty until a process has created the store: the file appears a moment before the
        transaction that creates its tables commits, and a reader may look in between.
        """
        path = self.data_dir / "events.sqlite3"
        if not path.exists():
            return []
        conn = sqlite3.connect(path)
        try:
            conn.row_factory = sqlite3.Row
            exists = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'"
            ).fetchone()
            if not exists:
                return []
            rows = conn.execute(f"SELECT * FROM events ORDER BY {order_by}").fetchall()
        finally:
            conn.close()
        return [dict(row) for row in rows]

    def start(self, timeout: float = 30.0) -> None:
        log = open(self.log_path, "a")  # noqa: SIM115 (kept open for the child's lifetime)
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(self.port)],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: the crash case, nothing gets flushed."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
