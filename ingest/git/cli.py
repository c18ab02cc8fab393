"""Running git: the access layer (bench/git_access.py measured it against pygit2, dulwich, GitPython)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Iterator

# No pager, no colour, no prompts, paths as they are (non-ASCII unescaped), and a missing object
# never sends git to the network for it (a partial clone would try to).
_ENV = {**os.environ, "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0", "GIT_NO_LAZY_FETCH": "1", "LC_ALL": "C"}
_BASE = ("git", "-c", "core.quotePath=false", "-c", "color.ui=false")


class GitError(RuntimeError):
    """A git command failed; the message is git's first line of complaint."""


def git(git_dir: str, *args: str, stdin: str | None = None, check: bool = True) -> str:
    """Run one git command against `git_dir` and return its standard output."""
    result = subprocess.run([*_BASE, "--git-dir", git_dir, *args], input=stdin, capture_output=True,
                            text=True, errors="replace", env=_ENV)
    if check and result.returncode != 0:
        raise GitError(_first_line(result.stderr) or f"git {args[0]} exited with {result.returncode}")
    return result.stdout


def git_ok(git_dir: str, *args: str) -> bool:
    """Whether a git command succeeds (merge-base --is-ancestor answers with its exit code)."""
    return subprocess.run([*_BASE, "--git-dir", git_dir, *args], capture_output=True, env=_ENV).returncode == 0


def git_lines(git_dir: str, *args: str, stdin: str | None = None) -> Iterator[bytes]:
    """Stream a git command's output line by line (bytes, newline kept): the log of 10k commits
    is hundreds of MB, never held whole."""
    process = subprocess.Popen([*_BASE, "--git-dir", git_dir, *args], stdin=subprocess.PIPE if stdin is not None else None,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_ENV)
    if stdin is not None:
        process.stdin.write(stdin.encode("utf-8", "surrogateescape"))
        process.stdin.close()
    try:
        yield from process.stdout
    finally:
        process.stdout.close()
        error = process.stderr.read().decode("utf-8", "replace")
        process.stderr.close()
        if process.wait() != 0:
            raise GitError(_first_line(error) or f"git {args[0]} exited with {process.returncode}")


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def find_git_dir(path: Path) -> str | None:
    """The git dir of a working clone or bare repository at `path`, else None."""
    if (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir():
        return str(path.resolve())
    dot_git = path / ".git"
    if dot_git.is_dir():
        return str(dot_git.resolve())
    if dot_git.is_file():  # a worktree or submodule: .git names the real git dir
        result = subprocess.run(["git", "-C", str(path), "rev-parse", "--absolute-git-dir"], capture_output=True,
                                text=True, env=_ENV)
        return result.stdout.strip() or None if result.returncode == 0 else None
    return None


def discover(paths: list[Path], depth: int = 2) -> tuple[list[str], list[Path]]:
    """Git dirs at or below each path (a repository, or a folder of them up to `depth` levels:
    a platform team's mirror directory); and the paths that held none."""
    found: list[str] = []
    empty: list[Path] = []
    for path in paths:
        before = len(found)
        _walk(path, depth, found)
        if len(found) == before:
            empty.append(path)
    return list(dict.fromkeys(found)), empty


def _walk(path: Path, depth: int, found: list[str]) -> None:
    git_dir = find_git_dir(path)
    if git_dir:
        found.append(git_dir)
        return
    if depth <= 0 or not path.is_dir():
        return
    try:
        children = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return
    for child in children:
        _walk(child, depth - 1, found)
