"""Claude Code OpenTelemetry (OTLP JSON lines) -> normalized records (formats.md §3).

Users come from the records (user.email, else user.account_uuid, enduser.id, user.id): the
runner's --user value (ctx.user_name) is ignored, because one collector file holds a whole org.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import msgspec

from ingest import plausible
from ingest.batch import RecordBatch
from ingest.components import claude_component
from ingest.context import FileContext
from ingest.hashing import short_hash
from ingest.lines import LineError, each_line
from ingest.otel.schema import KNOWN_EVENTS, OTEL_KEY_PREFIX, AnyValue, DataPoint, KeyValue, LogRecord, Metric, OtlpLine
from ingest.records import OtelMetricPoint, OtelRequest, ToolCall, ToolDecision, ToolResult
from ingest.timestamps import parse_utc

SOURCE = "otel"
EVENT_PREFIX = "claude_code."
USER_KEYS = ("user.email", "user.account_uuid", "enduser.id", "user.id")
TEAM_KEYS = ("team", "team.name", "department")
COST_CENTER_KEYS = ("cost_center", "cost_centre", "cost.center", "costcenter")
TEMPORALITY = {1: "delta", 2: "cumulative", "1": "delta", "2": "cumulative",
               "AGGREGATION_TEMPORALITY_DELTA": "delta", "AGGREGATION_TEMPORALITY_CUMULATIVE": "cumulative"}
# A metric point beyond this is corrupt: no counter of tokens, lines or dollars gets near it.
MAX_METRIC_VALUE = 1e15
# Point attributes promoted to columns of otel_metric_points; the rest is kept as JSON.
METRIC_COLUMNS = {"session.id": "session_id", "model": "model", "type": "type", "tool_name": "tool_name",
                  "decision": "decision", "language": "language"}

_INFINITIES = (float("inf"), float("-inf"))  # made once: to_int runs for every number of every event

_line = msgspec.json.Decoder(OtlpLine)
_any = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder(order="sorted")


def parse_lines(data: bytes, start_offset: int, start_line: int, ctx: FileContext, batch: RecordBatch) -> None:
    """Parse complete OTLP JSON lines; a line with a bad record is quarantined with the first reason."""
    each_line(data, start_offset, start_line, ctx, batch, lambda raw, line_no: _LineParser(ctx, batch, line_no).line(raw))


# -- value coercion (P11: numbers arrive as strings) -----------------------------------------------
def value_of(value: AnyValue | None) -> Any:
    """An OTLP AnyValue as a plain Python value."""
    if value is None:
        return None
    if value.stringValue is not None:
        return value.stringValue
    if value.intValue is not None:
        return to_int(value.intValue)
    if value.doubleValue is not None:
        return to_float(value.doubleValue)
    if value.boolValue is not None:
        return value.boolValue
    if value.arrayValue is not None:
        return [value_of(v) for v in value.arrayValue.values]
    if value.kvlistValue is not None:
        return attributes(value.kvlistValue.values)
    return None


def attributes(pairs: list[KeyValue]) -> dict[str, Any]:
    """OTLP key/value pairs as a dict."""
    return {pair.key: value_of(pair.value) for pair in pairs}


def to_float(value: Any) -> float | None:
    """int, float or numeric string -> float; anything else -> None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def to_int(value: Any) -> int | None:
    """int, float or numeric string ("12", "12.0") -> int; anything else -> None."""
    number = to_float(value)
    if number is None or number != number or number in _INFINITIES:
        return None
    return int(number)


