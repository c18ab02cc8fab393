"""Discovery: which files under the PATHs an ingest run decides about, each stat-ed once.

Every run must stat every file (an append changes no folder's mtime): tens of thousands of stats
at an org's collector, most of a scheduled no-op's time. `prefetch` lets the CLI start that walk in
forked children before it imports DuckDB and opens the ledger, so the walk and the start-up run on
both cores at once; `discover` then takes the children's answer (or walks itself when there is none).
This module imports nothing heavy, so that the forks happen before anything heavy is loaded.
"""

from __future__ import annotations

import marshal
import os
import re
import signal
import stat
import time
import zlib
from dataclasses import dataclass, field
from fnmatch import translate
from marshal import dumps as listings_bytes, loads as listings_of  # the listings' own file format
from pathlib import Path
from typing import Callable

from ingest.manifest import read_record, record
from ingest.sources import SOURCES

# Metadata files read alongside the logs they describe, never as logs of their own.
SIDECAR_SUFFIXES = (".meta.json",)


def absolute_paths(paths: list) -> list[Path]:
    """The PATHs as a run walks them (ingest.runner.prepare, and prefetch's callers)."""
    return [Path(p).expanduser().absolute() for p in paths]


def ledger_key(path: str) -> str:
    """How the ledger names a file: its path, with bytes that are not UTF-8 written as \\xNN (a
    name like bad\\xff.jsonl is legal on disk but cannot be stored as text)."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Found:
    """A file discovery will not read, with why: skipped (a link out of the PATH, a FIFO), or
    failed (it could not even be stat-ed: the next run retries)."""

    path: str
    root: Path
    problem: str
    failed: bool = False


@dataclass
class Discovered:
    """What discovery found under the PATHs: the regular files to decide about, and the others.
    A file goes in as its record (ingest.manifest.record: size, mtime and name in one string; tens
    of thousands at an org's collector, one string each and nothing more), grouped by the PATH it
    was found under, for the run to compare with the manifest's records set-wise. A file named in
    bytes that are not UTF-8 (its ledger key is not its name) is kept as a tuple instead."""

    records: dict[int, list[str]] = field(default_factory=dict)     # PATH index -> records of its files
    odd: list[tuple[str, int, int, int]] = field(default_factory=list)  # (path, PATH index, size, mtime_ns)
    problems: list[Found] = field(default_factory=list)

    @classmethod
    def of(cls, files: list[tuple[str, int, int, int]], problems: list[Found]) -> Discovered:
        """From (path, PATH index, size, mtime_ns) tuples."""
        found = cls(problems=list(problems))
        for file in files:
            found.add(*file)
        return found

    def add(self, path: str, index: int, size: int, mtime_ns: int) -> None:
        if path.isascii() or ledger_key(path) == path:
            self.records.setdefault(index, []).append(record(path, size, mtime_ns))
        else:
            self.odd.append((path, index, size, mtime_ns))

    @property
    def files(self) -> list[tuple[str, int, int, int]]:
        """(path, PATH index, size, mtime_ns) of every regular file found (made on demand: --reread, shards)."""
        files = []
        for index, records in self.records.items():
            for text in records:
                path, size, mtime_ns = read_record(text)
                files.append((path, index, size, mtime_ns))
        return files + self.odd

    def extend(self, other: Discovered) -> None:
        for index, records in other.records.items():
            self.records.setdefault(index, []).extend(records)
        self.odd += other.odd
        self.problems += other.problems


def discover(roots: list[Path], wanted: str, follow_symlinks: bool = False, part: tuple[int, int] = (0, 1)) -> Discovered:
    """Every file under each root that some source's name patterns match, stat-ed once (by the
    folder listing that found it: the one system call an unchanged file costs). A link leading out
    of its root is reported, not followed, unless `follow_symlinks`; a file that is not a regular
    file, or cannot be stat-ed, is reported too. Linked folders are entered only with
    `follow_symlinks`, each real folder once (a link cycle ends). Takes the walk prefetch() started
    for the same arguments, if any. `part` (k, n): only part k of n of the walk (the folders right
    under each root shared out by name, all else in part 0), for n children to walk at once."""
    if part == (0, 1):
        found = _taken(roots, wanted, follow_symlinks)
        if found is not None:
            return found  # walked by children started ahead (prefetch), just now
    k, n = part
    matches = _name_matcher(wanted)
    found = Discovered()
    home = None if follow_symlinks else _listings_home()
    for index, root in enumerate(roots):
        if not root.is_dir():
            if k == 0:
                _stat_one(found, str(root), index, root)
            continue
        records = found.records.setdefault(index, [])
        inside = os.path.realpath(root)
        stack, visited = [str(root)], {inside}
        top = n > 1
        tops: set[str] = set()         # the folders right under the root (each kept listings of its own)
        tree: _Listings | None = None  # those of the top folder being walked (depth first: one at a time)
        while stack:
            folder = stack.pop()
            stamp = None
            if home is not None and folder in tops:
                if tree is not None:
                    tree.save()
                tree = _Listings(home, folder)
            if tree is not None:
                kept, stamp = tree.listed(folder)
                if kept is not None:  # unchanged since it was listed: only its files' stat calls
                    dirs, names = kept
                    prefix = folder + "/"
                    stack.extend([prefix + name for name in dirs])
                    _stat_kept(found, records, prefix, names, matches, index, root)
                    continue
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue  # unreadable or vanished meanwhile: os.walk's choice too
            if top:  # the root's own listing, shared out
                top = False
                entries = [entry for entry in entries if (_part_of(entry.name, n) == k if entry.is_dir(follow_symlinks=False)
                                                          else k == 0)]
                if home is not None:
                    tops = {entry.path for entry in entries if entry.is_dir(follow_symlinks=False)}
            elif home is not None and folder == str(root):
                tops = {entry.path for entry in entries if entry.is_dir(follow_symlinks=False)}
            if tree is not None:
                tree.keep(folder, stamp, entries)
            for entry in entries:
                # The common case, a regular file (not a link), costs one type test before its name's.
                link = False
                if not entry.is_file(follow_symlinks=False):
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                        continue
                    link = entry.is_symlink()
                    if link and follow_symlinks and entry.is_dir():
                        real = os.path.realpath(entry.path)
                        if real not in visited:
                            visited.add(real)
                            stack.append(entry.path)
                        continue
                name = entry.name
                if not matches(name) or name.endswith(SIDECAR_SUFFIXES):
                    continue
                if link and not follow_symlinks and not _within(os.path.realpath(entry.path), inside):
                    found.problems.append(Found(
                        entry.path, root, f"a link to {ledger_key(os.path.realpath(entry.path))}, outside "
                        f"{ledger_key(str(root))}: not followed (--follow-symlinks reads it)"))
                    continue
                try:
                    info = entry.stat()
                except OSError:
                    _stat_one(found, entry.path, index, root)  # says why, in the one place that does
                    continue
                _add_stat_ed(found, records, entry.path, info, index, root)
        if tree is not None:
            tree.save()
    if home is not None and k == 0:
        _sweep(home)
    return found


_FILE_TYPE, _REGULAR = stat.S_IFMT(0o177777), stat.S_IFREG


def _stat_kept(found: Discovered, records: list[str], prefix: str, names: list[str],
               matches: Callable[[str], bool], index: int, root: Path) -> None:
    """The files of a folder taken from its kept listing (`names`, each after `prefix`), stat-ed into
    `found` (`records`: those of the PATH `index`) as a listing would have found them."""
    for name in names:
        if not matches(name) or name.endswith(SIDECAR_SUFFIXES):
            continue
        path = prefix + name
        try:
            info = os.stat(path)
        except OSError:
            _stat_one(found, path, index, root)
            continue
        _add_stat_ed(found, records, path, info, index, root)


def _add_stat_ed(found: Discovered, records: list[str], path: str, info: os.stat_result, index: int,
                 root: Path) -> None:
    """A file stat-ed (`info`) into `found`: its record, if it is a regular file; else why not."""
    if info.st_mode & _FILE_TYPE == _REGULAR:
        if path.isascii():  # its ledger key is its name; manifest.record(), inline
            records.append(f"{info.st_size} {info.st_mtime_ns} {path}")
        else:
            found.add(path, index, info.st_size, info.st_mtime_ns)
    else:
        _stat_one(found, path, index, root)


def _part_of(name: str, n: int) -> int:
    """Which of n parts walks the folder `name` right under a root: by a hash of the name that
    every process computes alike (str's hash is seeded per process)."""
    return zlib.crc32(name.encode("utf-8", "surrogateescape")) % n


def _stat_one(found: Discovered, path: str, index: int, root: Path) -> None:
    try:
        info = os.stat(path)
    except OSError as error:
        found.problems.append(Found(path, root, f"cannot stat: {error.strerror}", failed=True))
        return
    if not stat.S_ISREG(info.st_mode):
        found.problems.append(Found(path, root, "not a regular file (a FIFO, socket or device): skipped"))
        return
    found.add(path, index, info.st_size, info.st_mtime_ns)


def _name_matcher(wanted: str) -> Callable[[str], bool]:
    """Whether a file name matches any wanted source's patterns: a test of its ending when every
    pattern is `*<suffix>` or implied by one (`session-*.json` by `*.json`), else one regex for all."""
    patterns = sorted({p for s in SOURCES.values() if wanted in ("auto", s.name) for p in s.patterns})
    suffixes = tuple(p[1:] for p in patterns if p.startswith("*") and not _WILDCARD.search(p[1:]))
    if suffixes and all(_literal_tail(p).endswith(suffixes) for p in patterns):
        return lambda name: name.endswith(suffixes)
    return re.compile("|".join(f"(?:{translate(p)})" for p in patterns)).match


_WILDCARD = re.compile(r"[][*?]")  # fnmatch's special characters


def _literal_tail(pattern: str) -> str:
    """What every name a pattern matches ends with: the text after its last wildcard (all of it if none)."""
    last = max((m.end() for m in _WILDCARD.finditer(pattern)), default=0)
    return pattern[last:]


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


# --- Listings of folders that have not changed ------------------------------------------------

# Every run must stat every file, but need not list every folder again: reading a folder costs
# ~4x a stat (80x180 org: 13.5k folders; the walk's CPU 240 -> 180 ms with the listings kept). A
# folder's entries change only with its ctime (POSIX marks the ctime and mtime of a folder for
# update whenever an entry is created, removed or renamed in it, and no call sets a ctime), so a
# listing is taken again only while the folder's (device, inode, ctime, mtime) are those it was
# listed under. Two changes within one tick of the file system's clock leave the ctime as it was:
# a listing is kept only of a folder whose ctime was already SETTLED_NS old before it was listed,
# so that any later change gets a later ctime. Only folders holding nothing but regular files
# and folders are kept (a link or a FIFO is looked at afresh). The listings depend on nothing but
# the folders: not on the ledger, nor on the source or names wanted. Kept per folder right under a
# PATH, in files named by its path, under $AGENTLEDGER_WALK_CACHE (empty: none kept), else the
# user's cache folder; a file that cannot be read or written only costs the listings. A file no
# walk has taken for KEPT_DAYS (its tree deleted, its PATH no longer ingested) is removed.
WALK_CACHE_ENV = "AGENTLEDGER_WALK_CACHE"
SETTLED_NS = 2_000_000_000
KEPT_DAYS = 30
_DAY_NS = 86_400 * 1_000_000_000
_LISTINGS_FILE = re.compile(r"[0-9a-f]{12}\.walk(\.[0-9]+)?")  # _Listings.file, or its scratch copy


def _listings_home() -> str | None:
    home = os.environ.get(WALK_CACHE_ENV)
    if home is not None:
        return home or None
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "agentledger", "walk")


