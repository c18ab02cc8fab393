"""Generated org: our per-user token totals agree with ccusage to the token (when ccusage is installed)."""

from __future__ import annotations

import pytest

from bench import ccusage
from sample_data.generator import generate
from store.db import connect_writer
from tests.helpers import ingest

pytestmark = pytest.mark.skipif(
    ccusage.installed() is None, reason="ccusage not installed (run .ci/install-ccusage; needs npm)"
)

KEYS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("org")
    generate(out, users=4, days=3, seed=11)
    return out


def test_whole_org_totals_match_ccusage(generated, tmp_path):
    con = connect_writer(tmp_path / "l.duckdb")
    ingest(con, generated, user=None, user_from_dir=True)
    row = con.execute(
        "SELECT sum(input_tokens), sum(output_tokens), sum(cache_creation_tokens), sum(cache_read_tokens) "
        "FROM requests WHERE source = 'claude'"
    ).fetchone()
    con.close()
    assert dict(zip(KEYS, map(int, row))) == ccusage.daily_totals(generated)


def test_each_user_matches_ccusage(generated, tmp_path):
    con = connect_writer(tmp_path / "l.duckdb")
    ingest(con, generated, user=None, user_from_dir=True)
    for user_dir in sorted(p for p in generated.iterdir() if (p / ".claude" / "projects").is_dir()):
        row = con.execute(
            "SELECT coalesce(sum(input_tokens),0), coalesce(sum(output_tokens),0), coalesce(sum(cache_creation_tokens),0),"
            " coalesce(sum(cache_read_tokens),0) FROM requests WHERE source = 'claude' AND user_name = ?",
            [user_dir.name],
        ).fetchone()
        assert dict(zip(KEYS, map(int, row))) == ccusage.daily_totals(user_dir / ".claude"), user_dir.name
    con.close()
