"""The filters every report, export and dashboard page accepts: one model, validated once.

Each field is declared once here, with its help text; the CLI's `report` options, the dashboard's
sidebar and its "CLI equivalent" line are derived from these declarations (see `dimensions()`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

UNASSIGNED_TEAM = "(unassigned)"

# Days outside this span come from a wrong clock or a forged line: defaults and pickers never use
# them. No agent whose logs AgentLedger reads wrote a line before 2023; a day after tomorrow (UTC)
# has not happened yet.
FIRST_PLAUSIBLE_DAY = date(2023, 1, 1)


def last_plausible_day(today: date | None = None) -> date:
    """Tomorrow (UTC): the newest day a correct clock can have written."""
    return (today or date.today()) + timedelta(days=1)


class Filters(BaseModel):
    """Period and slice of the data. Dates are UTC calendar days, both ends inclusive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date_from: date | None = Field(None, description="first UTC day (inclusive)",
                                   json_schema_extra={"flag": "--from", "metavar": "DAY"})
    date_to: date | None = Field(None, description="last UTC day (inclusive)",
                                 json_schema_extra={"flag": "--to", "metavar": "DAY"})
    team: str | None = Field(None, title="Team", description=f"only this team ('{UNASSIGNED_TEAM}' for people "
                             "not in the org directory); teams come from `agentledger org load`")
    user: str | None = Field(None, title="Person", description="only this person (the name logs were ingested under)")
    project: str | None = Field(None, title="Project", description="only this project (the agent's working directory)")
    source: str | None = Field(None, title="Source", description="only this source (claude, codex, ...)")
    model: str | None = Field(None, title="Model", description="only this model (as logged)")

    @model_validator(mode="after")
    def _ordered(self) -> "Filters":
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"--from {self.date_from} is after --to {self.date_to}")
        return self


@dataclass(frozen=True)
class Dimension:
    """A named slice of the data (team, person, project, source, model): one Filters field."""

    name: str       # the Filters field, the URL parameter and the CLI option (--<name>)
    label: str      # what the dashboard calls it
    help: str

    @property
    def flag(self) -> str:
        return f"--{self.name}"


def dimensions() -> list[Dimension]:
    """Every Filters field that names something (not the period), in declaration order."""
    return [Dimension(name, info.title or name, info.description or "")
            for name, info in Filters.model_fields.items() if info.annotation == (str | None)]


def period_flags() -> dict[str, tuple[str, str, str]]:
    """{field: (CLI flag, metavar, help)} for the period's two ends."""
    return {name: (info.json_schema_extra["flag"], info.json_schema_extra["metavar"], info.description or "")
            for name, info in Filters.model_fields.items() if info.annotation == (date | None)}


def cli_arguments(filters: Filters) -> list[str]:
    """The `agentledger report` options that give this slice, in declaration order."""
    flags = {name: flag for name, (flag, _, _) in period_flags().items()}
    flags.update({d.name: d.flag for d in dimensions()})
    args = []
    for name, flag in flags.items():
        value = getattr(filters, name)
        if value is not None:
            args += [flag, str(value)]
    return args


@dataclass(frozen=True)
class FilterChoices:
    """What each dimension can take in this ledger, and the span of plausible days that hold data."""

    values: dict[str, list[str]]                  # dimension name -> values, sorted
    first_day: date | None = None
    last_day: date | None = None
    names: dict[str, str] = field(default_factory=dict)   # user name -> display name, for labels only


class UnknownValue(ValueError):
    """A filter names something the ledger does not hold (e.g. a team with no such name)."""

    def __init__(self, dimension: Dimension, value: str, known: list[str]) -> None:
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        super().__init__(f"no such {dimension.label.lower()}: {value!r}" + (f" (known: {shown})" if known else ""))
        self.dimension, self.value, self.known = dimension, value, known


def resolve(filters: Filters, choices: FilterChoices) -> Filters:
    """The same filters with every named value spelled as the ledger spells it (case-insensitively);
    raises UnknownValue for a name the ledger does not hold, so a typo never reads as "no data"."""
    fixed = {}
    for dimension in dimensions():
        value = getattr(filters, dimension.name)
        if value is None:
            continue
        known = choices.values.get(dimension.name, [])
        if value in known:
            continue
        same = [k for k in known if k.casefold() == value.casefold()]
        if len(same) != 1:
            raise UnknownValue(dimension, value, known)
        fixed[dimension.name] = same[0]
    return filters.model_copy(update=fixed) if fixed else filters
