"""The report registry: name -> query (con, Filters) -> polars DataFrame, with its columns by name.

The CLI (`agentledger report KIND`), the CSV export and the dashboard all read this one table, so
a report cannot differ between them. A column's meaning comes from analytics.metrics; `notes` holds
what a column means in one report where that differs (attributed, fractional requests in plugins).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import duckdb
import polars as pl

from analytics import queries
from analytics.coverage import coverage
from analytics.filters import Filters
from analytics.metrics import metric

Query = Callable[[duckdb.DuckDBPyConnection, Filters], pl.DataFrame]

TOKENS = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens", "total_tokens")
OUTCOME_TOKENS = ("kept_tokens", "looping_tokens", "discarded_tokens", "idle_tokens", "overhead_tokens")
# Claude Code's own agents, priced: what its features cost, per person and team.
OVERHEAD = ("overhead_tokens", "overhead_cost_usd")


@dataclass(frozen=True)
class Report:
    """One report: its query, a one-line description and its columns, in order."""

    name: str
    description: str
    names: tuple[str, ...]
    query: Query
    notes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in (*self.names, *self.notes):
            metric(name)  # every column is registered, with its label, format and definition
        stray = set(self.notes) - set(self.names)
        if stray:
            raise ValueError(f"report {self.name}: notes on columns it does not have: {sorted(stray)}")

    @property
    def columns(self) -> dict[str, str]:
        """{column: what it means in this report}, in order."""
        return {name: self.notes.get(name, metric(name).definition) for name in self.names}


def _sql_report(name: str, con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """Run analytics/sql/report_<name>.sql on the filters' slice."""
    return queries.read(con, f"report_{name}", filters)


REPORTS: dict[str, Report] = {}


def register(report: Report) -> None:
    """Add a report to the registry (name must be new)."""
    if report.name in REPORTS:
        raise ValueError(f"report {report.name!r} is already registered")
    REPORTS[report.name] = report


def _builtin(name: str, description: str, names: tuple[str, ...], notes: dict[str, str] | None = None) -> None:
    register(Report(name, description, names, partial(_sql_report, name), notes or {}))


_builtin("daily", "one row per UTC day: tokens, cost and where the tokens went", (
    "day", "users", "sessions", "requests", *TOKENS, "cost_usd", "unpriced_requests", *OUTCOME_TOKENS,
    "kept_cost_usd", "looping_cost_usd", "discarded_cost_usd", "idle_cost_usd", "overhead_cost_usd",
    "useful_output_ratio", "useful_cost_ratio",
))
_PEOPLE = ("sessions", "requests", *TOKENS, "cost_usd", "kept_tokens", "useful_output_ratio", "flagged_sessions",
           "waste_tokens", "useful_cost_ratio", "unpriced_requests", "waste_cost_usd", *OVERHEAD)
_builtin("users", "one row per person, lowest useful ratio first (never a spend leaderboard)", ("user", "team", *_PEOPLE))
_builtin("teams", "one row per team, lowest useful ratio first", ("team", "users", *_PEOPLE))
_builtin("projects", "one row per project (working directory)", (
    "project", "users", "sessions", "requests", *TOKENS, "cost_usd", "kept_tokens", "waste_tokens",
    "useful_output_ratio", "unpriced_requests",
))
_builtin("models", "one row per model, with the price data version that priced it", (
    "model", "requests", "sessions", *TOKENS, "cost_usd", "source_cost_usd", "unpriced_requests",
    "useful_output_ratio", "price_version", "estimated_output_requests", "fallback_model_requests",
))
_builtin("plugins", "per component (level=component, a partition of all tokens) and per plugin (level=plugin, a roll-up)", (
    "level", "component", "kind", "plugin", "calls", "errors", "error_rate", "result_bytes", "requests",
    "total_tokens", "cost_usd", "kept_tokens", "useful_output_ratio", "useful_cost_ratio",
), notes={
    "requests": "requests attributed to it (fractional when shared)",
    "total_tokens": "tokens of the requests attributed to it (all four kinds)",
    "kept_tokens": "attributed tokens of kept requests",
    "useful_cost_ratio": "attributed spend of kept requests / attributed spend",
})
_builtin("sessions", "one row per session (figures within the period), newest first", (
    "session_id", "user", "team", "project", "source", "started_at", "ended_at", "requests", "total_tokens",
    "cost_usd", *OUTCOME_TOKENS, "useful_output_ratio", "flags", "flagged_tokens", "flagged_cost_usd",
    "waste_cost_usd", "useful_cost_ratio", "estimated_output_requests", "fallback_model_requests",
))
_builtin("flags", "every flag with the evidence a manager can check, newest first", (
    "session_id", "user", "team", "project", "flag", "started_at", "ended_at", "tokens", "cost_usd", "evidence",
))



register(Report("coverage", "per user and day: Claude Code spend the Admin API or OTel reports vs what transcripts explain", (
    "day", "user", "team", "admin_cost_usd", "otel_cost_usd", "reported_cost_usd", "explained_cost_usd",
    "missing_cost_usd", "cost_coverage", "admin_tokens", "otel_tokens", "reported_tokens", "explained_tokens",
    "token_coverage", "transcript_requests", "status",
), coverage))


GIT_LINES = ("lines_written", "lines_committed", "lines_landed", "lines_due_30d", "lines_alive_30d")
_builtin("outcomes", "what the spend bought in git, per team, person, project and plugin (never a ranking)", (
    "level", "name", "sessions", "cost_usd", *GIT_LINES, "landed_commits", "cost_per_landed_line",
    "cost_per_alive_30d_line", "cost_per_landed_commit", "unlinked_cost_usd",
), notes={
    "level": "team, person, project (where the session's commits landed) or plugin",
    "name": "the team, person, project or plugin the row is about",
    "sessions": "sessions in the period (with spend or edits), those that produced nothing included",
})
_builtin("commits", "commits linked to sessions, and agent commits without logs, newest first", (
    "repository", "sha", "committed_at", "subject", "agent", "landed", "session_ids", "printed_sha", "signal",
    "confidence", "lines_added", "lines_removed", "agent_lines", "alive_7d", "alive_30d", "alive_head",
))


def run_report(con: duckdb.DuckDBPyConnection, name: str, filters: Filters | None = None) -> pl.DataFrame:
    """The rows of one registered report."""
    return REPORTS[name].query(con, filters or Filters())
