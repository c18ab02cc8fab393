"""`git log -p -U0` as typed commit records: metadata, per-file counts, hashed added lines.

One git process streams every new commit; each diff is against the first parent (the empty tree
for a root commit), without rename detection: the same figures as `git diff --numstat
--no-renames <first parent> <commit>`.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Iterator

import msgspec

from ingest.edits import line_hash
from ingest.git.cli import git_lines

# Fields of the header, \x1f-separated; \x00 opens it and \x1e closes it (the body spans lines).
_FORMAT = "%x00%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%cn%x1f%ce%x1f%ct%x1f%s%x1f%(trailers:only,unfold)%x1f%b%x1e"
LOG_ARGS = ("log", "--stdin", f"--format={_FORMAT}", "-p", "-U0", "--root", "--no-renames",
            "--diff-merges=first-parent", "--no-ext-diff", "--no-textconv", "--topo-order")
_HUNK = re.compile(rb"^@@ -\S+ \+(\d+)")
_DIFF_HEADER = re.compile(rb'^diff --git (?:"?a/)(.*?)"? "?b/(.*?)"?$')

# Coding agents a commit can name: in a Co-Authored-By trailer or a "Generated with" line.
AGENT_MARKERS = (
    (re.compile(r"\bclaude\b|anthropic\.com", re.I), "claude"),
    (re.compile(r"\bcodex\b|openai\.com", re.I), "codex"),
    (re.compile(r"\bgemini\b|google-labs-jules|\bjules\b", re.I), "gemini"),
    (re.compile(r"\bcopilot\b", re.I), "copilot"),
    (re.compile(r"\bcursor\s*agent\b|cursoragent", re.I), "cursor"),
    (re.compile(r"\baider\b", re.I), "aider"),
    (re.compile(r"\bdevin\b", re.I), "devin"),
    (re.compile(r"\bamp\b.*ampcode|ampcode\.com", re.I), "amp"),
    (re.compile(r"\bopenhands\b", re.I), "openhands"),
)
_AGENT_LINE = re.compile(r"^(?:co-authored-by:|generated[ -]with\b|🤖)(.*)$", re.I | re.M)


class FileChange(msgspec.Struct):
    path: str
    lines_added: int = 0
    lines_removed: int = 0
    is_binary: bool = False


class Commit(msgspec.Struct):
    sha: str
    parents: str
    author_name: str
    author_email: str
    authored_at: datetime
    committer_name: str
    committer_email: str
    committed_at: datetime
    subject: str
    trailers: str
    agent: str | None
    files: list[FileChange] = []
    # (path, line number in the new file, hash) of every non-blank added line.
    added: list[tuple[str, int, str]] = []


def agent_of(trailers: str, body: str) -> str | None:
    """The coding agent a Co-Authored-By trailer or a "Generated with" line names, if any."""
    for match in _AGENT_LINE.finditer(f"{trailers}\n{body}"):
        for pattern, agent in AGENT_MARKERS:
            if pattern.search(match.group(1)):
                return agent
    return None


def _utc(seconds: str) -> datetime:
    return datetime.fromtimestamp(int(seconds), timezone.utc).replace(tzinfo=None)


def _header(text: str) -> Commit:
    sha, parents, an, ae, at, cn, ce, ct, subject, trailers, body = text.split("\x1f", 10)
    trailers = trailers.strip()
    return Commit(sha, parents, an, ae, _utc(at), cn, ce, _utc(ct), subject, trailers, agent_of(trailers, body), [], [])


def _unquote(path: bytes) -> str:
    # git C-quotes a path holding a quote, backslash or control character. Text that is not UTF-8
    # (old commits in Latin-1) is stored with replacement characters: the ledger holds only UTF-8.
    if path.startswith(b'"') and path.endswith(b'"'):
        path = path[1:-1].decode("unicode_escape").encode("latin-1")
    return path.decode("utf-8", "replace")


def read_commits(git_dir: str, revisions: list[str]) -> Iterator[Commit]:
    """Commits reachable from `revisions` (`^sha` excludes), newest first, with their diffs."""
    commit: Commit | None = None
    header: list[bytes] | None = None
    change: FileChange | None = None
    in_hunks = False  # past a file's first @@: a "+++ x" line is then content, not a header
    new_line = 0
    for raw in git_lines(git_dir, *LOG_ARGS, stdin="\n".join(revisions) + "\n"):
        first = raw[:1]
        if header is not None:
            header.append(raw)
            if b"\x1e" in raw:
                commit = _header(b"".join(header).decode("utf-8", "replace").split("\x1e", 1)[0])
                header = None
        elif first == b"\x00":
            if commit is not None:
                yield commit
            commit, change = None, None
            header = [raw[1:]]
            if b"\x1e" in raw:
                commit = _header(raw[1:].decode("utf-8", "replace").split("\x1e", 1)[0])
                header = None
        elif commit is None:
            continue
        elif in_hunks and first == b"+":
            change.lines_added += 1
            digest = line_hash(raw[1:].decode("utf-8", "surrogateescape"))
            if digest:
                commit.added.append((change.path, new_line, digest))
            new_line += 1
        elif in_hunks and first == b"-":
            change.lines_removed += 1
        elif first == b"@" and change is not None:
            match = _HUNK.match(raw)
            new_line = int(match.group(1)) if match else 0
            in_hunks = True
        elif raw.startswith(b"diff --git "):
            match = _DIFF_HEADER.match(raw.rstrip(b"\n"))
            change = FileChange(_unquote(match.group(2)) if match else raw[11:].decode("utf-8", "replace").strip())
            commit.files.append(change)
            in_hunks = False
        elif change is not None and not in_hunks:
            if raw.startswith(b"+++ ") and raw[4:].rstrip(b"\n") != b"/dev/null":
                change.path = _unquote(raw[4:].rstrip(b"\n"))[2:]
            elif raw.startswith(b"--- ") and raw[4:].rstrip(b"\n") != b"/dev/null":
                change.path = _unquote(raw[4:].rstrip(b"\n"))[2:]
            elif raw.startswith(b"Binary files "):
                change.is_binary = True
    if commit is not None:
        yield commit
