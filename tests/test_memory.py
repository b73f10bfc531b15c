"""`DATALAB_KEEP_FREED_MEMORY` (datalab/memory.py): a process told to keep freed memory reuses
the pages of a large array it freed instead of returning them, so the next request of the same
size is not served fresh, zeroed pages by the kernel. Checked in child processes, by the
resident size after freeing 256 MB."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc, /proc")

CHILD = """
import sys
import numpy as np
from datalab.memory import keep_freed_memory

def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS:")) / 1024

kept = sys.argv[1] == "keep" and keep_freed_memory()
before = rss_mb()
block = np.ones(256 * 2**20, dtype=np.uint8)  # a request's large array, touched
del block
print(kept, round(rss_mb() - before))
"""


def freed_then_resident(mode: str) -> tuple[bool, int]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True
    )
    kept, grown = done.stdout.split()
    return kept == "True", int(grown)


def test_a_process_that_keeps_freed_memory_holds_a_freed_large_array_for_reuse():
    kept, grown = freed_then_resident("keep")

    assert kept and grown >= 200


def test_by_default_the_allocator_gives_a_freed_large_array_back():
    kept, grown = freed_then_resident("return")

    assert not kept and grown < 50
