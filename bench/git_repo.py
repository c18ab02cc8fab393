"""A deterministic repository of N commits for the git benchmarks, written with `git fast-import`.

Fifty source files grow and shrink by small edits (a few lines inserted, some deleted), two
authors, one commit a minute: the shape of ordinary history, without a network to fetch one.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

FILES = 50
START = 1_700_000_000


def _line(rng: random.Random, serial: int) -> str:
    words = ("value", "result", "items", "config", "return", "self", "data", "count", "name", "path")
    return f"    {rng.choice(words)}_{serial % 997} = {rng.choice(words)}({serial})"


def fast_import_stream(commits: int, *, seed: int = 7, branch: str = "main", parent: str | None = None,
                       start: int = START, files: dict[str, list[str]] | None = None) -> tuple[bytes, dict[str, list[str]]]:
    """The fast-import commands for `commits` commits on `branch` (after `parent`, if given)."""
    rng = random.Random(seed)
    files = files if files is not None else {f"src/module_{i:02d}.py": [f"# module {i}"] for i in range(FILES)}
    out: list[bytes] = []
    serial = start
    for n in range(commits):
        serial += 60
        author = ("Ada <ada@example.com>", "Bob <bob@example.com>")[n % 2]
        message = f"change {n}: tune {rng.choice(list(files))}\n".encode()
        out.append(f"commit refs/heads/{branch}\nmark :{n + 1}\n".encode())
        out.append(f"author {author} {serial} +0000\ncommitter {author} {serial} +0000\n".encode())
        out.append(b"data %d\n%s" % (len(message), message))
        if n == 0 and parent:
            out.append(f"from {parent}\n".encode())
        for path in rng.sample(sorted(files), rng.randint(1, 3)):
            lines = files[path]
            for _ in range(rng.randint(0, 2) if len(lines) > 20 else 0):
                del lines[rng.randrange(1, len(lines))]
            at = rng.randrange(1, len(lines) + 1) if lines else 0
            lines[at:at] = [_line(rng, serial + k) for k in range(rng.randint(1, 6))]
            body = ("\n".join(lines) + "\n").encode()
            out.append(f"M 100644 inline {path}\n".encode() + b"data %d\n%s\n" % (len(body), body))
    return b"".join(out), files


def synthetic_repo(path: Path, commits: int = 10_000, *, branch: str = "main") -> Path:
    """A bare repository at `path` with `commits` linear commits on `branch` (HEAD)."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", branch, str(path)], check=True)
    stream, _ = fast_import_stream(commits, branch=branch)
    subprocess.run(["git", "--git-dir", str(path), "fast-import", "--quiet"], input=stream, check=True)
    return path


def add_commits(path: Path, commits: int, *, branch: str = "main", seed: int = 11, start: int | None = None) -> None:
    """Append `commits` commits to `branch` (a push that only adds)."""
    tip = subprocess.run(["git", "--git-dir", str(path), "rev-parse", branch], capture_output=True, text=True,
                         check=True).stdout.strip()
    files = _tree_files(path, tip)
    when = start or int(subprocess.run(["git", "--git-dir", str(path), "log", "-1", "--format=%ct", tip],
                                       capture_output=True, text=True, check=True).stdout)
    stream, _ = fast_import_stream(commits, seed=seed, branch=branch, parent=tip, start=when, files=files)
    subprocess.run(["git", "--git-dir", str(path), "fast-import", "--quiet", "--force"], input=stream, check=True)


def rewrite_tip(path: Path, commits: int, *, branch: str = "main", seed: int = 13) -> None:
    """Replace the last `commits` commits of `branch` by as many different ones (a force-push)."""
    base = subprocess.run(["git", "--git-dir", str(path), "rev-parse", f"{branch}~{commits}"], capture_output=True,
                          text=True, check=True).stdout.strip()
    subprocess.run(["git", "--git-dir", str(path), "update-ref", f"refs/heads/{branch}", base], check=True)
    add_commits(path, commits, branch=branch, seed=seed)


def _tree_files(path: Path, rev: str) -> dict[str, list[str]]:
    # Only Python sources are edited: a real repository's binaries and data files stay as they are.
    names = [n for n in subprocess.run(["git", "--git-dir", str(path), "ls-tree", "-r", "--name-only", rev],
                                       capture_output=True, text=True, check=True).stdout.splitlines() if n.endswith(".py")]
    return {name: subprocess.run(["git", "--git-dir", str(path), "show", f"{rev}:{name}"], capture_output=True,
                                 text=True, errors="replace", check=True).stdout.splitlines() for name in names[:200]} or {"src/bench_added.py": ["# added by the bench"]}
