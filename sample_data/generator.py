"""Deterministic generator of a realistic org's Claude Code transcripts, with planted behaviours.

    generate(Path("out"), users=40, days=40)     # ~450 MB, the bench/ingest corpus
    python -m sample_data.generator --committed  # rebuild the committed sample in sample_data/

Layout written (what a log collector gathers from each machine):
    OUT/<user>/.claude/projects/<encoded-cwd>/<sessionId>.jsonl
    OUT/<user>/.claude/projects/<encoded-cwd>/<sessionId>/subagents/agent-<17hex>.jsonl (+ .meta.json)   2.1.x
    OUT/<user>/.claude/projects/<encoded-cwd>/agent-<8hex>.jsonl                                     2.0.x
    OUT/<user>/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl, OUT/<user>/otel/claude-code.json   (~25% of users)
    OUT/org.csv, OUT/ground_truth.json
Same arguments give byte-identical files: every random choice comes from a generator seeded by
(seed, user, day), and no wall clock is read.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from sample_data.codex_gen import SHARE_OF_USERS
from sample_data.git_repos import GitPlan, work_of
from sample_data.ground_truth import Behaviour, GroundTruth, SessionRecord
from sample_data.ids import Ids
from sample_data.org import build_org, write_org_csv
from sample_data.other_agents import OtherAgents
from sample_data.profiles import PROFILES, Profile
from sample_data.real_work import REAL_SCRIPTS, SESSION_KIND
from sample_data.scenarios import FEATURES, SCRIPTS, Plan, feasible
from sample_data.schedule import DayPlan, ordered, plan_days
from sample_data.session import Session, SessionContext, encode_cwd
from sample_data.tools import Toolbox
from sample_data.transcript import Totals, iso

DEFAULT_START = date(2026, 10, 1)
SPIKE_FACTOR = (6.0, 8.0)        # target multiple of the user's median day; accepted range is 5-10x
SPIKE_CEILING = 9.5
FEATURES_PER_SESSION = 4
# 0.4 of the committed 4-user org run other agents: one directory user besides the contractor.
COMMITTED = {"users": 4, "days": 5, "seed": 7, "scale": 0.25, "profile": "compact", "other_agents_share": 0.4}


@dataclass
class GenerationSummary:
    """What one generate() call wrote."""

    users: int
    days: int
    files: int = 0
    bytes: int = 0
    sessions: dict[str, int] = field(default_factory=dict)
    requests: int = 0              # distinct API responses (message.id, requestId) written
    api_errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0         # per response, the largest value written (ccusage rule)
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    spikes: int = 0
    codex_sessions: int = 0
    otel_events: int = 0           # api_request events mirroring transcript requests (auxiliary ones not counted)
    repositories: int = 0          # git repositories written (one per project)

    def add(self, totals: Totals) -> None:
        self.requests += totals.requests
        self.api_errors += totals.api_errors
        self.input_tokens += totals.input
        self.output_tokens += totals.output
        self.cache_creation_tokens += totals.cache_creation
        self.cache_read_tokens += totals.cache_read

    def one_line(self) -> str:
        """Human summary for the CLI."""
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.sessions.items()))
        return (f"{self.users} users x {self.days} days: {sum(self.sessions.values())} sessions ({kinds}), "
                f"{self.spikes} usage spikes, {self.codex_sessions} Codex sessions, {self.otel_events} OTel events, "
                f"{self.files} files, {self.bytes / 1e6:.1f} MB, {self.requests} API requests, "
                f"{self.repositories} git repositories")


@dataclass
class _Built:
    session: Session
    behaviours: list[Behaviour]
    totals: Totals
    kind: str
    used: set[str] = field(default_factory=set)


def _epoch_ms(day: date, hour: float) -> int:
    midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    return int(midnight.timestamp() * 1000 + hour * 3_600_000)


class _Writer:
    """Writes session files under OUT, creating each folder once."""

    def __init__(self, out: Path, summary: GenerationSummary) -> None:
        self.out = out
        self.summary = summary
        self.made: set[Path] = set()

    def write(self, built: _Built) -> list[str]:
        paths = []
        mtime = built.session.end_ms() / 1000
        for f in built.session.finish():
            path = self.out / f.rel_path
            if path.parent not in self.made:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.made.add(path.parent)
            data = f.data if f.data is not None else b"".join(f.thread.lines)
            path.write_bytes(data)
            # A collector preserves mtimes; it keeps the ledger's "unchanged file" check realistic.
            os.utime(path, (mtime, mtime))
            self.summary.files += 1
            self.summary.bytes += len(data)
            paths.append(f.rel_path)
        return paths


class _OrgGenerator:
    def __init__(self, out: Path, seed: int, profile: Profile, summary: GenerationSummary, truth: GroundTruth,
                 agents: OtherAgents, git: GitPlan) -> None:
        self.out = out
        self.git = git
        self.seed = seed
        self.agents = agents
        self.profile = profile
        self.summary = summary
        self.truth = truth
        self.writer = _Writer(out, summary)
        self.day_costs: dict[str, list[float]] = {}
        self.pending = list(FEATURES)

    # -- one session --------------------------------------------------------------------------
    def build(self, plan: DayPlan, kind: str, start_ms: int, rng: random.Random, ids: Ids, script=None) -> _Built:
        user = plan.user
        project = user.team.projects[0] if rng.random() < 0.7 else rng.choice(user.team.projects)
        ticket = f"{user.team.name[:3].upper()}-{rng.randrange(100, 4000)}"
        branch = f"feature/{ticket.lower()}-{rng.choice(('totals', 'retry', 'audit', 'config', 'cart'))}" if rng.random() < 0.6 else "main"
        totals = Totals(log=[] if self.agents.exports_otel(user.handle) else None)
        ctx = SessionContext(user, project, plan.day, start_ms, ids.uuid(), branch, rng, ids, totals,
                             f"{user.handle}/.claude/projects/{encode_cwd(user.cwd(project))}")
        session = Session(ctx)
        extras = Plan(self.profile, ticket, commit=rng.random() < 0.8, api_error=rng.random() < 0.04,
                      force=self._forced(kind, user))
        behaviours = (script or SCRIPTS[kind])(session, Toolbox(session, self.profile), extras)
        return _Built(session, behaviours, totals, kind, extras.used)

    def _forced(self, kind: str, user) -> frozenset[str]:
        # A few not-yet-seen format features per session, so that even a tiny run shows them all.
        if kind == "discarded_work":
            return frozenset(f for f in self.pending if f == "rejected")
        if kind != "normal":
            return frozenset()
        return frozenset([f for f in self.pending if f != "rejected" and feasible(user, f)][:FEATURES_PER_SESSION])

    def keep(self, built: _Built) -> None:
        s = built.session
        self.pending = [f for f in self.pending if f not in built.used]
        files = self.writer.write(built)
        self.git.add(work_of(s, built.kind, self.out))
        self.summary.add(built.totals)
        self.summary.sessions[built.kind] = self.summary.sessions.get(built.kind, 0) + 1
        self.truth.behaviours.extend(built.behaviours)
        ctx = s.ctx
        self.truth.sessions.append(SessionRecord(
            ctx.session_id, ctx.user.handle, ctx.day.isoformat(), built.kind, s.cwd, iso(ctx.start_ms), iso(s.end_ms()),
            built.totals.requests, round(built.totals.cost_usd, 4), files,
        ))

    # -- one user-day -------------------------------------------------------------------------
    def day(self, plan: DayPlan) -> None:
        rng = random.Random(f"{self.seed}:{plan.user.handle}:{plan.day.isoformat()}")
        ids = Ids(rng)
        kinds = rng.sample(plan.kinds, len(plan.kinds))
        history = [c for c in self.day_costs.get(plan.user.handle, []) if c > 0]
        if plan.spike and history:
            built_day = self.spike_day(plan, kinds, statistics.median(history), rng, ids)
        else:
            built_day = self.ordinary_day(plan, kinds, rng, ids)
        built_day += self.real_work(plan, built_day)
        for built in built_day:
            self.keep(built)
        self.other_agents(plan, built_day)
        if plan.workday and not plan.spike:
            self.day_costs.setdefault(plan.user.handle, []).append(sum(b.totals.cost_usd for b in built_day))

    def other_agents(self, plan: DayPlan, built_day: list[_Built]) -> None:
        """The day's Codex rollouts and OTel events of a user who runs more than Claude Code transcripts."""
        requests = [r for b in built_day for r in b.totals.log or ()]
        paths = self.agents.day(plan.user, plan.day, plan.workday, requests)
        self.summary.codex_sessions += len(paths)
        self.summary.otel_events += len(requests)
        self.summary.files += len(paths)
        self.summary.bytes += sum(p.stat().st_size for p in paths)

    def ordinary_day(self, plan: DayPlan, kinds: list[str], rng: random.Random, ids: Ids) -> list[_Built]:
        """Sessions one after another through the working day; unattended ones run alongside."""
        cursor = _epoch_ms(plan.day, plan.user.shift_start_hour + rng.uniform(0, 0.7))
        latest = _epoch_ms(plan.day, 20.5)
        built_day = []
        for kind in kinds:
            if kind == "idle_burn":
                start = _epoch_ms(plan.day, plan.user.shift_start_hour + rng.uniform(0, 2))
            else:
                start = min(cursor, latest - rng.randrange(0, 3_600_000))
            built = self.build(plan, kind, start, rng, ids)
            if kind != "idle_burn":
                cursor = built.session.end_ms() + rng.randrange(5, 60) * 60_000
            built_day.append(built)
        return built_day

    def real_work(self, plan: DayPlan, built_day: list[_Built]) -> list[_Built]:
        """The day's real-work sessions (sample_data/real_work.py), after its other sessions, from a
        generator of their own (the rest of the day stays byte-identical with or without them)."""
        rng = random.Random(f"{self.seed}:real-work:{plan.user.handle}:{plan.day.isoformat()}")
        ids = Ids(rng)
        ends = [b.session.end_ms() for b in built_day if b.kind != "idle_burn"]
        cursor = max(ends) if ends else _epoch_ms(plan.day, plan.user.shift_start_hour)
        built = []
        for name in plan.real:
            # Late enough to follow the day's work, early enough to end (3 h at most) before midnight.
            start = min(cursor + rng.randrange(5, 60) * 60_000, _epoch_ms(plan.day, 19.5) - rng.randrange(0, 3_600_000))
            b = self.build(plan, SESSION_KIND.get(name, name), start, rng, ids, script=REAL_SCRIPTS[name])
            cursor = b.session.end_ms()
            built.append(b)
        return built

    def spike_day(self, plan: DayPlan, kinds: list[str], baseline: float, rng: random.Random, ids: Ids) -> list[_Built]:
        """A tokenmaxxing day: idle and looping sessions in parallel until it costs 5-10x the user's median day."""
        target = baseline * rng.uniform(*SPIKE_FACTOR)
        queue = [k for k in kinds if k != "normal"]
        built_day: list[_Built] = []
        if "normal" in kinds:
            start = _epoch_ms(plan.day, plan.user.shift_start_hour + rng.uniform(0, 0.7))
            built = self.build(plan, "normal", start, rng, ids)
            if built.totals.cost_usd <= 3 * baseline:
                built_day.append(built)
        spent = sum(b.totals.cost_usd for b in built_day)
        small_only = False
        for _ in range(40):
            if spent >= target:
                break
            if queue:
                kind = queue.pop(0)
            elif small_only or target - spent < 1.5 * baseline:
                kind = "loop"
            else:
                kind = rng.choice(("idle_burn", "idle_burn", "loop"))
            built = self.build(plan, kind, _epoch_ms(plan.day, plan.user.shift_start_hour + rng.uniform(0, 4)), rng, ids)
            if spent + built.totals.cost_usd > SPIKE_CEILING * baseline:
                if small_only:
                    break
                small_only = True
                continue
            built_day.append(built)
            spent += built.totals.cost_usd
        self._record_spike(plan, built_day, spent, baseline)
        return built_day

    def _record_spike(self, plan: DayPlan, built_day: list[_Built], spent: float, baseline: float) -> None:
        self.truth.behaviours.append(Behaviour(
            "usage_spike", None, plan.user.handle, plan.day.isoformat(),
            iso(min(b.session.ctx.start_ms for b in built_day)), iso(max(b.session.end_ms() for b in built_day)), [],
            [b.session.ctx.session_id for b in built_day],
            {"day_cost_usd_est": round(spent, 4), "baseline_cost_usd_est": round(baseline, 4),
             "factor": round(spent / baseline, 2), "baseline": "median cost of the user's other workdays"},
        ))
        self.summary.spikes += 1


