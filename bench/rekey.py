"""New ids for copied log lines, shaped like the real ones.

A benchmark that grows a corpus copies existing lines under new ids, as a live session would add
them. The new ids must look like Claude Code's: a `toolu_01…` id tagged `toolu_s…` sorts after
every stored id, so DuckDB skips every row group by its min/max when it looks the id up, and the
benchmark would time a lookup that real, random ids never get.
"""

from __future__ import annotations

import hashlib
import re
import uuid

_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The fixed head of each id kind (`msg_01`, `req_011C`, `toolu_01`), then its random base62 tail; as a
# JSON string, or escaped inside one (a subagent's line embedded in a progress line).
_ID = re.compile(rb'(?<=")(msg_01|req_011C|toolu_01|msg_|req_|toolu_)([0-9A-Za-z]+)(?=\\?")')
_B62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _base62(seed: bytes, length: int) -> bytes:
    number = int.from_bytes(hashlib.blake2b(seed, digest_size=32).digest(), "big")
    out = bytearray()
    for _ in range(length):
        number, digit = divmod(number, 62)
        out.append(_B62[digit])
    return bytes(out)


def rekeyed(lines: list[bytes], tag: str) -> list[bytes]:
    """The same lines under new ids: every uuid, message, request and tool id replaced by one of the
    same shape, the same for equal ids (a call and its result stay paired), different per `tag`."""
    uuids: dict[bytes, bytes] = {}
    seed = tag.encode()

    def new_uuid(match: re.Match) -> bytes:
        old = match.group(0)
        if old not in uuids:
            uuids[old] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tag}:{old.decode()}")).encode()
        return uuids[old]

    def new_id(match: re.Match) -> bytes:
        head, tail = match.group(1), match.group(2)
        return head + _base62(seed + b":" + head + tail, len(tail))

    return [_ID.sub(new_id, _UUID.sub(new_uuid, line)) for line in lines]
