"""Every record a parser can produce, typed, with the ledger table it lands in and how it merges there.

One msgspec Struct per ledger table. Field names are the table's column names and defaults are the
column defaults (tests/test_ingest_records.py holds them to the migrations), so a record turns into
a column of a frame by name, with no per-source mapping. Structs are about twice as cheap to build
as the dict literals they replace, and `columns()` turns a list of them into a Polars frame at the
speed the dicts had. `gc=False`: records hold only scalars, so the garbage collector never needs
to walk millions of them.

Merge policy, one per table (the writer implements each once, see ingest/writer.py):
- first_wins: a key already in the ledger is kept; incoming copies are dropped (facts that never change).
- last_wins: an incoming row replaces the stored one, except the `keep` columns (re-reported data).
- combine: the agents rule: missing details are filled in, is_warmup is sticky.
- requests: the duplicate-resolution rule of ingest/batch.py (same as ccusage).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar, Union, get_args, get_origin, get_type_hints

import msgspec
from msgspec.structs import astuple

if TYPE_CHECKING:
    import polars as pl


class Record(msgspec.Struct, kw_only=True, gc=False):
    """Base of every ledger record; `TABLE` names the table it is written to."""

    TABLE: ClassVar[str] = ""


class Request(Record):
    """One billable API request (table requests), deduplicated globally."""

    TABLE: ClassVar[str] = "requests"

    request_key: str
    source: str
    ts: dt.datetime
    message_id: str | None = None
    request_id: str | None = None
    user_name: str | None = None
    session_id: str | None = None
    agent_id: str | None = None
    is_sidechain: bool = False
    subagent_type: str | None = None
    project: str | None = None
    git_branch: str | None = None
    agent_version: str | None = None
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_creation_5m_tokens: int | None = None
    cache_creation_1h_tokens: int | None = None
    cache_read_tokens: int = 0
    reasoning_tokens: int | None = None
    output_estimated: bool = False
    stop_reason: str | None = None
    speed: str | None = None
    service_tier: str | None = None
    web_search_requests: int | None = None
    web_fetch_requests: int | None = None
    attribution_plugin: str | None = None
    attribution_skill: str | None = None
    attribution_agent: str | None = None
    uuid: str | None = None
    parent_uuid: str | None = None
    prompt_id: str | None = None
    source_cost_usd: float | None = None
    model_is_fallback: bool = False
    file_path: str | None = None
    line_no: int | None = None

    def total(self) -> int:
        """All four token kinds: the size by which duplicate lines of one response are compared."""
        return self.input_tokens + self.output_tokens + self.cache_creation_tokens + self.cache_read_tokens


class ToolCall(Record):
    """One tool_use block (table tool_calls)."""

    TABLE: ClassVar[str] = "tool_calls"

    tool_use_id: str
    source: str
    ts: dt.datetime
    tool_name: str
    component: str
    component_kind: str
    request_key: str | None = None
    message_id: str | None = None
    user_name: str | None = None
    session_id: str | None = None
    agent_id: str | None = None
    is_sidechain: bool = False
    plugin: str | None = None
    input_hash: str | None = None
    input_bytes: int | None = None
    file_path: str | None = None
    command: str | None = None
    lines_added: int | None = None
    lines_removed: int | None = None
    edit_before_hash: str | None = None
    edit_after_hash: str | None = None
    subagent_type: str | None = None
    skill_name: str | None = None


class ToolCallLink(Record):
    """A tool call loaded earlier learns the request that issued it (Codex: the token_count that
    counts a call can come in a later read than the call). Only fills a NULL request_key."""

    TABLE: ClassVar[str] = "tool_calls"

    tool_use_id: str
    request_key: str


class ToolResult(Record):
    """One tool_result block (table tool_results)."""

    TABLE: ClassVar[str] = "tool_results"

    tool_use_id: str
    source: str
    ts: dt.datetime | None = None
    session_id: str | None = None
    is_error: bool = False
    interrupted: bool = False
    result_bytes: int = 0
    result_hash: str | None = None
    spawned_agent_id: str | None = None
    # Why an error result failed: cancelled | rejected | denied | error (ingest/claude/signals.py).
    result_kind: str | None = None


class SessionEvent(Record):
    """A human turn or a session milestone (table session_events)."""

    TABLE: ClassVar[str] = "session_events"

    event_key: str
    source: str
    ts: dt.datetime
    kind: str
    user_name: str | None = None
    session_id: str | None = None
    agent_id: str | None = None
    is_sidechain: bool = False
    prompt_length: int | None = None
    prompt_hash: str | None = None
    slash_command: str | None = None
    detail: str | None = None
    prompt_text: str | None = None
    project: str | None = None
    # A human prompt's parentUuid: a prompt re-using an earlier prompt's parent is a checkpoint rewind.
    parent_uuid: str | None = None


class Agent(Record):
    """A subagent thread (table agents)."""

    TABLE: ClassVar[str] = "agents"

    agent_id: str
    source: str
    session_id: str | None = None
    subagent_type: str | None = None
    is_warmup: bool = False


class Reject(Record):
    """A quarantined line (line_no >= 1) or file (line_no 0) with its reason (table rejects).
    The line itself is kept only as a hash and a length, unless prompts are opted in."""

    TABLE: ClassVar[str] = "rejects"

    path: str
    byte_offset: int
    line_no: int
    reason: str
    head: str | None = None
    line_hash: str | None = None
    line_bytes: int | None = None


class OtelRequest(Record):
    """An OTel api_request event as reported (table otel_requests)."""

    TABLE: ClassVar[str] = "otel_requests"

    event_key: str
    ts: dt.datetime
    request_id: str | None = None
    user_name: str | None = None
    email: str | None = None
    account_uuid: str | None = None
    organization_id: str | None = None
    session_id: str | None = None
    prompt_id: str | None = None
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    cost_usd: float | None = None
    duration_ms: int | None = None
    query_source: str | None = None
    speed: str | None = None
    effort: str | None = None
    agent_name: str | None = None
    skill_name: str | None = None
    plugin_name: str | None = None
    mcp_server_name: str | None = None
    agent_version: str | None = None
    terminal_type: str | None = None
    team: str | None = None
    cost_center: str | None = None
    file_path: str | None = None
    line_no: int | None = None


class ToolDecision(Record):
    """An accept/reject decision on tool use (table tool_decisions)."""

    TABLE: ClassVar[str] = "tool_decisions"

    decision_key: str
    source: str
    ts: dt.datetime
    user_name: str | None = None
    session_id: str | None = None
    tool_use_id: str | None = None
    tool_name: str | None = None
    decision: str | None = None
    decision_source: str | None = None
    tool_source: str | None = None


class OtelMetricPoint(Record):
    """One OTel metric data point (table otel_metric_points)."""

    TABLE: ClassVar[str] = "otel_metric_points"

    point_key: str
    metric: str
    temporality: str
    series_key: str
    ts: dt.datetime
    value: float
    start_ts: dt.datetime | None = None
    user_name: str | None = None
    session_id: str | None = None
    model: str | None = None
    type: str | None = None
    tool_name: str | None = None
    decision: str | None = None
    language: str | None = None
    attributes: str | None = None
    file_path: str | None = None


class AdminUsageDay(Record):
    """One actor x day x remote/local x terminal of the Admin API report (table admin_usage_daily)."""

    TABLE: ClassVar[str] = "admin_usage_daily"

    day: dt.date
    actor: str
    is_remote: bool
    terminal_type: str
    actor_type: str | None = None
    user_name: str | None = None
    organization_id: str | None = None
    customer_type: str | None = None
    subscription_type: str | None = None
    num_sessions: int | None = None
    lines_added: int | None = None
    lines_removed: int | None = None
    commits: int | None = None
    pull_requests: int | None = None
    tools_accepted: int | None = None
    tools_rejected: int | None = None
    tool_actions: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None
    cost_usd: float | None = None
    file_path: str | None = None


class AdminUsageModel(Record):
    """One model's share of an Admin API report row (table admin_usage_models)."""

    TABLE: ClassVar[str] = "admin_usage_models"

    day: dt.date
    actor: str
    is_remote: bool
    terminal_type: str
    model: str
    user_name: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None
    cost_usd: float | None = None
    currency: str | None = None


