"""The sample generator: deterministic, parseable with zero rejects, and honest about what it planted."""

from __future__ import annotations

import json
import random
import statistics
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from agentledger.cli import main as cli_main
from ingest.org import read_org_csv
from agentledger.pipeline import ingest_and_refresh
from ingest.runner import IngestOptions
from sample_data.catalog import MODELS
from sample_data.generator import COMMITTED, DEFAULT_START, generate, regenerate_committed
from sample_data.ground_truth import load
from sample_data.ids import Ids
from sample_data.paths import committed_ground_truth, committed_org_csv, committed_transcripts_dir
from sample_data.transcript import Envelope, Thread
from sample_data.usage import Usage
from store.db import connect_writer

T0 = 1_790_000_000_000   # 2026-09-21, any fixed instant


def _ingest(db: Path, root: Path):
    con = connect_writer(db)
    summary = ingest_and_refresh(con, IngestOptions(paths=[root], user_from_dir=True, progress=False), command="test").ingest
    return con, summary


def _transcript_rejects(con) -> list[tuple]:
    """Rejected lines, and failed files, of the transcripts themselves (everything below ROOT/<user>/)."""
    return con.execute("SELECT path, line_no, reason FROM rejects WHERE path NOT LIKE '%/ground_truth.json'").fetchall()


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _scan(root: Path) -> tuple[int, int, tuple[int, int, int, int]]:
    """ccusage's rule, written independently: one entry per (message.id, requestId), largest usage wins."""
    best: dict[tuple, tuple[int, int, int, int]] = {}
    lines = 0
    for path in sorted(root.rglob("*.jsonl")):
        for raw in path.read_bytes().splitlines():
            line = json.loads(raw)
            if line.get("type") != "assistant" or line["message"].get("model") == "<synthetic>":
                continue
            lines += 1
            usage = line["message"]["usage"]
            values = (usage["input_tokens"], usage["output_tokens"], usage["cache_creation_input_tokens"],
                      usage["cache_read_input_tokens"])
            key = (line["message"]["id"], line.get("requestId"))
            if key not in best or sum(values) > sum(best[key]):
                best[key] = values
    return len(best), lines, tuple(sum(v[i] for v in best.values()) for i in range(4))


def _db_totals(con) -> tuple[int, int, int, int]:
    row = con.execute("SELECT sum(input_tokens), sum(output_tokens), sum(cache_creation_tokens), sum(cache_read_tokens) "
                      "FROM requests WHERE source = 'claude'").fetchone()
    return tuple(int(v) for v in row)


# -- a hand-built response: the split-line rules with numbers worked out by hand ------------------
def _one_response(tmp_path: Path, version: str, legacy: bool) -> Path:
    thread = Thread(Envelope("0f0e0d0c-0000-4000-8000-000000000001", "/w/app", "main", version, legacy), Ids(random.Random(1)))
    thread.user_text("fix it", T0, new_prompt=True)
    blocks = [{"type": "text", "text": "Let me look."},
              {"type": "tool_use", "id": "toolu_01A", "name": "Read", "input": {"file_path": "/w/app/a.py"}},
              {"type": "tool_use", "id": "toolu_01B", "name": "Read", "input": {"file_path": "/w/app/b.py"}}]
    usage = Usage(input=3, output=250, cache_read=20480, cache_write=1135, cache_1h=False)
    thread.response("claude-sonnet-4-6", blocks, usage, "tool_use", T0 + 2000, [300, 300])
    path = tmp_path / "root" / "alice" / ".claude" / "projects" / "-w-app" / "s.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"".join(thread.lines))
    return path


def test_split_response_2_1_early_lines_are_placeholders(tmp_path):
    path = _one_response(tmp_path, "2.1.233", legacy=False)
    lines = [json.loads(raw) for raw in path.read_bytes().splitlines()]
    assistant = [line for line in lines if line["type"] == "assistant"]
    assert len(assistant) == 3
    assert len({(a["message"]["id"], a["requestId"]) for a in assistant}) == 1
    assert [a["message"]["stop_reason"] for a in assistant] == [None, None, "tool_use"]
    assert all(1 <= a["message"]["usage"]["output_tokens"] <= 30 for a in assistant[:2])
    assert assistant[2]["message"]["usage"]["output_tokens"] == 250
    assert assistant[2]["message"]["usage"]["cache_creation"] == {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 1135}


