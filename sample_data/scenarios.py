"""Session scripts: what a normal session does, and the planted behaviours analytics must find.

Each script drives a Session through a Toolbox and returns the Behaviour records describing what
it planted (the tool_use ids and time range that prove it). A normal session plants nothing that
looks like waste: its edits survive, it commits, its failures get fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sample_data.catalog import (
    BUILTIN_SUBAGENTS, HUGE_OUTPUT_TOOLS, LOCAL_SKILLS, MCP_TOOLS, PLUGIN_AGENTS, PLUGIN_MCP_TOOLS, PLUGIN_SKILLS,
    UserProfile, mcp_tool_name,
)
from sample_data.content import git_commit_output, git_status
from sample_data.ground_truth import Behaviour
from sample_data.profiles import Profile
from sample_data.session import Session
from sample_data.tools import Toolbox, rejected
from sample_data.transcript import INTERRUPT, iso

TASKS = (
    "Fix the rounding bug in invoice totals when the currency has no minor unit ({ticket}).",
    "Add retry with exponential backoff to the rates client, and tests for it.",
    "The status transition from pending to settled is missing an audit event. Add it ({ticket}).",
    "Refactor the config loader so env vars override the yaml file; keep the public API.",
    "Write tests for the cart item validation and fix whatever they find.",
    "Why does the ledger sync skip entries created exactly at midnight? Find it and fix it.",
    "Add a --dry-run flag to the job runner.",
    "Implement the design for the new order summary card ({ticket}).",
    "Update the schema for the events table and migrate the reader to it.",
    "Clean up the deprecated region handling in the store module.",
)
FOLLOW_UPS = (
    "Looks good. Can you also handle the empty list case?",
    "Please add a test for the error path too.",
    "Rename the helper to something clearer and update the callers.",
    "OK, now update the docstring and the changelog entry.",
    "Can you double-check the edge case with zero amounts?",
)
IDLE_PROMPTS = (
    "Keep an eye on the flaky integration tests and investigate anything that looks off. I'll be in meetings.",
    "Go through the whole codebase and look for potential performance problems. Take your time, be thorough.",
    "Monitor the nightly ETL logs and look into any failures you find.",
    "Audit every module for places where we swallow exceptions. Don't change anything yet, just investigate.",
)
ERRORS = (
    "AssertionError: assert Decimal('10.00') == Decimal('10')",
    "TypeError: unsupported operand type(s) for +: 'NoneType' and 'int'",
    "KeyError: 'currency'",
    "expected 3 audit events, got 2",
    "Error: connect ECONNREFUSED 127.0.0.1:5432",
)


# Format features every run shows at least once (the generator forces the ones not yet seen).
# Plugin features first: few users have the plugins they need.
FEATURES = ("plugin_agent", "plugin_command", "slash", "plugin_skill", "skill", "subagent", "plugin_mcp", "mcp",
            "todo", "compact", "api_error", "local_command", "rejected")


@dataclass
class Plan:
    """Which extras a session gets, decided by the caller from the user's setup."""

    profile: Profile
    ticket: str
    commit: bool = True
    api_error: bool = False
    force: frozenset[str] = frozenset()
    used: set[str] = field(default_factory=set)

    def wants(self, rng, feature: str, chance: float) -> bool:
        """Use `feature` now: forced by coverage (until used once), or by chance."""
        return (feature in self.force and feature not in self.used) or rng.random() < chance


def feasible(user: UserProfile, feature: str) -> bool:
    """Whether this user's setup allows `feature` (plugin features need the plugin)."""
    needs = {
        "plugin_command": "pr-review-toolkit" in user.plugins,
        "plugin_skill": any(p in PLUGIN_SKILLS for p in user.plugins),
        "plugin_agent": any(p in PLUGIN_AGENTS for p in user.plugins),
        "plugin_mcp": any(p in PLUGIN_MCP_TOOLS for p in user.plugins),
        "mcp": bool(user.mcp_servers),
    }
    return needs.get(feature, True)


def _between(s: Session, lo_hi: tuple[int, int]) -> int:
    return s.rng.randint(*lo_hi)


