"""`agentledger dashboard`: serve the Streamlit dashboard on a ledger file."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from agentledger.browser import open_when_ready
from agentledger.commands.common import add_db_option, formatter
from store.db import DB_ENV_VAR, resolve_db_path

DEFAULT_PORT = 8501

EPILOG = """examples:
  agentledger dashboard
  agentledger dashboard --db /srv/ledger.duckdb --port 8080 --no-browser

The dashboard only opens short read-only connections, so a scheduled `agentledger ingest`
can keep writing to the same file while people look at it. Stop it with Ctrl+C.
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "dashboard", help="open the web dashboard on a ledger", epilog=EPILOG, formatter_class=formatter()
    )
    add_db_option(parser)
    add_serve_options(parser)
    parser.set_defaults(handler=handle)


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    """--port, --host and --no-browser, shared with `agentledger demo`."""
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N", help=f"port to serve on (default: {DEFAULT_PORT})")
    parser.add_argument("--host", default="localhost", help="address to listen on (default: localhost only)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser tab (none opens anyway without a display)")


def app_path() -> Path:
    """The packaged Streamlit router file."""
    import dashboard  # the package's __init__ is empty: this does not import Streamlit

    return Path(dashboard.__file__).resolve().parent / "app.py"


def streamlit_command(port: int, host: str = "localhost") -> list[str]:
    """The `streamlit run` command line for the packaged app.

    Everything else (headless, no developer prompts, theme) is in dashboard/.streamlit/config.toml,
    which Streamlit reads for this app however it is started.
    """
    return [
        sys.executable, "-m", "streamlit", "run", str(app_path()),
        "--server.port", str(port),
        "--server.address", host,
    ]


def serve(db: Path, port: int, host: str = "localhost", open_browser: bool = True) -> int:
    """Run the dashboard on `db` until interrupted; the path travels in $AGENTLEDGER_DB."""
    env = {**os.environ, DB_ENV_VAR: str(db)}
    url = f"http://{host}:{port}"
    print(f"AgentLedger dashboard on {url} reading {db} (Ctrl+C to stop)", flush=True)
    if open_browser:
        open_when_ready(url)
    command = streamlit_command(port, host)
    if os.name == "posix":
        # Become the server: a supervisor's SIGTERM (systemd, a test) then reaches Streamlit itself
        # instead of killing a wrapper and orphaning the server on its port.
        os.execve(command[0], command, env)
    process = subprocess.Popen(command, env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=10)
        return 0


def handle(args: argparse.Namespace) -> int:
    db = resolve_db_path(args.db)
    if not db.exists():
        print(f"note: no ledger at {db} yet; the dashboard will explain how to ingest", file=sys.stderr)
    return serve(db.resolve() if db.exists() else db.absolute(), args.port, args.host, not args.no_browser)
