"""Facts about the pipeline itself (ingest runs, files, rejects, freshness, format drift): what the
Data health page shows so a reader can judge whether today's figures can be trusted. No metric here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import duckdb
import polars as pl

from analytics import queries

# The pipeline counts as stale when no ingest finished within this window (daily cron + slack).
STALE_AFTER = timedelta(hours=26)

# A source whose newest request is older than this probably stopped reaching the ledger.
QUIET_SOURCE_DAYS = 7

# The manifest's source for files no parser recognised (bookkeeping, not a source to watch).
UNRECOGNISED_SOURCE = "unrecognised"

FACTS: dict[str, str] = {
    # The most recent ingest runs with their counters, newest first.
    "runs": "SELECT run_id, started_at, ended_at, status, date_diff('millisecond', started_at, ended_at) / 1000.0"
            " AS seconds, files_seen, files_new, files_changed, files_unchanged, files_missing, files_failed,"
            " lines, requests_new, requests_updated, rejects, unknown_types, unknown_fields, error, command"
            " FROM ingest_runs ORDER BY run_id DESC LIMIT 20",
    # Per source: files known, files gone at the source, lines and bytes loaded, last seen.
    "files": "SELECT source, count(*) AS files, count(*) FILTER (WHERE missing) AS files_missing,"
             " count(DISTINCT user_name) AS people, sum(lines_loaded) AS lines, sum(offset_loaded) AS bytes_loaded,"
             " max(last_seen_at) AS last_seen_at FROM source_files GROUP BY source ORDER BY source",
    # The totals of the two above: files known and lines loaded (every source), lines quarantined.
    "totals": "SELECT (SELECT count(*) FROM source_files) AS files,"
              " (SELECT coalesce(sum(lines_loaded), 0) FROM source_files) AS lines,"
              " (SELECT count(*) FROM rejects) AS rejected_lines",
    # Quarantined lines grouped by reason, with one example location each.
    "rejects": "SELECT reason, count(*) AS lines, count(DISTINCT path) AS files, max(run_id) AS last_run_id,"
               " arg_min(path || ':' || line_no, run_id) AS example FROM rejects GROUP BY reason ORDER BY lines DESC",
    # Per source: newest request timestamp and the last time one of its files was read.
    "freshness": "WITH latest AS (SELECT source, max(ts) AS newest_request, count(*) AS requests FROM requests GROUP BY source),"
                 " seen AS (SELECT source, max(last_seen_at) AS last_file_seen FROM source_files GROUP BY source)"
                 " SELECT coalesce(l.source, s.source) AS source, l.requests, l.newest_request, s.last_file_seen"
                 " FROM latest l FULL OUTER JOIN seen s ON s.source = l.source ORDER BY 1",
    # Per person and machine, when their data last arrived (a file read, or a shipped batch loaded),
    # quietest first. Shipped batches name the machine (a hashed id); collected logs do not. Only the
    # people in the viewer's scope, as the viewer sees them (macros.sql: in_scope, person).
    "arrivals": "SELECT coalesce(person(f.user_name), '(from the records)') AS user_name,"
                " CASE WHEN f.source = 'shipped' THEN coalesce(f.host_id, '(unknown machine)') ELSE '(collected logs)' END"
                " AS machine, count(*) AS files, sum(f.lines_loaded) AS records, max(f.last_seen_at) AS last_arrival"
                " FROM source_files f LEFT JOIN org_users o ON o.user_name = f.user_name"
                " WHERE f.source NOT IN ('unrecognised') AND f.last_seen_at IS NOT NULL"
                " AND in_scope(f.user_name, team_of(o.team))"
                " GROUP BY ALL ORDER BY last_arrival, user_name, machine",
    # People in the org directory with no data at all: no file or batch in their name, no request.
    # In the viewer's scope; display name and e-mail only for a viewer who sees names.
    "silent_people": "SELECT person(o.user_name) AS user_name,"
                     " CASE WHEN scope()['ipad'] IS NULL THEN o.display_name END AS display_name, o.team,"
                     " CASE WHEN scope()['ipad'] IS NULL THEN o.email END AS email FROM org_users o"
                     " WHERE in_scope(o.user_name, team_of(o.team))"
                     " AND NOT EXISTS (SELECT 1 FROM source_files f WHERE f.user_name = o.user_name)"
                     " AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.user_name = o.user_name)"
                     " ORDER BY o.team NULLS LAST, person(o.user_name)",
    # Record types and fields the parsers did not know, counted (format drift).
    "drift": "SELECT source, kind, name, occurrences, first_path FROM schema_drift ORDER BY occurrences DESC LIMIT 50",
}


def facts(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """Every data-health table: runs, files, rejects, freshness, arrivals, silent people, drift
    (people in the scope bound on `con`, if any)."""
    queries.prepare(con)
    return {name: queries.select(con, sql) for name, sql in FACTS.items()}


@dataclass(frozen=True)
class Staleness:
    """How old the pipeline's last successful run is, and whether that is too old."""

    last_ok_run_at: datetime | None
    age: timedelta | None
    stale: bool


def staleness(runs: pl.DataFrame, now: datetime | None = None) -> Staleness:
    """Stale when no ingest run finished successfully within STALE_AFTER (timestamps are naive UTC)."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    ok = runs.filter(pl.col("status") == "ok") if runs.height else runs
    if not ok.height:
        return Staleness(None, None, True)
    last = ok["ended_at"].max()
    age = now - last
    return Staleness(last, age, age > STALE_AFTER)
