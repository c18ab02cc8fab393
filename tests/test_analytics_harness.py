"""Claude Code's own agents (overhead) and what every subagent thread is, on hand-built sessions.

Every request is 1,000 tokens (10 in, 90 out, 900 cache read) unless said otherwise.
"""

from __future__ import annotations

from analytics import queries
from tests.claude_lines import tool_result
from tests.transcript_builder import Transcript, facts, load, report

K = (10, 90, 0, 900)
START = "2026-03-02T09:00:00"


def ledger_summary(ledger) -> list[dict]:
    """The Overview's KPI row for the whole ledger."""
    return queries.summary(ledger).to_dicts()


def _suggestion(session: str = "s1", start: str = "2026-03-02T09:00:20", interrupted: bool = False) -> Transcript:
    """A prompt-suggestion agent: the whole context read again for a 2-token suggestion."""
    t = Transcript(session, start=start, file_name=f"{session}/subagents/agent-aprompt_suggestion-3f9a1c.jsonl")
    t.user_text("[suggestion mode] what would the user type next?", agent="aprompt_suggestion-3f9a1c")
    t.reply((3, 2, 0, 12_000 - 5), agent="aprompt_suggestion-3f9a1c")
    if interrupted:
        t.user_text("[Request interrupted by user]", agent="aprompt_suggestion-3f9a1c")
    return t


def test_prompt_suggestions_compaction_and_warmups_are_overhead(ledger, tmp_path):
    main = Transcript(start=START).prompt()
    main.reply(K, [("Edit", {"file_path": "/work/app/a.py", "old_string": "a", "new_string": "b"}, "edited")])
    main.reply(K)
    compact = Transcript(start="2026-03-02T09:01:00", file_name="s1/subagents/agent-acompact-e1f845.jsonl")
    compact.user_text("Your task is to create a detailed summary of the conversation so far", agent="acompact-e1f845",
                      parent="p0")
    compact.reply((3, 997, 0, 3000), agent="acompact-e1f845")
    warmup = Transcript(start="2026-03-02T08:59:58", file_name="agent-0c78cdae.jsonl")
    warmup.user_text("Warmup", agent="0c78cdae")
    warmup.reply(K, agent="0c78cdae")
    load(ledger, tmp_path, main, _suggestion(), compact, warmup)
    outcomes = {(row[1], row[3]) for row in facts(ledger)}
    assert outcomes == {("", "kept"), ("aprompt_suggestion-3f9a1c", "overhead"), ("acompact-e1f845", "overhead"),
                        ("0c78cdae", "overhead")}
    (user,) = report(ledger, "users")
    # 2,000 kept of 2,000 tokens of work; the 12,000 + 4,000 + 1,000 of overhead are priced and shown,
    # never kept, and nobody's work: out of the ratio.
    assert (user["kept_tokens"], user["overhead_tokens"], user["total_tokens"]) == (2000, 17000, 19000)
    assert (user["useful_output_ratio"], user["useful_cost_ratio"]) == (1.0, 1.0)
    assert user["waste_tokens"] == 0
    components = {r["component"]: (r["kind"], r["total_tokens"], r["useful_output_ratio"])
                  for r in report(ledger, "plugins") if r["level"] == "component"}
    # a harness agent does no work: no ratio to give
    assert components["harness:prompt_suggestion"] == ("harness", 12000, None)
    assert components["harness:compaction"] == ("harness", 4000, None)
    assert components["harness:warmup"] == ("harness", 1000, None)
    (day,) = report(ledger, "daily")
    assert (day["overhead_tokens"], day["kept_tokens"]) == (17000, 2000)
    assert day["overhead_cost_usd"] > 0
    (team,) = report(ledger, "teams")
    assert team["overhead_tokens"] == 17000
    (session,) = report(ledger, "sessions")
    assert session["overhead_tokens"] == 17000
    assert report(ledger, "flags") == []


