"""What a session's shell output says about commits: the evidence that links sessions to git.

Pure functions over a command and its output text. Only output counts: `git commit` prints
`[branch sha7] subject` only when the commit was made (a hook or the user can refuse it), a push
prints `old..new  src -> dst`, `gh pr create` prints the pull request's URL.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass

# `[main 030d80d] subject`, `[main (root-commit) 1a2b3c4] subject`, `[detached HEAD 1a2b3c4] subject`
_PRINTED_COMMIT = re.compile(r"^\[(?P<branch>[^\]\n]+?)(?: \(root-commit\))? (?P<sha>[0-9a-f]{7,40})\] (?P<subject>[^\n]*)$", re.M)
# `   030d80d..acf21f1  main -> main`, ` + 1a2b3c4...5d6e7f8 topic -> topic (forced update)`
_PUSH = re.compile(r"^\s*[+ ]?\s*(?P<old>[0-9a-f]{7,40})(?P<dots>\.\.\.?)(?P<new>[0-9a-f]{7,40})\s+(?P<src>\S+)\s+->\s+(?P<dst>\S+)", re.M)
_PR_URL = re.compile(r"https?://[^\s/]+/[^\s/]+/[^\s/]+/(?:pull|merge_requests)/\d+")
# A command that can print commit evidence: git commit/push/merge/cherry-pick/rebase..., gh pr.
_GIT_COMMAND = re.compile(r"\bgit\b|\bgh\s+pr\b")
_SEGMENTS = re.compile(r"&&|\|\||;|\n")


@dataclass(frozen=True)
class Evidence:
    kind: str                  # commit | push | pr
    sha: str | None = None     # the printed (abbreviated) sha: the commit, or the pushed tip
    branch: str | None = None  # the branch git printed; the destination of a push
    subject: str | None = None
    detail: str | None = None  # push range old..new, or the PR URL


def may_hold_evidence(command: str | None) -> bool:
    """Cheap test run on every shell call: is this a command whose output we parse?"""
    return bool(command) and _GIT_COMMAND.search(command) is not None


def parse_output(text: str) -> list[Evidence]:
    """Every printed commit, push and pull-request URL in a command's output, in order."""
    found = [Evidence("commit", m["sha"], m["branch"], m["subject"]) for m in _PRINTED_COMMIT.finditer(text)]
    found += [Evidence("push", m["new"], m["dst"], None, f"{m['old']}{m['dots']}{m['new']}") for m in _PUSH.finditer(text)]
    found += [Evidence("pr", detail=url) for url in dict.fromkeys(_PR_URL.findall(text))]
    return found


def command_dir(command: str | None, cwd: str | None) -> str | None:
    """The directory a command's git ran in: a leading `cd DIR &&` (or `git -C DIR`) beats the
    message's cwd, which is the directory *before* the command ran."""
    directory = cwd
    for segment in _SEGMENTS.split(command or ""):
        try:
            words = shlex.split(segment)
        except ValueError:
            words = segment.split()
        if len(words) >= 2 and words[0] == "cd":
            directory = _join(directory, words[1])
        elif words[:1] == ["git"]:
            if len(words) >= 3 and words[1] == "-C":
                return _join(directory, words[2])
            return directory
    return directory


def _join(base: str | None, path: str) -> str | None:
    if posixpath.isabs(path) or path.startswith("~"):
        return posixpath.normpath(path)
    return posixpath.normpath(posixpath.join(base, path)) if base else None
