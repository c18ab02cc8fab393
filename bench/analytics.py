"""Analytics benchmark: every report and dashboard view on a year of a 200-person org, on 2 threads.

Run:  .venv/bin/python -m bench.analytics                  (200 people x 360 days)
      .venv/bin/python -m bench.analytics --copies 2 --months 1   (a quick look)
      .venv/bin/python -m bench.analytics --ledger bench/.work/scale/ledger-80x180.duckdb   (a real ledger)

How the year is built (generating and ingesting ~10 GB of transcripts would take an hour): a real
generated org of --base-users people x 30 days is ingested and refreshed normally (timed), then its
derived rollups (session_day_facts, component_day_facts, flags, org_users) and the request tables
(request_facts, requests: flagged spend and the placeholder-output counts join them) are replicated into
--copies x --base-users people and --months x 30 days by renaming people and sessions and shifting
days. The reports read only those rollups, so their timing is that of the full year. With --ledger,
an existing ledger is read as it is instead (bench.scale --keep leaves a real 80 x 180 one, every
table at size). Target: every report well under 1 s (the dashboard also caches results). Each
report's CSV export (analytics/export.py) is timed too, per row.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from analytics import queries
from analytics.export import to_csv
from analytics.filters import Filters
from analytics.refresh import refresh_derived
from analytics.reports import REPORTS, run_report
from ingest.org import load_org, read_org_csv
from agentledger.pipeline import ingest_and_refresh
from ingest.runner import IngestOptions
from sample_data.generator import generate
from store.db import connect_writer
from store.sql import run_sql

TARGET_S = 1.0
# Replicated: the rollups the reports read, and the request tables a few views join (flagged spend
# counted once claims requests; placeholder-output and fallback-model counts read their marks).
ROLLUPS = ("session_day_facts", "component_day_facts", "flags", "request_facts", "requests")


def build_base(out: Path, users: int, seed: int) -> tuple[Path, float, float]:
    """Generate, ingest (which refreshes) and time a full and a no-change refresh."""
    generate(out / "org", users=users, days=30, seed=seed)
    db = out / "ledger.duckdb"
    con = connect_writer(db)
    load_org(con, read_org_csv(out / "org" / "org.csv"))
    ingest_and_refresh(con, IngestOptions(paths=[out / "org"], user_from_dir=True, progress=False)).ingest
    full = refresh_derived(con, full=True).seconds
    noop = refresh_derived(con).seconds
    con.close()
    return db, full, noop


def replicate(db: Path, copies: int, months: int) -> dict[str, int]:
    """Copy the rollups into more people and more days (see the module docstring)."""
    con = duckdb.connect(str(db))
    run_sql(con, "CREATE TEMP TABLE k AS SELECT c, m FROM range(?) t(c), range(?) s(m)", [copies, months])
    for table in ROLLUPS:
        run_sql(con, f"CREATE TEMP TABLE base_{table} AS SELECT * FROM {table}")
        run_sql(con, f"DELETE FROM {table}")
        columns = [r[0] for r in con.execute(f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position").fetchall()]
        shifted = {
            "session_id": "session_id || '-' || c || '-' || m",
            "request_key": "request_key || '-' || c || '-' || m",
            "ts": "ts + to_days((m * 30)::INTEGER)",
            "user_name": "user_name || '-' || c",
            "day": "day + (m * 30)::INTEGER",
            "first_ts": "first_ts + to_days((m * 30)::INTEGER)",
            "last_ts": "last_ts + to_days((m * 30)::INTEGER)",
            "started_at": "started_at + to_days((m * 30)::INTEGER)",
            "ended_at": "ended_at + to_days((m * 30)::INTEGER)",
        }
        select = ", ".join(shifted.get(c, c) for c in columns)
        run_sql(con, f"INSERT INTO {table} SELECT {select} FROM base_{table}, k")
    run_sql(con, "CREATE TEMP TABLE base_org AS SELECT * FROM org_users")
    run_sql(con, "DELETE FROM org_users")
    run_sql(con, "INSERT INTO org_users SELECT user_name || '-' || c, email, display_name, team, manager FROM base_org, (SELECT DISTINCT c FROM k)")
    run_sql(con, "CHECKPOINT")
    sizes = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ROLLUPS}
    sizes["people"] = con.execute("SELECT count(DISTINCT user_name) FROM session_day_facts").fetchone()[0]
    sizes["days"] = con.execute("SELECT count(DISTINCT day) FROM session_day_facts").fetchone()[0]
    sizes["sessions"] = con.execute("SELECT count(DISTINCT session_id) FROM session_day_facts").fetchone()[0]
    con.close()
    return sizes


def time_call(db: Path, fn, repeats: int) -> tuple[float, float, int]:
    """(cold seconds incl. opening the file, median warm seconds, rows) on a 2-thread read-only connection."""
    start = time.perf_counter()
    con = duckdb.connect(str(db), read_only=True)
    run_sql(con, "SET threads = 2")
    rows = fn(con).height
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(con)
        warm.append(time.perf_counter() - start)
    con.close()
    return cold, statistics.median(warm), rows


def sizes_of(db: Path) -> dict[str, int]:
    """What a ledger holds (rows of the tables the pages read, people, days, sessions)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        sizes = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("requests", "tool_calls", "request_facts", *ROLLUPS, "source_files", "ingest_runs")}
        sizes["people"] = con.execute("SELECT count(DISTINCT user_name) FROM session_day_facts").fetchone()[0]
        sizes["days"] = con.execute("SELECT count(DISTINCT day) FROM session_day_facts").fetchone()[0]
        sizes["sessions"] = con.execute("SELECT count(DISTINCT session_id) FROM session_day_facts").fetchone()[0]
        return sizes
    finally:
        con.close()


