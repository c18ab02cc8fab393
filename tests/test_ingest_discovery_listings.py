"""Listings of folders kept from earlier walks (ingest/discovery.py, _Listings): a walk that takes
a folder's entries from them finds exactly what listing it would have found, and a listing is
taken only while the folder is as it was listed; a new, removed or replaced file, a listing kept
under another stamp, a folder listed before it settled, a broken or foreign file of listings:
none can hide a file."""

from __future__ import annotations

import marshal
import os
import shutil
import time
from pathlib import Path

import pytest

import ingest.discovery as d
from tests.claude_lines import assistant, prompt, text, usage, write_jsonl
from tests.test_ingest_discovery import _odd_tree

T0 = "2026-03-01T10:00:00.000Z"
LINE = [prompt(T0, "hi"), assistant(T0, "m1", "r1", usage(1, 2, 3, 4), [text()])]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """Listings kept under the test's own folder, and trusted as soon as a folder's ctime is older
    than the walk (the clock's tick is waited out below, not the two seconds)."""
    home = tmp_path / "walk"
    monkeypatch.setenv(d.WALK_CACHE_ENV, str(home))
    monkeypatch.setattr(d, "SETTLED_NS", 0)
    return home


@pytest.fixture
def listed(monkeypatch) -> list[str]:
    """The folders a walk lists with os.scandir (the others' entries come from kept listings)."""
    folders: list[str] = []
    real = os.scandir

    def scandir(path):
        folders.append(str(path))
        return real(path)

    monkeypatch.setattr(d.os, "scandir", scandir)
    return folders


def _shown(found: d.Discovered):
    return sorted(found.files), sorted((p.path, str(p.root), p.problem, p.failed) for p in found.problems)


def _settle():
    time.sleep(0.05)  # past the file system clock's tick: a later change gets a later ctime


def _walk(root: Path, part=(0, 1)) -> d.Discovered:
    return d.discover([root], "auto", False, part)


def test_a_walk_from_kept_listings_finds_what_listing_finds(tmp_path, home, listed, monkeypatch):
    logs, _ = _odd_tree(tmp_path)
    _settle()
    monkeypatch.setenv(d.WALK_CACHE_ENV, "")
    fresh = _shown(_walk(logs))  # no listings kept at all
    monkeypatch.setenv(d.WALK_CACHE_ENV, str(home))
    assert _shown(_walk(logs)) == fresh  # keeps them
    listed.clear()
    again = _walk(logs)
    assert _shown(again) == fresh
    # 4 users x 2 projects x 2 logs, the non-UTF-8 name, the link within the tree, the log at the root.
    assert len(again.files) == 19 and len(again.problems) == 2
    # Listed again: the PATH itself, and the two folders holding a link or a FIFO (never kept); the
    # users' other 26 folders came from their listings.
    assert sorted(listed) == sorted([str(logs), str(logs / "bob" / "p1"), str(logs / "cy" / "p1")])
    assert len(list(home.iterdir())) == 4  # one file a folder right under the PATH
    # Walked in parts, each part keeps and takes the listings of its own users' folders.
    parts = [_walk(logs, (k, 3)) for k in range(3)]
    assert sorted(f for part in parts for f in part.files) == sorted(again.files)
    assert sum(len(part.problems) for part in parts) == 2


def test_a_file_added_removed_or_replaced_in_a_kept_folder_is_seen(tmp_path, home, listed):
    logs = tmp_path / "logs"
    folder = logs / "ann" / "p1"
    write_jsonl(folder / "a.jsonl", LINE)
    write_jsonl(folder / "b.jsonl", LINE)
    _settle()
    _walk(logs)
    listed.clear()
    assert len(_walk(logs).files) == 2
    assert listed == [str(logs)]  # ann and p1 from their listings
    # A file that only grew changes no folder: its listing is taken, and its size is stat-ed afresh.
    with open(folder / "b.jsonl", "a") as handle:
        handle.write("\n")
    listed.clear()
    assert [f[2] for f in _walk(logs).files if f[0].endswith("b.jsonl")] == [(folder / "b.jsonl").stat().st_size]
    assert listed == [str(logs)]
    _settle()
    write_jsonl(folder / "new.jsonl", LINE)
    assert sorted(Path(f[0]).name for f in _walk(logs).files) == ["a.jsonl", "b.jsonl", "new.jsonl"]
    _settle()
    (folder / "a.jsonl").unlink()
    assert sorted(Path(f[0]).name for f in _walk(logs).files) == ["b.jsonl", "new.jsonl"]
    _settle()
    (folder / "b.jsonl").unlink()
    write_jsonl(tmp_path / "elsewhere.jsonl", LINE)
    (folder / "b.jsonl").symlink_to(tmp_path / "elsewhere.jsonl")  # a link out, in b's place
    found = _walk(logs)
    assert [Path(f[0]).name for f in found.files] == ["new.jsonl"]
    assert [p.problem.split(":")[0] for p in found.problems] == [f"a link to {tmp_path / 'elsewhere.jsonl'}, outside {logs}"]


