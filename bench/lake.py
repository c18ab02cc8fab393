"""Lake benchmark: ingest throughput with 1, 2 and 4 workers on a DuckLake (PostgreSQL catalog) next to
the single file, the small-run latency on both, and what one more machine would add at org scale.

Run:  AGENTLEDGER_TEST_PG='host=... user=... password=... dbname=...' .venv/bin/python -m bench.lake
      .venv/bin/python -m bench.lake --users 8 --days 6          (a quick look)
The PostgreSQL role needs to create schemas in that database: each measurement gets a fresh lake
(its own METADATA_SCHEMA), dropped afterwards. Workers are sharded by user (--shard k/N), each its
own process, as they would be on N machines; on one machine they also share its cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.ingest import append_one_percent, folder_bytes
from sample_data.generator import generate

WORKER = """
import json, sys, time
from agentledger.pipeline import ingest_and_refresh
from ingest.runner import IngestOptions
from store.db import open_ledger
k, n, corpus = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
started = time.perf_counter()
with open_ledger(None) as ledger:
    summary = ingest_and_refresh(ledger, IngestOptions(paths=[corpus], user_from_dir=True, progress=False,
                                                      shard=(k, n) if n > 1 else None)).ingest
    stats = getattr(ledger, "stats", None)
print(json.dumps({"seconds": time.perf_counter() - started, "bytes": summary.bytes_read,
                  "commits": stats.commits if stats else None, "conflicts": stats.conflicts if stats else None,
                  "commit_seconds": stats.seconds if stats else None}))
