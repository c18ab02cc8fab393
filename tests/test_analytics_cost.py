"""Cost: genai-prices resolved once per model, computed in SQL; checked against ccusage on the real
corpus, against genai-prices itself per request, and for tiers, 1h writes, unknown models and overrides."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price

from analytics.config import AnalyticsSettings
from analytics.pricing import PriceFileError
from analytics.refresh import refresh_derived
from tests.helpers import ingest, shared_dir
from tests.transcript_builder import Transcript, load, report

REAL = shared_dir() / "corpus" / "iansherr__claude-code-log" / "test" / "test_data" / "real_projects"

# ccusage 20.0.24 `claude daily --offline` per folder (../shared/corpus/README.md)
CCUSAGE = {
    "-Users-dain-workspace-JSSoundRecorder": 1.4912,
    "-Users-dain-workspace-claude-code-log-sample": 11.3849,
    "-Users-dain-workspace-coderabbit-review-helper": 3.0735,
    "-Users-dain-workspace-danieldemmel-me-next": 5.1231,
    "-experiments-ideas": 0.2125,
    "-experiments-worktrees": 5.4513,
    "-src-deep-manifest": 6.2140,
    "-src-experiments-claude_p": 0.4655,
}


@pytest.mark.skipif(not REAL.exists(), reason="../shared/corpus is not beside the checkout")
@pytest.mark.parametrize("folder", sorted(CCUSAGE))
def test_cost_matches_ccusage_on_the_real_corpus(ledger, folder):
    ingest(ledger, REAL / folder, user="check")
    (models,) = [report(ledger, "models")]
    assert round(sum(m["cost_usd"] for m in models), 4) == CCUSAGE[folder]
    assert all(m["unpriced_requests"] == 0 and m["price_version"] == "genai-prices 0.2.3" for m in models)


def _library_cost(model: str, ts: str, inp: int, out: int, cc: int, cr: int, cc_1h: int) -> Decimal:
    usage = Usage(input_tokens=inp + cc + cr, output_tokens=out, cache_read_tokens=cr, cache_write_tokens=cc,
                  cache_write_1h_tokens=cc_1h)
    when = datetime.fromisoformat(ts).replace(tzinfo=timezone.utc)
    return calc_price(usage, model, genai_request_timestamp=when).total_price


CASES = [
    # model, day, (input, output, cache write, cache read), of which 1h writes
    ("claude-sonnet-4-20250514", "2026-03-02T09:00:00", (1000, 500, 2000, 30000), 0),
    ("claude-sonnet-4-5-20250929", "2026-03-02T09:00:00", (1000, 500, 2000, 300000), 1000),   # long-context tier
    ("claude-sonnet-4-5-20250929", "2026-03-02T09:00:00", (1000, 500, 2000, 190000), 1000),   # just under it
    ("claude-opus-4-6", "2026-03-01T09:00:00", (10, 800, 5000, 250000), 5000),                # tier before 2026-03-13
    ("claude-opus-4-6", "2026-03-20T09:00:00", (10, 800, 5000, 250000), 5000),                # flat after
    ("claude-haiku-4-5-20251001", "2026-03-02T09:00:00", (50, 20, 0, 0), 0),
]


@pytest.mark.parametrize("model, ts, tokens, cc_1h", CASES)
def test_sql_cost_equals_genai_prices_per_request(ledger, tmp_path, model, ts, tokens, cc_1h):
    t = Transcript(start=ts, model=model).prompt()
    t.reply(tokens, cc_1h=cc_1h)
    load(ledger, tmp_path, t)
    (cost,) = ledger.execute("SELECT cost_usd FROM request_facts").fetchone()
    assert cost == pytest.approx(float(_library_cost(model, t.now.isoformat(), *tokens, cc_1h)), rel=1e-12)


def test_long_context_tier_worked_by_hand(ledger, tmp_path):
    # sonnet-4-5 above 200k prompt tokens: $6 in, $22.50 out, $0.60 read, $7.50 5m write, $12 1h write
    t = Transcript(model="claude-sonnet-4-5-20250929").prompt()
    t.reply((1000, 500, 2000, 300000), cc_1h=1000)
    load(ledger, tmp_path, t)
    (cost,) = ledger.execute("SELECT cost_usd FROM request_facts").fetchone()
    assert cost == pytest.approx((1000 * 6 + 500 * 22.5 + 300000 * 0.6 + 1000 * 7.5 + 1000 * 12) / 1e6)


def test_unknown_model_is_unpriced_never_zero(ledger, tmp_path):
    t = Transcript(model="acme-coder-9").prompt()
    t.reply((10, 90, 0, 900))
    u = Transcript("s2").prompt()
    u.reply((10, 90, 0, 900))
    load(ledger, tmp_path, t, u)
    models = {m["model"]: m for m in report(ledger, "models")}
    assert models["acme-coder-9"]["cost_usd"] is None and models["acme-coder-9"]["unpriced_requests"] == 1
    assert models["acme-coder-9"]["price_version"] is None
    (user,) = report(ledger, "users")
    assert user["unpriced_requests"] == 1 and user["cost_usd"] == pytest.approx(0.00165)


def test_override_file_prices_a_model_and_a_change_reprices_history(ledger, tmp_path):
    prices = tmp_path / "prices.toml"
    prices.write_text('[[models]]\nmodel = "acme-coder-9"\ninput_mtok = 1\noutput_mtok = 2\ncache_read_mtok = 0.1\n'
                      'cache_write_5m_mtok = 1.25\ncache_write_1h_mtok = 2\n')
    t = Transcript(model="acme-coder-9").prompt()
    t.reply((1000, 1000, 1000, 10000))
    load(ledger, tmp_path, t)
    refresh_derived(ledger, cfg=AnalyticsSettings(prices_file=prices))
    (model,) = report(ledger, "models")
    assert model["cost_usd"] == pytest.approx((1000 * 1 + 1000 * 2 + 1000 * 1.25 + 10000 * 0.1) / 1e6)
    assert model["price_version"].startswith("override prices.toml@")
    prices.write_text('[[models]]\nmodel = "claude-sonnet-4-20250514"\ndiscount_pct = 20\n')
    refresh_derived(ledger, cfg=AnalyticsSettings(prices_file=prices))
    (model,) = report(ledger, "models")
    assert model["cost_usd"] is None  # the override no longer names it: unpriced again


def test_editing_the_override_file_reprices_requests_already_derived(ledger, tmp_path):
    prices = tmp_path / "prices.toml"
    prices.write_text("")
    cfg = AnalyticsSettings(prices_file=prices)
    t = Transcript(model="acme-coder-9").prompt()
    t.reply((0, 1000, 0, 0))
    load(ledger, tmp_path, t)
    refresh_derived(ledger, cfg=cfg)
    assert report(ledger, "models")[0]["cost_usd"] is None
    prices.write_text('[[models]]\nmodel = "acme-coder-9"\ninput_mtok = 1\noutput_mtok = 2\ncache_read_mtok = 0\n'
                      'cache_write_5m_mtok = 0\ncache_write_1h_mtok = 0\n')
    refresh_derived(ledger, cfg=cfg)
    assert report(ledger, "models")[0]["cost_usd"] == pytest.approx(0.002)


def test_discount_override_scales_library_prices(ledger, tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text('{"models": [{"model": "claude-sonnet-4-20250514", "discount_pct": 20}]}')
    t = Transcript().prompt()
    t.reply((10, 90, 0, 900))
    load(ledger, tmp_path, t)
    refresh_derived(ledger, cfg=AnalyticsSettings(prices_file=prices))
    (model,) = report(ledger, "models")
    assert model["cost_usd"] == pytest.approx(0.00165 * 0.8)


def test_a_bad_override_file_is_one_clear_error(ledger, tmp_path):
    prices = tmp_path / "prices.toml"
    prices.write_text('[[models]]\nmodel = "x"\ninput_mtok = -1\n')
    with pytest.raises(PriceFileError, match="invalid prices file .*prices.toml"):
        refresh_derived(ledger, cfg=AnalyticsSettings(prices_file=prices))


def test_refresh_is_idempotent_and_incremental(ledger, tmp_path):
    t = Transcript().prompt()
    t.reply((10, 90, 0, 900), [("Bash", {"command": "make"}, "E", True)])
    load(ledger, tmp_path, t)
    tables = ("request_facts", "request_components", "session_day_facts", "component_day_facts", "flags")
    snapshot = lambda: {n: sorted(ledger.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in tables}  # noqa: E731
    before = snapshot()
    assert refresh_derived(ledger).sessions == 0   # nothing new since the ingest's own refresh
    assert refresh_derived(ledger, full=True).sessions == 1
    assert snapshot() == before
