"""agentledger ship and ingest --shipped: the same totals as raw logs, no double counting, nothing
private leaves the laptop, and a hostile batch is quarantined without stopping the load."""

from __future__ import annotations

import os
import plistlib
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from agentledger.cli import main
from ingest import shipped as shipped_module
from ingest.ship_layout import BATCH_NAME
from ingest.shipping import SHIPPED_COLUMNS, WITHHELD, batch_schema, host_id
from sample_data.paths import committed_transcripts_dir
from store.db import reader
from tests.access_ledgers import roles_ledger  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
SAMPLE = committed_transcripts_dir()
# jonas.patel in the committed sample: 90 transcript requests (ground_truth.json), 6 Codex token
# events and 6 OTel-only requests; 412 rows in all shipped tables (requests, tool calls and results,
# events, agents, OTel events and metric points).
JONAS_REQUESTS = 102
JONAS_ROWS = 412
PROMPT = "Review the pending changes for MOB-1494: correctness, tests, style."


def run(*argv: str) -> int:
    return main([str(a) for a in argv])


def ship(dest: Path, user: str, state: Path, host: str, monkeypatch, *paths: Path) -> None:
    monkeypatch.setenv("AGENTLEDGER_HOST_ID", host)
    assert run("ship", dest, *(paths or [SAMPLE / user]), "--user", user, "--state", state, "--no-progress") == 0


def csv(db: Path, kind: str) -> bytes:
    from analytics.export import to_csv
    from analytics.reports import run_report

    with reader(db) as con:
        return to_csv(run_report(con, kind, None))


def batches(dest: Path) -> list[Path]:
    return sorted(dest.glob("*/*.parquet"))


@pytest.fixture
def raw_all(tmp_path: Path) -> Path:
    """The reference: every user's raw logs ingested centrally."""
    db = tmp_path / "raw.duckdb"
    assert run("ingest", SAMPLE, "--user-from-dir", "--db", db, "--no-progress") == 0
    return db


def test_two_laptops_shipping_plus_raw_logs_of_the_others_equal_raw_ingest_of_all(tmp_path, monkeypatch, raw_all):
    dest = tmp_path / "shipped"
    ship(dest, "jonas.patel", tmp_path / "a.duckdb", "laptop-a", monkeypatch)
    ship(dest, "sami.andersen", tmp_path / "b.duckdb", "laptop-b", monkeypatch)
    central = tmp_path / "central.duckdb"
    assert run("ingest", dest, "--shipped", "--db", central, "--no-progress") == 0
    collected = tmp_path / "collected"  # the third and fourth people's raw logs, collected centrally
    collected.mkdir()
    for user in ("emma.patel", "tomas.dubois"):
        (collected / user).symlink_to(SAMPLE / user)
    assert run("ingest", collected, "--user-from-dir", "--follow-symlinks", "--db", central, "--no-progress") == 0
    for kind in ("users", "sessions", "flags", "plugins", "daily"):
        assert csv(central, kind) == csv(raw_all, kind), kind


def test_a_batch_loaded_twice_or_a_laptop_also_collected_raw_never_counts_twice(tmp_path, monkeypatch, raw_all):
    dest = tmp_path / "shipped"
    state = tmp_path / "a.duckdb"
    ship(dest, "jonas.patel", state, "laptop-a", monkeypatch)
    central = tmp_path / "central.duckdb"
    assert run("ingest", dest, "--db", central, "--no-progress") == 0          # sniffed: a ship destination
    first = csv(central, "users")
    # The upload "failed": the local state forgets it shipped, the next run sends the run again.
    con = duckdb.connect(str(state))
    con.execute("UPDATE ingest_runs SET shipped_as = NULL")
    con.close()
    ship(dest, "jonas.patel", state, "laptop-a", monkeypatch)
    assert len(batches(dest)) == 1, "a replay writes the same file name"
    # The same rows under another name (a copy made by hand) and the raw logs as well.
    original = batches(dest)[0]
    copy = original.with_name(original.name.replace("-000001", "-000099"))
    copy.write_bytes(original.read_bytes())
    assert run("ingest", dest, "--shipped", "--db", central, "--no-progress") == 0
    assert run("ingest", SAMPLE / "jonas.patel", "--user", "jonas.patel", "--db", central, "--no-progress") == 0
    assert csv(central, "users") == first
    with reader(central) as con:
        requests = con.execute("SELECT count(*) FROM requests").fetchall()[0][0]
    assert requests == JONAS_REQUESTS


