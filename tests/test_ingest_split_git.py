"""A tool call and its result in two reads of one file (a scheduled run that read the file while the
agent was still writing, or two blocks of a large file): the edit lines and the commit evidence are
those one read of the whole file gives. The result's call is found again before the read's start
(ingest/look_back.py); these are real sessions from ../shared/corpus cut between call and result.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from agentledger.pipeline import scan_git
from ingest import look_back
from ingest.look_back import EarlierLines
from ingest.settings import IngestSettings
from store.db import connect_writer
from tests.helpers import ingest, shared_dir

CORPUS = shared_dir() / "corpus"
# A subagent of Claude Code 2.1.x whose edit results carry no toolUseResult: only the call's input
# says what the edit wrote.
SUBAGENT = (CORPUS / "iansherr__claude-code-log/test/test_data/real_projects/-experiments-worktrees"
            / "ef958aa1-0e93-49f0-bb71-150f63befcd1/subagents/agent-a4ca7529859c158c2.jsonl")
# The tokenizer session (Claude Code 2.0.5): it runs in danieldemmel.me-next and commits in
# online-llm-tokenizer through `cd /Users/dain/workspace/online-llm-tokenizer && git ... commit`.
TOKENIZER_PAIR = CORPUS / "pairs/daaain__online-llm-tokenizer"
TOKENIZER = (TOKENIZER_PAIR / "test/test_data/real_projects/-Users-dain-workspace-danieldemmel-me-next"
             / "9e953218-585f-4692-89df-9e0747a31c68.jsonl")
CODEX = CORPUS / "lanegrid__agtrace/crates/agtrace-providers/tests/samples/codex_session.jsonl"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside the checkout")

WRITE_ID = "toolu_01Sxwyy57Ha9MLKNsWRNXMKx"   # SUBAGENT line 31 (1-based), answered on line 32
COMMIT_ID = "toolu_01YFwKxYRDifwjHKMXxjf17b"  # TOKENIZER line 198: cd ... && git commit, [main 42b4429]


def _line_starts(data: bytes) -> list[int]:
    starts, at = [], 0
    for line in data.splitlines(keepends=True):
        starts.append(at)
        at += len(line)
    return starts


def _cut_before(data: bytes, needle: bytes) -> int:
    """Offset of the line that holds `needle` first (a tool result): the cut falls just before it."""
    at = data.index(needle)
    return data.rindex(b"\n", 0, at) + 1


def _git_rows(con) -> dict[str, list[tuple]]:
    return {
        "edit_lines": con.execute("SELECT tool_use_id, source, session_id, file_path, line_hash, lines FROM edit_lines"
                                  " ORDER BY ALL").fetchall(),
        "commit_evidence": con.execute("SELECT evidence_key, tool_use_id, source, session_id, ts, kind, sha, branch,"
                                       " subject, detail, dir FROM commit_evidence ORDER BY ALL").fetchall(),
    }


def _ingest_in_runs(tmp_path: Path, original: Path, relative: str, cuts: list[int], user: str, **options):
    """A ledger that read `original` as it grew: its first `cut` bytes, run after run, then all."""
    data = original.read_bytes()
    target = tmp_path / "logs" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    meta = original.with_name(original.name[: -len(".jsonl")] + ".meta.json")
    if meta.is_file():
        shutil.copy(meta, target.with_name(meta.name))
    con = connect_writer(tmp_path / f"ledger-{len(cuts)}.duckdb")
    for cut in [*cuts, len(data)]:
        target.write_bytes(data[:cut])
        ingest(con, tmp_path / "logs", user=user, **options)
    return con


def _whole_and_split(tmp_path: Path, original: Path, relative: str, marker: bytes, user: str):
    """Ledgers of `original` read in one run, and in two runs cut just before `marker`'s line."""
    cut = _cut_before(original.read_bytes(), marker)
    return (_ingest_in_runs(tmp_path / "whole", original, relative, [], user=user),
            _ingest_in_runs(tmp_path / "split", original, relative, [cut], user=user))


def test_a_claude_edit_answered_in_the_next_run_keeps_the_lines_its_input_wrote(tmp_path):
    relative = "p/ef958aa1-0e93-49f0-bb71-150f63befcd1/subagents/" + SUBAGENT.name
    whole, split = _whole_and_split(tmp_path, SUBAGENT, relative, b'"tool_use_id":"' + WRITE_ID.encode(), "ann")
    # The Write created a 106-line file: 89 non-blank lines, all distinct (worked out from its input).
    written = split.execute("SELECT count(*), sum(lines) FROM edit_lines WHERE tool_use_id = ?", [WRITE_ID]).fetchone()
    assert written == (89, 89)
    assert _git_rows(split) == _git_rows(whole)
    # ... and the lines count as written by a successful edit.
    assert split.execute("SELECT sum(lines_written) FROM edit_outcomes").fetchone() == \
        whole.execute("SELECT sum(lines_written) FROM edit_outcomes").fetchone()


