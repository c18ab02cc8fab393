"""Teams & people: who gets value from the agents and where waste concentrates, in dollars first.
Never a spend or token leaderboard."""

import polars as pl
import streamlit as st

from analytics import queries
from analytics.filters import UNASSIGNED_TEAM
from dashboard import charts, columns, data, sidebar, ui

filters = sidebar.current()
ui.header("Teams & people", filters, "sorted by wasted spend or useful share, never by volume")

# Managers look for where work is lost, not for who burns the most: no "top spenders" order here.
SORTS = {
    "Most wasted spend first": ("waste_cost_usd", True),
    "Lowest useful share of spend first": ("useful_cost_ratio", False),
    "Most flagged sessions first": ("flagged_sessions", True),
    "Highest useful share of spend first": ("useful_cost_ratio", True),
}


def ordered(frame: pl.DataFrame, choice: str) -> pl.DataFrame:
    column, descending = SORTS[choice]
    return frame.sort(column, descending=descending, nulls_last=True)


def with_trend(frame: pl.DataFrame, daily: pl.DataFrame, key: str) -> pl.DataFrame:
    """The frame with each row's daily spend series as a list (what LineChartColumn draws); layout only."""
    trend = daily.sort("day").group_by(key, maintain_order=True).agg(pl.col("cost_usd").fill_null(0).alias("trend"))
    return frame.join(trend, on=key, how="left")


COLUMNS = columns.config(
    # Narrow: a sparkline reads at 75 px, and the Teams table must fit a 1366 px screen.
    # "Daily spend (USD)" does not fit 75 px: the header says "Trend" and the hover what it draws.
    trend=st.column_config.LineChartColumn("Trend", y_min=0, width="small",
                                           help="Spend (USD) per UTC day over the period, drawn from zero."),
)
# The Teams table puts the change of the useful share right beside it: "Change (pts)" says enough there,
# and the registry's longer label would push the table past a 1366 px screen.
TEAM_CONFIG = {**COLUMNS, "useful_cost_ratio_change": st.column_config.NumberColumn(
    "Change (pts)", format="%+.1f pts", help=columns.definition("useful_cost_ratio_change")),
    # "Flagged" beside the team says enough; the full label would widen the table past the screen.
    "flagged_sessions": st.column_config.NumberColumn(
        "Flagged", format="localized", help=f"{columns.label('flagged_sessions')}: {columns.definition('flagged_sessions')}")}
# Money only, with the flagged sessions as its evidence, to fit 1366 px beside the sidebar: tokens and
# overhead spend would repeat the money in another unit or split it finer; the users report (Reports page,
# CSV) has them.
FIGURES = ["sessions", "useful_cost_ratio", "waste_cost_usd", "cost_usd", "flagged_sessions"]
TEAM_COLUMNS = ["team", "useful_cost_ratio", "useful_cost_ratio_change", "waste_cost_usd", "cost_usd",
                "cost_change", "flagged_sessions", "trend"]

sort_choice = st.radio("Sort by", list(SORTS), horizontal=True, key="teams_sort")
ui.caveats(ui.view(queries.summary, filters))

choices = data.filter_choices()
directory = data.has_teams()
team = filters.team
if not directory:
    # Without an org directory every person is "(unassigned)": a one-row team table says nothing.
    st.info("No org directory is loaded, so there are no teams: everyone is listed under "
            f"{UNASSIGNED_TEAM}. Load one with `agentledger org load org.csv` (columns user, email, display_name, team, manager).",
            icon=":material/groups:")
else:
    st.subheader("Teams")
    teams = ui.report("teams", filters)
    ui.empty_state(teams, "team activity")
    changes = ui.view(queries.changes, filters, group_by="team").select(
        "team", "previous_cost_usd", "cost_change", "useful_cost_ratio_change")
    teams = ordered(with_trend(teams, ui.view(queries.team_daily, filters), "team").join(changes, on="team", how="left"),
                    sort_choice)
    picked = st.dataframe(
        teams, hide_index=True, placeholder=columns.PLACEHOLDER,
        # What fits a 1366 px laptop screen beside the sidebar; tokens and the rest are in the people table
        # below and on the Reports page.
        column_order=TEAM_COLUMNS,
        column_config=TEAM_CONFIG, on_select="rerun", selection_mode="single-row", key="teams_table",
    )
    team_rows = picked.selection.rows
    team = teams["team"][team_rows[0]] if team_rows else filters.team
    st.caption("Changes compare with the equally long period just before (empty when nothing was spent then). "
               f"{UNASSIGNED_TEAM}: people with data who are not in the org directory. Select a team to list its people.")