def test_nothing_but_the_documented_metadata_leaves_the_laptop(tmp_path, monkeypatch):
    dest = tmp_path / "shipped"
    ship(dest, "jonas.patel", tmp_path / "a.duckdb", "laptop-a", monkeypatch)
    (batch,) = batches(dest)
    assert PROMPT.encode() not in batch.read_bytes()
    frame = pl.read_parquet(batch)
    assert set(frame.columns) == set(batch_schema())
    assert "prompt_text" not in frame.columns and "head" not in frame.columns
    assert frame.filter(pl.col("record") == "session_events")["prompt_hash"].null_count() < frame.filter(
        pl.col("record") == "session_events").height
    text = " ".join(str(v) for col in frame.select(pl.col(pl.String)).iter_columns() for v in col.drop_nulls())
    assert PROMPT not in text
    meta = dict(duckdb.sql(f"SELECT key::VARCHAR, value::VARCHAR FROM parquet_kv_metadata('{batch}')").fetchall())
    assert meta["user_name"] == "jonas.patel" and meta["host_id"] == host_id() and re.fullmatch(r"[0-9a-f]{16}", meta["host_id"])
    assert BATCH_NAME.match(batch.name) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", batch.parent.name)


def test_the_shipped_fields_are_documented_exactly():
    doc = (REPO / "docs/shipping.md").read_text()
    for table, names in SHIPPED_COLUMNS.items():
        row = re.search(rf"^\| `{table}` \| (.+) \|$", doc, re.M)
        assert row, f"docs/shipping.md has no row for {table}"
        assert [n.strip(" `") for n in row.group(1).split(",")] == list(names), table
    for table, names in WITHHELD.items():
        for name in names:
            assert f"`{table}.{name}`" in doc


def test_the_host_id_is_a_stable_hash_that_an_override_changes():
    first, again = host_id(), host_id()
    assert first == again and re.fullmatch(r"[0-9a-f]{16}", first)
    os.environ["AGENTLEDGER_HOST_ID"] = "clone-7"
    try:
        assert host_id() != first and re.fullmatch(r"[0-9a-f]{16}", host_id())
    finally:
        del os.environ["AGENTLEDGER_HOST_ID"]


# -- hostile batches ---------------------------------------------------------------------------------

