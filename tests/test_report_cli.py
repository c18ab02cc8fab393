"""`agentledger report`: every kind runs, columns match the registry, CSV bytes are the contract."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentledger.cli import main
from analytics.export import cell, to_csv, to_json
from analytics.filters import Filters
from analytics.reports import REPORTS, run_report
from ingest.org import load_org, OrgMember
from store.db import reader
from tests.transcript_builder import Transcript, load

K = (10, 90, 0, 900)

GOLDEN_USERS = (
    "user,team,sessions,requests,input_tokens,output_tokens,cache_creation_tokens,cache_read_tokens,total_tokens,"
    "cost_usd,kept_tokens,useful_output_ratio,flagged_sessions,waste_tokens,useful_cost_ratio,unpriced_requests,"
    "waste_cost_usd,overhead_tokens,overhead_cost_usd\r\n"
    # bob's three looping requests cost 3 x $0.00165 = $0.00495: his wasted spend.
    "bob,(unassigned),1,4,40,360,0,3600,4000,0.0066,1000,0.25,1,3000,0.25,0,0.00495,0,\r\n"
    "alice,platform,1,2,20,180,0,1800,2000,0.0033,2000,1.0,0,0,1.0,0,0.0,0,\r\n"
).encode()

GOLDEN_FLAGS = (
    "session_id,user,team,project,flag,started_at,ended_at,tokens,cost_usd,evidence\r\n"
    "s2,bob,(unassigned),/work/app,loop,2026-03-02T09:00:10Z,2026-03-02T09:00:22Z,3000,0.00495,"
    "'=cmd failed 3 times with the same error\r\n"
).encode()


@pytest.fixture
def db(ledger, db_path, tmp_path):
    a = Transcript("s1").prompt()
    a.reply(K, [("Edit", {"file_path": "/work/app/a.py", "old_string": "a", "new_string": "b"}, "ok")])
    a.reply(K)
    load(ledger, tmp_path, a, user="alice")
    b = Transcript("s2").prompt()
    for _ in range(3):
        b.reply(K, [("=cmd", {"x": 1}, "E", True)])
    b.reply(K)
    load(ledger, tmp_path, b, user="bob")
    load_org(ledger, [OrgMember(user="alice", team="platform")])
    ledger.close()
    return db_path


def test_users_csv_golden_bytes(db, capfdbinary):
    assert main(["report", "users", "--db", str(db), "--format", "csv"]) == 0
    out = capfdbinary.readouterr().out
    assert out == GOLDEN_USERS
    rows = list(csv.DictReader(io.StringIO(out.decode())))
    assert {r["user"]: int(r["input_tokens"]) + int(r["output_tokens"]) + int(r["cache_creation_tokens"])
            + int(r["cache_read_tokens"]) for r in rows} == {"alice": 2000, "bob": 4000}


def test_flags_csv_neutralises_formula_cells_and_writes_utc(db, tmp_path):
    out = tmp_path / "flags.csv"
    assert main(["report", "flags", "--db", str(db), "--format", "csv", "--output", str(out)]) == 0
    assert out.read_bytes() == GOLDEN_FLAGS


def test_cli_and_dashboard_export_are_the_same_bytes(db, capfdbinary):
    for kind in REPORTS:
        assert main(["report", kind, "--db", str(db), "--format", "csv", "--team", "(unassigned)"]) == 0
        cli = capfdbinary.readouterr().out
        with reader(db) as con:
            frame = run_report(con, kind, Filters(team="(unassigned)"))
        assert cli == to_csv(frame), kind


@pytest.mark.parametrize("kind", list(REPORTS))
def test_every_report_has_exactly_its_documented_columns(db, kind):
    with reader(db) as con:
        frame = run_report(con, kind, Filters())
    assert frame.columns == list(REPORTS[kind].columns)


def test_filters_and_formats(db, capfdbinary):
    assert main(["report", "users", "--db", str(db), "--format", "json", "--team", "platform"]) == 0
    assert b'"user": "alice"' in capfdbinary.readouterr().out
    assert main(["report", "daily", "--db", str(db), "--from", "2026-03-03"]) == 0
    assert b"2026-03-02" not in capfdbinary.readouterr().out
    assert main(["report", "users", "--db", str(db), "--from", "2026-03-03", "--to", "2026-03-01"]) == 2
    assert b"is after" in capfdbinary.readouterr().err


def test_csv_cells():
    frame = pl.DataFrame({"t": [datetime(2026, 1, 2, 3, 4, 5)], "d": [date(2026, 1, 2)], "s": ['+1, "quoted"'],
                          "n": [None], "f": [0.1], "at": ["@x"], "ok": ["plain"]},
                         schema={"t": pl.Datetime("us"), "d": pl.Date, "s": pl.String, "n": pl.Int64, "f": pl.Float64,
                                 "at": pl.String, "ok": pl.String})
    assert to_csv(frame) == b't,d,s,n,f,at,ok\r\n2026-01-02T03:04:05Z,2026-01-02,"\'+1, ""quoted""",,0.1,\'@x,plain\r\n'
    assert b'"t": "2026-01-02T03:04:05Z"' in to_json(frame)


def test_report_help_lists_every_report_with_its_columns_and_every_filter(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for kind, report in REPORTS.items():
        assert f"{kind} {report.description}" in text
        assert ", ".join(report.names) in text
    for flag in ("--from DAY", "--to DAY", "--team NAME", "--user NAME", "--project NAME", "--source NAME", "--model NAME"):
        assert flag in text
    assert set(Filters.model_fields) == {"date_from", "date_to", "team", "user", "project", "source", "model"}


def _csv_module(frame: pl.DataFrame) -> bytes:
    """The definition to_csv keeps: Python's csv writer over `cell` of every value, one at a time."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([cell(name) for name in frame.columns])
    for row in frame.iter_rows():
        writer.writerow([cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


_TEXT = st.text(alphabet=st.sampled_from(list('ab ,"\'\r\n\t=+-@ü€') + ["1", "0"]), max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.none() | _TEXT, st.none() | st.floats(allow_nan=True, allow_infinity=True),
                          st.none() | st.integers(-2**63, 2**63 - 1), st.none() | st.booleans(),
                          st.none() | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
                          st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))),
                max_size=8))
def test_csv_columns_at_once_write_what_the_csv_module_writes_cell_by_cell(rows):
    frame = pl.DataFrame(rows, schema={"text": pl.String, "x": pl.Float64, "n": pl.Int64, "ok": pl.Boolean,
                                       "at": pl.Datetime("us"), "day": pl.Date}, orient="row")
    assert to_csv(frame) == _csv_module(frame)


def test_report_csv_of_every_kind_is_what_the_csv_module_writes(db):
    with reader(db) as con:
        for kind in REPORTS:
            frame = run_report(con, kind, Filters())
            assert to_csv(frame) == _csv_module(frame), kind
