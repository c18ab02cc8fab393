"""Reports: each CLI report as a table, with the very CSV `agentledger report KIND --format csv` writes."""

import polars as pl
import streamlit as st

from dashboard import data, sidebar, ui

filters = sidebar.current()
ui.header("Reports", filters, "the same rows and CSV bytes as the CLI")

try:
    kinds = data.report_kinds()
except data.AnalyticsMissing:
    st.warning("This build has no report registry (analytics.reports.REPORTS) yet.", icon=":material/construction:")
    st.stop()

kind = st.segmented_control("Report", kinds, default=kinds[0] if kinds else None, key="report_kind")
if not kind:
    st.stop()
rows = ui.report(kind, filters)
description, documented = data.report_info(kind)
st.caption(f"**{kind}**: {description}. {rows.height:,} rows. The CLI equivalent:")
st.code(sidebar.cli_command(kind, filters), language="text")
try:
    csv_bytes = data.report_csv(kind, filters)
except data.AnalyticsMissing:
    csv_bytes = None
    st.warning("CSV export (analytics.export) is not in this build yet.", icon=":material/construction:")
if csv_bytes is not None:
    stamp = f"{filters.date_from or 'start'}_{filters.date_to or 'end'}"
    st.download_button(f"Download {kind}.csv", csv_bytes, file_name=f"agentledger-{kind}-{stamp}.csv",
                       mime="text/csv", icon=":material/download:", key=f"download_{kind}")
# Column names stay the CLI's (they are the CSV contract); their documentation shows on hover.
config = {
    name: (st.column_config.DateColumn(name, help=documented.get(name), format="YYYY-MM-DD")
           if rows.schema[name] == pl.Date else st.column_config.Column(name, help=documented.get(name)))
    for name in rows.columns
}
st.dataframe(rows, hide_index=True, column_config=config, height=560)
