"""Teams & people: who gets value from the agents and where waste concentrates. Never a token leaderboard."""

import polars as pl
import streamlit as st

from analytics import queries
from dashboard import columns, data, sidebar, ui

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
    return frame.sort(column, descending=descending, nulls_last=True)


def with_trend(frame: pl.DataFrame, daily: pl.DataFrame, key: str) -> pl.DataFrame:
    """The frame with each row's daily spend series as a list (what LineChartColumn draws); layout only."""
    trend = daily.sort("day").group_by(key, maintain_order=True).agg(pl.col("cost_usd").fill_null(0).alias("trend"))
    return frame.join(trend, on=key, how="left")


COLUMNS = columns.config(
    trend=st.column_config.LineChartColumn("Daily spend (USD)", y_min=0),
    name=st.column_config.TextColumn("Name"),
)
FIGURES = ["sessions", "useful_output_ratio", "waste_tokens", "flagged_sessions", "cost_usd", "total_tokens", "trend"]

sort_choice = st.radio("Sort by", list(SORTS), horizontal=True, key="teams_sort")

st.subheader("Teams")
teams = ui.report("teams", filters)
ui.empty_state(teams, "team activity")
teams = ordered(with_trend(teams, ui.view(queries.team_daily, filters), "team"), sort_choice)
picked = st.dataframe(
    teams, hide_index=True, column_order=["team", "users", *FIGURES], column_config=COLUMNS,
    on_select="rerun", selection_mode="single-row", key="teams_table",
)
team_rows = picked.selection.rows
team = teams["team"][team_rows[0]] if team_rows else filters.team
st.caption("Select a team to list its people.")

st.subheader(f"People in {team}" if team else "People")
people_filters = filters.model_copy(update={"team": team}) if team else filters
people = ui.report("users", people_filters)
ui.empty_state(people, "people")
people = ordered(with_trend(people, ui.view(queries.user_daily, people_filters), "user"), sort_choice)
# Display names from the org directory, beside the stable user name the filters and links use.
names = data.filter_choices().names
people = people.with_columns(pl.col("user").replace(names).alias("name"))
st.dataframe(
    people, hide_index=True, column_order=(["name"] if names else []) + ["user", "team", *FIGURES], column_config=COLUMNS,
    on_select=sidebar.open_person_on_select("people_table", people["user"].to_list()),
    selection_mode="single-row", key="people_table", height=min(600, 38 + 35 * people.height),
)
st.caption("Select a person to open their sessions (the Person filter is set, so the URL can be shared).")
