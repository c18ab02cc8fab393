"""Records parsed from a group of files, waiting to be written in one transaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from ingest.edits import hashed_lines
from ingest.records import ROW_TABLES, TABLES, EditLine, FileRead, ManifestEntry, Record, Reject, Request, ToolCallLink, columns
from ingest.hashing import short_hash
from ingest.secrets import scrub_frame

if TYPE_CHECKING:
    import polars as pl

# How much of a rejected line is kept when prompts are opted in (otherwise only its hash and length).
REJECT_HEAD_BYTES = 200


def should_replace(candidate: Request, existing: Request) -> bool:
    """The duplicate-resolution rule (same as ccusage): a non-sidechain copy beats a sidechain
    replay; then the larger usage wins (early lines carry placeholder output); then `speed` set.
    Copies equal on all of that are ordered by where they were read (file, then line), so which
    one is kept never depends on the order the files were loaded in."""
    if candidate.is_sidechain != existing.is_sidechain:
        return existing.is_sidechain
    cand_total, exist_total = candidate.total(), existing.total()
    if cand_total != exist_total:
        return cand_total > exist_total
    if (candidate.speed is None) != (existing.speed is None):
        return candidate.speed is not None
    return _place(candidate) < _place(existing)


def _place(row: Request) -> tuple[str, int]:
    return row.file_path or "", row.line_no or 0


class RequestMerger:
    """Global dedup of API requests on (message.id, requestId), falling back to message.id when a
    sidechain replays a message under a new requestId. Order of arrival does not change the result."""

    def __init__(self) -> None:
        self.by_key: dict[str, Request] = {}
        self._keys_by_message: dict[str, set[str]] = {}

    def _find(self, row: Request) -> str | None:
        key = row.request_key
        if key in self.by_key:
            return key
        message_id = row.message_id
        if not message_id:
            return None
        for other_key in self._keys_by_message.get(message_id, ()):
            if row.is_sidechain or self.by_key[other_key].is_sidechain:
                return other_key
        return None

    def add(self, row: Request) -> Request | None:
        """Offer one request; keep whichever copy the rule prefers. Returns the copy that lost
        (None when the row is new), so a caller can tell what changed."""
        found = self._find(row)
        if found is None:
            self._put(row)
            return None
        existing = self.by_key[found]
        # Output is an estimate only if every copy we have seen carried a placeholder.
        estimated = existing.output_estimated and row.output_estimated
        if should_replace(row, existing):
            self._drop(found)
            row.output_estimated = estimated
            self._put(row)
            return existing
        existing.output_estimated = estimated
        return row

    def _put(self, row: Request) -> None:
        self.by_key[row.request_key] = row
        if row.message_id:
            self._keys_by_message.setdefault(row.message_id, set()).add(row.request_key)

    def _drop(self, key: str) -> None:
        row = self.by_key.pop(key)
        if row.message_id:
            self._keys_by_message[row.message_id].discard(key)

    def rows(self) -> list[Request]:
        return list(self.by_key.values())


@dataclass
class Drift:
    """Unknown record types and fields seen, by (source, kind, name)."""

    counts: Counter = field(default_factory=Counter)
    first_path: dict = field(default_factory=dict)

    def add(self, source: str, kind: str, name: str, path: str, n: int = 1) -> None:
        key = (source, kind, name)
        self.counts[key] += n
        self.first_path.setdefault(key, path)


class EditLineColumns:
    """The edit_lines rows of a batch, kept as one list per column.

    An edit adds tens of line hashes whose other four values are the edit's own: appended as columns,
    they are never made into a record each and turned back into columns when the batch is frozen
    (that round trip was ~7% of a parse worker's time)."""

    __slots__ = EditLine.__struct_fields__

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, [])

    def __len__(self) -> int:
        return len(self.line_hash)

    def add(self, tool_use_id: str, source: str, session_id: str | None, files: dict[str, list[str]]) -> None:
        """One row per (file, distinct line hash) with how many times the edit added that line."""
        for path, lines in files.items():
            counts = hashed_lines(lines)
            n = len(counts)
            self.tool_use_id += [tool_use_id] * n
            self.source += [source] * n
            self.session_id += [session_id] * n
            self.file_path += [path] * n
            self.line_hash += counts.keys()
            self.lines += counts.values()

    def extend(self, other: "EditLineColumns") -> None:
        for name in self.__slots__:
            getattr(self, name).extend(getattr(other, name))

    def frame(self) -> "pl.DataFrame":
        """The rows as a frame of the records' schema (ingest.records.columns would give the same)."""
        import polars as pl

        from ingest.records import frame_schema

        schema = frame_schema(EditLine)
        return pl.DataFrame([pl.Series(name, getattr(self, name), dtype=schema[name]) for name in self.__slots__])


