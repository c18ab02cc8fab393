"""Write a parsed batch and its files' cursors to the ledger in one transaction.

Idempotency by natural keys is expressed by the statements themselves (anti-join inserts, MERGE
INTO, keyed UPDATE/DELETE), never by a constraint: the single-file ledger keeps its primary keys as
a safety net, but a DuckLake catalog has none (no PRIMARY KEY, UNIQUE, INSERT OR IGNORE or ON
CONFLICT), and the same writer must serve both. Each table's merge policy is declared once in
ingest/records.py and implemented once here.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import duckdb
import numpy as np
import polars as pl

from ingest.batch import Drift, RecordBatch, RequestMerger
# The keys of requests the OTel reconcile writes itself, never offered to RunKeys.
from ingest.otel.reconcile import OTEL, OTEL_KEY_PREFIX, insert_otel_only
from ingest.records import TABLES, ManifestEntry, Request, TablePolicy, columns
from ingest.sources import AfterWrite
from store.key_hashes import KEY_HASHES, key_hash_sql, with_key_hashes
from store.sql import begin, commit, rollback, run_sql

_REQUEST_FIELDS = Request.__struct_fields__
# Up to this many keys are looked up by a list the table scan filters on (reading only the matching
# rows whole); more by a join, because the list is searched row by row: on 674k stored requests
# the list took 44 ms for 16 keys, 116 for 64 and 382 for 250, the join 97-135 ms for any of them.
LIST_FILTER_MAX = 64


@dataclass
class WriteCounts:
    requests_new: int = 0
    requests_updated: int = 0
    tool_calls_new: int = 0
    events_new: int = 0
    rejects: int = 0


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> Iterator[None]:
    """Expose a frame to SQL under `name` for the duration of a block, in one piece: a batch's frames
    are the chunks' frames put together, and DuckDB scans an Arrow table of many small pieces at
    ~1.4x the CPU of one (a copy into one piece costs less than the difference)."""
    con.register(name, frame.rechunk())
    try:
        yield
    finally:
        try:
            con.unregister(name)
        except duckdb.Error:
            pass  # an aborted transaction refuses even this; the original error matters more


def _on(policy: TablePolicy, target: str, incoming: str = "i") -> str:
    return " AND ".join(f"{target}.{k} = {incoming}.{k}" for k in policy.key)


class RunKeys:
    """What a run knows without asking the ledger: which tables held no row when it started, and a
    64-bit hash of every key it has offered to them since. A batch none of whose keys' hashes was
    offered before cannot match a stored row, so it is inserted without the anti-join or lookup,
    which scan a table that grows over the run (a cold ingest's cost would grow with its square).
    A hash offered before (the same key again, or a rare collision) sends the batch down the keyed
    statements as before, so what is stored never depends on this. Valid only while no other writer
    can write between the run's batches (the single file's run lock)."""

    # Columns besides the key whose values the OTel reconcile asks about (ingest/otel/reconcile.py):
    # kept when both tables were empty at the start, as "<table>.<column>".
    NOTED = {"requests": ("request_id",), "otel_requests": ("request_id", "session_id")}

    def __init__(self, empty_tables: Iterable[str]) -> None:
        self._seen: dict[str, _HashSet] = {name: _HashSet() for name in empty_tables}
        # The sets whose offer in the batch being written was a first one (reset per batch).
        self.first_in_batch: set[str] = set()
        # With no request nor OTel event stored at the start, OTel-only requests wait for the load's end.
        self.held_back = HeldBack() if "otel_requests.request_id" in self._seen else None

    @classmethod
    def of_empty_tables(cls, empty: Iterable[str]) -> "RunKeys":
        """For the tables found empty at the run's start (the requests' message ids beside their
        keys; the NOTED columns when requests and otel_requests were both empty)."""
        empty = set(empty)
        if "requests" in empty:
            empty.add("requests.message_id")
            if "otel_requests" in empty:
                empty.update(f"{table}.{column}" for table, names in cls.NOTED.items() for column in names)
        return cls(empty)

    def first_offer(self, name: str, hashes: pl.Series) -> bool:
        """Remember `hashes` under `name`; True when `name`'s table was empty at the run's start and
        none of them was offered before (so no stored row can share one)."""
        seen = self._seen.get(name)
        if seen is None:
            return False
        if not hashes.len():
            self.first_in_batch.add(name)
            return True
        offered = _array(hashes)
        first = not seen.holds(offered).any()
        seen.add(offered)
        if first:
            self.first_in_batch.add(name)
        return first

    def note(self, table: str, frame: pl.DataFrame) -> None:
        """Remember the NOTED columns' values of rows offered to `table`."""
        for column in self.NOTED.get(table, ()):
            self.first_offer(f"{table}.{column}", frame[column].drop_nulls().hash())

    def keeps(self, name: str) -> bool:
        """Whether the set `name` is kept (its table held no row at the start)."""
        return name in self._seen

    def may_hold(self, name: str, hashes: pl.Series) -> pl.Series:
        """For each of `hashes`: whether it may have been offered under `name` (always True for a set
        not kept: a table not empty at the start)."""
        seen = self._seen.get(name)
        if seen is None:
            return pl.Series([True] * hashes.len(), dtype=pl.Boolean)
        return pl.Series(seen.holds(_array(hashes)), dtype=pl.Boolean)

    def may_hold_keys(self, table: str, frame: pl.DataFrame) -> bool:
        """Whether a key of `frame` (the key columns of `table`) may be stored in `table`."""
        return bool(self.may_hold(table, _key_hashes(TABLES[table], frame)).any())