Stamp = tuple[int, int, int, int]  # a folder's device, inode, ctime_ns, mtime_ns


class _Listings:
    """The kept listings of the folders under one folder right under a PATH (its tree): read at
    its start, written at its end if the walk listed some folder afresh."""

    def __init__(self, home: str, tree: str) -> None:
        self.home, self.tree = home, tree
        self.file = os.path.join(home, f"{zlib.crc32(os.fsencode(tree)):08x}{len(tree):04x}.walk")
        self.old: dict[str, tuple[Stamp, list[str], list[str]]] = {}
        self.new: dict[str, tuple[Stamp, list[str], list[str]]] = {}
        self.listed_afresh = False
        self.settled_before = time.time_ns() - SETTLED_NS  # before any folder of it is looked at
        try:
            with open(self.file, "rb") as handle:
                tree_of, old = listings_of(handle.read())  # marshal.load() from a file: ~4x the CPU
                if tree_of == tree and isinstance(old, dict):  # two trees may share a file name
                    self.old = old
                    _mark_used(self.file, handle.fileno())
        except (OSError, EOFError, ValueError, TypeError):
            pass

    def listed(self, folder: str) -> tuple[tuple[list[str], list[str]] | None, Stamp | None]:
        """(its sub-folders' and its other entries' names, if the folder is as it was listed; its stamp now)."""
        try:
            info = os.lstat(folder)
        except OSError:
            return None, None
        stamp = (info.st_dev, info.st_ino, info.st_ctime_ns, info.st_mtime_ns)
        kept = self.old.get(folder)
        try:
            if kept is not None and tuple(kept[0]) == stamp and type(kept[1]) is list and type(kept[2]) is list:
                self.new[folder] = kept
                return (kept[1], kept[2]), stamp
        except (TypeError, IndexError):
            pass  # not a listing this module wrote: listed afresh
        return None, stamp

    def keep(self, folder: str, stamp: Stamp | None, entries: list[os.DirEntry]) -> None:
        """Keep the listing `entries`, made after the folder's `stamp` was taken, if it may be trusted later."""
        self.listed_afresh = True
        if stamp is None or stamp[2] >= self.settled_before:
            return
        dirs, names = [], []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                dirs.append(entry.name)
            elif entry.is_file(follow_symlinks=False):
                names.append(entry.name)
            else:
                return  # a link or a FIFO: looked at afresh each time
        self.new[folder] = (stamp, dirs, names)

    def save(self) -> None:
        if not self.listed_afresh and len(self.new) == len(self.old):
            return  # every folder as it was: the file holds it all
        try:
            os.makedirs(self.home, mode=0o700, exist_ok=True)
            scratch = f"{self.file}.{os.getpid()}"
            with open(scratch, "wb") as handle:
                handle.write(listings_bytes((self.tree, self.new)))
            os.replace(scratch, self.file)  # whole or not at all, for any walk reading it meanwhile
        except OSError:
            pass


