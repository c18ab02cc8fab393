"""Keep the derived tables (prices, per-request cost and outcome, attribution, rollups, flags) in step
with the ledger. agentledger/pipeline.py calls refresh_derived(con) after every run that loaded something."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Callable

import duckdb
import polars as pl

from analytics import queries
from analytics.commands import COMMIT_PATTERN, REVERT_CANDIDATE_PATTERN, classify
from analytics.config import AnalyticsSettings, settings
from analytics.pricing import PriceRow, load_price_file, resolve
from store.sql import begin, commit, rollback, run_sql


@dataclass(frozen=True)
class Step:
    """One refresh step, run in order: analytics/sql/<name>.sql, or `run` for the one step done in
    Python. It declares the tables it reads and writes (created, filled or emptied); tables named
    with a leading underscore are this refresh's TEMP tables. tests/test_analytics_refresh_steps.py
    checks each declaration against its SQL, and that every TEMP table is written before it is read."""

    name: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    run: Callable[[duckdb.DuckDBPyConnection, dict[str, Any]], None] | None = None

    @property
    def sql(self) -> bool:
        return self.run is None


def _load_reverts(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> None:
    """Parse the few shell commands that may throw work away into _reverts/_revert_paths."""
    candidates = con.execute(
        "SELECT tool_use_id, sid, ts, command FROM _calls WHERE command IS NOT NULL AND regexp_matches(command, ?)",
        [REVERT_CANDIDATE_PATTERN],
    ).fetchall()
    reverts, paths = [], []
    for tool_use_id, sid, ts, command in candidates:
        for i, revert in enumerate(classify(command)):
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
         writes=("_edits", "_evidence", "_printed", "_copies", "_resolved", "_edit_paths", "_evidence_roots",
                 "_session_dirs", "_mapped_roots", "_matched_roots", "session_repos", "_pool", "_overlaps",
                 "git_links")),
    Step("derive_git_claims", reads=("_pool", "_git_dirty", "_git_repos", "git_links", "git_commit_files",
                                     "git_added_lines", "git_commits", "git_repos"),
         writes=("_pool_paths", "_link_lines", "_matched", "git_claims", "_git_affected", "_git_fate",
                 "commit_agent_lines", "_git_planned", "git_blame_plan")),
    Step("derive_git_survival", reads=("_git_repos", "_git_dirty", "git_blame_plan", "git_blamed", "git_blame",
                                       "_edits", "_pool", "session_repos", "tool_calls", "request_facts"),
         writes=("_git_fate", "commit_agent_lines", "_alive", "edit_outcomes", "_git_turned", "git_turns")),
)

DERIVED = ("request_facts", "request_components", "session_day_facts", "component_day_facts", "flags", "flag_requests")

STEPS: tuple[Step, ...] = (
    # Sessions with rows newer than the last refresh; their derived rows are deleted and redone.
    Step("derive_touched", reads=("requests", "tool_calls", "tool_results", "session_events", "agents"),
         writes=("_touched", "_touched_people", *DERIVED)),
    Step("derive_requests", reads=("_touched", "session_events", "agents", "tool_results", "tool_calls", "requests",
                                   "model_prices"),
         writes=("_headless", "_prompts", "_thread_types", "_req")),
    Step("derive_calls", reads=("_touched", "_req", "_prompts", "tool_calls", "tool_results"), writes=("_calls",)),
    Step("derive_attribution", reads=("_req", "_calls"), writes=("_attr", "request_components")),
    Step("derive_loops", reads=("_calls",), writes=("_loops",)),
    Step("load_reverts", reads=("_calls",), writes=("_reverts", "_revert_paths"), run=_load_reverts),
    Step("derive_outcomes", reads=("_touched", "_req", "_calls", "_prompts", "_loops", "_reverts", "_revert_paths",
                                   "session_events"),
         writes=("_created", "_rewinds", "_discarded_edits", "_discarded_turns", "_interrupts", "_idle_turns",
                 "_outcomes", "request_facts")),
    Step("derive_rollups", reads=("_touched", "request_facts", "requests", "_attr", "_calls"),
         writes=("session_day_facts", "component_day_facts")),
    Step("derive_flags", reads=("_req", "_outcomes", "_loops", "_reverts", "_rewinds", "_discarded_turns",
                                "_discarded_edits", "_calls", "_interrupts", "_idle_turns"),
         writes=("_sessions", "_req_out", "_stops", "_zero", "_bloat", "flag_requests", "flags")),
    # usage_spike compares a day with the person's whole history: redone over all of it for each
    # person whose sessions were touched.
    Step("derive_spikes", reads=("session_day_facts", "request_facts", "_touched", "_touched_people"),
         writes=("_spike_people", "_spikes", "flag_requests", "flags")),
    # Outcomes in git (docs/metrics.md): where sessions worked, which commits came out of them, the
    # agent lines in those commits and what blame (run by `agentledger git scan`) says survived.
    *GIT_STEPS,
)
TEMP_TABLES = tuple(dict.fromkeys(t for step in STEPS for t in step.writes if t.startswith("_")))


@dataclass
class RefreshSummary:
    full: bool
    sessions: int
    priced_models: int
    unpriced_models: list[str]
    seconds: float
    git_sessions: int = 0                 # sessions whose links to git were derived again


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


def refresh_derived(con: duckdb.DuckDBPyConnection, *, full: bool = False,
                    cfg: AnalyticsSettings | None = None) -> RefreshSummary:
    """Bring every derived table up to date with the ledger, in one transaction; safe to repeat."""
    started = time.perf_counter()
    cfg = cfg or settings()
    price_file, version = load_price_file(cfg.prices_file)  # a bad file fails before any write
    begin(con)
    try:
        summary = _refresh(con, cfg, price_file, version, full)
        commit(con)
    except BaseException:
        rollback(con)
        raise
    finally:
        _drop_temp_tables(con)
    summary.seconds = time.perf_counter() - started
    return summary


def derive_sessions(con: duckdb.DuckDBPyConnection, sessions: list[str], *,
                    cfg: AnalyticsSettings | None = None) -> RefreshSummary:
    """Derive these sessions (and their people's usage spikes) again, inside the caller's
    transaction: a lake's ingest worker derives what each batch loaded in that batch's commit.
    When prices, thresholds or the derivation changed since the tables were built, everything is
    derived again instead (the tables must never mix two versions)."""
    started = time.perf_counter()
    cfg = cfg or settings()
    price_file, version = load_price_file(cfg.prices_file)
    try:
        summary = _refresh(con, cfg, price_file, version, False, sessions=sessions)
    finally:
        _drop_temp_tables(con)
    summary.seconds = time.perf_counter() - started
    return summary


def _settings_fingerprint(cfg: AnalyticsSettings) -> str:
    """Thresholds plus the text of every derivation step, so a new release re-derives old ledgers."""
    digest = hashlib.sha256(cfg.model_dump_json().encode())
    for name in ("macros", *(step.name for step in STEPS if step.sql)):
        for statement in queries.statements(name):
            digest.update(statement.encode())
    return digest.hexdigest()[:16]


# No run id is this large: with it, only the sessions named are derived.
_NO_RUN = 2**63 - 1


def _refresh(con, cfg, price_file, version, full, sessions: list[str] | None = None) -> RefreshSummary:
    state = run_sql(con, "SELECT last_run_id, price_fingerprint, settings_fingerprint FROM derived_state WHERE id = 1")
    models = [row[0] for row in run_sql(con, "SELECT DISTINCT model FROM requests WHERE model IS NOT NULL")]
    rows = resolve(models, price_file, version)
    price_fp, prices_changed = _replace_prices(con, rows)
    settings_fp = _settings_fingerprint(cfg)
    # Changed prices, thresholds or derivation SQL (an upgrade) change stored figures everywhere:
    # derive everything again.
    full = full or not state or prices_changed or state[0][2] != settings_fp
    last_run = run_sql(con, "SELECT coalesce(max(run_id), 0) FROM ingest_runs")[0][0]
    if full:
        after, named = -1, []
    elif sessions is not None:
        after, named = _NO_RUN, sorted({s if s is not None else "(none)" for s in sessions})
    else:
        after, named = state[0][0], []
    params = {**sql_params(cfg), "after_run": after, "sessions": named}
    queries.prepare(con)  # the shared macros: evidence and ratios are written as every report reads them
    for step in STEPS:
        if step.run:
            step.run(con, params)
        else:
            queries.execute(con, step.name, params)
    touched = run_sql(con, "SELECT count(*) FROM _touched")[0][0]
    git_sessions = run_sql(con, "SELECT count(*) FROM _git_dirty")[0][0]
    # Deriving named sessions moves no watermark: rewriting the state row in every batch of many
    # concurrent writers would only make their commits conflict.
    if sessions is None or full or state[0][1] != price_fp:
        run_sql(con, "DELETE FROM derived_state")
        run_sql(con, "INSERT INTO derived_state VALUES (1, ?, ?, ?, now()::TIMESTAMP)", [last_run, price_fp, settings_fp])
    priced = {r.model for r in rows}
    return RefreshSummary(full, touched, len(priced), sorted(set(models) - priced), 0.0, git_sessions)


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


def _drop_temp_tables(con) -> None:
    for name in TEMP_TABLES:
        try:
            run_sql(con, f"DROP TABLE IF EXISTS temp.{name}")
        except duckdb.Error:
            pass  # a failed transaction refuses even this; the connection is being closed anyway
