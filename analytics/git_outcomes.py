"""What `agentledger git scan` needs from analytics besides the refresh: the blame still to do, the
counts it prints, and its coverage line. The derivation itself is analytics/refresh.py GIT_STEPS;
what the pages draw is in analytics/queries.py (git_headline, team_outcomes, ...).

Blame needs the repositories, so the refresh does not run it: `blame_plan` says which (snapshot,
path) pairs the links need and are not blamed yet, and the scan runs them (agentledger/pipeline.py),
then refreshes again.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from analytics import queries
from store.sql import run_sql


@dataclass
class GitDerived:
    """What the links came to: sessions mapped to a repository, links, agent lines in linked commits."""

    sessions_mapped: int
    links: int
    agent_lines: int


def git_derived(con: duckdb.DuckDBPyConnection) -> GitDerived:
    """The counts of the derived git tables as they stand."""
    return GitDerived(*run_sql(con, "SELECT (SELECT count(DISTINCT session_id) FROM session_repos),"
                                    " (SELECT count(*) FROM git_links), (SELECT count(*) FROM commit_agent_lines)")[0])


@dataclass
class BlameWork:
    """One repository's blame still to do: its git dir, the (snapshot, path) pairs not blamed yet,
    every snapshot its plan needs (blame of any other snapshot can go), and for each path the
    snapshots already blamed, newest first (an unchanged file's blame carries over to a later one)."""

    git_dir: str
    pairs: list[tuple[str, str]]
    snapshots: list[str]
    blamed: dict[str, list[str]]


def blame_plan(con: duckdb.DuckDBPyConnection) -> dict[str, BlameWork]:
    """repo_id -> the blame the survival figures still need (only repositories with something to do)."""
    rows = run_sql(con, """
        SELECT p.repo_id, any_value(r.path),
               list(DISTINCT [p.snapshot, p.path]) FILTER (WHERE b.repo_id IS NULL),
               list(DISTINCT p.snapshot)
        FROM git_blame_plan p JOIN git_repos r USING (repo_id)
        LEFT JOIN git_blamed b ON b.repo_id = p.repo_id AND b.snapshot = p.snapshot AND b.path = p.path
        GROUP BY p.repo_id ORDER BY p.repo_id""")
    work = {repo_id: BlameWork(git_dir, sorted((s, p) for s, p in pairs), sorted(snapshots), {})
            for repo_id, git_dir, pairs, snapshots in rows if pairs}
    if work:
        done = run_sql(con, """
            SELECT b.repo_id, b.path, list(b.snapshot ORDER BY g.committed_at DESC, b.snapshot)
            FROM git_blamed b JOIN git_commits g ON g.repo_id = b.repo_id AND g.sha = b.snapshot
            WHERE b.status = 'ok' AND list_contains(?, b.repo_id) GROUP BY ALL""", [sorted(work)])
        for repo_id, path, snapshots in done:
            work[repo_id].blamed[path] = snapshots
    return work


def coverage_line(con: duckdb.DuckDBPyConnection) -> str:
    """The coverage of the links in one line (after `agentledger git scan`): spend of sessions mapped
    to no repository, printed commits found in none, and agent-trailer commits with no session."""
    coverage = queries.git_coverage(con)
    if coverage.height == 0:
        return "no sessions in the ledger yet: run `agentledger ingest`, then scan again to link them"
    row = coverage.row(0, named=True)
    share = f"{row['unmapped_cost_share']:.1%}" if row["unmapped_cost_share"] is not None else "n/a"
    return (f"sessions with edits mapped to no scanned repository: {row['unmapped_sessions']} "
            f"({share} of their spend); printed commits found in no scanned repository: {row['printed_not_found']}; "
            f"agent commits without logs: {row['agent_commits_without_logs']}")
