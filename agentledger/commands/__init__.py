"""One module per subcommand, each exposing register(subparsers). The CLI lists them here.

Modules are imported on demand: `agentledger ingest` (run every few minutes by cron) should not
pay for importing the dashboard, the price data or the sample generator. Each import is written out
below (not looked up by name), so readers and the layer check (import-linter) see every one.
"""

from __future__ import annotations

from types import ModuleType
from typing import Callable


def _ingest() -> ModuleType:
    from agentledger.commands import ingest
    return ingest


def _org() -> ModuleType:
    from agentledger.commands import org
    return org


def _report() -> ModuleType:
    from agentledger.commands import report
    return report


def _refresh() -> ModuleType:
    from agentledger.commands import refresh
    return refresh


def _git() -> ModuleType:
    from agentledger.commands import git
    return git


def _dashboard() -> ModuleType:
    from agentledger.commands import dashboard
    return dashboard


def _demo() -> ModuleType:
    from agentledger.commands import demo
    return demo


def _ship() -> ModuleType:
    from agentledger.commands import ship
    return ship


def _schedule() -> ModuleType:
    from agentledger.commands import schedule
    return schedule


def _store() -> ModuleType:
    from agentledger.commands import store
    return store


def _export() -> ModuleType:
    from agentledger.commands import export
    return export


def _sample() -> ModuleType:
    from agentledger.commands import sample
    return sample


# In the order `--help` lists them.
COMMANDS: dict[str, Callable[[], ModuleType]] = {
    "ingest": _ingest, "ship": _ship, "schedule": _schedule, "org": _org, "report": _report,
    "refresh": _refresh, "git": _git, "export": _export, "store": _store, "dashboard": _dashboard,
    "demo": _demo, "sample": _sample,
}
COMMAND_NAMES = list(COMMANDS)


def load(name: str) -> ModuleType:
    """The module of one subcommand."""
    return COMMANDS[name]()


def load_all() -> list[ModuleType]:
    """Every subcommand module, in the order `--help` lists them."""
    return [load(name) for name in COMMAND_NAMES]
