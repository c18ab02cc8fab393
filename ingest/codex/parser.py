"""Codex CLI rollout lines -> normalized records (formats.md §2, pitfalls P12-P14, P17).

Tokens come only from `event_msg/token_count`. The running total and the model are kept in
ctx.state, so a file read incrementally from its stored offset continues exactly where it stopped.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from ingest import plausible
from ingest.batch import RecordBatch
from ingest.lines import LineError, each_line
from ingest.look_back import EarlierLines
from ingest.session_git import SessionGit, prints_evidence
from ingest.codex.patch import summarize_patch
from ingest.codex.schema import (
    KNOWN_LINE_TYPES,
    PayloadHead,
    RolloutLine,
    SessionMeta,
    TokenCount,
    TokenUsage,
    ToolCall,
    ToolOutput,
    TurnAborted,
    TurnContext,
    UserMessage,
)
from ingest.components import shell_or_mcp_component
from ingest.context import FileContext
from ingest.hashing import normalized_input_hash, short_hash
from ingest.records import Agent, Request, SessionEvent, ToolCallLink, ToolResult
from ingest.records import ToolCall as ToolCallRecord

SOURCE = "codex"
FALLBACK_MODEL = "gpt-5"      # what ccusage assumes for rollouts without turn_context (P14)
SHELL_TOOLS = frozenset({"shell", "shell_command", "exec_command", "local_shell", "container.exec", "unified_exec"})
PATCH_TOOL = "apply_patch"
# Outputs that say the tool failed although no exit code is given.
FAILURE_PREFIXES = ("apply_patch verification failed", "failed to", "error:", "execution error",
                    "exec command rejected", "patch rejected", "aborted")
CALL_ITEMS = ("function_call", "custom_tool_call", "local_shell_call")
_EXIT_CODE = re.compile(r"^Exit code: (-?\d+)", re.M)
_WALL_TIME = re.compile(r"^Wall time: [^\n]*\n?", re.M)
# Event types we recognise but do not store; anything else is counted as drift.
KNOWN_EVENTS = frozenset({
    "token_count", "user_message", "turn_aborted", "agent_message", "agent_reasoning",
    "agent_reasoning_raw_content", "entered_review_mode", "exited_review_mode", "context_compacted",
    "task_started", "task_complete", "turn_started", "turn_complete", "mcp_tool_call_end",
    "exec_command_end", "patch_apply_end", "web_search_end", "view_image_tool_call", "error",
    "stream_error", "plan_update", "undo_completed", "thread_rolled_back",
})
KNOWN_ITEMS = frozenset({
    "message", "reasoning", "function_call", "function_call_output", "custom_tool_call",
    "custom_tool_call_output", "local_shell_call", "web_search_call", "ghost_snapshot", "compaction",
})

_line = msgspec.json.Decoder(RolloutLine)
_head = msgspec.json.Decoder(PayloadHead)
_token_count = msgspec.json.Decoder(TokenCount)
_user_message = msgspec.json.Decoder(UserMessage)
_turn_aborted = msgspec.json.Decoder(TurnAborted)
_session_meta = msgspec.json.Decoder(SessionMeta)
_turn_context = msgspec.json.Decoder(TurnContext)
_tool_call = msgspec.json.Decoder(ToolCall)
_tool_output = msgspec.json.Decoder(ToolOutput)
_any = msgspec.json.Decoder()


def parse_lines(data: bytes, start_offset: int, start_line: int, ctx: FileContext, batch: RecordBatch) -> None:
    """Parse complete rollout lines of `data`, which starts at byte `start_offset`, line `start_line`."""
    parser = _RolloutParser(ctx, batch, start_offset)
    each_line(data, start_offset, start_line, ctx, batch, parser.line)
    parser.finish()


def usage_tuple(usage: TokenUsage | None) -> list[int]:
    """(input, cached, output, reasoning, total) with absent counts as 0."""
    if usage is None:
        return [0, 0, 0, 0, 0]
    values = [usage.input_tokens, usage.cached_input_tokens, usage.output_tokens,
              usage.reasoning_output_tokens, usage.total_tokens]
    values = [v or 0 for v in values]
    for value in values:
        plausible.count(value, "token count", plausible.MAX_CUMULATIVE_TOKENS)
    if not usage.total_tokens:
        values[4] = values[0] + values[2]
    return values


def codex_component(name: str):
    """builtin:shell for every shell flavour, builtin:apply_patch, mcp:<server> for MCP tools."""
    return shell_or_mcp_component(name, SHELL_TOOLS)


class _RolloutParser:
    def __init__(self, ctx: FileContext, batch: RecordBatch, start_offset: int = 0) -> None:
        self.ctx = ctx
        self.batch = batch
        self.state = ctx.state
        # Tool calls wait for the next counted token_count: the request that issued them. Calls read
        # in this read are still records; those of earlier reads (ids kept in the file's parser
        # state) are linked to their request by a ToolCallLink.
        self.pending_calls: list[ToolCallRecord] = []
        self.earlier_calls: list[str] = self.state.pop("pending_calls", [])
        self.line_no = 0
        self.git = SessionGit(batch, SOURCE)  # edit lines and commit evidence
        self.earlier = EarlierLines(ctx.file, start_offset)  # the file before this read: earlier calls

    # -- dispatch ---------------------------------------------------------------------------
    def line(self, raw: bytes, line_no: int) -> None:
        if not raw.lstrip().startswith(b"{"):
            raise LineError("not a JSON object")
        self.line_no = line_no
        line = _line.decode(raw)
        if line.type not in KNOWN_LINE_TYPES:
            self.batch.drift.add(SOURCE, "record_type", str(line.type), self.ctx.path)
            return
        payload = bytes(line.payload)
        if not payload:
            raise LineError(f"{line.type} line without payload")
        if line.type == "session_meta":
            self.session_meta(_session_meta.decode(payload))
        elif line.type == "turn_context":
            model = _turn_context.decode(payload).model
            if model:
                self.state["model"] = model
        elif line.type == "event_msg":
            self.event_msg(line, payload)
        elif line.type == "response_item":
            self.response_item(line, payload)

    def _ts(self, line: RolloutLine):
        return self.ctx.timestamp(line.timestamp, f"{line.type} line")

    def _evidence_time(self, value: str | None):
        """A session_meta's own time, or None when it is implausible: the meta line itself is still
        read (it names the session), only its HEAD loses the time a link would need."""
        try:
            return self.ctx.timestamp(value, "session_meta")
        except LineError:
            return None

    # -- who and where ------------------------------------------------------------------------
    def session_meta(self, meta: SessionMeta) -> None:
        subagent = _subagent_type(meta.source)
        if "session" not in self.state:
            self.state.update(session=meta.id, cwd=meta.cwd, version=meta.cli_version,
                              branch=meta.git.branch if meta.git else None)
            if meta.git:
                self.git.head(f"codex-meta:{meta.id}", meta.id, self._evidence_time(meta.timestamp), "session_head",
                              meta.git.commit_hash, meta.git.branch, meta.git.repository_url, meta.cwd)
        if subagent:
            # A sub-agent rollout (or the sub-agent's meta replayed into its parent's file):
            # what follows belongs to that thread.
            self.state.update(thread=meta.id, subagent=subagent)
            if meta.id:
                self.batch.add(Agent(agent_id=meta.id, source=SOURCE, session_id=self._parent(meta),
                                     subagent_type=subagent))
        elif meta.id == self.state.get("session"):
            self.state.pop("thread", None)
            self.state.pop("subagent", None)

    def _parent(self, meta: SessionMeta) -> str | None:
        parent = _parent_thread(meta.source)
        if parent:
            return parent
        session = self.state.get("session")
        return session if session != meta.id else None

    def identity(self) -> dict[str, Any]:
        thread = self.state.get("thread")
        return {
            "source": SOURCE,
            "user_name": self.ctx.user_name,
            "session_id": self.state.get("session"),
            "agent_id": thread,
            "is_sidechain": thread is not None,
        }

    # -- event_msg: tokens, prompts, interruptions --------------------------------------------
    def event_msg(self, line: RolloutLine, payload: bytes) -> None:
        kind = _head.decode(payload).type
        if kind == "token_count":
            self.token_count(line, _token_count.decode(payload))
        elif kind == "user_message":
            self.user_message(line, _user_message.decode(payload))
        elif kind == "turn_aborted":
            reason = _turn_aborted.decode(payload).reason
            # The key names the reason by its hash: it is free text, and keys are never scrubbed.
            self.event(line, "interrupt", detail=reason, key_extra=short_hash(reason or ""))
        elif kind not in KNOWN_EVENTS:
            self.batch.drift.add(SOURCE, "record_type", f"event_msg.{kind}", self.ctx.path)

    def token_count(self, line: RolloutLine, event: TokenCount) -> None:
        info = event.info
        if info is None or info.total_token_usage is None:
            return  # rate-limit-only refresh (P12)
        total = usage_tuple(info.total_token_usage)
        last = usage_tuple(info.last_token_usage) if info.last_token_usage else None
        previous = self.state.get("total")
        self.state["total"] = total
        if previous is not None and total[4] == previous[4]:
            return  # a re-emit: the total did not advance
        if last is None:
            reset = previous is None or total[4] < previous[4]
            last = total if reset else [t - p for t, p in zip(total, previous)]
        # A decreasing total is a reset (resume, new process): the event's own usage still counts.
        self.request(line, total, last)

    def request(self, line: RolloutLine, total: list[int], last: list[int]) -> None:
        ts = self._ts(line)
        inp, cached, out, reasoning, _ = last
        plausible.tokens(inp, cached, out, reasoning)
        # File- and session-independent key: a fork replaying its parent's token_count history and
        # the same rollout under archived_sessions/ produce the same keys, so each counts once.
        key = "codex:" + short_hash(",".join(map(str, total + last)))
        model = self.state.get("model")
        self.batch.requests.add(Request(
            **self.identity(),
            request_key=key,
            subagent_type=self.state.get("subagent"),
            project=self.state.get("cwd"),
            git_branch=self.state.get("branch"),
            agent_version=self.state.get("version"),
            model=model or FALLBACK_MODEL,
            model_is_fallback=model is None,
            ts=ts,
            # cached_input_tokens is part of input_tokens (P13): uncached input = input - cached.
            input_tokens=max(inp - cached, 0),
            cache_read_tokens=cached,
            cache_creation_tokens=0,
            output_tokens=out,
            reasoning_tokens=reasoning,
            output_estimated=False,
            file_path=self.ctx.path,
            line_no=self.line_no,
        ))
        for call in self.pending_calls:
            call.request_key = key
        for call_id in self.earlier_calls:
            self.batch.links.append(ToolCallLink(tool_use_id=call_id, request_key=key))
        self.pending_calls.clear()
        self.earlier_calls.clear()

    def user_message(self, line: RolloutLine, message: UserMessage) -> None:
        text = message.message or ""
        # A sub-agent's opening message is written by its parent, not typed by a person.
        kind = "subagent_prompt" if self.state.get("thread") else "prompt"
        self.event(line, kind, prompt_text=text, key_extra=short_hash(text))

    def event(self, line: RolloutLine, kind: str, *, detail: str | None = None,
              prompt_text: str | None = None, key_extra: str = "") -> None:
        ts = self._ts(line)
        identity = self.identity()
        thread = identity["agent_id"] or identity["session_id"] or self.ctx.path
        self.batch.add(SessionEvent(
            **identity,
            event_key=f"codex:{thread}:{line.timestamp}:{kind}:{key_extra}",
            ts=ts,
            kind=kind,
            prompt_length=len(prompt_text) if prompt_text is not None else None,
            prompt_hash=short_hash(prompt_text) if prompt_text is not None else None,
            detail=detail,
            prompt_text=prompt_text if self.ctx.store_prompts else None,
            project=self.state.get("cwd"),
        ))

    # -- response_item: tool calls and their outputs ----------------------------------------------
    def response_item(self, line: RolloutLine, payload: bytes) -> None:
        kind = _head.decode(payload).type
        if kind in CALL_ITEMS:
            self.tool_call(line, _tool_call.decode(payload))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            self.tool_output(line, _tool_output.decode(payload))
        elif kind == "ghost_snapshot":
            self.git.ghost_snapshot(payload, self.state.get("session"), self._ts(line), self.state.get("cwd"))
        elif kind not in KNOWN_ITEMS:
            self.batch.drift.add(SOURCE, "record_type", f"response_item.{kind}", self.ctx.path)

    def tool_call(self, line: RolloutLine, call: ToolCall) -> None:
        call_id = call.call_id or call.id
        if not call_id:
            raise LineError(f"{call.type} without call_id")
        name = _tool_name(call)
        if not name:
            raise LineError(f"{call.type} without a tool name")
        tool_input, patch_text = _tool_input(call)
        component = codex_component(name)
        summary = summarize_patch(patch_text) if patch_text is not None else None
        row = ToolCallRecord(
            **self.identity(),
            tool_use_id=call_id,
            ts=self._ts(line),
            tool_name=name,
            component=component.component,
            component_kind=component.kind,
            plugin=component.plugin,
            input_hash=normalized_input_hash(tool_input),
            input_bytes=len(call.arguments or call.input or ""),
            command=_shell_command(component.component, tool_input),
            file_path=summary.file_path if summary else None,
            lines_added=summary.lines_added if summary else None,
            lines_removed=summary.lines_removed if summary else None,
            edit_before_hash=summary.before_hash if summary else None,
            edit_after_hash=summary.after_hash if summary else None,
        )
        self.git.codex_call(call_id, self.state.get("session"), tool_input, patch_text, row.command, self.state.get("cwd"))
        self.batch.add(row)
        self.pending_calls.append(row)

    def tool_output(self, line: RolloutLine, output: ToolOutput) -> None:
        if not output.call_id:
            raise LineError("tool output without call_id")
        text, is_error = output_outcome(output.output)
        if not self.git.knows(output.call_id) and prints_evidence(text):
            self.earlier_call(output.call_id)
        self.git.shell_result(output.call_id, self.state.get("session"), self._ts(line), text)
        self.batch.add(ToolResult(
            tool_use_id=output.call_id,
            source=SOURCE,
            session_id=self.state.get("session"),
            ts=self._ts(line),
            is_error=is_error,
            result_bytes=len(text.encode("utf-8", "surrogatepass")),
            # Wall time differs on every run; without it "the same output again" is detectable.
            result_hash=short_hash(_WALL_TIME.sub("", text)),
        ))

    def earlier_call(self, call_id: str) -> None:
        """The call of an output that printed commit evidence, from its line in an earlier read: the
        directory its git ran in (its edit lines were stored by that read)."""
        found = self.earlier.find(msgspec.json.encode(call_id), lambda raw: _call_in(raw, call_id))
        if found is not None:
            tool_input, command = found
            self.git.codex_earlier_call(call_id, tool_input, command, self.state.get("cwd"))

    def finish(self) -> None:
        """Tool calls after the last counted token_count wait, in the file's state, for the next one."""
        waiting = self.earlier_calls + [call.tool_use_id for call in self.pending_calls]
        if waiting:
            self.state["pending_calls"] = waiting


