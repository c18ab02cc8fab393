"""Reports: each CLI report as a table, with the very CSV `agentledger report KIND --format csv` writes."""

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
st.caption(f"{rows.height:,} rows. The CLI equivalent:")
st.code(sidebar.cli_command(kind, filters), language="bash")
try:
    csv_bytes = data.report_csv(kind, filters)
except data.AnalyticsMissing:
    csv_bytes = None
    st.warning("CSV export (analytics.export) is not in this build yet.", icon=":material/construction:")
if csv_bytes is not None:
    stamp = f"{filters.date_from or 'start'}_{filters.date_to or 'end'}"
    st.download_button(f"Download {kind}.csv", csv_bytes, file_name=f"agentledger-{kind}-{stamp}.csv",
                       mime="text/csv", icon=":material/download:", key=f"download_{kind}")
st.dataframe(rows, hide_index=True)
