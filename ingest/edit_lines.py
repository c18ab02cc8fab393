"""The lines an agent's successful file edit added, per file, for matching against git.

Pure functions, one per way an agent writes a file. Only tool calls that edit count: lines a shell
command produced (`cp`, `sed -i`, formatters, code generators) are not the agent's writing. What is
stored is the hash of each normalised non-blank line (ingest.edits.line_hash), never the line.
"""

from __future__ import annotations

import posixpath
from typing import Any

import msgspec

from ingest.codex.patch import patch_files_added
from ingest.edits import diff_added_lines, input_added_lines

CLAUDE_EDIT_TOOLS = frozenset({"Edit", "MultiEdit", "Write", "NotebookEdit"})
# Gemini CLI's edit tools: write_file overwrites (every line counts, as a Claude Write without a
# patch does); replace is an old_string/new_string edit.
GEMINI_EDIT_TOOLS = frozenset({"write_file", "replace"})


class _Hunk(msgspec.Struct):
    lines: list[str] = []


class EditResult(msgspec.Struct):
    """The fields of a Claude Code Edit/Write `toolUseResult` we read (originalFile is skipped unread)."""

    type: str | None = None
    filePath: str | None = None
    content: Any = None
    structuredPatch: list[_Hunk] | None = None


_edit_result = msgspec.json.Decoder(EditResult)


def decode_edit_result(raw: bytes | msgspec.Raw) -> EditResult | None:
    """The result object, or None when it is absent, not an object, or of another shape."""
    if memoryview(raw)[:1] != b"{":
        return None
    try:
        return _edit_result.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def claude_edit_files(tool_name: str, tool_input: dict[str, Any] | None, result: EditResult | None) -> dict[str, list[str]]:
    """{absolute path: added lines} of one successful Claude Code edit.

    The result's structuredPatch is what the tool applied; a Write that created the file adds every
    line of it. Without a result (real subagent files carry toolUseResult null), the input decides:
    a diff of old_string/new_string, or every line a Write wrote.
    """
    tool_input = tool_input or {}
    path = (result.filePath if result else None) or tool_input.get("file_path") or tool_input.get("notebook_path")
    if not isinstance(path, str):
        return {}
    if result is not None and result.type == "create":
        content = result.content if isinstance(result.content, str) else tool_input.get("content")
        return {path: content.splitlines() if isinstance(content, str) else []}
    if result is not None and result.structuredPatch is not None:
        return {path: [line[1:] for hunk in result.structuredPatch for line in hunk.lines if line.startswith("+")]}
    lines = input_added_lines(tool_name, tool_input)
    return {path: lines} if lines is not None else {}


def codex_patch_files(patch: str, base_dir: str | None) -> dict[str, list[str]]:
    """{absolute path: added lines} of an apply_patch patch; relative paths resolve against the
    directory the patch was applied in (the call's workdir, else the session's cwd)."""
    files = {}
    for path, lines in patch_files_added(patch).items():
        if base_dir and not posixpath.isabs(path):
            path = posixpath.normpath(posixpath.join(base_dir, path))
        files[path] = files.get(path, []) + lines
    return files


def gemini_edit_files(tool_name: str, args: dict[str, Any]) -> dict[str, list[str]]:
    """{path: added lines} of a Gemini CLI write_file / replace call."""
    path = args.get("file_path") or args.get("absolute_path")
    if not isinstance(path, str):
        return {}
    if tool_name == "write_file":
        content = args.get("content")
        return {path: content.splitlines() if isinstance(content, str) else []}
    old, new = args.get("old_string"), args.get("new_string")
    return {path: diff_added_lines(old if isinstance(old, str) else "", new if isinstance(new, str) else "")}

