"""`agentledger dashboard`: serve the Streamlit dashboard on a ledger file."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from agentledger.browser import open_when_ready
from agentledger.commands.common import add_db_option, formatter, store_of
from agentledger.errors import UserError
from analytics.access.settings import CONFIG_ENV_VAR, LOOPBACK, AccessConfigError, AccessSettings, config_path, load_access_settings
from store.config import STORE_ENV_VAR, LakeTarget
from store.db import DB_ENV_VAR, resolve_db_path

DEFAULT_PORT = 8501

EPILOG = """examples:
  agentledger dashboard
  agentledger dashboard --db /srv/ledger.duckdb --port 8080 --no-browser
  agentledger dashboard --access-config /etc/agentledger/access.toml --db /srv/ledger.duckdb

The dashboard only opens short read-only connections, so a scheduled `agentledger ingest`
can keep writing to the same file while people look at it. Stop it with Ctrl+C.
Who may see what (local, proxy or oidc mode; roles; pseudonyms; the audit log) is set in the
access configuration file: see docs/security.md.
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
    parser.add_argument("--host", default=LOOPBACK,
                        help=f"address to listen on (default: {LOOPBACK}, this machine only; local mode refuses any other)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser tab (none opens anyway without a display)")
    parser.add_argument("--access-config", metavar="FILE", type=Path,
                        help=f"access configuration (default: ${CONFIG_ENV_VAR}, else {config_path()})")


def app_path() -> Path:
    """The packaged Streamlit router file."""
    import dashboard  # the package's __init__ is empty: this does not import Streamlit

    return Path(dashboard.__file__).resolve().parent / "app.py"


def streamlit_command(port: int, host: str = LOOPBACK, secrets_file: Path | None = None) -> list[str]:
    """The `streamlit run` command line for the packaged app (oidc: Streamlit reads [auth] from `secrets_file`).

    Everything else (headless, no developer prompts, theme) is in dashboard/.streamlit/config.toml,
    which Streamlit reads for this app however it is started.
    """
    secrets = ["--secrets.files", str(secrets_file)] if secrets_file else []
    return [
        sys.executable, "-m", "streamlit", "run", str(app_path()),
        "--server.port", str(port),
        "--server.address", host,
        *secrets,
    ]


def access_for_serving(config: Path | None, host: str) -> AccessSettings:
    """The access settings the server will run under, checked against the address; a user error if unusable."""
    if config is not None:
        os.environ[CONFIG_ENV_VAR] = str(config.expanduser().absolute())
    try:
        settings = load_access_settings()
        settings.check_listen_address(host)
    except AccessConfigError as error:
        raise UserError(str(error)) from error
    return settings


def serve(db: Path | LakeTarget, port: int, host: str = LOOPBACK, open_browser: bool = True,
          access_config: Path | None = None) -> int:
    """Run the dashboard on `db` (a file or a lake) until interrupted; it travels in $AGENTLEDGER_DB, the
    access file in $AGENTLEDGER_ACCESS_CONFIG (refused first when its mode may not serve on `host`)."""
    settings = access_for_serving(access_config, host)
    env = {**os.environ, DB_ENV_VAR: db.spec if isinstance(db, LakeTarget) else str(db)}
    if not isinstance(db, LakeTarget):
        env.pop(STORE_ENV_VAR, None)   # --db FILE wins over a lake named in the environment
    url = f"http://{host}:{port}"
    print(f"AgentLedger dashboard on {url} reading {db}, access mode {settings.mode} (Ctrl+C to stop)", flush=True)
    if open_browser:
        open_when_ready(url)
    command = streamlit_command(port, host, config_path() if settings.mode == "oidc" else None)
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
    access_for_serving(args.access_config, args.host)   # a forbidden address is the first thing said
    store = store_of(args)
    if isinstance(store, LakeTarget):
        # Readers of a lake read its last committed snapshot: nothing to create or wait for.
        return serve(store, args.port, args.host, not args.no_browser, args.access_config)
    db = resolve_db_path(store)
    if not db.exists():
        print(f"note: no ledger at {db} yet; the dashboard will explain how to ingest", file=sys.stderr)
    return serve(db.resolve() if db.exists() else db.absolute(), args.port, args.host, not args.no_browser,
                 args.access_config)
