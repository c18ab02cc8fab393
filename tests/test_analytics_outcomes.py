"""Outcome classes, each on a hand-built session whose right answer is worked out by hand.

Every request below is 1,000 tokens (10 in, 90 out, 900 cache read) unless said otherwise, so a
turn's figures are simply 1,000 x its requests.
"""

from __future__ import annotations

from tests.transcript_builder import Transcript, facts, load, report

K = (10, 90, 0, 900)


def edit(path: str, old: str, new: str) -> tuple:
    return ("Edit", {"file_path": path, "old_string": old, "new_string": new}, "edited")


def bash(command: str, output: str = "ok", error: bool = False) -> tuple:
    return ("Bash", {"command": command}, output, error)


def test_same_error_three_times_is_looping(ledger, tmp_path):
    t = Transcript().prompt()
    for _ in range(3):
        t.reply(K, [bash("npm test", "Error: cannot find module 'x'", True)])
    t.reply(K)
    load(ledger, tmp_path, t)
    assert [row[3] for row in facts(ledger)] == ["looping", "looping", "looping", "kept"]
    (user,) = report(ledger, "users")
    assert (user["kept_tokens"], user["total_tokens"], user["useful_output_ratio"]) == (1000, 4000, 0.25)


def test_identical_calls_in_a_row_are_looping_but_two_are_not(ledger, tmp_path):
    t = Transcript().prompt()
    for _ in range(3):
        t.reply(K, [("Read", {"file_path": "/work/app/a.py"}, "same")])
    t.reply(K)
    u = Transcript("s2").prompt()
    for _ in range(2):
        u.reply(K, [("Read", {"file_path": "/work/app/a.py"}, "same")])
    u.reply(K)
    load(ledger, tmp_path, t, u)
    assert [row[3] for row in facts(ledger)] == ["looping"] * 3 + ["kept"]
    assert {row[3] for row in facts(ledger, "s2")} == {"kept"}


def test_a_file_edited_back_to_its_earlier_state_is_looping(ledger, tmp_path):
    t = Transcript().prompt()
    t.reply(K, [edit("/work/app/a.py", "x = 1", "x = 2")])
    t.reply(K, [bash("pytest", "1 failed")])
    t.reply(K, [edit("/work/app/a.py", "x = 2", "x = 1")])
    t.reply(K)
    load(ledger, tmp_path, t)
    assert [row[3] for row in facts(ledger)] == ["looping", "looping", "looping", "kept"]


def test_an_edit_test_cycle_repeating_the_same_command_is_not_a_loop(ledger, tmp_path):
    t = Transcript().prompt()
    for i in range(3):
        t.reply(K, [edit("/work/app/a.py", f"v{i}", f"v{i + 1}")])
        t.reply(K, [bash("pytest", f"{2 - i} failed")])
    t.reply(K)
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}


def test_work_thrown_away_by_git_checkout_is_discarded(ledger, tmp_path):
    t = Transcript().prompt()
    t.reply(K, [edit("/work/app/a.py", "a", "b")])
    t.reply(K)
    t.prompt("undo that")
    t.reply(K, [bash("git checkout -- .")])
    t.reply(K)
    load(ledger, tmp_path, t)
    assert [(row[0], row[3]) for row in facts(ledger)] == [(1, "discarded"), (1, "discarded"), (2, "kept"), (2, "kept")]
    (flag,) = report(ledger, "flags")
    assert flag["flag"] == "discarded_work" and flag["tokens"] == 2000
    assert "`git checkout -- .`" in flag["evidence"] and "1 edit(s) to 1 file(s)" in flag["evidence"]


def test_a_commit_protects_the_work_before_it_from_a_later_reset(ledger, tmp_path):
    t = Transcript().prompt()
    t.reply(K, [edit("/work/app/a.py", "a", "b")])
    t.reply(K, [bash("git add -A && git commit -m 'wip'")])
    t.prompt("more")
    t.reply(K, [edit("/work/app/b.py", "c", "d")])
    t.prompt("no, drop it")
    t.reply(K, [bash("git reset --hard")])
    load(ledger, tmp_path, t)
    assert [(row[0], row[3]) for row in facts(ledger)] == [(1, "kept"), (1, "kept"), (2, "discarded"), (3, "kept")]


