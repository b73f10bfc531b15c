"""What a server process costs, read from /proc (Linux): CPU seconds, resident memory, idleness."""

from __future__ import annotations

import os
import time

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process, all its threads."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_mb(pid: int) -> float:
    """Resident set size in MB (VmRSS)."""
    return _status_mb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """The process's highest resident set size so far (VmHWM), in MB."""
    return _status_mb(pid, "VmHWM")


def _status_mb(pid: int, field: str) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


def wait_idle(pids: list[int], *, below: float = 0.03, window: float = 0.5, timeout=180.0):
    """Wait until none of the processes used more than `below` of a core over `window` seconds
    (a server's writer turning pending events into column parts, say)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = [cpu_seconds(pid) for pid in pids]
        time.sleep(window)
        used = [cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
        if max(used) <= below * window:
            return
    raise RuntimeError("the servers did not go idle")


def load_average() -> str:
    """The 1-minute load average, as `uptime` shows it."""
    return f"{os.getloadavg()[0]:.2f}"
