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


def test_a_change_undone_and_redone_is_looping(ledger, tmp_path):
    t = Transcript().prompt()
    t.reply(K, [edit("/work/app/a.py", "x = 1", "x = 2")])
    t.reply(K, [bash("pytest", "1 failed")])
    t.reply(K, [edit("/work/app/a.py", "x = 2", "x = 1")])
    t.reply(K, [bash("pytest", "1 failed, other test")])
    t.reply(K, [edit("/work/app/a.py", "x = 1", "x = 2")])
    t.reply(K)
    load(ledger, tmp_path, t)
    assert [row[3] for row in facts(ledger)] == ["looping"] * 5 + ["kept"]
    (flag,) = report(ledger, "flags")
    assert flag["tokens"] == 5000
    assert flag["evidence"] == "file edited back and forth (2 reversals, A -> B -> A -> B): /work/app/a.py"


def test_a_single_undo_is_a_change_of_mind_not_a_loop(ledger, tmp_path):
    # 89488521: an import removed, found still used, restored (one undo: no loop).
    t = Transcript().prompt()
    t.reply(K, [edit("/work/app/a.py", "x = 1", "x = 2")])
    t.reply(K, [bash("pytest", "1 failed")])
    t.reply(K, [edit("/work/app/a.py", "x = 2", "x = 1")])
    t.reply(K)
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}
    assert report(ledger, "flags") == []


def test_an_undo_the_user_asked_for_is_not_a_loop(ledger, tmp_path):
    # fe869ecb: turn 1 added continue-on-error, the user asked for the real fix, turn 2 removed it.
    t = Transcript().prompt()
    t.reply(K, [edit("/work/app/ci.yml", "run: pyright", "run: pyright\n  continue-on-error: true")])
    t.prompt("please fix the type errors instead")
    t.reply(K, [edit("/work/app/ci.yml", "run: pyright\n  continue-on-error: true", "run: pyright")])
    t.prompt("hmm, put it back for now")
    t.reply(K, [edit("/work/app/ci.yml", "run: pyright", "run: pyright\n  continue-on-error: true")])
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}


def test_cancelled_siblings_of_a_failed_call_are_no_loop_and_no_errors(ledger, tmp_path):
    # 4d5611e5: one parallel batch of 8 Reads, one real failure, seven "Sibling tool call errored".
    t = Transcript().prompt()
    sibling = "<tool_use_error>Sibling tool call errored</tool_use_error>"
    t.reply(K, [("Read", {"file_path": "/work/app/missing.ex"}, "<tool_use_error>File does not exist.</tool_use_error>", True)]
            + [("Read", {"file_path": f"/work/app/{n}.ex"}, sibling, True) for n in range(7)])
    t.reply(K, [("Glob", {"pattern": "**/*.ex"}, "/work/app/a.ex")])
    t.reply(K)
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}
    assert report(ledger, "flags") == []
    read = next(r for r in report(ledger, "plugins") if r["component"] == "builtin:Read")
    assert (read["calls"], read["errors"]) == (8, 1)


def test_file_not_read_yet_on_different_files_is_not_a_loop(ledger, tmp_path):
    # 9e953218: the same harness message on three files, each fixed by the next Read.
    not_read = "<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>"
    t = Transcript().prompt()
    for name in ("vercel.json", "tokenizer.js", "next.config.js"):
        t.reply(K, [("Edit", {"file_path": f"/work/app/{name}", "old_string": "a", "new_string": "b"}, not_read, True)])
        t.reply(K, [("Read", {"file_path": f"/work/app/{name}"}, "a")])
        t.reply(K, [edit(f"/work/app/{name}", "a", "b")])
    t.reply(K)
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}


def test_the_same_error_across_user_prompts_is_not_a_loop(ledger, tmp_path):
    t = Transcript()
    for _ in range(3):
        t.prompt("try again, I changed the env")
        t.reply(K, [bash("npm test", "Error: cannot find module 'x'", True)])
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}


