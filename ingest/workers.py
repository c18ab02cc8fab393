"""What a worker process does first: end itself when the process that started it is gone.

A parent killed with kill -9 cannot stop its pool; loky's workers (and the resource tracker
they keep alive) would live on, ~200 MB each, after every killed scheduled run.
"""

from __future__ import annotations

import os
import threading
import time

# How often a worker checks that its parent is still there.
PARENT_CHECK_SECONDS = 0.5


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: watch the parent from a daemon thread and exit the moment it is gone."""

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(PARENT_CHECK_SECONDS)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()