class ManifestEntry(Record):
    """What a file looked like when it was last read, and how far (table source_files)."""

    TABLE: ClassVar[str] = "source_files"

    path: str
    source: str
    size: int
    mtime_ns: int
    head_hash: str
    offset_loaded: int
    lines_loaded: int
    user_name: str | None = None
    parser_state: str | None = None
    first_run_id: int | None = None
    last_seen_at: dt.datetime | None = None
    missing: bool = False
    host_id: str | None = None           # a shipped batch: the hashed id of the machine that shipped it


class EditLine(Record):
    """A line a successful file edit added, as the hash of its normalised text (table edit_lines):
    what git outcomes match commits against. Never the line itself."""

    TABLE: ClassVar[str] = "edit_lines"

    tool_use_id: str
    source: str
    file_path: str
    line_hash: str
    lines: int = 1                       # times the edit added this line to this file
    session_id: str | None = None


class CommitEvidence(Record):
    """What a shell command printed about a commit, a push or a pull request, or the HEAD a Codex
    session started on (table commit_evidence): the evidence sessions are linked to git by."""

    TABLE: ClassVar[str] = "commit_evidence"

    evidence_key: str
    source: str
    kind: str                            # commit | push | pr | session_head | ghost_snapshot
    tool_use_id: str | None = None
    session_id: str | None = None
    ts: dt.datetime | None = None
    sha: str | None = None
    branch: str | None = None
    subject: str | None = None
    detail: str | None = None
    dir: str | None = None