def test_productive_work_inside_an_episode_is_not_looping(ledger, tmp_path):
    t = Transcript().prompt()
    failing = bash("npm test", "Error: cannot find module 'x'", True)
    t.reply(K, [failing])
    t.reply(K, [failing])
    t.reply(K, [edit("/work/app/readme.md", "old", "new")])
    t.reply(K, [failing])
    t.reply(K)
    load(ledger, tmp_path, t)
    assert [row[3] for row in facts(ledger)] == ["looping", "looping", "kept", "looping", "kept"]
    (flag,) = report(ledger, "flags")
    assert flag["tokens"] == 3000


def test_polling_a_background_job_is_not_a_loop(ledger, tmp_path):
    # cb2e607c: BashOutput four times until the install in the background completed.
    t = Transcript().prompt()
    t.reply(K, [bash("uv tool install .", "Command running in background with ID: 7d95c5")])
    for status in ("running", "running", "running", "completed"):
        t.reply(K, [("BashOutput", {"bash_id": "7d95c5"}, f"<status>{status}</status>")], gap=2)
    t.reply(K)
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}


def test_variants_of_one_command_are_a_loop(ledger, tmp_path):
    # cb2e607c 11:53-11:55: four ways to reinstall, none finding out why the old code stayed.
    t = Transcript().prompt()
    for command in ("uv tool uninstall x && uv tool install .", "uv tool install --force .",
                    "rm -rf build dist && uv tool install --reinstall . 2>&1", "uv tool install --no-cache ."):
        t.reply(K, [bash(command, "Installed 1 executable: x")], gap=20)
    t.reply(K)
    load(ledger, tmp_path, t)
    assert [row[3] for row in facts(ledger)] == ["looping"] * 4 + ["kept"]
    (flag,) = report(ledger, "flags")
    assert flag["evidence"] == "Bash ran 4 variants of one command (4 distinct): uv tool install ."


def test_a_failing_test_rerun_with_more_verbose_flags_is_reading_not_looping(ledger, tmp_path):
    t = Transcript().prompt()
    for command in ("pytest tests/test_cart.py", "pytest tests/test_cart.py -v", "pytest tests/test_cart.py -x --tb=long"):
        t.reply(K, [bash(command, f"1 failed ({command})", True)], gap=20)
    t.reply(K)
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}


def test_checks_and_commits_are_not_command_variations(ledger, tmp_path):
    # fa812bfe 16:15: a refused commit, a commit without the ignored file, an amend: each a step.
    t = Transcript().prompt()
    for command in ("git diff", "git diff --stat", "git diff --cached",
                    'git add a b && git commit -m "feat: x"', 'git add a && git commit -m "feat: x"',
                    "git add -f b && git commit --amend --no-edit"):
        t.reply(K, [bash(command)], gap=10)
    t.reply(K)
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}


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


def test_removing_a_script_the_session_ran_is_cleanup_not_waste(ledger, tmp_path):
    # A debug script written, run for its answer, then deleted because the user asked: it did its job.
    t = Transcript().prompt()
    t.reply(K, [("Write", {"file_path": "/work/app/debug_totals.py", "content": "print(totals())\n"}, "written")])
    t.reply(K, [bash("python debug_totals.py", "12.50")])
    t.reply(K)
    t.prompt("thanks, now delete the debug script")
    t.reply(K, [bash("rm debug_totals.py")])
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}


def test_an_interruption_nobody_follows_up_discards_the_requests_since_the_last_kept_edit(ledger, tmp_path):
    t = Transcript().prompt()
    t.reply(K, [edit("/work/app/a.py", "a", "b")])
    for name in ("b.py", "c.py", "d.py"):
        t.reply(K, [("Read", {"file_path": f"/work/app/{name}"}, "text")])
    t.interrupt()
    t.prompt("something else entirely", gap=45 * 60)
    t.reply(K)
    load(ledger, tmp_path, t)
    assert [row[3] for row in facts(ledger)] == ["kept", "discarded", "discarded", "discarded", "kept"]
    (flag,) = report(ledger, "flags")
    assert (flag["flag"], flag["tokens"]) == ("discarded_work", 3000)
    assert "interrupt" in flag["evidence"] and "3 request(s)" in flag["evidence"]
    assert "no instruction followed within 10 min" in flag["evidence"]