def test_overhead_stays_out_of_the_useful_ratio(ledger, tmp_path):
    # Three failing `make` of 1,000 cache-read tokens ($0.0003 each), an answer of 1,000 output tokens
    # ($0.015), and a prompt suggestion of 12,000 tokens. Of the 4,000 tokens of work 1,000 were kept:
    # 0.25, whether prompt suggestions are switched on or not (with them in the denominator: 0.0625).
    main = Transcript(start=START).prompt()
    for _ in range(3):
        main.reply((0, 0, 0, 1000), [("Bash", {"command": "make"}, "E", True)])
    main.reply((0, 1000, 0, 0))
    load(ledger, tmp_path, main, _suggestion(start="2026-03-02T09:00:30"))
    (user,) = report(ledger, "users")
    assert (user["kept_tokens"], user["waste_tokens"], user["overhead_tokens"], user["total_tokens"]) == (
        1000, 3000, 12000, 16000)
    assert user["useful_output_ratio"] == 0.25
    # the cost-weighted ratio leaves the suggestion's cost out the same way
    assert user["useful_cost_ratio"] == round(0.015 / (0.015 + 3 * 0.0003), 4)
    (day,) = report(ledger, "daily")
    assert day["overhead_cost_usd"] > 0
    assert day["cost_usd"] == round(day["kept_cost_usd"] + day["looping_cost_usd"] + day["overhead_cost_usd"], 6)
    (summary,) = ledger_summary(ledger)
    assert (summary["useful_output_ratio"], summary["useful_cost_ratio"]) == (
        user["useful_output_ratio"], user["useful_cost_ratio"])


def test_an_aborted_prompt_suggestion_is_not_the_user_stopping_the_agent(ledger, tmp_path):
    # Claude Code aborts its suggestion agent whenever the user types: no interruption of anyone's work.
    main = Transcript(start=START).prompt()
    for name in ("a.py", "b.py", "c.py", "d.py"):
        main.reply(K, [("Read", {"file_path": f"/work/app/{name}"}, "text")])
    main.reply(K)
    load(ledger, tmp_path, main, _suggestion(start="2026-03-02T09:00:30", interrupted=True))
    assert {row[3] for row in facts(ledger) if row[1] == ""} == {"kept"}
    assert report(ledger, "flags") == []


def test_a_session_without_its_main_transcript_gets_one_turn_per_subagent(ledger, tmp_path):
    # 741790a4: investigations hours apart, main file gone: no 1.7 h "unattended" turn 0.
    agents = []
    for n, (agent, start) in enumerate((("b52b1c09", "2026-03-02T09:00:00"), ("db734024", "2026-03-02T10:30:00"))):
        t = Transcript(start=start, file_name=f"agent-{agent}.jsonl")
        t.user_text(f"Investigate part {n} and report", agent=agent)
        for i in range(12):
            t.reply(K, [("Read", {"file_path": f"/work/app/m{i}.py"}, "text")], agent=agent, gap=240)
        t.reply(K, agent=agent)
        agents.append(t)
    load(ledger, tmp_path, *agents)
    rows = facts(ledger)
    assert {row[3] for row in rows} == {"kept"}
    assert sorted({row[0] for row in rows}) == [1, 2]
    types = {r[0] for r in ledger.execute("SELECT DISTINCT subagent_type FROM request_facts").fetchall()}
    assert types == {"(unknown: main transcript missing)"}
    assert report(ledger, "flags") == []


def test_a_subagent_nobody_names_stays_unknown_with_its_cause(ledger, tmp_path):
    main = Transcript(start=START).prompt()
    main.reply(K)
    orphan = Transcript(start="2026-03-02T09:00:30", file_name="agent-7f1e17a3.jsonl")
    orphan.user_text("Look into the failing job", agent="7f1e17a3")
    orphan.reply(K, agent="7f1e17a3")
    load(ledger, tmp_path, main, orphan)
    components = {r["component"] for r in report(ledger, "plugins") if r["level"] == "component"}
    assert "subagent:(unknown: no Task call names it)" in components
    assert not [c for c in components if c == "subagent:unknown"]


def test_an_inline_sidechain_takes_the_type_of_the_task_call_running_it(ledger, tmp_path):
    # v1.0.x wrote Task subagents into the main file with no agent id: the Task call that was running
    # when the sidechain started gives its type.
    t = Transcript(start=START).prompt()
    (task_id,) = t.reply(K, [("Task", {"description": "review", "prompt": "Review the diff",
                                       "subagent_type": "code-reviewer"}, None)])
    t.user_text("Review the diff", inline=True)
    t.reply(K, [("Read", {"file_path": "/work/app/a.py"}, "text")], inline=True, parent=t.last_uuid)
    t.reply(K, inline=True, parent=t.lines[-2]["uuid"])
    t.lines.append(tool_result(t._ts(2), task_id, "The diff looks fine.", session="s1", cwd="/work/app"))
    t.reply(K)
    load(ledger, tmp_path, t)
    threads = ledger.execute("SELECT DISTINCT thread, subagent_type FROM request_facts WHERE thread <> ''").fetchall()
    assert len(threads) == 1 and threads[0][1] == "code-reviewer"
    components = {r["component"] for r in report(ledger, "plugins") if r["level"] == "component"}
    assert "subagent:code-reviewer" in components
