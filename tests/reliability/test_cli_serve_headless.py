"""The README's `agentledger demo` and `agentledger dashboard` serve on a fresh machine with no terminal.

A machine that never ran Streamlit has no ~/.streamlit/credentials.toml: a non-headless Streamlit then
asks for an e-mail address, and without a terminal exits 255 before serving anything. Each command
runs here as a subprocess with an empty HOME, no display and stdin closed, as cron or CI would run it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# Streamlit's first-run prompt and its usage-statistics notice: neither may reach a user.
PROMPTS = ("Email:", "Welcome to Streamlit", "usage statistics")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fresh_env(home: Path) -> dict[str, str]:
    """The environment of a new user: an empty HOME and nothing that points at another ledger or display."""
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("XDG_", "AGENTLEDGER_", "STREAMLIT_")) and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return {**keep, "HOME": str(home)}


def _health(port: int) -> bytes | None:
    try:
        with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as response:
            return response.read().strip()
    except OSError:
        return None


def _serve(args: list[str], home: Path, log: Path, timeout: float = 120.0) -> tuple[bytes | None, str, int | None]:
    """Start `agentledger ARGS`, wait for /_stcore/health; (health answer, output, exit code if it died)."""
    port = _free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "agentledger.cli", *args, "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=_fresh_env(home), cwd=home,
        )
        answer = None
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and process.poll() is None:
                answer = _health(port)
                if answer:
                    break
                time.sleep(0.3)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
    died = process.returncode if answer is None else None
    return answer, log.read_text(errors="replace"), died


@pytest.mark.parametrize("command", [["demo"], ["dashboard"]], ids=["demo", "dashboard"])
def test_serves_with_an_empty_home_and_no_terminal(command, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    answer, output, died = _serve(command, home, tmp_path / "server.log")
    assert answer == b"ok", f"no health answer (exit code {died}):\n{output[-2000:]}"
    assert not [p for p in PROMPTS if p in output], output[-2000:]
    assert not (home / ".streamlit" / "credentials.toml").exists()
    if command == ["demo"]:
        # The demo ledger is where `demo --help` says: demo/sample.duckdb in the user data dir.
        assert list(home.rglob("demo/sample.duckdb")), output[-2000:]
