"""Git repositories consistent with the generated sessions, and the outcomes AgentLedger must find there.

One bare repository per project (`GIT_DIR/<repo>.git`), written by one `git fast-import` stream with
fixed identities and dates and no configuration read: the same arguments give the same commit shas
on every machine, and the transcripts print them. What happens to a session's work (`truth`):

- it commits on main: the printed sha is on the default branch (link signal 1);
- it commits on a feature branch, which a person later rebases onto main and deletes (the printed
  sha is gone; the landed copy keeps subject and author date: signal 2), squash-merges under a new
  subject (the printed commit stays on its branch: signal 2 by line overlap), or abandons (signal
  1, never landed);
- it never commits, and its person commits the work 5-30 minutes later with a line of their own
  (signal 3), or nobody does (written, never committed);
- discarded, looping and idle work never reaches git.
A third of the landed sessions lose one to three of their lines to a person's commit 9-20 days later.
Every few days a person adds a changelog line (so the +7 and +30 day snapshots exist), and now and
then an agent commit lands that no collected log explains (Co-Authored-By: Claude).

An edit becomes an insertion: a Write's content, or the lines of an Edit's new_string that its
old_string lacks, go into the file at a position fixed by the edit's text, and nothing is removed. A
commit therefore adds exactly the lines the agent wrote anew (plus a person's own), which is what
makes the planted figures exact. (The generated Edit lists every line of new_string as added, so a
session writes more lines than its commits can hold, as real sessions do.)
"""

from __future__ import annotations

import heapq
import os
import random
import re
import subprocess
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from sample_data import content
from sample_data.catalog import Project, UserProfile
from sample_data.session import Session

DAY_MS = 86_400_000
CLAUDE_TRAILER = "Co-Authored-By: Claude <noreply@anthropic.com>"
# Nothing from the machine's git configuration (signing, hooks, templates) may change a sha.
GIT_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "HOME": os.devnull, "LC_ALL": "C", "TZ": "UTC"}
_COMMENT = {"python": "#", "go": "//", "typescript": "//"}
FATES = (("rebase", 2), ("squash", 1), ("abandon", 1))   # of a commit on a feature branch
PERSON_COMMITS_SHARE = 0.6       # of sessions that edit and never commit
DELETION_SHARE = 0.35            # of landed sessions
CHORE_EVERY_MS = int(3.5 * DAY_MS)
GHOST_EVERY_MS = 7 * DAY_MS
BASE_LINES = 60                  # lines of each source file at the initial import
# A line content.fresh_line numbered (`amount_417`): found in no other commit, so it is evidence. A
# person commit or a squash is planted only where AgentLedger can tell the work apart from boilerplate.
_DISTINCTIVE = re.compile(r"_\d")
MIN_DISTINCTIVE_FOR_OVERLAP = 5


@dataclass
class Edit:
    """One successful edit of a session, in repository terms."""

    ms: int
    path: str              # relative to the repository root
    lines: list[str]       # what it inserts: a Write's content, the lines new_string adds to old_string
    key: str               # what fixes the insertion point: the Edit's old_string, or the path of a Write
    written: int           # lines the transcript says it added (non-blank): every line of new_string


@dataclass
class Work:
    """What git can see of one session."""

    session_id: str
    user: UserProfile
    project: Project
    kind: str
    branch: str
    end_ms: int
    transcript: Path
    edits: list[Edit]
    printed: list[tuple[int, str, str, str]]     # (ms, branch, sha7, subject), as the session printed them

    def written(self) -> int:
        """Agent-written lines that are not blank once normalised."""
        return sum(e.written for e in self.edits)

    def distinctive(self) -> int:
        """Inserted lines no other commit adds (numbered identifiers)."""
        return sum(1 for e in self.edits for line in e.lines if _DISTINCTIVE.search(line))


def work_of(session: Session, kind: str, out: Path) -> Work:
    """The edits and printed commits a generated session recorded (sample_data/session.py)."""
    cwd = session.cwd + "/"
    edits = []
    for ms, call in session.edits:
        path = call.input.get("file_path", "")
        if not path.startswith(cwd):
            continue
        rel = path.removeprefix(cwd)
        if call.name == "Write":
            lines = call.input["content"].splitlines()
            edits.append(Edit(ms, rel, lines, rel, _nonblank(lines)))
        else:
            new = call.input["new_string"].splitlines()
            kept = Counter(call.input["old_string"].splitlines())
            added = []
            for line in new:
                if kept[line] > 0:
                    kept[line] -= 1
                else:
                    added.append(line)
            edits.append(Edit(ms, rel, added, call.input["old_string"], _nonblank(new)))
    ctx = session.ctx
    return Work(ctx.session_id, ctx.user, ctx.project, kind, ctx.branch, session.end_ms(), out / session.files[0].rel_path,
                edits, list(session.printed))


