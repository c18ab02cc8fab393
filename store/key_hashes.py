"""The 64-bit hash the ledger keeps beside each key the ingest writer looks up by value.

"Is any of this batch's keys stored?" (for a new session the answer is no) then reads one narrow
integer column instead of a column of long random strings. Equal keys have equal hashes, so a hash
that matches nothing proves the key is not stored; a match is only a "maybe", settled by the key
itself. The value is stored, so it must never change with a library's version: the first 16 hex
digits of the key's MD5 (a fixed standard), read as an unsigned integer; NULL for a NULL key.
Migration 014 fills the rows stored before it; every insert of these tables computes it in SQL.
"""

from __future__ import annotations

import hashlib

# table -> {hash column: key column}
KEY_HASHES: dict[str, dict[str, str]] = {
    "requests": {"request_key_hash": "request_key", "message_id_hash": "message_id"},
    "tool_calls": {"tool_use_hash": "tool_use_id"},
    "tool_results": {"tool_use_hash": "tool_use_id"},
    "session_events": {"event_key_hash": "event_key"},
}


def key_hash_sql(column: str) -> str:
    """SQL for the stored hash of the VARCHAR `column` (the same expression as migration 014's)."""
    return f"('0x' || md5({column})[1:16])::UBIGINT"


def key_hash(key: str) -> int:
    """The stored hash of `key`, computed in Python: what key_hash_sql computes in the ledger."""
    return int(hashlib.md5(key.encode("utf-8")).hexdigest()[:16], 16)


def with_key_hashes(table: str, alias: str = "") -> str:
    """A select list: every column of the incoming rows (`alias`.*) and the key hashes `table` keeps."""
    prefix = f"{alias}." if alias else ""
    hashes = [f"{key_hash_sql(prefix + key)} AS {name}" for name, key in KEY_HASHES.get(table, {}).items()]
    return ", ".join([f"{prefix}*"] + hashes)