def generate(out: Path, users: int, days: int, seed: int = 7, start: date = DEFAULT_START, *, scale: float = 1.0,
             profile: str = "full", org_csv: Path | None = None,
             other_agents_share: float = SHARE_OF_USERS, git_dir: Path | None = None) -> GenerationSummary:
    """Write `users` x `days` of transcripts, org.csv and ground_truth.json under `out`, and the
    projects' git repositories (with the mapping file paths.csv) under `git_dir` (default OUT/git)."""
    if users < 1 or days < 1:
        raise ValueError("users and days must be at least 1")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    org = build_org(seed, users)
    write_org_csv(org_csv or out / "org.csv", org)
    summary = GenerationSummary(users, days)
    truth = GroundTruth({"seed": seed, "users": users, "days": days, "start": start.isoformat(), "scale": scale,
                         "profile": profile, "other_agents_share": other_agents_share,
                         "org_csv_missing_users": [u.handle for u in org if not u.in_org_csv],
                         "spike_users": [u.handle for u in org if u.spike_user]})
    agents = OtherAgents(out, seed, org, other_agents_share)
    git = GitPlan(seed)
    git.team(org)
    generator = _OrgGenerator(out, seed, PROFILES[profile], summary, truth, agents, git)
    for plan in ordered(plan_days(seed, org, days, start, scale)):
        generator.day(plan)
    truth.other_agents = agents.finish()
    truth.git = git.build(git_dir or out / "git", start)
    summary.repositories = len(truth.git["repos"])
    for path in agents.files():
        summary.files += 1
        summary.bytes += path.stat().st_size
    truth.write(out / "ground_truth.json")
    return summary