_links_codec = msgspec.msgpack.Decoder(list[ToolCallLink])
_files_codec = msgspec.msgpack.Decoder(list[FileRead])


@dataclass
class RecordBatch:
    """Everything parsed from some files, plus the counters the run summary reports.

    Rows of a table are typed records while files are parsed, and become one Polars frame per table
    when the batch is frozen (`freeze`, at the end of a chunk, in the worker that parsed it): the
    form the writer consumes and the cheapest to hand between processes. Requests are merged by the
    dedup rule while files are parsed; a worker hands them over as a frame too (`request_frames`),
    merged with the other chunks' requests when the batch is written (`request_frame`).
    """

    requests: RequestMerger = field(default_factory=RequestMerger)
    # Requests handed over as frames, each merged within itself, in the order they arrived; while
    # any is here, `requests` holds none (absorb keeps every copy in arrival order this way).
    request_frames: list["pl.DataFrame"] = field(default_factory=list)
    records: dict[str, list[Record]] = field(default_factory=lambda: {table: [] for table in ROW_TABLES})
    edit_lines: EditLineColumns = field(default_factory=EditLineColumns)   # not in `records`: see its class
    frames: dict[str, list["pl.DataFrame"]] = field(default_factory=dict)
    links: list[ToolCallLink] = field(default_factory=list)
    files: list[FileRead] = field(default_factory=list)
    drift: Drift = field(default_factory=Drift)
    lines: int = 0
    bytes_read: int = 0
    api_errors: int = 0
    store_prompts: bool = False       # rejected lines keep their first bytes only when prompts are opted in
    # What the run knows the ledger cannot hold (ingest/writer.py RunKeys), set by the writer in the
    # main process for its hooks; None in a worker, and for a writer without it.
    run_keys: object = None

    def add(self, record: Record) -> None:
        """Queue one record for its table."""
        self.records[record.TABLE].append(record)

    def add_edit_lines(self, tool_use_id: str, source: str, session_id: str | None, files: dict[str, list[str]]) -> None:
        """Queue the lines one edit added, `files` = {path: added lines}, as edit_lines rows."""
        self.edit_lines.add(tool_use_id, source, session_id, files)

    def reject(self, path: str, byte_offset: int, line_no: int, reason: str, raw: bytes | None) -> None:
        """Quarantine one line (or, with line 0, a whole file): where, why, and the line's hash and
        length; its first bytes too when prompts are opted in (they often are prompt text)."""
        head = None
        if raw is not None and self.store_prompts:
            head = raw[:REJECT_HEAD_BYTES].decode("utf-8", "replace")
        self.add(Reject(
            path=path, byte_offset=byte_offset, line_no=line_no, reason=reason, head=head,
            line_hash=short_hash(raw) if raw is not None else None, line_bytes=len(raw) if raw is not None else None,
        ))

    def absorb(self, other: "RecordBatch") -> None:
        """Add another batch's records and counters to this one (dedup rules apply across them)."""
        if self.request_frames or other.request_frames:
            # Frames are merged once, when written: copies are kept in the order they arrived.
            self._requests_as_frame()
            self.request_frames.extend(other.request_frames)
            if other.requests.by_key:
                self.request_frames.append(columns(Request, other.requests.rows()))
        else:
            for row in other.requests.rows():
                self.requests.add(row)
        for table, rows in other.records.items():
            self.records[table].extend(rows)
        self.edit_lines.extend(other.edit_lines)
        for table, frames in other.frames.items():
            self.frames.setdefault(table, []).extend(frames)
        self.links.extend(other.links)
        self.files.extend(other.files)
        for key, n in other.drift.counts.items():
            self.drift.add(*key, other.drift.first_path[key], n)
        self.lines += other.lines
        self.bytes_read += other.bytes_read
        self.api_errors += other.api_errors

    def freeze(self) -> None:
        """Turn the queued records into one frame per table, secrets scrubbed from free text."""
        for table, rows in self.records.items():
            if rows:
                policy = TABLES[table]
                self.frames.setdefault(table, []).append(scrub_frame(columns(policy.record, rows), policy.scrubbed))
                self.records[table] = []
        if self.edit_lines:
            frame = scrub_frame(self.edit_lines.frame(), TABLES[EditLine.TABLE].scrubbed)
            self.frames.setdefault(EditLine.TABLE, []).append(frame)
            self.edit_lines = EditLineColumns()

    def _requests_as_frame(self) -> None:
        """Move the requests merged as records to the end of `request_frames`."""
        if self.requests.by_key:
            self.request_frames.append(columns(Request, self.requests.rows()))
            self.requests = RequestMerger()

    def has_requests(self) -> bool:
        return bool(self.requests.by_key) or any(frame.height for frame in self.request_frames)

    def request_frame(self) -> "pl.DataFrame":
        """Every request of the batch, merged by the dedup rule, as one frame (rows in the order
        RequestMerger.rows() would give), kept as the batch's one request frame. Requests merged
        as records join as the last frame. Frames whose keys and message ids are all distinct
        cannot merge (RequestMerger meets two copies only by one of them), so they are put
        together as they are; otherwise every copy is offered to a merger in arrival order, as
        absorbing them as records would have."""
        import polars as pl

        self._requests_as_frame()
        parts = [frame for frame in self.request_frames if frame.height]
        if len(parts) <= 1:
            merged = parts[0] if parts else columns(Request, [])
        else:
            merged = pl.concat(parts, how="vertical")
            ids = merged["message_id"].drop_nulls()
            if not (merged["request_key"].is_unique().all() and ids.is_unique().all()):
                merger = RequestMerger()
                for part in parts:
                    for row in request_records(part):
                        merger.add(row)
                merged = columns(Request, merger.rows())
        self.request_frames = [merged]
        return merged

    def request_columns(self, *names: str) -> "pl.DataFrame":
        """Columns `names` of every request of the batch, merged (a frame of the records' types)."""
        return self.request_frame().select(names)

    def request_rows(self) -> list[Request]:
        """Every request of the batch, merged, as records."""
        return request_records(self.request_frame())

    def frame(self, table: str) -> "pl.DataFrame | None":
        """Every row queued for `table` as one frame (None when there is none)."""
        import polars as pl

        if self.records.get(table) or (table == EditLine.TABLE and self.edit_lines):
            self.freeze()
        parts = [f for f in self.frames.get(table, ()) if f.height]
        if not parts:
            return None
        return pl.concat(parts, how="vertical_relaxed") if len(parts) > 1 else parts[0]

    def manifest(self) -> list[ManifestEntry]:
        """The cursors of the files read, to be committed with their records."""
        return [read.manifest for read in self.files if read.manifest is not None]

    def session_ids(self) -> list[str | None]:
        """Every session this batch holds a row of (the sessions whose derived rows it changes; a
        link to an earlier tool call comes with the request of the same session that counts it)."""
        found = set(self.request_columns("session_id")["session_id"].to_list())
        for table in ("tool_calls", "tool_results", "session_events", "agents", "otel_requests"):
            frame = self.frame(table)
            if frame is not None:
                found.update(frame["session_id"].unique().to_list())
        return sorted(found, key=lambda s: (s is None, s or ""))

    @property
    def reject_count(self) -> int:
        """Rejected lines and files in this batch, whether still records or already frames."""
        return len(self.records["rejects"]) + sum(frame.height for frame in self.frames.get("rejects", ()))

    # Handing a batch from a worker process: structs pickle one by one (slow); msgpack packs a list
    # at once. Requests travel as a frame: the writing process then never makes a record of each
    # one, nor turns the records back into columns (~0.6 s of its CPU on a cold 0.5 GB ingest).
    def __getstate__(self) -> dict:
        self.freeze()
        self._requests_as_frame()
        state = dict(self.__dict__)
        del state["requests"]
        state["links"] = msgspec.msgpack.encode(self.links)
        state["files"] = msgspec.msgpack.encode(self.files)
        return state

    def __setstate__(self, state: dict) -> None:
        state.update(requests=RequestMerger(), links=_links_codec.decode(state["links"]),
                     files=_files_codec.decode(state["files"]))
        self.__dict__.update(state)


def request_records(frame: "pl.DataFrame") -> list[Request]:
    """The rows of a requests frame as records (the frame's columns are Request's fields)."""
    return [Request(**row) for row in frame.iter_rows(named=True)]
