"""Scale benchmark: a ladder of generated orgs, what a scheduled run costs on each, and cold ingest
against ccusage on the same files. Every figure is a child process timed from outside (wall time,
CPU time, peak RSS), paired runs in one go, medians printed.

Run:  .venv/bin/python -m bench.scale                          (10x30, 40x40, 80x90, 80x180: ~7.5 GB, hours)
      .venv/bin/python -m bench.scale --ladder 10x30,40x40 --repeats 3     (a quicker look)
      .venv/bin/python -m bench.scale --ladder 80x180 --keep               (keep the ledger for bench.dashboard)
      .venv/bin/python -m bench.scale --keep --end 2026-11-28              (reuse the orgs kept from that day)

Rows (per rung: users x days of a generated org ending two days ago, so that nothing is dated after
"now" and quarantined):
- cold ingest: the whole corpus into a new ledger, derived tables included (`agentledger ingest`),
  side by side with `ccusage claude daily` on the same files (alternating which goes first);
- no-op re-ingest: the same command again, nothing changed (the whole process);
- + one new 200-line session: a new transcript (lines of the org's own sessions under new ids shaped
  like real ones, bench/rekey.py) appears;
- + 5 MB appended: ten live sessions grow by 5 MB in all;
- refresh --full: every session derived again, in chunks (`agentledger refresh --full`).

Targets (issue 11), printed as ratios measured in the same run:
- + one session and + 5 MB on the largest rung within 20% of the same on the smallest;
- no-op on the largest rung under 0.5 s;
- cold ingest at most 1.0x ccusage's time on the same files (stretch 0.75x);
- linear: the largest rung's cold time within 10% of (its bytes / the 40x40 rung's bytes) x that rung's;
- peak RSS at most 1 GB at every size.
Every rung's cold ingest runs first; then the scheduled runs take turns across the rungs (a no-op on
each, then + one session on each, then + 5 MB on each, the order reversed each round), so the two
sides of a ratio are measured within seconds of each other.
The machine is shared: the load average is printed for each rung, and the ratios are given in wall
time and in CPU time (the command's own and its children's), which another process's load moves less.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bench import ccusage
from bench.rekey import rekeyed

WORK = Path(__file__).resolve().parent / ".work" / "scale"
LADDER = ((10, 30), (40, 40), (80, 90), (80, 180))
TARGETS = {"small_run_ratio": 1.2, "noop_s": 0.5, "cold_ratio": 1.0, "cold_stretch": 0.75, "linear": 0.10,
           "rss_mb": 1024}
SESSION_LINES = 200
APPEND_BYTES = 5 * 1024 * 1024
APPEND_FILES = 10
AGENTLEDGER = [sys.executable, "-m", "agentledger.cli"]


@dataclass
class Timed:
    wall: float
    cpu: float
    rss_mb: float


@dataclass
class Rung:
    users: int
    days: int
    corpus: Path
    db: Path
    size_bytes: int = 0
    files: int = 0
    rows: dict[str, list[Timed]] = field(default_factory=dict)
    load: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.users}x{self.days}"

    def add(self, row: str, timed: Timed) -> None:
        self.rows.setdefault(row, []).append(timed)

    def median(self, row: str, what: str = "wall") -> float | None:
        values = [getattr(t, what) for t in self.rows.get(row, [])]
        return statistics.median(values) if values else None


def run_measured(command: list[str], env: dict | None = None) -> Timed:
    """One command in a wrapper that reports the command's own peak RSS (not the largest child so far)."""
    wrapper = [sys.executable, "-c", _WRAPPER, *command]
    start = time.perf_counter()
    result = subprocess.run(wrapper, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(f"{' '.join(command[:4])} failed ({result.returncode}): {result.stderr[-1500:]}")
    measured = json.loads(result.stderr.strip().splitlines()[-1])
    return Timed(measured["wall"] if measured["wall"] else wall, measured["cpu"], measured["rss_mb"])


_WRAPPER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = process.stderr.read()
_, status, usage = os.wait4(process.pid, 0)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
if code:
    sys.stderr.write(err.decode(errors="replace")[-1500:])
    sys.exit(code)
sys.stderr.write(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}) + "\\n")
"""


def load_average() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


# -- the corpus ---------------------------------------------------------------------------------

def corpus_for(users: int, days: int, end: date, seed: int) -> Path:
    """The generated org of this rung (made once, kept under bench/.work/scale until --clean)."""
    folder = WORK / f"corpus-{users}x{days}-{end.isoformat()}-s{seed}"
    done = folder / ".complete"
    if not done.exists():
        from sample_data.generator import generate

        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        summary = generate(folder, users=users, days=days, seed=seed, end=end)
        done.write_text(summary.one_line() + "\n")
        print(f"  generated {users}x{days} in {time.perf_counter() - started:.0f} s: {summary.one_line()}", flush=True)
    return folder


def corpus_size(root: Path) -> tuple[int, int]:
    sizes = [p.stat().st_size for p in root.rglob("*") if p.is_file() and p.suffix in (".jsonl", ".json")
             and p.name not in ("ground_truth.json",)]
    return sum(sizes), len(sizes)


_SESSION_ID = re.compile(rb'"sessionId":"[0-9a-f-]{36}"')


def _claude_sessions(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.jsonl") if "/.claude/projects/" in str(p) and "/subagents/" not in str(p)
                  and not p.name.startswith("agent-"))


def add_session(root: Path, tag: str) -> Path:
    """A new 200-line Claude Code session beside the org's largest (its lines and those of the next
    largest, re-keyed, all under one new session id); returns its path, to remove afterwards."""
    sessions = sorted(_claude_sessions(root), key=lambda p: p.stat().st_size, reverse=True)
    lines: list[bytes] = []
    for source in sessions:
        lines.extend(line for line in source.read_bytes().splitlines() if line.strip())
        if len(lines) >= SESSION_LINES:
            break
    session_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"session:{tag}"))
    body = [_SESSION_ID.sub(f'"sessionId":"{session_id}"'.encode(), line) for line in rekeyed(lines[:SESSION_LINES], tag)]
    path = sessions[0].with_name(f"{session_id}.jsonl")
    path.write_bytes(b"\n".join(body) + b"\n")
    return path


def append_mb(root: Path, tag: str) -> list[tuple[Path, int, int]]:
    """Grow ten sessions by 5 MB in all (their own last lines again, re-keyed, as a live session
    goes on); returns (path, size, mtime_ns) of each before, to put the corpus back afterwards."""
    sessions = _claude_sessions(root)
    chosen = sessions[:: max(1, len(sessions) // APPEND_FILES)][:APPEND_FILES]
    budget = APPEND_BYTES // len(chosen)
    before = [(path, path.stat().st_size, path.stat().st_mtime_ns) for path in chosen]
    for n, path in enumerate(chosen):
        tail = [line for line in path.read_bytes().splitlines() if line.strip()][-20:]
        chunk, size, copy = [], 0, 0
        while size < budget:
            for line in rekeyed(tail, f"{tag}{n}c{copy}"):
                chunk.append(line)
                size += len(line) + 1
            copy += 1
        with path.open("ab") as handle:
            handle.write(b"\n".join(chunk) + b"\n")
    return before


def restore(added: list[Path], grown: list[tuple[Path, int, int]]) -> None:
    """The corpus as generated again (it is kept between runs of the benchmark). The grown files
    first: a session added earlier may have been grown since, and is removed after."""
    for path, size, mtime_ns in grown:
        os.truncate(path, size)
        os.utime(path, ns=(mtime_ns, mtime_ns))
    for path in added:
        path.unlink(missing_ok=True)


# -- the runs -----------------------------------------------------------------------------------

def ingest_command(rung: Rung) -> list[str]:
    return [*AGENTLEDGER, "ingest", str(rung.corpus), "--user-from-dir", "--db", str(rung.db), "--no-progress"]


def measure_cold(rung: Rung, cold_repeats: int, with_ccusage: bool) -> None:
    """Cold ingest and ccusage side by side on the rung's files, alternating which goes first."""
    rung.load.append(load_average())
    for n in range(cold_repeats):
        for path in rung.db.parent.glob(rung.db.name + "*"):
            path.unlink()
        steps = [("cold ingest", lambda: run_measured(ingest_command(rung)))]
        if with_ccusage:
            command, env = ccusage.daily_command(rung.corpus)
            steps.append(("ccusage daily", lambda command=command, env=env: run_measured(command, env)))
        for name, step in (steps if n % 2 == 0 else steps[::-1]):
            rung.add(name, step())


