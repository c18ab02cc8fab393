"""Who is asking and what they may see: the access settings, the viewer's role from the org directory,
and the scope every read of the ledger obeys (bound to the connection, applied in analytics/sql/macros.sql).
docs/security.md is the threat model."""
