"""What real Claude Code sessions contain that a tidy script does not, each planted with ground truth.

Every behaviour here was read in a real transcript of ../shared/corpus first (docs/metrics.md names
the session); the lines follow the real shapes: a parallel batch whose siblings come back as
"Sibling tool call errored", "File has not been read yet" fixed by the next Read, a background job
polled until it completes, a plan rejected with a reason and a revised plan approved, a rejection
typed into the IDE extension, prompt-suggestion and compaction agents, a session whose main
transcript is gone, a checkpoint rewind, variants of one failing command.

Scripts return Behaviour records like scenarios.py; kinds whose `detail["expect"]` says "no flag"
are real work that rules must leave alone (tests/test_analytics_flags.py checks both ways).
"""

from __future__ import annotations

from sample_data.ground_truth import Behaviour
from sample_data.scenarios import Plan, explore, first_prompt, implement, open_session, verify, work_turn
from sample_data.session import Session, ToolCall
from sample_data.tools import Toolbox, rejected
from sample_data.transcript import INTERRUPT_FOR_TOOL, REJECTION_TEXT, iso

SIBLING_ERROR = "<tool_use_error>Sibling tool call errored</tool_use_error>"
NOT_READ = "<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>"
REASON_MARK = " The user provided the following reason for the rejection:  "
PLAN_APPROVED = "User has approved your plan. You can now start coding. Start with updating your todo list if applicable"
GUIDANCE = ("keep the public function names, only change the internals", "use the existing retry helper instead",
            "don't add a new dependency for this", "put the test next to the other parser tests")
IDE_REPLIES = ("wait, run it against the staging database, not local", "please add the fixture file first",
               "no need to push yet, I want to look at the diff")


# -- tool calls the Toolbox does not make -----------------------------------------------------------
def _error(call: ToolCall, text: str, result: object | None = None) -> ToolCall:
    call.content, call.result, call.is_error = text, result if result is not None else "Error: " + text, True
    return call


def _missing_read(s: Session, tb: Toolbox) -> ToolCall:
    path = f"{s.cwd}/{tb.project.src_dirs[0]}/{s.rng.choice(('legacy', 'old', 'v1'))}_{s.rng.randrange(10, 99)}{tb.files[0][-3:]}"
    return _error(ToolCall("Read", {"file_path": path}), "<tool_use_error>File does not exist.</tool_use_error>",
                  "Error: File does not exist.")


def _cancelled(call: ToolCall) -> ToolCall:
    return _error(call, SIBLING_ERROR, "Sibling tool call errored")


def _plan(s: Session, text: str) -> ToolCall:
    return ToolCall("ExitPlanMode", {"plan": text}, PLAN_APPROVED, {"plan": text, "isAgent": False},
                    duration_ms=s.rng.randrange(8000, 40000))


def _refused_with_reason(call: ToolCall, reason: str) -> ToolCall:
    call = rejected(call)
    text = REJECTION_TEXT.split(" STOP what")[0] + REASON_MARK + reason
    call.content, call.result = text, "Error: " + text
    return call


def _poll(s: Session, job: str, status: str) -> ToolCall:
    if s.legacy:
        text = f"<status>{status}</status>\n\n<stdout>\nResolved 42 packages\n</stdout>\n\n<timestamp>{iso(s.clock)}</timestamp>"
        return ToolCall("BashOutput", {"bash_id": job}, text, {"shellId": job, "status": status}, duration_ms=30)
    text = (f"<retrieval_status>{'success' if status == 'completed' else 'timeout'}</retrieval_status>\n\n"
            f"<task_id>{job}</task_id>\n\n<status>{status}</status>")
    return ToolCall("TaskOutput", {"task_id": job, "block": True, "timeout": 120000}, text,
                    {"retrieval_status": status, "task": {"task_id": job, "status": status}},
                    duration_ms=s.rng.randrange(20000, 120000) if status == "running" else 900)


def _record(s: Session, kind: str, ids: list[str], start: str, detail: dict) -> Behaviour:
    return Behaviour(kind, s.ctx.session_id, s.ctx.user.handle, s.ctx.day.isoformat(), start, s.now_iso(), ids, [], detail)