def measure_small_runs(rungs: list[Rung], repeats: int) -> None:
    """The scheduled runs, every rung's turn beside the others' in one loop (the order reversed each
    round): a ratio of two rungs then compares runs made within seconds of each other, so a busy
    minute of the shared machine weighs on both sides, not on whichever rung it happened to meet."""
    stamp = datetime.now(timezone.utc).strftime("%H%M%S")
    added: list[Path] = []
    grown: list[tuple[Path, int, int]] = []
    try:
        for n in range(repeats):
            for rung in (rungs if n % 2 == 0 else rungs[::-1]):
                rung.add("no-op re-ingest", run_measured(ingest_command(rung)))
        for n in range(repeats):
            order = rungs if n % 2 == 0 else rungs[::-1]
            for rung in order:
                added.append(add_session(rung.corpus, f"s{stamp}{n}x"))
                rung.add("+ one new 200-line session", run_measured(ingest_command(rung)))
            for rung in order:
                grown.extend(append_mb(rung.corpus, f"a{stamp}{n}x"))
                rung.add("+ 5 MB appended", run_measured(ingest_command(rung)))
    finally:
        restore(added, grown[::-1])


def measure_refresh(rungs: list[Rung], repeats: int) -> None:
    for n in range(repeats):
        for rung in (rungs if n % 2 == 0 else rungs[::-1]):
            rung.add("refresh --full", run_measured([*AGENTLEDGER, "refresh", "--full", "--db", str(rung.db), "--no-progress"]))
    for rung in rungs:
        rung.load.append(load_average())