@pytest.mark.parametrize("version,legacy", [("2.1.233", False), ("2.0.76", True)])
def test_split_response_ingests_as_one_request_with_final_usage(tmp_path, version, legacy):
    path = _one_response(tmp_path, version, legacy)
    con, summary = _ingest(tmp_path / "l.duckdb", path.parents[3])
    rows = con.execute("SELECT input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, "
                       "cache_creation_5m_tokens, cache_creation_1h_tokens, output_estimated FROM requests").fetchall()
    con.close()
    assert summary.rejects == 0
    assert rows == [(3, 250, 1135, 20480, 1135, 0, False)]


# -- determinism --------------------------------------------------------------------------------
def test_same_arguments_give_byte_identical_output(tmp_path):
    first = generate(tmp_path / "a", users=3, days=4, seed=5)
    second = generate(tmp_path / "b", users=3, days=4, seed=5)
    tree_a, tree_b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert tree_a == tree_b
    assert any("/.codex/sessions/" in name for name in tree_a) and any(name.endswith("/otel/claude-code.json") for name in tree_a)
    assert first == second
    # The projects' repositories (git/) are byte-identical too: the transcripts print their shas.
    assert any(name.startswith("git/") and name.endswith(".pack") for name in tree_a)
    logs = {name: data for name, data in tree_a.items()
            if name not in ("org.csv", "ground_truth.json") and not name.startswith("git/")}
    assert first.files == len(logs)
    assert first.bytes == sum(len(data) for data in logs.values())


def test_another_seed_gives_another_org(tmp_path):
    generate(tmp_path / "a", users=2, days=2, seed=5)
    generate(tmp_path / "b", users=2, days=2, seed=6)
    assert _tree(tmp_path / "a") != _tree(tmp_path / "b")


# -- a tiny run, checked against an independent scan --------------------------------------------
def test_tiny_run_totals_match_an_independent_scan_and_the_ledger(tmp_path):
    out = tmp_path / "out"
    summary = generate(out, users=1, days=1)
    requests, lines, tokens = _scan(out)
    assert requests == summary.requests
    assert lines > requests, "responses are split over several lines"
    assert tokens == (summary.input_tokens, summary.output_tokens, summary.cache_creation_tokens, summary.cache_read_tokens)
    con, run = _ingest(tmp_path / "l.duckdb", out)
    db_requests = con.execute("SELECT count(*) FROM requests WHERE source = 'claude'").fetchone()[0]
    db_tokens = _db_totals(con)
    rejects = _transcript_rejects(con)
    con.close()
    assert (run.unknown_types, run.unknown_fields) == (0, 0)
    assert rejects == []
    assert db_requests == requests
    assert db_tokens == tokens
    # Cache reads dominate, uncached input stays tiny (what real Claude Code usage looks like).
    assert tokens[3] > tokens[2] > tokens[1] > tokens[0]


# -- a medium org, ingested once -----------------------------------------------------------------
@pytest.fixture(scope="module")
def org(tmp_path_factory):
    root = tmp_path_factory.mktemp("org")
    out = root / "out"
    summary = generate(out, users=6, days=8, seed=3, scale=0.6)
    con, run = _ingest(root / "l.duckdb", out)
    yield out, summary, run, con, load(out / "ground_truth.json")
    con.close()


def test_every_line_parses_with_zero_rejects(org):
    out, summary, run, con, _ = org
    assert _transcript_rejects(con) == []
    assert (run.unknown_types, run.unknown_fields) == (0, 0)
    assert run.lines == sum(data.count(b"\n") for name, data in _tree(out).items()
                            if name.endswith((".jsonl", "/otel/claude-code.json")))
    assert run.api_errors == summary.api_errors


def test_collector_root_metadata_is_not_a_failed_log(org):
    # OUT/ground_truth.json sits beside the user folders (the layout the issue asks for). It is no log:
    # an ingest of OUT --user-from-dir should pass over it, not count it as a failed file.
    _, _, run, con, _ = org
    assert con.execute("SELECT path, reason FROM rejects").fetchall() == []
    assert run.rejects == run.files_failed == 0


def test_dedup_counts_each_generated_response_once(org):
    out, summary, _, con, _ = org
    requests, lines, tokens = _scan(out)
    assert con.execute("SELECT count(*) FROM requests WHERE source = 'claude'").fetchone()[0] == summary.requests == requests
    assert lines > 1.5 * requests
    assert _db_totals(con) == tokens