# -- scripts ----------------------------------------------------------------------------------------
def steering(s: Session, tb: Toolbox, plan: Plan) -> list[Behaviour]:
    """The user steers, the agent carries on: nothing here is thrown away (cb2e607c 11:27, 0d3a8e6f,
    37f83ec9, 9e953218 00:27)."""
    open_session(s, tb, plan)
    s.prompt(f"Plan how to add pagination to the export for {plan.ticket}, then do it.")
    start = s.now_iso()
    explore(s, tb, 2)
    ids = s.respond([_refused_with_reason(_plan(s, "1. Rewrite the exporter as a class\n2. Add pagination"),
                                          "keep the exporter a function, just add the page loop")],
                    "Here is the plan.")
    ids += s.respond([_plan(s, "1. Add a page loop to export()\n2. Test it with 3 pages")], "Revised plan:")
    implement(s, tb, 1)
    ids += s.respond([_refused_with_reason(tb.edit(), s.rng.choice(GUIDANCE))], "Now the helper.")
    implement(s, tb, 1)
    if s.legacy:
        # The IDE extension returns what the user typed in its diff view as the refused call's error.
        reply = _error(tb.bash("git push origin HEAD", "Push the branch"), s.rng.choice(IDE_REPLIES))
        reply.duration_ms = s.rng.randrange(25_000, 95_000)
        ids += s.respond([reply], "Let me push this.")
    ids += s.respond([rejected(tb.edit())], "I'll also update the caller.")
    s.interrupt_for_tool()
    s.wait(6, 90)
    s.prompt(s.rng.choice(("No, leave the caller alone, it already handles pages.", "Not that file: the caller is fine.")))
    verify(s, tb, fail_first=False)
    s.answer("Pagination is in; the caller is unchanged and the tests pass.")
    detail = {"patterns": ["plan_rejected_then_approved", "rejection_with_reason", "interrupt_then_instruction"]
              + (["ide_reply"] if s.legacy else []), "expect": "kept: no discarded_work flag"}
    return [_record(s, "steering", ids, start, detail)]


def benign_errors(s: Session, tb: Toolbox, plan: Plan) -> list[Behaviour]:
    """Errors Claude Code writes for its own reasons: cancelled siblings of a failed call in a parallel
    batch (4d5611e5), "File has not been read yet" fixed by the next Read (9e953218), a background job
    polled until done (cb2e607c 11:48), and an edit undone because the user asked (fe869ecb)."""
    open_session(s, tb, plan)
    first_prompt(s, plan)
    start = s.now_iso()
    batch = [_missing_read(s, tb)] + [_cancelled(tb.read()) for _ in range(s.rng.randrange(3, 6))]
    ids = s.respond(batch, "Let me read the relevant files.")
    explore(s, tb, 1)
    for path in s.rng.sample(tb.files, 3):
        ids += s.respond([_error(tb.edit(path), NOT_READ)], None)
        s.respond([tb.read(path)], None)
        s.respond([tb.edit(path)], None)
    job = f"{s.rng.getrandbits(24):06x}" if s.legacy else f"b{s.rng.getrandbits(24):06x}"
    background = tb.bash(tb.project.build_cmd, "Build in the background",
                         f"Command running in background with ID: {job}")
    ids += s.respond([background], "The build takes a while; I'll wait for it.")
    for status in ["running"] * s.rng.randrange(3, 5) + ["completed"]:
        ids += s.respond([_poll(s, job, status)], None, think=False)
        s.wait(2, 6)
    path = s.rng.choice(tb.files)
    a, b = tb.edit_pair(path)
    ids += s.respond([tb.edit(path, (a, b))], "I'll also relax the check here.")
    s.answer("Done: the change is in and the build passes.")
    s.wait(30, 300)
    s.prompt("Please undo the relaxed check, I want it strict.")
    ids += s.respond([tb.edit(path, (b, a))], "Reverting that check.")
    verify(s, tb, fail_first=False)
    s.answer("The check is strict again.")
    detail = {"patterns": ["sibling_cancellations", "file_not_read_yet", "background_polling", "undo_user_asked_for"],
              "expect": "kept: no loop flag"}
    return [_record(s, "benign_errors", ids, start, detail)]


def harness_overhead(s: Session, tb: Toolbox, plan: Plan) -> list[Behaviour]:
    """Claude Code's own agents: a prompt suggestion after every answer (some aborted because the
    user typed), a compaction; 2.0.x only has warm-ups. Their requests are overhead, never work."""
    open_session(s, tb, plan)
    agents: list[str] = []
    start = s.now_iso()
    for turn in range(2):
        if turn == 0:
            first_prompt(s, plan)
        else:
            s.prompt(s.rng.choice(("Now the edge case with an empty list.", "Add a test for that too.")))
        work_turn(s, tb, plan, first=turn == 0)
        if not s.legacy:
            agents.append(s.suggest_next_prompt(aborted=s.rng.random() < 0.4))
        s.wait(20, 240)
        if turn == 0:
            s.compact("auto")
    if not s.legacy:
        agents += [f.rel_path.rsplit("agent-", 1)[1][:-len(".jsonl")] for f in s.files
                   if "/agent-acompact-" in f.rel_path]
    return [_record(s, "harness_overhead", [], start, {"agents": agents, "expect": "overhead outcome, no flag"})]


