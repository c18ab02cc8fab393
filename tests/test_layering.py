"""Layers point one way: the core imports no UI library; every command documents an example."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agentledger.cli import build_parser

UI_MODULES = ("streamlit", "altair")


@pytest.mark.parametrize("package", ["ingest.runner", "store.db", "analytics"])
def test_core_imports_no_ui_library(package):
    code = f"import sys, {package}; print(','.join(m for m in {UI_MODULES!r} if m in sys.modules))"
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