def test_org_csv_loads_and_leaves_one_user_unassigned(org):
    out, _, _, con, truth = org
    members = read_org_csv(out / "org.csv")
    users = {row[0] for row in con.execute("SELECT DISTINCT user_name FROM requests").fetchall()}
    listed = {m.user for m in members}
    assert len(users) == 6
    assert users - listed == set(truth["generator"]["org_csv_missing_users"]) != set()
    assert len({m.team for m in members}) >= 3
    assert len({m.manager for m in members}) >= 3
    assert all(m.email and m.display_name for m in members)


def test_ground_truth_sessions_and_tool_calls_are_in_the_ledger(org):
    _, summary, _, con, truth = org
    sessions = {row[0] for row in con.execute("SELECT DISTINCT session_id FROM requests WHERE source <> 'codex'").fetchall()}
    tool_ids = {row[0] for row in con.execute("SELECT tool_use_id FROM tool_calls").fetchall()}
    assert {s["session_id"] for s in truth["sessions"]} == sessions
    for b in truth["behaviours"]:
        for sid in [b["session_id"]] if b["session_id"] else b["session_ids"]:
            assert sid in sessions, b
        assert set(b["tool_use_ids"]) <= tool_ids, b
    kinds = {b["kind"] for b in truth["behaviours"]}
    assert kinds == set(truth["kinds"])
    assert sum(summary.sessions.values()) == len(truth["sessions"])


def _calls(con, ids: list[str]) -> list[tuple]:
    return con.execute(
        "SELECT c.tool_use_id, c.tool_name, c.command, c.input_hash, c.edit_before_hash, c.edit_after_hash, "
        "r.is_error, r.result_hash, r.result_bytes, c.component, c.ts FROM tool_calls c "
        "LEFT JOIN tool_results r USING (tool_use_id) WHERE c.tool_use_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY c.ts",
        [ids],
    ).fetchall()


def _behaviours(truth: dict, kind: str) -> list[dict]:
    found = [b for b in truth["behaviours"] if b["kind"] == kind]
    assert found, f"no {kind} planted"
    return found


def test_loops_repeat_a_failing_command_or_flip_an_edit(org):
    _, _, _, con, truth = org
    for b in _behaviours(truth, "loop"):
        calls = _calls(con, b["tool_use_ids"])
        assert len(calls) >= 3
        if b["detail"]["pattern"] == "command_variations":
            # cb2e607c: variants of one install command, no edit between them
            assert {c[1] for c in calls} == {"Bash"} and len({c[2] for c in calls}) == len(calls)
            assert all(("install" in c[2]) for c in calls)
            edits = con.execute("SELECT count(*) FROM tool_calls WHERE session_id = ? AND ts BETWEEN ? AND ? "
                                "AND tool_name IN ('Edit', 'Write')", [b["session_id"], calls[0][10], calls[-1][10]]).fetchone()[0]
            assert edits == 0
        elif b["detail"]["pattern"] == "repeated_failing_command":
            assert {c[3] for c in calls} == {calls[0][3]}                  # same input
            assert all(c[6] for c in calls)                                 # all failed
            assert {c[7] for c in calls} == {calls[0][7]}                  # with the same error
            between = con.execute("SELECT count(*) FROM tool_calls WHERE session_id = ? AND ts > ? AND ts < ?",
                                  [b["session_id"], calls[0][10], calls[-1][10]]).fetchone()[0]
            assert between == len(calls) - 2                                # nothing else in between
        else:
            for a, nxt in zip(calls, calls[1:]):
                assert (a[4], a[5]) == (nxt[5], nxt[4])                     # A->B then B->A


