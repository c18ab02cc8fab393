"""Fetch the Admin API Claude Code usage report for one UTC day and save it for ingest.

Off by default: it needs an admin key (sk-ant-admin...) and network access. The saved file is
read by `agentledger ingest` like any other report file (source admin_api).

    ANTHROPIC_ADMIN_KEY=sk-ant-admin... python -m ingest.admin_api.fetch --day 2026-01-05 --out reports/
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path
from typing import Callable

ENDPOINT = "https://api.anthropic.com/v1/organizations/usage_report/claude_code"
API_VERSION = "2023-06-01"
PAGE_LIMIT = 1000
MAX_PAGES = 1000
KEY_ENV = "ANTHROPIC_ADMIN_KEY"

HttpGet = Callable[[str, dict[str, str]], bytes]


class FetchError(RuntimeError):
    """The report could not be fetched; the message is one line for the user."""


def urllib_get(url: str, headers: dict[str, str]) -> bytes:
    """GET with the standard library (the only network call in the product)."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()
    except OSError as error:
        raise FetchError(f"cannot fetch {url.split('?')[0]}: {error}") from error


def fetch_day(api_key: str, day: date, get: HttpGet = urllib_get) -> list[dict]:
    """Every record for `day`, following next_page until has_more is false."""
    if not api_key.startswith("sk-ant-admin"):
        raise FetchError("the usage report needs an admin key (sk-ant-admin...)")
    headers = {"x-api-key": api_key, "anthropic-version": API_VERSION}
    params = {"starting_at": day.isoformat(), "limit": str(PAGE_LIMIT)}
    records: list[dict] = []
    for _ in range(MAX_PAGES):
        body = json.loads(get(f"{ENDPOINT}?{urllib.parse.urlencode(params)}", headers))
        records.extend(body.get("data") or [])
        if not body.get("has_more") or not body.get("next_page"):
            return records
        params["page"] = body["next_page"]
    raise FetchError(f"more than {MAX_PAGES} pages for {day}: giving up")


def save_day(records: list[dict], out_dir: Path, day: date) -> Path:
    """Write one page file per day; re-fetching a day replaces its file (and, on ingest, its rows)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"claude_code_usage-{day.isoformat()}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"data": records, "has_more": False, "next_page": None}), encoding="utf-8")
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None, get: HttpGet = urllib_get) -> int:
    """Command-line entry: fetch one day (default yesterday is the caller's job) into --out."""
    parser = argparse.ArgumentParser(prog="python -m ingest.admin_api.fetch", description=__doc__.splitlines()[0])
    parser.add_argument("--day", required=True, type=date.fromisoformat, help="UTC day, YYYY-MM-DD")
    parser.add_argument("--out", required=True, type=Path, help="folder the report files go to")
    args = parser.parse_args(argv)
    key = os.environ.get(KEY_ENV)
    if not key:
        print(f"fetch: set {KEY_ENV} to an admin API key", file=sys.stderr)
        return 2
    try:
        path = save_day(fetch_day(key, args.day, get), args.out, args.day)
    except FetchError as error:
        print(f"fetch: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
