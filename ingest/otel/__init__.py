"""Claude Code OpenTelemetry: OTLP JSON lines written by a Collector file exporter."""
