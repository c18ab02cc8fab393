"""Ingest benchmark: a ~450 MB generated corpus, cold / no-op / append-1% runs, peak RSS, vs ccusage.

Run:  .venv/bin/python -m bench.ingest            (40 users x 40 days, ~450 MB)
      .venv/bin/python -m bench.ingest --users 4 --days 4   (a quick look)
Targets on the 2-core machine: cold ingest no slower than ccusage (ratio <= 1.0), no-op
re-ingest under 0.5 s, peak RSS under 1.5 GB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import ccusage
from bench.rekey import rekeyed
from sample_data.generator import generate

TARGETS = {"ratio": 1.0, "noop_s": 0.5, "rss_mb": 1536}


def timed_child(command: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stdout) of one child process, measured by wait4."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({process.returncode}): {process.stderr.read().decode()[:500]}")
    return elapsed, usage.ru_maxrss / 1024, out


def folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.jsonl"))


def append_one_percent(root: Path) -> int:
    """Grow 1% of the files by 1% of the corpus bytes in all, repeating each file's last lines
    under new message/request ids, as live sessions would; returns the bytes appended."""
    files = sorted(root.rglob("*.jsonl"))
    chosen = files[:: 100][: max(1, len(files) // 100)]
    budget = folder_bytes(root) // 100 // len(chosen)
    added = 0
    for n, path in enumerate(chosen):
        tail = [line for line in path.read_bytes().splitlines() if line][-20:]
        if not tail:
            continue
        chunk, copy = [], 0
        while sum(map(len, chunk)) < budget:
            chunk.extend(rekeyed(tail, f"{n}_{copy}"))
            copy += 1
        data = b"\n".join(chunk) + b"\n"
        with path.open("ab") as handle:
            handle.write(data)
        added += len(data)
    return added


def ledger_totals(db: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    row = con.execute(
        # ccusage reads Claude Code transcripts only; the generated org also has Codex and OTel data.
        "SELECT sum(input_tokens), sum(output_tokens), sum(cache_creation_tokens), sum(cache_read_tokens)"
        " FROM requests WHERE source = 'claude'"
    ).fetchone()
    con.close()
    return dict(zip(("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens"), map(int, row)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the generated corpus and ledger")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="agentledger-bench-"))
    corpus, db = work / "corpus", work / "bench.duckdb"
    agentledger = [sys.executable, "-m", "agentledger.cli"]
    try:
        t0 = time.perf_counter()
        generate(corpus, users=args.users, days=args.days)
        size_mb = folder_bytes(corpus) / 1e6
        print(f"corpus: {args.users} users x {args.days} days, {size_mb:.0f} MB, generated in {time.perf_counter() - t0:.1f} s")

        ingest = agentledger + ["ingest", str(corpus), "--user-from-dir", "--db", str(db), "--no-progress"]
        cold_s, cold_rss, _ = timed_child(ingest)
        noop_s, _, _ = timed_child(ingest)
        added = append_one_percent(corpus)
        append_s, _, _ = timed_child(ingest)

        refresh_s, _, _ = timed_child(agentledger + ["refresh", "--full", "--db", str(db)])
        command, env = ccusage.daily_command(corpus)
        cc_s, cc_rss, _ = timed_child(command, env)
        theirs = ccusage.daily_totals(corpus)
        ours = ledger_totals(db)

        ratio = cold_s / cc_s
        load_ratio = (cold_s - refresh_s) / cc_s
        print(f"cold ingest:        {cold_s:6.2f} s  {size_mb / cold_s:6.1f} MB/s  peak RSS {cold_rss:6.0f} MB")
        print(f"  of which the derived-table refresh (costs, outcomes, flags): about {refresh_s:.2f} s "
              f"(agentledger refresh --full, timed alone)")
        print(f"no-op re-ingest:    {noop_s:6.2f} s  (target < {TARGETS['noop_s']} s)")
        print(f"append 1% + ingest: {append_s:6.2f} s  ({added / 1e6:.1f} MB appended)")
        print(f"ccusage {ccusage.VERSION} daily:  {cc_s:6.2f} s  peak RSS {cc_rss:6.0f} MB")
        print(f"ratio cold/ccusage: {ratio:6.2f}    (target <= {TARGETS['ratio']}); loading alone: {load_ratio:.2f}")
        print(f"peak RSS:           {cold_rss:6.0f} MB (target < {TARGETS['rss_mb']} MB)")
        print(f"Claude totals equal to ccusage after append: {ours == theirs}  ours={ours} ccusage={theirs}")
        return 0
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
