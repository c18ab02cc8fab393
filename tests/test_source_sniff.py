"""`--source auto`: every format is recognised from the file itself, and no sniff takes another's file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.manifest import HEAD_BYTES
from ingest.sources import SOURCES, detect
from tests.helpers import shared_dir
from tests.test_source_admin_api import page, record
from tests.test_source_codex import meta, tokens, turn, usage
from tests.test_source_gemini import session
from tests.test_source_otel import api_request, logs, metric

CORPUS = shared_dir() / "corpus"
SAMPLES = CORPUS / "lanegrid__agtrace/crates/agtrace-providers/tests/samples"
REAL = {
    "claude_agent.jsonl": "claude", "claude_session.jsonl": "claude", "codex_session.jsonl": "codex",
    "rollout-parent-019b88e0.jsonl": "codex", "rollout-subagent-019b88e5.jsonl": "codex",
    "gemini_session.json": "gemini",
}


def owners(path: Path) -> list[str]:
    """Every source whose sniff accepts the file (must be exactly one, or none for foreign files)."""
    head = path.read_bytes()[:HEAD_BYTES]
    return [name for name, source in SOURCES.items() if source.sniff(path, head)]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="real corpus not found")
@pytest.mark.parametrize("name", sorted(REAL))
def test_real_sample_files_have_exactly_their_source(name):
    assert owners(SAMPLES / name) == [REAL[name]]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="real corpus not found")
def test_every_real_claude_transcript_is_claude_only():
    files = [p for p in (CORPUS / "iansherr__claude-code-log").rglob("*.jsonl")]
    assert files
    assert {tuple(owners(p)) for p in files} == {("claude",)}
    # their .meta.json companions belong to no source
    assert {tuple(owners(p)) for p in (CORPUS / "iansherr__claude-code-log").rglob("*.json")} <= {()}


def _jsonl(objects: list[dict]) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objects)


HAND_BUILT = {
    "rollout-x.jsonl": (_jsonl([meta(), turn(), tokens("2025-11-22T20:48:03.000Z", usage(1, 0, 1))]), "codex"),
    "rollout-no-meta.jsonl": (_jsonl([turn(), tokens("2025-11-22T20:48:03.000Z", usage(1, 0, 1))]), "codex"),
    "otel-logs.json": (_jsonl([logs([api_request("r1")])]), "otel"),
    "otel-metrics.jsonl": (_jsonl([metric("claude_code.commit.count", 1, [(0, 60, 1)])]), "otel"),
    "otel-pretty.json": (b'{ "resourceLogs" : []}\n', "otel"),
    "claude_code_usage-2026-01-05.json": (json.dumps(page([record()]), indent=2).encode(), "admin_api"),
    "session-2025-12-09.json": (json.dumps(session([]), indent=2).encode(), "gemini"),
    "package.json": (b'{"name": "x", "data": [], "messages": []}', None),
    "events.jsonl": (b'{"type": "event_msg", "ts": 1}\n', None),
}


@pytest.mark.parametrize("name", sorted(HAND_BUILT))
def test_hand_built_files_have_exactly_their_source(tmp_path, name):
    data, expected = HAND_BUILT[name]
    path = tmp_path / name
    path.write_bytes(data)
    assert owners(path) == ([expected] if expected else [])
    found = detect(path, data[:HEAD_BYTES])
    assert (found.name if found else None) == expected


def test_a_sources_module_is_imported_once_not_at_every_use(monkeypatch):
    import ingest.sources as sources

    asked: list[str] = []
    real = sources.import_module
    monkeypatch.setattr(sources, "import_module", lambda name: asked.append(name) or real(name))
    source = SOURCES["codex"]
    for _ in range(3):
        assert callable(source.sniff) and callable(source.parse) and callable(source.layout)
    assert asked.count(source.reader) <= 1  # none when an earlier test imported it already
