"""docs/metrics.md documents every threshold, every report column and every flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.config import AnalyticsSettings
from analytics.reports import REPORTS

DOC = (Path(__file__).resolve().parents[1] / "docs" / "metrics.md").read_text(encoding="utf-8")
BUILTIN = ("daily", "users", "teams", "projects", "models", "plugins", "sessions", "flags", "outcomes", "commits")


@pytest.mark.parametrize("name", [n for n in AnalyticsSettings.model_fields if n != "prices_file"])
def test_every_threshold_is_documented(name):
    assert f"`{name}`" in DOC


@pytest.mark.parametrize("flag", ["loop", "discarded_work", "idle_burn", "zero_output", "usage_spike", "context_bloat"])
def test_every_flag_is_documented(flag):
    assert f"**{flag}**" in DOC


@pytest.mark.parametrize("kind", BUILTIN)
def test_every_report_column_is_documented(kind):
    section = DOC.split(f"- **{kind}**:", 1)[1].split("\n- **", 1)[0]
    for column in REPORTS[kind].columns:
        assert column in section or (kind == "teams" and column in DOC.split("- **users**:", 1)[1]), column
