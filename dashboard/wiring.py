"""Which analytics function each dashboard view calls: the one place that names them.

Every target is `module:function`, called as function(con, filters, **kwargs) and returning a
polars DataFrame (issue 4's contract). Reports go through the REPORTS registry so a page and
`agentledger report KIND` cannot disagree.
"""

from __future__ import annotations

REPORTS_TARGET = "analytics.reports:REPORTS"
EXPORT_TARGET = "analytics.export:to_csv"

# Views that are not CLI reports.
SUMMARY = "analytics.queries:summary"                  # one row: KPIs for the period
DAILY_OUTCOMES = "analytics.queries:daily_outcomes"    # day, outcome, tokens, cost_usd
SPEND_BY_SOURCE = "analytics.queries:spend_by_source"  # source, requests, total_tokens, cost_usd
USER_DAILY = "analytics.queries:user_daily"            # user, day, cost_usd (sparklines)
SESSION_TIMELINE = "analytics.queries:session_timeline"  # per request: ts, tokens, tool calls, outcome
SESSION_FLAGS = "analytics.queries:session_flags"      # the session's flags with evidence
TEAM_DAILY = "analytics.queries:team_daily"            # team, day, cost_usd (sparklines)
