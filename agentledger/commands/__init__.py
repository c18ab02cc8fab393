"""One module per subcommand, each exposing register(subparsers). The CLI lists them here.

Modules are imported on demand: `agentledger ingest` (run every few minutes by cron) should not
pay for importing the dashboard, the price data or the sample generator.
"""

from __future__ import annotations

import importlib
from types import ModuleType

COMMAND_NAMES = ["ingest", "org", "report", "refresh", "git", "dashboard", "demo", "sample"]


def load(name: str) -> ModuleType:
    """The module of one subcommand."""
    return importlib.import_module(f"agentledger.commands.{name}")


def load_all() -> list[ModuleType]:
    """Every subcommand module, in the order `--help` lists them."""
    return [load(name) for name in COMMAND_NAMES]
