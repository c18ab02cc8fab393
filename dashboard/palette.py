"""One palette for the whole dashboard: an outcome has the same colour on every page."""

from __future__ import annotations

import altair as alt

# Order matters: stacked charts and legends read best with the useful part at the bottom.
OUTCOMES: tuple[str, ...] = ("kept", "looping", "discarded", "idle", "overhead")

# Colour-blind-safe (Okabe-Ito): green for work that stayed, warm hues for waste, grey for idle burn,
# a pale blue-grey for Claude Code's own overhead (neither work nor anybody's waste).
OUTCOME_COLORS: dict[str, str] = {
    "kept": "#009E73",
    "looping": "#E69F00",
    "discarded": "#D55E00",
    "idle": "#8C8C8C",
    "overhead": "#A3B8CC",
}

# Neutral series (spend by model, by source) use one calm accent.
ACCENT = "#0072B2"

# Component kinds stay clear of the outcome hues, so a red or green bar never reads as waste or value.
KIND_COLORS: dict[str, str] = {
    "builtin": "#0072B2",
    "mcp": "#56B4E9",
    "plugin": "#CC79A7",
    "skill": "#7B5EA7",
    "subagent": "#332288",
    "prompt": "#A6761D",
    "harness": "#A3B8CC",
    "other": "#BBBBBB",
}

OUTCOME_LABELS: dict[str, str] = {
    "kept": "kept (useful)",
    "looping": "looping",
    "discarded": "discarded",
    "idle": "idle burn",
    "overhead": "Claude Code overhead",
}


def outcome_scale() -> alt.Scale:
    """The Altair colour scale that maps each outcome to its fixed colour."""
    return alt.Scale(domain=list(OUTCOMES), range=[OUTCOME_COLORS[o] for o in OUTCOMES])


def outcome_color(field: str = "outcome", title: str = "Outcome") -> alt.Color:
    """A typed colour encoding for an outcome column, with the fixed palette and order."""
    return alt.Color(f"{field}:N", title=title, scale=outcome_scale(), sort=list(OUTCOMES))


def kind_color(field: str = "kind", title: str = "Kind", legend: bool = True) -> alt.Color:
    """A typed colour encoding for component kinds, the same on every chart."""
    kinds = list(KIND_COLORS)
    return alt.Color(f"{field}:N", title=title, scale=alt.Scale(domain=kinds, range=[KIND_COLORS[k] for k in kinds]),
                     legend=alt.Legend() if legend else None)


# A flag that explains an outcome wears that outcome's colour; the others get their own hues.
FLAG_OUTCOME: dict[str, str] = {"loop": "looping", "discarded_work": "discarded", "idle_burn": "idle"}
FLAG_COLORS: dict[str, str] = {
    **{flag: OUTCOME_COLORS[outcome] for flag, outcome in FLAG_OUTCOME.items()},
    "zero_output": "#882255",
    "usage_spike": "#CC79A7",
    "context_bloat": "#56B4E9",
}


def flag_color(field: str = "flag", title: str = "Flag") -> alt.Color:
    """A typed colour encoding for flag types (loop, discarded_work and idle_burn in their outcome colours)."""
    flags = list(FLAG_COLORS)
    return alt.Color(f"{field}:N", title=title, scale=alt.Scale(domain=flags, range=[FLAG_COLORS[f] for f in flags]))
