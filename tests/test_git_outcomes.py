"""Outcomes in git, hand-worked: the examples of docs/metrics.md "Outcomes in git", each built
from a transcript and a real repository whose commits the transcript printed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agentledger.pipeline import ingest_and_refresh, scan_git
from ingest.runner import IngestOptions
from tests.transcript_builder import Transcript, load, report

T0 = 1_772_442_000  # 2026-03-02T09:00:00Z, when the transcripts start
DAY = 86_400
K = (10, 90, 0, 900)


def _git(repo: Path, *args: str, when: int = T0) -> str:
    env = {"GIT_AUTHOR_DATE": f"{when} +0000", "GIT_COMMITTER_DATE": f"{when} +0000", "GIT_AUTHOR_NAME": "Ada",
           "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
           "HOME": str(repo), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout.strip()


def make_repo(root: Path, commits: list[tuple[dict[str, str], str, int]], name: str = "app") -> tuple[Path, list[str]]:
    """A repository whose commits set files to the given contents; returns (path, shas)."""
    repo = root / name
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    shas = []
    for files, message, when in commits:
        for path, content in files.items():
            (repo / path).write_text(content)
            _git(repo, "add", path)
        _git(repo, "commit", "-q", "-m", message, when=when)
        shas.append(_git(repo, "rev-parse", "HEAD"))
    return repo, shas


def worked_example(ledger, tmp_path):
    """Session s1 writes a.py (A, B, C), commits (the commit has A, B and a person's X), edits in
    D and a second A, commits again (C, D, A); ten days later a person deletes D. Session s2, same
    person, produces nothing."""
    repo, (one, two, _) = make_repo(tmp_path, [
        ({"a.py": "A\nB\nX\n"}, "one", T0 + 16),
        ({"a.py": "A\nB\nX\nC\nD\nA\n"}, "two", T0 + 28),
        ({"a.py": "A\nB\nX\nC\nA\n"}, "drop D", T0 + 10 * DAY),
    ])
    s1 = Transcript("s1").prompt()
    write, = s1.reply(K, [("Write", {"file_path": "/work/app/a.py", "content": "A\nB\nC\n"})])
    s1.reply(K, [("Bash", {"command": "git add a.py && git commit -m one"}, f"[main {one[:7]}] one\n 1 file changed")])
    edit, = s1.reply(K, [("Edit", {"file_path": "/work/app/a.py", "old_string": "C", "new_string": "C\nD\nA"})])
    s1.reply(K, [("Bash", {"command": "git commit -am two"}, f"[main {two[:7]}] two\n 1 file changed")])
    s1.reply(K)
    s2 = Transcript("s2", start="2026-03-02T10:00:00").prompt()
    s2.reply(K)
    s2.reply(K)
    load(ledger, tmp_path / "logs", s1, s2)
    result = scan_git(ledger, [repo])
    return result, write, edit, one, two


def test_links_from_printed_shas(ledger, tmp_path):
    result, _, _, one, two = worked_example(ledger, tmp_path)
    assert ledger.execute("SELECT session_id, sha, printed_sha, signal, confidence FROM git_links ORDER BY linked_at").fetchall() \
        == [("s1", one, one[:7], 1, 1.0), ("s1", two, two[:7], 1, 1.0)]
    assert ledger.execute("SELECT session_id, root, mapped_by FROM session_repos").fetchall() \
        == [("s1", "/work/app", "commit evidence")]


def test_carried_forward_pool_and_survival(ledger, tmp_path):
    _, write, edit, one, two = worked_example(ledger, tmp_path)
    per_commit = ledger.execute(
        "SELECT sha, count(*), count(*) FILTER (WHERE alive_7d), count(alive_30d), count(*) FILTER (WHERE alive_head)"
        " FROM commit_agent_lines GROUP BY sha").fetchall()
    # one: A, B of the pool (X is the person's); two: what is left of the pool, C, D and the 2nd A.
    # Seven days on (the 'drop D' commit is the first at or after +7 d) D is gone; +30 d is not due.
    assert sorted(per_commit) == sorted([(one, 2, 2, 0, 2), (two, 3, 2, 0, 2)])
    outcomes = ledger.execute(
        "SELECT tool_use_id, lines_written, lines_committed, lines_landed, lines_due_7d, lines_alive_7d,"
        " lines_due_30d, lines_alive_head FROM edit_outcomes ORDER BY ts").fetchall()
    # First written, first consumed: the Write's A went into 'one', the Edit's A into 'two'.
    assert outcomes == [(write, 3, 3, 3, 3, 3, 0, 3), (edit, 2, 2, 2, 2, 1, 0, 1)]


def test_cost_per_landed_line_counts_the_sessions_that_produced_nothing(ledger, tmp_path):
    worked_example(ledger, tmp_path)
    cost = {r["session_id"]: r["cost_usd"] for r in report(ledger, "sessions")}
    person = [r for r in report(ledger, "outcomes") if r["level"] == "person"][0]
    assert person["sessions"] == 2 and person["lines_landed"] == 5 and person["landed_commits"] == 2
    assert person["cost_per_landed_line"] == pytest.approx(round((cost["s1"] + cost["s2"]) / 5, 6))
    assert person["cost_per_landed_commit"] == pytest.approx(round((cost["s1"] + cost["s2"]) / 2, 6))
    assert person["unlinked_cost_usd"] == pytest.approx(cost["s2"])
    # Nothing is 30 days old yet: no cost per line alive at 30 days (never a figure that drops sessions).
    assert person["lines_due_30d"] == 0 and person["cost_per_alive_30d_line"] is None


def test_commits_report(ledger, tmp_path):
    _, _, _, one, two = worked_example(ledger, tmp_path)
    rows = {r["sha"]: r for r in report(ledger, "commits")}
    assert (rows[two]["session_ids"], rows[two]["signal"], rows[two]["agent_lines"], rows[two]["alive_7d"],
            rows[two]["alive_30d"], rows[two]["alive_head"]) == ("s1", 1, 3, 2, None, 2)
    assert rows[one]["lines_added"] == 3 and rows[one]["agent_lines"] == 2


def test_a_rebased_commit_links_to_its_landed_copy(ledger, tmp_path):
    # The printed sha is gone (rebased); the landed copy has its subject and an author date 2 s
    # before the tool result.
    s1 = Transcript("s1").prompt()
    s1.reply(K, [("Write", {"file_path": "/work/app/a.py", "content": "A\nB\n"})])
    s1.reply(K, [("Bash", {"command": "git commit -am 'add a'"}, "[topic 1234567] add a\n 1 file changed")])
    repo, (landed,) = make_repo(tmp_path, [({"a.py": "A\nB\n"}, "add a", T0 + 14)])
    load(ledger, tmp_path / "logs", s1)
    scan_git(ledger, [repo])
    assert ledger.execute("SELECT sha, printed_sha, signal, confidence FROM git_links").fetchall() \
        == [(landed, "1234567", 2, 0.9)]
    assert ledger.execute("SELECT count(*) FROM commit_agent_lines").fetchone()[0] == 2


def test_a_person_committing_the_agents_edits_is_linked_by_line_overlap(ledger, tmp_path):
    # No commit call: the person commits b.py (3 of its 4 lines the agent's) five minutes later.
    s1 = Transcript("s1").prompt()
    s1.reply(K, [("Write", {"file_path": "/work/app/b.py", "content": "P\nQ\nR\n"})])
    s1.reply(K)
    repo, (human,) = make_repo(tmp_path, [({"b.py": "P\nQ\nR\nS\n"}, "person commits", T0 + 300)])
    load(ledger, tmp_path / "logs", s1)
    scan_git(ledger, [repo], path_map=[("/work/app", "app")])
    assert ledger.execute("SELECT session_id, sha, printed_sha, signal, confidence FROM git_links").fetchall() \
        == [("s1", human, None, 3, 0.75)]
    assert ledger.execute("SELECT mapped_by FROM session_repos").fetchall() == [("mapping file",)]


def test_without_a_mapping_a_single_path_does_not_map_a_session(ledger, tmp_path):
    s1 = Transcript("s1").prompt()
    s1.reply(K, [("Write", {"file_path": "/work/app/b.py", "content": "P\nQ\nR\n"})])
    repo, _ = make_repo(tmp_path, [({"b.py": "P\nQ\nR\nS\n"}, "person commits", T0 + 300)])
    load(ledger, tmp_path / "logs", s1)
    result = scan_git(ledger, [repo])
    assert result.derived.links == 0
    row = ledger.execute("SELECT lines_written, lines_committed FROM edit_outcomes").fetchone()
    assert row == (3, 0)


def test_a_session_is_mapped_by_its_edited_paths_once_a_repository_with_them_is_scanned(ledger, tmp_path):
    # Logs first: with no repository scanned no path can match, and every line written counts.
    s1 = Transcript("s1").prompt()
    s1.reply(K, [("Write", {"file_path": "/work/app/src/a.py", "content": "A\nB\nC\n"})])
    s1.reply(K, [("Write", {"file_path": "/work/app/b.py", "content": "P\nQ\n"})])
    s1.reply(K, [("Write", {"file_path": "/tmp/notes.md", "content": "n\n"})])
    load(ledger, tmp_path / "logs", s1)
    assert sorted(r[0] for r in ledger.execute("SELECT lines_written FROM edit_outcomes").fetchall()) == [1, 2, 3]
    assert ledger.execute("SELECT count(*) FROM session_repos").fetchone()[0] == 0
    # Then a repository holding src/a.py and b.py: both paths end in its files' paths under /work/app,
    # and the person's commit five minutes later holds 5 of the session's lines among its 7.
    repo = tmp_path / "app"
    (repo / "src").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "src" / "a.py").write_text("A\nB\nC\nX\n")
    (repo / "b.py").write_text("P\nQ\nY\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "person commits", when=T0 + 300)
    human = _git(repo, "rev-parse", "HEAD")
    scan_git(ledger, [repo])
    assert ledger.execute("SELECT session_id, root, mapped_by FROM session_repos").fetchall() \
        == [("s1", "/work/app", "path match")]
    assert ledger.execute("SELECT sha, signal, confidence FROM git_links").fetchall() == [(human, 3, round(5 / 7, 4))]
    # The note outside the repository's root is no longer written into it.
    assert sorted(ledger.execute("SELECT lines_written, lines_committed FROM edit_outcomes").fetchall()) \
        == [(0, 0), (2, 2), (3, 3)]
    assert_same_as_full(ledger)


def test_a_failed_edit_wrote_nothing(ledger, tmp_path):
    s1 = Transcript("s1").prompt()
    s1.reply(K, [("Write", {"file_path": "/work/app/a.py", "content": "A\n"}, "denied", True)])
    load(ledger, tmp_path / "logs", s1)
    assert ledger.execute("SELECT count(*) FROM edit_outcomes").fetchone()[0] == 0


def test_a_turn_gains_its_git_dimension_without_changing_its_outcome(ledger, tmp_path):
    from analytics.queries import git_headline, session_git_turns

    worked_example(ledger, tmp_path)
    turns = session_git_turns(ledger, session_id="s1").to_dicts()
    assert [(t["turn_no"], t["useful_output_ratio"], t["lines_written"], t["lines_landed"], t["lines_alive_head"],
             t["git_outcome"]) for t in turns] == [(1, 1.0, 5, 5, 4, "landed")]
    # s1's only turn landed (and keeps) lines; s2's spend produced nothing and stays in the denominator.
    cost = {r["session_id"]: r["cost_usd"] for r in report(ledger, "sessions")}
    share = cost["s1"] / (cost["s1"] + cost["s2"])
    headline = git_headline(ledger).row(0, named=True)
    assert (headline["landed_cost_share"], headline["surviving_cost_share"]) == (pytest.approx(share, abs=1e-4),
                                                                                pytest.approx(share, abs=1e-4))


# -- incremental derivation ----------------------------------------------------------------------

GIT_DERIVED = {
    "session_repos": "session_id, repo_id, root, mapped_by",
    "git_links": "session_id, repo_id, sha, printed_sha, signal, confidence, linked_at, evidence, landed, reachable",
    "git_claims": "session_id, repo_id, sha, path, line_hash, copy_no, tool_use_id",
    "commit_agent_lines": "session_id, repo_id, sha, path, line_no, tool_use_id, landed, alive_7d, alive_30d, alive_head",
    "edit_outcomes": "*",
    "git_turns": "*",
    "git_blame_plan": "*",
}


def derived(con) -> dict[str, list[tuple]]:
    """Every derived git table, rows sorted: what an incremental refresh must leave as a full one would."""
    return {table: sorted(con.execute(f"SELECT {columns} FROM {table}").fetchall(), key=repr)
            for table, columns in GIT_DERIVED.items()}


def assert_same_as_full(con) -> None:
    from analytics.refresh import refresh_derived

    incremental = derived(con)
    refresh_derived(con, full=True)
    assert derived(con) == incremental


def test_a_refresh_derives_only_the_sessions_it_must(ledger, tmp_path):
    from analytics.refresh import refresh_derived

    worked_example(ledger, tmp_path)
    # A third session that edits nothing in git: only it is derived again.
    s3 = Transcript("s3", start="2026-03-20T10:00:00").prompt()
    s3.reply(K, [("Write", {"file_path": "/elsewhere/notes.md", "content": "n\n"})])
    s3.write(tmp_path / "more", "alice")
    result = ingest_and_refresh(ledger, IngestOptions(paths=[tmp_path / "more" / "alice"], user="alice", progress=False))
    assert result.refresh.git_sessions == 1
    assert refresh_derived(ledger).git_sessions == 0      # nothing new since
    assert_same_as_full(ledger)


def test_logs_first_then_repositories_then_a_rebase_later(ledger, tmp_path):
    # The session prints a commit on a topic branch; the first scan finds it (not landed); a week
    # later the branch is rebased onto main and the next scan finds the landed copy: signal 2.
    repo, _ = make_repo(tmp_path, [({"base.py": "base\n"}, "base", T0 - DAY)])
    _git(repo, "checkout", "-q", "-b", "topic")
    (repo / "a.py").write_text("A\nB\nC\n")
    _git(repo, "add", "a.py")
    _git(repo, "commit", "-q", "-m", "add a", when=T0 + 14)
    printed = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-q", "main")
    s1 = Transcript("s1").prompt()
    s1.reply(K, [("Write", {"file_path": "/work/app/a.py", "content": "A\nB\nC\n"})])
    s1.reply(K, [("Bash", {"command": "git commit -am 'add a'"}, f"[topic {printed[:7]}] add a\n 1 file changed")])
    load(ledger, tmp_path / "logs", s1)
    scan_git(ledger, [repo])
    assert ledger.execute("SELECT sha, signal, landed FROM git_links").fetchall() == [(printed, 1, False)]
    # Main moves on, then the topic is rebased onto it (new sha, same author date) and merged.
    (repo / "base.py").write_text("base\nmore\n")
    _git(repo, "commit", "-qam", "more", when=T0 + 3 * DAY)
    _git(repo, "checkout", "-q", "topic")
    _git(repo, "rebase", "-q", "main", when=T0 + 7 * DAY)
    _git(repo, "checkout", "-q", "main")
    _git(repo, "merge", "-q", "--ff-only", "topic", when=T0 + 7 * DAY)
    landed = _git(repo, "rev-parse", "HEAD")
    result = scan_git(ledger, [repo])
    assert result.refresh.git_sessions == 1
    assert ledger.execute("SELECT sha, signal, landed FROM git_links").fetchall() == [(landed, 2, True)]
    assert ledger.execute("SELECT count(*) FILTER (WHERE alive_head) FROM commit_agent_lines").fetchone()[0] == 3
    assert_same_as_full(ledger)


def test_repositories_first_then_logs(ledger, tmp_path):
    repo, (one, two, _) = make_repo(tmp_path, [
        ({"a.py": "A\nB\nX\n"}, "one", T0 + 16),
        ({"a.py": "A\nB\nX\nC\nD\nA\n"}, "two", T0 + 28),
        ({"a.py": "A\nB\nX\nC\nA\n"}, "drop D", T0 + 10 * DAY),
    ])
    scan_git(ledger, [repo])
    s1 = Transcript("s1").prompt()
    s1.reply(K, [("Write", {"file_path": "/work/app/a.py", "content": "A\nB\nC\n"})])
    s1.reply(K, [("Bash", {"command": "git commit -am one"}, f"[main {one[:7]}] one\n 1 file changed")])
    load(ledger, tmp_path / "logs", s1)
    # The ingest's refresh links the session to the commit scanned before; blame waits for a scan.
    assert ledger.execute("SELECT sha FROM git_links").fetchall() == [(one,)]
    assert ledger.execute("SELECT count(*), count(alive_head) FROM commit_agent_lines").fetchone() == (2, 0)
    scan_git(ledger, [repo])
    assert ledger.execute("SELECT count(*), count(*) FILTER (WHERE alive_head) FROM commit_agent_lines").fetchone() == (2, 2)
    assert_same_as_full(ledger)


def test_a_person_committing_what_is_left_after_the_agents_own_commit(ledger, tmp_path):
    # s1 writes a.py (A, B, C), commits it itself, then writes b.py (P, Q, R) and stops; twenty
    # minutes later a person commits b.py with one line of their own. The leftover is signal 3; the
    # agent's own commit is not counted twice (its lines are not the leftover).
    repo, (one, person) = make_repo(tmp_path, [
        ({"a.py": "A\nB\nC\n"}, "add a", T0 + 16),
        ({"b.py": "P\nQ\nR\nS\n"}, "person: add b", T0 + 1200),
    ])
    s1 = Transcript("s1").prompt()
    s1.reply(K, [("Write", {"file_path": "/work/app/a.py", "content": "A\nB\nC\n"})])
    s1.reply(K, [("Bash", {"command": "git add a.py && git commit -m 'add a'"}, f"[main {one[:7]}] add a\n 1 file changed")])
    s1.reply(K, [("Write", {"file_path": "/work/app/b.py", "content": "P\nQ\nR\n"})])
    s1.reply(K)
    load(ledger, tmp_path / "logs", s1)
    scan_git(ledger, [repo])
    assert ledger.execute("SELECT sha, printed_sha, signal, confidence FROM git_links ORDER BY linked_at").fetchall() \
        == [(one, one[:7], 1, 1.0), (person, None, 3, 0.75)]
    assert ledger.execute("SELECT sha, count(*) FROM commit_agent_lines GROUP BY sha ORDER BY sha").fetchall() \
        == sorted([(one, 3), (person, 3)])


def test_another_sessions_printed_commit_is_not_a_leftover(ledger, tmp_path):
    # s1 commits a.py itself, then writes c.py (K, L, M); s2 writes the same c.py and commits it. The
    # commit of c.py is explained by s2's printed sha: it is not s1's leftover, however well it overlaps.
    repo, (one, two) = make_repo(tmp_path, [
        ({"a.py": "A\nB\nC\n"}, "add a", T0 + 16),
        ({"c.py": "K\nL\nM\n"}, "add c", T0 + 40),
    ])
    s1 = Transcript("s1").prompt()
    s1.reply(K, [("Write", {"file_path": "/work/app/a.py", "content": "A\nB\nC\n"})])
    s1.reply(K, [("Bash", {"command": "git commit -am 'add a'"}, f"[main {one[:7]}] add a\n 1 file changed")])
    s1.reply(K, [("Write", {"file_path": "/work/app/c.py", "content": "K\nL\nM\n"})])
    s2 = Transcript("s2", start="2026-03-02T09:00:20").prompt()
    s2.reply(K, [("Write", {"file_path": "/work/app/c.py", "content": "K\nL\nM\n"})], gap=1)
    s2.reply(K, [("Bash", {"command": "git commit -am 'add c'"}, f"[main {two[:7]}] add c\n 1 file changed")], gap=1)
    load(ledger, tmp_path / "logs", s1, s2)
    scan_git(ledger, [repo])
    assert sorted(ledger.execute("SELECT session_id, sha, signal FROM git_links").fetchall()) \
        == sorted([("s1", one, 1), ("s2", two, 1)])


def test_calls_results_and_requests_outside_the_sessions_rows_are_still_found(ledger, tmp_path):
    # The links look a call, its result and its request up by key among the session's own rows
    # first, then the keys not found there in the whole table. Here s1's Write and its commits
    # (calls, results, the commits' requests) are moved to the end of their tables under another
    # session, beyond s1's rows: re-deriving s1 alone must find them there and derive what it did
    # (without the commits' requests, where they ran is unknown and s1 maps to no repository).
    from analytics.config import settings
    from analytics.refresh import _git_links, derive_sessions, sql_params
    from store.sql import transaction

    _, write, _, _, _ = worked_example(ledger, tmp_path)
    # Where a commit ran is then its request's working directory (the evidence names none).
    ledger.execute("UPDATE commit_evidence SET dir = NULL WHERE session_id = 's1'")
    with transaction(ledger):
        derive_sessions(ledger, ["s1"])
    before = derived(ledger)
    assert before["session_repos"] == [("s1", before["session_repos"][0][1], "/work/app", "commit evidence")]
    commits = ledger.execute("SELECT tool_use_id, request_key FROM tool_calls WHERE session_id = 's1'"
                             " AND tool_name = 'Bash'").fetchall()
    calls = [write] + [call for call, _ in commits]
    for table, key, keys in (("tool_calls", "tool_use_id", calls), ("tool_results", "tool_use_id", calls),
                             ("requests", "request_key", [request for _, request in commits])):
        ledger.execute(f"CREATE TEMP TABLE moved AS SELECT * REPLACE ('s9' AS session_id) FROM {table}"
                       f" WHERE list_contains(?, {key})", [keys])
        ledger.execute(f"DELETE FROM {table} WHERE list_contains(?, {key})", [keys])
        ledger.execute(f"INSERT INTO {table} SELECT * FROM moved")
        ledger.execute("DROP TABLE moved")
        last_of_s1, first_moved = ledger.execute(
            f"SELECT max(rowid) FILTER (WHERE session_id = 's1'), min(rowid) FILTER (WHERE list_contains(?, {key}))"
            f" FROM {table}", [keys]).fetchone()
        assert first_moved > last_of_s1
    with transaction(ledger):
        derive_sessions(ledger, ["s1"])
    assert derived(ledger) == before
    # The turn of the Write's request (request_facts, derived) moved too: the links alone redone.
    ledger.execute("CREATE TEMP TABLE moved AS SELECT * REPLACE ('s9' AS session_id) FROM request_facts"
                   " WHERE request_key = (SELECT request_key FROM tool_calls WHERE tool_use_id = ?)", [write])
    ledger.execute("DELETE FROM request_facts WHERE request_key IN (SELECT request_key FROM moved)")
    ledger.execute("INSERT INTO request_facts SELECT * FROM moved")
    assert ledger.execute("SELECT turn_no FROM moved").fetchall() == [(1,)]
    with transaction(ledger):
        _git_links(ledger, sql_params(settings()), None, None, ["s1"])
    # s1 no longer holds the Write's request: its lines (A, B, C, all alive) are an edit of no known
    # request of s1's (turn 0); the Edit's (D, A; D deleted since) stay in turn 1.
    assert derived(ledger) == {**before, "git_turns": [("s1", 0, 3, 3, 3, 3), ("s1", 1, 2, 2, 2, 1)]}


def test_a_request_moved_to_a_resumed_session_counts_its_turns_lines_once(ledger, tmp_path):
    # s1 writes a.py (A, B, C) and commits it. s0 resumes s1: its file copies s1's lines (same
    # message, request and line ids) under its own session, then writes b.py (P, Q) and commits it.
    # The copies tie with the stored requests and s0's file sorts first, so s1's requests move to s0
    # (the dedup rule); s1's calls, prompts and edit lines stay s1's (a key's first row is kept), and
    # s1's derived requests stay until s1 is derived again. The scan of s0's commit then redoes the
    # links of both sessions (both were active near it): s1's Write counts once, in s1's own turn.
    from analytics.refresh import derive_sessions
    from store.sql import transaction

    repo, (one,) = make_repo(tmp_path, [({"a.py": "A\nB\nC\n"}, "one", T0 + 16)])
    s1 = Transcript("s1").prompt()
    write, = s1.reply(K, [("Write", {"file_path": "/work/app/a.py", "content": "A\nB\nC\n"})])
    s1.reply(K, [("Bash", {"command": "git add a.py && git commit -m one"}, f"[main {one[:7]}] one\n 1 file changed")])
    s1.reply(K)
    load(ledger, tmp_path / "logs", s1)
    scan_git(ledger, [repo])
    assert ledger.execute("SELECT * FROM git_turns").fetchall() == [("s1", 1, 3, 3, 3, 3)]
    (repo / "b.py").write_text("P\nQ\n")
    _git(repo, "add", "b.py")
    _git(repo, "commit", "-q", "-m", "two", when=T0 + 3600)
    two = _git(repo, "rev-parse", "HEAD")
    s0 = Transcript("s0", start="2026-03-02T09:59:00")
    s0.lines = [{**line, "sessionId": "s0"} for line in s1.lines]
    s0.prompt()
    s0.reply(K, [("Write", {"file_path": "/work/app/b.py", "content": "P\nQ\n"})])
    s0.reply(K, [("Bash", {"command": "git add b.py && git commit -m two"}, f"[main {two[:7]}] two\n 1 file changed")])
    load(ledger, tmp_path / "logs", s0)
    moved = ledger.execute("SELECT request_key FROM tool_calls WHERE tool_use_id = ?", [write]).fetchone()[0]
    assert ledger.execute("SELECT session_id FROM requests WHERE request_key = ?", [moved]).fetchall() == [("s0",)]
    assert ledger.execute("SELECT session_id FROM tool_calls WHERE tool_use_id = ?", [write]).fetchall() == [("s1",)]
    # In s0 the copy comes before any prompt s0 holds: turn 0 there.
    assert sorted(ledger.execute("SELECT session_id, turn_no FROM request_facts WHERE request_key = ?",
                                 [moved]).fetchall()) == [("s0", 0), ("s1", 1)]
    result = scan_git(ledger, [repo])
    assert result.refresh.git_sessions == 2
    assert sorted(ledger.execute("SELECT * FROM git_turns").fetchall()) \
        == [("s0", 1, 2, 2, 2, 2), ("s1", 1, 3, 3, 3, 3)]
    # Derived again, s1 no longer holds the request: its Write is an edit of no known request of
    # s1's (turn 0), still counted once; and as a full refresh derives it.
    with transaction(ledger):
        derive_sessions(ledger, ["s1"])
    assert not ledger.execute("SELECT count(*) FROM request_facts WHERE session_id = 's1' AND request_key = ?",
                              [moved]).fetchone()[0]
    assert sorted(ledger.execute("SELECT * FROM git_turns").fetchall()) \
        == [("s0", 1, 2, 2, 2, 2), ("s1", 0, 3, 3, 3, 3)]
    assert_same_as_full(ledger)


def test_a_later_scan_blames_a_changed_file_back_to_its_stored_blame(ledger, tmp_path, monkeypatch):
    # After the worked example's scan, a person appends E to a.py. The next scan blames a.py at the
    # new head only back to the old head, whose blame is stored, and stores the whole blame's ranges.
    import ingest.git.blame as blame

    result, _, _, one, two = worked_example(ledger, tmp_path)
    repo = tmp_path / "app"
    old = _git(repo, "rev-parse", "HEAD")
    (repo / "a.py").write_text("A\nB\nX\nC\nA\nE\n")
    _git(repo, "commit", "-qam", "add E", when=T0 + 12 * DAY)
    new = _git(repo, "rev-parse", "HEAD")
    runs, real_git = [], blame.git
    monkeypatch.setattr(blame, "git", lambda *args, **kw: runs.append(args[1:]) or real_git(*args, **kw))
    scan_git(ledger, [repo])
    blames = [args for args in runs if args[0] == "blame"]
    assert blames == [("blame", "--porcelain", f"{old}..{new}", "--", "a.py")]
    stored = ledger.execute("SELECT orig_sha, orig_path, orig_start, final_start, lines FROM git_blame"
                            " WHERE snapshot = ? AND path = 'a.py' ORDER BY final_start", [new]).fetchall()
    # A, B from one; X from the person's line in one; C, A from two (D dropped); E from the new commit.
    assert stored == [(one, "a.py", 1, 1, 3), (two, "a.py", 4, 4, 1), (two, "a.py", 6, 5, 1), (new, "a.py", 6, 6, 1)]
    whole = blame._blame(str(repo / ".git"), new, "a.py")[1]
    assert stored == [(r.orig_sha, r.orig_path, r.orig_start, r.final_start, r.lines) for r in whole]