ROWS = ("cold ingest", "ccusage daily", "no-op re-ingest", "+ one new 200-line session", "+ 5 MB appended",
        "refresh --full")


def print_table(rungs: list[Rung]) -> None:
    header = f"{'':32}" + "".join(f"{r.name} ({r.size_bytes / 1e9:.2f} GB)".rjust(26) for r in rungs)
    print("\n" + header)
    for row in ROWS:
        cells = []
        for rung in rungs:
            wall, cpu, rss = (rung.median(row, what) for what in ("wall", "cpu", "rss_mb"))
            cells.append("-".rjust(26) if wall is None else f"{wall:7.2f} s {cpu:6.1f} cpu {rss:5.0f} MB".rjust(26))
        print(f"{row:32}" + "".join(cells))
    for rung in rungs:
        print(f"machine load during {rung.name} (1, 5, 15 min; start, end): {' -> '.join(rung.load)}")


def print_targets(rungs: list[Rung]) -> None:
    small, large = rungs[0], rungs[-1]
    print(f"\ntargets ({large.name} against {small.name}; medians of paired runs):")

    def line(what: str, value: float | None, target: str, met: bool | None) -> None:
        shown = "-" if value is None else f"{value:.2f}"
        print(f"  {what:62} {shown:>8}  target {target:12} {'met' if met else 'NOT met' if met is not None else ''}")

    for row in ("+ one new 200-line session", "+ 5 MB appended"):
        for what in ("wall", "cpu"):
            a, b = small.median(row, what), large.median(row, what)
            ratio = b / a if a and b else None
            line(f"{row}: {large.name} / {small.name} ({what})", ratio, f"<= {TARGETS['small_run_ratio']}",
                 None if ratio is None else ratio <= TARGETS["small_run_ratio"])
    noop = large.median("no-op re-ingest")
    line(f"no-op re-ingest on {large.name} (s, whole process)", noop, f"< {TARGETS['noop_s']} s",
         None if noop is None else noop < TARGETS["noop_s"])
    for rung in rungs:
        for what in ("wall", "cpu"):
            ours, theirs = rung.median("cold ingest", what), rung.median("ccusage daily", what)
            if ours and theirs:
                ratio = ours / theirs
                line(f"cold ingest / ccusage on {rung.name} ({what})", ratio,
                     f"<= {TARGETS['cold_ratio']} ({TARGETS['cold_stretch']})", ratio <= TARGETS["cold_ratio"])
    base = next((r for r in rungs if (r.users, r.days) == (40, 40)), None)
    if base and large is not base and base.median("cold ingest") and large.median("cold ingest"):
        expected = base.median("cold ingest") * large.size_bytes / base.size_bytes
        ratio = large.median("cold ingest") / expected
        line(f"cold {large.name} / (bytes ratio x cold 40x40): linear is 1.0", ratio,
             f"1.0 +- {TARGETS['linear']}", abs(ratio - 1) <= TARGETS["linear"])
    rss = max((t.rss_mb for r in rungs for row in ROWS if row != "ccusage daily" for t in r.rows.get(row, [])), default=None)
    line("peak RSS of any agentledger command (MB)", rss, f"<= {TARGETS['rss_mb']}",
         None if rss is None else rss <= TARGETS["rss_mb"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ladder", default=",".join(f"{u}x{d}" for u, d in LADDER),
                        help="rungs as USERSxDAYS, comma-separated, smallest first")
    parser.add_argument("--repeats", type=int, default=3, help="paired runs per row (medians are printed)")
    parser.add_argument("--cold-repeats", type=int, help="paired cold ingests and ccusage runs (default: --repeats)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--end", type=date.fromisoformat,
                        help="last day of the generated orgs (default: two days ago); an earlier one reuses kept corpora")
    parser.add_argument("--no-ccusage", action="store_true", help="skip the ccusage comparison")
    parser.add_argument("--keep", action="store_true", help="keep corpora and ledgers under bench/.work/scale")
    args = parser.parse_args(argv)
    end = args.end or datetime.now(timezone.utc).date() - timedelta(days=2)
    rungs = []
    try:
        for spec in args.ladder.split(","):
            users, days = (int(x) for x in spec.lower().split("x"))
            print(f"rung {users}x{days}: {load_average()}", flush=True)
            corpus = corpus_for(users, days, end, args.seed)
            rung = Rung(users, days, corpus, WORK / f"ledger-{users}x{days}.duckdb")
            rung.size_bytes, rung.files = corpus_size(corpus)
            measure_cold(rung, args.cold_repeats or args.repeats, not args.no_ccusage)
            rungs.append(rung)
        print(f"scheduled runs, every rung in turn: {load_average()}", flush=True)
        measure_small_runs(rungs, args.repeats)
        measure_refresh(rungs, args.repeats)
        print_table(rungs)
        print_targets(rungs)
        print(f"\ncommand: python -m bench.scale --ladder {args.ladder} --repeats {args.repeats}"
              f" --cold-repeats {args.cold_repeats or args.repeats} --seed {args.seed} --end {end.isoformat()}")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
