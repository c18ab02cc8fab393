"""Discovery started ahead in a forked child (ingest/discovery.py): the run gets exactly what its own
walk would have found, falls back to walking itself when the child fails, and a CLI ingest starts
the walk before it loads DuckDB. Each check runs in a process of its own: a fork needs a
single-threaded process, which a test process (DuckDB's threads) is not."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.claude_lines import assistant, prompt, text, usage, write_jsonl

T0 = "2026-03-01T10:00:00.000Z"


def _odd_tree(tmp_path: Path) -> tuple[Path, Path]:
    """Two PATHs: a folder of users holding logs, odd names, a FIFO, links in and out, a sidecar,
    a stranger; and a single log file given as a PATH of its own."""
    logs = tmp_path / "logs"
    line = [prompt(T0, "hi"), assistant(T0, "m1", "r1", usage(1, 2, 3, 4), [text()])]
    for user in ("ann", "bob", "cy", "dee"):
        for project in ("p1", "p2"):
            write_jsonl(logs / user / project / "s.jsonl", line)
            write_jsonl(logs / user / project / "deep" / "more" / "t.jsonl", line)
    write_jsonl(Path(os.fsdecode(bytes(logs / "ann" / "p1") + b"/bad\xff.jsonl")), line)
    os.mkfifo(logs / "bob" / "p1" / "fifo.jsonl")
    write_jsonl(tmp_path / "outside" / "secret.jsonl", line)
    (logs / "cy" / "p1" / "out.jsonl").symlink_to(tmp_path / "outside" / "secret.jsonl")
    (logs / "cy" / "p1" / "in.jsonl").symlink_to(logs / "cy" / "p1" / "s.jsonl")
    (logs / "dee" / "p1" / "s.meta.json").write_text("{}")
    (logs / "README.md").write_text("not a log")
    write_jsonl(logs / "at-root.jsonl", line)
    single = write_jsonl(tmp_path / "single.jsonl", line)
    return logs, single


def _run(code: str) -> list[str]:
    """`code` in a fresh interpreter, after the imports every check uses; its printed lines."""
    prelude = ("import os, sys\nfrom pathlib import Path\nimport ingest.discovery as d\n"
               "real_cores_idle, d._cores_idle = d._cores_idle, lambda: True  # as on an idle machine, whatever the load\n"
               "def shown(found):\n"
               "    return sorted(found.files), sorted((p.path, str(p.root), p.problem, p.failed) for p in found.problems)\n")
    result = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=120, cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_the_walk_started_ahead_finds_what_the_run_would_have_found(tmp_path):
    logs, single = _odd_tree(tmp_path)
    lines = _run(f"""
        roots = [Path({str(logs)!r}), Path({str(single)!r})]
        print(d.prefetch(roots, "auto", False), d.walking_ahead(roots, "auto", False))
        real_matcher = d._name_matcher
        def walked_here(wanted):
            raise AssertionError("walked in the parent")
        d._name_matcher = walked_here  # the child, forked before, walks with the real one
        ahead = d.discover(roots, "auto", False)
        d._name_matcher = real_matcher
        print(d.walking_ahead(roots, "auto", False))
        here = d.discover(roots, "auto", False)
        print(shown(ahead) == shown(here), len(here.files), len(here.problems))
        print(sorted(p.problem.split(":")[0] for p in ahead.problems))
        parts = [d.discover(roots, "auto", False, (k, 3)) for k in range(3)]
        print(sorted(f for part in parts for f in part.files) == sorted(here.files),
              sum(len(part.files) for part in parts), sum(len(part.problems) for part in parts))
    """)
    assert lines[0] == "True True"
    assert lines[1] == "False"  # taken once
    # 4 users x 2 projects x 2 logs, the non-UTF-8 name, the link within the tree, the log at the
    # root and the single file; the FIFO and the link out reported, the sidecar and the stranger not.
    assert lines[2] == "True 20 2"
    assert lines[3] == "['a link to " + str(tmp_path / "outside" / "secret.jsonl") + ", outside " + str(logs) + "', 'not a regular file (a FIFO, socket or device)']"
    # Walked in parts (the users' folders shared out by name), each file is found once.
    assert lines[4] == "True 20 2"


def test_a_child_that_fails_leaves_the_walk_to_the_run(tmp_path):
    logs, _ = _odd_tree(tmp_path)
    lines = _run(f"""
        roots = [Path({str(logs)!r})]
        class Broken:
            @staticmethod
            def dumps(value):
                raise MemoryError("the child cannot send")
        real = d.marshal
        d.marshal = Broken
        print(d.prefetch(roots, "auto", False))
        ahead = d.discover(roots, "auto", False)
        d.marshal = real
        print(shown(ahead) == shown(d.discover(roots, "auto", False)), len(ahead.files))
    """)
    assert lines == ["True", "True 19"]


def test_a_walk_started_for_other_paths_is_dropped_without_waiting_for_it(tmp_path):
    logs, single = _odd_tree(tmp_path)
    lines = _run(f"""
        import time
        print(d.prefetch([Path({str(logs)!r})], "auto", False))
        real_discover = d.discover
        for pid, _ in d._ahead.children:
            os.kill(pid, 19)  # SIGSTOP: children that would never finish
        other = d.discover([Path({str(single)!r})], "auto", False)
        print(len(other.files), d._ahead is None)
        try:
            os.waitpid(-1, os.WNOHANG)
            print("a child is left")
        except ChildProcessError:
            print("no child left")
    """)
    assert lines == ["True", "1 True", "no child left"]


def test_a_cli_ingest_starts_the_walk_before_it_loads_duckdb(tmp_path):
    logs, _ = _odd_tree(tmp_path)
    db = tmp_path / "l.duckdb"
    code = f"""
        import agentledger.cli
        real = d.prefetch
        def watched(*args):
            started = real(*args)
            print("prefetch", started, "duckdb" in sys.modules)
            return started
        d.prefetch = watched
        sys.argv = ["agentledger", "ingest", {str(logs)!r}, "--user-from-dir", "--db", {str(db)!r}, "--no-progress"]
        print(agentledger.cli.run())
    """
    first = _run(code)
    again = _run(code)
    assert first[0] == again[0] == "prefetch True False"  # started, and DuckDB not loaded yet
    assert first[-1] == again[-1] == "0"
    # The same counts as a walk in the run itself would give (the log at the root has no user folder).
    assert "19 files (18 new, 0 changed, 0 unchanged, 0 missing, 1 failed, 2 not logs)" in first[1]
    assert "19 files (0 new, 0 changed, 18 unchanged, 0 missing, 1 failed, 2 not logs)" in again[1]


def test_the_cli_spells_the_database_variable_as_the_store_does():
    from agentledger.commands.common import DB_ENV_VAR
    from store.db import DB_ENV_VAR as STORE_DB_ENV_VAR

    assert DB_ENV_VAR == STORE_DB_ENV_VAR


def test_a_cli_run_that_fails_before_it_walks_leaves_no_walk_for_the_next(tmp_path):
    logs, _ = _odd_tree(tmp_path)
    lines = _run(f"""
        from agentledger.cli import main
        code = main(["ingest", {str(logs)!r}, {str(tmp_path / "no-such-folder")!r}, "--user", "al",
                     "--db", {str(tmp_path / "l.duckdb")!r}])
        print(code, d._ahead is None)
        try:
            os.waitpid(-1, os.WNOHANG)
            print("a child is left")
        except ChildProcessError:
            print("no child left")
    """)
    assert lines == ["2 True", "no child left"]


def test_no_walk_is_started_ahead_while_no_core_is_idle(tmp_path):
    """Idle: the last minute's load below the cores, or, as that average lags, fewer tasks running
    at this instant (this process aside) than cores."""
    logs, _ = _odd_tree(tmp_path)
    lines = _run(f"""
        d._cores_idle = lambda: False
        print(d.prefetch([Path({str(logs)!r})], "auto", False), d._ahead is None)
        os.getloadavg = lambda: (64.0, 64.0, 64.0)
        d._running_now = lambda: 9  # busy now: nine tasks want the cores
        print(real_cores_idle())
        d._running_now = lambda: 1  # the average still counts a job that has ended: only this run is running
        print(real_cores_idle())
        os.getloadavg = lambda: (0.0, 0.0, 0.0)
        print(real_cores_idle())
    """)
    assert lines == ["False True", "False", "True", "True"]


def test_each_part_of_the_walk_is_claimed_once_whoever_claims_it(tmp_path):
    """The children take parts from one pipe: parts taken by one claimer are never walked by another,
    and all of them together are the whole walk, each file once."""
    from ingest import discovery as d

    logs, single = _odd_tree(tmp_path)
    roots = [logs, single]
    whole = d.discover(roots, "auto", False, (0, 1))
    claims = d._claims(5)
    try:
        first = [os.read(claims, 1)[0] for _ in range(2)]  # another child took two parts
        by_hand = [d.discover(roots, "auto", False, (k, 5)) for k in first]
        rest = d.walk_claimed(roots, "auto", False, claims, 5)  # this one takes what is left
        left = d.walk_claimed(roots, "auto", False, claims, 5)  # a late child finds nothing
    finally:
        os.close(claims)
    assert first == [0, 1]
    files = [f for part in [*by_hand, rest] for f in part.files]
    assert len(files) == len(whole.files) == 20
    assert sorted(files) == sorted(whole.files)
    assert sum(len(part.problems) for part in [*by_hand, rest]) == len(whole.problems) == 2
    assert left.files == [] and left.problems == []
