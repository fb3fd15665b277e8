"""glibc's allocator told to keep the large buffers a server reuses all the time.

A seeking player's range (up to 2 MiB) is read into a new ``bytes`` on a worker thread, sent, then freed.
With glibc's defaults such a block, once freed at the top of a thread's heap, is handed back to the kernel,
and the next read faults its pages in again (256 for a MiB): in ``bench/run media`` that cost about a fifth of
the throughput of 1 MiB ranges. Fixed thresholds keep those blocks: an allocation up to ``MMAP_THRESHOLD``
comes from a heap (not its own ``mmap``), and up to ``TRIM_THRESHOLD`` of free memory stays at a heap's top.
What is kept is what the busiest moment used, never more. Other C libraries (musl) are left as they are.
"""

from __future__ import annotations

import ctypes
import platform

M_TRIM_THRESHOLD = -1  # <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 4 * 1024 * 1024  # above the largest range read at once (SINGLE_READ_LIMIT, 2 MiB)
TRIM_THRESHOLD = 64 * 1024 * 1024


def keep_large_buffers() -> bool:
    """Set the thresholds (once per process; a forked worker inherits them); False where the C library is not
    glibc."""
    if platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    kept = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    return bool(kept)
