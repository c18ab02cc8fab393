"""The fixed world the generator draws from: models, versions, teams, projects, plugins, MCP servers.

Names follow what real transcripts carry (../shared/formats.md §1.4, §1.8): API model ids, Claude Code
semvers, `mcp__<server>__<tool>` and `mcp__plugin_<plugin>_<server>__<tool>` tool names.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Model:
    id: str
    # USD per million tokens: input, output, 5m cache write, 1h cache write, cache read. Only used to
    # size the planted usage spikes; the product prices with genai-prices.
    prices: tuple[float, float, float, float, float]

    def cost(self, usage: dict) -> float:
        """List-price cost of one usage object (good enough to calibrate a spike factor)."""
        p_in, p_out, p_5m, p_1h, p_read = self.prices
        cache = usage.get("cache_creation") or {}
        return (
            usage["input_tokens"] * p_in
            + usage["output_tokens"] * p_out
            + cache.get("ephemeral_5m_input_tokens", usage["cache_creation_input_tokens"]) * p_5m
            + cache.get("ephemeral_1h_input_tokens", 0) * p_1h
            + usage["cache_read_input_tokens"] * p_read
        ) / 1e6


_OPUS = (5.0, 25.0, 6.25, 10.0, 0.5)
_SONNET = (3.0, 15.0, 3.75, 6.0, 0.3)
_HAIKU = (1.0, 5.0, 1.25, 2.0, 0.1)

MODELS = {
    "opus-4-7": Model("claude-opus-4-7", _OPUS),
    "opus-4-6": Model("claude-opus-4-6", _OPUS),
    "opus-4-5": Model("claude-opus-4-5-20251101", _OPUS),
    "sonnet-4-6": Model("claude-sonnet-4-6", _SONNET),
    "sonnet-4-5": Model("claude-sonnet-4-5-20250929", _SONNET),
    "haiku-4-5": Model("claude-haiku-4-5-20251001", _HAIKU),
}
SUBAGENT_MODEL = "haiku-4-5"          # Explore and warm-up agents run on the small model

# A fleet is never on one version: most auto-update, some lag, a few pin an old 2.0.x build
# (which still writes flat agent-<8hex>.jsonl files and warm-up agents).
LEGACY_VERSION = "2.0.76"
VERSION_WEIGHTS = (("2.1.247", 5), ("2.1.233", 4), ("2.1.198", 2), ("2.1.114", 1), (LEGACY_VERSION, 2))


def is_legacy(version: str) -> bool:
    """2.0.x: Task tool, flat subagent files, warm-ups, every split line carries the final usage."""
    return version.startswith("2.0.")


FIRST_NAMES = (
    "alice", "bilal", "chen", "dmitri", "emma", "farah", "gustavo", "hana", "ines", "jamal",
    "kenji", "leila", "marco", "nadia", "oscar", "priya", "quinn", "rosa", "sven", "tomas",
    "uma", "victor", "wen", "ximena", "yusuf", "zoe", "amara", "bruno", "carla", "diego",
    "elif", "felix", "greta", "hugo", "ivana", "jonas", "kira", "luca", "maya", "nils",
    "olga", "pablo", "rania", "sami", "tara", "uri", "vera", "will", "yara", "zane",
)
LAST_NAMES = (
    "nguyen", "okafor", "schmidt", "haddad", "kowalski", "tanaka", "moreau", "silva", "patel", "novak",
    "larsen", "rossi", "ibrahim", "fischer", "kim", "andersen", "costa", "dubois", "weber", "yilmaz",
)
EMAIL_DOMAIN = "acme-robotics.dev"


@dataclass(frozen=True)
class Project:
    repo: str
    language: str
    test_cmd: str
    build_cmd: str
    src_dirs: tuple[str, ...]


@dataclass(frozen=True)
class Team:
    name: str
    manager: str                      # the manager's user handle (managers need not use agents)
    projects: tuple[Project, ...]
    mcp_servers: tuple[str, ...]      # user/project MCP servers the team has configured
    plugins: tuple[str, ...]          # plugins the team tends to install
    models: tuple[tuple[str, int], ...]


TEAMS = (
    Team(
        "Payments", "dana.whitfield",
        (
            Project("payments-api", "python", "pytest -q", "python -m build", ("src/payments", "tests")),
            Project("ledger-service", "go", "go test ./...", "go build ./...", ("internal/ledger", "cmd/ledgerd")),
        ),
        ("github", "jira", "sentry"), ("context7", "pr-review-toolkit"),
        (("opus-4-7", 3), ("sonnet-4-6", 4), ("sonnet-4-5", 1)),
    ),
    Team(
        "Platform", "ravi.menon",
        (
            Project("k8s-operators", "go", "go test ./...", "make build", ("controllers", "api/v1")),
            Project("ci-pipelines", "python", "pytest tests/", "make lint", ("pipelines", "tests")),
        ),
        ("github", "sentry"), ("context7", "superpowers"),
        (("opus-4-6", 3), ("sonnet-4-6", 3), ("opus-4-7", 2)),
    ),
    Team(
        "Web", "claire.bennett",
        (
            Project("storefront-web", "typescript", "npm test", "npm run build", ("src/components", "src/pages")),
            Project("design-system", "typescript", "npm run test:unit", "npm run build", ("packages/ui/src", "packages/tokens")),
        ),
        ("github", "jira"), ("playwright", "context7", "pr-review-toolkit"),
        (("sonnet-4-5", 3), ("sonnet-4-6", 3), ("opus-4-5", 2)),
    ),
    Team(
        "Data", "tobias.lindqvist",
        (
            Project("etl-pipelines", "python", "pytest -x", "make check", ("etl/jobs", "etl/transforms")),
            Project("warehouse-models", "python", "pytest tests/models", "dbt compile", ("models", "macros")),
        ),
        ("github", "jira"), ("context7", "superpowers"),
        (("sonnet-4-6", 4), ("opus-4-7", 2), ("haiku-4-5", 1)),
    ),
    Team(
        "Mobile", "ngozi.adeyemi",
        (
            Project("mobile-app", "typescript", "yarn jest", "yarn build:ios", ("app/screens", "app/state")),
        ),
        ("github", "jira"), ("playwright", "context7"),
        (("sonnet-4-5", 4), ("opus-4-6", 2)),
    ),
)

# MCP tools per server: (tool name, typical output KB). Plugin servers are reached through their plugin.
MCP_TOOLS = {
    "github": (("get_pull_request", 4), ("list_pull_requests", 9), ("get_file_contents", 7),
               ("search_code", 8), ("list_issues", 8), ("create_pull_request", 1)),
    "jira": (("get_issue", 3), ("search_issues", 9), ("add_comment", 1)),
    "sentry": (("get_issue_details", 6), ("search_events", 9)),
}
PLUGIN_MCP_TOOLS = {
    "context7": (("resolve-library-id", 2), ("query-docs", 7)),
    "playwright": (("browser_navigate", 2), ("browser_snapshot", 14), ("browser_click", 2),
                   ("browser_take_screenshot", 1)),
}
# Tools whose real outputs can balloon (page snapshots, unpaginated searches): the context-bloat plant.
HUGE_OUTPUT_TOOLS = (
    ("playwright", "browser_snapshot"), ("github", "search_code"), ("github", "list_pull_requests"),
    ("jira", "search_issues"), ("sentry", "search_events"),
)
PLUGIN_AGENTS = {"pr-review-toolkit": ("code-reviewer", "silent-failure-hunter")}
PLUGIN_SKILLS = {
    "superpowers": ("brainstorming", "systematic-debugging", "test-driven-development"),
    "pr-review-toolkit": ("review-pr",),
}
LOCAL_SKILLS = ("commit-helper", "release-notes")
BUILTIN_SUBAGENTS = ("general-purpose", "Explore")


def mcp_tool_name(server: str, tool: str) -> str:
    """The tool_use name Claude Code gives an MCP tool, plugin-bundled or not."""
    if server in PLUGIN_MCP_TOOLS:
        return f"mcp__plugin_{server}_{server}__{tool}"
    return f"mcp__{server}__{tool}"


@dataclass
class UserProfile:
    handle: str
    display_name: str
    email: str
    team: Team
    version: str
    model: str
    home: str
    cache_1h: bool                     # Max-plan style 1h prompt caching on the main thread
    sessions_per_day: float
    shift_start_hour: int              # UTC hour the working day starts
    plugins: tuple[str, ...] = ()
    mcp_servers: tuple[str, ...] = ()
    in_org_csv: bool = True
    spike_user: bool = False
    extra: dict = field(default_factory=dict)

    def cwd(self, project: Project) -> str:
        """Where this user keeps the repo: the session cwd."""
        return f"{self.home}/{self.extra.get('src_root', 'code')}/{project.repo}"
