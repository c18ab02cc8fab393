"""Shown instead of every page while there is no data: how to get some."""

import streamlit as st

from dashboard import data

state = data.db_state()
st.title("Welcome to AgentLedger")
if state.status == "missing":
    st.info(f"There is no ledger at `{state.path}` yet.", icon=":material/database:")
elif state.status == "unreadable":
    st.warning(f"The ledger at `{state.path}` could not be opened: {state.detail}", icon=":material/lock:")
    st.caption("An ingest may be holding the file; this page retries on reload.")
else:
    st.info(f"The ledger at `{state.path}` has no agent sessions in it yet.", icon=":material/inbox:")

st.subheader("Load your agents' logs")
st.markdown("Claude Code keeps its transcripts under `~/.claude/projects`. Ingest them, then reload this page:")
st.code(f"agentledger ingest ~/.claude/projects --user $USER --db {state.path}", language="bash")
st.markdown("For a whole team, collect each person's folder under one root (`ROOT/<user>/...`) and add the org directory:")
st.code(
    f"agentledger ingest /srv/agent-logs --user-from-dir --db {state.path}\n"
    f"agentledger org load org.csv --db {state.path}",
    language="bash",
)
st.markdown("Just looking? `agentledger demo` loads a sample organisation and opens this dashboard on it.")
