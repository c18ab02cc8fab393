"""The DuckDB warehouse: connections, migrations and the default location."""