def _rel(s: Session, path: str) -> str:
    return path.removeprefix(s.cwd + "/")


# -- building blocks -----------------------------------------------------------------------------
def explore(s: Session, tb: Toolbox, rounds: int) -> list[str]:
    """Look around: Glob/Grep/Read, sometimes several in one response."""
    ids: list[str] = []
    for _ in range(rounds):
        width = s.rng.choice((1, 1, 1, 2, 3))
        calls = [s.rng.choice((tb.read, tb.read, tb.read, tb.grep, tb.glob))() for _ in range(width)]
        text = s.rng.choice((None, None, "Let me look at the relevant code.", "Let me check how this is used."))
        ids += s.respond(calls, text)
        s.wait(0.2, 3)
    return ids


def implement(s: Session, tb: Toolbox, n: int) -> list[str]:
    """Edits (and now and then a new file) that stay in the tree."""
    ids: list[str] = []
    for i in range(n):
        call = tb.write() if s.rng.random() < 0.15 else tb.edit()
        text = "Now I'll make the change." if i == 0 else None
        ids += s.respond([call], text)
    return ids


def verify(s: Session, tb: Toolbox, fail_first: bool) -> None:
    """Run the tests; a first failure is fixed with one edit, then they pass."""
    if fail_first:
        s.respond([tb.run_tests(error=s.rng.choice(ERRORS))], "Let me run the tests.")
        s.respond([tb.edit()], "One test fails; the fix is small.")
    s.respond([tb.run_tests()], None if fail_first else "Let me run the tests.")


def commit(s: Session, tb: Toolbox, message: str) -> list[str]:
    """git status, add, commit (often chained in one call): the work is kept."""
    files = tb.files[: s.rng.randrange(1, 4)]
    ids = s.respond([tb.git("status", git_status(files, s.cwd, s.ctx.branch), "Show working tree status")],
                    "Let me commit this.")
    rel = " ".join(_rel(s, f) for f in files)
    sha = s.ids.sha()
    out = git_commit_output(s.ctx.branch, sha, message, len(files), s.rng.randrange(5, 180), s.rng.randrange(0, 60))
    msg = message.replace('"', "'")
    if s.rng.random() < 0.5:
        return ids + s.respond([tb.bash(f'git add {rel} && git commit -m "{msg}"', "Stage and commit the change", out)])
    ids += s.respond([tb.git(f"add {rel}", "", "Stage the changed files")])
    return ids + s.respond([tb.bash(f'git commit -m "{msg}"', "Commit the change", out)])


def mcp_lookup(s: Session, tb: Toolbox, plan: Plan) -> list[str]:
    """A normal-sized MCP call from a server or plugin this user has."""
    servers = [(srv, t) for srv in s.ctx.user.mcp_servers for t in MCP_TOOLS.get(srv, ())]
    plugins = [(p, t) for p in s.ctx.user.plugins for t in PLUGIN_MCP_TOOLS.get(p, ())]
    forced_plugin = "plugin_mcp" in plan.force and "plugin_mcp" not in plan.used
    options = plugins if forced_plugin and plugins else servers + plugins
    if not options:
        return []
    server, (tool, kb) = s.rng.choice(options)
    plan.used.add("plugin_mcp" if server in PLUGIN_MCP_TOOLS else "mcp")
    size = int(kb * 1024 * plan.profile.mcp_kb_scale * s.rng.uniform(0.5, 1.5)) + 200
    return s.respond([tb.mcp(server, tool, size)], "Let me pull that up.")


def delegate(s: Session, tb: Toolbox, plan: Plan) -> list[str]:
    """Hand a search to a subagent: built-in or one a plugin brings."""
    plugin_types = [f"{p}:{a}" for p in s.ctx.user.plugins for a in PLUGIN_AGENTS.get(p, ())]
    forced_plugin = "plugin_agent" in plan.force and "plugin_agent" not in plan.used
    agent_type = s.rng.choice(plugin_types if forced_plugin and plugin_types else list(BUILTIN_SUBAGENTS) + plugin_types)
    plan.used.update(("subagent", "plugin_agent") if ":" in agent_type else ("subagent",))
    description = s.rng.choice(("Find retry call sites", "Map the config loading path", "Review the diff", "Locate the audit events"))
    prompt = f"{description} in {s.cwd}. Report file paths and a short summary of each; do not edit anything."
    return s.respond([tb.agent(agent_type, description, prompt, _between(s, plan.profile.subagent_steps))],
                     "I'll use an agent to search the codebase in parallel.")


