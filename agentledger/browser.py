"""Open the dashboard in a browser once it answers, from AgentLedger rather than from Streamlit.

Streamlit opens a browser only when it runs non-headless, and non-headless Streamlit on a machine
that never ran it first asks for an e-mail address (and exits without a terminal). The server
therefore always runs headless, and this small helper process waits for its health check and then
opens the page.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import webbrowser

# How long the helper waits for the server (the demo may ingest before it serves).
READY_TIMEOUT_SECONDS = 120.0


def can_show_a_browser() -> bool:
    """Whether a graphical browser can appear: macOS and Windows always, elsewhere only with a display."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_when_ready(url: str) -> subprocess.Popen | None:
    """Start a detached helper that opens `url` once the server answers; None when there is no display."""
    if not can_show_a_browser():
        return None
    return subprocess.Popen(
        [sys.executable, "-m", "agentledger.browser", url],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # it must outlive the command that becomes the server (execve)
    )


def wait_until_healthy(url: str, timeout: float = READY_TIMEOUT_SECONDS) -> bool:
    """Poll Streamlit's health endpoint until it answers ok or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def main(argv: list[str] | None = None) -> int:
    """`python -m agentledger.browser URL`: open URL once the dashboard there is healthy."""
    (url,) = argv if argv is not None else sys.argv[1:]
    if wait_until_healthy(url):
        webbrowser.open(url)
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