class HeldBack:
    """What a load into a ledger with no request nor OTel event holds back to its end: the OTel-only
    requests ('otel:' rows, ingest/otel/reconcile.py), and the cursors and schema drift of the OTel
    files, written together in the load's last window (LedgerWriter.write_held_back).
    Written per batch, an 'otel:' row was deleted again when its transcript twin came in a later
    batch (OTel files read before their transcripts: 11,016 rows written and deleted on a 40x40 org,
    and counted as new requests); at the end, an event's twin is known. Until then its file's cursor is not committed,
    so a run that dies before the end leaves the OTel files to be read again (their events and
    metric points are merged by key, never counted twice) and the next run writes their rows."""

    def __init__(self) -> None:
        self.event_keys: list[pl.Series] = []
        self.manifest: dict[str, ManifestEntry] = {}
        self.drift = Drift()

    def __bool__(self) -> bool:
        return bool(self.event_keys or self.manifest or self.drift.counts)

    def split(self, batch: RecordBatch) -> tuple[list[ManifestEntry], Drift, list[ManifestEntry], Drift]:
        """The batch's cursors and drift to write now, and those of its OTel files, to hold back."""
        written, held = [], []
        for entry in batch.manifest():
            (held if entry.source == OTEL else written).append(entry)
        drift, held_drift = Drift(), Drift()
        for key, n in batch.drift.counts.items():
            (held_drift if key[0] == OTEL else drift).add(*key, batch.drift.first_path[key], n)
        return written, drift, held, held_drift

    def keep(self, batch: RecordBatch, manifest: list[ManifestEntry], drift: Drift) -> None:
        """Hold back the batch's OTel events, cursors and drift (once the batch is committed)."""
        events = batch.frame("otel_requests")
        if events is not None:
            self.event_keys.append(events["event_key"])
        for entry in manifest:
            self.manifest[entry.path] = entry    # a file read in blocks: its last cursor
        for key, n in drift.counts.items():
            self.drift.add(*key, drift.first_path[key], n)


