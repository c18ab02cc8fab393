"""docs/metrics.md documents every threshold, every report column and every flag; its generated
parts are what the metric registry (analytics.metrics) says today."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.config import AnalyticsSettings
from analytics.metrics import METRICS, generated_blocks
from analytics.reports import REPORTS

DOC = (Path(__file__).resolve().parents[1] / "docs" / "metrics.md").read_text(encoding="utf-8")
BUILTIN = ("daily", "users", "teams", "projects", "models", "plugins", "sessions", "flags", "coverage", "outcomes", "commits")


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


def test_every_report_is_one_of_the_documented_kinds():
    assert list(REPORTS) == list(BUILTIN)


@pytest.mark.parametrize("mark", list(generated_blocks()))
def test_the_generated_parts_are_current(mark):
    assert generated_blocks()[mark] in DOC, "run: python -m analytics.metrics docs/metrics.md"


def test_every_column_has_a_label_and_a_definition_in_the_glossary():
    glossary = DOC.split("## Glossary", 1)[1]
    for metric in METRICS.values():
        assert metric.label and metric.definition
        assert f"| `{metric.name}` | {metric.label} |" in glossary
