"""The reference peer, ccusage, installed from npm and run offline on Claude Code folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

VERSION = "20.0.24"  # 20.0.26 ships no Linux binary (../shared/corpus/README.md)
WORK = Path(__file__).resolve().parent / ".work"
BINARY = WORK / "node_modules" / ".bin" / "ccusage"


def installed() -> Path | None:
    """Path of the ccusage launcher if it is installed under bench/.work."""
    return BINARY if BINARY.exists() else None


def install() -> Path:
    """npm install ccusage and its Linux binary package under bench/.work (idempotent)."""
    if installed():
        return BINARY
    if not shutil.which("npm"):
        raise RuntimeError("npm is not on PATH: cannot install ccusage")
    WORK.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--prefix", str(WORK), "--no-audit", "--no-fund",
         f"ccusage@{VERSION}", f"@ccusage/ccusage-linux-x64@{VERSION}"],
        check=True, capture_output=True, text=True,
    )
    return BINARY


def config_dirs(root: Path) -> list[Path]:
    """Every folder below `root` that holds a `projects/` folder (one per user for a collector layout)."""
    if (root / "projects").is_dir():
        return [root]
    return sorted(p.parent for p in root.rglob("projects") if p.is_dir() and p.parent.name == ".claude")


def daily_command(root: Path) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of `ccusage claude daily --json --offline -z UTC` over `root`."""
    env = dict(os.environ, CLAUDE_CONFIG_DIR=",".join(str(p) for p in config_dirs(root)))
    return [str(install()), "claude", "daily", "--json", "--offline", "-z", "UTC"], env


def daily_totals(root: Path) -> dict[str, int]:
    """Token totals ccusage reports over all days (inputTokens, outputTokens, cacheCreationTokens, cacheReadTokens)."""
    command, env = daily_command(root)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    totals = json.loads(result.stdout)["totals"]
    return {key: int(totals[key]) for key in ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")}
