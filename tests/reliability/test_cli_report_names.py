"""`agentledger report --team payments` when the team is `Payments`: the same rows, or an error, never
an empty report with exit 0 (which a scheduled export would take for "nobody spent anything")."""

from __future__ import annotations

import csv
import io

import pytest

from agentledger.cli import main
from ingest.org import OrgMember, load_org
from tests.transcript_builder import Transcript, load


@pytest.fixture
def db(ledger, db_path, tmp_path):
    for user in ("alice", "bob"):
        t = Transcript(f"s-{user}").prompt()
        t.reply((10, 90, 0, 900))
        load(ledger, tmp_path, t, user=user)
    load_org(ledger, [OrgMember(user="alice", team="Payments"), OrgMember(user="bob", team="Web Platform")])
    ledger.close()
    return db_path


def _users(db, capfdbinary, *args) -> tuple[int, list[dict], str]:
    code = main(["report", "users", "--db", str(db), "--format", "csv", *args])
    out, err = capfdbinary.readouterr()
    return code, list(csv.DictReader(io.StringIO(out.decode()))), err.decode()


@pytest.mark.parametrize("spelling", ["payments", "PAYMENTS", "Payments"])
def test_a_team_matches_in_any_case(spelling, db, capfdbinary):
    code, rows, _ = _users(db, capfdbinary, "--team", spelling)
    assert code == 0
    assert [(r["user"], r["team"]) for r in rows] == [("alice", "Payments")]


def test_a_person_matches_in_any_case(db, capfdbinary):
    code, rows, _ = _users(db, capfdbinary, "--user", "BOB")
    assert code == 0 and [r["user"] for r in rows] == ["bob"]


@pytest.mark.parametrize("option, value, says", [("--team", "paymnts", "no such team: 'paymnts'"),
                                                 ("--user", "carol", "no such person: 'carol'"),
                                                 ("--model", "gpt-9", "no such model: 'gpt-9'")])
def test_a_name_the_ledger_does_not_hold_is_an_error(option, value, says, db, capfdbinary):
    code, rows, err = _users(db, capfdbinary, option, value)
    assert code == 2 and rows == []
    assert says in err and len(err.strip().splitlines()) == 1, err
