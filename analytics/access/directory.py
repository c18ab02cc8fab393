"""Roles from the org directory: who a signed-in e-mail is, and the scope their role gives them.

- admin: everyone.
- manager: the teams of the people who report to them, directly or through other managers (the
  `manager` column, by user name or e-mail), and their own sessions.
- engineer: their own sessions only.
A role comes from org.csv's `role` column (table org_roles); without one, a person is a manager when
someone reports to them and an engineer otherwise. An e-mail that is not in the directory is refused.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import duckdb

from analytics import queries
from analytics.access.settings import AccessSettings, Role
from analytics.access.scope import Scope
from analytics.filters import UNASSIGNED_TEAM


class AccessDenied(PermissionError):
    """This viewer may not see anything: the message says why, in one line."""


@dataclass(frozen=True)
class Person:
    user_name: str
    email: str | None
    team: str | None
    manager: str | None
    role: str | None            # explicit role (org_roles), None = derived


@dataclass(frozen=True)
class Viewer:
    """Who is asking: their label in the audit log, their directory user (None: the file's owner) and role."""

    label: str
    role: Role
    user_name: str | None = None
    email: str | None = None

    @classmethod
    def owner(cls, label: str) -> "Viewer":
        """Whoever holds the ledger file: the local dashboard, the CLI without --as."""
        return cls(label=label, role="admin")


class Directory:
    """The org directory as the access rules read it: people, their reports, team sizes."""

    def __init__(self, people: list[Person], active: list[str]) -> None:
        self.people = {p.user_name: p for p in people}
        self.by_email: dict[str, list[Person]] = defaultdict(list)
        for p in people:
            if p.email:
                self.by_email[p.email.casefold()].append(p)
        self.reports: dict[str, list[Person]] = defaultdict(list)
        for p in people:
            if p.manager:
                boss = self._person_named(p.manager)
                # A manager the directory has no row for still has reports (they cannot sign in).
                name = boss.user_name if boss is not None else p.manager
                if name != p.user_name:
                    self.reports[name].append(p)
        self.team_sizes: dict[str, int] = defaultdict(int)
        for p in people:
            if p.team:
                self.team_sizes[p.team] += 1
        # People with data whom the directory does not hold form the '(unassigned)' group.
        unassigned = {name for name in active if name not in self.people or not self.people[name].team}
        if unassigned:
            self.team_sizes[UNASSIGNED_TEAM] = len(unassigned)

    def _person_named(self, name: str) -> Person | None:
        found = self.people.get(name)
        if found is None:
            matches = self.by_email.get(name.casefold(), [])
            found = matches[0] if len(matches) == 1 else None
        return found

    def role_of(self, person: Person) -> Role:
        """The explicit role, else manager when someone reports to them, else engineer."""
        if person.role:
            return person.role  # type: ignore[return-value]
        return "manager" if self.reports.get(person.user_name) else "engineer"

    def viewer(self, email: str) -> Viewer:
        """The viewer a signed-in e-mail is; AccessDenied when the directory does not hold it exactly once."""
        matches = self.by_email.get(email.strip().casefold(), [])
        if not matches:
            raise AccessDenied(f"{email} is not in the org directory: ask an admin to add you (org.csv, `email` column)")
        if len(matches) > 1:
            raise AccessDenied(f"{email} belongs to {len(matches)} people in the org directory: ask an admin to fix it")
        person = matches[0]
        return Viewer(label=email.strip().lower(), role=self.role_of(person), user_name=person.user_name, email=email)

    def all_reports(self, user_name: str) -> list[Person]:
        """Everyone who reports to `user_name`, directly or transitively (cycles in the data are harmless)."""
        found: dict[str, Person] = {}
        todo = [user_name]
        while todo:
            for report in self.reports.get(todo.pop(), []):
                if report.user_name not in found and report.user_name != user_name:
                    found[report.user_name] = report
                    todo.append(report.user_name)
        return list(found.values())

    def scope(self, viewer: Viewer, settings: AccessSettings) -> Scope:
        """What `viewer` may read under `settings` (pseudonyms and small-group protection by role)."""
        pseudonymous = viewer.role in settings.pseudonymous_roles and viewer.role != "engineer"
        key = settings.pseudonym_key.get_secret_value().encode() if pseudonymous and settings.pseudonym_key else None
        k = settings.min_group_size if pseudonymous else None
        own = (viewer.user_name,) if viewer.user_name else ()
        if viewer.role == "admin":
            if not pseudonymous:
                return Scope.owner() if viewer.user_name is None else Scope(everyone=True, viewer=viewer.user_name)
            teams = sorted(self.team_sizes)
            users: tuple[str, ...] = own
        elif viewer.role == "manager":
            reports = self.all_reports(viewer.user_name or "")
            teams = sorted({p.team for p in reports if p.team})
            # Reports the directory puts in no team are still theirs.
            users = tuple(sorted({*own, *(p.user_name for p in reports if not p.team)}))
        else:
            teams, users = [], own
        if k is not None:
            # A pseudonym in a team smaller than k is hardly a pseudonym: such teams are not shown.
            teams = [t for t in teams if self.team_sizes.get(t, 0) >= k]
            users = tuple(u for u in users if u in own or self._team_size_of(u) >= k)
        return Scope(teams=tuple(teams), users=users, viewer=viewer.user_name, pseudonym_key=key, min_group=k)

    def _team_size_of(self, user_name: str) -> int:
        person = self.people.get(user_name)
        return self.team_sizes.get(person.team if person and person.team else UNASSIGNED_TEAM, 0)


def load_directory(con: duckdb.DuckDBPyConnection) -> Directory:
    """The org directory and the people with data, from the ledger (one read)."""
    rows = queries.frame(con, "access_directory")
    people = [Person(*row) for row in rows.filter(rows["part"] == "person").drop("part").iter_rows()]
    active = rows.filter(rows["part"] == "active")["user_name"].to_list()
    return Directory(people, active)


def scope_for_email(con: duckdb.DuckDBPyConnection, email: str, settings: AccessSettings) -> tuple[Viewer, Scope]:
    """The viewer a signed-in e-mail is and their scope; AccessDenied when they may see nothing."""
    directory = load_directory(con)
    viewer = directory.viewer(email)
    return viewer, directory.scope(viewer, settings)
