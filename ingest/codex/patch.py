"""Lines added and removed by a Codex `apply_patch` patch (the `*** Begin Patch` format)."""

from __future__ import annotations

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