def _call_in(raw: bytes, call_id: str) -> tuple[Any, str | None] | None:
    """(input, shell command) of the call `call_id` in a rollout line, as `tool_call` reads them; None
    for any other line (its output, a line that only mentions the id, a broken line)."""
    try:
        line = _line.decode(raw)
        payload = bytes(line.payload)
        if line.type != "response_item" or _head.decode(payload).type not in CALL_ITEMS:
            return None
        call = _tool_call.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    name = _tool_name(call)
    if (call.call_id or call.id) != call_id or not name:
        return None
    tool_input, _ = _tool_input(call)
    return tool_input, _shell_command(codex_component(name).component, tool_input)


def _tool_name(call: ToolCall) -> str | None:
    """A call's tool name; a local_shell_call has none of its own."""
    return call.name or ("local_shell" if call.type == "local_shell_call" else None)


def _shell_command(component: str, tool_input: Any) -> str | None:
    """The command a call of `component` ran: a shell's; None for any other tool."""
    return _command(tool_input) if component == "builtin:shell" else None


def output_outcome(output: Any) -> tuple[str, bool]:
    """(text, is_error) of a tool output: exit codes first, then `success`, then failure text."""
    exit_code = None
    success = None
    text = ""
    if isinstance(output, dict):
        success = output.get("success")
        content = output.get("content")
        text = content if isinstance(content, str) else msgspec.json.encode(content).decode() if content else ""
    elif isinstance(output, str):
        text = output
        if text.startswith("{") and '"metadata"' in text:
            try:
                wrapped = _any.decode(text)
            except msgspec.DecodeError:
                wrapped = None
            if isinstance(wrapped, dict):
                meta = wrapped.get("metadata") or {}
                exit_code = meta.get("exit_code") if isinstance(meta, dict) else None
                inner = wrapped.get("output")
                text = inner if isinstance(inner, str) else text
    match = _EXIT_CODE.search(text) if exit_code is None else None
    if match:
        exit_code = int(match.group(1))
    if exit_code is not None:
        return text, exit_code != 0
    if success is not None:
        return text, not bool(success)
    return text, text.lstrip().lower().startswith(FAILURE_PREFIXES)