def use_skill(s: Session, tb: Toolbox, plan: Plan) -> list[str]:
    """Invoke a plugin or local skill; 2.1.2xx then attributes the turn's responses to it."""
    plugin_skills = [f"{p}:{k}" for p in s.ctx.user.plugins for k in PLUGIN_SKILLS.get(p, ())]
    if plugin_skills and "plugin_skill" in plan.force and "plugin_skill" not in plan.used:
        pool = plugin_skills
    elif "skill" in plan.force and "skill" not in plan.used:
        pool = list(LOCAL_SKILLS)
    else:
        pool = plugin_skills + list(LOCAL_SKILLS)
    name = s.rng.choice(pool)
    plan.used.add("plugin_skill" if ":" in name else "skill")
    ids = s.respond([tb.skill(name)], None)
    if s.reports_thinking and ":" in name:
        s.attribution = {"attributionSkill": name, "attributionPlugin": name.split(":")[0]}
    return ids


def open_session(s: Session, tb: Toolbox, plan: Plan, attended: bool = True) -> None:
    """Session start: 2.0.x warm-up agents, sometimes a local command first (only with someone there)."""
    if s.legacy:
        for _ in range(s.rng.choice((1, 1, 2))):
            s.warmup()
    if attended and plan.wants(s.rng, "local_command", 0.08):
        plan.used.add("local_command")
        s.local_command("/context", "Context Usage\n claude-sonnet-4-6 \u00b7 23k/200k tokens (12%)")


def first_prompt(s: Session, plan: Plan) -> None:
    """The opening human turn: typed, or a slash command that expands to a prompt."""
    task = s.rng.choice(TASKS).format(ticket=plan.ticket)
    if "pr-review-toolkit" in s.ctx.user.plugins and plan.wants(s.rng, "plugin_command", 0.06):
        plan.used.add("plugin_command")
        s.slash_command("/pr-review-toolkit:review-pr", plan.ticket, "Run a comprehensive pull request review using the review agents.")
    elif plan.wants(s.rng, "slash", 0.1):
        plan.used.add("slash")
        s.slash_command("/review", plan.ticket, f"Review the pending changes for {plan.ticket}: correctness, tests, style.")
    else:
        s.prompt(task)


# -- scripts ------------------------------------------------------------------------------------
def normal(s: Session, tb: Toolbox, plan: Plan) -> list[Behaviour]:
    """Real work: explore, change, verify, answer; usually commit."""
    open_session(s, tb, plan)
    p = plan.profile
    turns = _between(s, p.turns)
    compact_after_first = plan.wants(s.rng, "compact", 0.05)
    if compact_after_first:
        plan.used.add("compact")
        turns = max(turns, 2)
    for turn in range(turns):
        if turn == 0:
            first_prompt(s, plan)
        else:
            s.wait(30, 600)
            s.prompt(s.rng.choice(FOLLOW_UPS))
        work_turn(s, tb, plan, first=turn == 0)
        if turn == 0 and (plan.api_error or plan.wants(s.rng, "api_error", 0)):
            plan.used.add("api_error")
            s.api_error()
            s.prompt("continue")
            s.answer("Picking up where I left off: the change is in place and the tests pass.")
        if compact_after_first and turn == 0:
            s.compact("manual")
    if plan.commit:
        s.wait(20, 300)
        s.prompt("Great, commit it.")
        commit(s, tb, f"{plan.ticket}: {s.rng.choice(('fix', 'add', 'refactor'))} {s.rng.choice(('totals', 'retry', 'audit event', 'config'))}")
        s.answer("Committed.")
    return [_normal_record(s)]


