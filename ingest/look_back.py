"""The lines of a file before the offset a read starts at: where the call of a tool result that
arrives in a later read was written.

A scheduled run reads a session file while the agent still writes it, and a large file is read in
blocks, so a tool call and its result can fall in two reads. The parser keeps no memory of earlier
reads' calls (an edit's input can be a whole file); when a result meets an unknown call that matters
(an edit, a git command), the call's line is found again in the file, searched backwards from the
read's start. Nothing is searched when calls and results meet in one read, the common case.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# Bytes read per step backwards; a call is nearly always within the last few steps.
WINDOW = 1 << 20
# The most one read looks back over, all lookups together: a call further back (or an id that is in
# no line at all) costs at most this, and its result is read as if no call were known.
BUDGET = 64 << 20


class EarlierLines:
    """Backward search of `path` before byte `end` (a line boundary: where the read starts)."""

    def __init__(self, path: Path | None, end: int, budget: int = BUDGET) -> None:
        self.path = path
        self.end = end if path is not None else 0
        self.budget = budget

    def find(self, needle: bytes, accept: Callable[[bytes], T | None]) -> T | None:
        """`accept(line)` of the last line before `end` that contains `needle` and that `accept`
        does not refuse (None: not the line wanted, or not JSON), searching further back after a
        refusal; None when no such line is found within the budget."""
        if self.end <= 0 or not needle:
            return None
        try:
            with open(self.path, "rb") as handle:
                return self._find(handle, needle, accept)
        except OSError:
            return None  # the file went away or cannot be read: the result is read without its call

    def _find(self, handle, needle: bytes, accept: Callable[[bytes], T | None]) -> T | None:
        stop = self.end  # nothing at or after this offset is searched again
        while stop > 0 and self.budget > 0:
            start = max(0, stop - min(WINDOW, self.budget))
            # The window reaches len(needle) - 1 bytes past `stop`, so a needle across the edge is whole.
            reach = min(self.end, stop + len(needle) - 1)
            handle.seek(start)
            window = handle.read(reach - start)
            self.budget -= len(window)
            hit = window.rfind(needle)
            if hit < 0:
                stop = start
                continue
            line_start = self._line_start(handle, window, start, hit)
            if line_start < 0:
                return None
            handle.seek(line_start)
            line = handle.readline()
            self.budget -= len(line)
            found = accept(line.rstrip(b"\r\n"))
            if found is not None:
                return found
            stop = line_start
        return None

    def _line_start(self, handle, window: bytes, start: int, hit: int) -> int:
        """Where the line holding window[hit] begins; -1 when the budget ends first."""
        newline = window.rfind(b"\n", 0, hit)
        if newline >= 0 or start == 0:
            return start + newline + 1
        # The line began before the window: step back until its newline (a long line, a Write).
        position = start
        while position > 0:
            if self.budget <= 0:
                return -1
            step = max(0, position - WINDOW)
            handle.seek(step)
            block = handle.read(position - step)
            self.budget -= len(block)
            newline = block.rfind(b"\n")
            if newline >= 0:
                return step + newline + 1
            position = step
        return 0