"""

# The org the issue sizes: engineers, log volume and API requests per day.
ORG = {"engineers": (5_000, 20_000), "gb_per_day": (50, 700), "requests_per_day": (1e6, 40e6)}


def _pg_con(conninfo: str):
    import duckdb

    from store import lake

    con = duckdb.connect()
    lake.load_extension(con, "duckdb_extension_postgres_scanner", "postgres_scanner")
    con.execute(f"ATTACH {lake.quote(conninfo)} AS pg (TYPE postgres)")
    return con


def _env(conninfo: str, schema: str, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "AGENTLEDGER_DB"}
    env.update(AGENTLEDGER_STORE=f"ducklake:postgres:{conninfo}", AGENTLEDGER_LAKE_SCHEMA=schema,
               AGENTLEDGER_DATA_PATH=str(data))
    return env


def run_workers(n: int, corpus: Path, env: dict[str, str]) -> tuple[float, list[dict]]:
    """Wall seconds for n sharded workers to load `corpus`, and what each reported."""
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(k), str(n), str(corpus)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(n)]
    results = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"worker failed: {err[-800:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return time.perf_counter() - started, results


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--pg", default=os.environ.get("AGENTLEDGER_TEST_PG"),
                        help="libpq connection string (default: $AGENTLEDGER_TEST_PG)")
    args = parser.parse_args(argv)
    if not args.pg:
        parser.error("no PostgreSQL: pass --pg or set AGENTLEDGER_TEST_PG")

    work = Path(tempfile.mkdtemp(prefix="agentledger-bench-lake-"))
    corpus = work / "corpus"
    schemas: list[str] = []
    cli = [sys.executable, "-m", "agentledger.cli"]
    try:
        generate(corpus, users=args.users, days=args.days)
        mb = folder_bytes(corpus) / 1e6
        print(f"corpus: {args.users} users x {args.days} days, {mb:.0f} MB of logs; {os.cpu_count()} cores; "
              f"load average {os.getloadavg()[0]:.1f}")

        plain = {k: v for k, v in os.environ.items() if k not in ("AGENTLEDGER_DB", "AGENTLEDGER_STORE")}
        single = work / "single.duckdb"
        file_s, file_runs = run_workers(1, corpus, {**plain, "AGENTLEDGER_DB": str(single)})
        print(f"\nsingle file, 1 worker:  {file_s:7.1f} s  {mb / file_s:6.2f} MB/s")

        rows = []
        for n in (1, 2, 4):
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            schemas.append(schema)
            env = _env(args.pg, schema, work / f"lake-{n}")
            subprocess.run(cli + ["org", "load", str(corpus / "org.csv")], env=env, check=True, capture_output=True)
            wall, results = run_workers(n, corpus, env)
            commits = sum(r["commits"] for r in results)
            conflicts = sum(r["conflicts"] for r in results)
            in_commits = sum(r["commit_seconds"] for r in results)
            per_worker = [r["bytes"] / 1e6 / r["seconds"] for r in results]
            rows.append((n, wall, commits, conflicts, per_worker, env, in_commits))
            print(f"lake, {n} worker(s):     {wall:7.1f} s  {mb / wall:6.2f} MB/s  ({mb / wall / (mb / rows[0][1]):.2f}x one)"
                  f"  commits {commits}, redone after a conflict {conflicts}, {commits / wall:.2f} commits/s"
                  f"  per worker {', '.join(f'{p:.2f}' for p in per_worker)} MB/s; {in_commits:.1f} s in transactions")

        # Small runs: nothing new (the scheduled no-op), then 1% appended.
        env1 = rows[0][5]
        lake_cmd = cli + ["ingest", str(corpus), "--user-from-dir", "--no-progress"]
        file_cmd = lake_cmd + ["--db", str(single)]
        noop_lake, noop_file = timed(lake_cmd, env1), timed(file_cmd, plain)
        added = append_one_percent(corpus)
        small_lake, small_file = timed(lake_cmd, env1), timed(file_cmd, plain)
        print(f"\nsmall runs (whole CLI process)      lake      file")
        print(f"  nothing new (no-op):            {noop_lake:6.2f} s  {noop_file:6.2f} s")
        print(f"  {added / 1e6:.1f} MB appended to 1% of files: {small_lake:6.2f} s  {small_file:6.2f} s")

        shipped = ship_and_load(corpus, args.pg, work, schemas)
        estimate(rows, mb, shipped)
        return 0
    finally:
        if schemas:
            con = _pg_con(args.pg)
            for schema in schemas:
                con.execute(f"CALL postgres_execute('pg', 'DROP SCHEMA IF EXISTS {schema} CASCADE')")
            con.close()
        shutil.rmtree(work, ignore_errors=True)


def ship_and_load(corpus: Path, pg: str, work: Path, schemas: list[str]) -> dict[str, float]:
    """Every user ships from a "laptop" of their own; one central worker loads the batches."""
    from ingest.shipping import ShipOptions, ship

    dest, mb = work / "shipped", folder_bytes(corpus) / 1e6
    users = sorted(p for p in corpus.iterdir() if p.is_dir())
    started = time.perf_counter()
    for user in users:
        os.environ["AGENTLEDGER_HOST_ID"] = user.name
        ship(ShipOptions(dest=str(dest), paths=[user], user=user.name, state=work / f"state-{user.name}.duckdb",
                         progress=False))
    os.environ.pop("AGENTLEDGER_HOST_ID", None)
    ship_s = time.perf_counter() - started
    batch_mb = sum(p.stat().st_size for p in dest.glob("*/*.parquet")) / 1e6
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    schemas.append(schema)
    env = _env(pg, schema, work / "lake-shipped")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "agentledger.cli", "ingest", str(dest), "--shipped", "--no-progress"],
                   env=env, check=True, capture_output=True)
    load_s = time.perf_counter() - started
    print(f"\nshipped: {len(users)} laptops parsed {mb:.0f} MB of logs in {ship_s:.1f} s together "
          f"({mb / ship_s:.2f} MB/s on one laptop's core), sending {batch_mb:.1f} MB of Parquet "
          f"({batch_mb / mb:.1%} of the logs)")
    print(f"central load of the shipped batches into a lake, 1 worker: {load_s:.1f} s = {mb / load_s:.2f} MB/s of "
          f"laptop logs ({batch_mb / load_s:.2f} MB/s of Parquet)")
    return {"log_mb_per_s": mb / load_s, "parquet_share": batch_mb / mb}


def estimate(rows, mb: float, shipped: dict[str, float]) -> None:
    """What one more machine adds, from the measured figures."""
    one = rows[0]
    per_worker = mb / one[1]                          # MB/s of logs one worker sustains alone, parse + commit
    serial = one[6] / mb                              # seconds of (serialized) transaction per MB of logs
    capacity = 1 / serial                             # MB/s of logs the lake takes however many workers
    best = max(rows, key=lambda r: r[2] / r[1])
    print("\nscale-out estimate (from these measurements; workers on separate machines do not share cores):")
    print(f"  one collector worker: {per_worker:.2f} MB/s of logs = {per_worker * 86.4:,.0f} GB/day; of its {one[1]:.1f} s, "
          f"{one[6]:.1f} s were transactions, which the lake's writers take one at a time")
    print(f"  so the lake takes at most {capacity:.2f} MB/s of raw logs = {capacity * 86.4:,.0f} GB/day, whatever the "
          f"number of workers; the catalog committed up to {best[2] / best[1]:.2f} transactions/s here")
    print(f"  with laptops shipping: {shipped['log_mb_per_s']:.2f} MB/s of laptop logs per central worker = "
          f"{shipped['log_mb_per_s'] * 86.4:,.0f} GB/day (batches are {shipped['parquet_share']:.1%} of the logs)")
    for gb in ORG["gb_per_day"]:
        need = gb * 1e3 / 86400
        print(f"  {gb:>4} GB/day = {need:6.2f} MB/s of logs: {need / per_worker:5.1f} collector machines "
              f"(lake bound {need / capacity:4.1f}x its capacity), or {need / shipped['log_mb_per_s']:5.2f} central "
              f"workers loading shipped batches")


if __name__ == "__main__":
    sys.exit(main())
