"""One palette for the whole dashboard: an outcome has the same colour on every page."""

from __future__ import annotations

import altair as alt

# Order matters: stacked charts and legends read best with the useful part at the bottom.
OUTCOMES: tuple[str, ...] = ("kept", "looping", "discarded", "idle")

# Colour-blind-safe (Okabe-Ito): green for work that stayed, warm hues for waste, grey for idle burn.
OUTCOME_COLORS: dict[str, str] = {
    "kept": "#009E73",
    "looping": "#E69F00",
    "discarded": "#D55E00",
    "idle": "#8C8C8C",
}

# Neutral series (spend by model, by source, per component) use one calm categorical scheme.
CATEGORY_SCHEME = "tableau10"
ACCENT = "#0072B2"

OUTCOME_LABELS: dict[str, str] = {
    "kept": "kept (useful)",
    "looping": "looping",
    "discarded": "discarded",
    "idle": "idle burn",
}


def outcome_scale() -> alt.Scale:
    """The Altair colour scale that maps each outcome to its fixed colour."""
    return alt.Scale(domain=list(OUTCOMES), range=[OUTCOME_COLORS[o] for o in OUTCOMES])


def outcome_color(field: str = "outcome", title: str = "Outcome") -> alt.Color:
    """A typed colour encoding for an outcome column, with the fixed palette and order."""
    return alt.Color(f"{field}:N", title=title, scale=outcome_scale(), sort=list(OUTCOMES))