def work_turn(s: Session, tb: Toolbox, plan: Plan, first: bool) -> None:
    """One turn of ordinary work ending with a reply."""
    p = plan.profile
    if first and plan.wants(s.rng, "skill", 0.15) or plan.wants(s.rng, "plugin_skill", 0):
        use_skill(s, tb, plan)
    if first and plan.wants(s.rng, "todo", 0.3):
        plan.used.add("todo")
        s.respond([tb.todo(["Understand the current behaviour", "Make the change", "Run the tests"])], None)
    explore(s, tb, _between(s, p.explore))
    if first and plan.wants(s.rng, "subagent", 0.25) or plan.wants(s.rng, "plugin_agent", 0):
        delegate(s, tb, plan)
    if plan.wants(s.rng, "mcp", 0.3) or plan.wants(s.rng, "plugin_mcp", 0):
        mcp_lookup(s, tb, plan)
    implement(s, tb, _between(s, p.edits))
    verify(s, tb, fail_first=s.rng.random() < 0.3)
    s.answer(s.rng.choice((
        "Done. The change is in place and the test suite passes.",
        "Fixed: the root cause was a missing None check; I added a regression test.",
        "Implemented as asked. Summary of changes:\n- updated the handler\n- added tests\n- all tests pass",
    )))


def loop(s: Session, tb: Toolbox, plan: Plan) -> list[Behaviour]:
    """The agent repeats a failing command verbatim, or flips an edit back and forth."""
    open_session(s, tb, plan)
    s.prompt(f"The test for {plan.ticket} is failing on CI. Fix it please.")
    explore(s, tb, _between(s, plan.profile.explore))
    if s.rng.random() < 0.65:
        ids, start, detail = _repeat_failing_command(s, tb)
    else:
        ids, start, detail = _edit_flip_flop(s, tb)
    end = s.now_iso()
    if s.rng.random() < 0.5:
        s.wait(30, 240)
        s.main.thread.user_text(INTERRUPT, s.clock, blocks=True)
        s.wait(10, 60)
        s.prompt("Stop. You're going in circles. I'll look at it myself.")
        s.answer("Understood, stopping here.")
    else:
        s.answer("I wasn't able to get this test passing; the failure persists after several attempts.")
    return [_behaviour(s, "loop", ids, start, end, detail)]


def _repeat_failing_command(s: Session, tb: Toolbox) -> tuple[list[str], str, dict]:
    s.respond([tb.edit()], "I'll fix the assertion.")
    error = tb.run_tests(error=s.rng.choice(ERRORS))      # one failure text, repeated verbatim
    repeats = s.rng.randint(3, 6)
    ids: list[str] = []
    start = s.now_iso()
    for i in range(repeats):
        call = tb.bash(error.input["command"], error.input["description"], error=error.content.removeprefix("Exit code 1\n"),
                       seconds=error.duration_ms / 1000)
        text = None if i == 0 else s.rng.choice(("The test still fails. Let me run it again.", "Let me re-run the tests.",
                                                   "Running the tests once more to confirm."))
        ids += s.respond([call], text)
    return ids, start, {"pattern": "repeated_failing_command", "command": error.input["command"], "repeats": repeats}


def _edit_flip_flop(s: Session, tb: Toolbox) -> tuple[list[str], str, dict]:
    path = s.rng.choice(tb.files)
    a, b = tb.edit_pair(path)
    ids: list[str] = []
    start = s.now_iso()
    flips = s.rng.randint(3, 4)
    for i in range(flips):
        pair = (a, b) if i % 2 == 0 else (b, a)
        ids += s.respond([tb.edit(path, pair)], "Let me try changing this back." if i % 2 else "Let me adjust this.")
        s.respond([tb.run_tests(error=s.rng.choice(ERRORS))])
    return ids, start, {"pattern": "edit_flip_flop", "file_path": path, "edits": flips}


DISCARD_METHODS = ("git checkout -- .", "git restore .", "git reset --hard", "git clean -fd", "git stash drop",
                   "rm", "git branch -D", "rejected", "interrupted")