def test_deleting_a_file_the_session_created_discards_the_turn_that_wrote_it(ledger, tmp_path):
    t = Transcript().prompt()
    t.reply(K, [("Write", {"file_path": "/work/app/scratch.py", "content": "print(1)\n"}, "written")])
    t.prompt("remove it")
    t.reply(K, [bash("rm scratch.py")])
    load(ledger, tmp_path, t)
    assert [row[3] for row in facts(ledger)] == ["discarded", "kept"]


def test_an_interruption_discards_the_requests_since_the_last_kept_edit(ledger, tmp_path):
    t = Transcript().prompt()
    t.reply(K, [edit("/work/app/a.py", "a", "b")])
    for name in ("b.py", "c.py", "d.py"):
        t.reply(K, [("Read", {"file_path": f"/work/app/{name}"}, "text")])
    t.interrupt()
    t.prompt("stop, do this instead")
    t.reply(K)
    load(ledger, tmp_path, t)
    assert [row[3] for row in facts(ledger)] == ["kept", "discarded", "discarded", "discarded", "kept"]
    (flag,) = report(ledger, "flags")
    assert (flag["flag"], flag["tokens"]) == ("discarded_work", 3000)
    assert "interrupt" in flag["evidence"] and "3 request(s)" in flag["evidence"]


def test_an_interrupted_edit_that_never_ran_keeps_nothing(ledger, tmp_path):
    t = Transcript().prompt()
    t.reply(K, [("Read", {"file_path": "/work/app/a.py"}, "text")])
    t.reply(K, [("Edit", {"file_path": "/work/app/a.py", "old_string": "a", "new_string": "b"}, None)])
    t.interrupt()
    load(ledger, tmp_path, t)
    assert [row[3] for row in facts(ledger)] == ["discarded", "discarded"]


def test_an_hour_of_unattended_reading_is_idle_except_its_answer(ledger, tmp_path):
    t = Transcript().prompt()
    for i in range(25):
        t.reply(K, [("Read", {"file_path": f"/work/app/m{i}.py"}, "text")], gap=180)
    t.reply(K, gap=60)
    load(ledger, tmp_path, t)
    outcomes = [row[3] for row in facts(ledger)]
    assert outcomes == ["idle"] * 25 + ["kept"]
    (flag,) = report(ledger, "flags")
    assert flag["flag"] == "idle_burn" and flag["tokens"] == 25000
    assert "26 requests with no edit and no commit" in flag["evidence"] and "Read x25" in flag["evidence"]


def test_the_same_reading_in_short_bursts_is_kept(ledger, tmp_path):
    t = Transcript().prompt()
    for i in range(25):
        t.reply(K, [("Read", {"file_path": f"/work/app/m{i}.py"}, "text")], gap=10)
    t.reply(K)
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}


def test_useful_ratio_is_also_cost_weighted(ledger, tmp_path):
    t = Transcript().prompt()
    for _ in range(3):
        t.reply((0, 0, 0, 1000), [bash("make", "E", True)])   # 1,000 cache-read tokens: $0.0003 each
    t.reply((0, 1000, 0, 0))                                   # 1,000 output tokens: $0.015
    load(ledger, tmp_path, t)
    (user,) = report(ledger, "users")
    assert user["useful_output_ratio"] == 0.25
    assert user["useful_cost_ratio"] == round(0.015 / (0.015 + 3 * 0.0003), 4)


def test_a_changed_derivation_rederives_every_session(tmp_path, monkeypatch):
    """An upgrade that changes the derivation SQL must not leave old ledgers with old figures."""
    import analytics.refresh as refresh
    from store.db import connect_writer

    con = connect_writer(tmp_path / "l.duckdb")
    first = refresh.refresh_derived(con)
    assert refresh.refresh_derived(con).full is False
    original = refresh.queries.statements

    def edited(name):
        return original(name) + (("SELECT 1",) if name == "derive_flags" else ())

    monkeypatch.setattr(refresh.queries, "statements", edited)
    assert refresh.refresh_derived(con).full is True
    assert first.full is True
    con.close()