def test_a_git_commit_answered_in_the_next_run_keeps_the_directory_it_ran_in(tmp_path):
    relative = "-Users-dain-workspace-danieldemmel-me-next/" + TOKENIZER.name
    whole, split = _whole_and_split(tmp_path, TOKENIZER, relative, b'"tool_use_id":"' + COMMIT_ID.encode(), "dain")
    evidence = split.execute("SELECT kind, sha, dir FROM commit_evidence WHERE tool_use_id = ? ORDER BY evidence_key",
                             [COMMIT_ID]).fetchall()
    # It printed the commit and its push; the cd prefix names the repository, not the message's cwd
    # (danieldemmel.me-next).
    tokenizer = "/Users/dain/workspace/online-llm-tokenizer"
    assert evidence == [("commit", "42b4429", tokenizer), ("push", "42b4429", tokenizer)]
    assert _git_rows(split) == _git_rows(whole)
    # Linked to git exactly as one read is: the scanned repository, its session root and its links.
    repo = tmp_path / "online-llm-tokenizer.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(TOKENIZER_PAIR / "daaain__online-llm-tokenizer.bundle"),
                    str(repo)], check=True)
    for con in (whole, split):
        scan_git(con, [repo])
    links = "SELECT session_id, repo_id, sha, printed_sha, signal, confidence, linked_at, evidence, landed FROM git_links ORDER BY ALL"
    roots = "SELECT session_id, root, mapped_by FROM session_repos ORDER BY ALL"
    assert split.execute(links).fetchall() == whole.execute(links).fetchall()
    assert split.execute(roots).fetchall() == whole.execute(roots).fetchall() == \
        [("9e953218-585f-4692-89df-9e0747a31c68", tokenizer, "commit evidence")]


def test_a_session_read_in_many_runs_and_in_small_blocks_gives_the_rows_of_one_read(tmp_path):
    # Cuts before the result of every edit and every git command of the tokenizer session, then the
    # whole file again in 16 KiB blocks: each block is a read that starts where the last stopped.
    data = TOKENIZER.read_bytes()
    wanted, cuts = set(), []
    for start, raw in zip(_line_starts(data), data.splitlines()):
        content = (json.loads(raw).get("message") or {}).get("content")
        for block in content if isinstance(content, list) else ():
            if block.get("type") == "tool_use" and (block["name"] in ("Edit", "Write", "MultiEdit")
                                                    or "git " in block["input"].get("command", "")):
                wanted.add(block["id"])
            elif block.get("type") == "tool_result" and block["tool_use_id"] in wanted:
                cuts.append(start)
    relative = "-Users-dain-workspace-danieldemmel-me-next/" + TOKENIZER.name
    whole = _ingest_in_runs(tmp_path / "whole", TOKENIZER, relative, [], user="dain")
    runs = _ingest_in_runs(tmp_path / "runs", TOKENIZER, relative, cuts, user="dain")
    blocks = _ingest_in_runs(tmp_path / "blocks", TOKENIZER, relative, [], user="dain",
                             settings=IngestSettings(read_block_bytes=16 * 1024))
    assert len(cuts) == 56  # 24 edits and 32 git commands
    expected = _git_rows(whole)
    # 6 printed commits and 7 pushes (submodule updates print a push again in danieldemmel.me-next).
    kinds = [row[5] for row in expected["commit_evidence"]]
    assert (kinds.count("commit"), kinds.count("push")) == (6, 7) and len(expected["edit_lines"]) > 0
    assert _git_rows(runs) == expected
    assert _git_rows(blocks) == expected