def test_an_interruption_followed_by_instructions_is_steering(ledger, tmp_path):
    # 0d3a8e6f, 37f83ec9: the user stops the agent and says at once what to do instead.
    t = Transcript().prompt()
    t.reply(K, [edit("/work/app/a.py", "a", "b")])
    for name in ("b.py", "c.py", "d.py"):
        t.reply(K, [("Read", {"file_path": f"/work/app/{name}"}, "text")])
    t.interrupt()
    t.prompt("stop, use the library's visible flag instead", gap=40)
    t.reply(K, [edit("/work/app/b.py", "x", "y")])
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}
    assert report(ledger, "flags") == []


def test_a_rejection_with_a_reason_is_steering(ledger, tmp_path):
    # cb2e607c 11:27: the plan rejected with a reason, a revised plan approved 15 s later.
    reason = ("The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a "
              "file edit, the new_string was NOT written to the file). The user provided the following reason "
              "for the rejection:  keep the file name")
    t = Transcript().prompt()
    for name in ("a.py", "b.py", "c.py"):
        t.reply(K, [("Read", {"file_path": f"/work/app/{name}"}, "text")])
    t.reply(K, [("ExitPlanMode", {"plan": "rename the script"}, reason, True)])
    t.reply(K, [("ExitPlanMode", {"plan": "keep the name"}, "User has approved your plan.")], gap=15)
    t.reply(K, gap=60 * 60)
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}
    reasons = ledger.execute("SELECT prompt_length FROM session_events WHERE kind = 'rejection'").fetchall()
    assert reasons == [(len("keep the file name"),)]


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


def test_a_checkpoint_rewind_discards_the_abandoned_turns_edits(ledger, tmp_path):
    # The rewinding prompt re-uses the parent of the prompt it went back before (03eb5929 line 38).
    t = Transcript().prompt()
    t.reply(K, [edit("/work/app/a.py", "a", "b")])
    t.reply(K)
    before_turn_2 = t.last_uuid
    t.prompt("now restructure b.py", parent=before_turn_2)
    t.reply(K, [edit("/work/app/b.py", "c", "d")])
    t.reply(K, [bash("pytest", "3 failed")])
    t.reply(K)
    t.prompt("let's do it differently: only rename the helper", parent=before_turn_2)
    t.reply(K, [edit("/work/app/b.py", "helper", "parse_amount")])
    t.reply(K)
    load(ledger, tmp_path, t)
    assert [(row[0], row[3]) for row in facts(ledger)] == [
        (1, "kept"), (1, "kept"), (2, "discarded"), (2, "discarded"), (2, "discarded"), (3, "kept"), (3, "kept")]
    (flag,) = report(ledger, "flags")
    assert (flag["flag"], flag["tokens"]) == ("discarded_work", 3000)
    assert flag["evidence"] == ("work abandoned by a checkpoint rewind to before turn 2: 1 edit(s) to 1 file(s) "
                                "thrown away, 1 turn(s) of work")


def test_a_rewound_question_keeps_its_answer(ledger, tmp_path):
    # 03eb5929: a rewind over answers only (no edit) abandons no work.
    t = Transcript().prompt()
    t.reply(K)
    root = t.last_uuid
    t.prompt("list five strengths", parent=root)
    t.reply(K)
    t.prompt("list five weaknesses instead", parent=root)
    t.reply(K)
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}
    assert report(ledger, "flags") == []


def test_slash_commands_sharing_a_parent_are_no_rewind(ledger, tmp_path):
    # 0d3a8e6f: /status and /mcp both hang off the local-command caveat line.
    t = Transcript().prompt()
    t.reply(K, [edit("/work/app/a.py", "a", "b")])
    caveat = t.last_uuid
    t.prompt("<command-name>/status</command-name>", parent=caveat)
    t.prompt("<command-name>/mcp</command-name>", parent=caveat)
    t.reply(K)
    load(ledger, tmp_path, t)
    assert {row[3] for row in facts(ledger)} == {"kept"}
