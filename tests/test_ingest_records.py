"""The typed records and the ledger's tables cannot drift apart; the writer's statements hold on a
catalog without constraints; the layers of ingest stay where they belong."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import msgspec
import polars as pl
import pytest

from ingest.records import TABLES, Record, Request, ToolCall, columns, frame_schema
from tests.helpers import REPO

_DUCK_TO_POLARS = {"VARCHAR": pl.String, "BIGINT": pl.Int64, "INTEGER": pl.Int64, "BOOLEAN": pl.Boolean,
                   "DOUBLE": pl.Float64, "TIMESTAMP": pl.Datetime("us"), "DATE": pl.Date}


@pytest.mark.parametrize("table", list(TABLES))
def test_every_record_field_is_a_column_of_its_table_with_its_type_and_default(ledger, table):
    policy = TABLES[table]
    found = {name: (dtype, default, nullable) for name, dtype, default, nullable in ledger.execute(
        "SELECT column_name, data_type, column_default, is_nullable FROM information_schema.columns WHERE table_name = ?",
        [table]).fetchall()}
    schema = frame_schema(policy.record)
    defaults = {f.name: f.default for f in msgspec.structs.fields(policy.record)}
    for name, dtype in schema.items():
        assert name in found, f"{policy.record.__name__}.{name} is not a column of {table}"
        assert _DUCK_TO_POLARS[found[name][0]] == dtype, f"{table}.{name}"
        column_default = found[name][1]
        if column_default is not None and defaults[name] is not msgspec.NODEFAULT:
            expected = ledger.execute(f"SELECT {column_default}").fetchone()[0]
            assert defaults[name] == expected, f"{table}.{name}: default {defaults[name]!r}, column {expected!r}"
        if found[name][2] == "NO" and name not in policy.key:
            assert defaults[name] is not None, f"{table}.{name} is NOT NULL: its record needs a default"
    for key in policy.key:
        assert key in schema, f"{table}: key column {key} missing from {policy.record.__name__}"


def test_columns_turns_records_into_a_frame_by_field_name():
    ts = dt.datetime(2026, 3, 1, 10)
    frame = columns(ToolCall, [
        ToolCall(tool_use_id="t1", source="claude", ts=ts, tool_name="Bash", component="builtin:Bash",
                 component_kind="builtin", command="ls", lines_added=3),
        ToolCall(tool_use_id="t2", source="codex", ts=ts, tool_name="shell", component="builtin:shell",
                 component_kind="builtin"),
    ])
    assert frame.columns == list(ToolCall.__struct_fields__)
    assert frame.select("tool_use_id", "command", "lines_added", "is_sidechain").rows() == [
        ("t1", "ls", 3, False), ("t2", None, None, False)]
    assert columns(Request, []).schema == frame_schema(Request)


def test_columns_holds_every_field_of_every_record_in_order():
    ts = dt.datetime(2026, 3, 1, 10, 0, 0, 123456)
    rows = [Request(request_key=f"k{i}", source="claude", ts=ts + dt.timedelta(seconds=i), model=None if i % 2 else "m",
                    input_tokens=i, cache_creation_5m_tokens=None if i % 3 else i, is_sidechain=i == 1)
            for i in range(4)]
    frame = columns(Request, rows)
    assert frame.schema == frame_schema(Request)
    assert frame.rows() == [tuple(getattr(row, name) for name in Request.__struct_fields__) for row in rows]
    assert columns(Request, rows[:1]).rows() == frame.rows()[:1]


def test_a_record_is_a_typed_struct_not_a_dict():
    assert all(issubclass(p.record, Record) and issubclass(p.record, msgspec.Struct) for p in TABLES.values())
    with pytest.raises(TypeError):
        Request(source="claude", ts=dt.datetime(2026, 3, 1))  # request_key is required


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_pure_reading_side_never_reaches_for_the_writer_or_another_source():
    assert "ingest.writer" not in _imports(REPO / "ingest/file_reader.py")
    for source in ("claude", "codex", "gemini", "otel", "admin_api"):
        for name in ("parser.py", "source.py"):
            other = {m for m in _imports(REPO / "ingest" / source / name) if m.startswith("ingest.")
                     and m.split(".")[1] in {"claude", "codex", "gemini", "otel", "admin_api"} - {source}}
            assert other == set(), f"ingest/{source}/{name} imports {other}"


def _sql_strings(path: Path) -> list[str]:
    """Every string literal of a module except docstrings, upper-cased: where its SQL is."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [node.value.upper() for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


@pytest.mark.parametrize("module", ["ingest/writer.py", "ingest/otel/reconcile.py", "ingest/runner.py"])
def test_writer_statements_depend_on_no_constraint(module):
    # A DuckLake catalog has no PRIMARY KEY or UNIQUE, hence no upsert syntax and no sequences:
    # idempotency must be in the statements (anti-joins, MERGE INTO), as it is.
    for sql in _sql_strings(REPO / module):
        for forbidden in ("ON CONFLICT", "OR IGNORE", "OR REPLACE", "NEXTVAL("):
            assert forbidden not in sql, f"{module}: {forbidden} in {sql[:80]!r}"


def test_every_ingest_setting_is_documented_with_its_default():
    from ingest.settings import MB, IngestSettings

    doc = (REPO / "docs/architecture.md").read_text()
    for name, field in IngestSettings.model_fields.items():
        default = f"{field.default // MB} MiB" if name.endswith("bytes") else f"{field.default:g}"
        assert f"| `{name}` | {default} |" in doc, f"docs/architecture.md lacks the row of {name} ({default})"
        assert field.description, name
