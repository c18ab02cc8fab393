"""The metric registry: every column a report or view returns, defined once (name, label, format,
definition). Reports list their columns by name from here; the dashboard's column labels and formats,
`agentledger report --help`, docs/metrics.md's glossary and its test all derive from it.

`python -m analytics.metrics docs/metrics.md` rewrites the generated parts of that file.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

# How a value is shown: the dashboard picks a column type per format; CSV and JSON keep raw values.
# "change" is a relative change in percent (+12.5), "points" a change of a ratio in percentage points.
FORMATS = ("text", "count", "tokens", "usd", "ratio", "time", "day", "bytes", "number", "change", "points", "bool")


@dataclass(frozen=True)
class Metric:
    """One column: its CSV/JSON name, the label people read, how to show it, and what it means."""

    name: str
    label: str
    format: str
    definition: str

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"metric {self.name}: unknown format {self.format!r}")


_ALL = (
    # -- what a row is about -----------------------------------------------------------------------
    Metric("day", "Day (UTC)", "day", "UTC calendar day"),
    Metric("user", "Person", "text", "the name logs were ingested under"),
    Metric("name", "Name", "text", "display name from the org directory (labels only; filters and links use the user name)"),
    Metric("team", "Team", "text", "team in the org directory, or (unassigned)"),
    Metric("project", "Project", "text", "the agent's working directory (cwd); for a session, the one most of its "
           "requests ran in"),
    Metric("source", "Source", "text", "which agent's logs: claude, codex, gemini, otel, admin_api"),
    Metric("model", "Model", "text", "model id as logged"),
    Metric("session_id", "Session", "text", "the agent's session id"),
    Metric("started_at", "Started (UTC)", "time", "first request of the session or start of the flagged stretch (UTC)"),
    Metric("ended_at", "Ended (UTC)", "time", "last request of the session or end of the flagged stretch (UTC)"),
    Metric("price_version", "Price data", "text",
           "which price data priced it (genai-prices version or override file); empty = unpriced"),
    # -- volume --------------------------------------------------------------------------------------
    Metric("users", "People", "count", "people with a request in the row's slice of the period"),
    Metric("active_users", "Active people", "count", "people with at least one request in the period"),
    Metric("sessions", "Sessions", "count", "sessions with a request in the row's slice of the period"),
    Metric("requests", "Requests", "count", "API requests (deduplicated)"),
    Metric("unpriced_requests", "Unpriced requests", "count",
           "requests whose model has no price (their cost is unknown, not zero)"),
    Metric("input_tokens", "Input tokens", "tokens", "uncached input tokens"),
    Metric("output_tokens", "Output tokens", "tokens",
           "output tokens (a lower bound for old transcripts, see formats.md §1.6)"),
    Metric("cache_creation_tokens", "Cache write tokens", "tokens", "cache write tokens (5m and 1h)"),
    Metric("cache_read_tokens", "Cache read tokens", "tokens", "cache read tokens"),
    Metric("total_tokens", "Tokens", "tokens", "input + output + cache_creation + cache_read"),
    Metric("tokens", "Tokens", "tokens", "tokens of the requests involved (all four kinds)"),
    # -- money ---------------------------------------------------------------------------------------
    Metric("cost_usd", "Spend (USD)", "usd", "our cost in USD from token kinds and model prices; unpriced requests "
           "add nothing (see unpriced_requests)"),
    Metric("source_cost_usd", "Source's cost (USD)", "usd",
           "the cost the source itself reported (OpenTelemetry), where it did"),
    Metric("kept_cost_usd", "Kept spend (USD)", "usd", "cost of kept requests"),
    Metric("looping_cost_usd", "Looping spend (USD)", "usd", "cost of looping requests"),
    Metric("discarded_cost_usd", "Discarded spend (USD)", "usd", "cost of discarded requests"),
    Metric("idle_cost_usd", "Idle spend (USD)", "usd", "cost of idle requests"),
    Metric("waste_cost_usd", "Wasted spend (USD)", "usd", "looping + discarded + idle spend (empty when nothing is priced)"),
    Metric("overhead_cost_usd", "Overhead spend (USD)", "usd",
           "cost of Claude Code's own agents (prompt suggestions, compaction, warm-ups)"),
    # -- value ---------------------------------------------------------------------------------------
    Metric("kept_tokens", "Kept tokens", "tokens", "tokens of requests classified kept"),
    Metric("looping_tokens", "Looping tokens", "tokens", "tokens of requests inside a loop"),
    Metric("discarded_tokens", "Discarded tokens", "tokens", "tokens of work thrown away (reverted, interrupted, rejected)"),
    Metric("idle_tokens", "Idle tokens", "tokens", "tokens of unattended burn"),
    Metric("overhead_tokens", "Overhead tokens", "tokens",
           "tokens of Claude Code's own agents: prompt suggestions, compaction, warm-ups (never kept, never waste)"),
    Metric("waste_tokens", "Waste tokens", "tokens", "looping + discarded + idle tokens"),
    Metric("useful_output_ratio", "Useful share of tokens", "ratio",
           "kept_tokens / (total_tokens - overhead_tokens): the kept share of the agents' work, Claude Code's own "
           "overhead left out (the token-weighted useful_cost_ratio)"),
    Metric("useful_cost_ratio", "Useful share of spend", "ratio",
           "kept spend / (spend - overhead spend): the headline ratio (money first); useful_output_ratio weights "
           "by tokens instead"),
    # -- flags ---------------------------------------------------------------------------------------
    Metric("flag", "Flag", "text", "loop, discarded_work, idle_burn, zero_output, usage_spike, context_bloat"),
    Metric("flags", "Flags", "text", "comma-separated flag types raised on the session"),
    Metric("flagged_sessions", "Flagged sessions", "count", "sessions with at least one flag in the period"),
    Metric("evidence", "Evidence", "text",
           "what to look at: the repeated call, the revert command, the idle stretch (never prompt text)"),
    Metric("flag_count", "Flags raised", "count", "flags raised (a session may carry several)"),
    Metric("flagged_cost_usd", "Flagged spend (USD)", "usd",
           "spend of the requests (on days in the period) that the period's flags cover, each request once however "
           "many flags cover it: the union of the flags, never their sum"),
    Metric("flagged_tokens", "Flagged tokens", "tokens",
           "tokens of the requests (on days in the period) that the period's flags cover, each request once "
           "however many flags cover it: the union of the flags, never their sum"),
    Metric("flags_cost_usd", "Sum over flags (USD)", "usd",
           "each flag's own spend added up: a request under two flags counts twice, so this exceeds the flagged "
           "spend wherever flags overlap"),
    Metric("distinct_cost_usd", "Spend, each request once (USD)", "usd",
           "the spend this flag type covers, each request counted once (flags of one type can overlap too)"),
    Metric("shared_cost_usd", "Shared with other flags (USD)", "usd",
           "spend of requests that another flag type covers too"),
    Metric("overlaps_with", "Overlaps with", "text", "the other flag types that cover some of the same requests"),
    Metric("other_flag", "With flag", "text", "the second flag type of an overlapping pair"),
    # -- against the previous period (the equally long period just before) ---------------------------
    Metric("previous_cost_usd", "Spend before (USD)", "usd", "spend in the equally long period just before"),
    Metric("cost_change", "Spend change", "change", "spend against the previous period, relative, in percent"),
    Metric("waste_cost_change", "Wasted spend change", "change",
           "wasted spend against the previous period, relative, in percent"),
    Metric("total_tokens_change", "Tokens change", "change", "tokens against the previous period, relative, in percent"),
    Metric("sessions_change", "Sessions change", "change", "sessions against the previous period, relative, in percent"),
    Metric("users_change", "People change", "change", "active people against the previous period, relative, in percent"),
    Metric("flagged_sessions_change", "Flagged sessions change", "change",
           "flagged sessions against the previous period, relative, in percent"),
    Metric("previous_useful_cost_ratio", "Useful share of spend before", "ratio",
           "useful_cost_ratio in the equally long period just before"),
    Metric("useful_cost_ratio_change", "Useful share change (pts)", "points",
           "useful_cost_ratio against the previous period, in percentage points"),
    Metric("useful_output_ratio_change", "Useful share of tokens change (pts)", "points",
           "useful_output_ratio against the previous period, in percentage points"),
    # -- figures that are not exact ------------------------------------------------------------------
    Metric("estimated_output_requests", "Placeholder output", "count",
           "requests whose output count is a placeholder: the transcript line was written before the answer "
           "finished, so output tokens and spend are a lower bound (formats.md 1.6)"),
    Metric("estimated_output_cost_usd", "Spend with placeholder output (USD)", "usd",
           "spend of the requests with a placeholder output count (a lower bound)"),
    Metric("fallback_model_requests", "Fallback model", "count",
           "Codex requests whose rollout named no model: priced as the fallback model (gpt-5)"),
    Metric("fallback_model_cost_usd", "Spend at fallback model (USD)", "usd",
           "spend of the requests priced with a fallback model"),
    Metric("output_estimated", "Placeholder output", "bool", "the request's output count is a placeholder (a lower bound)"),
    Metric("model_is_fallback", "Fallback model", "bool", "the request's model was not logged; priced as the fallback"),
    # -- people and their data (Data health) ----------------------------------------------------------
    Metric("in_directory", "In org directory", "bool", "the person is in the org directory"),
    Metric("last_request_at", "Newest request (UTC)", "time",
           "the person's newest request from any source (plausible days only): when their data last arrived"),
    Metric("days_silent", "Days silent", "count", "whole UTC days from the newest request to today"),
    Metric("activity", "Activity", "text",
           "active (sessions in the period) | no data in the period | files but no requests | no data at all"),
    Metric("directory_people", "People expected", "count", "people of the org directory in the slice"),
    Metric("absent_people", "People without sessions", "count",
           "people of the org directory in the slice with no session in the period"),
    Metric("absent_sample", "Without sessions", "text", "the first of them, longest silent first"),
    # -- components (plugins report) -----------------------------------------------------------------
    Metric("level", "Level", "text", "component (rows add up to the total) or plugin (roll-up of one plugin's components)"),
    Metric("component", "Component", "text",
           "builtin:Tool, mcp:server, plugin:name, skill:name, subagent:type, harness:name, (prompt), (other)"),
    Metric("kind", "Kind", "text", "builtin, mcp, plugin, skill, subagent, harness (Claude Code's own agents), prompt, other"),
    Metric("plugin", "Plugin", "text", "the plugin behind the component, if any"),
    Metric("calls", "Calls", "count", "tool calls made to the component"),
    Metric("errors", "Errors", "count", "calls whose result was an error"),
    Metric("error_rate", "Error rate", "ratio", "errors / calls"),
    Metric("result_bytes", "Result bytes injected", "bytes", "bytes of tool results the component injected into the context"),
    # -- coverage (reported spend vs ingested detail) -----------------------------------------------
    Metric("admin_cost_usd", "Admin API (USD)", "usd", "Admin API estimated cost (cents converted)"),
    Metric("otel_cost_usd", "OTel (USD)", "usd", "sum of OTel api_request cost_usd"),
    Metric("reported_cost_usd", "Reported (USD)", "usd", "Admin API cost, else OTel cost"),
    Metric("explained_cost_usd", "Explained (USD)", "usd", "cost of ingested transcript requests"),
    Metric("missing_cost_usd", "Unexplained (USD)", "usd", "reported - explained"),
    Metric("cost_coverage", "Cost coverage", "ratio", "explained / reported cost"),
    Metric("admin_tokens", "Admin API tokens", "tokens", "Admin API tokens (all four kinds)"),
    Metric("otel_tokens", "OTel tokens", "tokens", "OTel api_request tokens"),
    Metric("reported_tokens", "Reported tokens", "tokens", "Admin API tokens, else OTel tokens"),
    Metric("explained_tokens", "Explained tokens", "tokens", "tokens of ingested transcript requests"),
    Metric("token_coverage", "Token coverage", "ratio", "explained / reported tokens"),
    Metric("transcript_requests", "Transcript requests", "count", "transcript requests that day"),
    Metric("status", "Status", "text", "covered | partial | no detail | no reference"),
    Metric("gap_days", "Person-days not explained", "count",
           "person-days whose reported spend the transcripts explain only in part or not at all (partial, no detail)"),
    # -- outcomes in git (docs/metrics.md "Outcomes in git") -----------------------------------------
    Metric("lines_written", "Lines written", "count", "agent-written non-blank lines (successful edits; within the "
           "repository root when the session maps to one)"),
    Metric("lines_committed", "Lines committed", "count", "of those, lines found in a commit linked to the session"),
    Metric("lines_landed", "Lines landed", "count", "of those, lines in a commit on the default branch"),
    Metric("lines_due_30d", "Lines 30 days old", "count",
           "landed lines whose commit is 30 days older than the newest scanned history"),
    Metric("lines_alive_30d", "Lines alive at 30 days", "count",
           "landed lines still there 30 days after their commit (git blame, no -w/-M/-C)"),
    Metric("landed_commits", "Landed commits", "count", "linked commits on the default branch"),
    Metric("cost_per_landed_line", "Cost per landed line (USD)", "usd",
           "cost_usd / lines_landed: every session's cost, those with no landed line included"),
    Metric("cost_per_alive_30d_line", "Cost per line alive at 30 days (USD)", "usd",
           "cost of the sessions that are 30 days old (by the newest scanned history) / their lines alive at 30 days"),
    Metric("cost_per_landed_commit", "Cost per landed commit (USD)", "usd", "cost_usd / landed_commits"),
    Metric("unlinked_cost_usd", "Spend linked to no commit (USD)", "usd", "cost of sessions linked to no commit"),
    Metric("repository", "Repository", "text", "the scanned repository's folder name"),
    Metric("sha", "Commit", "text", "the commit counted (the landed copy of a rebased one)"),
    Metric("committed_at", "Committed (UTC)", "time", "committer date (UTC)"),
    Metric("subject", "Subject", "text", "first line of the commit message (secrets scrubbed)"),
    Metric("agent", "Agent", "text", "the coding agent a Co-Authored-By trailer or a Generated-with line names"),
    Metric("landed", "Landed", "text", "on the default branch (true/false)"),
    Metric("session_ids", "Sessions", "text", "linked session ids, comma-separated (empty: an agent commit without logs)"),
    Metric("printed_sha", "Printed sha", "text", "the sha(s) the sessions printed (empty for a line-overlap link)"),
    Metric("signal", "Link signal", "count", "1 printed sha, 2 rebased/amended/squashed copy of a printed sha, 3 line overlap"),
    Metric("confidence", "Confidence", "ratio", "how sure the link is, 0-1"),
    Metric("lines_added", "Lines added", "count", "added lines (first-parent diff, no renames)"),
    Metric("lines_removed", "Lines removed", "count", "removed lines (first-parent diff, no renames)"),
    Metric("agent_lines", "Agent lines", "count", "added non-blank lines that a linked session wrote"),
    Metric("alive_7d", "Alive at 7 days", "count", "agent lines still there 7 days later (empty: not due yet)"),
    Metric("alive_30d", "Alive at 30 days", "count", "agent lines still there 30 days later (empty: not due yet)"),
    Metric("alive_head", "Alive at head", "count", "agent lines still there at the head of the default branch"),
    Metric("lines_alive_head", "Lines alive at head", "count",
           "landed agent lines still there at the head of the default branch (git blame, no -w/-M/-C)"),
    Metric("landed_cost_usd", "Spend that landed (USD)", "usd",
           "cost of requests (overhead aside) in turns whose edits put at least one line on a default branch"),
    Metric("landed_cost_share", "Landed share of spend", "ratio",
           "landed_cost_usd / (cost_usd - overhead): every request of work in the denominator, those that "
           "produced nothing included"),
    Metric("surviving_cost_usd", "Spend that survives (USD)", "usd",
           "cost of requests (overhead aside) in turns with a landed line still there at the head"),
    Metric("surviving_cost_share", "Surviving share of spend", "ratio",
           "surviving_cost_usd / (cost_usd - overhead)"),
    Metric("repositories", "Repositories", "count", "repositories scanned (agentledger git scan)"),
    Metric("last_scan_at", "Last scan (UTC)", "time", "when a scan last found a repository changed"),
    Metric("sessions_with_edits", "Sessions with edits", "count", "sessions with at least one successful file edit"),
    Metric("unmapped_sessions", "Unmapped sessions", "count",
           "sessions with edits that no commit, mapping file or path match places in a scanned repository"),
    Metric("unmapped_cost_usd", "Unmapped spend (USD)", "usd", "cost of the unmapped sessions"),
    Metric("unmapped_cost_share", "Unmapped share of spend", "ratio",
           "unmapped_cost_usd / cost of the sessions with edits"),
    Metric("printed_not_found", "Printed commits not found", "count",
           "commits sessions printed that are in no scanned repository (a repository to add to the scan?)"),
    Metric("agent_commits_without_logs", "Agent commits, no logs", "count",
           "landed commits naming a coding agent that no session in the ledger explains"),
    Metric("age_days", "Age (days)", "count", "days since the commit landed: 0, 7 or 30"),
    Metric("lines_due", "Lines of that age", "count",
           "landed agent lines whose repository's history reaches this far past their commit"),
    Metric("lines_alive", "Lines alive", "count", "of those, lines still there at that age (git blame)"),
    Metric("alive_share", "Share alive", "ratio", "lines_alive / lines_due"),
    Metric("origin", "Origin", "text",
           "built-in (the agent's own tools, the prompt, its own overhead agents) or integration (MCP servers, plugins, "
           "skills, subagents)"),
    Metric("turn_no", "Turn", "count", "the human turn (prompt) a request answers; 0 before the first"),
    Metric("git_outcome", "In git", "text", "landed (a line on the default branch), committed (in a commit, none "
           "landed), uncommitted (edits, nothing committed), no edits"),
)

METRICS: dict[str, Metric] = {m.name: m for m in _ALL}
if len(METRICS) != len(_ALL):
    raise ValueError("a metric name is registered twice")


def metric(name: str) -> Metric:
    """The registered metric of a column name (KeyError names the unregistered column)."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"column {name!r} is not in analytics.metrics.METRICS") from None


