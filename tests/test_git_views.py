"""What the dashboard's pages draw of outcomes in git, one named query each (analytics.queries), on a
hand-worked org: every figure below is worked out in the comments, not read back from the code.

alice (team Web) runs s1: it writes a.py (A, B, C), commits `one` (A, B and a person's X), edits in
D and a second A and commits `two` (C, D, A); ten days later a person deletes D. bob (team Core)
runs s2, which calls an MCP server and produces nothing, and s3, which writes two files of a
repository that is not scanned and prints a commit made there. Twenty days on, an agent commits
b.py with a Claude trailer, and no session in the ledger explains it.

Every request costs the same: 10 input, 90 output and 900 cache-read tokens of Claude Sonnet 4 at
$3, $15 and $0.30 a million = $0.00003 + $0.00135 + $0.00027 = $0.00165. s1 makes 5 requests
($0.00825), s2 2 ($0.0033), s3 3 ($0.00495): $0.0165 in all.
"""

from __future__ import annotations

import pytest

from agentledger.pipeline import scan_git
from analytics import queries
from analytics.access.scope import Scope, bind
from analytics.filters import Filters
from ingest.org import OrgMember, load_org
from tests.test_analytics_harness import _suggestion as suggestion
from tests.test_git_outcomes import DAY, K, T0, make_repo
from tests.transcript_builder import Transcript, load

REQUEST = 0.00165


@pytest.fixture
def org(ledger, tmp_path):
    repo, (one, two, _, _) = make_repo(tmp_path, [
        ({"a.py": "A\nB\nX\n"}, "one", T0 + 16),
        ({"a.py": "A\nB\nX\nC\nD\nA\n"}, "two", T0 + 28),
        ({"a.py": "A\nB\nX\nC\nA\n"}, "drop D", T0 + 10 * DAY),
        ({"b.py": "b1\nb2\n"}, "add b\n\nCo-Authored-By: Claude <noreply@anthropic.com>", T0 + 20 * DAY),
    ])
    s1 = Transcript("s1").prompt()
    s1.reply(K, [("Write", {"file_path": "/work/app/a.py", "content": "A\nB\nC\n"})])
    s1.reply(K, [("Bash", {"command": "git add a.py && git commit -m one"}, f"[main {one[:7]}] one\n 1 file changed")])
    s1.reply(K, [("Edit", {"file_path": "/work/app/a.py", "old_string": "C", "new_string": "C\nD\nA"})])
    s1.reply(K, [("Bash", {"command": "git commit -am two"}, f"[main {two[:7]}] two\n 1 file changed")])
    s1.reply(K)
    s2 = Transcript("s2", start="2026-03-02T10:00:00").prompt()
    s2.reply(K, [("mcp__jira__search", {"q": "x"}, "found")])
    s2.reply(K)
    s3 = Transcript("s3", start="2026-03-02T11:00:00", cwd="/work/other").prompt()
    s3.reply(K, [("Write", {"file_path": "/work/other/x.py", "content": "x1\nx2\n"})])
    s3.reply(K, [("Write", {"file_path": "/work/other/y.py", "content": "y1\n"})])
    s3.reply(K, [("Bash", {"command": "git commit -am other"}, "[main 1234567] other\n 2 files changed")])
    load(ledger, tmp_path / "logs", s1, user="alice")
    load(ledger, tmp_path / "logs", s2, s3, user="bob")
    load_org(ledger, [OrgMember(user="alice", email="alice@x.dev", display_name="Alice", team="Web"),
                      OrgMember(user="bob", email="bob@x.dev", display_name="Bob", team="Core")])
    scan_git(ledger, [repo])
    return ledger, one, two