class _HashSet:
    """A set of 64-bit key hashes, ~9 bytes a hash, in NumPy (Polars' sort and search_sorted spread
    over the thread pool the parse workers need, and at ~20k hashes a call the overhead is most of
    the cost: a cold 4.6 GB ingest spent ~4 s of CPU in them).
    Sorted runs, each at most half the size of the one before (a binary counter: every hash is
    re-sorted O(log n) times over the run, and a lookup searches O(log n) runs). In front of them a
    bitmap of 8 to 16 bits a hash, indexed by the hash's top bits (the hashes are uniform): a hash
    whose bit is clear was never added, so only the few whose bit is set (6-12%) are searched for
    in the runs, where a binary search is a cache miss per step in arrays of millions."""

    BITS_PER_HASH = 8
    MIN_BITS_LOG2 = 16

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []
        self.size = 0
        self._log2 = self.MIN_BITS_LOG2
        self._bits = np.zeros(1 << (self._log2 - 3), dtype=np.uint8)

    def add(self, hashes: np.ndarray) -> None:
        self.runs.append(np.sort(hashes))
        while len(self.runs) > 1 and len(self.runs[-1]) * 2 > len(self.runs[-2]):
            last = self.runs.pop()
            # Two sorted runs: the stable sort (a merge of runs) takes them in linear time.
            self.runs[-1] = np.sort(np.concatenate([self.runs[-1], last]), kind="stable")
        self.size += len(hashes)
        if self.size * self.BITS_PER_HASH > (1 << self._log2):
            while self.size * self.BITS_PER_HASH > (1 << self._log2):
                self._log2 += 1
            self._bits = np.zeros(1 << (self._log2 - 3), dtype=np.uint8)
            for run in self.runs:
                self._mark(run)
        else:
            self._mark(hashes)

    def holds(self, hashes: np.ndarray) -> np.ndarray:
        """For each of `hashes`: whether it was added."""
        held = self._marked(hashes)
        maybe = np.flatnonzero(held)
        if len(maybe):
            # Sorted, the searches walk each run forwards (numpy starts each from the one before).
            order = np.argsort(hashes[maybe])
            maybe = maybe[order]
            asked = hashes[maybe]
            found = np.zeros(len(maybe), dtype=bool)
            for run in self.runs:
                found |= _in(asked, run)
            held[maybe] = found
        return held

    def _slots(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        slot = hashes >> np.uint64(64 - self._log2)
        return slot >> np.uint64(3), (slot & np.uint64(7)).astype(np.uint8)

    def _mark(self, hashes: np.ndarray) -> None:
        byte, bit = self._slots(hashes)
        np.bitwise_or.at(self._bits, byte, np.left_shift(np.uint8(1), bit))

    def _marked(self, hashes: np.ndarray) -> np.ndarray:
        byte, bit = self._slots(hashes)
        return ((self._bits[byte] >> bit) & np.uint8(1)).astype(bool)


def _array(hashes: pl.Series) -> np.ndarray:
    """A series of key hashes (UInt64, no nulls) as a NumPy array."""
    return hashes.to_numpy()


def _in(hashes: np.ndarray, run: np.ndarray) -> np.ndarray:
    """For each of `hashes`: whether it is in the sorted `run`."""
    if not len(run) or not len(hashes):
        return np.zeros(len(hashes), dtype=bool)
    at = np.searchsorted(run, hashes).clip(0, len(run) - 1)
    return run[at] == hashes


def _key_hashes(policy: TablePolicy, frame: pl.DataFrame) -> pl.Series:
    return frame.select(policy.key).hash_rows()


def _distinct(policy: TablePolicy, frame: pl.DataFrame, keep: str) -> tuple[pl.DataFrame, pl.Series]:
    """`frame` with one row per key (the `keep` one, in the rows' order) and its keys' hashes.
    Rows whose keys' hashes all differ have distinct keys, so they are left as they are: dropping
    repeats copies every column of the frame, and a batch rarely repeats a key (a repeated hash, or a
    rare collision, deduplicates as before)."""
    hashes = _key_hashes(policy, frame)
    if hashes.n_unique() == hashes.len():
        return frame, hashes
    frame = frame.unique(subset=list(policy.key), keep=keep, maintain_order=True)
    return frame, _key_hashes(policy, frame)


class LedgerWriter:
    """Turns RecordBatch objects into ledger rows, idempotently, one transaction per batch."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: int, after_write: Sequence[AfterWrite] = (),
                 run_keys: RunKeys | None = None) -> None:
        self.con = con
        self.run_id = run_id
        self.after_write = tuple(after_write)
        self.run_keys = run_keys

    def _first_offer(self, policy: TablePolicy, frame: pl.DataFrame, hashes: pl.Series) -> bool:
        """No stored row can share a key with `frame`, whose keys' hashes are `hashes` (known without
        a lookup; see RunKeys)."""
        if self.run_keys is None:
            return False
        self.run_keys.note(policy.table, frame)
        return self.run_keys.first_offer(policy.table, hashes)

    def write(self, batch: RecordBatch) -> WriteCounts:
        """Everything in `batch` plus the files' new cursors, committed together or not at all."""
        batch.freeze()
        counts = WriteCounts()
        if self.run_keys is not None:
            self.run_keys.first_in_batch.clear()
        batch.run_keys = self.run_keys  # for the hooks (the OTel reconcile skips what cannot match)
        begin(self.con)
        try:
            counts.requests_new, counts.requests_updated = self._merge_requests(batch)
            inserted = {}
            for table, policy in TABLES.items():
                if table in ("requests", "source_files"):
                    continue
                frame = batch.frame(table)
                if frame is not None:
                    inserted[table] = self._apply(policy, frame)
            counts.tool_calls_new = inserted.get("tool_calls", 0)
            counts.events_new = inserted.get("session_events", 0)
            counts.rejects = inserted.get("rejects", 0)
            self._link_tool_calls(batch)
            for hook in self.after_write:
                counts.requests_new += hook(self.con, self.run_id, batch)
            held = self.run_keys.held_back if self.run_keys is not None else None
            if held is None:
                manifest, drift = batch.manifest(), batch.drift
            else:
                manifest, drift, held_manifest, held_drift = held.split(batch)
            self._merge_drift(drift)
            self._write_manifest(manifest)
            commit(self.con)
        except BaseException:
            rollback(self.con)
            raise
        if held is not None:
            held.keep(batch, held_manifest, held_drift)
        return counts

    def write_held_back(self) -> int:
        """What the load held back to its end (HeldBack), in one transaction; returns the OTel-only
        requests added. Kept until committed: a write that fails can be done again."""
        held = self.run_keys.held_back if self.run_keys is not None else None
        if not held:
            return 0
        begin(self.con)
        try:
            added = insert_otel_only(self.con, self.run_id, held.event_keys)
            self._merge_drift(held.drift)
            self._write_manifest(list(held.manifest.values()))
            commit(self.con)
        except BaseException:
            rollback(self.con)
            raise
        self.run_keys.held_back = HeldBack()
        return added

    def _write_manifest(self, manifest: list[ManifestEntry]) -> None:
        if manifest:
            self._apply(TABLES["source_files"], columns(TABLES["source_files"].record, manifest))

    # -- the policies ---------------------------------------------------------------------------
    def _apply(self, policy: TablePolicy, frame: pl.DataFrame) -> int:
        """Write `frame` to its table by the table's policy; returns the rows written (for
        first_wins: the new rows)."""
        if policy.policy == "first_wins":
            return self._first_wins(policy, frame)
        if policy.policy == "last_wins":
            return self._last_wins(policy, frame)
        if policy.policy == "combine":
            return self._combine(policy, frame)
        raise ValueError(f"{policy.table}: no writer for policy {policy.policy!r}")

    def _stamped(self, policy: TablePolicy, frame: pl.DataFrame) -> pl.DataFrame:
        """Every row knows the run that wrote it (the manifest: the first and the last run that read the file)."""
        run = pl.lit(self.run_id, dtype=pl.Int64)
        if policy.table == "source_files":
            return frame.with_columns(pl.col("first_run_id").fill_null(run), run.alias("last_run_id"))
        return frame.with_columns(run.alias("run_id"))

    def _first_wins(self, policy: TablePolicy, frame: pl.DataFrame) -> int:
        frame, hashes = _distinct(policy, frame, "first")
        frame = self._stamped(policy, frame)
        if self._first_offer(policy, frame, hashes) or not self._may_be_stored(policy, frame):
            return self._insert(policy, frame)
        with registered(self.con, "_incoming", frame):
            return run_sql(
                self.con, f"INSERT INTO {policy.table} BY NAME SELECT {with_key_hashes(policy.table, 'i')} FROM _incoming i"
                f" WHERE NOT EXISTS (SELECT 1 FROM {policy.table} t WHERE {_on(policy, 't')})"
            )[0][0]

    def _last_wins(self, policy: TablePolicy, frame: pl.DataFrame) -> int:
        frame, hashes = _distinct(policy, frame, "last")
        frame = self._stamped(policy, frame)
        fixed = set(policy.key) | set(policy.keep)
        updates = ", ".join(f"{name} = i.{name}" for name in frame.columns if name not in fixed)
        if self._first_offer(policy, frame, hashes):
            return self._insert(policy, frame)
        with registered(self.con, "_incoming", frame):
            # No RETURNING: DuckLake does not implement it.
            return run_sql(
                self.con, f"MERGE INTO {policy.table} USING _incoming i ON {_on(policy, policy.table)}"
                f" WHEN MATCHED THEN UPDATE SET {updates} WHEN NOT MATCHED THEN INSERT BY NAME"
            )[0][0]

    def _combine(self, policy: TablePolicy, frame: pl.DataFrame) -> int:
        """agents: a thread's type and session are filled in by whichever copy knows them; a
        warm-up stays a warm-up."""
        merged = frame.group_by("agent_id", maintain_order=True).agg(
            pl.col("source").first(),
            pl.col("session_id").drop_nulls().first(),
            pl.col("subagent_type").drop_nulls().first(),
            pl.col("is_warmup").any(),
        )
        merged = self._stamped(policy, merged)
        if self._first_offer(policy, merged, _key_hashes(policy, merged)):
            return self._insert(policy, merged)
        with registered(self.con, "_incoming", merged):
            return run_sql(
                self.con, f"MERGE INTO agents USING _incoming i ON {_on(policy, 'agents')} WHEN MATCHED THEN UPDATE SET"
                " subagent_type = coalesce(agents.subagent_type, i.subagent_type),"
                " session_id = coalesce(agents.session_id, i.session_id),"
                " is_warmup = agents.is_warmup OR i.is_warmup"
                " WHEN NOT MATCHED THEN INSERT BY NAME"
            )[0][0]

    def _may_be_stored(self, policy: TablePolicy, frame: pl.DataFrame) -> bool:
        """Whether a stored row shares the first key column's value with a row of `frame`: when
        none does, no stored row shares a whole key, and the anti-join would insert every row. This
        lookup reads that one column (the anti-join reads every key column: edit_lines' three, 2.5 M
        rows on an 80x180 org), and as a semi-join it lets DuckDB skip the row groups whose zone maps
        exclude the batch's values (another source's ids, another id format); a new batch, the usual
        one, then needs no anti-join. Tables that keep key hashes are asked those first."""
        if not self._hashes_may_be_stored(policy.table, frame):
            return False
        column = policy.key[0]
        with registered(self.con, "_probe", frame.select(column)):
            return run_sql(self.con, f"SELECT EXISTS (SELECT 1 FROM {policy.table}"
                                     f" WHERE {column} IN (SELECT {column} FROM _probe))")[0][0]

    def _hashes_may_be_stored(self, table: str, frame: pl.DataFrame) -> bool:
        """Whether a stored row of `table` shares a key hash (store/key_hashes.py) with a row of
        `frame`. No shared hash proves no shared key, read on narrow integer columns (the keys are
        long random strings: on 714k tool calls 17 ms against 4); a shared one is only a maybe,
        which the caller settles by the key itself. True for a table that stores no key hash."""
        hashes = KEY_HASHES.get(table)
        if not hashes:
            return True
        keys = sorted(set(hashes.values()))
        probes = " OR ".join(f"EXISTS (SELECT 1 FROM {table} WHERE {name} IN"
                             f" (SELECT {key_hash_sql(key)} FROM _hash_probe WHERE {key} IS NOT NULL))"
                             for name, key in hashes.items())
        with registered(self.con, "_hash_probe", frame.select(keys)):
            return run_sql(self.con, f"SELECT {probes}")[0][0]

    def _insert(self, policy: TablePolicy, frame: pl.DataFrame) -> int:
        """Rows no stored row shares a key with: what every policy's statement would insert."""
        with registered(self.con, "_incoming", frame):
            return run_sql(self.con, f"INSERT INTO {policy.table} BY NAME SELECT {with_key_hashes(policy.table)}"
                                     " FROM _incoming")[0][0]

    def _merge_requests(self, batch: RecordBatch) -> tuple[int, int]:
        """The requests policy: rows already in the ledger compete with new copies by the dedup rule."""
        if not batch.has_requests():
            return 0, 0
        frame = batch.request_frame()
        existing = [] if self._none_stored(frame) or not self._hashes_may_be_stored("requests", frame) \
            else self._existing_requests(frame)
        if existing:
            rows = batch.request_rows()
            merger = RequestMerger()
            before = {row.request_key: (row, row.output_estimated) for row in existing}
            for row in existing:
                merger.add(row)
            for row in rows:
                merger.add(row)
            final = merger.rows()
            # A stored row that is still the one kept, unchanged, is left alone.
            unchanged = {r.request_key for r in final
                         if r.request_key in before and before[r.request_key][0] is r
                         and before[r.request_key][1] == r.output_estimated}
            to_write = [r for r in final if r.request_key not in unchanged]
            stale = [key for key in before if key not in unchanged]
            if stale:
                run_sql(self.con, "DELETE FROM requests WHERE request_key IN (SELECT unnest(?::VARCHAR[]))", [stale])
            frame = columns(Request, to_write)
            if to_write:
                self._insert_requests(frame)
            existing_keys = {r.request_key for r in existing}
            new = sum(1 for r in to_write if r.request_key not in existing_keys)
            return new, len(to_write) - new
        # Nothing to compete with (the usual case): the batch is already deduplicated.
        self._insert_requests(frame)
        return frame.height, 0

    def _insert_requests(self, frame: pl.DataFrame) -> None:
        with registered(self.con, "_incoming", self._stamped(TABLES["requests"], frame)):
            run_sql(self.con, f"INSERT INTO requests BY NAME SELECT {with_key_hashes('requests')} FROM _incoming")

    def _none_stored(self, frame: pl.DataFrame) -> bool:
        """No stored request shares a key or a message id with the batch's `frame` (known without a
        lookup, see RunKeys; the reconcile's own keys are never offered, so a batch holding one is
        looked up)."""
        if self.run_keys is None:
            return False
        self.run_keys.note("requests", frame)
        keys, ids = frame["request_key"], frame["message_id"].drop_nulls()
        first_keys = self.run_keys.first_offer("requests", keys.hash())
        first_ids = self.run_keys.first_offer("requests.message_id", ids.hash())
        return first_keys and first_ids and not keys.str.starts_with(OTEL_KEY_PREFIX).any()

    def _existing_requests(self, frame: pl.DataFrame) -> list[Request]:
        """Stored requests that share a key or a message id with the batch's `frame`. First their
        keys, found by reading two columns only (the usual answer is none); then those rows whole,
        by a filter the table scan applies, so the other 35 columns of a large ledger are never read."""
        keys = frame.select("request_key", "message_id")
        with registered(self.con, "_keys", keys):
            found = [row[0] for row in self.con.execute(
                "SELECT request_key FROM requests WHERE request_key IN (SELECT request_key FROM _keys)"
                " UNION SELECT request_key FROM requests"
                " WHERE message_id IN (SELECT message_id FROM _keys WHERE message_id IS NOT NULL)"
            ).fetchall()]
        if not found:
            return []
        fields = ", ".join(_REQUEST_FIELDS)
        if len(found) <= LIST_FILTER_MAX:
            values = self.con.execute(f"SELECT {fields} FROM requests WHERE list_contains(?, request_key)",
                                      [found]).fetchall()
        else:
            values = self.con.execute(f"SELECT {fields} FROM requests WHERE request_key IN (SELECT unnest(?))",
                                      [found]).fetchall()
        return [Request(**dict(zip(_REQUEST_FIELDS, row))) for row in values]

    def _link_tool_calls(self, batch: RecordBatch) -> None:
        """Tool calls stored without their request learn it (only a NULL request_key is filled)."""
        if not batch.links:
            return
        links = pl.DataFrame(
            {"tool_use_id": [l.tool_use_id for l in batch.links], "request_key": [l.request_key for l in batch.links]},
            schema={"tool_use_id": pl.String, "request_key": pl.String},
        ).unique(subset=["tool_use_id"], keep="first", maintain_order=True)
        with registered(self.con, "_links", links):
            run_sql(
                self.con, "UPDATE tool_calls SET request_key = l.request_key, run_id = ? FROM _links l"
                " WHERE tool_calls.tool_use_id = l.tool_use_id AND tool_calls.request_key IS NULL", [self.run_id],
            )

    def _merge_drift(self, seen: Drift) -> None:
        """schema_drift: occurrences add up across runs; the first path and run seen stay."""
        if not seen.counts:
            return
        drift = pl.DataFrame(
            [(source, kind, name, n, seen.first_path[(source, kind, name)])
             for (source, kind, name), n in seen.counts.items()],
            schema={"source": pl.String, "kind": pl.String, "name": pl.String, "occurrences": pl.Int64,
                    "first_path": pl.String}, orient="row",
        ).with_columns(pl.lit(self.run_id, dtype=pl.Int64).alias("first_run_id"),
                       pl.lit(self.run_id, dtype=pl.Int64).alias("last_run_id"))
        with registered(self.con, "_drift", drift):
            run_sql(
                self.con, "MERGE INTO schema_drift USING _drift i ON schema_drift.source = i.source"
                " AND schema_drift.kind = i.kind AND schema_drift.name = i.name"
                " WHEN MATCHED THEN UPDATE SET occurrences = schema_drift.occurrences + i.occurrences,"
                " last_run_id = i.last_run_id WHEN NOT MATCHED THEN INSERT BY NAME"
            )
