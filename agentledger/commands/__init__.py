"""One module per subcommand, each exposing register(subparsers). The CLI lists them here."""

from agentledger.commands import dashboard, demo, ingest, org, report, sample

COMMANDS = [ingest, org, dashboard, demo, report, sample]
