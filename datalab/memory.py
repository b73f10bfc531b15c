"""How a server process keeps the memory its insights free (`DATALAB_KEEP_FREED_MEMORY`).

An insight over millions of events allocates arrays of tens to hundreds of megabytes. glibc
serves every allocation over 32 MB with a fresh `mmap` and unmaps it when freed, so the kernel
zeroes those pages again for every request. Told to keep freed memory, glibc takes large blocks
from its heap and never gives the heap back: the next request reuses the pages (at 10M events,
medians 5-15 % lower: docs/benchmarks.md, "Insights"), and the process stays at its peak
resident size. Off by default: a process returns what it freed.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_MAX = -4
NEVER_TRIM = 2**31 - 1  # bytes: mallopt takes an int


def keep_freed_memory() -> bool:
    """Ask the C allocator to keep what is freed for later allocations. False where it is not
    glibc (the setting is then a no-op)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, NEVER_TRIM))
