"""The README's `agentledger demo` and `agentledger dashboard` serve on a fresh machine with no terminal.

A machine that never ran Streamlit has no ~/.streamlit/credentials.toml: a non-headless Streamlit then
asks for an e-mail address, and without a terminal exits 255 before serving anything. Each command
runs here as a subprocess with an empty HOME, no display and stdin closed, as cron or CI would run it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.dashboard_app import served, wait_healthy

# Streamlit's first-run prompt and its usage-statistics notice: neither may reach a user.
PROMPTS = ("Email:", "Welcome to Streamlit", "usage statistics")


def _fresh_env(home: Path) -> dict[str, str]:
    """The environment of a new user: an empty HOME and nothing that points at another ledger or display."""
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("XDG_", "AGENTLEDGER_", "STREAMLIT_")) and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return {**keep, "HOME": str(home)}


def _serve(args: list[str], home: Path, log: Path, timeout: float = 120.0) -> tuple[bytes | None, str, int | None]:
    """Start `agentledger ARGS`, wait for /_stcore/health; (health answer, output, exit code if it died)."""
    with served(args, log, env=_fresh_env(home), cwd=home) as (process, url):
        answer = wait_healthy(url, process, timeout)
    return answer, log.read_text(errors="replace"), process.returncode if answer is None else None


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
        ledgers = list(home.rglob("demo/sample.duckdb"))
        assert ledgers, output[-2000:]
        # Owner-only, like any ledger: its folder, the folders created above it, the file itself.
        for path in (ledgers[0], ledgers[0].parent, ledgers[0].parent.parent):
            assert stat.S_IMODE(path.stat().st_mode) in (0o600, 0o700), path