def test_discarded_work_is_thrown_away(org):
    _, _, _, con, truth = org
    for b in _behaviours(truth, "discarded_work"):
        method = b["detail"]["method"]
        if method == "rejected":
            calls = _calls(con, b["tool_use_ids"])
            assert all(c[6] for c in calls)
            kinds = {r[0] for r in con.execute("SELECT kind FROM session_events WHERE session_id = ?", [b["session_id"]]).fetchall()}
            assert {"rejection", "interrupt"} <= kinds
        elif method == "interrupted":
            assert con.execute("SELECT count(*) FROM requests WHERE session_id = ? AND output_estimated",
                               [b["session_id"]]).fetchone()[0] >= 1
        elif method == "rewind":
            # The rewinding prompt re-uses the parent of the prompt whose turn it abandons.
            parents = [r[0] for r in con.execute("SELECT parent_uuid FROM session_events WHERE session_id = ? "
                                                 "AND kind = 'prompt' ORDER BY ts", [b["session_id"]]).fetchall()]
            assert parents[-1] in parents[:-1]
            assert all(c[1] in ("Edit", "Write") and not c[6] for c in _calls(con, b["detail"]["edit_tool_use_ids"]))
        else:
            commands = [c[2] for c in _calls(con, b["detail"]["discard_tool_use_ids"])]
            verb = method.split()[-1] if method != "rm" else "rm "
            assert any(verb in (cmd or "") for cmd in commands), (method, commands)
            assert all(c[1] in ("Edit", "Write") for c in _calls(con, b["detail"]["edit_tool_use_ids"]))


def test_steering_refuses_and_the_agent_carries_on(org):
    _, _, _, con, truth = org
    for b in _behaviours(truth, "steering"):
        sid = b["session_id"]
        reasons = con.execute("SELECT count(*), count(prompt_length) FROM session_events WHERE session_id = ? "
                              "AND kind = 'rejection'", [sid]).fetchone()
        assert reasons[0] >= 3 and reasons[1] >= 2    # a plan and an edit rejected with a reason
        plans = [r[0] for r in con.execute("SELECT r.is_error FROM tool_calls c JOIN tool_results r USING (tool_use_id) "
                                           "WHERE c.session_id = ? AND c.tool_name = 'ExitPlanMode' ORDER BY c.ts",
                                           [sid]).fetchall()]
        assert plans == [True, False]                 # rejected, then the revised plan approved
        gap = con.execute("SELECT min(p.ts) - i.ts FROM session_events i JOIN session_events p ON p.session_id = i.session_id "
                          "AND p.kind = 'prompt' AND p.ts > i.ts WHERE i.session_id = ? AND i.kind = 'interrupt' "
                          "GROUP BY i.ts", [sid]).fetchone()[0]
        assert gap.total_seconds() < 120              # the instruction follows at once
        if "ide_reply" in b["detail"]["patterns"]:
            assert reasons[1] >= 3


def test_benign_errors_are_claude_codes_own_messages(org):
    _, _, _, con, truth = org
    for b in _behaviours(truth, "benign_errors"):
        sid = b["session_id"]
        kinds = dict(con.execute("SELECT r.result_kind, count(*) FROM tool_calls c JOIN tool_results r USING (tool_use_id) "
                                 "WHERE c.session_id = ? GROUP BY 1", [sid]).fetchall())
        assert kinds.get("cancelled", 0) >= 3
        not_read = con.execute("SELECT count(DISTINCT c.file_path) FROM tool_calls c JOIN tool_results r USING (tool_use_id) "
                               "WHERE c.session_id = ? AND c.tool_name = 'Edit' AND r.is_error", [sid]).fetchone()[0]
        assert not_read == 3
        polls = con.execute("SELECT count(*), count(DISTINCT input_hash) FROM tool_calls WHERE session_id = ? "
                            "AND tool_name IN ('BashOutput', 'TaskOutput')", [sid]).fetchone()
        assert polls[0] >= 4 and polls[1] == 1        # the same job polled until it completes


def test_harness_agents_read_the_whole_context_for_a_few_tokens(org):
    _, _, _, con, truth = org
    agents = [a for b in _behaviours(truth, "harness_overhead") for a in b["detail"]["agents"]]
    assert any(a.startswith("aprompt_suggestion-") for a in agents) and any(a.startswith("acompact-") for a in agents)
    rows = con.execute("SELECT agent_id, output_tokens, cache_read_tokens FROM requests WHERE agent_id IN "
                       "(SELECT unnest(?::VARCHAR[]))", [agents]).fetchall()
    suggestions = [r for r in rows if r[0].startswith("aprompt_suggestion-")]
    assert suggestions and all(r[1] <= 30 and r[2] > 10_000 for r in suggestions)


