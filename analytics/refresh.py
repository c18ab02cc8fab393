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
from store.sql import run_sql


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


DERIVED = ("request_facts", "request_components", "session_day_facts", "component_day_facts", "flags", "flag_requests")

STEPS: tuple[Step, ...] = (
    # Sessions with rows newer than the last refresh; their derived rows are deleted and redone.
    Step("derive_touched", reads=("requests", "tool_calls", "tool_results", "session_events", "agents"),
         writes=("_touched", *DERIVED)),
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
    # usage_spike compares a day with the person's whole history, so it is redone over all of it.
    Step("derive_spikes", reads=("session_day_facts", "request_facts"), writes=("_spikes", "flag_requests", "flags")),
)
TEMP_TABLES = tuple(dict.fromkeys(t for step in STEPS for t in step.writes if t.startswith("_")))


@dataclass
class RefreshSummary:
    full: bool
    sessions: int
    priced_models: int
    unpriced_models: list[str]
    seconds: float


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
    }


def refresh_derived(con: duckdb.DuckDBPyConnection, *, full: bool = False,
                    cfg: AnalyticsSettings | None = None) -> RefreshSummary:
    """Bring every derived table up to date with the ledger, in one transaction; safe to repeat."""
    started = time.perf_counter()
    cfg = cfg or settings()
    price_file, version = load_price_file(cfg.prices_file)  # a bad file fails before any write
    run_sql(con, "BEGIN TRANSACTION")
    try:
        summary = _refresh(con, cfg, price_file, version, full)
        run_sql(con, "COMMIT")
    except BaseException:
        run_sql(con, "ROLLBACK")
        raise
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


def _refresh(con, cfg, price_file, version, full) -> RefreshSummary:
    state = run_sql(con, "SELECT last_run_id, price_fingerprint, settings_fingerprint FROM derived_state WHERE id = 1")
    models = [row[0] for row in run_sql(con, "SELECT DISTINCT model FROM requests WHERE model IS NOT NULL")]
    rows = resolve(models, price_file, version)
    price_fp, prices_changed = _replace_prices(con, rows)
    settings_fp = _settings_fingerprint(cfg)
    # Changed prices, thresholds or derivation SQL (an upgrade) change stored figures everywhere:
    # derive everything again.
    full = full or not state or prices_changed or state[0][2] != settings_fp
    last_run = run_sql(con, "SELECT coalesce(max(run_id), 0) FROM ingest_runs")[0][0]
    after = -1 if full else state[0][0]
    params = {**sql_params(cfg), "after_run": after}
    queries.prepare(con)  # the shared macros: evidence and ratios are written as every report reads them
    for step in STEPS:
        if step.run:
            step.run(con, params)
        else:
            queries.execute(con, step.name, params)
    sessions = run_sql(con, "SELECT count(*) FROM _touched")[0][0]
    run_sql(con, "DELETE FROM derived_state")
    run_sql(con, "INSERT INTO derived_state VALUES (1, ?, ?, ?, now()::TIMESTAMP)", [last_run, price_fp, settings_fp])
    priced = {r.model for r in rows}
    return RefreshSummary(full, sessions, len(priced), sorted(set(models) - priced), 0.0)


def _replace_prices(con, rows: list[PriceRow]) -> tuple[str, bool]:
    """Rewrite model_prices; returns its fingerprint and whether a model priced before changed
    price (a newly seen model alone does not force recomputing every old request)."""
    old = queries.select(con, "SELECT * FROM model_prices")
    new = pl.DataFrame([r.__dict__ for r in rows], schema=old.schema) if rows else old.clear()
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
