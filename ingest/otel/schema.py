"""OTLP JSON (formats.md §3.5) as the Collector `file` exporter writes it: one LogsData or
MetricsData object per line. 64-bit integers arrive as decimal strings; attribute values vary
by version, so every scalar is accepted as string, int or float and coerced by the parser."""

from __future__ import annotations

from typing import Union

import msgspec

Number = Union[int, float, str, None]

# The prefix of the keys of what only OTel saw (a request, a tool call): never a transcript's key.
OTEL_KEY_PREFIX = "otel:"


class ArrayValue(msgspec.Struct):
    values: list[AnyValue] = []


class KeyValueList(msgspec.Struct):
    values: list[KeyValue] = []


class AnyValue(msgspec.Struct):
    stringValue: str | None = None
    intValue: Number = None
    doubleValue: Number = None
    boolValue: bool | None = None
    arrayValue: ArrayValue | None = None
    kvlistValue: KeyValueList | None = None


class KeyValue(msgspec.Struct):
    key: str = ""
    value: AnyValue | None = None


class Resource(msgspec.Struct):
    attributes: list[KeyValue] = []


class Scope(msgspec.Struct):
    name: str | None = None
    version: str | None = None


class LogRecord(msgspec.Struct):
    timeUnixNano: Number = None
    observedTimeUnixNano: Number = None
    eventName: str | None = None
    body: AnyValue | None = None
    attributes: list[KeyValue] = []


class ScopeLogs(msgspec.Struct):
    scope: Scope | None = None
    logRecords: list[LogRecord] = []


class ResourceLogs(msgspec.Struct):
    resource: Resource | None = None
    scopeLogs: list[ScopeLogs] = []


class DataPoint(msgspec.Struct):
    startTimeUnixNano: Number = None
    timeUnixNano: Number = None
    asDouble: Number = None
    asInt: Number = None
    attributes: list[KeyValue] = []


class Sum(msgspec.Struct):
    aggregationTemporality: int | str | None = None
    isMonotonic: bool | None = None
    dataPoints: list[DataPoint] = []


class Gauge(msgspec.Struct):
    dataPoints: list[DataPoint] = []


class Metric(msgspec.Struct):
    name: str = ""
    unit: str | None = None
    sum: Sum | None = None
    gauge: Gauge | None = None


class ScopeMetrics(msgspec.Struct):
    scope: Scope | None = None
    metrics: list[Metric] = []


class ResourceMetrics(msgspec.Struct):
    resource: Resource | None = None
    scopeMetrics: list[ScopeMetrics] = []


class OtlpLine(msgspec.Struct):
    resourceLogs: list[ResourceLogs] | None = None
    resourceMetrics: list[ResourceMetrics] | None = None
    resourceSpans: msgspec.Raw = msgspec.Raw()


# Claude Code events (formats.md §3.4); those we do not store are known, not drift.
KNOWN_EVENTS = frozenset({
    "user_prompt", "assistant_response", "tool_result", "api_request", "api_error", "api_refusal",
    "tool_decision", "api_request_body", "api_response_body", "permission_mode_changed", "auth",
    "mcp_server_connection", "internal_error", "plugin_installed", "plugin_loaded", "skill_activated",
    "at_mention", "api_retries_exhausted", "compaction", "subagent_completed", "feedback_survey",
    "retention_sweep", "hook_execution_start", "hook_execution_complete", "hook_started", "hook_completed",
})