def _mark_used(file: str, fd: int) -> None:
    """A fresh mtime for a file of listings a walk took, unless it got one within the day (one write a
    day, not one a run): an unchanged tree's file is never written again, and _sweep goes by the mtime."""
    if os.fstat(fd).st_mtime_ns < time.time_ns() - _DAY_NS:
        os.utime(file)


def _sweep(home: str) -> None:
    """Remove the files of listings no walk has taken for KEPT_DAYS, and scratch copies a killed walk
    left: nothing else ever would, and a tree no longer walked would keep its file forever. A run
    pays one listing of `home` (a file per tree walked) and a stat per file."""
    before = time.time_ns() - KEPT_DAYS * _DAY_NS
    try:
        names = os.listdir(home)
    except OSError:
        return  # none kept yet, or unreadable: nothing to remove
    for name in names:
        if not _LISTINGS_FILE.fullmatch(name):
            continue
        path = os.path.join(home, name)
        try:
            if os.lstat(path).st_mtime_ns < before:
                os.unlink(path)
        except OSError:
            pass  # removed by another walk meanwhile


# --- The walk in forked children (a CLI run's start-up goes on meanwhile) ----------------------

# The one walk started ahead (its key: the arguments discover() will be called with), or None.
_ahead: _Ahead | None = None


