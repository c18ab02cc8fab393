"""The shared real corpus, ingested in place, and the judged flags of tests/golden/real_flags.toml.

    python -m tests.real_corpus        # precision of the rules in this checkout, and unjudged flags

Each real project folder is its own user (folder name), spotter is "spotter", the agtrace samples
are "agtrace". The daaain pair's transcript is byte-identical to danieldemmel-me-next/9e953218, so
it is not ingested a second time (it would only decide which of two users owns the session).
"""

from __future__ import annotations

import sys
import tempfile
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tests.helpers import REPO, ingest, shared_dir

CORPUS = shared_dir() / "corpus"
PROJECTS = CORPUS / "iansherr__claude-code-log/test/test_data/real_projects"
SPOTTER = CORPUS / "pairs/marot__spotter/test"
AGTRACE = CORPUS / "lanegrid__agtrace/crates/agtrace-providers/tests/samples"
GOLDEN = REPO / "tests" / "golden" / "real_flags.toml"
# Two spans that merely touch still belong together (timestamps are stored to the millisecond).
TOLERANCE = timedelta(seconds=1)


def available() -> bool:
    """Whether ../shared/corpus is there to read."""
    return PROJECTS.is_dir() and SPOTTER.is_dir()


def ingest_real_corpus(con) -> None:
    """Every real folder as its own user, read in place (and refreshed)."""
    for folder in sorted(p for p in PROJECTS.iterdir() if p.is_dir()):
        ingest(con, folder, user=folder.name)
    ingest(con, SPOTTER, user="spotter")
    ingest(con, AGTRACE, user="agtrace")


@dataclass(frozen=True)
class Judged:
    """One entry of the golden set."""

    session: str
    flag: str
    start: datetime
    end: datetime
    subject: str
    verdict: str
    expect: str
    judged_on: str
    reason: str
    decision: str | None = None


@dataclass(frozen=True)
class Raised:
    """One flag the rules raise."""

    session: str
    flag: str
    start: datetime
    end: datetime
    tokens: int
    evidence: str

    def matches(self, judged: Judged) -> bool:
        """Same session and kind, overlapping time spans."""
        return (self.session == judged.session and self.flag == judged.flag
                and self.start <= judged.end + TOLERANCE and judged.start <= self.end + TOLERANCE)


def load_golden(path: Path = GOLDEN) -> list[Judged]:
    """The judged set, validated: a wrong or debatable entry must say what it expects and why."""
    entries = []
    for raw in tomllib.loads(path.read_text(encoding="utf-8"))["flag"]:
        entry = Judged(raw["session"], raw["flag"], datetime.fromisoformat(raw["from"]),
                       datetime.fromisoformat(raw["to"]), raw["subject"], raw["verdict"], raw["expect"],
                       raw["judged_on"], raw["reason"], raw.get("decision"))
        if entry.verdict not in ("right", "wrong", "debatable") or entry.expect not in ("raised", "not_raised"):
            raise ValueError(f"{path}: bad verdict or expect in {raw}")
        if entry.verdict == "debatable" and not entry.decision:
            raise ValueError(f"{path}: a debatable entry needs a decision: {raw}")
        if (entry.verdict == "right") != (entry.expect == "raised") and entry.verdict != "debatable":
            raise ValueError(f"{path}: a right flag is expected raised, a wrong one not: {raw}")
        entries.append(entry)
    return entries


def raised_flags(con) -> list[Raised]:
    """Every flag in the ledger."""
    rows = con.execute("SELECT session_id, flag, started_at, ended_at, tokens, evidence FROM flags "
                       "ORDER BY session_id, started_at, flag").fetchall()
    return [Raised(*row) for row in rows]


def verdicts_of(raised: list[Raised], golden: list[Judged]) -> list[tuple[Raised, list[Judged]]]:
    """Each raised flag with the judged entries it matches."""
    return [(flag, [j for j in golden if flag.matches(j)]) for flag in raised]


def precision(rows: list[tuple[Raised, list[Judged]]]) -> tuple[int, int, Counter]:
    """(right, raised, verdict counts) for raised flags; unjudged ones count as 'unjudged'."""
    counts: Counter = Counter()
    for _, matched in rows:
        verdicts = {j.verdict for j in matched}
        if not verdicts:
            counts["unjudged"] += 1
        elif len(verdicts) == 1:
            counts[verdicts.pop()] += 1
        else:
            counts["conflicting"] += 1
    return counts["right"], len(rows), counts


def _before(golden: list[Judged]) -> tuple[int, int, Counter]:
    before = [j for j in golden if j.judged_on == "before"]
    counts = Counter(j.verdict for j in before)
    return counts["right"], len(before), counts


def main() -> int:
    """Print precision before (the judged set) and after (the rules in this checkout)."""
    if not available():
        print(f"real corpus not found under {CORPUS}", file=sys.stderr)
        return 2
    from store.db import connect_writer

    golden = load_golden()
    with tempfile.TemporaryDirectory() as tmp:
        con = connect_writer(Path(tmp) / "real.duckdb")
        ingest_real_corpus(con)
        rows = verdicts_of(raised_flags(con), golden)
        con.close()
    right_b, raised_b, counts_b = _before(golden)
    right_a, raised_a, counts_a = precision(rows)
    print(f"{'rules':<8}{'raised':>8}{'right':>7}{'wrong':>7}{'debatable':>11}{'unjudged':>10}{'precision':>11}")
    for name, right, raised, counts in (("before", right_b, raised_b, counts_b), ("after", right_a, raised_a, counts_a)):
        share = f"{right / raised:.1%}" if raised else "n/a"
        print(f"{name:<8}{raised:>8}{right:>7}{counts['wrong']:>7}{counts['debatable']:>11}{counts['unjudged']:>10}{share:>11}")
    missed = [j for j in golden if j.expect == "raised" and not any(f.matches(j) for f, _ in rows)]
    for flag, matched in rows:
        if not matched:
            print(f"UNJUDGED {flag.session} {flag.flag} {flag.start} {flag.end} {flag.tokens} {flag.evidence}")
    for judged in missed:
        print(f"MISSING  {judged.session} {judged.flag} {judged.start} {judged.subject}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
