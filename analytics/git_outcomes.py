"""Outcomes in git, derived: session -> repository -> commit links, the agent lines in linked
commits, what blame says survived, and per-edit outcomes (analytics/sql/derive_git_*.sql).

Rebuilt whole on every refresh (the inputs are small next to requests: edits, evidence, commits
of linked repositories). Blame needs the repositories, so it is not done here: `blame_plan`
says which (snapshot, path) pairs the links need and the git scan runs them (agentledger/pipeline.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from analytics import queries
from analytics.config import AnalyticsSettings, settings
from store.sql import run_sql

LINK_STEPS = ("derive_git_links", "derive_git_lines")
SURVIVAL_STEP = "derive_git_survival"
TEMP_TABLES = ("_edits", "_evidence", "_printed", "_copies", "_resolved", "_repo_paths", "_edit_paths",
               "_evidence_roots", "_session_dirs", "_mapped_roots", "_matched_roots", "_pool", "_overlaps",
               "_pool_paths", "_link_lines", "_matched", "_agent_lines", "_alive")


@dataclass
class GitDerived:
    sessions_mapped: int
    links: int
    agent_lines: int


def git_params(cfg: AnalyticsSettings) -> dict[str, object]:
    """The linking thresholds as named SQL parameters."""
    return {
        "rebase_window_seconds": cfg.git_rebase_window_seconds,
        "squash_window_days": cfg.git_squash_window_days,
        "squash_min_overlap": cfg.git_squash_min_overlap,
        "overlap_window_hours": cfg.git_overlap_window_hours,
        "overlap_min_lines": cfg.git_overlap_min_lines,
        "overlap_min_share": cfg.git_overlap_min_share,
    }


def derive_links(con: duckdb.DuckDBPyConnection, cfg: AnalyticsSettings | None = None) -> GitDerived:
    """session_repos, git_links, commit_agent_lines and git_blame_plan from the ledger (no blame)."""
    params = git_params(cfg or settings())
    for step in LINK_STEPS:
        queries.execute(con, step, params)
    counts = run_sql(con, "SELECT (SELECT count(DISTINCT session_id) FROM session_repos),"
                          " (SELECT count(*) FROM git_links), (SELECT count(*) FROM commit_agent_lines)")[0]
    return GitDerived(*counts)


def blame_plan(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """repo_id -> (git dir, [(snapshot, path)]) the survival figures need."""
    plan: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    rows = run_sql(con, "SELECT DISTINCT p.repo_id, r.path, p.snapshot, p.path FROM git_blame_plan p"
                        " JOIN git_repos r USING (repo_id) ORDER BY ALL")
    for repo_id, git_dir, snapshot, path in rows:
        plan.setdefault(repo_id, (git_dir, []))[1].append((snapshot, path))
    return plan


def derive_survival(con: duckdb.DuckDBPyConnection) -> None:
    """Alive flags from the blame already stored, and edit_outcomes (needs derive_links' temp tables)."""
    queries.execute(con, SURVIVAL_STEP)


def refresh_git_outcomes(con: duckdb.DuckDBPyConnection, cfg: AnalyticsSettings | None = None) -> GitDerived | None:
    """Everything but blame, inside the caller's transaction; None when there is nothing to link."""
    if not run_sql(con, "SELECT EXISTS (SELECT 1 FROM edit_lines) OR EXISTS (SELECT 1 FROM git_commits)")[0][0]:
        return None
    try:
        derived = derive_links(con, cfg)
        derive_survival(con)
    finally:
        drop_temp_tables(con)
    return derived


def drop_temp_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The derivation's scratch tables (TEMP: gone with the connection anyway)."""
    for name in TEMP_TABLES:
        try:
            run_sql(con, f"DROP TABLE IF EXISTS temp.{name}")
        except duckdb.Error:
            pass  # an aborted transaction refuses even this; the connection is being closed anyway


def coverage_line(con: duckdb.DuckDBPyConnection) -> str:
    """The coverage of the links in one line: spend of sessions mapped to no repository, printed
    commits found in none, and agent-trailer commits with no session in the ledger."""
    queries.prepare(con)
    row = queries.frame(con, "view_git_coverage").row(0, named=True)
    share = f"{row['unmapped_cost_share']:.1%}" if row["unmapped_cost_share"] is not None else "n/a"
    return (f"sessions with edits mapped to no scanned repository: {row['unmapped_sessions']} "
            f"({share} of their spend); printed commits found in no scanned repository: {row['printed_not_found']}; "
            f"agent commits without logs: {row['agent_commits_without_logs']}")


def session_turns(con: duckdb.DuckDBPyConnection, filters: object = None, *, session_id: str):
    """One session's turns: cost, useful ratio, and lines written / committed / landed / alive."""
    queries.prepare(con)
    return queries.frame(con, "view_turn_git", {"session_id": session_id})


def landed_cost_share(con: duckdb.DuckDBPyConnection) -> tuple[float | None, float | None]:
    """(share of all spend in turns that landed a line, share in turns with a line still alive at
    the head): the cost-weighted headline. Every request counts in the denominator, those of
    sessions that produced nothing (or whose repository is not scanned) too."""
    row = run_sql(con, """
        WITH turn_lines AS (
            SELECT c.session_id, f.turn_no, sum(e.lines_landed) AS landed, sum(e.lines_alive_head) AS alive
            FROM edit_outcomes e JOIN tool_calls c ON c.tool_use_id = e.tool_use_id
            JOIN request_facts f ON f.request_key = c.request_key GROUP BY ALL
        )
        SELECT sum(f.cost_usd) FILTER (WHERE t.landed > 0) / nullif(sum(f.cost_usd), 0),
               sum(f.cost_usd) FILTER (WHERE t.alive > 0) / nullif(sum(f.cost_usd), 0)
        FROM request_facts f LEFT JOIN turn_lines t USING (session_id, turn_no)""")
    return row[0][0], row[0][1]
