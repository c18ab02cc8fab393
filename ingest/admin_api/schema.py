"""The Admin API Claude Code usage report (formats.md §4): `{data: [record], has_more, next_page}`."""

from __future__ import annotations

import msgspec


class Actor(msgspec.Struct):
    type: str | None = None
    email_address: str | None = None
    api_key_name: str | None = None


class LinesOfCode(msgspec.Struct):
    added: int | None = None
    removed: int | None = None


class CoreMetrics(msgspec.Struct):
    num_sessions: int | None = None
    lines_of_code: LinesOfCode | None = None
    commits_by_claude_code: int | None = None
    pull_requests_by_claude_code: int | None = None


class ToolAction(msgspec.Struct):
    accepted: int | None = None
    rejected: int | None = None


class Tokens(msgspec.Struct):
    input: int | None = None
    output: int | None = None
    cache_read: int | None = None
    cache_creation: int | None = None


class Cost(msgspec.Struct):
    amount: float | int | str | None = None   # minor units: cents (P18)
    currency: str | None = None


class ModelUsage(msgspec.Struct):
    model: str | None = None
    tokens: Tokens | None = None
    estimated_cost: Cost | None = None


class Record(msgspec.Struct):
    date: str | None = None
    actor: Actor | None = None
    organization_id: str | None = None
    customer_type: str | None = None
    subscription_type: str | None = None
    terminal_type: str | None = None
    is_remote: bool | None = None
    core_metrics: CoreMetrics | None = None
    tool_actions: dict[str, ToolAction] | None = None
    model_breakdown: list[ModelUsage] | None = None


class Page(msgspec.Struct):
    data: list[msgspec.Raw] = []
    has_more: bool | None = None
    next_page: str | None = None
