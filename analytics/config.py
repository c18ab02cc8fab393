"""Every analytics threshold in one pydantic-settings model (env AGENTLEDGER_<NAME>), with why.

The defaults are documented in docs/metrics.md; a test checks every field is mentioned there.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AnalyticsSettings(BaseSettings):
    """Thresholds for outcomes and flags, and the negotiated-price override file."""

    model_config = SettingsConfigDict(env_prefix="AGENTLEDGER_", extra="ignore", frozen=True)

    prices_file: Path | None = Field(
        None, description="TOML or JSON file of negotiated prices that override genai-prices per model."
    )

    # -- looping ----------------------------------------------------------------------------
    loop_min_repeats: int = Field(
        3, ge=2, description="Identical calls (same tool, same normalized input) that make a loop: "
        "three is a pattern, while two identical reads are common and harmless."
    )
    loop_window_minutes: float = Field(
        2.0, gt=0, description="Identical calls this close together, with no file edit between them, "
        "count as a loop even when other calls come between: 2 min covers an agent re-running the same "
        "check in quick succession; an edit between them (an edit-test cycle) is never a loop."
    )
    loop_window_exempt_tools: tuple[str, ...] = Field(
        ("Read", "Glob", "Grep", "LS", "NotebookRead"), description="Lookups that need three *in a row* to be "
        "a loop: re-reading a file or re-globbing after other calls is how an agent refreshes its context "
        "(on the generated org the window rule flagged 10% of normal sessions through these alone)."
    )
    loop_poll_tools: tuple[str, ...] = Field(
        ("BashOutput", "TaskOutput", "AgentOutputTool"), description="Tools that wait on a background job: "
        "calling one again until the job ends is waiting, not looping (a real session polled BashOutput four "
        "times while an install ran)."
    )
    loop_min_variants: int = Field(
        4, ge=2, description="Variants of one shell command (flags aside) within loop_window_minutes, no edit between, "
        "that make a loop: a real session reinstalled a CLI four ways without finding out why; three is how "
        "often a failing test is re-run with more verbose flags to read it."
    )
    loop_inspection_commands: tuple[str, ...] = Field(
        ("ls", "cat", "head", "tail", "grep", "rg", "find", "wc", "echo", "pwd", "which", "tree", "stat", "file",
         "du", "df", "sleep", "git status", "git diff", "git log", "git show", "git branch", "git remote",
         "git rev-parse", "git ls-files", "git blame"),
        description="Shell commands that only look (first word, or first two): variants of them are checks "
        "of different things, never a command-variations loop."
    )
    loop_error_window_minutes: float = Field(
        30.0, gt=0, description="The same error (tool + identical output) this many times within this window "
        "is a loop even if the agent edited files between attempts: fixes that do not change the error."
    )

    # -- discarded --------------------------------------------------------------------------
    discard_interrupt_min_requests: int = Field(
        3, ge=1, description="An interruption or rejection raises a discarded_work flag only when it threw "
        "away at least this many requests: stopping a short answer is normal steering, not waste worth a look."
    )

    discard_steer_minutes: float = Field(
        10.0, gt=0, description="After an interruption or rejection, the agent carrying on within this many "
        "minutes (a new prompt, a queued message) means the user steered it and nothing is thrown away; real "
        "corrections followed in 6-93 s, abandoned work was picked up 40+ minutes later or never."
    )

    # -- idle -------------------------------------------------------------------------------
    idle_min_minutes: float = Field(
        60.0, gt=0, description="An unattended turn (no human prompt) that changes nothing must run this long "
        "to be idle: real investigations answer in minutes; an hour of reading with no edit is burn."
    )
    idle_min_requests: int = Field(
        20, ge=1, description="...and make at least this many requests (a slow single tool call is not burn)."
    )

    idle_max_gap_minutes: float = Field(
        15.0, gt=0, description="Gaps between requests count toward idle time only up to this: a longer gap is "
        "the agent waiting for a person (a permission prompt), not unattended burn."
    )

    # -- zero_output ------------------------------------------------------------------------
    zero_output_min_cost_usd: float = Field(
        5.0, ge=0, description="A session costing at least this much with no surviving edit and no commit is "
        "flagged zero_output (about 1.5 M cached Sonnet tokens: well above a question-and-answer session)."
    )
    zero_output_min_tokens: int = Field(
        5_000_000, ge=0, description="...or at least this many tokens when the model is unpriced."
    )

    # -- usage_spike ------------------------------------------------------------------------
    spike_factor: float = Field(
        3.0, gt=1, description="A day's spend (USD; tokens when unpriced) must exceed the person's baseline (median of their previous "
        "active days) by this factor: busy days reach 2x, target-gaming days are several times more."
    )
    spike_baseline_days: int = Field(
        28, ge=3, description="Baseline = median over the person's active days in this many days before."
    )
    spike_min_baseline_days: int = Field(
        2, ge=1, description="No spike is claimed before the person has this many active days of history; "
        "the useful-ratio condition below guards the thin early baseline (a productive big day is never flagged)."
    )
    spike_max_useful_ratio: float = Field(
        0.5, ge=0, le=1, description="A spike is flagged only when that day's useful_output_ratio is below "
        "this: a big productive day is not gaming."
    )

    # -- context_bloat ----------------------------------------------------------------------
    bloat_single_result_bytes: int = Field(
        40_000, ge=1, description="One tool result this large (about 10k tokens, the size at which Claude Code "
        "warns about MCP tool output) is bloat."
    )
    bloat_project_lookup_tools: tuple[str, ...] = Field(
        ("Read", "Grep", "Glob", "LS", "NotebookRead"), description="Lookups whose results are the project's own "
        "files when they stay inside the working directory: reading the code being changed is the work itself "
        "(a 61 kB Read of the script a session was packaging is not bloat)."
    )
    bloat_session_bytes: int = Field(
        1_000_000, ge=1, description="...or one component's results in one session summing to this much "
        "(about 250k tokens: more than a whole context window)."
    )

    # -- outcomes in git --------------------------------------------------------------------
    git_rebase_window_seconds: int = Field(
        120, ge=0, description="A printed commit that is not on the default branch (rebased, amended) has its "
        "landed copy in the default branch's commit with the same subject whose author date is within this many "
        "seconds of the tool result (real rebased copies: 0.5-4.5 s before it; author dates survive rebases)."
    )
    git_squash_window_days: float = Field(
        14.0, gt=0, description="A squash merge (new subject) of a printed commit is looked for among the "
        "default branch's commits made up to this many days after it."
    )
    git_squash_min_overlap: float = Field(
        0.5, gt=0, le=1, description="...and must carry at least this share of the printed commit's added lines."
    )
    git_overlap_window_hours: float = Field(
        24.0, gt=0, description="A session that never printed a commit is linked to a commit of its repository "
        "authored between its first edit and this many hours after its last (a person committing the agent's work)."
    )
    git_overlap_min_lines: int = Field(
        3, ge=1, description="...when at least this many of the commit's added lines are lines the session wrote..."
    )
    git_overlap_min_share: float = Field(
        0.3, gt=0, le=1, description="...and they are at least this share of the commit's distinctive added lines."
    )
    git_common_line_commits: int = Field(
        5, ge=1, description="A line added by more commits of its repository than this is boilerplate (a brace, an "
        "import, `return nil`): no evidence that a commit carries a session's work (line overlap, squash), though it "
        "counts as the agent's once a commit is linked. The overlap thresholds count distinctive lines only."
    )


@lru_cache(maxsize=1)
def settings() -> AnalyticsSettings:
    """The process-wide settings (read once from the environment)."""
    return AnalyticsSettings()
