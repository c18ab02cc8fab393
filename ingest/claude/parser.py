"""Claude Code transcript lines -> normalized records.

One transcript line is one content block of one API response, a user message, or a
bookkeeping record. See ../shared/formats.md §1 for every rule applied here.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import msgspec

from ingest import plausible
from ingest.batch import RecordBatch
from ingest.claude import signals
from ingest.claude.schema import (
    KNOWN_FIELDS,
    KNOWN_RECORD_TYPES,
    Block,
    BashResult,
    Line,
    Message,
    ProgressData,
    SubagentResult,
)
from ingest.components import SUBAGENT_TOOLS, claude_component
from ingest.context import FileContext
from ingest.edits import summarize_edit
from ingest.lines import LineError, each_line
from ingest.look_back import EarlierLines
from ingest.session_git import SessionGit
from ingest.hashing import normalized_input_hash, output_fingerprint, short_hash, utf8_length
from ingest.records import Agent, Request, SessionEvent, ToolCall, ToolResult

SOURCE = "claude"
SYNTHETIC_MODEL = "<synthetic>"
INTERRUPT_PREFIX = "[Request interrupted by user"
WARMUP_PROMPT = "Warmup"
_COMMAND_NAME = re.compile(r"<command-name>\s*(/?[^<\s]+)\s*</command-name>")
# Lines per (record type, version) whose top-level keys are checked for unknown fields.
DRIFT_SAMPLE_PER_SHAPE = 200
# Unanswered tool calls remembered per file (a parallel batch is tens of calls, not hundreds).
MAX_PENDING_CALLS = 256

_line_decoder = msgspec.json.Decoder(Line)
_keys_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])
_progress_decoder = msgspec.json.Decoder(ProgressData)
_subagent_decoder = msgspec.json.Decoder(SubagentResult)
_bash_decoder = msgspec.json.Decoder(BashResult)


def parse_lines(data: bytes, start_offset: int, start_line: int, ctx: FileContext, batch: RecordBatch) -> None:
    """Parse complete lines of `data` (which starts at byte `start_offset`, line `start_line`)."""
    parser = _FileParser(ctx, batch, start_offset)
    each_line(data, start_offset, start_line, ctx, batch, parser.line)
    parser.carry_pending_calls()


class _FileParser:
    def __init__(self, ctx: FileContext, batch: RecordBatch, start_offset: int = 0) -> None:
        self.ctx = ctx
        self.batch = batch
        self.path = ctx.path
        # Inline (v1.0.x) sidechains carry no agentId: a thread is named after its root line. Kept in
        # the file's parser state, so a sidechain split across two runs stays one thread.
        self.sidechain_threads: dict[str, str] = ctx.state.setdefault("sidechains", {})
        self.drift_samples = ctx.drift_samples
        self.line_no = 0  # of the line being parsed: orders requests within a thread
        self.raw_line = b""
        self.tool_names: dict[str, str] = {}  # tool_use id -> tool name, for calls seen in this read
        self.git = SessionGit(batch, SOURCE)  # edit lines and commit evidence
        self.earlier = EarlierLines(ctx.file, start_offset)  # the file before this read: earlier calls
        # tool_use id -> [tool name, when it was called] for calls not answered yet: how long a result
        # took tells a person's typed reply from a machine error. Carried between reads, since a
        # scheduled run often reads a call while its permission prompt is still waiting for the person.
        # A call of this read keeps its time as a datetime (most are answered in the same read, and
        # writing each one out was ~2% of the parse); the ones still waiting are written out at the end.
        self.pending_calls: dict[str, list] = ctx.state.setdefault("pending_calls", {})

    def carry_pending_calls(self) -> None:
        """The unanswered calls as the file's parser state keeps them: call times as ISO text."""
        for call in self.pending_calls.values():
            if not isinstance(call[1], str):
                call[1] = call[1].isoformat()

    # -- dispatch ---------------------------------------------------------------------------
    def line(self, raw: bytes, line_no: int) -> None:
        self.line_no = line_no
        self.raw_line = raw
        if not raw.startswith(b"{") and not raw.lstrip().startswith(b"{"):
            raise LineError("not a JSON object")
        line = _line_decoder.decode(raw)
        kind = line.type
        if self.drift_samples.get((kind, line.version), 0) < DRIFT_SAMPLE_PER_SHAPE:
            self._check_drift(kind, line.version, raw)
        if kind == "assistant":
            self.assistant(line)
        elif kind == "user":
            self.user(line)
        elif kind == "system":
            self.system(line)
        elif kind == "progress":
            if len(line.data) and b'"agent_progress"' in raw:
                self.progress(line)
        elif kind not in KNOWN_RECORD_TYPES:
            self.batch.drift.add(SOURCE, "record_type", str(kind), self.path)

    def _check_drift(self, kind: str | None, version: str | None, raw: bytes) -> None:
        shape = (kind, version)
        seen = self.drift_samples.get(shape, 0)
        if seen >= DRIFT_SAMPLE_PER_SHAPE:
            return
        self.drift_samples[shape] = seen + 1
        for key in _keys_decoder.decode(raw):
            if key not in KNOWN_FIELDS:
                self.batch.drift.add(SOURCE, "field", f"{kind}.{key}", self.path)

    # -- identity of the thread a line belongs to ---------------------------------------------
    def thread(self, line: Line) -> tuple[str | None, bool]:
        is_sidechain = bool(line.isSidechain)
        agent_id = line.agentId or self.ctx.file_agent_id
        if agent_id or not is_sidechain:
            return agent_id, is_sidechain
        root = self.sidechain_threads.get(line.parentUuid or "") or f"sidechain:{line.parentUuid or line.uuid}"
        if line.uuid:
            self.sidechain_threads[line.uuid] = root
        return root, True

    # -- assistant: one content block of one API response -------------------------------------
    def assistant(self, line: Line) -> None:
        message = line.message
        if message is None:
            raise LineError("assistant line without message")
        ts = self.ctx.timestamp(line.timestamp, "assistant line")
        agent_id, is_sidechain = self.thread(line)
        if line.isApiErrorMessage or message.model == SYNTHETIC_MODEL:
            self.batch.api_errors += 1
            self.event(line, ts, agent_id, is_sidechain, "api_error", detail=_error_text(line.error))
            return
        if is_sidechain and line.parentUuid is None and self.line_no == 1 and self.ctx.file_agent_id:
            # An agent file that opens with the agent talking, no prompt before it: a 2.0.x warm-up.
            self.agent(agent_id, line.sessionId, self.ctx.agent_type, True)
        request_key = None
        if message.usage is not None:
            request_key = self.request(line, message, ts, agent_id, is_sidechain)
        if isinstance(message.content, list):
            for block in message.content:
                if block.type == "tool_use" and block.id and block.name:
                    self.tool_call(line, block, ts, agent_id, is_sidechain, request_key)

    def request(self, line: Line, message: Message, ts, agent_id, is_sidechain) -> str:
        usage = message.usage
        plausible.tokens(usage.input_tokens, usage.output_tokens, usage.cache_creation_input_tokens,
                         usage.cache_read_input_tokens)
        if message.id:
            key = f"{message.id}:{line.requestId}" if line.requestId else message.id
        else:
            key = f"uuid:{line.uuid}"
        if self._absorbed_by_earlier_copy(key, usage, is_sidechain, message.stop_reason):
            return key
        cache = usage.cache_creation
        server = usage.server_tool_use
        details = usage.output_tokens_details
        # By position, in Request's field order (tests/test_claude_records.py holds each one): naming
        # 37 arguments cost msgspec ~2 us a request to match the names, four times the record itself.
        self.batch.requests.add(Request(
            key,                                                    # request_key
            SOURCE,                                                 # source
            ts,                                                     # ts
            message.id,                                             # message_id
            line.requestId,                                         # request_id
            self.ctx.user_name,                                     # user_name
            line.sessionId,                                         # session_id
            agent_id,                                               # agent_id
            is_sidechain,                                           # is_sidechain
            self.ctx.agent_type,                                    # subagent_type
            line.cwd,                                               # project
            line.gitBranch,                                         # git_branch
            line.version,                                           # agent_version
            message.model,                                          # model
            usage.input_tokens or 0,                                # input_tokens
            usage.output_tokens or 0,                               # output_tokens
            usage.cache_creation_input_tokens or 0,                 # cache_creation_tokens
            plausible.count(cache.ephemeral_5m_input_tokens, "token count") if cache else None,  # cache_creation_5m_tokens
            plausible.count(cache.ephemeral_1h_input_tokens, "token count") if cache else None,  # cache_creation_1h_tokens
            usage.cache_read_input_tokens or 0,                     # cache_read_tokens
            plausible.count(details.thinking_tokens, "token count") if details else None,  # reasoning_tokens
            # A line flushed mid-stream has stop_reason null and a placeholder output count.
            message.stop_reason is None,                            # output_estimated
            message.stop_reason,                                    # stop_reason
            usage.speed,                                            # speed
            usage.service_tier,                                     # service_tier
            plausible.count(server.web_search_requests, "web_search_requests",
                            plausible.MAX_TOOL_USES) if server else None,  # web_search_requests
            plausible.count(server.web_fetch_requests, "web_fetch_requests",
                            plausible.MAX_TOOL_USES) if server else None,  # web_fetch_requests
            line.attributionPlugin,                                 # attribution_plugin
            line.attributionSkill,                                  # attribution_skill
            line.attributionAgent,                                  # attribution_agent
            line.uuid,                                              # uuid
            line.parentUuid,                                        # parent_uuid
            line.promptId,                                          # prompt_id
            None,                                                   # source_cost_usd
            False,                                                  # model_is_fallback
            self.path,                                              # file_path
            self.line_no,                                           # line_no
        ))
        return key

    def _absorbed_by_earlier_copy(self, key: str, usage, is_sidechain: bool, stop_reason: str | None) -> bool:
        # Most lines of a split response lose to a copy already in the batch: settle that before
        # building a 40-field record (same rule as RequestMerger, for the common same-key case: an
        # earlier line of the same file wins a tie; a tie with another file's copy is left to the rule).
        existing = self.batch.requests.by_key.get(key)
        if existing is None or existing.is_sidechain != is_sidechain or usage.speed is not None:
            return False
        total = (usage.input_tokens or 0) + (usage.output_tokens or 0) + (usage.cache_creation_input_tokens or 0) \
            + (usage.cache_read_input_tokens or 0)
        existing_total = existing.total()
        if total > existing_total or (total == existing_total and existing.file_path != self.path):
            return False
        if stop_reason is not None:
            existing.output_estimated = False
        return True

    def tool_call(self, line: Line, block: Block, ts, agent_id, is_sidechain, request_key) -> None:
        self.tool_names[block.id] = block.name
        self.pending_calls[block.id] = [block.name, ts]
        if len(self.pending_calls) > MAX_PENDING_CALLS:
            # Calls never answered (a session killed mid-batch) must not grow the state forever.
            del self.pending_calls[next(iter(self.pending_calls))]
        tool_input = block.input or {}
        component = claude_component(block.name, tool_input, line.attributionPlugin)
        edit = summarize_edit(block.name, tool_input)
        command = _bash_command(block.name, tool_input)
        file_path = edit.file_path if edit else tool_input.get("file_path")
        self.git.call(block.id, block.name, tool_input, line.cwd, command)
        # By position, in ToolCall's field order (see `request`).
        self.batch.add(ToolCall(
            block.id,                                               # tool_use_id
            SOURCE,                                                 # source
            ts,                                                     # ts
            block.name,                                             # tool_name
            component.component,                                    # component
            component.kind,                                         # component_kind
            request_key,                                            # request_key
            line.message.id if line.message else None,              # message_id
            self.ctx.user_name,                                     # user_name
            line.sessionId,                                         # session_id
            agent_id,                                               # agent_id
            is_sidechain,                                           # is_sidechain
            component.plugin,                                       # plugin
            normalized_input_hash(tool_input),                      # input_hash
            None,                                                   # input_bytes
            file_path if isinstance(file_path, str) else None,      # file_path
            command,                                                # command
            edit.lines_added if edit else None,                     # lines_added
            edit.lines_removed if edit else None,                   # lines_removed
            edit.before_hash if edit else None,                     # edit_before_hash
            edit.after_hash if edit else None,                      # edit_after_hash
            component.subagent_type,                                # subagent_type
            component.skill_name,                                   # skill_name
        ))

    # -- user: prompts, tool results, interruptions ---------------------------------------------
    def user(self, line: Line) -> None:
        message = line.message
        if message is None or line.isCompactSummary:
            return
        ts = self.ctx.timestamp(line.timestamp, "user line")
        agent_id, is_sidechain = self.thread(line)
        content = message.content
        texts: list[str] = []
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            for block in content:
                if block.type == "tool_result" and block.tool_use_id:
                    self.tool_result(line, block, ts, agent_id, is_sidechain)
                elif block.type == "text" and block.text is not None:
                    texts.append(block.text)
        if texts and not line.isMeta:
            self.prompt("\n".join(texts), line, ts, agent_id, is_sidechain)

    def tool_result(self, line: Line, block: Block, ts, agent_id, is_sidechain) -> None:
        text = _result_text(block.content)
        interrupted = False
        spawned_agent = None
        # Look for the markers in the line itself: toolUseResult often repeats a whole file, and
        # copying it out of the line just to search it was a measurable cost.
        # Only Bash results say "interrupted" and only Task/Agent results name a subagent; a result
        # whose call is not known (answered once already, or dropped from the carried state) is
        # searched for both.
        called = self.pending_calls.pop(block.tool_use_id, None)
        tool = self.tool_names.get(block.tool_use_id) or (called[0] if called else None)
        flags = self.raw_line
        if (tool in (None, "Bash") and b'"interrupted":true' in flags) or (
            tool in (None, *SUBAGENT_TOOLS) and b'"agentId"' in flags
        ):
            raw = bytes(line.toolUseResult)
            if raw.startswith(b"{") and b'"interrupted":true' in raw:
                interrupted = bool(_safe_decode(_bash_decoder, raw, BashResult()).interrupted)
            if raw.startswith(b"{") and b'"agentId"' in raw:
                spawned = _safe_decode(_subagent_decoder, raw, SubagentResult())
                spawned_agent = spawned.agentId
                if spawned.agentId:
                    self.agent(spawned.agentId, line.sessionId, spawned.agentType, False)
        is_error = bool(block.is_error)
        # A call of this read is in tool_names: only a result answering an earlier read's call is asked.
        if called is not None and block.tool_use_id not in self.tool_names \
                and self.git.needs_call(block.tool_use_id, called[0], is_error, text):
            self.earlier_call(block.tool_use_id, called[0])
        self.git.claude_result(block.tool_use_id, line.sessionId, ts, is_error, text, line.toolUseResult, self.raw_line)
        # How long the answer took matters only for an error (a typed reply); most results succeed.
        waited = (ts - _called_at(called[1])).total_seconds() if called and is_error else None
        kind = signals.result_kind(tool, line.version, text, is_error, waited)
        if kind == signals.REJECTED:
            # The user's reason, when they gave one, is their own words: stored like a prompt.
            self.event(line, ts, agent_id, is_sidechain, "rejection", detail=block.tool_use_id,
                       prompt_text=signals.rejection_reason(tool, line.version, text, waited))
        # By position, in ToolResult's field order (see `request`).
        self.batch.add(ToolResult(
            block.tool_use_id,                                      # tool_use_id
            SOURCE,                                                 # source
            ts,                                                     # ts
            line.sessionId,                                         # session_id
            is_error,                                               # is_error
            interrupted,                                            # interrupted
            utf8_length(text),                                      # result_bytes
            output_fingerprint(text),                               # result_hash
            spawned_agent,                                          # spawned_agent_id
            kind,                                                   # result_kind
        ))

    def earlier_call(self, tool_use_id: str, tool_name: str) -> None:
        """The call of a result, from its line in an earlier read: what `tool_call` gives SessionGit."""
        # The id as JSON writes it, whatever the spacing around it: the decoder tells the call's line.
        found = self.earlier.find(msgspec.json.encode(tool_use_id), lambda raw: _call_in(raw, tool_use_id))
        if found is None:
            self.git.unfound_call(tool_use_id, tool_name)
            return
        block, cwd = found
        tool_input = block.input or {}
        self.git.call(tool_use_id, block.name, tool_input, cwd, _bash_command(block.name, tool_input))

    def prompt(self, text: str, line: Line, ts, agent_id, is_sidechain) -> None:
        stripped = text.lstrip()
        if stripped.startswith(INTERRUPT_PREFIX):
            self.event(line, ts, agent_id, is_sidechain, "interrupt", detail=stripped.split("]", 1)[0] + "]")
            return
        if "<local-command-stdout>" in text or "<local-command-stderr>" in text:
            return
        if signals.is_notification(stripped):
            self.event(line, ts, agent_id, is_sidechain, "notification")
            return
        if is_sidechain:
            # A subagent's opening prompt is written by the parent agent, not a human.
            if line.parentUuid is None:
                warmup = stripped == WARMUP_PROMPT
                if agent_id and not agent_id.startswith("sidechain:"):
                    self.agent(agent_id, line.sessionId, self.ctx.agent_type, warmup)
                self.event(line, ts, agent_id, True, "subagent_prompt", prompt_text=text,
                           detail="warmup" if warmup else None)
            return
        command = _COMMAND_NAME.search(text)
        self.event(line, ts, agent_id, False, "prompt", prompt_text=text,
                   slash_command=command.group(1) if command else None, parent_uuid=line.parentUuid)

    # -- system: compactions and API retries -----------------------------------------------------
    def system(self, line: Line) -> None:
        if line.subtype not in ("compact_boundary", "api_error"):
            return
        ts = self.ctx.timestamp(line.timestamp, "system line")
        agent_id, is_sidechain = self.thread(line)
        if line.subtype == "compact_boundary":
            meta = line.compactMetadata
            detail = f"{meta.trigger}:{meta.preTokens}" if meta else None
            self.event(line, ts, agent_id, is_sidechain, "compact_boundary", detail=detail)
        else:
            self.event(line, ts, agent_id, is_sidechain, "api_retry", detail=_error_text(line.error))

    # -- progress: v2.1.x embeds a subagent's assistant line, usage included ------------------
    def progress(self, line: Line) -> None:
        data = _progress_decoder.decode(bytes(line.data))
        embedded = data.message
        if data.type != "agent_progress" or embedded is None or embedded.type != "assistant":
            return
        message = embedded.message
        if message is None or message.usage is None or message.model == SYNTHETIC_MODEL:
            return
        ts = self.ctx.timestamp(embedded.timestamp, "agent_progress embed")
        agent_id = embedded.agentId or data.agentId
        is_sidechain = embedded.isSidechain if embedded.isSidechain is not None else True
        proxy = Line(
            type="assistant", uuid=embedded.uuid, sessionId=line.sessionId, timestamp=embedded.timestamp,
            cwd=line.cwd, gitBranch=line.gitBranch, version=line.version, isSidechain=is_sidechain,
            agentId=agent_id, requestId=embedded.requestId, message=message,
        )
        self.request(proxy, message, ts, agent_id, is_sidechain)

    # -- rows shared by several line kinds ------------------------------------------------------
    def event(self, line: Line, ts, agent_id, is_sidechain, kind: str, *, detail: str | None = None,
              prompt_text: str | None = None, slash_command: str | None = None,
              parent_uuid: str | None = None) -> None:
        key = f"{line.uuid}:{kind}" if line.uuid else f"{self.path}:{kind}:{ts.isoformat()}"
        if kind == "rejection" and detail:
            key = f"{key}:{detail}"
        self.batch.add(SessionEvent(
            event_key=key,
            source=SOURCE,
            user_name=self.ctx.user_name,
            session_id=line.sessionId,
            agent_id=agent_id,
            is_sidechain=is_sidechain,
            ts=ts,
            kind=kind,
            prompt_length=len(prompt_text) if prompt_text is not None else None,
            prompt_hash=short_hash(prompt_text) if prompt_text is not None else None,
            slash_command=slash_command,
            detail=detail,
            prompt_text=prompt_text if self.ctx.store_prompts else None,
            project=line.cwd,
            parent_uuid=parent_uuid,
        ))

    def agent(self, agent_id: str, session_id: str | None, agent_type: str | None, warmup: bool) -> None:
        self.batch.add(Agent(agent_id=agent_id, source=SOURCE, session_id=session_id,
                             subagent_type=agent_type, is_warmup=warmup))


def _bash_command(tool_name: str, tool_input: dict) -> str | None:
    """The shell command of a Bash call; None for any other tool (or a malformed input)."""
    command = tool_input.get("command") if tool_name == "Bash" else None
    return command if isinstance(command, str) else None


def _call_in(raw: bytes, tool_use_id: str) -> tuple[Block, str | None] | None:
    """The tool_use block `tool_use_id` of an assistant line and the line's cwd; None for any other
    line (one that only mentions the id, a subagent's line embedded in a progress line, a broken line)."""
    try:
        line = _line_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    content = line.message.content if line.type == "assistant" and line.message is not None else None
    for block in content if isinstance(content, list) else ():
        if block.type == "tool_use" and block.id == tool_use_id and block.name:
            return block, line.cwd
    return None


def _called_at(value: datetime | str) -> datetime:
    """When a pending call was made: a datetime for a call of this read, ISO text for an earlier one."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.text for part in content if part.text)
    return ""


def _error_text(error: Any) -> str | None:
    if error is None:
        return None
    return error if isinstance(error, str) else str(error)[:200]


def _safe_decode(decoder: msgspec.json.Decoder, raw: bytes, default):
    # toolUseResult shapes vary by tool and version; an unexpected one loses detail, not the line.
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return default
