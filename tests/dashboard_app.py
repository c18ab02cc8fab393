"""Helpers the dashboard tests share: run the app in-process (AppTest), check a page is clean, and
wait for a served dashboard to answer its health check."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def render(page: str | None = None, signed_in: dict | None = None, **query: str | list[str]) -> AppTest:
    """Run the router (and then `page`) on $AGENTLEDGER_DB with the given URL query parameters, as
    the viewer `signed_in` describes (Streamlit's `st.user` fields) when one is given."""
    at = AppTest.from_file(APP, default_timeout=60)
    if signed_in is not None:
        at.user = signed_in
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
    return at


def assert_clean(at: AppTest) -> None:
    """No exception and no error box carrying a traceback or a validation error."""
    assert not at.exception, [e.message for e in at.exception]
    assert not [e for e in at.error if "Traceback" in e.value or "validation error" in e.value]


def health(url: str) -> bytes | None:
    """What /_stcore/health answers (b'ok' when the app serves), None while nothing answers."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().strip()
    except OSError:
        return None


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60.0) -> bytes | None:
    """Poll the health check until it answers, the process exits, or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        answer = health(url)
        if answer:
            return answer
        time.sleep(0.3)
    return None


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(args: list[str], log: Path, env: dict[str, str] | None = None,
           cwd: Path | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    """`agentledger ARGS --port N` as a subprocess; yields (process, url) and stops it (see serving)."""
    port = free_port()
    with serving([sys.executable, "-m", "agentledger.cli", *args, "--port", str(port)], port, log, env, cwd) as running:
        yield running


@contextmanager
def serving(command: list[str], port: int, log: Path, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    """Any command that serves on localhost:`port` as a subprocess (stdin closed, output to `log`: an
    unread pipe could fill up and stall it); yields (process, url) and stops it, waiting for it to exit."""
    with log.open("w") as out:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        try:
            # 127.0.0.1, the address the dashboard binds (never "localhost", which may resolve to ::1 first).
            yield process, f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