def test_a_codex_git_commit_answered_in_the_next_run_keeps_its_evidence(tmp_path):
    # The real rollout, then a commit the agent makes from its workdir through `cd myapp &&`, written
    # as the rollout writes its shell calls; the run reads up to the call, the next run the output.
    call_id = "call_Zq3commitHoge000000000"
    arguments = json.dumps({"command": 'cd myapp && git commit -am "Add hoge"', "workdir": "/Users/test_user/agent-sample"})
    tail = [
        {"timestamp": "2025-12-09T19:55:40.000Z", "type": "response_item",
         "payload": {"type": "function_call", "name": "shell_command", "arguments": arguments, "call_id": call_id}},
        {"timestamp": "2025-12-09T19:55:41.000Z", "type": "response_item",
         "payload": {"type": "function_call_output", "call_id": call_id,
                     "output": "Exit code: 0\nWall time: 0.1 seconds\nOutput:\n[main 5d6e7f8] Add hoge\n"
                               " 1 file changed, 1 insertion(+)\n create mode 100644 hoge.py\n"}},
    ]
    data = CODEX.read_bytes() + b"".join(json.dumps(item, separators=(",", ":")).encode() + b"\n" for item in tail)
    original = tmp_path / "codex.jsonl"
    original.write_bytes(data)
    relative = "sessions/2025/12/09/rollout-2025-12-09T19-55-00-019b0000.jsonl"
    whole, split = _whole_and_split(tmp_path, original, relative,
                                    b'"type":"function_call_output","call_id":"' + call_id.encode(), "ann")
    evidence = "SELECT kind, sha, branch, subject, dir FROM commit_evidence WHERE tool_use_id = ?"
    assert split.execute(evidence, [call_id]).fetchall() == \
        [("commit", "5d6e7f8", "main", "Add hoge", "/Users/test_user/agent-sample/myapp")]
    assert _git_rows(split) == _git_rows(whole)


def test_an_output_whose_call_is_in_no_earlier_line_records_what_it_did_before(tmp_path):
    # A Codex output that prints a commit, whose call id appears nowhere before it (a forged or cut
    # file): nothing to tie it to, so no evidence, in one read as in two.
    lines = CODEX.read_bytes()
    orphan = {"timestamp": "2025-12-09T19:55:41.000Z", "type": "response_item",
              "payload": {"type": "function_call_output", "call_id": "call_never_called",
                          "output": "Exit code: 0\nOutput:\n[main 5d6e7f8] Add hoge\n"}}
    data = lines + json.dumps(orphan).encode() + b"\n"
    original = tmp_path / "codex.jsonl"
    original.write_bytes(data)
    relative = "sessions/2025/12/09/rollout-2025-12-09T19-55-00-019b0000.jsonl"
    split = _ingest_in_runs(tmp_path / "split", original, relative, [len(lines)], user="ann")
    assert split.execute("SELECT count(*) FROM commit_evidence WHERE tool_use_id = 'call_never_called'").fetchone() == (0,)


# -- the backward search itself, on hostile files --------------------------------------------------

def _accept_json_with(key: str):
    def accept(raw: bytes):
        try:
            item = json.loads(raw)
        except ValueError:
            return None  # a broken line
        return item.get(key) if isinstance(item, dict) else None
    return accept


def test_the_search_passes_lines_that_only_mention_the_id_and_broken_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(look_back, "WINDOW", 64)  # windows far smaller than a line
    path = tmp_path / "f.jsonl"
    call = json.dumps({"call": "x1", "content": "y" * 500}) + "\n"  # a line longer than many windows
    mention = json.dumps({"text": "the call x1 was slow", "id": "x1"}) + "\n"
    broken = '{"id":"x1", "call": "tru\n'
    later = json.dumps({"after": 1}) + "\n"
    path.write_text(later + call + mention + broken + later)
    end = path.stat().st_size
    assert EarlierLines(path, end).find(b'"x1"', _accept_json_with("call")) == "x1"
    # Only what lies before the read's start is searched.
    assert EarlierLines(path, len(later)).find(b'"x1"', _accept_json_with("call")) is None


def test_an_id_in_no_line_costs_at_most_the_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(look_back, "WINDOW", 1024)
    path = tmp_path / "f.jsonl"
    filler = (json.dumps({"n": "z" * 90}) + "\n").encode()
    path.write_bytes(json.dumps({"call": "x1"}).encode() + b"\n" + filler * 1000)  # 100 kB after the call
    end = path.stat().st_size
    assert EarlierLines(path, end).find(b'"x1"', _accept_json_with("call")) == "x1"
    search = EarlierLines(path, end, budget=10_000)
    assert search.find(b'"x1"', _accept_json_with("call")) is None  # the call lies beyond the budget
    assert search.budget <= 0
    assert search.find(b'"x9"', _accept_json_with("call")) is None  # spent: nothing more is read
    # A file gone between the reads, and a read that starts at 0, find nothing and fail nothing.
    assert EarlierLines(tmp_path / "gone.jsonl", 100).find(b'"x1"', _accept_json_with("call")) is None
    assert EarlierLines(path, 0).find(b'"x1"', _accept_json_with("call")) is None
