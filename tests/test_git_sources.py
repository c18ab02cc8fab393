"""Git as a source: what sessions say (edit lines, commit evidence) and what the scanner reads
(incremental, rewritten history, landed, branches), on small hand-made inputs."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest

from ingest.commit_evidence import command_dir, parse_output
from ingest.edit_lines import EditResult, _Hunk, claude_edit_files, codex_patch_files, gemini_edit_files
from ingest.codex.patch import heredoc_patch
from ingest.edits import hashed_lines, line_hash, normalise_line
from ingest.git.blame import parse_porcelain
from ingest.git.log import agent_of, read_commits
from ingest.git.scan import scan_repo
from ingest.hashing import short_hash
from tests.helpers import shared_dir


# -- edit lines ----------------------------------------------------------------------------------

def test_normalisation_collapses_whitespace_and_drops_blank_lines():
    assert normalise_line("  def  f( x ):\t") == "def f( x ):"
    assert line_hash("   \t") is None
    assert line_hash("a  b") == line_hash("a b") == short_hash("a b")
    assert hashed_lines(["x", "x ", "", "y"]) == Counter({short_hash("x"): 2, short_hash("y"): 1})


def test_claude_edit_lines_come_from_the_patch_then_the_input():
    patch = EditResult(filePath="/w/a.py", structuredPatch=[_Hunk(lines=[" keep", "-old", "+new", "+also"])])
    assert claude_edit_files("Edit", {"file_path": "/w/a.py"}, patch) == {"/w/a.py": ["new", "also"]}
    created = EditResult(type="create", filePath="/w/b.py", content="l1\nl2\n", structuredPatch=[])
    assert claude_edit_files("Write", {}, created) == {"/w/b.py": ["l1", "l2"]}
    # toolUseResult null (real subagent files): a diff of old/new, or every line a Write wrote.
    assert claude_edit_files("Edit", {"file_path": "/w/a.py", "old_string": "a\nb", "new_string": "a\nc\nd"}, None) \
        == {"/w/a.py": ["c", "d"]}
    assert claude_edit_files("Write", {"file_path": "/w/c.py", "content": "x\ny"}, None) == {"/w/c.py": ["x", "y"]}
    assert claude_edit_files("MultiEdit", {"file_path": "/w/a.py", "edits": [
        {"old_string": "a", "new_string": "b"}, {"old_string": "c", "new_string": "c\nd"}]}, None) == {"/w/a.py": ["b", "d"]}


def test_codex_patches_per_file_and_as_a_shell_heredoc():
    patch = ("*** Begin Patch\n*** Add File: src/new.py\n+a = 1\n+b = 2\n*** Update File: src/old.py\n@@\n-x\n+y\n"
             "*** Update File: src/moved.py\n*** Move to: src/there.py\n@@\n+z\n*** Delete File: gone.py\n*** End Patch")
    assert codex_patch_files(patch, "/repo") == {"/repo/src/new.py": ["a = 1", "b = 2"], "/repo/src/old.py": ["y"],
                                                 "/repo/src/there.py": ["z"]}
    command = f"cd sub && apply_patch <<'PATCH'\n{patch}\nPATCH\n"
    assert heredoc_patch(command) == patch
    assert heredoc_patch("git status") is None


def test_gemini_edit_tools():
    assert gemini_edit_files("write_file", {"file_path": "/w/a.md", "content": "one\ntwo"}) == {"/w/a.md": ["one", "two"]}
    assert gemini_edit_files("replace", {"file_path": "/w/a.md", "old_string": "one", "new_string": "uno"}) \
        == {"/w/a.md": ["uno"]}


# -- commit evidence -------------------------------------------------------------------------------

def test_printed_commits_pushes_and_pull_requests():
    output = ("[spotter-a0y 3114215] feat: wire live activity (spotter-a0y.4)\n 4 files changed\n"
              "[main (root-commit) 1a2b3c4] Initial commit\n"
              "To github.com:o/r.git\n   030d80d..acf21f1  main -> main\n"
              " + 1111111...2222222 topic -> topic (forced update)\n"
              "https://github.com/o/r/pull/12\n")
    found = parse_output(output)
    assert [(e.kind, e.sha, e.branch, e.subject) for e in found if e.kind == "commit"] == [
        ("commit", "3114215", "spotter-a0y", "feat: wire live activity (spotter-a0y.4)"),
        ("commit", "1a2b3c4", "main", "Initial commit")]
    assert [(e.sha, e.branch, e.detail) for e in found if e.kind == "push"] == [
        ("acf21f1", "main", "030d80d..acf21f1"), ("2222222", "topic", "1111111...2222222")]
    assert [e.detail for e in found if e.kind == "pr"] == ["https://github.com/o/r/pull/12"]
    # A hook that refused the commit prints no [branch sha] line: no evidence.
    assert parse_output("mix format failed\nerror: pre-commit hook exited with 1") == []


def test_the_directory_a_command_ran_in():
    assert command_dir("cd /Users/d/tok && git commit -m x", "/Users/d/site") == "/Users/d/tok"
    assert command_dir("git add . && git commit -m x", "/w/app") == "/w/app"
    assert command_dir("cd sub; git commit", "/w/app") == "/w/app/sub"
    assert command_dir("git -C ../other commit -m y", "/w/app") == "/w/other"


def test_agent_trailers():
    assert agent_of("Co-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>", "") == "claude"
    assert agent_of("", "body\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)") == "claude"
    assert agent_of("Co-authored-by: Copilot <copilot@github.com>", "") == "copilot"
    assert agent_of("Signed-off-by: Ada <ada@example.com>", "") is None


def test_porcelain_blame_becomes_ranges():
    a, b = "a" * 40, "b" * 40
    text = (f"{a} 1 1 2\nauthor x\nfilename f.py\n\tl1\n{a} 2 2\n\tl2\n"
            f"{b} 5 3 1\nauthor y\nfilename old.py\n\tl3\n{a} 4 4 1\n\tl4\n")
    ranges = parse_porcelain(text)
    assert [(r.orig_sha[0], r.orig_path, r.orig_start, r.final_start, r.lines) for r in ranges] == [
        ("a", "f.py", 1, 1, 2), ("b", "old.py", 5, 3, 1), ("a", "f.py", 4, 4, 1)]


# -- the scanner ---------------------------------------------------------------------------------

def _run(repo: Path, *args: str, when: int = 1_700_000_000) -> str:
    env = {"GIT_AUTHOR_DATE": f"{when} +0000", "GIT_COMMITTER_DATE": f"{when} +0000", "GIT_AUTHOR_NAME": "Ada",
           "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
           "HOME": str(repo), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout.strip()


def commit(repo: Path, path: str, content: str, message: str, when: int) -> str:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(content)
    _run(repo, "add", path)
    _run(repo, "commit", "-q", "-m", message, when=when)
    return _run(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "app"
    path.mkdir()
    _run(path, "init", "-q", "-b", "main")
    return path


def _flags(ledger, sha):
    return ledger.execute("SELECT landed, mainline, reachable FROM git_commits WHERE sha = ?", [sha]).fetchone()


def test_a_scan_reads_only_new_commits_and_a_rescan_nothing(ledger, repo):
    first = commit(repo, "a.py", "x = 1\n\ny = 2\n", "one", 1_700_000_000)
    git_dir = str(repo / ".git")
    assert scan_repo(ledger, git_dir, 1).new_commits == 1
    assert scan_repo(ledger, git_dir, 2).unchanged
    second = commit(repo, "a.py", "x = 1\n\ny = 3\nz = 4\n", "two\n\nCo-Authored-By: Claude <noreply@anthropic.com>", 1_700_000_060)
    scan = scan_repo(ledger, git_dir, 3)
    assert scan.new_commits == 1 and not scan.rewritten_refs
    rows = ledger.execute("SELECT sha, lines_added, lines_removed, agent, parents FROM git_commits ORDER BY authored_at").fetchall()
    assert rows == [(first, 3, 0, None, ""), (second, 2, 1, "claude", first)]
    lines = ledger.execute("SELECT path, line_no, line_hash FROM git_added_lines WHERE sha = ? ORDER BY line_no", [second]).fetchall()
    assert lines == [("a.py", 3, short_hash("y = 3")), ("a.py", 4, short_hash("z = 4"))]
    assert _flags(ledger, first) == _flags(ledger, second) == (True, True, True)


def test_force_push_is_detected_and_old_commits_stay_unreachable(ledger, repo):
    base = commit(repo, "a.py", "a\n", "base", 1_700_000_000)
    old = commit(repo, "a.py", "a\nb\n", "feature", 1_700_000_060)
    git_dir = str(repo / ".git")
    scan_repo(ledger, git_dir, 1)
    _run(repo, "reset", "-q", "--hard", base)
    new = commit(repo, "a.py", "a\nc\n", "feature, reworked", 1_700_000_120)
    scan = scan_repo(ledger, git_dir, 2)
    assert scan.rewritten_refs == ["main"] and scan.new_commits == 1 and scan.unreachable == 1
    assert _flags(ledger, old) == (False, False, False)
    assert _flags(ledger, new) == (True, True, True)


def test_branches_that_hold_commits_the_default_branch_lacks(ledger, repo):
    commit(repo, "a.py", "a\n", "base", 1_700_000_000)
    _run(repo, "checkout", "-q", "-b", "topic")
    topic = commit(repo, "b.py", "b\n", "topic work", 1_700_000_060)
    _run(repo, "checkout", "-q", "main")
    git_dir = str(repo / ".git")
    scan_repo(ledger, git_dir, 1)
    assert ledger.execute("SELECT branch, sha FROM git_branch_commits").fetchall() == [("topic", topic)]
    assert _flags(ledger, topic) == (False, False, True)
    _run(repo, "merge", "-q", "--no-ff", "-m", "merge topic", "topic", when=1_700_000_120)
    scan_repo(ledger, git_dir, 2)
    # Merged: landed, off the first-parent chain, and no longer a branch-only commit.
    assert _flags(ledger, topic) == (True, False, True)
    assert ledger.execute("SELECT count(*) FROM git_branch_commits").fetchone()[0] == 0


def test_merge_commits_count_their_first_parent_diff(tmp_path, repo):
    commit(repo, "a.py", "a\n", "base", 1_700_000_000)
    _run(repo, "checkout", "-q", "-b", "topic")
    commit(repo, "b.py", "b1\nb2\n", "topic", 1_700_000_060)
    _run(repo, "checkout", "-q", "main")
    _run(repo, "merge", "-q", "--no-ff", "-m", "merge", "topic", when=1_700_000_120)
    merge = [c for c in read_commits(str(repo / ".git"), ["HEAD"]) if c.subject == "merge"][0]
    assert [(f.path, f.lines_added) for f in merge.files] == [("b.py", 2)]


# -- real Codex and Gemini samples (../shared/corpus) -----------------------------------------------

SAMPLES = shared_dir() / "corpus" / "lanegrid__agtrace" / "crates" / "agtrace-providers" / "tests" / "samples"


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/corpus is not beside the checkout")
def test_codex_and_gemini_samples_record_edit_lines_and_evidence(ledger, tmp_path):
    from tests.helpers import ingest

    for name in ("codex_session.jsonl", "gemini_session.json"):
        (tmp_path / name).write_bytes((SAMPLES / name).read_bytes())
    ingest(ledger, tmp_path)
    edits = ledger.execute("SELECT source, file_path, line_hash, lines FROM edit_lines ORDER BY source").fetchall()
    # Codex applied an Add File patch relative to its cwd; Gemini wrote the file with write_file.
    assert edits == [("codex", "/Users/test_user/agent-sample/myapp/hoge.py", short_hash("print(1 + 1)"), 1),
                     ("gemini", "myapp/hoge.py", short_hash("print(1+1)"), 1)]
    evidence = ledger.execute("SELECT kind, sha, branch FROM commit_evidence ORDER BY kind, sha").fetchall()
    # session_meta.git names the HEAD the session started on; each ghost snapshot's parent is the HEAD then.
    assert ("session_head", "1cea5ec49574a868eb98893e46bcb775539f798e", "codex") in evidence
    assert ("ghost_snapshot", "1cea5ec49574a868eb98893e46bcb775539f798e", None) in evidence


def test_blame_of_a_file_no_commit_touched_since_carries_over_to_the_new_head(ledger, repo, monkeypatch):
    import ingest.git.blame as blame
    from ingest.git.blame import BlameRange, carry_over, copy_blame, run_blame, store_blame, stored_blame

    commit(repo, "a.py", "a1\na2\n", "a", 1_700_000_000)
    first = commit(repo, "b.py", "b1\n", "b", 1_700_000_060)
    git_dir = str(repo / ".git")
    store_blame(ledger, "r", run_blame(git_dir, [(first, "a.py"), (first, "b.py")]), 1)
    second = commit(repo, "b.py", "b1\nb2\n", "b again", 1_700_000_120)
    carried, todo, bases = carry_over(git_dir, [(second, "a.py"), (second, "b.py")], {"a.py": [first], "b.py": [first]})
    # a.py is untouched since `first`: its blame there is its blame at `second`; b.py changed, and
    # its stored blame at `first` is where blaming it at `second` may start.
    assert (carried, todo, bases) == ([(second, "a.py", first)], [(second, "b.py")], {"b.py": first})
    stored = stored_blame(ledger, "r", bases)
    assert stored == {"b.py": (first, [BlameRange(first, "b.py", 1, 1, 1)])}
    runs, real_git = [], blame.git
    monkeypatch.setattr(blame, "git", lambda *args, **kw: runs.append(args) or real_git(*args, **kw))
    # b.py is blamed over `second` alone, back to `first`, and gets the whole blame's ranges: b1 from
    # `first`, b2 from `second`.
    assert _ranges(run_blame(git_dir, todo, stored)[0]) == [(first, "b.py", 1, 1, 1), (second, "b.py", 2, 2, 1)]
    assert [args[1:] for args in runs] == [("rev-list", "--first-parent", "--topo-order", "--stdin"),
                                          ("blame", "--porcelain", f"{first}..{second}", "--", "b.py")]
    assert _ranges(run_blame(git_dir, todo)[0]) == [(first, "b.py", 1, 1, 1), (second, "b.py", 2, 2, 1)]
    monkeypatch.undo()
    copy_blame(ledger, "r", carried, 2)
    ranges = "SELECT orig_sha, orig_path, orig_start, final_start, lines FROM git_blame WHERE snapshot = ? AND path = 'a.py'"
    carried_rows = ledger.execute(ranges, [second]).fetchall()
    ledger.execute("DELETE FROM git_blame WHERE snapshot = ?", [second])
    store_blame(ledger, "r", run_blame(git_dir, [(second, "a.py")]), 3)
    assert carried_rows == ledger.execute(ranges, [second]).fetchall() and carried_rows
    # Not an ancestor (a rewritten head): nothing carries over.
    assert carry_over(git_dir, [(first, "a.py")], {"a.py": [second]}) == ([], [(first, "a.py")], {})


def _ranges(blamed):
    return [(r.orig_sha, r.orig_path, r.orig_start, r.final_start, r.lines) for r in blamed.ranges]


def test_a_later_snapshot_is_blamed_back_to_the_one_before_and_equals_its_whole_blame(repo):
    from ingest.git.blame import _blame_since, run_blame

    c1 = commit(repo, "a.py", "a1\na2\n", "one", 1_700_000_000)
    c2 = commit(repo, "a.py", "a1\nb\na2\n", "two", 1_700_000_060)
    c3 = commit(repo, "a.py", "c\na1\nb\na2\n", "three", 1_700_000_120)
    git_dir = str(repo / ".git")
    # By hand: at c3, "c" is c3's line 1, "a1" c1's line 1, "b" c2's line 2, "a2" c1's line 2.
    expected = [(c3, "a.py", 1, 1, 1), (c1, "a.py", 1, 2, 1), (c2, "a.py", 2, 3, 1), (c1, "a.py", 2, 4, 1)]
    together = run_blame(git_dir, [(c3, "a.py"), (c2, "a.py")])
    alone = run_blame(git_dir, [(c3, "a.py")])
    assert _ranges(together[0]) == _ranges(alone[0]) == expected
    assert together[1].snapshot == c2 and _ranges(together[1]) == [(c1, "a.py", 1, 1, 1), (c2, "a.py", 2, 2, 1),
                                                                    (c1, "a.py", 2, 3, 1)]
    # The blame back to c2 alone, with c2's blame, gives c3's: "c" from the range, the rest from c2's.
    assert [(r.orig_sha, r.orig_path, r.orig_start, r.final_start, r.lines)
            for r in _blame_since(git_dir, c2, together[1].ranges, c3, "a.py")] == expected
    # A snapshot that is not in the repository fails as before; the path's others are unaffected.
    missing = run_blame(git_dir, [("f" * 40, "a.py"), (c3, "a.py")])
    assert missing[0].status.startswith("failed") and _ranges(missing[1]) == expected


def test_a_line_a_merge_brings_from_before_the_older_snapshot_makes_the_newer_one_blamed_whole(repo):
    from ingest.git.blame import _blame_since, run_blame

    c1 = commit(repo, "a.py", "a1\na2\n", "one", 1_700_000_000)
    _run(repo, "checkout", "-q", "-b", "side")
    commit(repo, "b.py", "b\n", "side", 1_700_000_030)
    _run(repo, "checkout", "-q", "main")
    c2 = commit(repo, "a.py", "a1\nx\n", "a2 becomes x", 1_700_000_060)
    _run(repo, "merge", "-q", "--no-ff", "--no-commit", "side", when=1_700_000_090)
    (repo / "a.py").write_text("a1\na2\n")
    _run(repo, "add", "a.py")
    _run(repo, "commit", "-q", "-m", "merge side, keep a2", when=1_700_000_090)
    merge = _run(repo, "rev-parse", "HEAD")
    git_dir = str(repo / ".git")
    older = run_blame(git_dir, [(c2, "a.py")])[0]
    # The merge's a.py is the side branch's, which has it from c1, an ancestor of c2 where the blame
    # back to c2 stops: it cannot stand in for the whole blame (c2's line 2 is "x", not "a2").
    assert _blame_since(git_dir, c2, older.ranges, merge, "a.py") is None
    both = run_blame(git_dir, [(c2, "a.py"), (merge, "a.py")])
    assert _ranges(both[1]) == _ranges(run_blame(git_dir, [(merge, "a.py")])[0]) == [(c1, "a.py", 1, 1, 2)]
