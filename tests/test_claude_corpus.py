"""The real corpus: per-folder token totals agree with ccusage to the token."""

from __future__ import annotations

import re

import pytest

from tests.helpers import ingest, shared_dir, totals

CORPUS = shared_dir() / "corpus"
PROJECTS = CORPUS / "iansherr__claude-code-log/test/test_data/real_projects"
pytestmark = pytest.mark.skipif(not PROJECTS.is_dir(), reason=f"real corpus not found at {PROJECTS}")


def reference_totals() -> dict[str, tuple[int, int, int, int]]:
    """The ccusage table in ../shared/corpus/README.md, by project folder."""
    readme = (CORPUS / "README.md").read_text()
    rows = re.findall(r"^\| (-[^|]+?) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|", readme, re.M)
    return {name: tuple(int(v.replace(",", "")) for v in values) for name, *values in rows}


def test_reference_table_lists_all_eight_folders():
    assert len(reference_totals()) == 8


@pytest.mark.parametrize("folder", sorted(reference_totals()) if PROJECTS.is_dir() else [])
def test_folder_totals_match_ccusage(folder, ledger):
    summary = ingest(ledger, PROJECTS / folder, user="check")
    assert totals(ledger) == reference_totals()[folder]
    assert summary.rejects == 0


def test_whole_corpus_in_one_ledger_is_the_sum_of_folders(ledger):
    ingest(ledger, PROJECTS, user="check")
    expected = tuple(sum(values[i] for values in reference_totals().values()) for i in range(4))
    assert totals(ledger) == expected


def test_corpus_structure_is_captured(ledger):
    ingest(ledger, PROJECTS, user="check")
    con = ledger
    # Subagent files in <session>/subagents carry the parent's session id and a type from .meta.json.
    typed = con.execute(
        "SELECT count(*) FROM requests WHERE agent_id IS NOT NULL AND subagent_type = 'general-purpose'"
    ).fetchone()[0]
    assert typed > 0
    # v2.0.x flat agent files include warm-ups whose only prompt is "Warmup" (28, counted by a json scan)
    # and 12 whose file opens with the agent's greeting and no prompt at all (first line an assistant
    # line with parentUuid null).
    warmups = con.execute("SELECT count(*) FROM agents WHERE is_warmup").fetchone()[0]
    assert warmups == 28 + 12
    # Tool calls are joined to their results.
    joined = con.execute(
        "SELECT count(*) FROM tool_calls c JOIN tool_results r USING (tool_use_id)"
    ).fetchone()[0]
    assert joined > 800
    # Counted by a json scan: 10 "[Request interrupted by user for tool use]" text blocks and 17
    # rejected tool uses (12 "doesn't want to proceed", 2 of which give a reason; 2 "doesn't want to
    # take this action"; 3 replies typed into the IDE extension, 9e953218 00:01:48, 00:27:02, 00:28:53).
    kinds = dict(con.execute("SELECT kind, count(*) FROM session_events GROUP BY kind").fetchall())
    assert kinds["interrupt"] == 10
    assert kinds["rejection"] == 12 + 2 + 3
    reasons = con.execute("SELECT count(*) FROM session_events WHERE kind = 'rejection' AND prompt_length IS NOT NULL")
    assert reasons.fetchone()[0] == 2 + 3
    # Privacy by default: no prompt text stored.
    assert con.execute("SELECT count(*) FROM session_events WHERE prompt_text IS NOT NULL").fetchone()[0] == 0
    # Split responses flushed mid-stream are marked as estimated output.
    assert con.execute("SELECT count(*) FROM requests WHERE output_estimated").fetchone()[0] > 0
    # Project is the cwd, not the lossy folder name.
    assert con.execute("SELECT count(*) FROM requests WHERE project = '/Users/dain/workspace/JSSoundRecorder'").fetchone()[0] > 0
