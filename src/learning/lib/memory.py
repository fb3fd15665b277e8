"""glibc's allocator told to keep the large buffers a server reuses all the time.

A seeking player's range (up to 2 MiB) is read into a new ``bytes`` on a worker thread, sent, then freed.
With glibc's defaults such blocks, once freed at the top of a thread's heap, are handed back to the kernel,
and the next reads fault their pages in again (256 for a MiB): in ``bench/run media`` that cost a third of
the throughput of 1 MiB ranges (×0.51 → ×0.72–0.77 of nginx). Fixed thresholds keep those blocks: an
allocation up to ``MMAP_THRESHOLD`` comes from a heap (not its own ``mmap``), up to ``TRIM_THRESHOLD`` of free
memory stays at a heap's top, and all threads share two heaps (the main one included). The price, measured: a
worker that served a burst of ranges keeps ~45 MB more than with the defaults (~75 MB with a heap per thread);
a smaller threshold (8 MiB) lost most of the gain. Other C libraries (musl) are left as they are.
"""

from __future__ import annotations

import ctypes
import platform

M_TRIM_THRESHOLD = -1  # <malloc.h>
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 4 * 1024 * 1024  # above the largest range read at once (SINGLE_READ_LIMIT, 2 MiB)
TRIM_THRESHOLD = 16 * 1024 * 1024  # a burst of 16 players seeking at once, per arena
ARENA_MAX = 2  # heaps in all: what is kept free is about ARENA_MAX × TRIM_THRESHOLD


def keep_large_buffers() -> bool:
    """Set the thresholds (once per process; a forked worker inherits them); False where the C library is not
    glibc."""
    if platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    kept = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    kept = kept and libc.mallopt(M_ARENA_MAX, ARENA_MAX)
    return bool(kept)