def subagent_only(s: Session, tb: Toolbox, plan: Plan) -> list[Behaviour]:
    """A session whose main transcript is gone: only its subagent files remain (741790a4)."""
    if s.legacy:
        for _ in range(2):
            s.warmup()
    start = s.now_iso()
    ids: list[str] = []
    for topic in s.rng.sample(("retry call sites", "config loading", "the audit events", "currency rounding"), 3):
        actor, _ = s.subagent_actor("general-purpose", f"Investigate {topic}")
        actor.thread.user_text(f"Investigate {topic} in {s.cwd} and report the files involved.", s.clock)
        for _ in range(s.rng.randint(*plan.profile.subagent_steps) + 1):
            ids += s.respond([s.rng.choice((tb.read, tb.grep, tb.glob))()], None, actor=actor, think=False)
        s.respond([], f"## {topic}\n- the logic lives in `{s.rng.choice(tb.files).removeprefix(s.cwd + '/')}`",
                  actor=actor, think=False)
        s.wait(20 * 60, 50 * 60)
    # The main file and the .meta.json files are what went missing.
    s.files = [f for f in s.files if f.thread is not s.main.thread and not f.rel_path.endswith(".meta.json")]
    return [_record(s, "subagent_only", ids, start,
                    {"expect": "no idle_burn, no discarded_work; types unknown: main transcript missing"})]


def command_variations(s: Session, tb: Toolbox, plan: Plan) -> list[Behaviour]:
    """Four variants of one command that keep failing the same way (cb2e607c 11:53-12:00): a loop the
    identical-call rule cannot see."""
    open_session(s, tb, plan)
    s.prompt("The installed CLI still shows the old help text. Reinstall it so it picks up the change.")
    explore(s, tb, 1)
    start = s.now_iso()
    tool = "uv tool install" if tb.language == "python" else "npm install -g"
    variants = [f"{tool} .", f"{tool} . --force", f"rm -rf build dist && {tool} .", f"{tool} . --reinstall --no-cache"]
    ids: list[str] = []
    for command in variants:
        ids += s.respond([tb.bash(command, "Reinstall the CLI", "Installed 1 executable")], "Let me reinstall.")
        s.respond([tb.bash("mycli --help | head -5", "Check the help text", "usage: mycli [-h] (old help text)")], None)
    s.answer("The help text still shows the old version; something caches the build.")
    return [_record(s, "loop", ids, start, {"pattern": "command_variations", "commands": len(ids)})]


def rewind(s: Session, tb: Toolbox, plan: Plan) -> list[Behaviour]:
    """A checkpoint rewind: the user goes back to before a turn and asks again; that turn's edits
    are restored away (the rewinding prompt re-uses the parent of the prompt it went back before)."""
    open_session(s, tb, plan)
    first_prompt(s, plan)
    work_turn(s, tb, plan, first=True)
    s.wait(30, 300)
    before = s.main.thread.parent
    s.prompt("Now restructure the module into smaller functions.")
    start = s.now_iso()
    ids = implement(s, tb, s.rng.randrange(2, 4))
    s.respond([tb.run_tests(error="AssertionError: totals differ")], "Let me run the tests.")
    s.answer("The restructuring broke two tests; I can keep going.")
    end = s.now_iso()
    s.wait(40, 240)
    s.main.thread.parent = before
    s.prompt("Let's not restructure; just extract the rounding into a helper.")
    work_turn(s, tb, plan, first=False)
    return [Behaviour("discarded_work", s.ctx.session_id, s.ctx.user.handle, s.ctx.day.isoformat(), start, end, ids, [],
                      {"method": "rewind", "edit_tool_use_ids": ids})]


REAL_SCRIPTS = {
    "steering": steering, "benign_errors": benign_errors, "harness_overhead": harness_overhead,
    "subagent_only": subagent_only, "command_variations": command_variations, "rewind": rewind,
}
# Which ground-truth kind each script's session counts as.
SESSION_KIND = {"command_variations": "loop", "rewind": "discarded_work"}