# -- the committed sample ----------------------------------------------------------------------
def regenerate_committed(package_dir: Path | None = None, git_dir: Path | None = None) -> GenerationSummary:
    """Rebuild sample_data/transcripts and sample_data/org.csv from the fixed COMMITTED settings.

    The sample's git repositories are not committed (binary objects nobody can review, a repository
    inside the repository): the same settings build the same repositories, with the shas the
    transcripts print, wherever `git_dir` says (`agentledger demo` does this); without it they are
    built in a temporary folder and dropped."""
    package_dir = package_dir or Path(__file__).resolve().parent
    transcripts = package_dir / "transcripts"
    if transcripts.exists():
        shutil.rmtree(transcripts)
    with tempfile.TemporaryDirectory() as scratch:
        return generate(transcripts, COMMITTED["users"], COMMITTED["days"], COMMITTED["seed"], DEFAULT_START,
                        scale=COMMITTED["scale"], profile=COMMITTED["profile"], org_csv=package_dir / "org.csv",
                        other_agents_share=COMMITTED["other_agents_share"], git_dir=git_dir or Path(scratch) / "git")


def main(argv: list[str] | None = None) -> int:
    """`python -m sample_data.generator`: --committed, or the same options as `agentledger sample generate`."""
    parser = argparse.ArgumentParser(prog="python -m sample_data.generator", description=__doc__.split("\n\n")[0])
    parser.add_argument("--committed", action="store_true", help="rebuild the committed sample in sample_data/")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    args = parser.parse_args(argv)
    if args.committed:
        summary = regenerate_committed()
    elif args.out is None:
        parser.error("--out is required unless --committed")
    else:
        summary = generate(args.out, args.users, args.days, args.seed, args.start, scale=args.scale, profile=args.profile)
    print(summary.one_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