@dataclass
class _Ahead:
    key: tuple
    children: list[tuple[int, int]]  # (pid, the file it writes its answer to), one per part, in order


# The walk is shared by this many children: two cores' worth of stat calls (each child holds its own
# GIL, which threads would share), while this process imports and loads the manifest.
CHILDREN = 2

# ...in this many parts, which the children take one at a time, each as it ends the last: folders
# differ in size, and with one part each, the child that drew the larger half walked on alone at
# the end while a core stood idle (80 users' folders in two halves: 23.6k files against 18.7k).
PARTS = 16


def prefetch(roots: list[Path], wanted: str, follow_symlinks: bool = False) -> bool:
    """Start discover(roots, wanted, follow_symlinks) in forked children (each walks the parts it claims), for
    the call with the same arguments to take. Only from a single-threaded process (a fork copies
    no other thread, and a lock one held would stay held in the child), where fork exists and while
    some core is idle; returns whether it started. The children run the very same walk, split: what they find is what
    the call would have found. With `follow_symlinks` one child walks it all (each real folder once)."""
    global _ahead
    if _ahead is not None or not hasattr(os, "fork") or not _single_threaded() or not _cores_idle():
        return False
    n = 1 if follow_symlinks else max(1, min(CHILDREN, os.cpu_count() or 1))
    parts = PARTS if n > 1 else 1
    claims = _claims(parts)
    children: list[tuple[int, int]] = []
    try:
        for _ in range(n):
            child = _fork_walk(roots, wanted, follow_symlinks, claims, parts)
            if child is None:
                _drop(children)
                return False
            children.append(child)
    finally:
        os.close(claims)  # the children hold it now
    _ahead = _Ahead(_key(roots, wanted, follow_symlinks), children)
    return True


def _claims(parts: int) -> int:
    """The read end of a pipe holding one byte per part of the walk (its number) and no writer left:
    a read of one byte claims a part (a pipe hands each byte to one reader), an empty read says none
    is left."""
    read, write = os.pipe()
    os.write(write, bytes(range(parts)))  # far below a pipe's capacity: never blocks
    os.close(write)
    return read


