"""The git side of a session, collected while its file is parsed: the lines each successful edit
added (table edit_lines) and the commits, pushes and pull requests its shell output printed (table
commit_evidence). Parsers call one object per read: `call(...)` for each tool call, `result(...)`
for each tool result; the functions that read the content live in edit_lines and commit_evidence.

A result whose call was in an earlier read of the file (an earlier run, or the block before in a large
file) is asked `needs_call` first: when the call matters, the parser finds its line again before the
read's start (ingest/look_back.py) and passes it to `call` / `codex_earlier_call`, so the result is
read exactly as in one read.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

import msgspec

from ingest.batch import RecordBatch
from ingest.codex.patch import heredoc_patch
from ingest.commit_evidence import command_dir, may_hold_evidence, parse_output
from ingest.edit_lines import (
    CLAUDE_EDIT_TOOLS,
    GEMINI_EDIT_TOOLS,
    claude_edit_files,
    codex_patch_files,
    decode_edit_result,
    gemini_edit_files,
)
from ingest.records import CommitEvidence

# Agents run the same git commands in the same directories again and again (`git status`, `git diff`:
# a quarter of the real corpus's git calls repeat one before), and shlex-splitting them was the cost.
# Few entries: a command can be a long heredoc, and a repeat comes soon after the first.
_command_dir = lru_cache(maxsize=256)(command_dir)


class SessionGit:
    """Per-read collector; remembers the edit and git calls of this read until their results come."""

    def __init__(self, batch: RecordBatch, source: str) -> None:
        self.batch = batch
        self.source = source
        # tool_use_id -> (tool name, input) for edits, (None, directory) for shell commands.
        self.calls: dict[str, tuple[str | None, Any]] = {}

    # -- calls ---------------------------------------------------------------------------------
    def call(self, tool_use_id: str, tool_name: str, tool_input: Any, cwd: str | None, command: str | None = None) -> None:
        """Remember what the result will need: an edit's input, a git command's directory."""
        if tool_name in CLAUDE_EDIT_TOOLS:
            self.calls[tool_use_id] = (tool_name, tool_input)
        elif may_hold_evidence(command):
            self.calls[tool_use_id] = (None, _command_dir(command, cwd))
        else:
            self.calls[tool_use_id] = ("", None)  # seen, and of no interest

    def knows(self, tool_use_id: str) -> bool:
        """Whether this read has met the call (and not yet its result)."""
        return tool_use_id in self.calls

    def needs_call(self, tool_use_id: str, tool_name: str | None, is_error: bool, text: str) -> bool:
        """For a Claude Code result whose call (named `tool_name`, from the file's carried state) was
        in an earlier read: whether that call's line must be found again. A successful edit needs its
        input (a result without a patch is read from it) and a git command that printed evidence needs
        its directory; any other call is settled here as its line would settle it."""
        if tool_use_id in self.calls or tool_name is None:
            return False
        if tool_name in CLAUDE_EDIT_TOOLS:
            if is_error:
                self.calls[tool_use_id] = (tool_name, None)  # a failed edit adds nothing: input not needed
            return not is_error
        if tool_name == "Bash" and prints_evidence(text):
            return True
        self.calls[tool_use_id] = ("", None)  # of no interest, as in one read
        return False

    def unfound_call(self, tool_use_id: str, tool_name: str | None) -> None:
        """An earlier edit call whose line was not found again: its result alone says what it wrote."""
        if tool_name in CLAUDE_EDIT_TOOLS:
            self.calls[tool_use_id] = (tool_name, None)

    def edit(self, tool_use_id: str, session_id: str | None, files: dict[str, list[str]]) -> None:
        """Lines an edit added (Codex and Gemini know them at call time; success is joined later)."""
        self.batch.add_edit_lines(tool_use_id, self.source, session_id, files)

    # -- results -------------------------------------------------------------------------------
    def codex_call(self, call_id: str, session_id: str | None, tool_input: Any, patch: str | None,
                   command: str | None, cwd: str | None) -> None:
        """A Codex call: apply_patch (as a tool, or as a heredoc in a shell command) adds lines;
        a git command's output will be evidence."""
        directory = _workdir(tool_input, cwd)
        patch = patch or heredoc_patch(command)
        if patch:
            self.edit(call_id, session_id, codex_patch_files(patch, command_dir(command, directory) if command else directory))
        self.call(call_id, "", None, directory, command)

    def codex_earlier_call(self, call_id: str, tool_input: Any, command: str | None, cwd: str | None) -> None:
        """A Codex call of an earlier read, found again for its output: only what the output needs
        (its edit lines were stored by that read)."""
        self.call(call_id, "", None, _workdir(tool_input, cwd), command)

    def gemini_call(self, call_id: str, session_id: str | None, ts: datetime, name: str, args: dict[str, Any],
                    command: str | None, text: str, is_error: bool) -> None:
        """A Gemini CLI call and its result, which arrive together."""
        if name in GEMINI_EDIT_TOOLS and not is_error:
            self.edit(call_id, session_id, gemini_edit_files(name, args))
        elif may_hold_evidence(command):
            self.output(call_id, session_id, ts, text, command_dir(command, args.get("directory")))

    def ghost_snapshot(self, payload: bytes, session_id: str | None, ts: datetime, cwd: str | None) -> None:
        """Codex's ghost_snapshot: a commit of the working tree whose parent was the HEAD then."""
        ghost = _ghost.decode(payload).ghost_commit
        if ghost is not None and ghost.id:
            self.head(f"codex-ghost:{ghost.id}", session_id, ts, "ghost_snapshot", ghost.parent, detail=ghost.id,
                      directory=cwd)

    def claude_result(self, tool_use_id: str, session_id: str | None, ts: datetime, is_error: bool,
                      text: str, raw_result: bytes, raw_line: bytes) -> None:
        """A Claude Code tool_result: an edit's patch, or the output of a git command."""
        entry = self.calls.pop(tool_use_id, None)
        # A call from an earlier read of the file is unknown here: its result says what it was.
        is_edit = entry[0] in CLAUDE_EDIT_TOOLS if entry else b'"structuredPatch"' in raw_line
        if is_edit:
            if not is_error:
                name, tool_input = entry if entry else ("Edit", None)
                self.edit(tool_use_id, session_id, claude_edit_files(name, tool_input, decode_edit_result(raw_result)))
        elif entry is None or entry[0] is None:
            self.output(tool_use_id, session_id, ts, text, entry[1] if entry else None)

    def output(self, tool_use_id: str, session_id: str | None, ts: datetime, text: str, directory: str | None = None) -> None:
        """Evidence printed by a shell command (whatever its exit status: `git commit && git push`
        fails on the push after the commit was made)."""
        if not _may_print_evidence(text):
            return
        for i, evidence in enumerate(parse_output(text)):
            self.batch.add(CommitEvidence(
                evidence_key=f"{tool_use_id}:{i}", tool_use_id=tool_use_id, source=self.source, session_id=session_id,
                ts=ts, kind=evidence.kind, sha=evidence.sha, branch=evidence.branch, subject=evidence.subject,
                detail=evidence.detail, dir=directory,
            ))

    def shell_result(self, tool_use_id: str, session_id: str | None, ts: datetime, text: str) -> None:
        """Output of a shell call remembered by `call` (Codex, Gemini)."""
        entry = self.calls.pop(tool_use_id, None)
        if entry is not None and entry[0] is None:
            self.output(tool_use_id, session_id, ts, text, entry[1])

    def head(self, key: str, session_id: str | None, ts: datetime | None, kind: str, sha: str | None,
             branch: str | None = None, detail: str | None = None, directory: str | None = None) -> None:
        """A commit the agent recorded as the workspace's HEAD (Codex session_meta.git, ghost_snapshot)."""
        if sha:
            self.batch.add(CommitEvidence(evidence_key=key, source=self.source, session_id=session_id, ts=ts, kind=kind,
                                          sha=sha, branch=branch, detail=detail, dir=directory))


def _may_print_evidence(text: str) -> bool:
    """Cheap test before the patterns: every printed commit, push and PR URL holds one of these."""
    return "] " in text or ".." in text or "/pull" in text or "/merge_requests" in text


def prints_evidence(text: str) -> bool:
    """Whether a shell output holds a printed commit, push or pull request."""
    return _may_print_evidence(text) and bool(parse_output(text))


def _workdir(tool_input: Any, cwd: str | None) -> str | None:
    """Where a Codex call ran: its `workdir`, else the session's cwd."""
    workdir = tool_input.get("workdir") if isinstance(tool_input, dict) else None
    return workdir if isinstance(workdir, str) else cwd


class _GhostCommit(msgspec.Struct):
    id: str | None = None
    parent: str | None = None


class _GhostSnapshot(msgspec.Struct):
    ghost_commit: _GhostCommit | None = None


_ghost = msgspec.json.Decoder(_GhostSnapshot)
