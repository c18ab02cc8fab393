"""Dashboard benchmark: each page's server-side render time on a year of a 200-person org, 2 cores.

Run:  .venv/bin/python -m bench.dashboard                      (200 people x 360 days)
      .venv/bin/python -m bench.dashboard --copies 2 --months 1  (a quick look)
      .venv/bin/python -m bench.dashboard --ledger bench/.work/scale/ledger-80x180.duckdb   (a real ledger)

The year-long ledger is bench.analytics's (a generated org ingested for real, its rollups
replicated to 200 people x 12 months): its request-level tables, manifest and run history stay at
the base org's size, so the Session and Data health pages are not measured at size there; --ledger
reads a real ledger instead (bench.scale --keep leaves an 80 x 180 one, every table at size). Each page runs through Streamlit's AppTest, which executes
the real router and page script in-process: "cold" is the first render with every st.cache_data
cache empty (it opens the file and runs every query), "warm" the median of re-renders within the
cache TTL, which is what a manager clicking around sees. The browser's own drawing is not included.
Target: under 1 s per page.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import streamlit as st
from streamlit.testing.v1 import AppTest

from bench.analytics import build_base, replicate, sizes_of
from store.db import DB_ENV_VAR, reader

TARGET_S = 1.0
APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
PAGES = ("overview", "teams", "plugins", "sessions", "session", "flags", "reports", "health")


def render(page: str, query: dict[str, str | list[str]], cold: bool) -> float:
    """Seconds to run the router plus one page (cold: with every cache emptied first); raises on an exception."""
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    if page != "overview":
        at.run()  # AppTest can only switch page after a first run; that run is not timed
        at.switch_page(f"views/{page}.py")
        for key, value in query.items():
            at.query_params[key] = value
    if cold:
        st.cache_data.clear()
    start = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - start
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].message}")
    return elapsed


def time_page(page: str, query: dict, repeats: int) -> tuple[float, float]:
    """(cold, median warm) seconds for one page."""
    cold = render(page, query, cold=True)
    warm = statistics.median(render(page, query, cold=False) for _ in range(repeats))
    return cold, warm


def _session_with_most_requests(db: Path) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT session_id FROM request_facts GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    finally:
        con.close()


def _span(db: Path) -> tuple[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        first, last = con.execute("SELECT min(day), max(day) FROM session_day_facts").fetchone()
        return str(first), str(last)
    finally:
        con.close()


def _pin_to_two_cores() -> str:
    # The target is stated for 2 cores; on a bigger machine pin this process (DuckDB's threads too).
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 2:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])
    return f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} cores"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-users", type=int, default=10)
    parser.add_argument("--copies", type=int, default=20, help="people = base-users x copies")
    parser.add_argument("--months", type=int, default=12, help="days = 30 x months")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ledger", type=Path, help="read this ledger as it is (no generated, replicated year)")
    args = parser.parse_args(argv)
    cores = _pin_to_two_cores()
    out = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    try:
        started = time.perf_counter()
        if args.ledger:
            db = args.ledger
            sizes = sizes_of(db)
        else:
            db, _, _ = build_base(out, args.base_users, args.seed)
            sizes = replicate(db, args.copies, args.months)
        print(f"ledger ready in {time.perf_counter() - started:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
        os.environ[DB_ENV_VAR] = str(db)
        first, last = _span(db)
        session = _session_with_most_requests(db)
        scenarios = {"last 30 days": {}, "whole year": {"period": [first, last]}}
        first_render = render("health", {}, cold=True)
        opens = []
        for _ in range(5):
            start = time.perf_counter()
            with reader(db):
                pass
            opens.append(time.perf_counter() - start)
        print(f"on {cores}; first render after start (imports): {first_render:.2f} s, not counted below;"
              f" opening a read-only connection: {statistics.median(opens) * 1000:.0f} ms")
        print("cold = empty caches (opens the file, runs every query); warm = within the cache TTL\n")
        print(f"{'page':<12}{'filters':<15}{'cold s':>8}{'warm s':>8}{'x of 1 s (cold)':>17}")
        worst = 0.0
        for page in PAGES:
            for label, query in scenarios.items():
                query = {**query, "session": session} if page == "session" else query
                cold, warm = time_page(page, query, args.repeats)
                worst = max(worst, cold)
                print(f"{page:<12}{label:<15}{cold:>8.3f}{warm:>8.3f}{cold / TARGET_S:>17.2f}")
        print(f"\nslowest page (cold): {worst:.3f} s = {worst / TARGET_S:.2f} x the 1 s target")
        return 0 if worst < TARGET_S else 1
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
