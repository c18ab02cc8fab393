"""The report registry: name -> query function (con, Filters) -> polars DataFrame, with column docs.

The CLI (`agentledger report KIND`), the CSV export and the dashboard all read this one table, so
a report cannot differ between them. Another module may add a report with `register(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import duckdb
import polars as pl

from analytics import queries
from analytics.filters import Filters

Query = Callable[[duckdb.DuckDBPyConnection, Filters], pl.DataFrame]

TOKENS = {
    "input_tokens": "uncached input tokens",
    "output_tokens": "output tokens (a lower bound for old transcripts, see formats.md §1.6)",
    "cache_creation_tokens": "cache write tokens (5m and 1h)",
    "cache_read_tokens": "cache read tokens",
    "total_tokens": "input + output + cache_creation + cache_read",
}
COST = {"cost_usd": "our cost in USD from token kinds and model prices; unpriced requests add nothing (see unpriced_requests)"}
OUTCOME = {
    "kept_tokens": "tokens of requests classified kept",
    "looping_tokens": "tokens of requests inside a loop",
    "discarded_tokens": "tokens of work thrown away (reverted, interrupted, rejected)",
    "idle_tokens": "tokens of unattended burn",
    "overhead_tokens": "tokens of Claude Code's own agents: prompt suggestions, compaction, warm-ups (never kept)",
    "useful_output_ratio": "kept_tokens / total_tokens",
}
RATIO = {"useful_output_ratio": OUTCOME["useful_output_ratio"]}
WASTE = {"waste_tokens": "looping + discarded + idle tokens"}
COST_RATIO = {"useful_cost_ratio": "kept cost / cost (the cost-weighted useful_output_ratio)"}
UNPRICED = {"unpriced_requests": "requests whose model has no price (their cost is unknown, not zero)"}
OVERHEAD = {"overhead_tokens": OUTCOME["overhead_tokens"],
            "overhead_cost_usd": "cost of Claude Code's own agents (prompt suggestions, compaction, warm-ups)"}


@dataclass(frozen=True)
class Report:
    """One report: its query, a one-line description and every column documented, in order."""

    name: str
    description: str
    columns: dict[str, str]
    query: Query


def _sql_report(name: str, con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """Run analytics/sql/report_<name>.sql with the filters bound."""
    queries.prepare(con)
    return queries.frame(con, f"report_{name}", (filters or Filters()).params())


REPORTS: dict[str, Report] = {}


def register(report: Report) -> None:
    """Add a report to the registry (name must be new)."""
    if report.name in REPORTS:
        raise ValueError(f"report {report.name!r} is already registered")
    REPORTS[report.name] = report


def _builtin(name: str, description: str, columns: dict[str, str]) -> None:
    register(Report(name, description, columns, partial(_sql_report, name)))


_builtin("daily", "one row per UTC day: tokens, cost and where the tokens went", {
    "day": "UTC calendar day",
    "users": "people with a request that day",
    "sessions": "sessions with a request that day",
    "requests": "API requests (deduplicated)",
    **TOKENS, **COST, **UNPRICED,
    **{k: v for k, v in OUTCOME.items() if k != "useful_output_ratio"},
    "kept_cost_usd": "cost of kept requests",
    "looping_cost_usd": "cost of looping requests",
    "discarded_cost_usd": "cost of discarded requests",
    "idle_cost_usd": "cost of idle requests",
    "overhead_cost_usd": OVERHEAD["overhead_cost_usd"],
    **RATIO, **COST_RATIO,
})
_builtin("users", "one row per person, lowest useful ratio first (never a spend leaderboard)", {
    "user": "the name logs were ingested under",
    "team": "team in the org directory, or (unassigned)",
    "sessions": "sessions with a request in the period",
    "requests": "API requests (deduplicated)",
    **TOKENS, **COST,
    "kept_tokens": OUTCOME["kept_tokens"], **RATIO,
    "flagged_sessions": "sessions with at least one flag in the period",
    **WASTE, **COST_RATIO, **UNPRICED, **OVERHEAD,
})
_builtin("teams", "one row per team, lowest useful ratio first", {
    "team": "team in the org directory, or (unassigned)",
    "users": "people with a request in the period",
    "sessions": "sessions with a request in the period",
    "requests": "API requests (deduplicated)",
    **TOKENS, **COST,
    "kept_tokens": OUTCOME["kept_tokens"], **RATIO,
    "flagged_sessions": "sessions with at least one flag in the period",
    **WASTE, **COST_RATIO, **UNPRICED, **OVERHEAD,
})
_builtin("projects", "one row per project (working directory)", {
    "project": "the agent's working directory (cwd)",
    "users": "people who worked in it",
    "sessions": "sessions with a request in the period",
    "requests": "API requests (deduplicated)",
    **TOKENS, **COST,
    "kept_tokens": OUTCOME["kept_tokens"], **WASTE, **RATIO, **UNPRICED,
})
_builtin("models", "one row per model, with the price data version that priced it", {
    "model": "model id as logged",
    "requests": "API requests (deduplicated)",
    "sessions": "sessions that used the model",
    **TOKENS, **COST,
    "source_cost_usd": "the cost the source itself reported (OpenTelemetry), where it did",
    **UNPRICED, **RATIO,
    "price_version": "which price data priced it (genai-prices version or override file); empty = unpriced",
})
_builtin("plugins", "per component (level=component, a partition of all tokens) and per plugin (level=plugin, a roll-up)", {
    "level": "component (rows add up to the total) or plugin (roll-up of one plugin's components)",
    "component": "builtin:Tool, mcp:server, plugin:name, skill:name, subagent:type, (prompt), (other)",
    "kind": "builtin, mcp, plugin, skill, subagent, prompt, other",
    "plugin": "the plugin behind the component, if any",
    "calls": "tool calls made to the component",
    "errors": "calls whose result was an error",
    "error_rate": "errors / calls",
    "result_bytes": "bytes of tool results the component injected into the context",
    "requests": "requests attributed to it (fractional when shared)",
    "total_tokens": "tokens of the requests attributed to it (all four kinds)",
    **COST,
    "kept_tokens": "attributed tokens of kept requests",
    **RATIO,
})
_builtin("sessions", "one row per session (figures within the period), newest first", {
    "session_id": "the agent's session id",
    "user": "the name logs were ingested under",
    "team": "team in the org directory, or (unassigned)",
    "project": "the working directory most of its requests ran in",
    "source": "claude, codex, gemini, ...",
    "started_at": "first request (UTC)",
    "ended_at": "last request (UTC)",
    "requests": "API requests (deduplicated)",
    "total_tokens": TOKENS["total_tokens"],
    **COST,
    **OUTCOME,
    "flags": "comma-separated flag types raised on the session",
})
_builtin("flags", "every flag with the evidence a manager can check, newest first", {
    "session_id": "the flagged session",
    "user": "the name logs were ingested under",
    "team": "team in the org directory, or (unassigned)",
    "project": "the session's working directory",
    "flag": "loop, discarded_work, idle_burn, zero_output, usage_spike, context_bloat",
    "started_at": "start of the flagged stretch (UTC)",
    "ended_at": "end of the flagged stretch (UTC)",
    "tokens": "tokens involved",
    **COST,
    "evidence": "what to look at: the repeated call, the revert command, the idle stretch (never prompt text)",
})


def _coverage(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    from analytics.coverage import coverage  # issue 3's module; imported late to keep this file's imports light
    return coverage(con, filters)


register(Report("coverage", "per user and day: Claude Code spend the Admin API or OTel reports vs what transcripts explain", {
    "day": "UTC day", "user_name": "directory user (matched by name or email), else the source's identifier",
    "team": "team in the org directory, or (unassigned)",
    "admin_cost_usd": "Admin API estimated cost (cents converted)", "otel_cost_usd": "sum of OTel api_request cost_usd",
    "reported_cost_usd": "Admin API cost, else OTel cost", "explained_cost_usd": "cost of ingested transcript requests",
    "missing_cost_usd": "reported - explained", "cost_coverage": "explained / reported cost",
    "admin_tokens": "Admin API tokens (all four kinds)", "otel_tokens": "OTel api_request tokens",
    "reported_tokens": "Admin API tokens, else OTel tokens", "explained_tokens": "tokens of ingested transcript requests",
    "token_coverage": "explained / reported tokens", "transcript_requests": "transcript requests that day",
    "status": "covered | partial | no detail | no reference",
}, _coverage))


def run_report(con: duckdb.DuckDBPyConnection, name: str, filters: Filters | None = None) -> pl.DataFrame:
    """The rows of one registered report."""
    return REPORTS[name].query(con, filters or Filters())
