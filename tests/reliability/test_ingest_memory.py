"""A large transcript is read in bounded blocks: peak memory does not grow with the file's size
(a 208 MB transcript used to peak at 945 MB, about 4.5x the file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MB = 1024 * 1024


def _transcript(path: Path, megabytes: int) -> Path:
    """A request every 50 lines, between file-history snapshots of 8 KB: big transcripts are big
    because of what the agent read and wrote, not because of their requests. The ledger stays
    small, so what grows with the file is only what reading it costs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    snapshot = json.dumps({"type": "file-history-snapshot", "messageId": "m", "snapshot": {"x": "y" * 8000}})
    with path.open("w") as handle:
        i = 0
        while handle.tell() < megabytes * MB:
            if i % 50 == 0:
                ts = f"2026-03-01T10:{i // 3000 % 60:02d}:{i // 50 % 60:02d}.000Z"
                handle.write(json.dumps({
                    "type": "assistant", "sessionId": "s1", "uuid": f"a{i}", "timestamp": ts, "requestId": f"req_{i}",
                    "message": {"id": f"msg_{i}", "model": "claude-sonnet-4-5", "stop_reason": "end_turn",
                                "usage": {"input_tokens": 1, "output_tokens": 2}, "content": []},
                }) + "\n")
            handle.write(snapshot + "\n")
            i += 1
    return path


# The load alone (the refresh that follows it has its own, larger, peak): peak RSS in MB of the
# process and of its worker processes, whichever was larger.
_LOAD = """
import resource, sys
from pathlib import Path
from ingest.runner import IngestOptions, run_ingest
from store.db import connect_writer
con = connect_writer(sys.argv[2])
run_ingest(con, IngestOptions(paths=[Path(sys.argv[1])], user="al", progress=False))
peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print(peak / 1024)
"""


def _peak_mb(logs: Path, db: Path, workers: bool) -> float:
    env = dict(os.environ, AGENTLEDGER_READ_BLOCK_BYTES=str(1 * MB), AGENTLEDGER_BATCH_BYTES=str(2 * MB),
               AGENTLEDGER_PARALLEL_MIN_BYTES=str(0 if workers else 1 << 40))
    result = subprocess.run([sys.executable, "-c", _LOAD, str(logs), str(db)], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return float(result.stdout.split()[-1])


def _split(path: Path, folder: Path, parts: int) -> None:
    """The same lines as `path`, in `parts` files cut at line ends."""
    lines = path.read_bytes().splitlines(keepends=True)
    step = -(-len(lines) // parts)
    for n in range(parts):
        target = folder / "p" / f"part{n}.jsonl"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"".join(lines[n * step:(n + 1) * step]))


@pytest.mark.parametrize("workers", [False, True], ids=["in-process", "worker processes"])
def test_peak_memory_does_not_grow_with_the_size_of_a_transcript(tmp_path, workers):
    # The same 160 MB of lines as one file and as twenty files of 8 MB: the ledgers are the same,
    # so whatever the database needs is the same, and any difference is the file's size.
    whole = _transcript(tmp_path / "whole" / "p" / "s.jsonl", 160)
    _split(whole, tmp_path / "split", 20)
    split = _peak_mb(tmp_path / "split", tmp_path / "split.duckdb", workers)
    one = _peak_mb(tmp_path / "whole", tmp_path / "whole.duckdb", workers)
    # Reading a file whole held it three times over (bytes, a copy, its lines): +300 MB here.
    assert one - split < 32, f"peak {split:.0f} MB for 20 files of 8 MB, {one:.0f} MB for one file of 160 MB"
