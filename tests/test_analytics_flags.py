"""Flags with their evidence, on hand-built sessions (loop, discarded_work and idle_burn are also
covered in test_analytics_outcomes.py), and on the generated org: recall and false positives."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from analytics.config import AnalyticsSettings
from analytics.refresh import refresh_derived
from sample_data.ground_truth import EXPECTED_FLAG, FORBIDDEN_FLAGS
from tests.helpers import ingest
from tests.transcript_builder import Transcript, load, report

K = (10, 90, 0, 900)
PROMPT = "a secret prompt text that must never reach evidence"


def test_loop_flag_names_the_repeated_call_and_its_span(ledger, tmp_path):
    t = Transcript().prompt(PROMPT)
    for _ in range(4):
        t.reply(K, [("Bash", {"command": "cargo build"}, "error[E0425]: cannot find value", True)])
    t.reply(K)
    load(ledger, tmp_path, t)
    flags = report(ledger, "flags")
    (flag,) = flags
    assert flag["flag"] == "loop" and flag["tokens"] == 4000
    assert flag["evidence"] == "Bash failed 4 times with the same error: cargo build"
    assert (flag["ended_at"] - flag["started_at"]).total_seconds() == 3 * 6  # 5 s gap + 1 s to the result
    assert PROMPT not in json.dumps(report(ledger, "flags"), default=str)


def test_zero_output_needs_large_spend_and_nothing_kept(ledger, tmp_path):
    t = Transcript().prompt()
    for i in range(3):
        t.reply((0, 1000, 0, 0), [("Read", {"file_path": f"/work/app/{i}.py"}, "text")])  # $0.015 each
    t.reply((0, 1000, 0, 0))
    load(ledger, tmp_path, t)
    assert report(ledger, "flags") == []  # $0.06 is far below the default $5
    refresh_derived(ledger, cfg=AnalyticsSettings(zero_output_min_cost_usd=0.05))
    (flag,) = report(ledger, "flags")
    assert (flag["flag"], flag["tokens"], flag["cost_usd"]) == ("zero_output", 4000, 0.06)
    assert flag["evidence"].startswith("4 requests over") and "no surviving edit and no commit" in flag["evidence"]


def test_context_bloat_names_the_component_and_sizes(ledger, tmp_path):
    t = Transcript().prompt()
    t.reply(K, [("mcp__github__list_pull_requests", {"state": "open"}, "p" * 45_000)])
    t.reply(K)
    load(ledger, tmp_path, t)
    (flag,) = report(ledger, "flags")
    assert flag["flag"] == "context_bloat"
    assert flag["evidence"] == "mcp:github injected 1 result(s) totalling 45 kB (largest 45 kB) into the context"
    assert flag["tokens"] == 1000  # the request that consumed the result


def test_reading_the_projects_own_files_is_not_bloat(ledger, tmp_path):
    # cb2e607c: a 61 kB Read of the single-file script the session was packaging.
    t = Transcript().prompt()
    t.reply(K, [("Read", {"file_path": "/work/app/extract.py"}, "x" * 61_000)])
    t.reply(K, [("Grep", {"pattern": "def "}, "y" * 45_000)])
    t.reply(K, [("Read", {"file_path": "/var/log/build.log"}, "z" * 41_000)])
    t.reply(K)
    load(ledger, tmp_path, t)
    (flag,) = report(ledger, "flags")
    assert flag["evidence"] == "builtin:Read injected 1 result(s) totalling 41 kB (largest 41 kB) into the context"
    assert flag["tokens"] == 1000


def test_bloat_is_judged_per_context_and_counts_a_subagents_own_requests(ledger, tmp_path):
    # 741790a4 summed five subagent contexts into one figure, with 0 tokens; ef958aa1 flagged one 43 kB
    # page in a research subagent. A subagent's context is its own; only a context-filling sum counts.
    t = Transcript().prompt()
    for agent, chunks in (("a1", 1), ("a2", 12), ("a3", 12)):
        t.user_text("research", agent=agent)
        for page in range(chunks):
            t.reply(K, [("mcp__docs__fetch", {"page": page}, "d" * 50_000)], agent=agent)
        t.reply((20, 180, 0, 1800), agent=agent)
    t.reply(K)
    load(ledger, tmp_path, t)
    assert report(ledger, "flags") == []   # 50 kB, 600 kB, 600 kB: no context near 1 MB
    u = Transcript("s2").prompt()
    u.user_text("research", agent="b1")
    for page in range(21):
        u.reply(K, [("mcp__docs__fetch", {"page": page}, "d" * 50_000)], agent="b1")
    u.reply((20, 180, 0, 1800), agent="b1")
    load(ledger, tmp_path, u)
    (flag,) = report(ledger, "flags")
    assert flag["evidence"] == ("mcp:docs injected 21 result(s) totalling 1050 kB (largest 50 kB) into the context "
                                "of a subagent")
    assert flag["tokens"] == 20 * 1000 + 2000   # the subagent's requests that read them


def test_usage_spike_compares_a_day_with_the_persons_own_baseline(ledger, tmp_path):
    days = [Transcript(f"d{d}", start=f"2026-03-0{d}T09:00:00").prompt() for d in (2, 3, 4)]
    for t in days:
        t.reply(K)
    spike = Transcript("d5", start="2026-03-05T09:00:00").prompt()
    for _ in range(3):
        spike.reply((30, 270, 0, 2700), [("Bash", {"command": "make"}, "E1", True)])
    spike.reply(K)
    load(ledger, tmp_path, *days, spike)
    flags = {(f["session_id"], f["flag"]): f for f in report(ledger, "flags")}
    assert set(flags) == {("d5", "usage_spike"), ("d5", "loop")}
    evidence = flags[("d5", "usage_spike")]["evidence"]
    # 10,000 vs 1,000 tokens of one model: $0.0165 against a median of $0.00165
    assert evidence.startswith("day spend 0.0165 USD = 10.0x this person's median of 0.0017 USD over 3 active day(s)")
    assert "useful ratio that day 0.1" in evidence


def test_a_big_productive_day_is_not_a_spike(ledger, tmp_path):
    days = [Transcript(f"d{d}", start=f"2026-03-0{d}T09:00:00").prompt() for d in (2, 3, 4)]
    for t in days:
        t.reply(K)
    big = Transcript("d5", start="2026-03-05T09:00:00").prompt()
    big.reply((100, 900, 0, 9000))
    load(ledger, tmp_path, *days, big)
    assert report(ledger, "flags") == []


def test_spend_in_several_flags_of_a_session_counts_once(ledger, tmp_path):
    # R1 fetches a 45 kB MCP result that R2 consumes (context_bloat: R2); R2-R5 each run a failing
    # `cargo build` (loop: R2-R5); R6 answers. The flags count R2 twice (5,000 tokens); the session's
    # flagged spend is the union, R2-R5: 4,000. With zero_output on, all six: 6,000, not 11,000.
    t = Transcript().prompt()
    t.reply(K, [("mcp__github__list_pull_requests", {"state": "open"}, "p" * 45_000)])
    for _ in range(4):
        t.reply(K, [("Bash", {"command": "cargo build"}, "error[E0425]: cannot find value", True)])
    t.reply(K)
    load(ledger, tmp_path, t)
    tokens = {f["flag"]: f["tokens"] for f in report(ledger, "flags")}
    assert tokens == {"context_bloat": 1000, "loop": 4000}
    (session,) = report(ledger, "sessions")
    assert (session["flagged_tokens"], session["flagged_cost_usd"]) == (4000, round(4 * 0.00165, 6))
    refresh_derived(ledger, cfg=AnalyticsSettings(zero_output_min_cost_usd=0.005))
    tokens = {f["flag"]: f["tokens"] for f in report(ledger, "flags")}
    assert tokens == {"context_bloat": 1000, "loop": 4000, "zero_output": 6000}
    (session,) = report(ledger, "sessions")
    assert (session["flagged_tokens"], session["total_tokens"]) == (6000, 6000)
    # each flag's figures are the sum of the requests flag_requests gives it
    assert _unbalanced_flags(ledger) == []


def _unbalanced_flags(con) -> list[tuple]:
    """Flags whose tokens or cost differ from the shares their flag_requests rows add up to."""
    return con.execute(
        "SELECT f.flag_id, f.tokens, round(sum(r.share * r.tokens)), f.cost_usd, sum(r.share * r.cost_usd)"
        " FROM flags f LEFT JOIN flag_requests r USING (flag_id) GROUP BY f.flag_id, f.tokens, f.cost_usd"
        " HAVING f.tokens <> coalesce(round(sum(r.share * r.tokens)), 0)"
        "     OR abs(coalesce(f.cost_usd, 0) - coalesce(sum(r.share * r.cost_usd), 0)) > 1e-9"
    ).fetchall()


def test_flag_counts_reach_the_people_and_session_reports(ledger, tmp_path):
    t = Transcript().prompt()
    for _ in range(3):
        t.reply(K, [("Bash", {"command": "make"}, "E", True)])
    load(ledger, tmp_path, t)
    assert report(ledger, "users")[0]["flagged_sessions"] == 1
    assert report(ledger, "sessions")[0]["flags"] == "loop"


# -- the generated org ----------------------------------------------------------------------------

def _generated(tmp_path_factory):
    generator = pytest.importorskip("sample_data.generator")
    out = tmp_path_factory.mktemp("org")
    generator.generate(out, users=8, days=30, seed=11)
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from store.db import connect_writer

    out = _generated(tmp_path_factory)
    con = connect_writer(out / "ledger.duckdb")
    ingest(con, out, user=None, user_from_dir=True)
    truth = json.loads((out / "ground_truth.json").read_text())
    flagged = defaultdict(set)
    for session_id, flag in con.execute("SELECT session_id, flag FROM flags").fetchall():
        flagged[session_id].add(flag)
    unbalanced = _unbalanced_flags(con)
    ids = con.execute("SELECT count(*), count(DISTINCT flag_id), count(flag_id) FROM flags").fetchone()
    con.close()
    return truth, flagged, (unbalanced, ids)


def test_every_flag_lists_the_requests_it_counts(generated):
    _, _, (unbalanced, (flags, distinct_ids, with_id)) = generated
    assert flags > 10 and distinct_ids == with_id == flags
    assert unbalanced == []


def test_every_planted_behaviour_is_found(generated):
    truth, flagged, _ = generated
    missed = []
    for b in truth["behaviours"]:
        if b["kind"] not in EXPECTED_FLAG:
            continue
        sessions = [b["session_id"]] if b["session_id"] else b["session_ids"]
        if not any(EXPECTED_FLAG[b["kind"]] in flagged.get(s, ()) for s in sessions):
            missed.append((b["kind"], sessions[:1]))
    planted = sum(1 for b in truth["behaviours"] if b["kind"] in EXPECTED_FLAG)
    methods = {(b["kind"], b["detail"].get("method") or b["detail"].get("pattern")) for b in truth["behaviours"]}
    assert {("discarded_work", "rewind"), ("loop", "command_variations")} <= methods
    assert planted > 10 and missed == []


def test_real_work_that_looks_like_waste_raises_no_flag(generated):
    # Steering, Claude Code's own error messages and agents, a lost main transcript (real_work.py).
    truth, flagged, _ = generated
    kinds = {b["kind"] for b in truth["behaviours"]}
    assert set(FORBIDDEN_FLAGS) <= kinds
    raised = [(b["kind"], flag, b["session_id"]) for b in truth["behaviours"] for flag in FORBIDDEN_FLAGS.get(b["kind"], ())
              if flag in flagged.get(b["session_id"], ())]
    assert raised == []


def test_normal_sessions_are_rarely_flagged(generated):
    truth, flagged, _ = generated
    normal = [s["session_id"] for s in truth["sessions"] if s["kind"] == "normal"]
    false_positives = [s for s in normal if flagged.get(s)]
    assert len(normal) > 100
    assert len(false_positives) / len(normal) < 0.05
