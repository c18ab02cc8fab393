"""Keep the derived tables (prices, per-request cost and outcome, attribution, rollups, flags) in step
with the ledger, in bounded chunks. agentledger/pipeline.py refreshes after every run that loaded
something; `agentledger refresh` does it on demand.

A refresh (docs/architecture.md "Refresh"):
- plans in one short write window: prices resolved and written, and the sessions to derive queued in
  `derive_queue`: those with rows of runs since the last refresh ('new'), or every session when the
  prices, the thresholds or the derivation SQL changed ('prices', 'settings'), or on `--full`;
- derives the queue chunk by chunk, person by person, each chunk of at most `derive_chunk_rows`
  rows, into TEMP copies of the derived tables, under DuckDB's memory_limit (it spills beyond it):
  a small chunk (`held_chunk_rows`, what a scheduled run finds new) on the writer's connection in
  one write window (a read connection costs a checkpoint to let the file go and a cold cache), a
  large one on a read connection between windows (readers go on meanwhile); one short window
  replaces the chunk's rows and takes it off the queue, so a refresh killed anywhere loses at most
  one chunk and the next run goes on from the queue, and a reader never waits for a large chunk's
  derivation;
- then derives the links to git (GIT_PHASE) once, in the last chunk's window (the plan's when
  nothing is queued), for the sessions with rows since they were last derived
  (derived_state.git_run_id; all of them after a change of prices or thresholds) and whatever a
  `git scan` changed, under the same memory_limit: they read the derived request_facts;
- within a budget: a scheduled run derives everything new and advances a pending re-derive for at
  most `rederive_seconds_per_run`; `agentledger refresh` finishes it. Meanwhile `pending` says whose
  figures still use the previous prices or thresholds, and `report` prints it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterator

import duckdb
import polars as pl
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from analytics import queries
from analytics.commands import COMMIT_PATTERN, REVERT_CANDIDATE_PATTERN, classify
from analytics.config import AnalyticsSettings, settings
from analytics.pricing import PriceRow, load_price_file, resolve
from store.db import checkpoint, log_bytes, memory_limited
from store.key_hashes import key_hash_sql
from store.ledger import HeldLedger, Ledger
from store.sql import run_sql, transaction


class RefreshSettings(BaseSettings):
    """How much a refresh does at once (operational: changing these never re-derives anything)."""

    model_config = SettingsConfigDict(env_prefix="AGENTLEDGER_", extra="ignore", frozen=True)

    derive_chunk_rows: int = Field(
        200_000, gt=0, description="Rows (requests + tool calls) derived per chunk, each chunk committed in "
        "one short write window: memory and the length of a window follow the chunk, not the ledger. Every "
        "chunk also pays a fixed part that follows the ledger (a checkpoint of the log of commits, "
        "scans of the fact tables): on an 80x180 org's `refresh --full`, 7 chunks of "
        "200,000 rows took 20% less CPU than 14 of 100,000, at 918 MB peak RSS instead of 852-887."
    )
    rederive_seconds_per_run: float = Field(
        30.0, ge=0, description="How long a scheduled ingest spends on a pending full re-derive (after a "
        "price, threshold or upgrade change) once what is new is derived; `agentledger refresh` finishes it."
    )
    held_chunk_rows: int = Field(
        25_000, ge=0, description="A chunk of at most this many rows is derived on the writer's "
        "connection, in its write window (a read connection costs a checkpoint to let the file go and a "
        "cold cache: on an 80x180 org a one-session run's refresh took ~30% less CPU without them); a "
        "larger one on a read connection between windows, so a reader never waits for more than a "
        "small chunk's derivation (~20 us a row: 25,000 rows ~0.5 s) or a large chunk's short write."
    )
    refresh_memory_mb: int = Field(
        512, ge=64, description="DuckDB's memory_limit while a chunk is derived and written, and while the "
        "links to git are derived: it spills to "
        "disk beyond this rather than take the machine's memory (with the chunk's rows in hand, a "
        "refresh stays under 1 GB)."
    )
    derive_chunks_at_once: int = Field(
        2, ge=1, le=2, description="Large chunks derived side by side on the read connection, each on its "
        "own cursor and thread (DuckDB works outside Python's lock): a chunk's statements use one core "
        "(refresh_threads), so a second chunk uses the machine's other one, idle once the parse workers "
        "are done. Each of the two takes half of derive_chunk_rows, so together they hold what one chunk "
        "would. Two chunks go together only when they share no person (usage_spike reads a person's other "
        "days as stored); they share the refresh's memory_limit, and each is written in its own "
        "transaction, in order. On an idle 2-core machine, `refresh --full` of an 80x180 org took 24.5 s "
        "where one at a time took 28.3-30.4 s, ~10% more CPU, and peaked lower (852-868 against 887-889 "
        "MB); on a machine whose cores are busy (load 7-14 on 2 cores) two at once were slower: set 1 there."
    )
    refresh_threads: int = Field(
        1, gt=0, description="DuckDB's threads while the refresh plans and while a chunk is derived and "
        "written. A chunk's statements each read some ten thousand rows: a second thread costs more in "
        "hand-offs than it saves (on 2 cores, a cold refresh of 0.5 GB of logs took 4.8 s of CPU with two "
        "and 3.6 s with one, and no longer). The derived values do not depend on it."
    )


@lru_cache(maxsize=1)
def refresh_settings() -> RefreshSettings:
    """The process-wide refresh settings (read once from the environment)."""
    return RefreshSettings()


@dataclass(frozen=True)
class Step:
    """One refresh step, run in order: analytics/sql/<name>.sql, or `run` for the steps done in
    Python. It declares the tables it reads and writes (created, filled or emptied); tables named
    with a leading underscore are this refresh's TEMP tables. tests/test_analytics_refresh_steps.py
    checks each declaration against its SQL, and that every TEMP table is written before it is read."""

    name: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    run: Callable[[duckdb.DuckDBPyConnection, dict[str, Any]], None] | None = None
    # DuckDB hands a join's keys to the scan of its other side as a filter (join_filter_pushdown).
    # Off for the steps that look the chunk's calls' results up by tool_use_id: over random ids, in
    # a scan the span already bounds, that filter cost ~10 ms of CPU a statement on an 80x180
    # org (2 ms on 10x30), and saved nothing. The values do not depend on it.
    join_filters: bool = True

    @property
    def sql(self) -> bool:
        return self.run is None


DERIVED = ("request_facts", "request_components", "session_day_facts", "component_day_facts", "flags", "flag_requests")

# A chunk of at most this many sessions is selected by a list the table scans filter on (only the
# chunk's rows are read whole); a larger one by a join (the list would be searched row by row).
LIST_FILTER_MAX = 256


# The row ids between which each fact table holds the chunk's rows, each found by the very rows the
# steps select (tool_results: the results of the chunk's calls). Ingest appends a file's rows
# together, folder after folder, so a person's rows, and what is new, lie close together: with
# `in_span` beside the chunk's filter, a scan skips the row groups outside the span by their zone maps
# and reads what the chunk holds, not the whole table. The span is exact, so no row is left out.
# Each scans a whole column once, so the chunk's sessions are joined (DuckDB hands the join's keys
# to the scan), not looked up in in_touched's list row by row: on an 80x180 org 0.8 ms against 1.9 ms
# a table for a one-session chunk, 1.4-2.9 ms against 8.7-10 ms for 190 sessions. The rows are
# the same: in_touched(sid) holds exactly for the session ids in _touched.
# tool_results' span: the rows whose tool_use_hash (migration 014) is one of the chunk's calls' hashes,
# a scan of one integer column (a call stored without its hash gets its id's hash computed here; a
# result stored without one lies within the span). Equal ids have equal hashes, so no result of the
# chunk's calls is left out; a hash shared by another call's id (1 in 2^64) could only widen the
# span, and the steps still select by tool_use_id. On an 80x180 org, each chunk on a read connection
# of its own: 21-25 ms, where finding it among the rows of the chunk's sessions first (and then
# checking every call had its result there) took 92-95 ms, and the ids looked up over the whole
# table, more; the result's hash compared through coalesce() read the ids too (65 ms).
_OF_THE_CHUNK = "coalesce(session_id, '(none)') IN (SELECT session_id FROM _touched)"
_USE_HASH = f"coalesce(tool_use_hash, {key_hash_sql('tool_use_id')})"
SPANS = {
    "requests": f"SELECT [min(rowid), max(rowid)] FROM requests WHERE {_OF_THE_CHUNK}",
    "tool_calls": f"SELECT [min(rowid), max(rowid)] FROM tool_calls WHERE {_OF_THE_CHUNK}",
    "session_events": f"SELECT [min(rowid), max(rowid)] FROM session_events WHERE {_OF_THE_CHUNK}",
    "tool_results": "SELECT [min(rowid), max(rowid)] FROM tool_results WHERE tool_use_hash IN ("
                    f"SELECT {_USE_HASH} FROM tool_calls"
                    " WHERE in_span('tool_calls', rowid) AND in_touched(coalesce(session_id, '(none)')))"
                    " OR tool_use_hash IS NULL",
}


def _touched_filter(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> None:
    """in_touched(sid): whether a row belongs to this chunk, in the form that reads least; and the
    chunk's span of each fact table (SPANS), which in_span (macros.sql) reads."""
    sessions = run_sql(con, "SELECT count(*) FROM _touched")[0][0]
    run_sql(con, "SET VARIABLE agentledger_touched = (SELECT coalesce(list(session_id), []) FROM _touched)")
    if sessions <= LIST_FILTER_MAX:
        run_sql(con, "CREATE OR REPLACE TEMP MACRO in_touched(sid) AS list_contains(getvariable('agentledger_touched'), sid)")
    else:
        run_sql(con, "CREATE OR REPLACE TEMP MACRO in_touched(sid) AS sid IN (SELECT session_id FROM _touched)")
    for table, span in SPANS.items():
        run_sql(con, f"SET VARIABLE agentledger_span_{table} = ({span})")