def test_subagent_only_sessions_have_no_main_transcript(org):
    out, _, _, con, truth = org
    for b in _behaviours(truth, "subagent_only"):
        sid = b["session_id"]
        threads = con.execute("SELECT count(*) FILTER (WHERE agent_id IS NULL), count(DISTINCT agent_id) FROM requests "
                              "WHERE session_id = ? AND source = 'claude'", [sid]).fetchone()
        assert threads[0] == 0 and threads[1] >= 3
        assert not list(out.rglob(f"{sid}.jsonl")) and not list(out.rglob(f"{sid}/subagents/*.meta.json"))


def test_idle_burn_is_hours_of_reading_with_no_human(org):
    _, _, _, con, truth = org
    for b in _behaviours(truth, "idle_burn"):
        sid = b["session_id"]
        span_h, prompts = con.execute(
            "SELECT (epoch(max(ts)) - epoch(min(ts))) / 3600, (SELECT count(*) FROM session_events WHERE session_id = ? "
            "AND kind = 'prompt') FROM requests WHERE session_id = ?", [sid, sid]).fetchone()
        names = {r[0] for r in con.execute("SELECT DISTINCT tool_name FROM tool_calls WHERE session_id = ?", [sid]).fetchall()}
        assert span_h >= 1.9 and prompts == 1
        assert names <= {"Read", "Grep", "Glob"}
        gaps = con.execute("SELECT epoch(ts) - epoch(lag(ts) OVER (ORDER BY ts)) FROM requests WHERE session_id = ? "
                           "AND NOT is_sidechain", [sid]).fetchall()
        assert statistics.median(g[0] for g in gaps[1:]) >= 120


def test_context_bloat_results_are_50_to_200_kb_from_mcp(org):
    _, _, _, con, truth = org
    for b in _behaviours(truth, "context_bloat"):
        for call in _calls(con, b["tool_use_ids"]):
            assert call[1].startswith("mcp__")
            assert 50 * 1024 <= call[8] <= 205 * 1024


def _day_costs(con, user: str) -> dict[str, float]:
    prices = {m.id: m for m in MODELS.values()}
    costs: dict[str, float] = defaultdict(float)
    for day, model, i, o, c5, c1, cr in con.execute(
        "SELECT ts::DATE::VARCHAR, model, input_tokens, output_tokens, coalesce(cache_creation_5m_tokens, 0), "
        # The spike is planted in the transcripts: Codex and OTel-only requests are not part of it.
        "coalesce(cache_creation_1h_tokens, 0), cache_read_tokens FROM requests WHERE user_name = ? AND source = 'claude'",
        [user]).fetchall():
        usage = {"input_tokens": i, "output_tokens": o, "cache_creation_input_tokens": c5 + c1, "cache_read_input_tokens": cr,
                 "cache_creation": {"ephemeral_5m_input_tokens": c5, "ephemeral_1h_input_tokens": c1}}
        costs[day] += prices[model].cost(usage)
    return costs


def test_usage_spike_is_5_to_10x_the_users_own_baseline(org):
    _, _, _, con, truth = org
    for b in _behaviours(truth, "usage_spike"):
        assert 5 <= b["detail"]["factor"] <= 10
        costs = _day_costs(con, b["user"])
        others = [c for day, c in costs.items() if day != b["date"] and date.fromisoformat(day).weekday() < 5]
        factor = costs[b["date"]] / statistics.median(others)
        assert 5 <= factor <= 10, factor
        assert factor == pytest.approx(b["detail"]["factor"], rel=0.02)


def test_normal_sessions_keep_their_work(org):
    _, _, _, con, truth = org
    normal = [s["session_id"] for s in truth["sessions"] if s["kind"] == "normal"]
    bad = con.execute(
        "SELECT count(*) FROM tool_calls WHERE session_id IN (SELECT unnest(?::VARCHAR[])) AND (command LIKE 'git reset%' "
        "OR command LIKE 'git checkout -- %' OR command LIKE 'git clean%' OR command LIKE 'rm %' OR command LIKE '%branch -D%')",
        [normal]).fetchone()[0]
    rejections = con.execute("SELECT count(*) FROM session_events WHERE kind = 'rejection' AND session_id IN "
                             "(SELECT unnest(?::VARCHAR[]))", [normal]).fetchone()[0]
    committed = con.execute("SELECT count(DISTINCT session_id) FROM tool_calls WHERE command LIKE '%git commit%' "
                            "AND session_id IN (SELECT unnest(?::VARCHAR[]))", [normal]).fetchone()[0]
    assert bad == rejections == 0
    assert committed >= 0.5 * len(normal)