def discarded_work(s: Session, tb: Toolbox, plan: Plan) -> list[Behaviour]:
    """Edits that do not survive: reverted, deleted, or refused by the user."""
    open_session(s, tb, plan)
    first_prompt(s, plan)
    explore(s, tb, _between(s, plan.profile.explore))
    method = "rejected" if plan.wants(s.rng, "rejected", 0) else s.rng.choice(DISCARD_METHODS)
    if method == "rejected":
        plan.used.add("rejected")
    if method == "git branch -D" and s.ctx.branch == "main":
        method = "git reset --hard"
    start = s.now_iso()
    if method in ("rejected", "interrupted"):
        ids, detail = _refused(s, tb, method)
    else:
        ids, detail = _reverted(s, tb, method)
    behaviour = _behaviour(s, "discarded_work", ids, start, s.now_iso(), detail)
    # A refusal the user follows with an instruction is steering (real_work.steering); here they give
    # up on the attempt and the session ends there.
    if method not in ("rejected", "interrupted") and s.rng.random() < 0.5:
        s.wait(60, 600)
        s.prompt("Let's try a smaller change instead: just the validation.")
        work_turn(s, tb, plan, first=False)
    return [behaviour]


def _reverted(s: Session, tb: Toolbox, method: str) -> tuple[list[str], dict]:
    creates = method in ("git clean -fd", "rm")
    edits = [tb.write() if creates or s.rng.random() < 0.2 else tb.edit() for _ in range(s.rng.randint(2, 5))]
    ids: list[str] = []
    for i, call in enumerate(edits):
        ids += s.respond([call], "I'll restructure this module." if i == 0 else None)
    s.respond([tb.run_tests(error=s.rng.choice(ERRORS))], "Let me run the tests.")
    s.answer("The restructuring is in place but two tests still fail; I can keep going.")
    s.wait(30, 300)
    s.prompt("No, this is the wrong approach. Throw all of it away and go back to what we had.")
    discard = _discard_call(s, tb, method)
    discard_ids: list[str] = []
    for call in discard:
        discard_ids += s.respond([call], None)
    s.answer("Reverted: the working tree is back to the last commit.")
    created = list(tb.created)
    return ids, {"method": method, "edit_tool_use_ids": ids, "discard_tool_use_ids": discard_ids, "created_files": created}


def _discard_call(s: Session, tb: Toolbox, method: str) -> list:
    created = " ".join(_rel(s, p) for p in tb.created) or "."
    if method == "git reset --hard":
        return [tb.git("reset --hard", f"HEAD is now at {s.ids.sha()} Merge branch 'main'", "Discard all changes")]
    if method == "git clean -fd":
        out = "\n".join(f"Removing {_rel(s, p)}" for p in tb.created)
        return [tb.git("checkout -- .", "", "Discard edits to tracked files"), tb.git("clean -fd", out, "Remove untracked files")]
    if method == "git stash drop":
        return [tb.git("stash", f"Saved working directory and index state WIP on {s.ctx.branch}: {s.ids.sha()} wip", "Stash the changes"),
                tb.git("stash drop", f"Dropped refs/stash@{{0}} ({s.ids.sha(40)})", "Drop the stash")]
    if method == "rm":
        return [tb.bash(f"rm {created}", "Delete the files created for this attempt", "")]
    if method == "git branch -D":
        branch = s.ctx.branch
        return [tb.git(f"commit -am 'wip: restructure'", f"[{branch} {s.ids.sha()}] wip: restructure", "Commit the attempt"),
                tb.git("checkout main", "Switched to branch 'main'", "Go back to main"),
                tb.git(f"branch -D {branch}", f"Deleted branch {branch} (was {s.ids.sha()}).", "Delete the attempt's branch")]
    return [tb.git(method.removeprefix("git "), "", "Discard the changes")]