# The ledger's own derived tables a step reads after the TEMP copies hide them, each through a TEMP
# view named _stored_<table> (derive_spikes.sql: the stored requests of a spike's other sessions).
STORED_VIEWS = tuple(f"_stored_{table}" for table in ("request_facts", "session_day_facts"))


def _shadow_derived(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> None:
    """From here on the derived tables are empty TEMP copies (they hide the ledger's): the steps
    below fill them with the chunk's rows, which the refresh then writes in one short window. The
    ledger's rows stay readable through STORED_VIEWS, named by the ledger's own catalog and schema
    (the names an unqualified table resolves to but for the TEMP copies)."""
    catalog, schema = run_sql(con, "SELECT current_database(), current_schema()")[0]
    where = f"{_quoted(catalog)}.{_quoted(schema)}"
    for view in STORED_VIEWS:
        run_sql(con, f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {where}.{view.removeprefix('_stored_')}")
    for table in DERIVED:
        run_sql(con, f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {table} LIMIT 0")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _load_reverts(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> None:
    """Parse the few shell commands that may throw work away into _reverts/_revert_paths."""
    candidates = con.execute(
        "SELECT tool_use_id, sid, ts, command FROM _calls WHERE command IS NOT NULL AND regexp_matches(command, ?)",
        [REVERT_CANDIDATE_PATTERN],
    ).fetchall()
    reverts, paths = [], []
    parsed: dict[str, list] = {}   # a command repeats across calls (git status, rm -rf build): parsed once
    for tool_use_id, sid, ts, command in candidates:
        if command not in parsed:
            parsed[command] = classify(command)
        for i, revert in enumerate(parsed[command]):
            revert_id = f"{tool_use_id}#{i}"
            reverts.append({"tool_use_id": revert_id, "sid": sid, "ts": ts, "scope": revert.scope, "command": command})
            paths.extend({"tool_use_id": revert_id, "path": p} for p in revert.paths)
    reverts_frame = pl.DataFrame(reverts, schema={"tool_use_id": pl.String, "sid": pl.String, "ts": pl.Datetime("us"),
                                                   "scope": pl.String, "command": pl.String})
    paths_frame = pl.DataFrame(paths, schema={"tool_use_id": pl.String, "path": pl.String})
    for name, frame in (("_reverts", reverts_frame), ("_revert_paths", paths_frame)):
        con.register(f"{name}_in", frame)
        try:
            run_sql(con, f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_in")
        finally:
            con.unregister(f"{name}_in")


GIT_STEPS: tuple[Step, ...] = (
    # Sessions with new log rows, and those a scan may have changed; their links are deleted and redone.
    Step("derive_git_touched", reads=("_touched", "git_repos", "git_commits", "edit_outcomes", "commit_evidence",
                                      "git_path_map", "requests", "edit_lines"),
         writes=("_git_repos", "_git_dirty", "_git_affected", "session_repos", "git_links", "git_claims")),
    Step("derive_git_links", reads=("_git_dirty", "edit_lines", "tool_calls", "tool_results", "commit_evidence",
                                    "requests", "git_commits", "git_added_lines", "git_line_df", "git_paths",
                                    "git_path_map", "git_repos"),
         writes=("_dirty_edits", "_edit_calls", "_edit_results", "_edits", "_evidence", "_printed",
                 "_copies", "_resolved", "_edit_paths", "_evidence_roots", "_session_dirs", "_mapped_roots",
                 "_matched_roots", "session_repos", "_pool", "_overlaps", "git_links")),
    Step("derive_git_claims", reads=("_pool", "_git_dirty", "_git_repos", "git_links", "git_commit_files",
                                     "git_added_lines", "git_commits", "git_repos"),
         writes=("_pool_paths", "_link_lines", "_matched", "git_claims", "_git_affected", "_git_fate",
                 "commit_agent_lines", "_git_planned", "git_blame_plan")),
    Step("derive_git_survival", reads=("_git_repos", "_git_dirty", "git_blame_plan", "git_blamed", "git_blame",
                                       "_edit_calls", "_edits", "_pool", "session_repos", "tool_calls",
                                       "request_facts"),
         writes=("_git_fate", "commit_agent_lines", "_alive", "edit_outcomes", "_git_turned", "_turn_calls",
                 "git_turns")),
)

# The links to git, derived after the chunks: the sessions with rows since they were last derived, then git's steps.
GIT_PHASE: tuple[Step, ...] = (
    Step("derive_git_sessions", reads=("requests", "tool_calls", "tool_results", "session_events", "agents"),
         writes=("_touched",)),
    *GIT_STEPS,
)

STEPS: tuple[Step, ...] = (
    # The chunk's sessions (from derive_queue), and how the steps below select their rows.
    Step("derive_touched", reads=("chunk_sessions",), writes=("_touched",)),
    Step("touched_filter", reads=("_touched", *SPANS), writes=(), run=_touched_filter, join_filters=False),
    # The people whose spikes the chunk changes, and their other days as stored: read before the
    # derived tables are shadowed.
    Step("derive_spike_scope", reads=("_touched", "requests", "session_day_facts"), writes=("_spike_users", "_spike_history")),
    Step("shadow_derived", reads=DERIVED, writes=(*DERIVED, *STORED_VIEWS), run=_shadow_derived),
    Step("derive_requests", reads=("session_events", "agents", "tool_results", "tool_calls", "requests",
                                   "model_prices"),
         writes=("_headless", "_prompts", "_thread_types", "_req"), join_filters=False),
    Step("derive_calls", reads=("_req", "_prompts", "tool_calls", "tool_results"), writes=("_calls",),
         join_filters=False),
    Step("derive_attribution", reads=("_req", "_calls"), writes=("_attr", "request_components")),
    Step("derive_loops", reads=("_calls",), writes=("_loops",)),
    Step("load_reverts", reads=("_calls",), writes=("_reverts", "_revert_paths"), run=_load_reverts),
    Step("derive_outcomes", reads=("_req", "_calls", "_prompts", "_loops", "_reverts", "_revert_paths",
                                   "session_events"),
         writes=("_created", "_rewinds", "_discarded_edits", "_discarded_turns", "_interrupts", "_idle_turns",
                 "_outcomes", "request_facts")),
    Step("derive_rollups", reads=("request_facts", "requests", "_attr", "_calls"),
         writes=("session_day_facts", "component_day_facts")),
    Step("derive_flags", reads=("_req", "_outcomes", "_loops", "_reverts", "_rewinds", "_discarded_turns",
                                "_discarded_edits", "_calls", "_interrupts", "_idle_turns"),
         writes=("_sessions", "_req_out", "_stops", "_zero", "_bloat", "flag_requests", "flags")),
    # usage_spike compares a day with the person's whole history: redone for the chunk's people.
    Step("derive_spikes", reads=("_spike_history", "session_day_facts", "request_facts", *STORED_VIEWS),
         writes=("_spike_days", "_spikes", "_spike_requests", "flag_requests", "flags")),
    # Outcomes in git (docs/metrics.md): where sessions worked, which commits came out of them, the
    # agent lines in those commits and what blame (run by `agentledger git scan`) says survived.
    # Run once at the end of a refresh, over the sessions with rows since they last ran (refresh_ledger).
    *GIT_PHASE,
)
# The steps a chunk runs (GIT_PHASE runs once after the chunks: refresh_ledger).
CHUNK_STEPS = STEPS[: len(STEPS) - len(GIT_PHASE)]
TEMP_TABLES = tuple(dict.fromkeys(t for step in STEPS for t in step.writes
                                  if t.startswith("_") and t not in STORED_VIEWS))
# What the plan leaves behind (derive_queue.sql).
PLAN_TEMP_TABLES = ("_queued", "_requeued")

# The derivation's reasons for redoing a session already derived (derive_queue.reason), and what
# `pending` says of them.
STALE_BECAUSE = {"prices": "the previous prices", "settings": "the previous thresholds or derivation",
                 "full": "a derivation being redone (refresh --full)"}


@dataclass
class RefreshSummary:
    full: bool                # every session was queued again (first refresh, --full, prices/thresholds/SQL changed)
    sessions: int             # sessions derived by this refresh
    priced_models: int
    unpriced_models: list[str]
    seconds: float
    chunks: int = 0
    pending: int = 0          # sessions still queued when it stopped (a scheduled run's budget ran out)
    git_sessions: int = 0     # sessions whose links to git were derived again
    together: int = 0         # chunks derived beside an earlier one, at the same time (derive_chunks_at_once)


@dataclass(frozen=True)
class Pending:
    """What the derived tables do not reflect yet: sessions queued, by reason."""

    sessions: dict[str, int] = field(default_factory=dict)   # reason -> sessions
    people: dict[str, int] = field(default_factory=dict)     # reason -> people among them

    @property
    def stale(self) -> int:
        """Sessions whose figures were computed with previous prices or thresholds."""
        return sum(n for reason, n in self.sessions.items() if reason != "new")

    def note(self) -> str | None:
        """One line for a report's reader, or None when every figure is current."""
        parts = []
        new = self.sessions.get("new", 0)
        if new:
            parts.append(f"{new:,} session(s) with new data are not in the figures yet")
        for reason, n in sorted(self.sessions.items()):
            if reason != "new":
                parts.append(f"{n:,} session(s) of {self.people.get(reason, 0):,} people still show figures "
                             f"computed with {STALE_BECAUSE.get(reason, reason)}")
        if not parts:
            return None
        return "note: " + "; ".join(parts) + " (`agentledger refresh` brings them up to date)"


def pending(con: duckdb.DuckDBPyConnection) -> Pending:
    """The sessions the derived tables lag behind on (a ledger older than the queue has none)."""
    exists = run_sql(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'derive_queue' AND NOT temporary")
    if not exists[0][0]:
        return Pending()
    rows = run_sql(con, "SELECT reason, count(*), count(DISTINCT user_name) FROM derive_queue GROUP BY reason")
    return Pending({r: n for r, n, _ in rows}, {r: p for r, _, p in rows})


def sql_params(cfg: AnalyticsSettings) -> dict[str, object]:
    """The thresholds as named SQL parameters (bound, never formatted into the SQL)."""
    return {
        "commit_pattern": COMMIT_PATTERN,
        "min_repeats": cfg.loop_min_repeats,
        "window_seconds": cfg.loop_window_minutes * 60,
        "window_exempt_tools": list(cfg.loop_window_exempt_tools),
        "poll_tools": list(cfg.loop_poll_tools),
        "inspection_commands": list(cfg.loop_inspection_commands),
        "min_variants": cfg.loop_min_variants,
        "error_window_seconds": cfg.loop_error_window_minutes * 60,
        "idle_min_seconds": cfg.idle_min_minutes * 60,
        "idle_min_requests": cfg.idle_min_requests,
        "idle_max_gap_seconds": cfg.idle_max_gap_minutes * 60,
        "discard_min_requests": cfg.discard_interrupt_min_requests,
        "steer_seconds": cfg.discard_steer_minutes * 60,
        "zero_min_cost": cfg.zero_output_min_cost_usd,
        "zero_min_tokens": cfg.zero_output_min_tokens,
        "bloat_single_bytes": cfg.bloat_single_result_bytes,
        "bloat_session_bytes": cfg.bloat_session_bytes,
        "project_lookup_tools": list(cfg.bloat_project_lookup_tools),
        "spike_factor": cfg.spike_factor,
        "baseline_days": cfg.spike_baseline_days,
        "min_baseline_days": cfg.spike_min_baseline_days,
        "max_ratio": cfg.spike_max_useful_ratio,
        "rebase_window_seconds": cfg.git_rebase_window_seconds,
        "squash_window_days": cfg.git_squash_window_days,
        "squash_min_overlap": cfg.git_squash_min_overlap,
        "overlap_window_hours": cfg.git_overlap_window_hours,
        "overlap_min_lines": cfg.git_overlap_min_lines,
        "overlap_min_share": cfg.git_overlap_min_share,
        "common_line_commits": cfg.git_common_line_commits,
    }


Progress = Callable[[int, int], None]   # (rows derived so far, rows queued at the start)


def refresh_derived(con: duckdb.DuckDBPyConnection, *, full: bool = False,
                    cfg: AnalyticsSettings | None = None) -> RefreshSummary:
    """Bring every derived table up to date on one open connection (all chunks); safe to repeat."""
    return refresh_ledger(HeldLedger(con), full=full, cfg=cfg)


def refresh_ledger(ledger: Ledger, *, full: bool = False, cfg: AnalyticsSettings | None = None,
                   rederive_seconds: float | None = None, progress: Progress | None = None,
                   options: RefreshSettings | None = None) -> RefreshSummary:
    """Plan, then derive the queue chunk by chunk (see the module docstring). With
    `rederive_seconds`, sessions queued for a re-derive are derived only while that much time has
    not passed (what is new always is); the rest stays queued for the next refresh."""
    started = time.perf_counter()
    cfg = cfg or settings()
    options = options or refresh_settings()
    price_file, version = load_price_file(cfg.prices_file)  # a bad file fails before any write
    params = sql_params(cfg)
    done = 0
    rederive = True

    def next_chunk(con: duckdb.DuckDBPyConnection) -> Chunk | None:
        """The next chunk to derive; with none left, the links to git, in this same window (a
        window that cached more than a writer keeps lets the file go at its end, and the links
        then paid a checkpoint and a cold cache: 0.13 s + 0.13 s of a one-session run on 80x180)."""
        nonlocal rederive
        rederive = rederive_seconds is None or time.perf_counter() - started < rederive_seconds
        chunk = _next_chunk(con, options.derive_chunk_rows, rederive)
        if chunk is None:
            summary.pending = sum(pending(con).sessions.values())
            summary.git_sessions = _derive_git(con, params, last_run, options)
        return chunk

    def written(chunk: Chunk, rows: dict[str, Any], spike_users: list[str], con: duckdb.DuckDBPyConnection) -> None:
        nonlocal done
        with _memory_limited(con, options):
            _apply(con, chunk, rows, spike_users)
        summary.sessions += len(chunk.sessions)
        summary.chunks += 1
        done += chunk.weight
        if progress:
            progress(done, queued)

    with ledger.window() as con:
        summary, queued, last_run = _plan(con, cfg, price_file, version, full, options.refresh_threads)
        if progress:
            progress(done, queued)
        chunk = next_chunk(con)
    # Each chunk's rows are let go once written: not held while the next chunk is found, or the
    # links to git derived, in the same window.
    while chunk is not None:
        if chunk.weight <= options.held_chunk_rows:
            with ledger.window() as con:
                _merge_log(con)
                rows, spike_users = _compute(con, chunk, params, options)
                written(chunk, rows, spike_users, con)
                del rows
                chunk = next_chunk(con)
        else:
            # A large chunk is computed on a read connection, outside any write window: readers
            # go on meanwhile, and wait for its short write only. On a read-only database, the
            # next chunk of other people is computed beside it (_compute_together).
            with ledger.read() as con:
                computed = _compute_together(con, chunk, params, options, rederive)
            summary.together += len(computed) - 1
            with ledger.window() as con:
                while computed:     # in order, each in its own transaction, its rows let go once written
                    chunk, rows, spike_users = computed.pop(0)
                    written(chunk, rows, spike_users, con)
                    del rows
                chunk = next_chunk(con)
    summary.seconds = time.perf_counter() - started
    return summary


# Rows committed but not yet checkpointed stay in memory beside what a chunk caches: past this much
# log, it is merged into the file before a chunk is derived on the writer's connection (after a cold
# ingest of a 0.5 GB org, deriving without it peaked at 842 MB instead of 659 MB).
MERGE_LOG_BYTES = 32 * 1024 * 1024


def _merge_log(con: duckdb.DuckDBPyConnection) -> None:
    """Checkpoint a single-file ledger whose log of commits holds more than MERGE_LOG_BYTES (what
    letting the file go for a read connection did for every chunk, now only when it is worth it)."""
    if log_bytes(con) > MERGE_LOG_BYTES:
        checkpoint(con)


def _derive_git(con: duckdb.DuckDBPyConnection, params: dict[str, Any], last_run: int,
                options: RefreshSettings) -> int:
    """The links to git (GIT_PHASE) of the sessions with rows of runs since they were last derived
    and of whatever a scan changed, in one transaction that moves their mark to `last_run`; returns
    how many sessions' links were redone. They read the derived request_facts: they run after the chunks.
    Under the refresh's memory_limit, as a chunk; should DuckDB fail to spill some operator within
    it (it refuses rather than spills in a few cases), the transaction is redone without the limit:
    a scheduled run finishes with more memory rather than fail."""
    after = run_sql(con, "SELECT coalesce(max(git_run_id), -1) FROM derived_state")[0][0]
    try:
        with _memory_limited(con, options), transaction(con):
            return _git_links(con, params, after, last_run)
    except duckdb.OutOfMemoryException:
        with transaction(con):
            return _git_links(con, params, after, last_run)


# No run id is this large: with it, only the sessions named are linked to git.
_NO_RUN = 2**63 - 1


def _git_links(con: duckdb.DuckDBPyConnection, params: dict[str, Any], after: int | None, last_run: int | None,
               sessions: list[str] | None = None) -> int:
    """GIT_PHASE in the caller's transaction: for the sessions with rows of runs after `after` (and
    what a scan changed), moving the mark to `last_run`; or, given `sessions`, for those alone (a
    lake's batch: no mark moves, so concurrent batches do not conflict on it)."""
    try:
        queries.prepare(con)
        if sessions is None:
            for step in GIT_PHASE:
                queries.execute(con, step.name, {**params, "after_run": after})
        else:
            con.register("chunk_sessions", pl.DataFrame({"session_id": sessions}, schema={"session_id": pl.String}))
            queries.execute(con, "derive_touched", params)
            for step in GIT_STEPS:
                queries.execute(con, step.name, {**params, "after_run": _NO_RUN})
        dirty = run_sql(con, "SELECT count(*) FROM _git_dirty")[0][0]
        if last_run is not None:
            run_sql(con, "UPDATE derived_state SET git_run_id = ?", [last_run])
    finally:
        _drop(con, TEMP_TABLES)
        if sessions is not None:
            con.unregister("chunk_sessions")
    return dirty


def derive_sessions(con: duckdb.DuckDBPyConnection, sessions: list[str | None], *,
                    cfg: AnalyticsSettings | None = None, options: RefreshSettings | None = None) -> RefreshSummary:
    """Derive these sessions (their rows, their people's usage spikes, their links to git) again,
    inside the caller's transaction: a lake's ingest worker derives what each batch loaded in that
    batch's commit. When prices, thresholds or the derivation changed since the tables were built,
    every session is queued and derived here instead (the tables must never mix two versions)."""
    started = time.perf_counter()
    cfg = cfg or settings()
    options = options or refresh_settings()
    price_file, version = load_price_file(cfg.prices_file)
    params = sql_params(cfg)
    try:
        summary, _, last_run, stale = _queue(con, cfg, price_file, version, False, only_if_stale=True)
        if stale:
            while chunk := _next_chunk(con, options.derive_chunk_rows, True):
                _derive_and_apply(con, chunk, params, options)
                summary.sessions += len(chunk.sessions)
                summary.chunks += 1
            summary.git_sessions = _git_links(con, params, run_sql(con, "SELECT coalesce(max(git_run_id), -1)"
                                                                      " FROM derived_state")[0][0], last_run)
        else:
            chunk = Chunk(sorted({s if s is not None else "(none)" for s in sessions}), 0)
            _derive_and_apply(con, chunk, params, options)
            summary.sessions, summary.chunks = len(chunk.sessions), 1
            summary.git_sessions = _git_links(con, params, None, None, chunk.sessions)
    finally:
        _drop(con, PLAN_TEMP_TABLES)
    summary.seconds = time.perf_counter() - started
    return summary


def _derive_and_apply(con: duckdb.DuckDBPyConnection, chunk: "Chunk", params: dict[str, Any],
                      options: RefreshSettings) -> None:
    rows, spike_users = _compute(con, chunk, params, options)
    with _memory_limited(con, options):
        _apply_rows(con, chunk, rows, spike_users)


# -- plan ---------------------------------------------------------------------------------------

def _settings_fingerprint(cfg: AnalyticsSettings) -> str:
    """Thresholds plus the text of every derivation step, so a new release re-derives old ledgers."""
    digest = hashlib.sha256(cfg.model_dump_json().encode())
    for name in ("macros", *(step.name for step in STEPS if step.sql)):
        for statement in queries.statements(name):
            digest.update(statement.encode())
    return digest.hexdigest()[:16]


def _plan(con, cfg, price_file, version, full, threads: int) -> tuple[RefreshSummary, int, int]:
    """Prices, fingerprints and the queue, committed together, on DuckDB's `threads`
    (refresh_threads, as a chunk); returns the summary so far, the rows queued in all and the
    last ingest run it covers."""
    try:
        # Its statements select the few sessions with new rows from whole columns: on an 80x180 org
        # a second thread added ~8 ms of CPU in hand-offs to each run's plan (derive_queue: 17 ms
        # with one thread, 23 ms with two; medians of 21 interleaved runs) and saved no time.
        with _threads(con, threads), transaction(con):
            summary, queued, last_run, _ = _queue(con, cfg, price_file, version, full)
    finally:
        _drop(con, PLAN_TEMP_TABLES)
    return summary, queued, last_run


def _queue(con, cfg, price_file, version, full, only_if_stale: bool = False) -> tuple[RefreshSummary, int, int, bool]:
    """Write the prices and queue the sessions to derive (in the caller's transaction); returns the
    summary so far, the rows queued, the last ingest run covered and whether every session was
    queued again. With `only_if_stale` (a lake's batch, which derives its own sessions) nothing is
    queued unless the derived tables are stale, and the state row is rewritten only when the
    prices' fingerprint moved: rewriting it in every batch of many concurrent writers would make
    their commits conflict."""
    state = run_sql(con, "SELECT last_run_id, price_fingerprint, settings_fingerprint, git_run_id"
                         " FROM derived_state WHERE id = 1")
    models = [row[0] for row in run_sql(con, "SELECT DISTINCT model FROM requests WHERE model IS NOT NULL")]
    rows = resolve(models, price_file, version)
    price_fp, prices_changed = _replace_prices(con, rows)
    settings_fp = _settings_fingerprint(cfg)
    last_run = run_sql(con, "SELECT coalesce(max(run_id), 0) FROM ingest_runs")[0][0]
    # Changed prices, thresholds or derivation SQL (an upgrade) change stored figures everywhere:
    # every session is queued again, and until it is derived its figures say so (`pending`).
    if full:
        reason = "full"
    elif not state:
        reason = "new"
    elif prices_changed:
        reason = "prices"
    elif state[0][2] != settings_fp:
        reason = "settings"
    else:
        reason = None
    priced = {r.model for r in rows}
    summary = RefreshSummary(reason is not None and reason != "new" or not state, 0, len(priced),
                             sorted(set(models) - priced), 0.0)
    if only_if_stale and reason is None:
        if state[0][1] != price_fp:
            run_sql(con, "UPDATE derived_state SET price_fingerprint = ? WHERE id = 1", [price_fp])
        return summary, 0, last_run, False
    last_derived = state[0][0] if state else -1
    queries.execute(con, "derive_queue", {"after_run": -1 if reason else last_derived,
                                          "new_after": last_derived, "reason": reason or "new"})
    # Whatever changes every session's figures changes their links to git too.
    git_run = -1 if reason or state[0][3] is None else state[0][3]
    run_sql(con, "DELETE FROM derived_state")
    run_sql(con, "INSERT INTO derived_state (id, last_run_id, price_fingerprint, settings_fingerprint,"
                 " refreshed_at, git_run_id) VALUES (1, ?, ?, ?, now()::TIMESTAMP, ?)",
            [last_run, price_fp, settings_fp, git_run])
    queued = run_sql(con, "SELECT coalesce(sum(weight), 0) FROM derive_queue")[0][0]
    return summary, int(queued), last_run, reason is not None


def _replace_prices(con, rows: list[PriceRow]) -> tuple[str, bool]:
    """Rewrite model_prices; returns its fingerprint and whether a model priced before changed
    price (a newly seen model alone does not force recomputing every old request)."""
    old = queries.select(con, "SELECT * FROM model_prices")
    new = pl.DataFrame([r.__dict__ for r in rows], schema=old.schema) if rows else old.clear()
    if _same(old, new):
        return _digest(new), False  # unchanged: no write (concurrent lake writers would conflict on it)
    run_sql(con, "DELETE FROM model_prices")
    if new.height:
        con.register("_new_prices", new)
        try:
            run_sql(con, "INSERT INTO model_prices BY NAME SELECT * FROM _new_prices")
        finally:
            con.unregister("_new_prices")
    known = old["model"].unique().to_list()
    changed = not _same(old, new.filter(pl.col("model").is_in(known)))
    # A model that was unpriced and now has a price (an override added) reprices its old requests.
    newly = sorted(set(new["model"].to_list()) - set(known))
    if newly and run_sql(con, "SELECT count(*) FROM request_facts WHERE list_contains(?, model)", [newly])[0][0]:
        changed = True
    return _digest(new), changed


def _same(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    return _digest(a) == _digest(b)


def _digest(frame: pl.DataFrame) -> str:
    return hashlib.sha256(frame.sort(frame.columns).write_csv().encode()).hexdigest()[:16]


# -- chunks -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Chunk:
    sessions: list[str]
    weight: int


_NEXT_CHUNK = """
SELECT session_id, weight FROM (
    SELECT session_id, weight,
           sum(weight) OVER (ORDER BY reason <> 'new', user_name NULLS LAST, session_id ROWS UNBOUNDED PRECEDING) AS upto
    FROM derive_queue WHERE reason = 'new' OR ?
)
WHERE upto - weight < ?
"""


def _next_chunk(con: duckdb.DuckDBPyConnection, budget: int, rederive: bool) -> Chunk | None:
    """The next sessions to derive: new ones first, then person by person, about `budget` rows
    (at least one session, however large)."""
    rows = run_sql(con, _NEXT_CHUNK, [rederive, budget])
    if not rows:
        return None
    return Chunk([r[0] for r in rows], sum(r[1] for r in rows))


@contextmanager
def _memory_limited(con: duckdb.DuckDBPyConnection, options: RefreshSettings) -> Iterator[None]:
    """DuckDB's memory_limit at refresh_memory_mb and its threads at refresh_threads meanwhile (a
    caller's own connection gets its own settings back)."""
    with _threads(con, options.refresh_threads), memory_limited(con, f"{options.refresh_memory_mb}MiB"):
        yield


@contextmanager
def _threads(con: duckdb.DuckDBPyConnection, threads: int) -> Iterator[None]:
    """DuckDB's threads at `threads` meanwhile (the connection's own setting back after)."""
    before = run_sql(con, "SELECT current_setting('threads')")[0][0]
    run_sql(con, f"SET threads = {int(threads)}")
    try:
        yield
    finally:
        run_sql(con, f"SET threads = {int(before)}")


def _compute(con: duckdb.DuckDBPyConnection, chunk: Chunk, params: dict[str, Any],
             options: RefreshSettings) -> tuple[dict[str, Any], list[str | None]]:
    """Derive the chunk's sessions (every step, on TEMP copies of the derived tables); returns
    their rows, as Arrow tables, and the people whose spikes were redone."""
    queries.prepare(con)  # the shared macros: evidence and ratios are written as every report reads them
    with _memory_limited(con, options):
        return _derive(con, chunk, params)


def _derive(con: duckdb.DuckDBPyConnection, chunk: Chunk, params: dict[str, Any],
            join_filters: Callable[[duckdb.DuckDBPyConnection, bool], Any] | None = None) -> tuple[dict[str, Any], list]:
    """Every step over the chunk; its derived rows and its people, the TEMP tables dropped after."""
    join_filters = join_filters or _join_filters
    # The chunk's sessions as a frame: bound as a list parameter, thousands of them took a second.
    con.register("chunk_sessions", pl.DataFrame({"session_id": chunk.sessions}, schema={"session_id": pl.String}))
    try:
        for step in CHUNK_STEPS:
            with join_filters(con, step.join_filters):
                if step.run:
                    step.run(con, params)
                else:
                    queries.execute(con, step.name, params)
        rows = {table: con.sql(f"SELECT * FROM temp.main.{table}").to_arrow_table() for table in DERIVED}
        spike_users = [row[0] for row in run_sql(con, "SELECT user_name FROM _spike_users")]
    finally:
        _drop(con, TEMP_TABLES)
        _drop(con, DERIVED)
        _drop(con, STORED_VIEWS, "VIEW")
        con.unregister("chunk_sessions")
    return rows, spike_users


# The next chunk after the first that shares none of its people (derive_queue.user_name): the
# first's people's other sessions wait for a later chunk, as a person split between two chunks does.
_PARTNER = """
SELECT session_id, weight FROM (
    SELECT session_id, weight,
           sum(weight) OVER (ORDER BY reason <> 'new', user_name NULLS LAST, session_id ROWS UNBOUNDED PRECEDING) AS upto
    FROM derive_queue q
    WHERE (reason = 'new' OR ?) AND NOT EXISTS (
        SELECT 1 FROM derive_queue f SEMI JOIN _first_chunk c USING (session_id)
        WHERE f.user_name IS NOT DISTINCT FROM q.user_name)
)
WHERE upto - weight < ?
"""


# The first of two chunks derived at once: the queue's next `half` rows, and then, within a whole
# chunk's rows, the other sessions of their people, so that their partner does not leave a person
# split at the boundary to a chunk of its own.
_FIRST_HALF = """
WITH queue AS (
    SELECT session_id, weight, user_name,
           sum(weight) OVER (ORDER BY reason <> 'new', user_name NULLS LAST, session_id ROWS UNBOUNDED PRECEDING)
             - weight AS before
    FROM derive_queue WHERE reason = 'new' OR ?
)
SELECT session_id, weight FROM queue q
WHERE before < ? OR (before < ? AND EXISTS (
    SELECT 1 FROM queue h WHERE h.before < ? AND h.user_name IS NOT DISTINCT FROM q.user_name))
"""


def _first_half(con: duckdb.DuckDBPyConnection, half: int, whole: int, rederive: bool) -> Chunk | None:
    """The first of two chunks derived at once: about `half` rows, then its people's other sessions up
    to `whole` rows (a person larger than that goes on in a later chunk, as in any chunk)."""
    rows = run_sql(con, _FIRST_HALF, [rederive, half, whole, half])
    return Chunk([r[0] for r in rows], sum(r[1] for r in rows)) if rows else None


def _partner(con: duckdb.DuckDBPyConnection, first: Chunk, budget: int, rederive: bool) -> Chunk | None:
    """The chunk to derive beside `first`: the queue's next sessions of other people (about `budget`
    rows, at least one session), or None when every session left belongs to first's people."""
    con.register("_first_chunk", pl.DataFrame({"session_id": first.sessions}, schema={"session_id": pl.String}))
    try:
        rows = run_sql(con, _PARTNER, [rederive, budget])
    finally:
        con.unregister("_first_chunk")
    return Chunk([r[0] for r in rows], sum(r[1] for r in rows)) if rows else None


def _compute_together(con: duckdb.DuckDBPyConnection, first: Chunk, params: dict[str, Any],
                      options: RefreshSettings, rederive: bool) -> list[tuple[Chunk, dict[str, Any], list]]:
    """`first` derived (as _compute), and, on a read-only database with derive_chunks_at_once = 2, the
    queue's first half-chunk and the next half-chunk of other people beside it, each on a cursor of
    its own, the second in a second thread: a chunk's statements run on one core, and DuckDB works
    outside Python's lock, so the second runs on the machine's other core. Read-only: what both read
    is the last commit, as a chunk computed after `first` is written would read, but for `first`'s
    own rows; only usage_spike reads rows of other sessions (a person's other days), so the two share
    no person, checked again on the people the steps found (a session's people need not be its
    queued one): if they do, the second's rows are dropped and it stays queued. Returns each chunk
    with its rows and people, to be written in order."""
    if options.derive_chunks_at_once < 2 or not _read_only(con):
        return [(first, *_compute(con, first, params, options))]
    # Each takes half the rows of a chunk: the two hold, and share the memory_limit for, what one
    # chunk would, and a queue of one chunk's rows (a cold ingest of a 0.5 GB org) is split in two.
    queued = run_sql(con, "SELECT coalesce(sum(weight), 0) FROM derive_queue WHERE reason = 'new' OR ?", [rederive])[0][0]
    half = max(min(options.derive_chunk_rows, int(queued)) // 2, 1)   # a queue under two chunks: halved evenly
    whole, first = first, _first_half(con, half, options.derive_chunk_rows, rederive) or first
    second = _partner(con, first, half, rederive)
    if second is None:     # the queue holds first's people alone: derived as one chunk
        return [(whole, *_compute(con, whole, params, options))]
    cursors = [con.cursor() for _ in range(3)]
    try:
        shared = _SharedJoinFilters(cursors[2])
        for cursor in cursors[:2]:
            queries.prepare(cursor)
        with _memory_limited(con, options), ThreadPoolExecutor(1) as beside:
            later = beside.submit(_derive, cursors[1], second, params, shared)
            try:
                rows, people = _derive(cursors[0], first, params, shared)
            finally:
                wait([later])
            other_rows, other_people = later.result()
    finally:
        for cursor in cursors:
            cursor.close()
    if _share_someone(people, other_people):
        return [(first, rows, people)]
    return [(first, rows, people), (second, other_rows, other_people)]


def _share_someone(people: list[str | None], others: list[str | None]) -> bool:
    """Whether two chunks' spike people meet (None, the sessions of nobody, is a person here too)."""
    return bool(set(people) & set(others))


def _read_only(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether con's database is opened read-only: no transaction of this connection holds writes
    that a cursor of its own (a connection apart) would not see."""
    return bool(run_sql(con, "SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()")[0][0])


class _SharedJoinFilters:
    """_join_filters for chunks derived at once on one database: disabled_optimizers is one setting
    for the whole database, so join_filter_pushdown is off while either chunk runs a step that wants
    it off (the values never depend on it), and the database's own list is back when neither does."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.lock = threading.Lock()
        self.off = 0
        self.before = ""

    @contextmanager
    def __call__(self, _con: duckdb.DuckDBPyConnection, on: bool) -> Iterator[None]:
        if on:
            yield
            return
        with self.lock:
            if not self.off:
                self.before = run_sql(self.con, "SELECT current_setting('disabled_optimizers')")[0][0]
                run_sql(self.con, "SET disabled_optimizers = ?",
                        [",".join(filter(None, (self.before, "join_filter_pushdown")))])
            self.off += 1
        try:
            yield
        finally:
            with self.lock:
                self.off -= 1
                if not self.off:
                    run_sql(self.con, "SET disabled_optimizers = ?", [self.before])


@contextmanager
def _join_filters(con: duckdb.DuckDBPyConnection, on: bool) -> Iterator[None]:
    """DuckDB's join_filter_pushdown off meanwhile unless `on` (Step.join_filters); the
    connection's own list of disabled optimizers back afterwards."""
    if on:
        yield
        return
    before = run_sql(con, "SELECT current_setting('disabled_optimizers')")[0][0]
    run_sql(con, "SET disabled_optimizers = ?", [",".join(filter(None, (before, "join_filter_pushdown")))])
    try:
        yield
    finally:
        run_sql(con, "SET disabled_optimizers = ?", [before])


def _apply(con: duckdb.DuckDBPyConnection, chunk: Chunk, rows: dict[str, Any], spike_users: list[str | None]) -> None:
    """Replace the chunk's derived rows and its people's spikes, and take it off the queue, in one
    transaction (one short write window)."""
    with transaction(con):
        _apply_rows(con, chunk, rows, spike_users)


def _apply_rows(con: duckdb.DuckDBPyConnection, chunk: Chunk, rows: dict[str, Any],
                spike_users: list[str | None]) -> None:
    """_apply's writes, in the caller's transaction."""
    con.register("_chunk", pl.DataFrame({"session_id": chunk.sessions}, schema={"session_id": pl.String}))
    con.register("_chunk_people", pl.DataFrame({"user_name": spike_users}, schema={"user_name": pl.String}))
    try:
        for table in DERIVED:
            run_sql(con, f"DELETE FROM {table} WHERE session_id IN (SELECT session_id FROM _chunk)")
        # The people's spikes, their requests first (found through the flags they belong to).
        run_sql(con, "DELETE FROM flag_requests WHERE flag = 'usage_spike' AND flag_id IN ("
                     "SELECT flag_id FROM flags f JOIN _chunk_people p ON p.user_name IS NOT DISTINCT FROM f.user_name "
                     "WHERE f.flag = 'usage_spike')")
        run_sql(con, "DELETE FROM flags WHERE flag = 'usage_spike' AND EXISTS ("
                     "SELECT 1 FROM _chunk_people p WHERE p.user_name IS NOT DISTINCT FROM flags.user_name)")
        for table in DERIVED:
            if rows[table].num_rows:
                con.register("_chunk_rows", rows[table])
                run_sql(con, f"INSERT INTO {table} BY NAME SELECT * FROM _chunk_rows")
                con.unregister("_chunk_rows")
        # Only when some are queued: a lake's batches, which derive their own sessions, leave the
        # queue alone (a write there would make concurrent commits conflict).
        if run_sql(con, "SELECT count(*) FROM derive_queue WHERE session_id IN (SELECT session_id FROM _chunk)")[0][0]:
            run_sql(con, "DELETE FROM derive_queue WHERE session_id IN (SELECT session_id FROM _chunk)")
    finally:
        for name in ("_chunk", "_chunk_people", "_chunk_rows"):
            try:
                con.unregister(name)
            except duckdb.Error:
                pass  # an aborted transaction refuses even this; the connection is being closed anyway


def _drop(con, tables, kind: str = "TABLE") -> None:
    for name in tables:
        try:
            run_sql(con, f"DROP {kind} IF EXISTS temp.main.{name}")
        except duckdb.Error:
            pass  # a failed transaction refuses even this; the connection is being closed anyway
