"""Data health: can the numbers on the other pages be trusted today?"""

from datetime import datetime, timezone

import altair as alt
import polars as pl
import streamlit as st

from analytics import health, queries
from analytics.coverage import coverage_gaps
from analytics.filters import Filters
from dashboard import audit_panel, auth, columns, data, sidebar, ui

db = data.db_path()
chosen = sidebar.current()
# People and coverage are per person and day: the period, team and person apply; project, source and
# model do not (a silent person has no project).
filters = Filters(date_from=chosen.date_from, date_to=chosen.date_to, team=chosen.team, user=chosen.user)
st.title("Data health")
st.caption(f"Ledger: `{data.db_label(db)}` · facts from the ingest bookkeeping, refreshed every minute · "
           "the sidebar's period, team and person apply to the people and coverage panels")

facts = data.health_facts(db)
runs = facts["runs"]
stale = health.staleness(runs)
if stale.last_ok_run_at is None:
    st.error("No ingest run has finished successfully: the other pages show nothing you can rely on yet.",
             icon=":material/error:")
elif stale.stale:
    hours = stale.age.total_seconds() / 3600
    st.error(
        f"**Stale data:** the last successful ingest finished {hours:,.0f} hours ago "
        f"({stale.last_ok_run_at:%Y-%m-%d %H:%M} UTC). Work done since then is missing from every page. "
        "Check the scheduled `agentledger ingest` job.",
        icon=":material/warning:",
    )
else:
    minutes = round(stale.age.total_seconds() / 60)
    st.success(f"Fresh: the last successful ingest finished {minutes:,} minute{'s' if minutes != 1 else ''} ago "
               f"({stale.last_ok_run_at:%Y-%m-%d %H:%M} UTC).", icon=":material/check_circle:")

files = facts["files"]
rejects = facts["rejects"]
last = runs.row(0, named=True) if runs.height else {}
kpis = st.columns(4)
kpis[0].metric("Ingest runs shown", f"{runs.height}", border=True)
totals = facts["totals"].row(0, named=True)
kpis[1].metric("Files known", f"{totals['files']:,}", border=True, help="Source files in the manifest, across all sources.")
kpis[2].metric("Lines loaded", f"{totals['lines']:,}", border=True)
kpis[3].metric("Rejected lines", f"{totals['rejected_lines']:,}", border=True,
               help="Lines quarantined in the rejects table; never fatal, always counted.")

st.subheader("Freshness per source")
# Files no source recognised (org.csv, settings.json ...) are bookkeeping, not a source to watch.
fresh = facts["freshness"].filter(pl.col("source") != health.UNRECOGNISED_SOURCE)
now = datetime.now(timezone.utc).replace(tzinfo=None)
fresh = fresh.with_columns(((pl.lit(now) - pl.col("newest_request")).dt.total_hours() / 24).round(1).alias("age_days"))
quiet = fresh.filter(pl.col("age_days") > health.QUIET_SOURCE_DAYS)
for source in quiet.iter_rows(named=True):
    st.warning(
        f"**{source['source']}**: the newest request is {source['age_days']:,.0f} days old. If people used this agent "
        "since, their logs are not reaching the ledger (check the collection path and the --source option).",
        icon=":material/schedule:",
    )
st.dataframe(
    fresh, hide_index=True,
    column_config={
        "source": "Source",
        "requests": st.column_config.NumberColumn("Requests", format="localized"),
        "newest_request": st.column_config.DatetimeColumn("Newest request (UTC)", format="YYYY-MM-DD HH:mm"),
        "last_file_seen": st.column_config.DatetimeColumn("Last file read (UTC)", format="YYYY-MM-DD HH:mm"),
        "age_days": st.column_config.NumberColumn("Newest request age (days)", format="%.1f"),
    },
)