def test_a_listing_kept_under_another_stamp_is_never_taken(tmp_path, home, listed):
    """A file of listings that says the folder holds only a.jsonl, under any stamp but the folder's
    own, is not believed: b.jsonl is found."""
    logs = tmp_path / "logs"
    folder = logs / "ann"
    write_jsonl(folder / "a.jsonl", LINE)
    write_jsonl(folder / "b.jsonl", LINE)
    _settle()
    _walk(logs)
    (file,) = home.iterdir()
    tree, kept = marshal.loads(file.read_bytes())
    assert tree == str(folder) and sorted(kept[str(folder)][2]) == ["a.jsonl", "b.jsonl"]
    info = os.lstat(folder)
    real = (info.st_dev, info.st_ino, info.st_ctime_ns, info.st_mtime_ns)
    for i in range(4):  # another device, inode, ctime or mtime
        other = tuple(v - 1 if j == i else v for j, v in enumerate(real))
        file.write_bytes(marshal.dumps((tree, {str(folder): (other, [], ["a.jsonl"])})))
        listed.clear()
        assert sorted(Path(f[0]).name for f in _walk(logs).files) == ["a.jsonl", "b.jsonl"], i
        assert str(folder) in listed
    # Under the folder's own stamp the listing is what the folder held when it was taken: believed.
    file.write_bytes(marshal.dumps((tree, {str(folder): (real, [], ["a.jsonl"])})))
    assert [Path(f[0]).name for f in _walk(logs).files] == ["a.jsonl"]


def test_a_folder_changed_just_before_it_was_listed_is_listed_again(tmp_path, monkeypatch, listed):
    """With the real margin, a folder whose ctime is younger than SETTLED_NS when listed is not
    kept: a second change within the same tick of the clock would leave its ctime as it was."""
    monkeypatch.setenv(d.WALK_CACHE_ENV, str(tmp_path / "walk"))
    logs = tmp_path / "logs"
    write_jsonl(logs / "ann" / "a.jsonl", LINE)
    _walk(logs)
    listed.clear()
    _walk(logs)
    assert listed == [str(logs), str(logs / "ann")]
    (file,) = (tmp_path / "walk").iterdir()
    assert marshal.loads(file.read_bytes()) == (str(logs / "ann"), {})


@pytest.mark.parametrize("content", [b"", b"\x00garbage", marshal.dumps(["not", "a", "tree"]),
                                     marshal.dumps(("/some/other/tree", {}))])
def test_a_broken_or_foreign_file_of_listings_only_costs_the_listing(tmp_path, home, listed, content):
    logs = tmp_path / "logs"
    write_jsonl(logs / "ann" / "a.jsonl", LINE)
    _settle()
    _walk(logs)
    (file,) = home.iterdir()
    file.write_bytes(content)
    listed.clear()
    assert [Path(f[0]).name for f in _walk(logs).files] == ["a.jsonl"]
    assert listed == [str(logs), str(logs / "ann")]
    assert marshal.loads(file.read_bytes())[0] == str(logs / "ann")  # written anew


def test_listings_that_cannot_be_written_leave_the_walk_as_it_is(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv(d.WALK_CACHE_ENV, str(blocker / "walk"))  # under a file: never a folder
    monkeypatch.setattr(d, "SETTLED_NS", 0)
    logs = tmp_path / "logs"
    write_jsonl(logs / "ann" / "a.jsonl", LINE)
    _settle()
    assert [Path(f[0]).name for f in _walk(logs).files] == ["a.jsonl"]
    assert [Path(f[0]).name for f in _walk(logs).files] == ["a.jsonl"]


def test_no_listings_are_kept_when_links_are_followed_or_none_are_wanted(tmp_path, home, monkeypatch):
    logs = tmp_path / "logs"
    write_jsonl(logs / "ann" / "a.jsonl", LINE)
    _settle()
    d.discover([logs], "auto", True)
    assert not home.exists()
    monkeypatch.setenv(d.WALK_CACHE_ENV, "")
    _walk(logs)
    assert not home.exists()


def _age(path: Path, seconds: float) -> int:
    """Give `path` an mtime `seconds` ago; returns it."""
    mtime_ns = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return mtime_ns


def test_listings_no_walk_took_for_kept_days_are_removed(tmp_path, home):
    logs = tmp_path / "logs"
    write_jsonl(logs / "ann" / "a.jsonl", LINE)
    write_jsonl(logs / "bob" / "a.jsonl", LINE)
    _settle()
    _walk(logs)
    ann, bob = (Path(d._Listings(str(home), str(logs / user)).file) for user in ("ann", "bob"))
    assert sorted(home.iterdir()) == sorted([ann, bob])
    long_ago = (d.KEPT_DAYS + 1) * 86_400
    # Taken within the day: not written again (a run a minute costs no write a minute).
    taken = _age(ann, 3600)
    _walk(logs)
    assert ann.stat().st_mtime_ns == taken
    # bob left; a tree gone long ago, a killed walk's scratch copy, and a file not of listings.
    shutil.rmtree(logs / "bob")
    for name in ("0123456789ab.walk", f"{ann.name}.4242", "notes.txt"):
        (home / name).write_bytes(b"")
    for path in home.iterdir():
        _age(path, long_ago)
    _walk(logs)
    # ann's tree is walked: its file, untouched for as long, is taken and kept; the rest is removed.
    assert sorted(home.iterdir()) == sorted([ann, home / "notes.txt"])
    assert ann.stat().st_mtime_ns > time.time_ns() - 60e9 and marshal.loads(ann.read_bytes())[0] == str(logs / "ann")
