"""Reports: each CLI report as a table, with the very CSV `agentledger report KIND --format csv` writes."""

import polars as pl
import streamlit as st

from dashboard import auth, columns, data, sidebar, ui

filters = sidebar.current()
ui.header("Reports", filters, "the same rows and CSV bytes as the CLI")

kinds = data.report_kinds()
kind = st.segmented_control("Report", kinds, default=kinds[0], key="report_kind")
if not kind:
    st.stop()
rows = ui.report(kind, filters)
description, documented = data.report_info(kind)
st.caption(f"**{kind}**: {description}. {rows.height:,} rows. The CLI equivalent:")
st.code(sidebar.cli_command(kind, filters, data.db_path(), auth.current().viewer.email), language="text")
stamp = f"{filters.date_from or 'start'}_{filters.date_to or 'end'}"
st.download_button(f"Download {kind}.csv", data.report_download(kind, filters), file_name=f"agentledger-{kind}-{stamp}.csv",
                   mime="text/csv", icon=":material/download:", key=f"download_{kind}")
# Column names stay the CLI's (they are the CSV contract); what each means in this report shows on hover, and
# each figure reads as on the other pages (dollars, shares as bars, tokens compact). A line's cost is fractions
# of a cent: to a hundredth of a cent, never rounded to $0.00. A sha reads by its first ten characters (the
# whole one is in the cell and the CSV), a plugin component by its whole name ("subagent:general-purpose").
# Names of people and of outcome rows are capped: real user names are folder names and real projects long
# paths ("-Users-dain-workspace-coderabbit-review-helper"), which pushed the figures out of sight. The
# evidence takes what the flags report leaves.
WIDTHS = {"sha": 95, "evidence": 430, "component": 185, "user": 130, "name": 230, "flags": 215}
EVIDENCE_ROW_PX = 80  # four lines of the grid's text


def _evidence_in_full(rows: pl.DataFrame, selected: list[int]) -> None:
    """The selected flag's evidence as a whole text (a code block: commands and paths stay as they are, never
    read as markdown), with the way to its session; or how to get there."""
    if not selected:
        st.caption("Select a row to read its evidence in full and open its session.")
        return
    row = rows.row(selected[0], named=True)
    with st.container(border=True):
        st.markdown(f"**{row['flag']}** · {ui.usd(row['cost_usd'])} of spend · {row['started_at']:%d %b %Y %H:%M} UTC")
        st.code(row["evidence"], language=None, wrap_lines=True)
        st.page_link("views/session.py", label="Open the session", icon=":material/timeline:",
                     query_params={"session": row["session_id"]})


def _config(name: str) -> dict:
    if name.startswith("cost_per_") and name.endswith("_line"):
        base = st.column_config.NumberColumn(format="$%.4f")
    elif rows.schema[name] == pl.Date:
        base = st.column_config.DateColumn(format="YYYY-MM-DD")
    else:
        base = columns.COMMON[name]
    return {**base, "label": name, "help": documented[name], "width": WIDTHS.get(name)}


table = columns.fit(rows.columns, columns.REPORT_SHOWN.get(kind, rows.columns),
                    {name: _config(name) for name in rows.columns})
# A flag's evidence (a command or path of up to 160 characters and what was found in it: up to ~260) wraps
# over the lines of a taller row (the grid wraps text only in rows taller than 64 px), and a selected row
# shows it whole below the table, however long.
evidence = "evidence" in rows.columns
reading = ({"row_height": EVIDENCE_ROW_PX, "on_select": "rerun", "selection_mode": "single-row",
            "key": f"report_{kind}_rows"} if evidence else {})
picked = st.dataframe(rows, hide_index=True, height=560, placeholder=columns.PLACEHOLDER, **reading, **table)
shown = sum(not config.get("hidden") for config in table["column_config"].values())
if shown < len(rows.columns):
    st.caption(f"{shown} of the report's {len(rows.columns)} columns shown. "
               + columns.FOLDED_NOTE + " The CSV holds every column.")
if evidence:
    _evidence_in_full(rows, picked.selection.rows)
