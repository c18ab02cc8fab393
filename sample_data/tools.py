"""Tool calls with realistic inputs, result text and `toolUseResult` objects, per tool."""

from __future__ import annotations

import random

import msgspec

from sample_data import content
from sample_data.catalog import mcp_tool_name
from sample_data.profiles import Profile
from sample_data.session import Session, ToolCall
from sample_data.transcript import REJECTION_TEXT


class Toolbox:
    """Builds ToolCalls for one session's repo (files, language, version-specific shapes)."""

    def __init__(self, session: Session, profile: Profile) -> None:
        self.s = session
        self.profile = profile
        self.rng = session.rng
        project = session.ctx.project
        self.language = project.language
        self.project = project
        self.files = content.source_files(project.language, project.src_dirs, session.cwd)
        self.created: list[str] = []
        # The numbers in new code's names come from a generator of their own: the session's draws (and
        # so every other byte it writes) are what they were before new code was numbered.
        self.code_rng = random.Random(f"code:{session.ctx.session_id}")

    # -- reading ----------------------------------------------------------------------------------
    def read(self, path: str | None = None, n_lines: int | None = None) -> ToolCall:
        """Read a source file (the bulk of most transcripts' bytes)."""
        path = path or self.rng.choice(self.files)
        n = n_lines or self.rng.randrange(*self.profile.read_lines)
        lines = content.file_lines(self.language, path, n)
        text = content.numbered(lines, 1, self.s.legacy)
        body = "\n".join(lines)
        result = {"type": "text", "file": {"filePath": path, "content": body, "numLines": n, "startLine": 1, "totalLines": n}}
        return ToolCall("Read", {"file_path": path}, text, result, duration_ms=self.rng.randrange(3, 60))

    def grep(self, pattern: str | None = None) -> ToolCall:
        """Grep in files_with_matches or content mode."""
        pattern = pattern or self.rng.choice(("def ", "retry", "TODO", "currency", "status ==", "import ", "useState"))
        if self.rng.random() < 0.5:
            hits = self.rng.sample(self.files, self.rng.randrange(1, min(8, len(self.files))))
            text = f"Found {len(hits)} files\n" + "\n".join(hits)
            result = {"mode": "files_with_matches", "filenames": hits, "numFiles": len(hits)}
            tool_input = {"pattern": pattern, "path": self.s.cwd}
        else:
            text = content.grep_content(self.rng, self.files, pattern, self.rng.randrange(3, 40))
            result = {"mode": "content", "numFiles": 0, "filenames": [], "content": text, "numLines": text.count("\n") + 1}
            tool_input = {"pattern": pattern, "output_mode": "content", "-n": True}
        return ToolCall("Grep", tool_input, text, result, duration_ms=self.rng.randrange(20, 400))

    def glob(self, pattern: str | None = None) -> ToolCall:
        """Glob for files."""
        ext = {"python": "py", "go": "go", "typescript": "ts"}.get(self.language, "py")
        pattern = pattern or self.rng.choice((f"**/*.{ext}", f"{self.project.src_dirs[0]}/**/*", "**/*test*"))
        hits = self.rng.sample(self.files, self.rng.randrange(2, len(self.files)))
        result = {"filenames": hits, "durationMs": self.rng.randrange(10, 300), "numFiles": len(hits), "truncated": False}
        return ToolCall("Glob", {"pattern": pattern}, "\n".join(hits), result, duration_ms=self.rng.randrange(10, 300))

    # -- shell ------------------------------------------------------------------------------------
    def bash(self, command: str, description: str, stdout: str = "", *, error: str | None = None,
             seconds: float | None = None) -> ToolCall:
        """A Bash call; `error` makes it fail with that exact output (exit code 1)."""
        duration = int((seconds if seconds is not None else self.rng.uniform(0.05, 4)) * 1000)
        tool_input = {"command": command, "description": description}
        if error is not None:
            text = f"Exit code 1\n{error}"
            return ToolCall("Bash", tool_input, text, "Error: " + text, is_error=True, duration_ms=duration)
        result = {"stdout": stdout, "stderr": "", "interrupted": False, "isImage": False}
        return ToolCall("Bash", tool_input, stdout, result, duration_ms=duration)

    def run_tests(self, *, error: str | None = None, test_name: str = "test_totals") -> ToolCall:
        """The project's test command, green or failing with `error`."""
        if error is not None:
            out = content.test_fail_output(self.rng, self.language, test_name, error)
            return self.bash(self.project.test_cmd, "Run the test suite", error=out, seconds=self.rng.uniform(3, 40))
        out = content.test_pass_output(self.rng, self.language)
        return self.bash(self.project.test_cmd, "Run the test suite", out, seconds=self.rng.uniform(3, 60))

    def git(self, args: str, stdout: str = "", description: str | None = None) -> ToolCall:
        """A git command."""
        return self.bash(f"git {args}", description or f"Run git {args.split()[0]}", stdout, seconds=self.rng.uniform(0.05, 0.8))

    # -- editing ----------------------------------------------------------------------------------
    def edit_pair(self, path: str) -> tuple[str, str]:
        """An (old_string, new_string) pair that fits the file's content."""
        lines = content.file_lines(self.language, path, 200)
        at = self.rng.randrange(0, 180)
        old = lines[at : at + self.rng.randrange(2, 8)]
        pool = content.code_pool(self.language)
        new = list(old)
        new[self.rng.randrange(len(new))] = content.freshen(self.rng.choice(pool), self.code_rng)
        for _ in range(self.rng.randrange(0, 12)):
            new.insert(self.rng.randrange(len(new) + 1), content.freshen(self.rng.choice(pool), self.code_rng))
        return "\n".join(old), "\n".join(new)

    def edit(self, path: str | None = None, pair: tuple[str, str] | None = None) -> ToolCall:
        """Edit a file: replace old_string with new_string."""
        path = path or self.rng.choice(self.files)
        old, new = pair or self.edit_pair(path)
        original = "\n".join(content.file_lines(self.language, path, self.rng.randrange(*self.profile.read_lines)))
        snippet = content.numbered(new.splitlines(), self.rng.randrange(5, 300), self.s.legacy)
        text = f"The file {path} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n{snippet}"
        patch = [{"oldStart": 10, "oldLines": old.count("\n") + 1, "newStart": 10, "newLines": new.count("\n") + 1,
                  "lines": [f"-{x}" for x in old.splitlines()] + [f"+{x}" for x in new.splitlines()]}]
        result = {"filePath": path, "oldString": old, "newString": new, "originalFile": original,
                  "structuredPatch": patch, "userModified": False, "replaceAll": False}
        tool_input = {"file_path": path, "old_string": old, "new_string": new}
        if not self.s.legacy:
            tool_input = {"replace_all": False, **tool_input}
        return ToolCall("Edit", tool_input, text, result, duration_ms=self.rng.randrange(10, 120))

    def write(self, path: str | None = None, n_lines: int | None = None) -> ToolCall:
        """Create a new file."""
        if path is None:
            directory = self.rng.choice(self.project.src_dirs)
            path = f"{self.s.cwd}/{directory}/{self.rng.choice(('new', 'extra', 'v2', 'draft'))}_{len(self.created)}{self.files[0][-3:]}"
        lines = self.rng.choices(content.code_pool(self.language), k=n_lines or self.rng.randrange(20, 140))
        body = "\n".join(content.freshen(line, self.code_rng) for line in lines)
        self.created.append(path)
        result = {"type": "create", "filePath": path, "content": body, "structuredPatch": []}
        return ToolCall("Write", {"file_path": path, "content": body}, f"File created successfully at: {path}", result,
                        duration_ms=self.rng.randrange(10, 90))

    def todo(self, items: list[str]) -> ToolCall:
        """TodoWrite with the plan of the turn."""
        todos = [{"content": item, "status": "in_progress" if i == 0 else "pending", "activeForm": item}
                 for i, item in enumerate(items)]
        text = ("Todos have been modified successfully. Ensure that you continue to use the todo list to track your "
                "progress. Please proceed with the current tasks if applicable")
        return ToolCall("TodoWrite", {"todos": todos}, text, {"oldTodos": [], "newTodos": todos}, duration_ms=5)

    # -- MCP, skills, subagents -------------------------------------------------------------------
    def mcp(self, server: str, tool: str, size_bytes: int, tool_input: dict | None = None) -> ToolCall:
        """An MCP tool call returning a payload of about `size_bytes`."""
        payload = content.mcp_payload(self.rng, server, tool, size_bytes)
        parts = [{"type": "text", "text": payload}]
        tool_input = tool_input or _mcp_input(self.rng, server, tool)
        return ToolCall(mcp_tool_name(server, tool), tool_input, parts, parts, duration_ms=self.rng.randrange(300, 6000))

    def skill(self, name: str) -> ToolCall:
        """Skill tool; the skill's instructions then arrive as a meta user line."""
        def inject(tool_use_id: str) -> None:
            body = (f"Base directory for this skill: {self.s.ctx.user.home}/.claude/skills/{name.split(':')[-1]}\n\n"
                    f"# {name}\n\n" + " ".join(self.rng.choices(("Follow", "the", "steps", "verify", "tests", "commit",
                                                                 "small", "changes", "ask", "first"), k=220)))
            self.s.main.thread.user_text(body, self.s.clock, meta=True, blocks=True, extra={"sourceToolUseID": tool_use_id})
            self.s.main.meter.add(len(body) // 4)
        result = {"success": True, "commandName": name}
        return ToolCall("Skill", {"skill": name}, f"Launching skill: {name}", result, duration_ms=20, after=inject)

    def agent(self, agent_type: str, description: str, prompt: str, steps: int) -> ToolCall:
        """Task (2.0.x) / Agent (2.1.x) call; the subagent's own transcript is written while it runs."""
        call = ToolCall("Task" if self.s.legacy else "Agent",
                        {"description": description, "prompt": prompt, "subagent_type": agent_type}, duration_ms=50)
        call.run = lambda: self._run_agent(call, agent_type, description, prompt, steps)
        return call

    def _run_agent(self, call: ToolCall, agent_type: str, description: str, prompt: str, steps: int) -> None:
        s = self.s
        started = s.clock
        actor, agent_id = s.subagent_actor(agent_type, description)
        actor.thread.user_text(prompt, s.clock)
        actor.meter.add(len(prompt) // 4)
        tool_uses = 0
        for _ in range(steps):
            calls = [self.rng.choice((self.read, self.grep, self.glob))() for _ in range(self.rng.randrange(1, 4))]
            tool_uses += len(calls)
            s.respond(calls, None, actor=actor, think=False)
        report = f"## Findings: {description}\n\n" + "\n".join(
            f"- `{self.rng.choice(self.files).removeprefix(s.cwd + '/')}`: {self.rng.choice(('handles', 'defines', 'tests', 'wraps'))} "
            f"the {self.rng.choice(('retry logic', 'currency rounding', 'status transitions', 'config loading'))}"
            for _ in range(self.rng.randrange(4, 12)))
        s.respond([], report, actor=actor, think=False)
        last = actor.thread.lines[-1]
        self._agent_result(call, agent_id, agent_type, prompt, report, tool_uses, s.clock - started, last)

    def _agent_result(self, call: ToolCall, agent_id: str, agent_type: str, prompt: str, report: str,
                      tool_uses: int, duration_ms: int, last_line: bytes) -> None:
        # toolUseResult.usage is the subagent's *final* request only (formats.md §1.5): never spend.
        usage = msgspec.json.decode(last_line)["message"]["usage"]
        total = (usage["input_tokens"] + usage["output_tokens"] + usage["cache_creation_input_tokens"]
                 + usage["cache_read_input_tokens"])
        parts = [{"type": "text", "text": report}]
        result = {"status": "completed", "prompt": prompt, "agentId": agent_id}
        if not self.s.legacy:
            result["agentType"] = agent_type
        result.update(content=parts, totalDurationMs=duration_ms, totalTokens=total, totalToolUseCount=tool_uses, usage=usage)
        if not self.s.legacy:
            parts = parts + [{"type": "text", "text": f"agentId: {agent_id} (use SendMessage with to: '{agent_id}' to continue "
                                                       f"this agent)\n<usage>total_tokens: {total}\ntool_uses: {tool_uses}\n"
                                                       f"duration_ms: {duration_ms}</usage>"}]
        call.content, call.result = parts, result


def rejected(call: ToolCall) -> ToolCall:
    """The same call, refused by the user at the permission prompt."""
    call.content, call.result, call.is_error = REJECTION_TEXT, "Error: " + REJECTION_TEXT, True
    call.duration_ms = 4000
    return call


def _mcp_input(rng, server: str, tool: str) -> dict:
    if server == "github":
        return {"owner": "acme-robotics", "repo": rng.choice(("payments-api", "storefront-web", "k8s-operators")),
                **({"pull_number": rng.randrange(100, 3000)} if "pull_request" in tool and tool != "list_pull_requests" else {}),
                **({"query": "retry repo:acme-robotics/payments-api"} if tool == "search_code" else {})}
    if server == "jira":
        return {"issue_key": f"PAY-{rng.randrange(100, 4000)}"} if tool != "search_issues" else {
            "jql": "project = PAY AND status != Done ORDER BY updated DESC", "max_results": 200}
    if server == "sentry":
        return {"organization_slug": "acme", "issue_id": str(rng.randrange(10**9, 10**10))}
    if server == "context7":
        return {"libraryName": rng.choice(("fastapi", "react", "pydantic", "zod"))} if tool == "resolve-library-id" else {
            "context7CompatibleLibraryID": "/tiangolo/fastapi", "topic": "dependencies", "tokens": 5000}
    if server == "playwright":
        return {"url": "http://localhost:3000/checkout"} if tool == "browser_navigate" else (
            {"element": "Pay now button", "ref": f"e{rng.randrange(10, 400)}"} if tool == "browser_click" else {})
    return {}