def _refused(s: Session, tb: Toolbox, method: str) -> tuple[list[str], dict]:
    """The user refuses the attempt and leaves it there: no instruction follows (abandoned work)."""
    ids: list[str] = []
    if method == "rejected":
        for _ in range(s.rng.randint(1, 2)):
            ids += s.respond([rejected(tb.edit())], "I'll update the handler.")
        s.interrupt_for_tool()
        return ids, {"method": method, "rejected_tool_use_ids": list(ids), "follow_up": None}
    # The user hits Esc mid-stream: the response never gets its final line and its tool never runs.
    ids = s.respond([tb.edit()], "I'll rewrite the whole module to use the new interface.", complete=False)
    s.wait(1, 5)
    s.main.thread.user_text(INTERRUPT, s.clock, blocks=True)
    return ids, {"method": method, "interrupted_tool_use_ids": list(ids), "follow_up": None}


def idle_burn(s: Session, tb: Toolbox, plan: Plan) -> list[Behaviour]:
    """Unattended for hours: one vague prompt, then reads minutes apart, no edit, no answer."""
    open_session(s, tb, plan, attended=False)
    s.prompt(s.rng.choice(IDLE_PROMPTS))
    hours = s.rng.uniform(*plan.profile.idle_hours)
    first_ms = s.clock
    until = s.clock + int(hours * 3600 * 1000)
    start = s.now_iso()
    ids: list[str] = []
    requests = 0
    while True:
        calls = [s.rng.choice((tb.read, tb.grep, tb.glob, tb.read))() for _ in range(s.rng.choice((1, 1, 2)))]
        ids += s.respond(calls, s.rng.choice((None, "Let me check this again.", "Continuing the investigation.")), think=False)
        requests += 1
        if s.clock >= until:
            break
        s.wait(*plan.profile.idle_gap_s)
    span = (s.clock - first_ms) / 3_600_000
    detail = {"hours": round(span, 2), "requests": requests, "human_prompts": 1, "edits": 0, "commits": 0}
    return [_behaviour(s, "idle_burn", ids, start, s.now_iso(), detail)]


def context_bloat(s: Session, tb: Toolbox, plan: Plan) -> list[Behaviour]:
    """An MCP tool returns 50-200 KB into the context; the session otherwise does normal work."""
    open_session(s, tb, plan)
    server, tool = _huge_tool(s)
    s.prompt({"playwright": "Open the checkout page and find out why the Pay button stays disabled.",
              "github": "Find every place across our repos that calls the retry helper.",
              "jira": "Pull all open PAY tickets and tell me which ones touch invoicing.",
              "sentry": "Look at the recent Sentry events for the payments service and find the top crash."}[server])
    if server == "playwright":
        s.respond([tb.mcp(server, "browser_navigate", 600)], "Let me open the page.")
    start = s.now_iso()
    ids: list[str] = []
    sizes: list[int] = []
    for _ in range(_between(s, plan.profile.bloat_calls)):
        size = s.rng.randint(*plan.profile.bloat_kb) * 1024
        call = tb.mcp(server, tool, size)
        ids += s.respond([call], None)
        sizes.append(call.result_bytes())
    end = s.now_iso()
    implement(s, tb, _between(s, plan.profile.edits))
    verify(s, tb, fail_first=False)
    s.answer("Found it and fixed it; details above.")
    detail = {"tool": mcp_tool_name(server, tool), "result_bytes": sizes}
    return [_behaviour(s, "context_bloat", ids, start, end, detail)]


def _huge_tool(s: Session) -> tuple[str, str]:
    have = set(s.ctx.user.mcp_servers) | set(s.ctx.user.plugins)
    options = [(srv, t) for srv, t in HUGE_OUTPUT_TOOLS if srv in have] or [("github", "search_code")]
    return s.rng.choice(options)


# -- records ------------------------------------------------------------------------------------
def _behaviour(s: Session, kind: str, ids: list[str], start: str, end: str, detail: dict) -> Behaviour:
    return Behaviour(kind, s.ctx.session_id, s.ctx.user.handle, s.ctx.day.isoformat(), start, end, ids, [], detail)


def _normal_record(s: Session) -> Behaviour:
    return Behaviour("normal", s.ctx.session_id, s.ctx.user.handle, s.ctx.day.isoformat(), iso(s.ctx.start_ms), s.now_iso())


SCRIPTS = {
    "normal": normal, "loop": loop, "discarded_work": discarded_work, "idle_burn": idle_burn,
    "context_bloat": context_bloat,
}
