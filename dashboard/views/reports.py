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
# Column names stay the CLI's (they are the CSV contract); what each means in this report shows on hover.
config = {
    name: (st.column_config.DateColumn(name, help=documented[name], format="YYYY-MM-DD")
           if rows.schema[name] == pl.Date else st.column_config.Column(name, help=documented[name]))
    for name in rows.columns
}
st.dataframe(rows, hide_index=True, column_config=config, height=560, placeholder=columns.PLACEHOLDER)
