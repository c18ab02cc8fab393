"""Odd file names through the walk and the manifest: names with quotes, commas, line breaks, a
carriage return, spaces at the ends, and a name that is not UTF-8 are new, then unchanged, then
missing, then back, then changed, exactly as any other file; by a walk in the run and by one in
forked children alike."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.claude_lines import assistant, prompt, text, usage, write_jsonl
from tests.helpers import ingest

T0 = "2026-03-01T10:00:00.000Z"
ODD_NAMES = ['we"ird.jsonl', "com,ma.jsonl", "new\nline.jsonl", "cr\r.jsonl", 'all "of,\n it".jsonl',
             " spaced .jsonl", "plain.jsonl"]


def _tree(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(the PATH, the file removed and put back, the file grown): 7 odd names and one not UTF-8."""
    logs = tmp_path / "logs"
    for n, name in enumerate(ODD_NAMES):
        write_jsonl(logs / "ann" / "p" / name, [prompt(T0, "hi"), assistant(T0, f"m{n}", f"r{n}", usage(1, 2, 3, 4), [text()])])
    bad = Path(os.fsdecode(bytes(logs / "ann" / "p") + b"/bad\xff.jsonl"))
    write_jsonl(bad, [prompt(T0, "hi"), assistant(T0, "m9", "r9", usage(1, 2, 3, 4), [text()])])
    return logs, logs / "ann" / "p" / "new\nline.jsonl", logs / "ann" / "p" / "com,ma.jsonl"


def _counts(summary) -> tuple[int, int, int, int, int]:
    return summary.files_new, summary.files_changed, summary.files_unchanged, summary.files_missing, summary.lines


def test_odd_names_go_through_the_manifest_as_any_other_file(tmp_path, ledger):
    logs, gone, grown = _tree(tmp_path)
    assert _counts(ingest(ledger, logs)) == (8, 0, 0, 0, 16)
    assert _counts(ingest(ledger, logs)) == (0, 0, 8, 0, 0)
    saved, stat = gone.read_bytes(), gone.stat()
    gone.unlink()
    assert _counts(ingest(ledger, logs)) == (0, 0, 7, 1, 0)
    assert ledger.execute("SELECT path FROM source_files WHERE missing").fetchall() == [(str(gone),)]
    assert _counts(ingest(ledger, logs)) == (0, 0, 7, 0, 0)  # marked once, not counted again
    gone.write_bytes(saved)  # put back as it was: found unchanged, no longer missing, not read again
    os.utime(gone, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _counts(ingest(ledger, logs)) == (0, 0, 8, 0, 0)
    assert ledger.execute("SELECT count(*) FROM source_files WHERE missing").fetchone() == (0,)
    with grown.open("a") as out:
        out.write('{"type": "user", "timestamp": "2026-03-01T10:01:00.000Z", "message": {"role": "user", "content": "more"}}\n')
    assert _counts(ingest(ledger, logs)) == (0, 1, 7, 0, 1)
    keys = {row[0] for row in ledger.execute("SELECT path FROM source_files").fetchall()}
    assert keys == {str(logs / "ann" / "p" / name) for name in ODD_NAMES} | {str(logs / "ann" / "p") + "/bad\\xff.jsonl"}


def test_odd_names_go_through_the_manifest_after_a_forked_walk(tmp_path):
    logs, gone, _ = _tree(tmp_path)
    db = tmp_path / "l.duckdb"
    code = textwrap.dedent(f"""
        import sys
        import ingest.discovery as d
        d._cores_idle = lambda: True  # as on an idle machine, whatever the load
        real = d.prefetch
        def watched(*args):
            started = real(*args)
            print("prefetch", started)
            return started
        d.prefetch = watched
        import agentledger.cli
        sys.argv = ["agentledger", "ingest", {str(logs)!r}, "--user-from-dir", "--db", {str(db)!r}, "--no-progress"]
        print(agentledger.cli.run())
    """)

    def run() -> list[str]:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                                cwd=Path(__file__).parent.parent)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    assert run()[:2] == ["prefetch True", "ingest run 1: 8 files (8 new, 0 changed, 0 unchanged, 0 missing, 0 failed, "
                                           "0 not logs), 16 lines, 8 new requests (0 updated), 0 tool calls, 0 API errors, "
                                           "0 rejects, 0 unknown record types, 0 unknown fields"]
    assert "8 files (0 new, 0 changed, 8 unchanged, 0 missing" in run()[1]
    saved, stat = gone.read_bytes(), gone.stat()
    gone.unlink()
    assert "7 files (0 new, 0 changed, 7 unchanged, 1 missing" in run()[1]
    gone.write_bytes(saved)
    os.utime(gone, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert "8 files (0 new, 0 changed, 8 unchanged, 0 missing" in run()[1]

