"""Lines added and removed by a Codex `apply_patch` patch (the `*** Begin Patch` format)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.hashing import short_hash

_FILE_HEADERS = ("*** Add File: ", "*** Update File: ", "*** Delete File: ")


@dataclass(slots=True)
class PatchSummary:
    file_path: str | None
    lines_added: int
    lines_removed: int
    before_hash: str
    after_hash: str


def summarize_patch(patch: str) -> PatchSummary:
    """Count `+`/`-` body lines; hash the removed and added text so A->B->A reverts match up."""
    first_file = None
    added: list[str] = []
    removed: list[str] = []
    for line in patch.splitlines():
        if line.startswith("***"):
            for header in _FILE_HEADERS:
                if line.startswith(header) and first_file is None:
                    first_file = line[len(header):].strip()
            continue
        if line.startswith("+"):
            added.append(line[1:])
        elif line.startswith("-"):
            removed.append(line[1:])
    return PatchSummary(first_file, len(added), len(removed), short_hash("\n".join(removed)), short_hash("\n".join(added)))


# `apply_patch <<'PATCH' ... PATCH` run through the shell tool (newer Codex builds do this).
_HEREDOC = re.compile(r"\bapply_patch\s*<<-?\s*(['\"]?)(\w+)\1[^\n]*\n(.*?)\n\s*\2\s*(?:\n|$)", re.S)


def heredoc_patch(command: str | None) -> str | None:
    """The patch text of an `apply_patch` heredoc inside a shell command, if there is one."""
    if not command or "apply_patch" not in command:
        return None
    match = _HEREDOC.search(command)
    return match.group(3) if match else None


def patch_files_added(patch: str) -> dict[str, list[str]]:
    """Per file of an apply_patch patch: the `+` lines of its Add File / Update File hunks
    (a `*** Move to:` renames the file the lines land in; Delete File adds nothing)."""
    added: dict[str, list[str]] = {}
    current: str | None = None
    for line in patch.splitlines():
        if line.startswith("***"):
            if line.startswith(("*** Add File: ", "*** Update File: ")):
                current = line.split(": ", 1)[1].strip()
                added.setdefault(current, [])
            elif line.startswith("*** Move to: ") and current is not None:
                target = line.split(": ", 1)[1].strip()
                added[target] = added.pop(current)
                current = target
            elif line.startswith("*** Delete File: "):
                current = None
            continue
        if current is not None and line.startswith("+"):
            added[current].append(line[1:])
    return added