class FileRead(msgspec.Struct, kw_only=True, gc=False):
    """What reading one file (or one block of a large file) came to: its status for the run
    summary, and the file's new cursor, committed with its records."""

    path: str
    status: str                          # new | changed | unrecognised | failed | skipped
    reason: str | None = None
    manifest: ManifestEntry | None = None
    more: bool = False                   # a large file read up to a block boundary: read on from the cursor


@dataclass(frozen=True)
class TablePolicy:
    """How the rows of one table merge with what the ledger holds."""

    table: str
    record: type[Record]
    key: tuple[str, ...]
    policy: str                          # first_wins | last_wins | combine | requests
    keep: tuple[str, ...] = ()           # last_wins: columns an update leaves as they are
    scrubbed: tuple[str, ...] = ()       # free-text columns that pass through ingest/secrets.py


# Every table ingest writes, in the order the writer writes them (requests first: the OTel
# reconcile step after them reads what they became).
TABLES: dict[str, TablePolicy] = {
    p.table: p for p in (
        TablePolicy("requests", Request, ("request_key",), "requests"),
        TablePolicy("tool_calls", ToolCall, ("tool_use_id",), "first_wins", scrubbed=("command",)),
        TablePolicy("tool_results", ToolResult, ("tool_use_id",), "first_wins"),
        TablePolicy("session_events", SessionEvent, ("event_key",), "first_wins", scrubbed=("detail", "prompt_text")),
        TablePolicy("agents", Agent, ("agent_id",), "combine"),
        TablePolicy("rejects", Reject, ("path", "byte_offset"), "first_wins", scrubbed=("head",)),
        TablePolicy("otel_requests", OtelRequest, ("event_key",), "last_wins"),
        TablePolicy("tool_decisions", ToolDecision, ("decision_key",), "last_wins"),
        TablePolicy("otel_metric_points", OtelMetricPoint, ("point_key",), "last_wins", scrubbed=("attributes",)),
        TablePolicy("admin_usage_daily", AdminUsageDay, ("day", "actor", "is_remote", "terminal_type"), "last_wins"),
        TablePolicy("admin_usage_models", AdminUsageModel, ("day", "actor", "is_remote", "terminal_type", "model"),
                    "last_wins"),
        TablePolicy("edit_lines", EditLine, ("tool_use_id", "file_path", "line_hash"), "first_wins"),
        # A subject and a push/PR/repository URL are free text: `git commit -m "token=..."` happens.
        # git_commits.subject is scrubbed the same way (ingest/git/scan.py), so the two still match.
        TablePolicy("commit_evidence", CommitEvidence, ("evidence_key",), "first_wins", scrubbed=("subject", "detail")),
        TablePolicy("source_files", ManifestEntry, ("path",), "last_wins", keep=("first_run_id",)),
    )
}
# Tables a parser fills through RecordBatch.add (requests and the manifest have their own paths).
ROW_TABLES = tuple(t for t in TABLES if t not in ("requests", "source_files"))

def _polars_type(hint) -> "pl.DataType":
    import polars as pl

    if get_origin(hint) is Union or type(hint).__name__ == "UnionType":
        hint = next(arg for arg in get_args(hint) if arg is not type(None))
    return {str: pl.String, int: pl.Int64, float: pl.Float64, bool: pl.Boolean,
            dt.datetime: pl.Datetime("us"), dt.date: pl.Date}[hint]


@lru_cache(maxsize=None)
def frame_schema(record: type[Record]) -> dict[str, "pl.DataType"]:
    """The Polars schema of a record type, from its annotations: the column types the frames carry.
    (Polars is imported on first use: a run that loads nothing never needs it.)"""
    hints = get_type_hints(record)
    return {name: _polars_type(hints[name]) for name in record.__struct_fields__}


def columns(record: type[Record], records: list) -> "pl.DataFrame":
    """Records of one type as a frame with one column per field.

    Each record is turned into a tuple once and the tuples are transposed in C: reading the records
    field by field instead (one pass over all of them per column) missed the CPU cache on every
    record of every pass. The frame is put together from typed Series: a dict with a schema costs
    about 10 us a column more in Polars, paid for every table of every 4 MB chunk."""
    import polars as pl

    schema = frame_schema(record)
    if not records:
        return pl.DataFrame(schema=schema)
    values = zip(*map(astuple, records))
    return pl.DataFrame([pl.Series(name, list(column), dtype=schema[name], strict=False)
                         for name, column in zip(record.__struct_fields__, values)])
