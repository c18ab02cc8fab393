"""Shell commands that keep or throw away work: commits, and the reverts of docs/metrics.md "discarded"."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

# A commit or a pull request is kept work (bound into SQL as a regular expression).
COMMIT_PATTERN = r"\bgit\b[^;&|]*\bcommit\b|\bgh\s+pr\s+(create|merge)\b"
# Cheap pre-filter in SQL: only commands that could be a revert reach the Python parser below.
REVERT_CANDIDATE_PATTERN = r"\bgit\b|\brm\b"

SCOPE_ALL = "since_commit"          # every edit since the last commit before the command
SCOPE_PATHS = "paths"               # edits to the named paths since the last commit
SCOPE_CREATED = "created"           # files the session created (git clean: untracked files)
SCOPE_CREATED_PATHS = "created_paths"  # files the session created, at the named paths (rm)
SCOPE_SESSION = "session"           # every edit of the session before it (a deleted branch)

_SEGMENT_SPLIT = re.compile(r"&&|\|\||;|\n|\|")


@dataclass(frozen=True)
class Revert:
    scope: str
    paths: tuple[str, ...] = ()


def _words(segment: str) -> list[str]:
    try:
        return shlex.split(segment)
    except ValueError:
        return segment.split()


def _clean_path(path: str) -> str:
    path = path.strip()
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/") or "."


def _paths_or_all(args: list[str]) -> Revert | None:
    paths = [_clean_path(a) for a in args if not a.startswith("-")]
    if not paths:
        return None
    if any(p in (".", "*", ":/") for p in paths):
        return Revert(SCOPE_ALL)
    return Revert(SCOPE_PATHS, tuple(paths))


def _git(args: list[str]) -> Revert | None:
    # skip global options such as `-C dir`
    while args and args[0].startswith("-"):
        args = args[2:] if args[0] in ("-C", "-c") else args[1:]
    if not args:
        return None
    verb, rest = args[0], args[1:]
    if verb == "checkout":
        if "--" in rest:
            return _paths_or_all(rest[rest.index("--") + 1:])
        if rest and all(a in (".", "./") for a in rest if not a.startswith("-")):
            return Revert(SCOPE_ALL)
        return None  # `git checkout <branch>` switches branches; it discards nothing of ours
    if verb == "restore":
        if "--staged" in rest and "--worktree" not in rest and "-W" not in rest:
            return None  # unstaging keeps the changes in the working tree
        return _paths_or_all([a for a in rest if a != "--"])
    if verb == "reset" and "--hard" in rest:
        return Revert(SCOPE_ALL)
    if verb == "clean" and any(a.startswith("-") and "f" in a for a in rest):
        return Revert(SCOPE_CREATED)
    if verb == "stash" and rest[:1] in (["drop"], ["clear"]):
        return Revert(SCOPE_ALL)
    if verb == "branch" and any(a in ("-D", "--delete --force") for a in rest):
        return Revert(SCOPE_SESSION)
    return None


def _rm(args: list[str]) -> Revert | None:
    paths = [_clean_path(a) for a in args if not a.startswith("-")]
    return Revert(SCOPE_CREATED_PATHS, tuple(paths)) if paths else None


def classify(command: str) -> list[Revert]:
    """The reverts in one shell command line (compound commands may hold several)."""
    found = []
    for segment in _SEGMENT_SPLIT.split(command):
        words = _words(segment)
        while words and ("=" in words[0] or words[0] in ("sudo", "command")):
            words = words[1:]
        if not words:
            continue
        revert = None
        if words[0] == "git":
            revert = _git(words[1:])
        elif words[0] == "rm":
            revert = _rm(words[1:])
        if revert:
            found.append(revert)
    return found
