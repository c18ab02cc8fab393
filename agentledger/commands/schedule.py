"""`agentledger schedule --print KIND -- COMMAND`: a ready-to-install timer for a recurring command."""

from __future__ import annotations

import argparse
import plistlib
import shlex
import shutil
import sys
from pathlib import Path

from agentledger.commands.common import formatter
from agentledger.errors import UserError

KINDS = ("systemd", "launchd", "cron")
DEFAULT_EVERY = 15
ENV_FILE = "~/.config/agentledger/env"

EPILOG = f"""examples:
  agentledger schedule --print systemd -- ship s3://acme-agentledger/shipped
  agentledger schedule --print launchd --every 30 -- ship /Volumes/share/agentledger
  agentledger schedule --print cron -- ingest /srv/shipped --shipped --store 'ducklake:postgres:dbname=ledger'

systemd prints a user service and timer (install them in ~/.config/systemd/user/, then
`systemctl --user daemon-reload && systemctl --user enable --now agentledger-ship.timer`);
launchd prints a LaunchAgent plist (~/Library/LaunchAgents/, then `launchctl load` it); cron prints
one crontab line (`crontab -e`). Settings such as AGENTLEDGER_S3_KEY_ID go in {ENV_FILE}
(KEY=value lines), which the systemd and cron units read; a LaunchAgent carries them itself
(the plist's EnvironmentVariables, which you fill in).
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("schedule", help="print a systemd, launchd or cron unit that runs a command regularly",
                                   epilog=EPILOG, formatter_class=formatter())
    parser.add_argument("--print", dest="kind", choices=KINDS, required=True, help="the scheduler to print a unit for")
    parser.add_argument("--every", type=int, default=DEFAULT_EVERY, metavar="MINUTES",
                        help=f"how often to run (default: {DEFAULT_EVERY})")
    parser.add_argument("--name", default=None, help="unit name (default: agentledger-<command>)")
    parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND",
                        help="the agentledger command and its arguments, after --")
    parser.set_defaults(handler=handle)


def executable() -> list[str]:
    """How a scheduler starts this agentledger: the installed command, else this Python with -m."""
    found = shutil.which("agentledger")
    if found:
        return [str(Path(found).resolve())]
    return [sys.executable, "-m", "agentledger.cli"]


def handle(args: argparse.Namespace) -> int:
    command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not command:
        raise UserError("name the command to schedule after --, e.g. -- ship s3://bucket/prefix")
    if not 1 <= args.every <= 24 * 60:
        raise UserError("--every is between 1 and 1440 minutes")
    name = args.name or f"agentledger-{command[0]}"
    argv = executable() + command
    print(render(args.kind, name, argv, args.every), end="")
    return 0


def render(kind: str, name: str, argv: list[str], every: int) -> str:
    """The unit text for `kind` that runs `argv` every `every` minutes."""
    if kind == "systemd":
        return systemd(name, argv, every)
    if kind == "launchd":
        return launchd(name, argv, every)
    return cron(name, argv, every)


def _systemd_quote(arg: str) -> str:
    escaped = arg.replace("%", "%%").replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"' if any(c in arg for c in ' \t"\'\\;$') or not arg else escaped


def systemd(name: str, argv: list[str], every: int) -> str:
    """A oneshot user service and the timer that starts it."""
    return f"""# ~/.config/systemd/user/{name}.service
[Unit]
Description=AgentLedger: {name} every {every} minutes

[Service]
Type=oneshot
EnvironmentFile=-%h/.config/agentledger/env
ExecStart={" ".join(_systemd_quote(a) for a in argv)}
Nice=10
IOSchedulingClass=idle

# ~/.config/systemd/user/{name}.timer
[Unit]
Description=Start {name}.service every {every} minutes

[Timer]
OnBootSec=5min
OnUnitActiveSec={every}min
RandomizedDelaySec={min(every, 5)}min
Persistent=true

[Install]
WantedBy=timers.target

# then: systemctl --user daemon-reload && systemctl --user enable --now {name}.timer
"""


def launchd(name: str, argv: list[str], every: int) -> str:
    """A LaunchAgent plist (run at login, then every `every` minutes)."""
    label = f"com.agentledger.{name.removeprefix('agentledger-')}"
    plist = {
        "Label": label,
        "ProgramArguments": argv,
        "StartInterval": every * 60,
        "RunAtLoad": True,
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "EnvironmentVariables": {},
        "StandardOutPath": f"/tmp/{name}.log",
        "StandardErrorPath": f"/tmp/{name}.log",
    }
    body = plistlib.dumps(plist, sort_keys=False).decode()
    return f"<!-- ~/Library/LaunchAgents/{label}.plist; then: launchctl load ~/Library/LaunchAgents/{label}.plist -->\n{body}"


def cron(name: str, argv: list[str], every: int) -> str:
    """One crontab line."""
    if every < 60 and 60 % every == 0:
        when = f"*/{every} * * * *" if every > 1 else "* * * * *"
    elif every % 60 == 0 and 24 % (every // 60) == 0:
        hours = every // 60
        when = f"0 */{hours} * * *" if hours < 24 else "0 0 * * *"
    else:
        raise UserError(f"cron cannot run every {every} minutes: choose a divisor of 60 minutes or of 24 hours")
    env = f"[ -f {ENV_FILE} ] && set -a && . {ENV_FILE}; set +a;"
    return f"{when} {env} {shlex.join(argv)} >> ~/.{name}.log 2>&1\n"
