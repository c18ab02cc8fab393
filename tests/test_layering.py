"""Layers point one way (ingest -> store <- analytics <- dashboard/CLI), held by import-linter contracts
over every module, a planted violation of each contract that the check must catch, and a run-time
check that importing every core module loads no UI library."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
import tomllib
from importlib import import_module
from pathlib import Path

import pytest

from agentledger.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
CONTRACTS = {c["id"]: c for c in CONFIG["contracts"]}
UI_MODULES = ("streamlit", "altair")
CORE = ("ingest", "store", "analytics")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    """`lint-imports` on the packages under `cwd`, which come first on the path."""
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


def test_every_layer_contract_is_kept():
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


def _violation(contract: dict) -> tuple[str, str]:
    """(module file to plant, the forbidden import it makes) for one contract."""
    source, forbidden = contract["source_modules"][0], contract["forbidden_modules"][0]
    return f"{source}/planted_violation.py", f"import {forbidden}\n"


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory) -> Path:
    """The packages' Python files and pyproject.toml, copied (sample transcripts left out)."""
    root = tmp_path_factory.mktemp("layers")
    for package in CONFIG["root_packages"]:
        shutil.copytree(REPO / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__", "transcripts", "*.sql", "*.csv"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize("contract_id", list(CONTRACTS))
def test_a_planted_violation_breaks_its_contract(contract_id, tree_copy):
    path, line = _violation(CONTRACTS[contract_id])
    planted = tree_copy / path
    planted.write_text(line, encoding="utf-8")
    try:
        result = _lint(tree_copy)
    finally:
        planted.unlink()
    assert result.returncode == 1, result.stdout
    broken = [c["name"] for c in CONTRACTS.values() if f"{c['name']} BROKEN" in result.stdout]
    assert broken == [CONTRACTS[contract_id]["name"]], result.stdout


def _every_module(package: str) -> list[str]:
    root = import_module(package)
    return [package] + [m.name for m in pkgutil.walk_packages(root.__path__, prefix=f"{package}.")]


def test_importing_every_core_module_loads_no_ui_library():
    modules = [m for package in CORE for m in _every_module(package)]
    assert len(modules) > 40, modules  # the walk reached the modules, not just the packages' __init__
    code = ("import importlib, sys\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            f"print(','.join(m for m in {UI_MODULES!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def _subcommands(parser, prefix=()):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield from _subcommands(sub, prefix + (name,))
            return
    yield prefix, parser


def test_every_command_has_help_with_an_example():
    missing = [" ".join(path) for path, parser in _subcommands(build_parser())
               if "example" not in (parser.format_help() or "").lower()]
    assert missing == []
