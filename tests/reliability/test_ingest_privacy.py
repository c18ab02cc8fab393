"""Privacy by default: no credential that an agent's command, an error or a prompt carried is
stored anywhere, in any source's rows; rejected lines keep a hash and a length; the ledger is the
owner's alone."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from agentledger.pipeline import ingest_and_refresh
from ingest.runner import IngestOptions
from tests.claude_lines import assistant, envelope, prompt, text, tool_use, usage, write_jsonl
from tests.test_source_codex import line, meta, rollout, tokens, turn, write
from tests.test_source_codex import usage as codex_usage
from tests.test_source_gemini import gemini, session, shell_call
from tests.test_source_gemini import write as write_gemini
from tests.test_source_otel import NS, attr, event, logs, write_otel

T0 = "2026-03-01T10:00:00.000Z"
# Real-looking, not real: the published formats of each kind of credential.
SECRETS = {
    "aws": "AKIAZ7VJ4QK3LD8MN2PX",
    "aws_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq9XkLm2Np",
    "github": "ghp_4fT7qLm2Zx9Kd1Vb8Nw3Rj6Yc0Hs5Pa2Ue7Gi",
    "gitlab": "glpat-Zk3Jm9Qw2Xr7Tb5Vn1Lp",
    "slack": "xoxb-2048175930-5839204716-Yq8Zt3Wn6Ks1Jd4Fh7Lm2Px",
    "anthropic": "sk-ant-api03-Qz7Lm2Xk9Vd4Tb8Nw1Rj6Yc3Hs5Pa0Ue7GiKf2Lq9Zm",
    "openai": "sk-proj-Ab3De7Gh1Jk5Mn9Pq2St6Vw0Yz4Bc8Ef1Hi5Kl9No3Qr",
    "bearer": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTc5MH0.kQ2vR7tY9uW1xZ3aB5cD7eF9gH1iJ3kL5mN7oP9qR1s",
    "url_password": "Tr0ub4dor-and-3",
    "cli_password": "S3cretPassw0rd!",
    "env_password": "hunter2-but-longer",
}
COMMAND = (f"export AWS_ACCESS_KEY_ID={SECRETS['aws']} AWS_SECRET_ACCESS_KEY={SECRETS['aws_secret']} && "
           f"git clone https://alice:{SECRETS['url_password']}@git.corp.example/app.git && "
           f"curl -H 'Authorization: Bearer {SECRETS['bearer']}' https://api.corp.example && "
           f"mysql -u root -p{SECRETS['cli_password']} app && DB_PASSWORD={SECRETS['env_password']} npm start")
TOKENS = f"gh {SECRETS['github']} gl {SECRETS['gitlab']} slack {SECRETS['slack']} ant {SECRETS['anthropic']} oai {SECRETS['openai']}"


def _claude(root: Path) -> None:
    api_error = envelope("assistant", T0, isApiErrorMessage=True, error=f"401 invalid x-api-key {SECRETS['anthropic']}",
                         message={"id": "msg_err", "model": "<synthetic>", "content": [], "usage": usage(0, 0)})
    retry = envelope("system", T0, subtype="api_error", error=f"retrying with Bearer {SECRETS['bearer']}")
    write_jsonl(root / "claude" / "p" / "s.jsonl", [
        prompt(T0, f"deploy with {TOKENS} and {COMMAND}"),
        assistant(T0, "msg_1", "req_1", usage(1, 2), [tool_use("toolu_1", "Bash", {"command": COMMAND})]),
        assistant(T0, "msg_2", "req_2", usage(1, 2), [tool_use("toolu_2", "Bash", {"command": TOKENS})]),
        api_error, retry,
        '{"type":"user","message":{"content":"my token is ' + SECRETS["github"] + ' and key ' + SECRETS["aws"],  # rejected
    ])


def _codex(root: Path) -> None:
    write(rollout(root / "codex"), [
        meta(), turn(),
        line("2025-11-22T20:48:10.000Z", "response_item", {"type": "function_call", "name": "shell", "call_id": "c1",
                                                           "arguments": json.dumps({"command": ["bash", "-lc", COMMAND]})}),
        line("2025-11-22T20:48:10.000Z", "event_msg", {"type": "user_message", "message": f"use {TOKENS}"}),
        line("2025-11-22T20:48:10.000Z", "event_msg", {"type": "turn_aborted", "reason": f"auth failed: {SECRETS['slack']}"}),
        tokens("2025-11-22T20:48:11.000Z", codex_usage(100, 0, 10)),
    ])


def _gemini(root: Path) -> None:
    write_gemini(root / "gemini" / "chats" / "session-1.json", session([
        {"id": "u1", "timestamp": "2025-12-09T19:51:29.418Z", "type": "user", "content": f"try {TOKENS}"},
        gemini("m1", "2025-12-09T19:51:50.000Z", {"input": 10, "output": 5, "total": 15},
               [shell_call("g1", f"psql --password {SECRETS['cli_password']} && {COMMAND}", 0)]),
    ]))


def _otel(root: Path) -> None:
    point = {"startTimeUnixNano": str(NS), "timeUnixNano": str(NS + 10**9), "asInt": "3",
             "attributes": [attr("user.email", "ana@corp.example"), attr("auth.token", SECRETS["gitlab"]),
                            attr("note", f"api_key={SECRETS['openai']}")]}
    write_otel(root / "otel" / "o.json", [
        logs([event("tool_result", tool_name="Bash", tool_use_id="toolu_9", success="true",
                    tool_parameters=json.dumps({"bash_command": COMMAND}), **{"user.email": "ana@corp.example"})]),
        {"resourceMetrics": [{"resource": {"attributes": [attr("service.name", "claude-code")]},
                              "scopeMetrics": [{"metrics": [{"name": "claude_code.session.count",
                                                             "sum": {"aggregationTemporality": 1, "dataPoints": [point]}}]}]}]},
    ])


def _every_text(con) -> str:
    tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    parts = []
    for table in tables:
        for row in con.execute(f"SELECT * FROM {table}").fetchall():
            parts.extend(str(v) for v in row if v is not None)
    return "\n".join(parts)


def _secret_fragments() -> list[str]:
    # The last 12 characters of each: a secret half removed is still a leak.
    return [value[-12:] for value in SECRETS.values()]


@pytest.mark.parametrize("store_prompts", [False, True])
def test_no_secret_is_stored_anywhere_whatever_the_source(tmp_path, ledger, store_prompts):
    for write_source in (_claude, _codex, _gemini, _otel):
        write_source(tmp_path / "logs")
    ingest_and_refresh(ledger, IngestOptions(
        paths=[tmp_path / "logs"], user="al", store_prompts=store_prompts, progress=False,
    ), command=f"agentledger ingest /logs --db postgresql://al:{SECRETS['url_password']}@db/ledger")
    stored = _every_text(ledger)
    leaked = [fragment for fragment in _secret_fragments() if fragment in stored]
    assert leaked == []
    # Scrubbed, not dropped: the commands are still there to read.
    commands = [c for (c,) in ledger.execute("SELECT command FROM tool_calls WHERE command IS NOT NULL").fetchall()]
    assert len(commands) == 5 and all("[REDACTED]" in c for c in commands)
    assert "git clone https://alice:[REDACTED]@git.corp.example/app.git" in commands[0] or any(
        "alice:[REDACTED]@" in c for c in commands)
    prompts = [p for (p,) in ledger.execute("SELECT prompt_text FROM session_events WHERE prompt_text IS NOT NULL").fetchall()]
    assert (len(prompts) == 3) is store_prompts


def test_a_rejected_line_is_kept_as_hash_and_length_unless_prompts_are_opted_in(tmp_path, ledger):
    bad = '{"type":"user","message":{"content":"my prompt with ' + SECRETS["github"]
    write_jsonl(tmp_path / "a" / "s.jsonl", [bad])
    ingest_and_refresh(ledger, IngestOptions(paths=[tmp_path / "a"], user="al", progress=False))
    assert ledger.execute("SELECT head, line_bytes, length(line_hash) FROM rejects").fetchall() == [(None, len(bad), 16)]
    write_jsonl(tmp_path / "b" / "s.jsonl", [bad])
    ingest_and_refresh(ledger, IngestOptions(paths=[tmp_path / "b"], user="al", store_prompts=True, progress=False))
    head = ledger.execute("SELECT head FROM rejects WHERE path LIKE '%/b/%'").fetchone()[0]
    assert head == '{"type":"user","message":{"content":"my prompt with [REDACTED]'


def test_the_ledger_and_its_folder_are_created_owner_only(tmp_path):
    logs = tmp_path / "logs"
    write_jsonl(logs / "p" / "s.jsonl", [prompt(T0, "hi"), assistant(T0, "m", "r", usage(1, 1), [text()])])
    db = tmp_path / "private" / "below" / "ledger.duckdb"
    result = subprocess.run([sys.executable, "-m", "agentledger.cli", "ingest", str(logs), "--db", str(db), "--user", "al"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(db.parent.stat().st_mode) == stat.S_IMODE(db.parent.parent.stat().st_mode) == 0o700
    for path in db.parent.iterdir():  # the ledger and every file beside it (locks, a WAL if any)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] == 1
    assert os.access(db, os.R_OK)
