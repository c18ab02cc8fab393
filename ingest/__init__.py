"""Ingest: one parser per log format, normalized records, loaded into the DuckDB ledger."""
