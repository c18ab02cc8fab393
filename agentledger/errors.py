"""Map exceptions to the one line a user sees and the exit code a scheduler sees."""

from __future__ import annotations

import duckdb

from ingest.runner import IngestError
from store.db import DatabaseError
from store.ledger import LedgerBusy

USER_ERROR = 2
RUNTIME_ERROR = 1
# Another writer held the ledger past --wait: sysexits' EX_TEMPFAIL, "try again later".
BUSY = 75


class UserError(Exception):
    """A mistake in how the command was called or what it was given."""


def describe(error: Exception) -> tuple[str, int]:
    """(one-line message, exit code) for an exception escaping a command."""
    if isinstance(error, LedgerBusy):
        return _first_line(error), BUSY
    if isinstance(error, (UserError, IngestError, DatabaseError, FileNotFoundError)):
        return _first_line(error), USER_ERROR
    if isinstance(error, duckdb.Error):
        return f"database error: {_first_line(error)}", RUNTIME_ERROR
    return f"{type(error).__name__}: {_first_line(error)}", RUNTIME_ERROR


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
