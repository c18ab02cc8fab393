"""Attribution, worked by hand on one session (docs/metrics.md "Attribution").

R1 follows the prompt; it calls Read and an MCP tool; R2 consumes both results (split 1/2 each)
and calls Bash (which fails); R3 consumes Bash and spawns a plugin subagent (sc:reviewer) whose
thread makes two requests; R4 consumes the subagent's result; a second prompt opens R5.
Every request's tokens are k x (10 in, 90 out, 0 cache write, 900 cache read) = k x 1,000 tokens,
so on claude-sonnet-4 ($3 / $15 / $0.30 per MTok) each costs k x $0.00165.
"""

from __future__ import annotations

import pytest

from tests.transcript_builder import Transcript, load, report


def k(n: int) -> tuple[int, int, int, int]:
    return (10 * n, 90 * n, 0, 900 * n)


@pytest.fixture
def attributed(ledger, tmp_path):
    t = Transcript()
    t.prompt()
    t.reply(k(1), [("Read", {"file_path": "/work/app/a.py"}, "x" * 300),
                   ("mcp__github__get_issue", {"number": 7}, "y" * 1200)])
    t.reply(k(2), [("Bash", {"command": "make test"}, "boom", True)])
    t.reply(k(3), [("Task", {"subagent_type": "sc:reviewer", "prompt": "review", "description": "review"}, "fine",
                    False, {"agentId": "agent1", "agentType": "sc:reviewer", "status": "completed"})])
    t.reply((4, 36, 0, 360), agent="agent1", calls=[("Grep", {"pattern": "TODO"}, "none")])
    t.reply((6, 54, 0, 540), agent="agent1")
    t.reply(k(4))
    t.prompt("next")
    t.reply(k(5))
    load(ledger, tmp_path, t)
    return ledger


def rows_by_component(con, level="component"):
    return {r["component"]: r for r in report(con, "plugins") if r["level"] == level}


def test_each_request_goes_to_the_components_whose_results_it_consumes(attributed):
    rows = rows_by_component(attributed)
    tokens = {c: r["total_tokens"] for c, r in rows.items()}
    assert tokens == {
        "(prompt)": 6000,                 # R1 + R5
        "builtin:Read": 1000,             # half of R2
        "mcp:github": 1000,               # the other half of R2
        "builtin:Bash": 3000,             # R3
        "plugin:sc": 4000,                # R4 consumed the Task result (Task with a plugin's agent type)
        "subagent:sc:reviewer": 1000,     # both requests of the subagent's thread (400 + 600)
        "builtin:Grep": 0,                # called inside the subagent: its tokens are the subagent's
    }
    assert sum(tokens.values()) == 16000  # component level is a partition of all tokens
    assert rows["builtin:Read"]["requests"] == 0.5 and rows["mcp:github"]["requests"] == 0.5
    assert rows["plugin:sc"]["cost_usd"] == pytest.approx(4 * 0.00165)


def test_calls_errors_and_result_bytes_per_component(attributed):
    rows = rows_by_component(attributed)
    assert (rows["builtin:Bash"]["calls"], rows["builtin:Bash"]["errors"], rows["builtin:Bash"]["error_rate"]) == (1, 1, 1.0)
    assert rows["mcp:github"]["result_bytes"] == 1200
    assert rows["builtin:Read"]["result_bytes"] == 300
    assert rows["builtin:Read"]["error_rate"] == 0.0
    assert rows["(prompt)"]["calls"] == 0 and rows["(prompt)"]["error_rate"] is None


def test_plugin_level_rolls_up_the_plugins_subagent_thread(attributed):
    plugin = rows_by_component(attributed, "plugin")
    assert list(plugin) == ["plugin:sc"]
    row = plugin["plugin:sc"]
    assert (row["total_tokens"], row["requests"], row["calls"]) == (5000, 3, 1)
    assert row["cost_usd"] == pytest.approx(5 * 0.00165)
    sub = rows_by_component(attributed)["subagent:sc:reviewer"]
    assert (sub["kind"], sub["plugin"]) == ("subagent", "sc")


def test_cost_and_useful_ratio_of_the_session(attributed):
    (row,) = report(attributed, "sessions")
    assert row["total_tokens"] == 16000
    assert row["cost_usd"] == pytest.approx(16 * 0.00165)
    assert row["useful_output_ratio"] == 1.0  # answers only, nothing looped, discarded or idle


def test_a_components_useful_share_of_spend(ledger, tmp_path):
    # prompt -> R1 runs a failing `make`, R2 and R3 run it again (the same error: a loop, R1..R3
    # looping) -> R4 answers (kept). R1 belongs to (prompt); R2, R3 and R4 consume the Bash results.
    # Each request costs $0.00165, so builtin:Bash spent $0.00495, of which R4's $0.00165 was kept.
    t = Transcript()
    t.prompt()
    for _ in range(3):
        t.reply(k(1), [("Bash", {"command": "make"}, "E", True)])
    t.reply(k(1))
    load(ledger, tmp_path, t)
    rows = rows_by_component(ledger)
    assert rows["builtin:Bash"]["cost_usd"] == pytest.approx(3 * 0.00165)
    assert rows["builtin:Bash"]["useful_cost_ratio"] == pytest.approx(0.3333)
    assert rows["(prompt)"]["useful_cost_ratio"] == 0.0