st.subheader("What the spend bought in git, per team")
# Cost per surviving line first (a line still there 30 days after it landed), per landed line where no
# line is that old yet; every session's cost counts, those that produced nothing too. Teams in name
# order: this is no ranking.
# A line costs fractions of a cent to a few cents: shown to a hundredth of a cent, not rounded to $0.01.
OUTCOME_CONFIG = columns.config(
    cost_per_alive_30d_line=st.column_config.NumberColumn(
        "Per line alive 30 d (USD)", format="$%.4f", help=columns.definition("cost_per_alive_30d_line")),
    cost_per_landed_line=st.column_config.NumberColumn(
        "Per landed line (USD)", format="$%.4f", help=columns.definition("cost_per_landed_line")),
    cost_per_landed_commit=st.column_config.NumberColumn(
        "Per landed commit (USD)", format="dollar", help=columns.definition("cost_per_landed_commit")),
    unlinked_cost_usd=st.column_config.NumberColumn(
        "No commit (USD)", format="dollar", help=columns.definition("unlinked_cost_usd")),
    lines_alive_30d=st.column_config.NumberColumn(
        "Alive at 30 d", format="localized", help=columns.definition("lines_alive_30d")),
)
if ui.scanned(filters) is False:
    ui.not_scanned("what each team's spend bought (cost per surviving line, per landed commit)")
else:
    outcomes = ui.view(queries.team_outcomes, filters).sort("team")
    if outcomes.height:
        surviving = outcomes["cost_per_alive_30d_line"].is_not_null().any()
        per_line = ["cost_per_alive_30d_line", "cost_per_landed_line"] if surviving else ["cost_per_landed_line"]
        st.dataframe(outcomes, hide_index=True, placeholder=columns.PLACEHOLDER, column_config=OUTCOME_CONFIG,
                     # Lines alive at 30 days are drawn right below (the survival curve); the table fits 1366 px.
                     column_order=["team", "cost_usd", *per_line, "cost_per_landed_commit", "unlinked_cost_usd",
                                   "lines_landed"], key="team_outcomes_table")
        st.caption(("Cost per line alive at 30 days: the spend of the sessions 30 days old divided by their lines "
                    "still there 30 days after landing; — where none of a team's lines is that old yet (read its "
                    "cost per landed line). " if surviving else
                    "No landed line is 30 days old yet, so the cost per landed line stands in for the cost per "
                    "surviving line. ")
                   + "Every session's spend counts, those that produced nothing too. No commit: the spend of sessions "
                   "linked to no commit, which bought nothing in git.")
        curve = ui.view(queries.survival_curve, filters)
        if curve.height:
            st.markdown("**How long agent lines survive**")
            st.altair_chart(charts.survival_curve(curve), width="stretch")
            st.caption("Of each team's landed agent lines, the share still on the default branch 0, 7 and 30 days "
                       "after the commit (git blame). A point counts only the lines old enough for it: hover for how "
                       "many it rests on.")
    else:
        st.info("No team in these filters has sessions that git can speak for.", icon=":material/filter_alt_off:")

st.subheader(f"People in {team}" if team else "People")
people_filters = filters.model_copy(update={"team": team}) if team else filters
people = ui.report("users", people_filters)
ui.empty_state(people, "people")
people = ordered(with_trend(people, ui.view(queries.user_daily, people_filters), "user"), sort_choice)
if ui.scanned(people_filters):
    # Each person's cost per surviving and per landed line beside their spend (the outcomes report's
    # person rows); the table keeps its order, never one by lines.
    per_person = ui.report("outcomes", people_filters).filter(pl.col("level") == "person").select(
        pl.col("name").alias("user"), "cost_per_alive_30d_line", "cost_per_landed_line")
    people = people.join(per_person, on="user", how="left")
# One column per person: the display name from the org directory where it has one, else the user name the
# filters and links use (two name columns would not leave the figures room on a 1366 px screen).
names = choices.names
people = people.with_columns(pl.col("user").replace_strict(names, default=None).fill_null(pl.col("user")).alias("name"))
PEOPLE_CONFIG = {
    **COLUMNS,
    "name": st.column_config.TextColumn("Person", help=f"{columns.definition('name')} Without one, the user name: "
                                         f"{columns.definition('user').lower()}"),
    # A bar with its percentage reads at 100 px.
    "useful_cost_ratio": columns.short("useful_cost_ratio", "Useful share", width=100),
    "waste_cost_usd": columns.short("waste_cost_usd", "Wasted (USD)"),
    "flagged_sessions": TEAM_CONFIG["flagged_sessions"],
    "cost_per_alive_30d_line": columns.short("cost_per_alive_30d_line", "$/line at 30 d",
                                             OUTCOME_CONFIG["cost_per_alive_30d_line"]),
    "cost_per_landed_line": columns.short("cost_per_landed_line", "$/landed line", OUTCOME_CONFIG["cost_per_landed_line"]),
}
st.dataframe(
    people, hide_index=True, placeholder=columns.PLACEHOLDER,
    # A team picked above: every row is of that team, so its column would say nothing.
    column_order=["name"] + (["team"] if directory and not team else []) + FIGURES
    + [c for c in ("cost_per_alive_30d_line", "cost_per_landed_line") if c in people.columns] + ["trend"],
    column_config=PEOPLE_CONFIG,
    on_select=sidebar.open_person_on_select("people_table", people["user"].to_list()),
    selection_mode="single-row", key="people_table", height=min(600, 38 + 35 * people.height),
)
st.caption("Select a person to open their sessions (the Person filter is set, so the URL can be shared).")
