"""Records parsed from a group of files, waiting to be written in one transaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]


def request_total(row: Row) -> int:
    """All four token kinds: the size by which duplicate lines of one response are compared."""
    return (
        (row.get("input_tokens") or 0)
        + (row.get("output_tokens") or 0)
        + (row.get("cache_creation_tokens") or 0)
        + (row.get("cache_read_tokens") or 0)
    )


def should_replace(candidate: Row, existing: Row) -> bool:
    """The duplicate-resolution rule (same as ccusage): a non-sidechain copy beats a sidechain
    replay; then the larger usage wins (early lines carry placeholder output); then `speed` set."""
    if bool(candidate.get("is_sidechain")) != bool(existing.get("is_sidechain")):
        return bool(existing.get("is_sidechain"))
    cand_total, exist_total = request_total(candidate), request_total(existing)
    if cand_total != exist_total:
        return cand_total > exist_total
    return candidate.get("speed") is not None and existing.get("speed") is None


class RequestMerger:
    """Global dedup of API requests on (message.id, requestId), falling back to message.id when a
    sidechain replays a message under a new requestId. Order of arrival does not change the result."""

    def __init__(self) -> None:
        self.by_key: dict[str, Row] = {}
        self._keys_by_message: dict[str, set[str]] = {}

    def _find(self, row: Row) -> str | None:
        key = row["request_key"]
        if key in self.by_key:
            return key
        message_id = row.get("message_id")
        if not message_id:
            return None
        for other_key in self._keys_by_message.get(message_id, ()):
            if row.get("is_sidechain") or self.by_key[other_key].get("is_sidechain"):
                return other_key
        return None

    def add(self, row: Row) -> None:
        """Offer one request line; keep whichever copy the rule prefers."""
        found = self._find(row)
        if found is None:
            self._put(row)
            return
        existing = self.by_key[found]
        # Output is an estimate only if every copy we have seen carried a placeholder.
        estimated = bool(existing.get("output_estimated")) and bool(row.get("output_estimated"))
        if should_replace(row, existing):
            self._drop(found)
            row["output_estimated"] = estimated
            self._put(row)
        elif existing.get("output_estimated") != estimated:
            existing["output_estimated"] = estimated
            existing["_dirty"] = True

    def _put(self, row: Row) -> None:
        self.by_key[row["request_key"]] = row
        if row.get("message_id"):
            self._keys_by_message.setdefault(row["message_id"], set()).add(row["request_key"])

    def _drop(self, key: str) -> None:
        row = self.by_key.pop(key)
        if row.get("message_id"):
            self._keys_by_message[row["message_id"]].discard(key)

    def rows(self) -> list[Row]:
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


# RecordBatch attribute -> ledger table, for the rows that are only ever inserted (never merged).
FROZEN_TABLES = {"tool_calls": "tool_calls", "tool_results": "tool_results", "events": "session_events", "rejects": "rejects"}


@dataclass
class RecordBatch:
    """Everything parsed from some files, plus the counters the run summary reports."""

    requests: RequestMerger = field(default_factory=RequestMerger)
    tool_calls: list[Row] = field(default_factory=list)
    tool_results: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    agents: list[Row] = field(default_factory=list)
    rejects: list[Row] = field(default_factory=list)
    drift: Drift = field(default_factory=Drift)
    lines: int = 0
    bytes_read: int = 0
    api_errors: int = 0
    # Rows for tables only some sources fill (migration 003): table -> natural key -> row.
    extra: dict[str, dict[Any, Row]] = field(default_factory=dict)
    # Tables whose existing rows win over incoming ones (e.g. the org directory).
    keep_existing: set[str] = field(default_factory=set)
    # Rows already turned into Polars frames by a worker process (table -> frames): cheaper to
    # send between processes than dicts, and built where there is a spare core.
    frames: dict[str, list[Any]] = field(default_factory=dict)

    def put(self, table: str, key: Any, row: Row, *, replace: bool = True) -> None:
        """Queue one row for `table`; the last copy of a key in a batch wins."""
        self.extra.setdefault(table, {})[key] = row
        if not replace:
            self.keep_existing.add(table)

    def absorb(self, other: "RecordBatch") -> None:
        """Add another batch's records and counters to this one (dedup rules apply across them)."""
        for row in other.requests.rows():
            self.requests.add(row)
        self.tool_calls.extend(other.tool_calls)
        self.tool_results.extend(other.tool_results)
        self.events.extend(other.events)
        self.agents.extend(other.agents)
        self.rejects.extend(other.rejects)
        for key, n in other.drift.counts.items():
            self.drift.add(*key, other.drift.first_path[key], n)
        for table, rows in other.extra.items():
            self.extra.setdefault(table, {}).update(rows)
        self.keep_existing |= other.keep_existing
        for table, frames in other.frames.items():
            self.frames.setdefault(table, []).extend(frames)
        self.lines += other.lines
        self.bytes_read += other.bytes_read
        self.api_errors += other.api_errors

    @property
    def reject_count(self) -> int:
        """Rejected lines and files in this batch, whether still rows or already frames."""
        return len(self.rejects) + sum(frame.height for frame in self.frames.get("rejects", ()))

    def freeze(self, to_frame: Any, shapes: dict[str, Any]) -> None:
        """Turn the append-only row lists into frames (requests stay rows: they merge across files)."""
        for attribute, table in FROZEN_TABLES.items():
            rows = getattr(self, attribute)
            if rows and table in shapes:
                self.frames.setdefault(table, []).append(to_frame(shapes[table], rows, 0))
                setattr(self, attribute, [])

    def reject(self, path: str, byte_offset: int, line_no: int, reason: str, raw: bytes) -> None:
        """Quarantine one line: where it is, why, and its first 200 bytes."""
        head = raw[:200].decode("utf-8", "replace")
        self.rejects.append(
            {"path": path, "byte_offset": byte_offset, "line_no": line_no, "reason": reason, "head": head}
        )