def _tool_input(call: ToolCall) -> tuple[Any, str | None]:
    """The call's input as data, and the patch text when the call is an apply_patch."""
    if call.type == "local_shell_call":
        return call.action or {}, None
    if call.type == "custom_tool_call":
        text = call.input or ""
        return text, text if call.name == PATCH_TOOL else None
    try:
        args = _any.decode(call.arguments) if call.arguments else {}
    except msgspec.DecodeError:
        args = call.arguments
    if call.name == PATCH_TOOL and isinstance(args, dict):
        patch = args.get("input") or args.get("patch")
        return args, patch if isinstance(patch, str) else None
    if call.name in SHELL_TOOLS and isinstance(args, dict):
        command = args.get("command")
        # Older builds run apply_patch through the shell: ["apply_patch", "*** Begin Patch ..."].
        if isinstance(command, list) and len(command) == 2 and command[0] == PATCH_TOOL:
            return args, command[1]
    return args, None


def _command(tool_input: Any) -> str | None:
    if not isinstance(tool_input, dict):
        return None
    command = tool_input.get("command") or tool_input.get("cmd")
    if isinstance(command, list):
        return " ".join(str(part) for part in command)
    return command if isinstance(command, str) else None


def _subagent_type(source: Any) -> str | None:
    """`{"subagent": "review"}` or `{"subagent": {"thread_spawn": {...}}}` -> its kind."""
    if isinstance(source, dict) and "subagent" in source:
        value = source["subagent"]
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and value:
            return next(iter(value))
        return "subagent"
    return None


def _parent_thread(source: Any) -> str | None:
    if isinstance(source, dict) and isinstance(source.get("subagent"), dict):
        for detail in source["subagent"].values():
            if isinstance(detail, dict):
                parent = detail.get("parent_thread_id") or detail.get("parent_id")
                if isinstance(parent, str):
                    return parent
    return None
