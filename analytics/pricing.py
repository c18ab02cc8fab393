"""Model prices: each distinct model resolved once (genai-prices, or a local override) into rows
of the model_prices table; cost itself is computed in SQL (analytics/sql/derive_requests.sql)."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Iterable

import genai_prices
from genai_prices import data_snapshot, types as gp
from pydantic import BaseModel, ConfigDict, Field, ValidationError

OPEN_START = date(1970, 1, 1)
OPEN_END = date(9999, 12, 31)
BASE_TIER = -1
LIBRARY_VERSION = f"genai-prices {genai_prices.__version__}"


class PriceFileError(ValueError):
    """The override file is unreadable or invalid; the message names the file."""


class PriceOverride(BaseModel):
    """Negotiated prices for one model, in USD per million tokens. Rates left out come from
    genai-prices (base tier); discount_pct then applies to every rate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1, description="the model id exactly as logged")
    input_mtok: float | None = Field(None, ge=0)
    output_mtok: float | None = Field(None, ge=0)
    cache_read_mtok: float | None = Field(None, ge=0)
    cache_write_5m_mtok: float | None = Field(None, ge=0)
    cache_write_1h_mtok: float | None = Field(None, ge=0)
    discount_pct: float = Field(0.0, ge=0, lt=100)


class PriceFile(BaseModel):
    """The override file: `[[models]]` tables (TOML) or {"models": [...]} (JSON)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: list[PriceOverride] = Field(default_factory=list)


@dataclass(frozen=True)
class PriceRow:
    model: str
    valid_from: date
    valid_to: date
    tier_start: int
    provider: str | None
    price_model: str | None
    input_mtok: float
    output_mtok: float
    cache_read_mtok: float
    cache_write_5m_mtok: float
    cache_write_1h_mtok: float
    web_search_kcount: float
    price_version: str


def load_price_file(path: Path | None) -> tuple[PriceFile, str | None]:
    """Parse and validate the override file; returns it and a version label naming its content."""
    if path is None:
        return PriceFile(), None
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise PriceFileError(f"cannot read prices file {path}: {error.strerror}") from error
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else tomllib.loads(raw.decode("utf-8"))
        parsed = PriceFile.model_validate(data)
    except (ValueError, ValidationError) as error:
        raise PriceFileError(f"invalid prices file {path}: {str(error).splitlines()[0]}") from error
    return parsed, f"override {path.name}@{hashlib.sha256(raw).hexdigest()[:8]}"


def _rate(price: Decimal | gp.TieredPrices | None, above: int) -> float | None:
    """The rate that applies when the prompt exceeds `above` tokens (cliff tiers, as genai-prices)."""
    if price is None:
        return None
    if isinstance(price, gp.TieredPrices):
        applicable = price.base
        for tier in price.tiers:
            if above >= tier.start:
                applicable = tier.price
        return float(applicable)
    return float(price)


def _tier_starts(price: gp.ModelPrice) -> list[int]:
    starts = {BASE_TIER}
    for value in vars(price).values():
        if isinstance(value, gp.TieredPrices):
            starts.update(tier.start for tier in value.tiers)
    return sorted(starts)


def _rates(price: gp.ModelPrice, above: int) -> dict[str, float]:
    """Per-token-kind rates, falling back the way genai-prices decomposes usage: a kind without its
    own price is charged at its parent's (1h write -> cache write -> input; cache read -> input)."""
    get = lambda key: _rate(getattr(price, key, None), above)  # noqa: E731
    input_rate = get("input_mtok") or 0.0
    cache_write = get("cache_write_mtok")
    return {
        "input_mtok": input_rate,
        "output_mtok": get("output_mtok") or 0.0,
        "cache_read_mtok": _first(get("cache_read_mtok"), input_rate),
        "cache_write_5m_mtok": _first(get("cache_write_5m_mtok"), cache_write, input_rate),
        "cache_write_1h_mtok": _first(get("cache_write_1h_mtok"), cache_write, input_rate),
        "web_search_kcount": get("web_searches_kcount") or 0.0,
    }


def _first(*values: float | None) -> float:
    return next(v for v in values if v is not None)


def _periods(model: gp.ModelInfo) -> list[tuple[date, date]]:
    # Prices that change on a date (ConditionalPrice with a start date) become consecutive periods;
    # time-of-day prices (off-peak discounts) are not modelled: the period's midnight price applies.
    starts = {OPEN_START}
    if isinstance(model.prices, list):
        for conditional in model.prices:
            if isinstance(conditional.constraint, gp.StartDateConstraint):
                starts.add(conditional.constraint.start_date)
    ordered = sorted(starts)
    return list(zip(ordered, ordered[1:] + [OPEN_END]))


def library_rows(model_ref: str) -> list[PriceRow]:
    """genai-prices' rows for one logged model id; [] when the library does not know it."""
    try:
        provider, info = data_snapshot.get_snapshot().find_provider_model(model_ref, None, None, None)
    except LookupError:
        return []
    rows = []
    for start, end in _periods(info):
        price = info.get_prices(datetime(start.year, start.month, start.day, tzinfo=timezone.utc))
        for tier in _tier_starts(price):
            rows.append(PriceRow(model_ref, start, end, tier, provider.id, info.id,
                                 **_rates(price, tier), price_version=LIBRARY_VERSION))
    return rows


def override_rows(model_ref: str, override: PriceOverride, version: str) -> list[PriceRow]:
    """One flat price row (no tiers, all dates) from an override, completed from the library."""
    library = [r for r in library_rows(model_ref) if r.tier_start == BASE_TIER]
    base = asdict(library[-1]) if library else {}
    keep = 1.0 - override.discount_pct / 100.0
    rates = {}
    for key in ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_5m_mtok", "cache_write_1h_mtok"):
        value = getattr(override, key)
        if value is None:
            value = base.get(key)
        if value is None:
            raise PriceFileError(f"prices override for {model_ref!r}: {key} is required (genai-prices does not know the model)")
        rates[key] = value * keep
    return [PriceRow(model_ref, OPEN_START, OPEN_END, BASE_TIER, base.get("provider"), base.get("price_model"),
                     **rates, web_search_kcount=base.get("web_search_kcount", 0.0) * keep, price_version=version)]


def resolve(models: Iterable[str], price_file: PriceFile, version: str | None) -> list[PriceRow]:
    """Price rows for every model: the override when one names it, else genai-prices, else none."""
    overrides = {o.model: o for o in price_file.models}
    rows: list[PriceRow] = []
    for model in sorted(set(models)):
        if model in overrides:
            rows.extend(override_rows(model, overrides[model], version or "override"))
        else:
            rows.extend(library_rows(model))
    return rows


def fingerprint(rows: list[PriceRow]) -> str:
    """Changes whenever any price changes, so stored costs are recomputed."""
    text = json.dumps([asdict(r) for r in rows], default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