def test_sessions_stay_within_their_utc_day(org):
    _, _, _, con, truth = org
    days = dict(con.execute("SELECT session_id, min(ts::DATE)::VARCHAR || '/' || max(ts::DATE)::VARCHAR FROM requests "
                            "GROUP BY 1").fetchall())
    assert all(days[s["session_id"]] == f"{s['date']}/{s['date']}" for s in truth["sessions"])


def test_formats_of_every_kind_are_present(org):
    out, _, _, con, _ = org
    components = {r[0] for r in con.execute("SELECT DISTINCT component_kind FROM tool_calls").fetchall()}
    events = {r[0] for r in con.execute("SELECT DISTINCT kind FROM session_events").fetchall()}
    assert {"builtin", "mcp", "plugin", "subagent"} <= components
    assert {"prompt", "interrupt", "rejection", "compact_boundary", "api_error", "subagent_prompt"} <= events
    assert list(out.rglob("subagents/agent-a*.meta.json")), "2.1.x subagent layout"
    flat = [p for p in out.rglob("agent-*.jsonl") if p.parent.name != "subagents"]
    assert any(b'"content":"Warmup"' in p.read_bytes() for p in flat), "2.0.x flat warm-up agents"
    assert con.execute("SELECT count(*) FROM agents WHERE is_warmup").fetchone()[0] >= 1


# -- other agents: Codex rollouts and OTel exports for part of the org ----------------------------
def test_codex_and_otel_requests_count_under_the_folder_users(org):
    _, _, _, con, truth = org
    agents = truth["other_agents"]
    assert agents["users"] == ["felix.larsen", "rania.tanaka", "tara.tanaka"]
    rows = con.execute("SELECT source, user_name, count(*) FROM requests WHERE source <> 'claude' GROUP BY ALL").fetchall()
    assert dict(((s, u), n) for s, u, n in rows) == {
        ("codex", "felix.larsen"): 13, ("codex", "rania.tanaka"): 18, ("codex", "tara.tanaka"): 25,
        ("otel", "felix.larsen"): 26, ("otel", "rania.tanaka"): 26, ("otel", "tara.tanaka"): 31}
    assert {u: t["requests"] for u, t in agents["codex"].items()} == {"felix.larsen": 13, "rania.tanaka": 18, "tara.tanaka": 25}
    assert {u: t["auxiliary_requests"] for u, t in agents["otel"].items()} == {"felix.larsen": 26, "rania.tanaka": 26, "tara.tanaka": 31}


def test_codex_tokens_match_the_rollouts_final_totals(org):
    _, _, _, con, truth = org
    rows = con.execute("SELECT user_name, sum(input_tokens), sum(cache_read_tokens), sum(output_tokens) FROM requests "
                       "WHERE source = 'codex' GROUP BY 1").fetchall()
    ledger = {u: tuple(int(v) for v in rest) for u, *rest in rows}
    # cached_input_tokens is part of input_tokens: felix 165,610 input of which 139,264 cached -> 26,346 fresh.
    assert ledger["felix.larsen"] == (165_610 - 139_264, 139_264, 6_099)
    expected = {u: (t["tokens"]["input_tokens"] - t["tokens"]["cached_input_tokens"], t["tokens"]["cached_input_tokens"],
                    t["tokens"]["output_tokens"]) for u, t in truth["other_agents"]["codex"].items()}
    assert ledger == expected


def test_otel_events_reconcile_with_their_transcript_requests(org):
    _, summary, run, con, truth = org
    otel = truth["other_agents"]["otel"]
    twinned = con.execute("SELECT count(*), bool_and(NOT output_estimated) FROM requests WHERE source = 'claude' "
                          "AND request_id IN (SELECT request_id FROM otel_requests)").fetchone()
    assert twinned == (summary.otel_events, True) == (222 + 242 + 251, True)
    assert sum(t["api_requests"] for t in otel.values()) == summary.otel_events
    # Each request once: transcript requests + OTel-only auxiliary ones + Codex requests.
    total = con.execute("SELECT count(*) FROM requests").fetchone()[0]
    assert total == summary.requests + (26 + 26 + 31) + (13 + 18 + 25) == 1154 + 83 + 56
    assert run.rejects == 0


