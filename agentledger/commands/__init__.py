"""One module per subcommand, each exposing register(subparsers). The CLI lists them here."""

from agentledger.commands import ingest, org

COMMANDS = [ingest, org]