def _write(frame: pl.DataFrame, path: Path, meta: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.register("f", frame)
    keys = ", ".join(f"{k}: ${k}" for k in meta)
    con.execute(f"COPY (SELECT * FROM f) TO $p (FORMAT parquet, KV_METADATA {{{keys}}})", {"p": str(path), **meta})
    con.close()


def test_broken_and_forged_batches_are_quarantined_with_file_and_reason_and_the_rest_loads(tmp_path, monkeypatch, raw_all):
    dest = tmp_path / "shipped"
    ship(dest, "jonas.patel", tmp_path / "a.duckdb", "laptop-a", monkeypatch)
    (good,) = batches(dest)
    day = good.parent
    frame = pl.read_parquet(good)
    meta = dict(duckdb.sql(f"SELECT key::VARCHAR, value::VARCHAR FROM parquet_kv_metadata('{good}')").fetchall())
    host = meta["host_id"]

    def name(run: int) -> Path:
        return day / f"{host}-{'0' * 16}-{run:06d}.parquet"

    # 1. not Parquet at all
    name(1).write_bytes(b"PAR1 this is not a parquet file")
    # 2. a forged request (10^9 input tokens), a row dated 2100 and a row of another person: those rows go
    forged_requests = frame.filter(pl.col("record") == "requests").head(3).with_columns(
        pl.col("request_key") + "-forged", pl.col("message_id") + "-forged")
    forged_requests = pl.concat([
        forged_requests[0:1].with_columns(pl.lit(10**9, dtype=pl.Int64).alias("input_tokens")),
        forged_requests[1:2].with_columns(pl.lit("2100-01-01 00:00:00").str.to_datetime().alias("ts")),
        forged_requests[2:3].with_columns(pl.lit("mallory").alias("user_name")),
    ])
    _write(forged_requests, name(2), meta)
    # 3. a column of the wrong type: the whole file goes
    _write(frame.with_columns(pl.col("input_tokens").cast(pl.String) + "x"), name(3), meta)
    # 4. metadata naming another machine than the file name
    _write(frame, name(4), {**meta, "host_id": "f" * 16})
    # 5. a link named like a batch, pointing out of the destination
    name(5).symlink_to("/etc/passwd")
    # 6. a file whose name is not a batch name
    _write(frame, day / "notes.parquet", meta)
    # 7. rows of a record type nobody knows (a path, in case anything used it as one)
    _write(frame.head(2).with_columns(pl.lit("../../etc/passwd").alias("record")), name(8), meta)

    central = tmp_path / "central.duckdb"
    assert run("ingest", dest, "--shipped", "--db", central, "--no-progress") == 0
    with reader(central) as con:
        rejects = dict(con.execute(
            "SELECT regexp_extract(path, '[^/]+$'), string_agg(reason, ' | ' ORDER BY line_no) FROM rejects GROUP BY 1").fetchall())
        requests = con.execute("SELECT count(*) FROM requests").fetchall()[0][0]
    assert "not a readable Parquet file" in rejects[name(1).name]
    assert "implausible input_tokens: 1000000000" in rejects[name(2).name]
    assert "ts 2100-01-01" in rejects[name(2).name]
    assert "names user mallory but the batch was shipped by jonas.patel" in rejects[name(2).name]
    assert "column 'input_tokens' holds String" in rejects[name(3).name]
    assert "does not match the file name" in rejects[name(4).name]
    assert "not a regular file" in rejects[name(5).name]
    assert "not a batch file name" in rejects["notes.parquet"]
    assert "unknown record type '../../etc/passwd'" in rejects[name(8).name]
    assert requests == JONAS_REQUESTS, "the good batch loads whole; every forged row stays out"
    # The quarantined files are remembered: the next run reads nothing again.
    assert run("ingest", dest, "--shipped", "--db", central, "--no-progress") == 0
    with reader(central) as con:
        last = con.execute("SELECT files_new, files_changed, files_failed, files_unchanged FROM ingest_runs ORDER BY run_id DESC LIMIT 1").fetchall()[0]
    assert last[:3] == (0, 0, 0)


def test_a_batch_larger_than_the_limit_is_quarantined(tmp_path, monkeypatch):
    dest = tmp_path / "shipped"
    ship(dest, "jonas.patel", tmp_path / "a.duckdb", "laptop-a", monkeypatch)
    monkeypatch.setattr(shipped_module, "MAX_BATCH_BYTES", 100)
    central = tmp_path / "central.duckdb"
    assert run("ingest", dest, "--shipped", "--db", central, "--no-progress") == 0
    with reader(central) as con:
        reasons = [r for (r,) in con.execute("SELECT reason FROM rejects").fetchall()]
        requests = con.execute("SELECT count(*) FROM requests").fetchall()[0][0]
    assert requests == 0 and len(reasons) == 1 and "more than the 100 a batch may have" in reasons[0]


def test_shipped_options_that_do_not_apply_are_refused(tmp_path, monkeypatch, capsys):
    dest = tmp_path / "shipped"
    ship(dest, "jonas.patel", tmp_path / "a.duckdb", "laptop-a", monkeypatch)
    assert run("ingest", dest, "--shipped", "--user", "x", "--db", tmp_path / "c.duckdb") == 2
    assert "do not apply" in capsys.readouterr().err
    assert run("ingest", dest, SAMPLE, "--shipped", "--db", tmp_path / "c.duckdb") == 2
    assert not (tmp_path / "c.duckdb").exists()


# -- schedule ------------------------------------------------------------------------------------

def test_schedule_prints_ready_units(capsys):
    assert run("schedule", "--print", "systemd", "--every", "20", "--", "ship", "s3://acme/shipped", "--user", "al ice") == 0
    unit = capsys.readouterr().out
    assert "[Service]\nType=oneshot" in unit and "OnUnitActiveSec=20min" in unit and "[Install]\nWantedBy=timers.target" in unit
    exec_start = re.search(r"^ExecStart=(.+)$", unit, re.M).group(1)
    assert exec_start.endswith('ship s3://acme/shipped --user "al ice"')
    assert run("schedule", "--print", "launchd", "--", "ship", "/Volumes/share") == 0
    text = capsys.readouterr().out
    plist = plistlib.loads(text[text.index("<?xml"):].encode())
    assert plist["StartInterval"] == 900 and plist["ProgramArguments"][-2:] == ["ship", "/Volumes/share"]
    assert run("schedule", "--print", "cron", "--every", "120", "--", "ship", "/mnt/x") == 0
    assert capsys.readouterr().out.startswith("0 */2 * * * ")
    assert run("schedule", "--print", "cron", "--every", "7", "--", "ship", "/mnt/x") == 2
    assert "cannot run every 7 minutes" in capsys.readouterr().err


def test_data_health_shows_when_each_person_and_machine_last_sent_data_and_who_never_did(tmp_path, monkeypatch):
    from analytics import health
    from ingest.org import load_org, read_org_csv
    from store.db import writer

    dest = tmp_path / "shipped"
    ship(dest, "jonas.patel", tmp_path / "a.duckdb", "laptop-a", monkeypatch)
    laptop_a = host_id()
    central = tmp_path / "central.duckdb"
    assert run("ingest", dest, "--db", central, "--no-progress") == 0
    assert run("ingest", SAMPLE / "emma.patel", "--user", "emma.patel", "--db", central, "--no-progress") == 0
    org = tmp_path / "org.csv"
    org.write_text((REPO / "sample_data/org.csv").read_text() + "nadia.ops,nadia@acme-robotics.dev,Nadia Ops,Platform,\n")
    with writer(central) as con:
        load_org(con, read_org_csv(org))
    with reader(central) as con:
        facts = health.facts(con)
    arrivals = {(r["user_name"], r["machine"]): r for r in facts["arrivals"].iter_rows(named=True)}
    assert set(arrivals) == {("jonas.patel", laptop_a), ("emma.patel", "(collected logs)")}
    assert arrivals[("jonas.patel", laptop_a)]["files"] == 1 and arrivals[("jonas.patel", laptop_a)]["records"] == JONAS_ROWS
    assert arrivals[("emma.patel", "(collected logs)")]["files"] == 6   # her six transcripts
    assert all(r["last_arrival"] is not None for r in arrivals.values())
    # The quietest first: emma's files were read after jonas's batch.
    assert facts["arrivals"]["user_name"].to_list() == ["jonas.patel", "emma.patel"]
    # sami (Payments) is in the directory and sent nothing here; nadia (Platform) neither. By team.
    assert facts["silent_people"]["user_name"].to_list() == ["sami.andersen", "nadia.ops"]


def test_data_health_arrivals_and_silent_people_show_only_the_viewers_scope_as_they_see_it(roles_ledger):
    from analytics import health
    from analytics.access.directory import scope_for_email
    from analytics.access.scope import bind, pseudonym
    from analytics.access.settings import AccessSettings
    from tests.access_ledgers import PSEUDONYM_KEY, email

    with reader(roles_ledger.db) as con:
        owner = health.facts(con)
        _, scope = scope_for_email(con, email("claire.bennett"), AccessSettings(
            pseudonymous_roles={"manager"}, pseudonym_key=PSEUDONYM_KEY))
        bind(con, scope)
        manager = health.facts(con)
    web = {pseudonym(PSEUDONYM_KEY.encode(), user): user for user in roles_ledger.web}
    # The owner sees everyone's arrivals by name; Web's manager sees Web's people, as pseudonyms.
    assert set(roles_ledger.web) | set(roles_ledger.payments) <= set(owner["arrivals"]["user_name"])
    assert set(manager["arrivals"]["user_name"]) == set(web)
    # The leaders have no data: the owner sees them all, with names and e-mails; the manager only
    # herself (her own name), and no one's display name or e-mail.
    assert {"vp.eng", "claire.bennett", "root"} <= set(owner["silent_people"]["user_name"])
    assert owner["silent_people"]["email"].null_count() == 0
    assert manager["silent_people"]["user_name"].to_list() == ["claire.bennett"]
    assert manager["silent_people"]["display_name"].null_count() == manager["silent_people"].height
    assert manager["silent_people"]["email"].null_count() == manager["silent_people"].height
