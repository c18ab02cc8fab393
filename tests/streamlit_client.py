"""A real HTTP client for a served Streamlit app: opens the app's WebSocket (an HTTP upgrade carrying
whatever headers the test sets, as a reverse proxy would), asks for one page run, and collects what the
server sent: text, alerts, metrics, select options and table rows (decoded from Arrow)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyarrow as pa
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect


@dataclass
class PageRun:
    """What one script run sent to the browser."""

    texts: list[str] = field(default_factory=list)            # markdown, headings, captions
    errors: list[str] = field(default_factory=list)           # st.error bodies
    metrics: dict[str, str] = field(default_factory=dict)     # label -> shown value
    options: dict[str, list[str]] = field(default_factory=dict)   # select label -> its options
    tables: list[pa.Table] = field(default_factory=list)

    def column(self, name: str) -> set:
        """Every value of a column across the page's tables."""
        return {v for t in self.tables if name in t.column_names for v in t.column(name).to_pylist() if v is not None}


def run_page(url: str, page: str = "", query: str = "", headers: dict[str, str] | None = None,
             timeout: float = 60.0) -> PageRun:
    """Connect to `url` with `headers`, run `page` (its url path) with `query`, and collect the output."""
    run = PageRun()
    socket_url = url.replace("http://", "ws://", 1) + "/_stcore/stream"
    with connect(socket_url, subprotocols=["streamlit"], additional_headers=headers or {}, open_timeout=timeout) as ws:
        message = BackMsg()
        message.rerun_script.query_string = query
        message.rerun_script.page_name = page
        ws.send(message.SerializeToString())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            forward = ForwardMsg()
            forward.ParseFromString(ws.recv(timeout=timeout))
            kind = forward.WhichOneof("type")
            if kind == "script_finished":
                return run
            if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                _collect(run, forward.delta.new_element)
    raise TimeoutError(f"{url}/{page}: the script run did not finish in {timeout} s")


def _collect(run: PageRun, element) -> None:
    kind = element.WhichOneof("type")
    if kind == "alert":
        (run.errors if element.alert.format == element.alert.ERROR else run.texts).append(element.alert.body)
    elif kind in ("markdown", "heading"):
        run.texts.append(getattr(element, kind).body)
    elif kind == "metric":
        run.metrics[element.metric.label] = element.metric.body
    elif kind == "selectbox":
        run.options[element.selectbox.label] = list(element.selectbox.options)
    elif kind == "dataframe":
        run.tables.append(pa.ipc.open_stream(element.dataframe.arrow_data.data).read_all())
