"""Cold start: how long `make run` takes on an existing checkout to serve its first page, and how
long a fresh server process takes to answer its first insight request.

    .venv/bin/python -m bench.cold_start [--runs 3] [--events 100000]

Method: a temporary data directory, migrated, with an owner, an app (the demo shop's
configuration), `generate_traffic --events N` and an API access token (`auth_login`).
- First insight request: R times, a fresh `manage.py serve` process (the command `make run`
  ends with); from its spawn, the time until it accepts connections, then the wall time of its
  first `GET /api/v1/apps/<id>/insights/overview` (Bearer token, the whole 30 days), then of the
  same request again (warm), then the first request of every other endpoint.
- `make run`: R times, `make run` on this checkout with that data directory (migrated by an
  earlier run, as on a developer's machine); from spawning `make` to the first `200` of `GET /`
  (the dashboard's page), with the time at which make printed "datalab is starting" (its
  install and frontend checks done; `serve --prepare` then migrates if needed, collects the
  static files and serves, in one process). It refuses to run if `make -n run` plans
  to install packages or build the frontend (then it would not measure an existing checkout,
  and it would change the tree).
Servers listen on 127.0.0.1 at ports from 8300 up.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.insights import ENDPOINTS
from bench.process_stats import load_average
from tests.live_server import ROOT

PORTS = range(8300, 8400)
SEED = """
import json
from accounts.services import auth_login
from apps_registry import services as apps
from demo.shop import DEMO_CONFIG
from funnels import services as funnels
from orgs.services import user_create_verified
from tokens import services as tokens
owner = user_create_verified(email="owner@bench.test", password="pw-123456")
app = apps.app_create(owner=owner, name="Bench", url="https://shop.acme.test", tags=["b"])
funnels.config_update(app=app, actor=owner, data=DEMO_CONFIG, version=1)
tokens.token_issue(app=app, actor=owner)
pair = auth_login(email="owner@bench.test", password="pw-123456")
print("SEED" + json.dumps({"app": app.pk, "access": pair.access}))
"""


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {args[0]} failed: {done.stderr[-2000:]}")
    return done.stdout


def prepare(data_dir: Path, events: int) -> tuple[dict, dict]:
    env = {**os.environ, "DATALAB_DATA_DIR": str(data_dir), "DATALAB_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    _manage(env, "migrate", "--noinput", "-v", "0")
    out = _manage(env, "shell", "-c", SEED)
    seeded = json.loads(next(x for x in out.splitlines() if x.startswith("SEED"))[4:])
    _manage(env, "generate_traffic", "--app", str(seeded["app"]), "--events", str(events))
    return env, seeded


def _free_port() -> int:
    import socket

    for port in PORTS:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 8300-8399")


def _get(url: str, token: str | None = None) -> int | None:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None  # not listening yet


def _until_ok(url: str, began: float, process: subprocess.Popen, timeout: float = 120) -> float:
    while time.perf_counter() - began < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode})")
        if _get(url) == 200:
            return time.perf_counter() - began
        time.sleep(0.02)
    raise RuntimeError(f"{url} did not answer 200")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # make and the server it started
        process.wait(timeout=20)


def start_server(env: dict) -> tuple[subprocess.Popen, str]:
    """`manage.py serve` on a free port, in a session of its own (for `_stop`): the process
    and its base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--no-access-log"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    return process, f"http://127.0.0.1:{port}"


def first_insight(env: dict, seeded: dict) -> dict:
    began = time.perf_counter()
    process, base = start_server(env)
    try:
        listening = _until_ok(f"{base}/healthz", began, process)
        api = f"{base}/api/v1/apps/{seeded['app']}/insights"
        timings, failed = {}, []
        for name, endpoint in [("first", "overview"), ("warm", "overview"), *_others()]:
            start = time.perf_counter()
            status = _get(f"{api}/{endpoint}", seeded["access"])
            timings[name] = 1000 * (time.perf_counter() - start)
            if status != 200:
                failed.append(f"{endpoint}: HTTP {status}")
    finally:
        _stop(process)
    return {"listening_s": listening, **timings, "failed": failed}


def _others() -> list[tuple[str, str]]:
    return [(endpoint, endpoint) for endpoint in ENDPOINTS if endpoint != "overview"]


def make_run(env: dict) -> dict:
    port = _free_port()
    command = ["make", "-s", "run", "HOST=127.0.0.1", f"PORT={port}"]
    plan = subprocess.run([*command[:1], "-n", *command[2:]], cwd=ROOT, capture_output=True)
    if b"npm" in plan.stdout or b"pip install" in plan.stdout:
        raise SystemExit("make run would install packages or build the frontend: not measured")
    began = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )
    try:
        for line in process.stdout:
            if "datalab is starting" in line:
                starting = time.perf_counter() - began
                break
        page = _until_ok(f"http://127.0.0.1:{port}/", began, process)
    finally:
        _stop(process)
    return {"starting_s": starting, "page_s": page}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        env, seeded = prepare(Path(tmp), args.events)
        for run in range(1, args.runs + 1):
            load = load_average()
            r = first_insight(env, seeded)
            others = ", ".join(f"{name} {r[name]:.0f}" for name, _ in _others())
            print(
                f"run {run}: serve listening after {r['listening_s']:.2f} s; first insight "
                f"request {r['first']:.0f} ms, again {r['warm']:.0f} ms; then first of each "
                f"other endpoint (ms): {others}; load {load}-{load_average()}",
                flush=True,
            )
            if r["failed"]:
                print(f"  FAILED: {'; '.join(r['failed'])}", flush=True)
        for run in range(1, args.runs + 1):
            load = load_average()
            r = make_run(env)
            print(
                f"run {run}: make run printed 'starting' after {r['starting_s']:.2f} s, served "
                f"its first page after {r['page_s']:.2f} s; load {load}-{load_average()}",
                flush=True,
            )


if __name__ == "__main__":
    main()
