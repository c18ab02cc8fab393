"""The org directory: who is who, which team, which manager. Loaded from a CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from store.sql import begin, commit, rollback, run_sql

REQUIRED_COLUMNS = ("user",)
UNASSIGNED_TEAM = "(unassigned)"
# Who may see what (docs/security.md); blank: manager when someone reports to them, else engineer.
ROLES = ("admin", "manager", "engineer")


class OrgError(ValueError):
    """The CSV cannot be loaded; the message names the file and line."""


class OrgMember(BaseModel):
    """One row of org.csv. `user` is the name logs are ingested under (--user / folder name)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    user: str
    email: str | None = None
    display_name: str | None = None
    team: str | None = None
    manager: str | None = None
    role: str | None = None

    @field_validator("user")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value:
            raise ValueError("user is empty")
        return value

    @field_validator("email", "display_name", "team", "manager")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str | None) -> str | None:
        role = (value or "").lower() or None
        if role is not None and role not in ROLES:
            raise ValueError(f"unknown role {value!r} (one of {', '.join(ROLES)}, or blank)")
        return role


def read_org_csv(path: Path) -> list[OrgMember]:
    """Parse and validate every row; the first bad row stops the load (a directory is all or nothing)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise OrgError(f"{path}: cannot read: {error.strerror}") from error
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise OrgError(f"{path}:1: missing column(s) {', '.join(missing)}; expected user,email,display_name,team,manager[,role]")
    members: dict[str, OrgMember] = {}
    for line_no, row in enumerate(reader, start=2):
        row = {(k or "").strip(): v for k, v in row.items()}
        try:
            member = OrgMember.model_validate(row)
        except ValidationError as error:
            problem = error.errors()[0]
            raise OrgError(f"{path}:{line_no}: {problem['loc'][0]}: {problem['msg']}") from error
        if member.user in members:
            raise OrgError(f"{path}:{line_no}: user {member.user!r} appears twice")
        members[member.user] = member
    return list(members.values())


def load_org(con: duckdb.DuckDBPyConnection, members: list[OrgMember]) -> int:
    """Replace the directory with `members` in one transaction; returns how many were loaded."""
    begin(con)
    try:
        run_sql(con, "DELETE FROM org_users")
        run_sql(con, "DELETE FROM org_roles")
        for m in members:
            run_sql(con, "INSERT INTO org_users VALUES (?, ?, ?, ?, ?)", [m.user, m.email, m.display_name, m.team, m.manager])
            if m.role:
                run_sql(con, "INSERT INTO org_roles VALUES (?, ?)", [m.user, m.role])
        commit(con)
    except BaseException:
        rollback(con)
        raise
    return len(members)