def test_overview_headline_share_of_spend_whose_work_landed_and_survives(org):
    con, _, _ = org
    row = queries.git_headline(con).row(0, named=True)
    # Only s1's turn landed lines (5: A, B of `one`; C, D, A of `two`), and 4 are there at the head
    # (D was deleted): its $0.00825 of the $0.0165 landed and survives, half.
    assert row == {"cost_usd": pytest.approx(10 * REQUEST), "landed_cost_usd": pytest.approx(5 * REQUEST),
                   "landed_cost_share": 0.5, "surviving_cost_usd": pytest.approx(5 * REQUEST),
                   "surviving_cost_share": 0.5, "lines_landed": 5, "lines_alive_head": 4, "repositories": 1}
    # A slice of bob alone: all of his spend, none of it landed.
    bob = queries.git_headline(con, Filters(user="bob")).row(0, named=True)
    assert (bob["cost_usd"], bob["landed_cost_share"], bob["lines_landed"]) == (pytest.approx(5 * REQUEST), 0.0, 0)


def test_teams_cost_per_landed_and_surviving_line(org):
    con, _, _ = org
    teams = {row["team"]: row for row in queries.team_outcomes(con).to_dicts()}
    assert set(teams) == {"Web", "Core"}
    web, core = teams["Web"], teams["Core"]
    # Web: $0.00825 for 5 landed lines in 2 landed commits. Nothing is 30 days old at the head yet
    # (the head is 20 days after the sessions): no cost per line alive at 30 days.
    assert (web["cost_usd"], web["lines_landed"], web["landed_commits"]) == (pytest.approx(5 * REQUEST), 5, 2)
    assert web["cost_per_landed_line"] == pytest.approx(REQUEST)
    assert web["cost_per_landed_commit"] == pytest.approx(2.5 * REQUEST)
    assert web["cost_per_alive_30d_line"] is None and web["lines_due_30d"] == 0
    # Core: $0.00825 that bought nothing in git, all of it unlinked; s3's 3 lines count as written.
    assert (core["sessions"], core["cost_usd"], core["lines_written"], core["lines_landed"]) == (2, pytest.approx(5 * REQUEST), 3, 0)
    assert core["unlinked_cost_usd"] == pytest.approx(5 * REQUEST) and core["cost_per_landed_line"] is None


def test_claude_codes_own_overhead_stays_out_of_the_landed_share(org, tmp_path):
    # A prompt suggestion in s1 (3 in, 2 out, 11,995 cache read: $0.000009 + $0.00003 + $0.0035985 =
    # $0.0036375) is spend, but nobody's work: as in the useful ratio it is out of both sides of the
    # share, which stays 5 of 10 requests' worth; with it in the denominator it would read 0.41,
    # counted as landed 0.59.
    con, _, _ = org
    load(con, tmp_path / "logs", suggestion(), user="alice")
    overhead = 0.0036375
    row = queries.git_headline(con).row(0, named=True)
    assert (row["cost_usd"], row["landed_cost_usd"], row["landed_cost_share"], row["surviving_cost_share"]) \
        == (round(10 * REQUEST + overhead, 6), pytest.approx(5 * REQUEST), 0.5, 0.5)
    rows = {r["component"]: r for r in queries.plugin_outcomes(con).to_dicts()}
    harness = rows["harness:prompt_suggestion"]
    assert (harness["cost_usd"], harness["landed_cost_usd"], harness["landed_cost_share"]) \
        == (round(overhead, 6), 0.0, None)
    assert harness["origin"] == "built-in"  # Claude Code's own agent, not something an organisation installs
    assert rows["(prompt)"]["landed_cost_share"] == 0.3333
    turns = queries.session_git_turns(con, session_id="s1").to_dicts()
    assert [t["useful_output_ratio"] for t in turns] == [1.0]


def test_plugins_worth_it_on_landed_outcomes(org):
    con, _, _ = org
    rows = {row["component"]: row for row in queries.plugin_outcomes(con).to_dicts()}
    # A request belongs to the component whose output it consumes. (prompt): the first request of
    # s1, s2 and s3 ($0.00495), of which s1's landed ($0.00165, a third); it made the Write whose 3
    # lines (A, B, C) landed. builtin:Bash: s1's 3rd and 5th requests, both in the landed turn; the
    # 3rd made the Edit whose 2 landed lines (D, A) are Bash's: $0.0033 / 2 a line.
    prompt, bash, jira = rows["(prompt)"], rows["builtin:Bash"], rows["mcp:jira"]
    assert (prompt["cost_usd"], prompt["landed_cost_usd"], prompt["landed_cost_share"], prompt["lines_landed"]) \
        == (pytest.approx(3 * REQUEST), pytest.approx(REQUEST), 0.3333, 3)
    assert (bash["landed_cost_share"], bash["lines_landed"], bash["cost_per_landed_line"]) == (1.0, 2, pytest.approx(REQUEST))
    # s2's MCP server: an integration whose spend landed nothing.
    assert (jira["origin"], jira["landed_cost_share"], jira["lines_landed"], jira["cost_per_landed_line"]) \
        == ("integration", 0.0, 0, None)
    assert {rows[c]["origin"] for c in ("(prompt)", "builtin:Bash", "builtin:Write")} == {"built-in"}