st.subheader("Last ingest runs")
if runs.height:
    failed = runs.filter(runs["status"] != "ok")
    if failed.height:
        st.warning(f"{failed.height} of the last {runs.height} runs did not finish ok (see status and error).",
                   icon=":material/report:")
    # What says whether a run went well, in 904 px: when, how it ended, how long, what it read, added and
    # refused. The error shows when a run has one (admins only); the finer file counts, unknown formats and
    # the command stay in the data, folded behind the toolbar's Show/hide columns.
    shown = ["run_id", "started_at", "status", "seconds", "files_seen", "files_new", "files_failed", "requests_new",
             "rejects", *(["error"] if "error" in runs.columns and runs["error"].is_not_null().any() else [])]
    st.dataframe(
        runs, hide_index=True, **columns.fit(runs.columns, shown, {
            "run_id": st.column_config.NumberColumn("Run", width=50),
            "status": "Status",
            "started_at": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "ended_at": st.column_config.DatetimeColumn("Ended (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "seconds": st.column_config.NumberColumn("Seconds", format="%.1f", help="How long the run took."),
            "lines": st.column_config.NumberColumn("Lines", format="localized"),
            "requests_new": st.column_config.NumberColumn("New requests", format="localized"),
            "requests_updated": "Updated requests", "files_seen": "Files seen", "files_new": "New files",
            "files_changed": "Grown files", "files_unchanged": "Unchanged", "files_missing": "Deleted at source",
            "files_failed": "Failed files", "rejects": "Rejected lines", "unknown_types": "Unknown record types",
            "unknown_fields": "Unknown fields", "error": st.column_config.TextColumn("Error", width="medium"),
            "command": "Command",
        }),
    )
    st.caption(columns.FOLDED_NOTE)
else:
    st.info("No ingest runs recorded yet.")

st.subheader("Files per source")
st.dataframe(
    files.with_columns(
        pl.when(pl.col("source") == health.UNRECOGNISED_SOURCE).then(pl.lit("(not a log: skipped)"))
        .otherwise(pl.col("source")).alias("source")
    ),
    hide_index=True,
    column_config={
        "source": "Source", "files": "Files", "people": "People",
        "lines": st.column_config.NumberColumn("Lines", format="localized"),
        "files_missing": st.column_config.NumberColumn("Deleted at source", help="Facts are kept when a log file disappears."),
        "bytes_loaded": st.column_config.NumberColumn("Bytes loaded", format="localized"),
        "last_seen_at": st.column_config.DatetimeColumn("Last seen (UTC)", format="YYYY-MM-DD HH:mm"),
    },
)

st.subheader("People: whose data stopped arriving")
people = ui.view(queries.people, filters)
gaps = ui.view(queries.people_gaps, filters)
expected, absent = ui.first(gaps, "directory_people") or 0, ui.first(gaps, "absent_people") or 0
if expected == 0:
    st.caption("No org directory is loaded, so nobody is expected: the list shows everyone whose logs were read. "
               "Load one (`agentledger org load org.csv`) to see who in the organisation sends no data at all.")
elif absent:
    listed = ", ".join(ui.first(gaps, "absent_sample")) + (", ..." if absent > len(ui.first(gaps, "absent_sample")) else "")
    st.warning(f"{absent} of {expected} people in the org directory have no sessions in this period: "
               f"{listed}. Their agents may be unused, or their logs may not reach the ledger (check their machine's "
               "collection).", icon=":material/person_off:")
else:
    st.success(f"Everyone in the org directory ({expected}) has sessions in this period.",
               icon=":material/check_circle:")
# One Person column (the display name where the directory has one, else the user name) to fit 904 px;
# without a directory, team and "in directory" say nothing about anyone.
people = people.with_columns(pl.col("name").fill_null(pl.col("user")).alias("name"))
st.dataframe(
    people, hide_index=True, placeholder=columns.PLACEHOLDER,
    column_order=["name", *(["team"] if expected else []), "activity", "last_request_at", "days_silent", "sessions",
                  "cost_usd", *(["in_directory"] if expected else []), "user"],
    column_config=columns.folded(columns.config(
        name=st.column_config.TextColumn("Person", help=f"{columns.definition('name')} Without one, the user name: "
                                         f"{columns.definition('user').lower()}"),
        activity=st.column_config.TextColumn(columns.label("activity"), width=170, help=columns.definition("activity")),
        in_directory=columns.short("in_directory", "In directory"),
    ), ["user"]),
)
st.caption("Newest request: when the person's data last arrived (any source). Days silent: from then to today. "
           "Per machine once machines report their own collection.")

st.subheader("Arrivals per person and machine")
arrivals = facts["arrivals"]
silent = facts["silent_people"]
if silent.height:
    st.warning(f"{silent.height} people in the org directory have no data at all: "
               + ", ".join(silent["user_name"].to_list()[:20]) + ("…" if silent.height > 20 else ""),
               icon=":material/person_off:")
st.dataframe(
    arrivals.with_columns(((pl.lit(now) - pl.col("last_arrival")).dt.total_hours() / 24).round(1).alias("silent_days")),
    hide_index=True,
    column_config={
        "user_name": "Person", "machine": st.column_config.TextColumn(
            "Machine", help="The hashed id of a machine that ships its own logs (agentledger ship); "
                            "'(collected logs)' for files read centrally."),
        "files": "Files or batches", "records": st.column_config.NumberColumn("Lines or rows", format="localized"),
        "last_arrival": st.column_config.DatetimeColumn("Data last arrived (UTC)", format="YYYY-MM-DD HH:mm"),
        "silent_days": st.column_config.NumberColumn("Silent since (days)", format="%.1f"),
    },
)

st.subheader("Coverage: reported spend vs ingested detail")
st.caption("Per person and day, the Claude Code spend the Admin API report (else OpenTelemetry) states, against "
           "what ingested transcripts explain. 'no detail' or a low coverage means a machine or a person whose "
           "transcripts are not reaching the ledger. Same rows as `agentledger report coverage`.")
coverage = ui.report("coverage", filters)
referenced = coverage.filter(pl.col("status") != "no reference")
if referenced.height == 0:
    st.info("No Admin API report or OpenTelemetry export is ingested for this period, so there is nothing to "
            "reconcile against. Ingest one to see which people or machines are missing.", icon=":material/info:")
else:
    gaps = ui.view(coverage_gaps, filters).row(0, named=True)
    if gaps["gap_days"]:
        st.warning(f"{gaps['gap_days']:,} person-days have reported spend that ingested transcripts do not explain "
                   f"(${gaps['missing_cost_usd']:,.2f} unexplained).", icon=":material/travel_explore:")
    st.dataframe(
        referenced.sort(["status", "missing_cost_usd"], descending=[False, True]), hide_index=True,
        # Money first, in 904 px: the token counts repeat it in another unit, folded (Show/hide columns).
        column_config=columns.folded(columns.config(), ["reported_tokens", "explained_tokens"]),
        placeholder=columns.PLACEHOLDER,
        column_order=["day", "user", "team", "status", "reported_cost_usd", "explained_cost_usd",
                      "missing_cost_usd", "cost_coverage", "reported_tokens", "explained_tokens"],
    )

st.subheader("Git coverage: how much of the work git can speak for")
git = ui.view(queries.git_coverage, filters)
if ui.first(git, "repositories") == 0:
    ui.not_scanned("what the agents' work became in git")
elif git.height:
    row = git.row(0, named=True)
    cards = st.columns(4)
    cards[0].metric(columns.label("repositories"), ui.count(row["repositories"]), border=True,
                    help=columns.definition("repositories"))
    cards[1].metric(columns.label("unmapped_cost_share"), ui.pct(row["unmapped_cost_share"]), border=True,
                    help=columns.definition("unmapped_cost_share"))
    cards[2].metric(columns.label("printed_not_found"), ui.count(row["printed_not_found"]), border=True,
                    help=columns.definition("printed_not_found"))
    cards[3].metric(columns.label("agent_commits_without_logs"), ui.count(row["agent_commits_without_logs"]),
                    border=True, help=columns.definition("agent_commits_without_logs"))
    st.caption(f"Last scan {row['last_scan_at']:%Y-%m-%d %H:%M} UTC. {ui.count(row['unmapped_sessions'])} of "
               f"{ui.count(row['sessions_with_edits'])} sessions with edits map to no scanned repository "
               f"({ui.usd(row['unmapped_cost_usd'])} of their spend): scan the repositories they worked in, or map "
               "their paths with `agentledger git scan PATH --map paths.csv`. Printed commits not found: shas a "
               "session printed that no scanned repository holds. Agent commits without logs: landed commits naming "
               "a coding agent that no session in the ledger explains"
               + (" (counted for a viewer who sees everyone, with no person or team filter: — here)."
                  if row["agent_commits_without_logs"] is None else "."))
    if row["unmapped_sessions"]:
        st.warning(f"{row['unmapped_sessions']:,} sessions with edits ({ui.pct(row['unmapped_cost_share'])} of their "
                   "spend) are in no scanned repository: what they bought in git is unknown, and they count as "
                   "bought nothing in the headline.", icon=":material/commit:")

st.subheader("Rejected lines by reason")
if rejects.height:
    chart = (
        alt.Chart(rejects.to_pandas())
        .mark_bar(color="#D55E00")
        .encode(
            x=alt.X("lines:Q", title="Rejected lines"),
            y=alt.Y("reason:N", title=None, sort="-x"),
            tooltip=[alt.Tooltip("reason:N", title="Reason"), alt.Tooltip("lines:Q", title="Lines", format=","),
                     alt.Tooltip("files:Q", title="Files"), alt.Tooltip("example:N", title="Example")],
        )
    )
    st.altair_chart(chart, width="stretch")
    st.dataframe(rejects, hide_index=True)
else:
    st.success("No rejected lines.", icon=":material/check:")

drift = facts["drift"]
if drift.height:
    with st.expander(f"Format drift: {drift.height} unknown record types or fields"):
        st.caption("Counted and ignored; a spike after an agent upgrade means a parser needs attention.")
        st.dataframe(drift, hide_index=True)

if auth.current().is_admin:
    audit_panel.render()