def _nonblank(lines: list[str]) -> int:
    return sum(1 for line in lines if line.split())


@dataclass
class _Commit:
    ref: str
    parent: int | None
    author: tuple[str, str, int]          # name, email, epoch seconds
    committer: tuple[str, str, int]
    message: str
    files: dict[str, list[str]]           # path -> its whole new content
    mark: int = 0


@dataclass
class _Landing:
    """Where a session's lines landed on main: the commit, its time, and the lines (path, text)."""

    mark: int
    epoch: int
    lines: list[tuple[str, str]]
    deleted: int = 0
    deleted_mark: int | None = None


def _epoch(ms: int) -> int:
    return ms // 1000


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Repo:
    """One project's history, built in time order, then written by fast-import."""

    def __init__(self, project: Project, people: list[UserProfile], seed: int, first_ms: int) -> None:
        self.project = project
        self.people = people
        self.seed = seed
        self.comment = _COMMENT.get(project.language, "#")
        self.tree: dict[str, list[str]] = {}
        self.commits: list[_Commit] = []
        self.head: int | None = None
        self.mainline: list[tuple[int, int]] = []     # (mark, committer epoch), oldest first
        self.refs: dict[str, int] = {}
        self.prs = 0
        self.base(first_ms)

    # -- commits -----------------------------------------------------------------------------------
    def _add(self, commit: _Commit) -> int:
        commit.mark = len(self.commits) + 1
        self.commits.append(commit)
        self.refs[commit.ref] = commit.mark
        if commit.ref == "refs/heads/main":
            self.head = commit.mark
            self.mainline.append((commit.mark, commit.committer[2]))
        return commit.mark

    def on_main(self, who: UserProfile, ms: int, message: str, files: dict[str, list[str]],
                author_ms: int | None = None) -> int:
        """A commit on main by `who` (committed at `ms`, authored at `author_ms`)."""
        self.tree.update(files)
        author = (who.display_name, who.email, _epoch(author_ms if author_ms is not None else ms))
        return self._add(_Commit("refs/heads/main", self.head, author, (who.display_name, who.email, _epoch(ms)),
                                 message, files))

    def base(self, ms: int) -> None:
        """The initial import: every source file any member's checkout shows (content.source_files)."""
        files: dict[str, list[str]] = {}
        for person in self.people:
            cwd = person.cwd(self.project)
            for path in content.source_files(self.project.language, self.project.src_dirs, cwd):
                rel = path.removeprefix(cwd + "/")
                files.setdefault(rel, content.file_lines(self.project.language, rel, BASE_LINES))
        files["CHANGELOG.md"] = ["# Changelog"]
        self.on_main(self.people[0], ms, "Initial import", dict(sorted(files.items())))

    # -- a session's work --------------------------------------------------------------------------
    def applied(self, tree: dict[str, list[str]], edits: list[Edit]) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
        """The files `edits` change, applied to `tree` as insertions, and the non-blank lines they add."""
        changed: dict[str, list[str]] = {}
        added: list[tuple[str, str]] = []
        for edit in edits:
            lines = list(changed.get(edit.path, tree.get(edit.path, [])))
            at = len(lines) if edit.key == edit.path else zlib.crc32(edit.key.encode()) % (len(lines) + 1)
            lines[at:at] = edit.lines
            changed[edit.path] = lines
            added += [(edit.path, line) for line in edit.lines if line.split()]
        return changed, added

    def branch_commit(self, work: Work, ms: int, subject: str) -> tuple[int, int]:
        """The session's commit on its feature branch, from main as it is then; (its mark, its lines)."""
        changed, added = self.applied(self.tree, work.edits)
        ref = f"refs/heads/{work.branch}"
        n = 2
        while ref in self.refs:                     # two sessions chose the same branch name
            ref, n = f"refs/heads/{work.branch}-{n}", n + 1
        who = work.user
        mark = self._add(_Commit(ref, self.head, (who.display_name, who.email, _epoch(ms)),
                                 (who.display_name, who.email, _epoch(ms)), f"{subject}\n\n{CLAUDE_TRAILER}\n", changed))
        return mark, len(added)

    def land(self, work: Work, ms: int, message: str, author_ms: int | None = None,
             extra: dict[str, list[str]] | None = None) -> _Landing:
        """The session's edits applied to main now (its commit, a rebased copy, a squash, a person's)."""
        changed, added = self.applied(self.tree, work.edits)
        for path, lines in (extra or {}).items():
            changed[path] = changed.get(path, self.tree.get(path, [])) + lines
        mark = self.on_main(work.user, ms, message, changed, author_ms)
        return _Landing(mark, _epoch(ms), added)

    def delete_some(self, landing: _Landing, who: UserProfile, ms: int, rng: random.Random) -> None:
        """A person removes 1-3 of the session's landed lines, each one the only copy of its text in its file."""
        candidates = []
        for path, line in landing.lines:
            if Counter(self.tree.get(path, []))[line] == 1 and (path, line) not in candidates:
                candidates.append((path, line))
        if not candidates:
            return
        chosen = rng.sample(candidates, min(len(candidates), rng.randint(1, 3)))
        files: dict[str, list[str]] = {}
        for path, line in chosen:
            lines = list(files.get(path, self.tree[path]))
            lines.remove(line)
            files[path] = lines
        landing.deleted = len(chosen)
        landing.deleted_mark = self.on_main(who, ms, f"Remove dead code in {', '.join(sorted(files))}", files)

    # -- the rest of the team --------------------------------------------------------------------------
    def chore(self, ms: int, n: int) -> None:
        who = self.people[n % len(self.people)]
        line = f"- {_iso(_epoch(ms))[:10]}: release {self.project.repo} 1.{n}"
        self.on_main(who, ms, f"Release 1.{n}", {"CHANGELOG.md": self.tree["CHANGELOG.md"] + [line]})

    def ghost(self, ms: int, n: int) -> None:
        """An agent commit whose session is in no collected log."""
        who = self.people[(n * 7 + 3) % len(self.people)]
        path = f"{self.project.src_dirs[0]}/generated_{n}.txt"
        lines = [f"{self.comment} {self.project.repo}: migration step {n}.{i}" for i in range(1, 6)]
        self.on_main(who, ms, f"Add migration step {n}\n\n{CLAUDE_TRAILER}\n", {path: lines})

    # -- output ------------------------------------------------------------------------------------
    def snapshot(self, epoch: int) -> int | None:
        """Index in mainline of its first commit at or after `epoch` (None: not yet)."""
        return next((i for i, (_, t) in enumerate(self.mainline) if t >= epoch), None)

    def stream(self) -> bytes:
        """The fast-import input."""
        out: list[bytes] = []
        for c in self.commits:
            message = c.message.encode()
            out.append(f"commit {c.ref}\nmark :{c.mark}\n".encode())
            out.append(f"author {c.author[0]} <{c.author[1]}> {c.author[2]} +0000\n".encode())
            out.append(f"committer {c.committer[0]} <{c.committer[1]}> {c.committer[2]} +0000\n".encode())
            out.append(f"data {len(message)}\n".encode() + message + b"\n")
            if c.parent is not None:
                out.append(f"from :{c.parent}\n".encode())
            for path, lines in c.files.items():
                data = ("\n".join(lines) + "\n").encode()
                out.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
            out.append(b"\n")
        return b"".join(out)

    def write(self, git_dir: Path) -> dict[int, str]:
        """Write the bare repository; returns mark -> sha."""
        marks = git_dir.parent / f".{git_dir.name}.marks"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(git_dir)], check=True, env=GIT_ENV)
        subprocess.run(["git", "--git-dir", str(git_dir), "fast-import", "--quiet", f"--export-marks={marks}"],
                       input=self.stream(), check=True, env=GIT_ENV)
        shas = {int(mark[1:]): sha for mark, sha in (line.split() for line in marks.read_text().splitlines())}
        marks.unlink()
        return shas