# -- docs/metrics.md: its generated parts ------------------------------------------------------------

GLOSSARY_MARK = "metrics glossary"
REPORTS_MARK = "report columns"


def glossary_markdown() -> str:
    """The table of every metric: name, label, definition."""
    rows = ["| column | label | format | definition |", "|---|---|---|---|"]
    rows += [f"| `{m.name}` | {m.label} | {m.format} | {m.definition} |" for m in _ALL]
    return "\n".join(rows)


def reports_markdown() -> str:
    """One bullet per report: its description and its columns in order, with report-specific meanings."""
    from analytics.reports import REPORTS  # the registry of reports builds on this module

    lines = []
    for report in REPORTS.values():
        notes = "".join(f" `{name}` here: {text}." for name, text in report.notes.items())
        lines.append(f"- **{report.name}**: {report.description}. Columns: {', '.join(report.names)}.{notes}")
    return "\n".join(lines)


def _block(mark: str, body: str) -> str:
    return f"<!-- begin {mark} (generated: python -m analytics.metrics docs/metrics.md) -->\n{body}\n<!-- end {mark} -->"


def generated_blocks() -> dict[str, str]:
    """{marker: the block docs/metrics.md must hold verbatim}."""
    return {GLOSSARY_MARK: _block(GLOSSARY_MARK, glossary_markdown()), REPORTS_MARK: _block(REPORTS_MARK, reports_markdown())}


def rewrite(text: str) -> str:
    """`text` with each generated block replaced by its current content."""
    for mark, block in generated_blocks().items():
        pattern = re.compile(rf"<!-- begin {re.escape(mark)} .*?<!-- end {re.escape(mark)} -->", re.S)
        if not pattern.search(text):
            raise ValueError(f"no generated block {mark!r} in the document")
        text = pattern.sub(lambda _: block, text)
    return text


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated blocks of the markdown file named on the command line."""
    (path,) = argv if argv is not None else sys.argv[1:]
    doc = Path(path)
    doc.write_text(rewrite(doc.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
