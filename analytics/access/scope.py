"""A viewer's scope: which people's rows they may read and how people are shown to them.

`bind(con, scope)` sets it on a connection (DuckDB variable `agentledger_scope`); the shared macros
read it there: `in_people` (every report, view and export filters through it) keeps rows in scope,
`person` shows a pseudonym instead of a name, `private_text` masks home folders in free text and
`small_group` withholds group figures over too few people. A connection with no scope bound is the
ledger file's owner (the CLI without --as, tests, benchmarks): whoever can open the file can read all
of it anyway. The dashboard binds on every connection it opens.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field

import duckdb

from store.sql import run_sql

SCOPE_VARIABLE = "agentledger_scope"
PSEUDONYM_PREFIX = "p-"
# 12 hex digits (48 bits): two of 20,000 people share a pseudonym with odds of about one in a million.
PSEUDONYM_HEX = 12
_BLOCK = 64  # SHA-256 block size: HMAC's key pads


@dataclass(frozen=True)
class Scope:
    """What one viewer may read. `everyone` or the union of `teams` and `users`; names or pseudonyms."""

    everyone: bool = False
    teams: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    viewer: str | None = None              # the viewer's own user name: always shown as a name
    pseudonym_key: bytes | None = field(default=None, repr=False)   # set: people shown as pseudonyms
    min_group: int | None = None           # set: group figures over fewer people are withheld

    @classmethod
    def owner(cls) -> "Scope":
        """Everything, names shown: the local viewer and an admin who sees names."""
        return cls(everyone=True)

    @property
    def pseudonymous(self) -> bool:
        return self.pseudonym_key is not None

    def pads(self) -> tuple[bytes | None, bytes | None]:
        """HMAC-SHA256's inner and outer key pads (RFC 2104), so SQL can compute the keyed hash."""
        if self.pseudonym_key is None:
            return None, None
        key = self.pseudonym_key
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)

    def struct(self) -> dict:
        """The value bound as the DuckDB variable (see analytics/sql/macros.sql)."""
        ipad, opad = self.pads()
        return {"everyone": self.everyone, "teams": list(self.teams), "users": list(self.users),
                "viewer": self.viewer, "ipad": ipad, "opad": opad, "min_group": self.min_group}

    @property
    def key(self) -> str:
        """A digest naming this scope, for caches shared between viewers (never the key itself)."""
        body = {**self.struct(), "ipad": None, "opad": None,
                "pseudonyms": hashlib.sha256(self.pseudonym_key).hexdigest() if self.pseudonym_key else None}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]


def pseudonym(key: bytes, user_name: str) -> str:
    """The stable pseudonym of a person under `key` (what the SQL macro `person` computes)."""
    digest = hmac.new(key, user_name.encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX]


def bind(con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
    """Make every later read on `con` obey `scope` (typed explicitly: an empty list must stay VARCHAR[])."""
    run_sql(con, f"""SET VARIABLE {SCOPE_VARIABLE} = {{
        'everyone': $everyone::BOOLEAN, 'teams': $teams::VARCHAR[], 'users': $users::VARCHAR[],
        'viewer': $viewer::VARCHAR, 'ipad': $ipad::BLOB, 'opad': $opad::BLOB, 'min_group': $min_group::INTEGER}}""",
            scope.struct())


def bound(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a scope is bound on this connection."""
    return con.execute(f"SELECT getvariable('{SCOPE_VARIABLE}') IS NOT NULL").fetchone()[0]