def test_session_page_commits_and_their_alive_lines(org):
    con, one, two = org
    commits = queries.session_commits(con, session_id="s1").to_dicts()
    # `one` holds 2 of s1's lines (A, B; X is the person's), `two` 3 (C, D, A). Seven days on (the
    # first commit then is `drop D`) D is gone; 30 days is not due; at the head D is still gone.
    assert [(c["sha"], c["signal"], c["landed"], c["agent_lines"], c["alive_7d"], c["alive_30d"], c["alive_head"])
            for c in commits] == [(one, 1, True, 2, 2, None, 2), (two, 1, True, 3, 2, None, 2)]
    assert commits[0]["evidence"] == f"printed {one[:7]}, on the default branch"
    turns = queries.session_git_turns(con, session_id="s1").to_dicts()
    assert [(t["turn_no"], t["lines_written"], t["lines_landed"], t["lines_alive_head"], t["git_outcome"]) for t in turns] \
        == [(1, 5, 5, 4, "landed")]
    assert queries.session_commits(con, session_id="s2").height == 0


def test_survival_curve_per_team_by_age(org):
    con, _, _ = org
    curve = queries.survival_curve(con).rows()
    # Web's 5 landed lines are all there when they land; at 7 days 4 of them (D is gone). None is 30
    # days old by the default branch's history yet. Core landed nothing: no curve.
    assert curve == [("Web", 0, 5, 5, 1.0), ("Web", 7, 5, 4, 0.8)]


def test_data_health_unmapped_share_and_agent_commits_without_logs(org):
    con, _, _ = org
    row = queries.git_coverage(con).row(0, named=True)
    # Sessions with edits: s1 (mapped by its printed commits) and s3 (its repository is not scanned):
    # s3's $0.00495 of the $0.0132 those two cost, 37.5%. s3's printed 1234567 is in no scanned
    # repository; `add b` names Claude and no session explains it.
    assert (row["repositories"], row["sessions_with_edits"], row["unmapped_sessions"]) == (1, 2, 1)
    assert row["unmapped_cost_usd"] == pytest.approx(3 * REQUEST) and row["unmapped_cost_share"] == 0.375
    assert (row["printed_not_found"], row["agent_commits_without_logs"]) == (1, 1)
    # Commits without logs belong to nobody: a team's slice does not count them.
    assert queries.git_coverage(con, Filters(team="Web")).row(0, named=True)["agent_commits_without_logs"] is None


def test_each_view_shows_only_the_viewers_scope(org):
    con, _, _ = org
    bind(con, Scope(users=("bob",), viewer="bob"))
    assert queries.git_headline(con).row(0, named=True)["cost_usd"] == pytest.approx(5 * REQUEST)
    assert set(queries.team_outcomes(con)["team"]) == {"Core"}
    assert queries.survival_curve(con).height == 0
    assert queries.session_commits(con, session_id="s1").height == 0
    assert queries.session_git_turns(con, session_id="s1").height == 0
    assert queries.git_coverage(con).row(0, named=True)["agent_commits_without_logs"] is None


def test_every_column_a_git_view_returns_is_a_registered_metric(org):
    from analytics.metrics import METRICS

    con, _, _ = org
    frames = [queries.git_headline(con), queries.team_outcomes(con), queries.plugin_outcomes(con),
              queries.survival_curve(con), queries.git_coverage(con), queries.session_commits(con, session_id="s1"),
              queries.session_git_turns(con, session_id="s1")]
    for frame in frames:
        assert set(frame.columns) <= set(METRICS), set(frame.columns) - set(METRICS)
