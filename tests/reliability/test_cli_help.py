"""Every `--help` a user can reach carries examples, and names defaults as they really are."""

from __future__ import annotations

import argparse

import pytest

from agentledger.cli import build_parser
from agentledger.demo import DemoOptions, default_demo_db


def _every_parser(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """The parser itself and every subcommand below it, groups (`org`, `sample`) included."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _every_parser(sub, path + (name,))


@pytest.mark.parametrize("path", [p for p, _ in _every_parser(build_parser())], ids=lambda p: " ".join(p) or "agentledger")
def test_every_help_page_has_examples(path):
    parser = dict(_every_parser(build_parser()))[path]
    text = parser.format_help()
    assert "examples:" in text
    assert "  agentledger " + " ".join(path) in text, "an example of this very command"


@pytest.mark.parametrize("data_home", [None, "/tmp/cirun/home/.local/share", "/home/a-very-long-user-name-x/.local/share"])
def test_demo_help_names_the_real_default_ledger(monkeypatch, data_home):
    # A long home folder made argparse cut the path mid-word (at 80 columns), and a hyphen in it
    # was a break point too: the path shown must be the one to copy.
    if data_home:
        monkeypatch.setenv("XDG_DATA_HOME", data_home)
    text = dict(_every_parser(build_parser()))[("demo",)].format_help()
    default = default_demo_db(DemoOptions())
    assert default.parts[-2:] == ("demo", "sample.duckdb")
    assert str(default) in " ".join(text.split())
