"""Secrets never reach the ledger: every free-text column is scrubbed before it is written.

Commands agents run (`tool_calls.command`), error texts (`session_events.detail`), opted-in prompts
and rejected lines, and OTel attributes routinely carry credentials: `curl -H "Authorization:
Bearer …"`, `mysql -pS3cret`, `export OPENAI_API_KEY=sk-…`, `git clone https://user:token@…`.

The rules are the published formats of the common credentials (the same ones detect-secrets and
gitleaks match) plus the places a secret sits in a command line. They run as vectorised Rust
regexes over a whole column (Polars `str.replace_all`), so scrubbing costs about as much as
copying the column. detect-secrets was evaluated and not used: its scanner is built for files in a
repository (400 µs per command line here, several thousand times this), reports the prefix group
rather than the secret for several token kinds (so it cannot drive a redaction), flags every
high-entropy word, and knows no Anthropic key, bearer header or `--password` argument.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

REDACTED = "[REDACTED]"

# (what it catches, pattern, replacement). A replacement keeps the part that says what was there
# (`Authorization: Bearer `, `--password=`, `DB_PASSWORD=`) and drops only the secret.
RULES: tuple[tuple[str, str, str], ...] = (
    ("private key block", r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z ]*PRIVATE KEY-----|$)", REDACTED),
    ("AWS access key id", r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b", REDACTED),
    ("GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})", REDACTED),
    ("GitLab token", r"\bgl(?:pat|ptt|dt|rt|cbt|oas|soat|ffct|imt|agent)-[A-Za-z0-9_\-]{20,}", REDACTED),
    ("Slack token or webhook", r"\bx(?:ox[abposre]|app)-[A-Za-z0-9\-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+", REDACTED),
    ("Anthropic key", r"\bsk-ant-[A-Za-z0-9_\-]{20,}", REDACTED),
    ("OpenAI key", r"\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,}", REDACTED),
    ("Stripe key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", REDACTED),
    ("Google API key", r"\bAIza[0-9A-Za-z_\-]{35}", REDACTED),
    ("JSON web token", r"\beyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}", REDACTED),
    ("authorization header", r"(?i)(\b(?:authorization|proxy-authorization|x-api-key|api-key|private-token)\s*[:=]\s*(?:(?:bearer|basic|token|digest)\s+)?)[^\s'\"]+", "${1}" + REDACTED),
    ("bearer token", r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=\-]{8,}", "${1}" + REDACTED),
    ("password in a URL", r"(\b[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@'\"]*:)[^@\s/'\"]+@", "${1}" + REDACTED + "@"),
    ("password argument", r"(?i)((?:^|\s)--?(?:password|passwd|pass|pwd|token|secret|api[-_]?key|access[-_]token|auth[-_]token|client[-_]secret)(?:=|\s+))(?:'[^']*'|\"[^\"]*\"|[^\s'\"]+)", "${1}" + REDACTED),
    ("-p with the password attached", r"(\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^|;&\n]*?\s-p)[^\s'\"]+", "${1}" + REDACTED),
    ("sshpass -p", r"(\bsshpass\s+-p\s*)[^\s'\"]+", "${1}" + REDACTED),
    ("secret-named assignment", r"(?i)(\b[A-Za-z_][A-Za-z0-9_.\-]*(?:key|token|secret|passw(?:or)?d|pwd|credentials?|auth)[A-Za-z0-9_]*[\"']?\s*[:=]\s*)(?:'[^']*'|\"[^\"]*\"|[^\s'\",}]+)", "${1}" + REDACTED),
)


def scrub_expr(expr: "pl.Expr") -> "pl.Expr":
    """`expr` (a string column) with every rule applied."""
    for _, pattern, replacement in RULES:
        expr = expr.str.replace_all(pattern, replacement)
    return expr


def scrub_frame(frame: "pl.DataFrame", columns: tuple[str, ...]) -> "pl.DataFrame":
    """`frame` with its free-text `columns` scrubbed (columns it lacks or that are all null are skipped)."""
    import polars as pl

    targets = [name for name in columns if name in frame.columns and frame[name].null_count() < frame.height]
    if not targets:
        return frame
    return frame.with_columns(_scrub_series(frame[name]) for name in targets)


# Matches where any rule matches. A value no rule matches passes every rule unchanged, so only the
# values it finds go through the rules one by one: most commands and subjects hold no secret, and
# seventeen passes over every value were most of the cost of scrubbing.
_ANY_RULE = "|".join(f"(?:{pattern})" for _, pattern, _ in RULES)


def _scrub_series(column: "pl.Series") -> "pl.Series":
    import polars as pl

    hits = column.str.contains(_ANY_RULE).fill_null(False).arg_true()
    if hits.is_empty():
        return column
    scrubbed = column.gather(hits).to_frame().select(scrub_expr(pl.col(column.name))).to_series()
    return column.clone().scatter(hits, scrubbed)


def scrub(text: str | None) -> str | None:
    """One string scrubbed by the same rules (run commands, error messages), with Python's `re`:
    a run that loads nothing never imports Polars for its one command line (a third of a no-op's
    time). The rules mean the same in both engines (tests/reliability/test_ingest_privacy.py)."""
    if text is None:
        return None
    for pattern, replacement in _compiled():
        text = pattern.sub(replacement, text)
    return text


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[re.Pattern, str], ...]:
    # Rust's `${1}` is Python's `\g<1>`; the patterns themselves are written in the syntax both share.
    return tuple((re.compile(pattern), re.sub(r"\$\{(\d+)\}", r"\\g<\1>", replacement))
                 for _, pattern, replacement in RULES)