@dataclass
class GitPlan:
    """Collects the sessions' work while the org is generated; `build` writes the repositories."""

    seed: int
    people: dict[str, list[UserProfile]] = field(default_factory=dict)      # repo -> its team's members
    projects: dict[str, Project] = field(default_factory=dict)
    works: list[Work] = field(default_factory=list)

    def team(self, users: list[UserProfile]) -> None:
        """Every user's projects get a repository (a team's members share its projects)."""
        for user in users:
            for project in user.team.projects:
                self.projects[project.repo] = project
                self.people.setdefault(project.repo, []).append(user)

    def add(self, work: Work) -> None:
        self.works.append(work)

    def build(self, git_dir: Path, start: date) -> dict:
        """Write every repository and the mapping file; patch printed shas into the transcripts; return the truth."""
        git_dir.mkdir(parents=True, exist_ok=True)
        first_ms = int(datetime(start.year, start.month, start.day, tzinfo=timezone.utc).timestamp() * 1000) - 30 * DAY_MS
        last_ms = max((w.end_ms for w in self.works), default=first_ms)
        truth: dict = {"git_dir": str(git_dir), "mapping_file": "paths.csv", "repos": [], "sessions": [],
                       "agent_commits_without_logs": 0, "printed_not_found": 0}
        for repo_name in sorted(self.projects):
            works = sorted((w for w in self.works if w.project.repo == repo_name), key=lambda w: (w.end_ms, w.session_id))
            self._build_repo(repo_name, works, git_dir, first_ms, last_ms, truth)
        with (git_dir / "paths.csv").open("w", encoding="utf-8") as handle:
            handle.write("prefix,repo\n")
            for repo_name in sorted(self.people):
                for person in sorted(self.people[repo_name], key=lambda p: p.handle):
                    handle.write(f"{person.cwd(self.projects[repo_name])},{repo_name}\n")
        truth["sessions"].sort(key=lambda s: s["session_id"])
        return truth

    def _build_repo(self, name: str, works: list[Work], git_dir: Path, first_ms: int, last_ms: int, truth: dict) -> None:
        people = sorted(self.people[name], key=lambda p: p.handle)
        repo = _Repo(self.projects[name], people, self.seed, first_ms)
        events: list[tuple[int, int, str, object]] = []
        order = iter(range(10**9))
        records: dict[str, dict] = {}
        for n, ms in enumerate(range(first_ms + CHORE_EVERY_MS, last_ms + 35 * DAY_MS, CHORE_EVERY_MS), start=1):
            heapq.heappush(events, (ms, next(order), "chore", n))
        ghost_rng = random.Random(f"{self.seed}:git:{name}:ghosts")
        for n, ms in enumerate(range(first_ms + 32 * DAY_MS, last_ms + DAY_MS, GHOST_EVERY_MS), start=1):
            if ghost_rng.random() < 0.5:
                heapq.heappush(events, (ms + ghost_rng.randrange(DAY_MS), next(order), "ghost", n))
        for work in works:
            records[work.session_id] = self._plan(work, events, order, truth)
        pending: dict[str, tuple[int, str]] = {}        # session -> (branch commit mark, placeholder)
        landings: dict[str, _Landing] = {}
        ghosts = 0
        while events:
            ms, _, kind, item = heapq.heappop(events)
            if kind == "chore":
                repo.chore(ms, item)
            elif kind == "ghost":
                repo.ghost(ms, item)
                ghosts += 1
            elif kind == "delete":
                work = item
                rng = random.Random(f"{self.seed}:git:{work.session_id}:delete")
                repo.delete_some(landings[work.session_id], people[rng.randrange(len(people))], ms, rng)
            else:
                self._session_event(repo, kind, item, ms, records, pending, landings, events, order)
        shas = repo.write(git_dir / f"{name}.git")
        self._truth(repo, works, records, pending, landings, shas, truth)
        truth["agent_commits_without_logs"] += ghosts
        truth["repos"].append({"name": name, "path": f"{name}.git", "commits": len(repo.commits),
                               "head": shas[repo.head]})

    def _plan(self, work: Work, events: list, order, truth: dict) -> dict:
        """What happens to one session's work (its record in the truth, filled in as it happens)."""
        rng = random.Random(f"{self.seed}:git:{work.session_id}")
        record = {"session_id": work.session_id, "user": work.user.handle, "repo": work.project.repo,
                  "outcome": "none", "signal": None, "printed_sha": None, "landed_sha": None,
                  "lines_written": work.written(), "lines_committed": 0, "lines_landed": 0,
                  "lines_deleted": 0, "lines_alive_7d": None, "lines_alive_30d": None, "lines_alive_head": 0}
        own = work.printed[-1] if work.kind == "normal" and work.printed and work.edits else None
        # A printed commit the repository never gets (a discarded attempt's branch was deleted).
        truth["printed_not_found"] += len(work.printed) - (1 if own else 0)
        if not work.edits:
            return record
        if own is not None:
            ms, branch, placeholder, subject = own
            record["printed_sha"] = placeholder
            commit_ms = ms - 1000     # the commit is made just before git prints it
            if branch == "main":
                heapq.heappush(events, (commit_ms, next(order), "main", (work, placeholder, subject)))
            else:
                fate = rng.choices([f for f, _ in FATES], weights=[w for _, w in FATES])[0]
                if fate == "squash" and not work.distinctive():
                    fate = "rebase"    # a squash of boilerplate alone cannot be told from any other commit
                if fate != "rebase":
                    heapq.heappush(events, (commit_ms, next(order), "branch", (work, placeholder, subject)))
                if fate == "rebase":
                    later = commit_ms + rng.randrange(2 * 3_600_000, 2 * DAY_MS)
                    heapq.heappush(events, (later, next(order), "rebase", (work, commit_ms, subject)))
                elif fate == "squash":
                    later = commit_ms + rng.randrange(DAY_MS, 5 * DAY_MS)
                    heapq.heappush(events, (later, next(order), "squash", (work, subject)))
                else:
                    record["outcome"] = "abandoned"
        elif work.kind in ("normal", "context_bloat"):
            if rng.random() < PERSON_COMMITS_SHARE and work.distinctive() >= MIN_DISTINCTIVE_FOR_OVERLAP:
                later = work.end_ms + rng.randrange(5 * 60_000, 30 * 60_000)
                heapq.heappush(events, (later, next(order), "person", (work,)))
            else:
                record["outcome"] = "uncommitted"
        else:
            record["outcome"] = "discarded"
        return record

    def _session_event(self, repo: _Repo, kind: str, item: tuple, ms: int, records: dict, pending: dict,
                       landings: dict, events: list, order) -> None:
        work = item[0]
        record = records[work.session_id]
        if kind == "branch":
            _, placeholder, subject = item
            mark, lines = repo.branch_commit(work, ms, subject)
            pending[work.session_id] = (mark, placeholder)
            record["lines_committed"] = lines
            return
        if kind == "main":
            _, placeholder, subject = item
            landing = repo.land(work, ms, f"{subject}\n\n{CLAUDE_TRAILER}\n")
            pending[work.session_id] = (landing.mark, placeholder)
            record.update(outcome="main", signal=1)
        elif kind == "rebase":
            _, authored_ms, subject = item
            landing = repo.land(work, ms, f"{subject}\n\n{CLAUDE_TRAILER}\n", author_ms=authored_ms)
            record.update(outcome="rebased", signal=2)
        elif kind == "squash":
            _, subject = item
            repo.prs += 1
            landing = repo.land(work, ms, f"{subject} (#{repo.prs})")
            record.update(outcome="squashed", signal=2)
        else:   # person
            note = f"{repo.comment} reviewed by {work.user.handle} ({work.session_id[:8]})"
            landing = repo.land(work, ms, f"{work.branch}: apply the assistant's changes",
                                extra={work.edits[0].path: [note]})
            record.update(outcome="person", signal=3)
        landings[work.session_id] = landing
        rng = random.Random(f"{self.seed}:git:{work.session_id}:fate")
        if rng.random() < DELETION_SHARE:
            heapq.heappush(events, (ms + rng.randrange(9 * DAY_MS, 20 * DAY_MS), next(order), "delete", work))

    def _truth(self, repo: _Repo, works: list[Work], records: dict, pending: dict, landings: dict,
               shas: dict[int, str], truth: dict) -> None:
        index = {mark: i for i, (mark, _) in enumerate(repo.mainline)}
        for work in works:
            record = records[work.session_id]
            if work.session_id in pending:
                mark, placeholder = pending[work.session_id]
                record["printed_sha"] = shas[mark][:7]
                _patch(work.transcript, work.printed[-1][1], placeholder, shas[mark][:7])
                if record["outcome"] == "abandoned":
                    record.update(signal=1, landed_sha=None)
            landing = landings.get(work.session_id)
            if landing is not None:
                n = len(landing.lines)
                record.update(landed_sha=shas[landing.mark], lines_committed=n, lines_landed=n,
                              lines_deleted=landing.deleted, lines_alive_head=n - landing.deleted)
                gone_at = index[landing.deleted_mark] if landing.deleted_mark else None
                for days, key in ((7, "lines_alive_7d"), (30, "lines_alive_30d")):
                    at = repo.snapshot(landing.epoch + days * 86_400)
                    if at is not None:
                        record[key] = n - (landing.deleted if gone_at is not None and gone_at <= at else 0)
            truth["sessions"].append(record)


def _patch(transcript: Path, branch: str, placeholder: str, sha7: str) -> None:
    """Put the real sha where the session printed its commit (the file keeps its size and mtime)."""
    data = transcript.read_bytes()
    old, new = f"[{branch} {placeholder}]".encode(), f"[{branch} {sha7}]".encode()
    if old not in data:
        raise RuntimeError(f"{transcript}: no printed commit {old!r}")
    stat = transcript.stat()
    transcript.write_bytes(data.replace(old, new))
    os.utime(transcript, ns=(stat.st_atime_ns, stat.st_mtime_ns))