def test_otel_users_are_the_org_csv_emails_of_the_folder_users(org):
    out, _, _, con, _ = org
    person = {m.email: m.user for m in read_org_csv(out / "org.csv")}
    pairs = con.execute("SELECT DISTINCT o.email, r.user_name FROM otel_requests o JOIN requests r USING (request_id) "
                        "ORDER BY 1").fetchall()
    assert [e for e, _ in pairs] == ["felix.larsen@acme-robotics.dev", "rania.tanaka@acme-robotics.dev",
                                     "tara.tanaka@acme-robotics.dev"]
    assert all(person[email] == user for email, user in pairs)


def test_report_users_shows_other_agents_under_the_person_and_team(tmp_path, capsys):
    # The demo's order: ingest first, then load the directory.
    db = str(tmp_path / "l.duckdb")
    assert cli_main(["ingest", str(committed_transcripts_dir()), "--user-from-dir", "--db", db]) == 0
    assert cli_main(["org", "load", str(committed_org_csv()), "--db", db]) == 0
    capsys.readouterr()
    rows = {}
    for source in ("claude", "codex", "otel"):
        assert cli_main(["report", "users", "--db", db, "--source", source, "--format", "json"]) == 0
        rows[source] = {r["user"]: (r["team"], r["requests"]) for r in json.loads(capsys.readouterr().out)}
    assert rows["codex"] == {"jonas.patel": ("Mobile", 6), "tomas.dubois": ("(unassigned)", 7)}
    assert rows["otel"] == {"jonas.patel": ("Mobile", 6), "tomas.dubois": ("(unassigned)", 2)}
    assert rows["claude"]["jonas.patel"] == ("Mobile", 90)
    assert cli_main(["report", "users", "--db", db, "--format", "json"]) == 0
    people = {r["user"]: (r["team"], r["requests"]) for r in json.loads(capsys.readouterr().out)}
    assert people["jonas.patel"] == ("Mobile", 90 + 6 + 6)
    assert not [u for u in people if "@" in u]


# -- the committed sample and the CLI -----------------------------------------------------------
def test_committed_sample_is_what_the_generator_writes(tmp_path):
    regenerate_committed(tmp_path)
    committed = committed_transcripts_dir()
    assert _tree(tmp_path / "transcripts") == _tree(committed)
    assert (tmp_path / "org.csv").read_bytes() == committed_org_csv().read_bytes()


def test_committed_sample_ingests_cleanly(tmp_path):
    root = committed_transcripts_dir()
    size = sum(len(data) for data in _tree(root).values())
    assert size < 1_400_000   # ~1.3 MB since the real-work sessions (sample_data/real_work.py) joined
    users = {p.name for p in root.iterdir() if p.is_dir()}
    assert len(users) == COMMITTED["users"]
    con, _ = _ingest(tmp_path / "l.duckdb", root)
    sessions = {r[0] for r in con.execute("SELECT DISTINCT session_id FROM requests WHERE source <> 'codex'").fetchall()}
    sources = con.execute("SELECT source, list(DISTINCT user_name ORDER BY user_name) FROM requests GROUP BY 1 ORDER BY 1").fetchall()
    rejects = _transcript_rejects(con)
    con.close()
    truth = load(committed_ground_truth())
    assert sources[1:] == [("codex", ["jonas.patel", "tomas.dubois"]), ("otel", ["jonas.patel", "tomas.dubois"])]
    assert rejects == []
    assert {s["session_id"] for s in truth["sessions"]} == sessions
    assert {b["kind"] for b in truth["behaviours"]} == set(truth["kinds"])
    assert {m.user for m in read_org_csv(committed_org_csv())} < users


def test_cli_generates_and_reports(tmp_path, capsys):
    out = tmp_path / "cli"
    assert cli_main(["sample", "generate", "--users", "2", "--days", "1", "--out", str(out), "--seed", "9",
                     "--start", DEFAULT_START.isoformat()]) == 0
    assert "2 users x 1 days" in capsys.readouterr().out
    assert (out / "org.csv").is_file() and (out / "ground_truth.json").is_file()
    assert cli_main(["sample", "generate", "--users", "0", "--days", "1", "--out", str(out)]) == 2
    assert cli_main(["sample", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(committed_transcripts_dir())


def test_cli_default_start_is_the_generators():
    from agentledger.commands import sample

    assert sample.DEFAULT_START == DEFAULT_START
