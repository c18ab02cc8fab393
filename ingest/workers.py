"""What a worker process does first: end itself when the process that started it is gone, collect
garbage less often, keep freed memory to reuse it, and run Polars on one thread.

A parent killed with kill -9 cannot stop its pool; loky's workers (and the resource tracker
they keep alive) would live on, ~200 MB each, after every killed scheduled run.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import threading
import time

# How often a worker checks that its parent is still there.
PARENT_CHECK_SECONDS = 0.5
# Allocations between two young-generation collections in a worker (Python's default is 700).
# Parsing allocates millions of short-lived objects (decoded lines, tool inputs) and makes no
# cycles; at the default the collector ran ~700 times on a 0.5 GB corpus for 2.5% of the parse
# CPU, at this ~70 times for 0.4%. A worker holds one 4 MB chunk at a time, so memory stays bounded.
WORKER_GC_THRESHOLD = 20_000
# Polars threads a worker starts (it reads this when first imported, after the initializer). A
# worker's frames are one 4 MB chunk's, each built in well under a millisecond, and the other worker
# and the writing process already keep every core busy: a pool of one thread per core only added its
# hand-offs and idle spinning, ~3% of a worker's CPU on the 40x40 corpus.
WORKER_POLARS_THREADS = "1"
# glibc's malloc in a worker: blocks up to this size come from the heap, not from a fresh mmap, and
# freed memory is given back to the system only when more than TRIM is free at the heap's top. Every
# file read and every split line is a new bytes object; by default most of them landed in memory just
# mapped and handed back, so each byte read cost a page fault and a zeroed page (~120k faults and
# ~0.2-0.3 s of the workers' kernel CPU per 0.5 GB of logs; ~15k with this). A worker holds one chunk
# at a time, so what it keeps stays bounded: its peak barely moves (~105 -> ~107 MB parsing the 40x40
# corpus), and at most TRIM stays free at the top of its heap.
WORKER_MMAP_THRESHOLD = 32 * 1024 * 1024
WORKER_TRIM_THRESHOLD = 64 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3   # mallopt parameters (glibc's malloc.h)


def start_worker(parent_pid: int) -> None:
    """Pool initializer: what every parse worker does first."""
    die_with_parent(parent_pid)
    gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])
    os.environ["POLARS_MAX_THREADS"] = WORKER_POLARS_THREADS
    keep_freed_memory()


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to reuse freed blocks (see WORKER_MMAP_THRESHOLD); whether it could be asked
    (not on macOS, Windows or a libc without mallopt, where the defaults stay: slower, same results)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return (bool(mallopt(_M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD))
            and bool(mallopt(_M_TRIM_THRESHOLD, WORKER_TRIM_THRESHOLD)))


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: watch the parent from a daemon thread and exit the moment it is gone."""

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(PARENT_CHECK_SECONDS)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()
