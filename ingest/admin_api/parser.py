"""Admin API usage-report files -> admin_usage_daily / admin_usage_models rows.

The report has no per-request detail: it is a per-user-per-day total, used as the reconciliation
reference of the coverage report. A later report for the same actor and day replaces the earlier
one (data arrive with a delay of an hour or more, so a re-fetch is more complete).
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from ingest import plausible
from ingest.admin_api.schema import CoreMetrics, Page, Record
from ingest.batch import RecordBatch
from ingest.context import FileContext
from ingest.lines import LineError, decode_reason as _decode_reason
from ingest.records import AdminUsageDay, AdminUsageModel
from ingest.timestamps import parse_utc

SOURCE = "admin_api"
CENTS_PER_UNIT = 100

_page = msgspec.json.Decoder(Page)
_record = msgspec.json.Decoder(Record)
_encoder = msgspec.json.Encoder(order="sorted")


def parse_file(data: bytes, start_offset: int, start_line: int, ctx: FileContext, batch: RecordBatch) -> None:
    """A saved report: one page object, or several pages one per line (a job appending pages)."""
    try:
        pages = [(0, _page.decode(data))]
    except (msgspec.DecodeError, msgspec.ValidationError) as whole_error:
        pages = _pages_per_line(data, ctx, batch, whole_error)
    for offset, page in pages:
        for raw in page.data:
            batch.lines += 1
            where = data.find(bytes(raw)[:64], offset)
            position = where if where >= 0 else offset
            try:
                record(_record.decode(raw), ctx, batch)
            except LineError as error:
                batch.reject(ctx.path, position, data.count(b"\n", 0, position) + 1, str(error), bytes(raw))
            except msgspec.ValidationError as error:
                batch.reject(ctx.path, position, data.count(b"\n", 0, position) + 1, _decode_reason(error), bytes(raw))


def _pages_per_line(data: bytes, ctx: FileContext, batch: RecordBatch, whole_error: Exception) -> list[tuple[int, Page]]:
    lines = data.split(b"\n")
    if len([line for line in lines if line.strip()]) <= 1:
        batch.reject(ctx.path, 0, 1, _decode_reason(whole_error), data)
        return []
    pages, offset = [], 0
    for line_no, line in enumerate(lines, start=1):
        if line.strip():
            try:
                pages.append((offset, _page.decode(line)))
            except (msgspec.DecodeError, msgspec.ValidationError) as error:
                batch.lines += 1
                batch.reject(ctx.path, offset, line_no, _decode_reason(error), line)
        offset += len(line) + 1
    return pages


def cents_to_usd(amount) -> float:
    """estimated_cost.amount is in minor units (cents): 1234 -> 12.34 USD."""
    try:
        usd = float(amount) / CENTS_PER_UNIT
    except (TypeError, ValueError) as error:
        raise LineError(f"estimated_cost.amount is not a number: {amount!r}") from error
    return plausible.money(usd, "estimated_cost")


def _int32(value: int | None, what: str) -> int | None:
    return plausible.count(value, what, plausible.MAX_INT32)


def _daily_tokens(value: int | None, what: str) -> int | None:
    # A person-day holds many requests: the cumulative bound, not the per-request one.
    return plausible.count(value, what, plausible.MAX_CUMULATIVE_TOKENS)


def record(rec: Record, ctx: FileContext, batch: RecordBatch) -> None:
    """One actor x day x remote/local record -> one daily row and one row per model."""
    ts = parse_utc(rec.date) if rec.date and "T" in rec.date else None
    day = ts.date() if ts else _plain_date(rec.date)
    ctx.time(datetime.combine(day, datetime.min.time()), "record")
    actor = rec.actor
    name = actor and (actor.email_address or actor.api_key_name)
    if not name:
        raise LineError("record without actor email_address or api_key_name")
    is_remote = bool(rec.is_remote)
    terminal = rec.terminal_type or ""
    key = (day, name, is_remote, terminal)
    core = rec.core_metrics or CoreMetrics()
    lines = core.lines_of_code
    actions = rec.tool_actions or {}
    totals = {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0, "cache_creation_tokens": 0, "cost_usd": 0.0}
    for usage in rec.model_breakdown or []:
        row = _model_row(usage, key, actor.email_address)
        for field in totals:
            totals[field] += getattr(row, field) or 0
        batch.add(row)
    batch.add(AdminUsageDay(
        day=day, actor=name, actor_type=actor.type, is_remote=is_remote, terminal_type=terminal,
        user_name=actor.email_address, organization_id=rec.organization_id,
        customer_type=rec.customer_type, subscription_type=rec.subscription_type,
        num_sessions=_int32(core.num_sessions, "num_sessions"),
        lines_added=_int32(lines.added, "lines_of_code.added") if lines else None,
        lines_removed=_int32(lines.removed, "lines_of_code.removed") if lines else None,
        commits=_int32(core.commits_by_claude_code, "commits_by_claude_code"),
        pull_requests=_int32(core.pull_requests_by_claude_code, "pull_requests_by_claude_code"),
        tools_accepted=_int32(sum(a.accepted or 0 for a in actions.values()), "tool_actions accepted"),
        tools_rejected=_int32(sum(a.rejected or 0 for a in actions.values()), "tool_actions rejected"),
        tool_actions=_encoder.encode(actions).decode() if actions else None,
        input_tokens=_daily_tokens(totals["input_tokens"], "input tokens"),
        output_tokens=_daily_tokens(totals["output_tokens"], "output tokens"),
        cache_read_tokens=_daily_tokens(totals["cache_read_tokens"], "cache read tokens"),
        cache_creation_tokens=_daily_tokens(totals["cache_creation_tokens"], "cache creation tokens"),
        cost_usd=totals["cost_usd"], file_path=ctx.path,
    ))


def _model_row(usage, key, email) -> AdminUsageModel:
    day, name, is_remote, terminal = key
    tokens = usage.tokens
    cost = usage.estimated_cost
    return AdminUsageModel(
        day=day, actor=name, is_remote=is_remote, terminal_type=terminal,
        model=usage.model or "unknown", user_name=email,
        input_tokens=_daily_tokens(tokens.input, "input tokens") if tokens else None,
        output_tokens=_daily_tokens(tokens.output, "output tokens") if tokens else None,
        cache_read_tokens=_daily_tokens(tokens.cache_read, "cache read tokens") if tokens else None,
        cache_creation_tokens=_daily_tokens(tokens.cache_creation, "cache creation tokens") if tokens else None,
        cost_usd=cents_to_usd(cost.amount) if cost and cost.amount is not None else None,
        currency=cost.currency if cost else None,
    )


def _plain_date(value: str | None) -> date:
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError as error:
        raise LineError(f"record without a valid date: {value!r}") from error
