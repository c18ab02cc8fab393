"""The filters every report, export and dashboard page accepts: one model, validated once."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, model_validator


class Filters(BaseModel):
    """Period and slice of the data. Dates are UTC calendar days, both ends inclusive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date_from: date | None = None
    date_to: date | None = None
    team: str | None = None
    user: str | None = None
    project: str | None = None
    source: str | None = None
    model: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Filters":
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"--from {self.date_from} is after --to {self.date_to}")
        return self

    def params(self) -> dict[str, object]:
        """Named parameters for the SQL files: every query binds all of them (NULL = no filter)."""
        return {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "team": self.team,
            "user": self.user,
            "project": self.project,
            "source": self.source,
            "model": self.model,
        }
