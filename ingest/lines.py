"""What every line-oriented parser shares: the reject reasons and the quarantine loop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import msgspec

if TYPE_CHECKING:
    from ingest.batch import RecordBatch
    from ingest.context import FileContext

# A line that cannot be decoded is tried again from each of its first this many `{"`: a writer that
# died mid-line leaves a fragment without newline, and the next line it appends is glued to it.
MAX_RECOVERY_TRIES = 32


class LineError(ValueError):
    """A line we cannot use; the message is the reject reason."""


def decode_reason(error: Exception) -> str:
    """One-line reject reason for a msgspec decode or validation error."""
    text = str(error).splitlines()[0]
    if isinstance(error, msgspec.ValidationError):
        return f"wrong type: {text}"
    return f"malformed JSON: {text}"


def _reason(error: Exception) -> str:
    if isinstance(error, LineError):
        return str(error)
    if isinstance(error, (msgspec.DecodeError, msgspec.ValidationError)):
        return decode_reason(error)
    if isinstance(error, UnicodeDecodeError):
        return "invalid UTF-8"
    return f"unexpected {type(error).__name__}: {error}"


def _unparseable(error: Exception) -> bool:
    """The line is not JSON at all (as opposed to JSON with a wrong or missing value)."""
    if isinstance(error, msgspec.ValidationError):
        return False
    return isinstance(error, msgspec.DecodeError) or str(error) == "not a JSON object"


def each_line(data: bytes, start_offset: int, start_line: int, ctx: FileContext, batch: RecordBatch,
              handle: Callable[[bytes, int], None]) -> None:
    """Call `handle(raw, line_no)` for every non-blank line of `data` (which starts at byte
    `start_offset`, after line `start_line`); whatever a line raises quarantines that line only.
    A newline ending `data` ends its last line and starts none."""
    # Each line end is found with find() (memchr): bytes.split compares every byte in a loop of its
    # own, ~5% of a worker's instructions on logs whose lines run to kilobytes.
    find, size = data.find, len(data)
    if data.endswith(b"\n"):
        size -= 1
    handled, line_no, start = 0, start_line, 0
    while True:
        end = find(b"\n", start)
        if end < 0:
            end = size
        line_no += 1
        raw = data[start:end]
        # isspace() stops at the first non-blank byte; strip() would copy every (often huge) line.
        if raw and not raw.isspace():
            handled += 1
            try:
                handle(raw, line_no)
            except Exception as error:  # noqa: BLE001 - a line we did not foresee must not stop the run
                offset = start_offset + start
                if not (_unparseable(error) and _recover(raw, offset, line_no, ctx, batch, handle, _reason(error))):
                    batch.reject(ctx.path, offset, line_no, _reason(error), raw)
        if end == size:
            break
        start = end + 1
    batch.lines += handled
    ctx.last_line_no = line_no if size else start_line


def _recover(raw: bytes, offset: int, line_no: int, ctx: FileContext, batch: RecordBatch,
             handle: Callable[[bytes, int], None], reason: str) -> bool:
    """A fragment glued to the front of a good line: load the good part, quarantine the fragment."""
    start = raw.find(b'{"', 1)
    for _ in range(MAX_RECOVERY_TRIES):
        if start < 0:
            return False
        try:
            msgspec.json.decode(raw[start:])
        except msgspec.DecodeError:
            start = raw.find(b'{"', start + 1)
            continue
        try:
            handle(raw[start:], line_no)
        except Exception:  # noqa: BLE001 - the tail is JSON but not a usable record: reject the whole line
            return False
        batch.reject(ctx.path, offset, line_no, f"incomplete line before a complete record ({reason})", raw[:start])
        return True
    return False
