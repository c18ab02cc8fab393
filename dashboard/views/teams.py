"""Teams & people: who gets value from the agents and where waste concentrates. Never a token leaderboard."""

import polars as pl
import streamlit as st

from dashboard import columns, data, sidebar, ui, wiring

filters = sidebar.current()
ui.header("Teams & people", filters, "sorted by waste or useful ratio, never by volume")

# Managers look for where work is lost, not for who burns the most: no "top spenders" order here.
SORTS = {
    "Most waste first": ("waste_tokens", True),
    "Lowest useful-output ratio first": ("useful_output_ratio", False),
    "Most flagged sessions first": ("flagged_sessions", True),
    "Highest useful-output ratio first": ("useful_output_ratio", True),
}


def ordered(frame: pl.DataFrame, choice: str) -> pl.DataFrame:
    column, descending = SORTS[choice]
    if column not in frame.columns:
        return frame
    return frame.sort(column, descending=descending, nulls_last=True)


def sparklines(daily: pl.DataFrame | None, key: str) -> pl.DataFrame | None:
    """Per key, the daily spend series as a list (what LineChartColumn draws); layout only, no metric."""
    if daily is None or daily.height == 0 or key not in daily.columns:
        return None
    return daily.sort("day").group_by(key, maintain_order=True).agg(pl.col("cost_usd").fill_null(0).alias("trend"))


COLUMNS = columns.config(
    users=st.column_config.NumberColumn("People"),
    unpriced_requests=st.column_config.NumberColumn("Unpriced requests", help="Requests whose model has no price."),
    flagged_sessions=st.column_config.NumberColumn("Flagged sessions", help="Sessions with a waste flag; evidence on Flags."),
    trend=st.column_config.LineChartColumn("Daily spend (USD)", y_min=0),
)
SHOWN = ["team", "user", "users", "sessions", "useful_output_ratio", "waste_tokens", "flagged_sessions", "cost_usd",
         "total_tokens", "trend"]


def table_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in SHOWN if c in frame.columns]


sort_choice = st.radio("Sort by", list(SORTS), horizontal=True, key="teams_sort")

st.subheader("Teams")
teams = ui.report("teams", filters)
ui.empty_state(teams, "team activity")
team_trend = sparklines(ui.try_query(wiring.TEAM_DAILY, filters), "team")
if team_trend is not None:
    teams = teams.join(team_trend, on="team", how="left")
teams = ordered(teams, sort_choice)
picked = st.dataframe(
    teams, hide_index=True, column_order=table_columns(teams), column_config=COLUMNS,
    on_select="rerun", selection_mode="single-row", key="teams_table",
)
team_rows = picked.selection.rows
team = teams["team"][team_rows[0]] if team_rows else filters.team
st.caption("Select a team to list its people.")

st.subheader(f"People in {team}" if team else "People")
people_filters = filters.model_copy(update={"team": team}) if team else filters
people = ui.report("users", people_filters)
ui.empty_state(people, "people")
trend = sparklines(ui.try_query(wiring.USER_DAILY, people_filters), "user")
if trend is not None:
    people = people.join(trend, on="user", how="left")
people = ordered(people, sort_choice)
names = data.filter_choices().names
if names:
    people = people.with_columns(pl.col("user").replace(names).alias("name"))
    COLUMNS["name"] = st.column_config.TextColumn("Name")
st.dataframe(
    people, hide_index=True, column_order=(["name"] if names else []) + table_columns(people), column_config=COLUMNS,
    on_select=sidebar.open_person_on_select("people_table", people["user"].to_list()),
    selection_mode="single-row", key="people_table", height=min(600, 38 + 35 * people.height),
)
st.caption("Select a person to open their sessions (the Person filter is set, so the URL can be shared).")