def walk_claimed(roots: list[Path], wanted: str, follow_symlinks: bool, claims: int, parts: int) -> Discovered:
    """Every part of the walk this process claims from `claims` (see _claims), walked, until none is left."""
    found = Discovered()
    while claimed := os.read(claims, 1):
        found.extend(discover(roots, wanted, follow_symlinks, (claimed[0], parts)))
    return found


def _fork_walk(roots: list[Path], wanted: str, follow_symlinks: bool, claims: int, parts: int) -> tuple[int, int] | None:
    """(pid, file) of a child walking the parts it claims, or None when it cannot be forked. The child writes its
    answer to an unnamed file in memory, read once it has ended: through a pipe, megabytes went 64 KB
    at a time, each a turn of both processes, and on a busy machine every turn waited for a core."""
    out = _scratch_file()
    try:
        pid = os.fork()
    except OSError:
        os.close(out)
        return None
    if pid == 0:  # the child: walk, write, and leave without running anything of the parent's
        code = 1
        try:
            found = walk_claimed(roots, wanted, follow_symlinks, claims, parts)
            problems = [(p.path, roots.index(p.root), p.problem, p.failed) for p in found.problems]
            data = memoryview(marshal.dumps((found.records, found.odd, problems)))
            while data:
                data = data[os.write(out, data):]
            code = 0
        finally:
            os._exit(code)
    return pid, out


def _scratch_file() -> int:
    if hasattr(os, "memfd_create"):
        return os.memfd_create("agentledger-walk")
    import tempfile

    with tempfile.TemporaryFile() as scratch:
        return os.dup(scratch.fileno())


def drop_walk_ahead() -> None:
    """Drop a walk started ahead that no run took (the run failed first): a later run must walk afresh."""
    global _ahead
    ahead, _ahead = _ahead, None
    if ahead is not None:
        _drop(ahead.children)


def _drop(children: list[tuple[int, int]]) -> None:
    """End children whose walk is not wanted, without waiting for it."""
    for pid, fd in children:
        os.kill(pid, signal.SIGKILL)
        os.close(fd)
        os.waitpid(pid, 0)


def walking_ahead(roots: list[Path], wanted: str, follow_symlinks: bool = False) -> bool:
    """Whether a walk prefetch() started for these arguments awaits discover()."""
    return _ahead is not None and _ahead.key == _key(roots, wanted, follow_symlinks)


def _cores_idle() -> bool:
    """Whether some core is idle (the last minute's load average below the cores): children walking
    beside the run help only then. On a busy machine they only took turns with the run, and the fork
    and the passing of their answer cost more than that saved (paired no-ops on 80x180 at load 6-7:
    0.65-1.20 s wall against 0.62-1.06 s walking in the run). The average lags: for a minute after a
    long job (a cold ingest, a nightly report) it still counts that job, so the tasks running at this
    instant decide too."""
    cores = os.cpu_count() or 1
    try:
        if os.getloadavg()[0] < cores:
            return True
    except OSError:
        return False
    return _running_now() - 1 < cores  # this process is one of them


def _running_now() -> int:
    """Tasks running or ready to run at this instant, this process among them (Linux: /proc/loadavg's
    fourth field, "running/total"); more than any machine has cores where that is unknown."""
    try:
        with open("/proc/loadavg", "rb") as handle:
            return int(handle.read().split()[3].split(b"/")[0])
    except (OSError, IndexError, ValueError):
        return 1 << 30


def _single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False  # not Linux: other threads cannot be ruled out


def _key(roots: list[Path], wanted: str, follow_symlinks: bool) -> tuple:
    return tuple(str(root) for root in roots), wanted, bool(follow_symlinks)


def _taken(roots: list[Path], wanted: str, follow_symlinks: bool) -> Discovered | None:
    """The walk started ahead for these arguments, once every child is done; None when there is none
    (or a child failed: the caller walks itself). A walk started for other arguments is dropped."""
    global _ahead
    ahead, _ahead = _ahead, None
    if ahead is None:
        return None
    if ahead.key != _key(roots, wanted, follow_symlinks):
        _drop(ahead.children)  # not waited for: its answer is to another question
        return None
    found, complete = Discovered(), True
    for pid, fd in ahead.children:
        _, status = os.waitpid(pid, 0)
        os.lseek(fd, 0, os.SEEK_SET)  # the child shared the offset, now at the end of what it wrote
        with os.fdopen(fd, "rb") as answer:
            data = answer.read()
        if status != 0 or not data:
            complete = False
            continue
        records, odd, problems = marshal.loads(data)
        found.extend(Discovered(records, odd, [Found(path, roots[index], problem, failed)
                                               for path, index, problem, failed in problems]))
    return found if complete else None