def csv_seconds(db: Path, name: str, filters: Filters) -> tuple[float, int]:
    """(seconds, rows) of one report's CSV export (the query not included)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        frame = run_report(con, name, filters)
    finally:
        con.close()
    start = time.perf_counter()
    to_csv(frame)
    return time.perf_counter() - start, frame.height


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-users", type=int, default=10)
    parser.add_argument("--copies", type=int, default=20, help="people = base-users x copies")
    parser.add_argument("--months", type=int, default=12, help="days = 30 x months")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ledger", type=Path, help="read this ledger as it is (no generated, replicated year)")
    args = parser.parse_args(argv)
    out = Path(tempfile.mkdtemp(prefix="bench-analytics-"))
    try:
        started = time.perf_counter()
        if args.ledger:
            db = args.ledger
            print(f"ledger {db}: " + ", ".join(f"{k} {v:,}" for k, v in sizes_of(db).items()))
        else:
            db, full, noop = build_base(out, args.base_users, args.seed)
            print(f"base org: {args.base_users} people x 30 days generated+ingested in {time.perf_counter() - started:.1f} s;"
                  f" full refresh {full:.2f} s, no-change refresh {noop:.3f} s")
            sizes = replicate(db, args.copies, args.months)
            print("replicated: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
        span = _span_days(db)
        year = Filters()
        month = Filters(date_from=_day(db, max(span - 30, 0)), date_to=_day(db, span))
        team = Filters(team=_first_team(db))
        print(f"\n{'query':<28}{'filters':<10}{'cold s':>8}{'warm s':>8}{'rows':>8}{'x of 1 s':>10}{'csv s':>8}{'µs/row':>8}")
        worst = 0.0
        for name in REPORTS:
            for label, filters in (("year", year), ("month", month), ("team", team)):
                cold, warm, rows = time_call(db, lambda con: run_report(con, name, filters), args.repeats)
                worst = max(worst, cold)
                export, height = csv_seconds(db, name, filters)
                print(f"report {name:<21}{label:<10}{cold:>8.3f}{warm:>8.3f}{rows:>8}{cold / TARGET_S:>10.2f}"
                      f"{export:>8.3f}{export / max(height, 1) * 1e6:>8.1f}")
        for name, view in queries.VIEWS.items():
            cold, warm, rows = time_call(db, lambda con: view(con, year), args.repeats)
            worst = max(worst, cold)
            print(f"view {name:<23}{'year':<10}{cold:>8.3f}{warm:>8.3f}{rows:>8}{cold / TARGET_S:>10.2f}")
        print(f"\nslowest (cold, incl. opening the database): {worst:.3f} s = {worst / TARGET_S:.2f} x the 1 s target")
        return 0 if worst < TARGET_S else 1
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _span_days(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT coalesce(max(day) - min(day), 0) FROM session_day_facts").fetchone()[0]
    finally:
        con.close()


def _day(db: Path, offset: int):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT min(day) + ?::INTEGER FROM session_day_facts", [offset]).fetchone()[0]
    finally:
        con.close()


def _first_team(db: Path) -> str | None:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT min(team) FROM org_users").fetchone()
        return row[0]
    finally:
        con.close()


if __name__ == "__main__":
    raise SystemExit(main())