def to_bool(value: Any) -> bool | None:
    """true/false in any of the shapes OTel attributes take."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def nanos_to_utc(value: Any) -> datetime | None:
    """OTLP unix nanoseconds (usually a decimal string) to naive UTC."""
    try:
        nanos = to_int(value)
        if not nanos:
            return None
        return datetime.fromtimestamp(nanos / 1e9, tz=timezone.utc).replace(tzinfo=None)
    except (OverflowError, ValueError, OSError):
        return None  # beyond any representable time: the caller quarantines the record


def user_of(attrs: dict[str, Any]) -> str | None:
    """The person behind a record: email when OAuth gives one, else the stable account ids."""
    for key in USER_KEYS:
        value = attrs.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class _LineParser:
    def __init__(self, ctx: FileContext, batch: RecordBatch, line_no: int) -> None:
        self.ctx = ctx
        self.batch = batch
        self.line_no = line_no
        self.errors: list[str] = []

    def line(self, raw: bytes) -> None:
        if not raw.lstrip().startswith(b"{"):
            raise LineError("not a JSON object")
        line = _line.decode(raw)
        if line.resourceLogs is None and line.resourceMetrics is None:
            if len(line.resourceSpans):
                return  # traces carry no spend we use
            raise LineError("neither resourceLogs nor resourceMetrics")
        for resource_logs in line.resourceLogs or ():
            resource = attributes(resource_logs.resource.attributes) if resource_logs.resource else {}
            for scope in resource_logs.scopeLogs:
                for record in scope.logRecords:
                    self.guarded(self.log_record, record, resource)
        for resource_metrics in line.resourceMetrics or ():
            resource = attributes(resource_metrics.resource.attributes) if resource_metrics.resource else {}
            for scope in resource_metrics.scopeMetrics:
                for metric in scope.metrics:
                    self.guarded(self.metric, metric, resource)
        if self.errors:
            raise LineError(f"{self.errors[0]} ({len(self.errors)} bad record(s) in this line)")

    def guarded(self, handler, item, resource: dict[str, Any]) -> None:
        # One bad record must not lose the good ones around it; the line is still quarantined.
        try:
            handler(item, resource)
        except LineError as error:
            self.errors.append(str(error))

    # -- events ------------------------------------------------------------------------------------
    def log_record(self, record: LogRecord, resource: dict[str, Any]) -> None:
        attrs = {**resource, **attributes(record.attributes)}
        name = attrs.get("event.name") or record.eventName or value_of(record.body)
        if not isinstance(name, str):
            return
        name = name.removeprefix(EVENT_PREFIX)
        handler = {"api_request": self.api_request, "tool_result": self.tool_result,
                   "tool_decision": self.tool_decision}.get(name)
        if handler is None:
            if name not in KNOWN_EVENTS:
                self.batch.drift.add(SOURCE, "record_type", f"event.{name}", self.ctx.path)
            return
        ts = parse_utc(_text(attrs.get("event.timestamp"))) or nanos_to_utc(record.timeUnixNano)
        if ts is None:
            raise LineError(f"{name} event without a timestamp")
        handler(attrs, self.ctx.time(ts, f"{name} event"), resource)

    def event_key(self, attrs: dict[str, Any], name: str, ts: datetime) -> str:
        sequence = attrs.get("event.sequence")
        session = attrs.get("session.id")
        if session and sequence is not None:
            return f"{name}:{session}:{sequence}"
        return f"{name}:{short_hash(_encoder.encode(attrs))}:{ts.isoformat()}"

    def api_request(self, attrs: dict[str, Any], ts: datetime, resource: dict[str, Any]) -> None:
        tokens = {k: to_int(attrs.get(k)) for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")}
        if any(v is not None and v < 0 for v in tokens.values()):
            raise LineError("api_request with a negative token count")
        plausible.tokens(*tokens.values())
        cost = to_float(attrs.get("cost_usd"))
        if cost is None and attrs.get("cost_usd_micros") is not None:
            cost = (to_float(attrs.get("cost_usd_micros")) or 0) / 1e6
        request_id = _text(attrs.get("request_id"))
        key = request_id or self.event_key(attrs, "api_request", ts)
        # By position, in OtelRequest's field order (tests/test_otel_records.py holds each one): naming
        # 29 arguments cost msgspec more than building the record.
        self.batch.add(OtelRequest(
            key,                                                    # event_key
            ts,                                                     # ts
            request_id,                                             # request_id
            user_of(attrs),                                         # user_name
            _text(attrs.get("user.email")),                         # email
            _text(attrs.get("user.account_uuid")),                  # account_uuid
            _text(attrs.get("organization.id")),                    # organization_id
            _text(attrs.get("session.id")),                         # session_id
            _text(attrs.get("prompt.id")),                          # prompt_id
            _text(attrs.get("model")),                              # model
            tokens["input_tokens"] or 0,                            # input_tokens
            tokens["output_tokens"] or 0,                           # output_tokens
            tokens["cache_read_tokens"] or 0,                       # cache_read_tokens
            tokens["cache_creation_tokens"] or 0,                   # cache_creation_tokens
            plausible.money(cost),                                  # cost_usd
            plausible.count(to_int(attrs.get("duration_ms")), "duration_ms", plausible.MAX_INT32),  # duration_ms
            _text(attrs.get("query_source")),                       # query_source
            _text(attrs.get("speed")),                              # speed
            _text(attrs.get("effort")),                             # effort
            _text(attrs.get("agent.name")),                         # agent_name
            _text(attrs.get("skill.name")),                         # skill_name
            _text(attrs.get("plugin.name")),                        # plugin_name
            _text(attrs.get("mcp_server.name")),                    # mcp_server_name
            _text(attrs.get("app.version") or attrs.get("service.version")),  # agent_version
            _text(attrs.get("terminal.type")),                      # terminal_type
            # Only resource attributes (OTEL_RESOURCE_ATTRIBUTES) name the org unit.
            _first(resource, TEAM_KEYS),                            # team
            _first(resource, COST_CENTER_KEYS),                     # cost_center
            self.ctx.path,                                          # file_path
            self.line_no,                                           # line_no
        ))

    def tool_result(self, attrs: dict[str, Any], ts: datetime, resource: dict[str, Any]) -> None:
        tool_use_id = _text(attrs.get("tool_use_id"))
        tool_name = _text(attrs.get("tool_name"))
        if not tool_use_id or not tool_name:
            return  # older builds: nothing to join on; the metrics still count the tool
        params = _params(attrs.get("tool_parameters"))
        component = _component(tool_name, params)
        key = OTEL_KEY_PREFIX + tool_use_id
        session_id = _text(attrs.get("session.id"))
        command = params.get("bash_command")
        self.batch.add(ToolCall(
            source=SOURCE, session_id=session_id, ts=ts, tool_use_id=key, user_name=user_of(attrs),
            tool_name=tool_name, component=component.component, component_kind=component.kind,
            plugin=component.plugin, subagent_type=component.subagent_type, skill_name=component.skill_name,
            input_bytes=plausible.count(to_int(attrs.get("tool_input_size_bytes")), "tool_input_size_bytes",
                                        plausible.MAX_INT32),
            command=command if isinstance(command, str) else None,
        ))
        success = to_bool(attrs.get("success"))
        self.batch.add(ToolResult(
            source=SOURCE, session_id=session_id, ts=ts, tool_use_id=key, is_error=success is False,
            interrupted=attrs.get("error_type") == "interrupted",
            result_bytes=plausible.count(to_int(attrs.get("tool_result_size_bytes")), "tool_result_size_bytes",
                                         plausible.MAX_CUMULATIVE_TOKENS) or 0,
        ))

    def tool_decision(self, attrs: dict[str, Any], ts: datetime, resource: dict[str, Any]) -> None:
        tool_use_id = _text(attrs.get("tool_use_id"))
        key = f"otel:{tool_use_id}" if tool_use_id else self.event_key(attrs, "tool_decision", ts)
        self.batch.add(ToolDecision(
            decision_key=key, source=SOURCE, user_name=user_of(attrs),
            session_id=_text(attrs.get("session.id")), ts=ts, tool_use_id=tool_use_id,
            tool_name=_text(attrs.get("tool_name")), decision=_text(attrs.get("decision")),
            decision_source=_text(attrs.get("source")), tool_source=_text(attrs.get("tool_source")),
        ))

    # -- metrics -----------------------------------------------------------------------------------
    def metric(self, metric: Metric, resource: dict[str, Any]) -> None:
        if metric.sum is not None:
            temporality = TEMPORALITY.get(metric.sum.aggregationTemporality)  # type: ignore[arg-type]
            if temporality is None:
                raise LineError(f"{metric.name}: unknown aggregationTemporality {metric.sum.aggregationTemporality!r}")
            points = metric.sum.dataPoints
        elif metric.gauge is not None:
            temporality, points = "gauge", metric.gauge.dataPoints
        else:
            self.batch.drift.add(SOURCE, "record_type", f"metric_kind.{metric.name}", self.ctx.path)
            return
        for point in points:
            self.point(metric.name, temporality, point, resource)

    def point(self, name: str, temporality: str, point: DataPoint, resource: dict[str, Any]) -> None:
        value = to_float(point.asDouble) if point.asDouble is not None else to_float(point.asInt)
        ts = nanos_to_utc(point.timeUnixNano)
        if value is None or ts is None:
            raise LineError(f"{name}: data point without a numeric value or time")
        if not -MAX_METRIC_VALUE <= value <= MAX_METRIC_VALUE:  # NaN and infinities fail too
            raise LineError(f"{name}: implausible data point value {value}")
        ts = self.ctx.time(ts, f"{name} data point")
        own = attributes(point.attributes)
        attrs = {**resource, **own}
        series = short_hash(name.encode() + b"\0" + _encoder.encode(attrs))
        start = nanos_to_utc(point.startTimeUnixNano)
        key = f"{series}:{to_int(point.startTimeUnixNano) or 0}:{to_int(point.timeUnixNano)}"
        columns = {column: _text(attrs.get(attr)) for attr, column in METRIC_COLUMNS.items()}
        rest = {k: v for k, v in own.items() if k not in METRIC_COLUMNS and k not in USER_KEYS}
        self.batch.add(OtelMetricPoint(
            point_key=key, metric=name, temporality=temporality, series_key=series,
            start_ts=start, ts=ts, value=value, user_name=user_of(attrs), **columns,
            attributes=_encoder.encode(rest).decode() if rest else None, file_path=self.ctx.path,
        ))


def _params(value: Any) -> dict[str, Any]:
    """tool_parameters: a JSON string (or already an object) of MCP/skill/subagent names."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.startswith("{"):
        try:
            decoded = _any.decode(value)
        except msgspec.DecodeError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    return {}


def _component(tool_name: str, params: dict[str, Any]):
    server = params.get("mcp_server_name")
    if isinstance(server, str) and server:
        tool = params.get("mcp_tool_name") or "tool"
        return claude_component(f"mcp__{server}__{tool}", None)
    tool_input = {"subagent_type": params.get("subagent_type"), "skill": params.get("skill_name")}
    return claude_component(tool_name, tool_input)
