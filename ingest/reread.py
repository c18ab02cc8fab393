"""Reading logs the ledger already holds once more, so that what a newer release reads better
replaces what an older one stored (`agentledger ingest --reread`).

Ingest never reads a stored line twice, so facts a parser learns to read later are missing from
rows it wrote before: a ledger that ran a release older than migration 009 holds tool results
without their kind (a cancelled sibling, a denial, a user's rejection all look like failures),
prompts without their parentUuid (no checkpoint rewind can be seen), background-task notices taken
for prompts, rejections without the reason the user gave. The flags read those facts.

A re-read replaces a session's facts (tool calls, tool results, events, agents) only when every
file holding its requests is read again: a transcript Claude Code has deleted since (30-day
cleanup) keeps what was ingested from it, and so does every session it belongs to (counted in
`sessions_kept`). Requests are never deleted: re-read lines compete with the stored ones by their
key like any read, so spend and token totals cannot change.

The reset is one transaction: the facts of the sessions go and their files' cursors return to the
start of the file together, so a run that dies after it leaves files that the next run, with or
without --reread, reads from the start again; nothing is lost on the way.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from store.sql import begin, commit, rollback, run_sql

# The per-session facts a transcript parser writes (requests excepted: see above), all deleted before
# they are read afresh: each table keeps the first row of a key, so a row an older parser got wrong (a
# commit's directory left NULL) would otherwise stay.
FACT_TABLES = ("tool_calls", "tool_results", "session_events", "agents", "edit_lines", "commit_evidence")

# Files the manifest knows but no parser recognised: there is nothing to read again.
UNRECOGNISED = "unrecognised"


@dataclass(frozen=True)
class RereadPlan:
    """What one --reread reset: files read again from the start, sessions whose facts they replace,
    and sessions left as ingested because a file holding their requests is not among them."""

    files: int
    sessions: int
    sessions_kept: int


_SESSIONS = """
CREATE OR REPLACE TEMP TABLE _reread_sessions AS
WITH asked AS (
    SELECT path, source FROM source_files
    WHERE path IN (SELECT unnest(?::VARCHAR[])) AND source <> ?
),
involved AS (
    SELECT DISTINCT session_id, source FROM requests
    WHERE file_path IN (SELECT path FROM asked) AND session_id IS NOT NULL
)
-- complete: every request of the session from this source lies in a file being read again
SELECT i.session_id, i.source,
       bool_and(coalesce(q.file_path IN (SELECT path FROM asked), FALSE)) AS complete
FROM involved i JOIN requests q ON q.session_id = i.session_id AND q.source = i.source
GROUP BY i.session_id, i.source
"""

# A file holding requests of a session that stays as ingested is not read again: its new rows
# would sit beside the old ones of that session (a notice stored as a prompt and as a notice).
_FILES = """
CREATE OR REPLACE TEMP TABLE _reread_files AS
SELECT path FROM source_files
WHERE path IN (SELECT unnest(?::VARCHAR[])) AND source <> ?
  AND path NOT IN (
      SELECT q.file_path FROM requests q
      JOIN _reread_sessions s ON s.session_id = q.session_id AND s.source = q.source AND NOT s.complete
      WHERE q.file_path IS NOT NULL)
"""

_DELETE = """
DELETE FROM {table}
WHERE EXISTS (SELECT 1 FROM _reread_sessions s
              WHERE s.complete AND s.session_id = {table}.session_id AND s.source = {table}.source)
"""

# Size and mtime that match no file, and an empty cursor: the run reads each file as if it had
# been rewritten, from its first line, with fresh parser state.
_RESET_CURSORS = """
UPDATE source_files SET size = -1, mtime_ns = -1, head_hash = '', offset_loaded = 0, lines_loaded = 0,
                        parser_state = NULL
WHERE path IN (SELECT path FROM _reread_files)
"""


def reset_known_files(con: duckdb.DuckDBPyConnection, paths: list[str]) -> RereadPlan:
    """Make the known files among `paths` (as the ledger names them) be read again from the start,
    and remove the facts they will write afresh; one write transaction (on a lake it claims the lake
    like every writer, store.sql.begin, so a concurrent writer's commit makes it redo, not interleave)."""
    begin(con)
    try:
        run_sql(con, _SESSIONS, [paths, UNRECOGNISED])
        run_sql(con, _FILES, [paths, UNRECOGNISED])
        for table in FACT_TABLES:
            run_sql(con, _DELETE.format(table=table))
        run_sql(con, _RESET_CURSORS)
        files = run_sql(con, "SELECT count(*) FROM _reread_files")[0][0]
        sessions, kept = run_sql(con, "SELECT count(*) FILTER (WHERE complete), count(*) FILTER (WHERE NOT complete)"
                                      " FROM _reread_sessions")[0]
        commit(con)
    except BaseException:
        rollback(con)
        raise
    finally:
        for name in ("_reread_sessions", "_reread_files"):
            run_sql(con, f"DROP TABLE IF EXISTS {name}")
    return RereadPlan(files, sessions, kept)
