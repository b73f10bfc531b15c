"""`manage.py serve --prepare` (what `make run` runs): on a fresh data directory it migrates and
collects the static files in its own process before it serves."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.live_server import ROOT, free_port

pytestmark = pytest.mark.slow


def _until_healthy(url: str, process: subprocess.Popen, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return {"status": response.status}
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not answer")


def test_serve_prepare_migrates_and_collects_a_fresh_data_directory_then_serves(tmp_path):
    env = {**os.environ, "DATALAB_DATA_DIR": str(tmp_path), "DATALAB_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)  # the metadata database of this data directory, not the suite's
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--prepare", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        assert _until_healthy(f"http://127.0.0.1:{port}/healthz", process)["status"] == 200
    finally:
        process.terminate()
        process.wait(timeout=20)

    pending = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check"], env=env, cwd=ROOT, capture_output=True
    )
    assert pending.returncode == 0, pending.stdout  # no migration left unapplied
    assert (tmp_path / "staticfiles" / "admin").is_dir()  # the static files were collected
