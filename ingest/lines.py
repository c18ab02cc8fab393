"""What every line-oriented parser shares: the reject reasons and the quarantine loop."""

from __future__ import annotations

from typing import Callable

import msgspec

from ingest.batch import RecordBatch
from ingest.context import FileContext


class LineError(ValueError):
    """A line we cannot use; the message is the reject reason."""


def decode_reason(error: Exception) -> str:
    """One-line reject reason for a msgspec decode or validation error."""
    text = str(error).splitlines()[0]
    if isinstance(error, msgspec.ValidationError):
        return f"wrong type: {text}"
    return f"malformed JSON: {text}"


def each_line(data: bytes, start_offset: int, start_line: int, ctx: FileContext, batch: RecordBatch,
              handle: Callable[[bytes, int], None]) -> None:
    """Call `handle(raw, line_no)` for every non-blank line of `data` (which starts at byte
    `start_offset`, after line `start_line`); whatever a line raises quarantines that line only."""
    offset, line_no = start_offset, start_line
    for raw in data.split(b"\n"):
        line_no += 1
        # isspace() stops at the first non-blank byte; strip() would copy every (often huge) line.
        if raw and not raw.isspace():
            batch.lines += 1
            try:
                handle(raw, line_no)
            except LineError as error:
                batch.reject(ctx.path, offset, line_no, str(error), raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as error:
                batch.reject(ctx.path, offset, line_no, decode_reason(error), raw)
            except UnicodeDecodeError:
                batch.reject(ctx.path, offset, line_no, "invalid UTF-8", raw)
            except Exception as error:  # noqa: BLE001 - a line we did not foresee must not stop the run
                batch.reject(ctx.path, offset, line_no, f"unexpected {type(error).__name__}: {error}", raw)
        offset += len(raw) + 1
    ctx.last_line_no = line_no if data else start_line
