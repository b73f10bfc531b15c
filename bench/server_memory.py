"""Memory of one server process that has answered every insight over N stored events.

    .venv/bin/python -m bench.server_memory [--events 10000000] [--data DIR]

Method: a data directory (temporary, or `--data DIR`, kept and reused when it holds a load) with
an app of the demo shop's configuration and N events stored by `generate_traffic` (the import
path, not the websocket: ingesting 10M events over websockets would take hours on this
machine); then a fresh `manage.py serve` process: its RSS once listening, then after each
insight endpoint of `bench.insights` was requested once over the 30 days (Bearer token), and its
peak (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.cold_start import _get, _stop, _until_ok, prepare, start_server
from bench.insights import ENDPOINTS
from bench.process_stats import load_average, peak_rss_mb, rss_mb
from tests.live_server import ROOT

LOADED = "bench-server-memory.json"


def _loaded(data_dir: Path, events: int) -> tuple[dict, dict]:
    marker = data_dir / LOADED
    if marker.exists():
        seeded = json.loads(marker.read_text())
        env = {**os.environ, "DATALAB_DATA_DIR": str(data_dir), "DATALAB_LOG_LEVEL": "WARNING"}
        env.pop("DATABASE_URL", None)
        return env, seeded
    began = time.perf_counter()
    env, seeded = prepare(data_dir, events)
    print(f"{events:,} events generated and stored in {time.perf_counter() - began:.0f} s")
    marker.write_text(json.dumps(seeded))
    return env, seeded


def _access_token(env: dict) -> str:
    """A fresh access token of the bench's owner (one made at load time may have expired)."""
    code = (
        "from accounts.services import auth_login; "
        "print('ACCESS' + auth_login(email='owner@bench.test', password='pw-123456').access)"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(line for line in out.splitlines() if line.startswith("ACCESS"))[6:]


def measure(env: dict, seeded: dict) -> None:
    access = _access_token(env)
    process, base = start_server(env)
    try:
        _until_ok(f"{base}/healthz", time.perf_counter(), process)
        print(f"listening: RSS {rss_mb(process.pid):.0f} MB (load {load_average()})")
        api = f"{base}/api/v1/apps/{seeded['app']}/insights"
        for endpoint in ENDPOINTS:
            began = time.perf_counter()
            status = _get(f"{api}/{endpoint}", access)
            took = time.perf_counter() - began
            print(
                f"  {endpoint:28} HTTP {status} in {took:6.2f} s; RSS {rss_mb(process.pid):5.0f} "
                f"MB, peak {peak_rss_mb(process.pid):5.0f} MB",
                flush=True,
            )
        print(
            f"after every endpoint: RSS {rss_mb(process.pid):.0f} MB, peak "
            f"{peak_rss_mb(process.pid):.0f} MB (load {load_average()})"
        )
    finally:
        _stop(process)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--data", type=Path)
    args = parser.parse_args()
    if args.data is not None:
        args.data.mkdir(parents=True, exist_ok=True)
        measure(*_loaded(args.data, args.events))
        return
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        measure(*_loaded(Path(tmp), args.events))


if __name__ == "__main__":
    main()
