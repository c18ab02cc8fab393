"""A generated org with a directory that has roles, and what each viewer may see computed without the
access macros (plain SQL over the rollups), for the access-control tests to compare against."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.org import OrgMember, load_org, read_org_csv
from store.db import reader, writer
from tests.dashboard_ledgers import build_generated_ledger

DOMAIN = "acme-robotics.dev"
PSEUDONYM_KEY = "k" * 20 + "-test-pseudonym-key-0123456789"
COOKIE_SECRET = "c" * 40


def email(user: str) -> str:
    return f"{user}@{DOMAIN}"


# Managers of the generated teams, who use no agents (no data), and above them a VP and an admin.
# Payments' manager reports to the VP as well as Web's: the VP sees both teams, transitively.
LEADERS = [
    OrgMember(user="vp.eng", email=email("vp.eng"), display_name="Vera Paulsen"),
    OrgMember(user="claire.bennett", email=email("claire.bennett"), display_name="Claire Bennett", manager="vp.eng"),
    OrgMember(user="dana.whitfield", email=email("dana.whitfield"), display_name="Dana Whitfield", manager="vp.eng@" + DOMAIN),
    OrgMember(user="ravi.menon", email=email("ravi.menon"), display_name="Ravi Menon"),
    OrgMember(user="tobias.lindqvist", email=email("tobias.lindqvist"), display_name="Tobias Lindqvist"),
    # People report to her, but the directory says engineer: the explicit role wins.
    OrgMember(user="ngozi.adeyemi", email=email("ngozi.adeyemi"), display_name="Ngozi Adeyemi", role="engineer"),
    OrgMember(user="root", email=email("root"), display_name="Ops Admin", role="admin"),
]


@dataclass(frozen=True)
class Roles:
    db: Path
    engineer: str          # a Web engineer with data
    web: tuple[str, ...]   # Web's members
    payments: tuple[str, ...]


def load_directory_with_roles(db: Path, org_csv: Path) -> None:
    """The generated org.csv plus the leaders above, loaded as `agentledger org load` would."""
    members = read_org_csv(org_csv) + LEADERS
    with writer(db) as con:
        load_org(con, members)


def build_roles_ledger(root: Path) -> Roles:
    db = build_generated_ledger(root / "roles.duckdb")
    load_directory_with_roles(db, root / "org" / "org.csv")
    os.chmod(db, 0o600)
    with reader(db) as con:
        teams = dict(con.execute("SELECT team, list(user_name ORDER BY user_name) FROM org_users "
                                 "WHERE team IS NOT NULL GROUP BY team").fetchall())
    return Roles(db, teams["Web"][0], tuple(teams["Web"]), tuple(teams["Payments"]))


@pytest.fixture(scope="session")
def roles_ledger(tmp_path_factory) -> Roles:
    """One generated org (12 people, 5 teams: Web has 3 people, the others 2, one person unassigned)."""
    return build_roles_ledger(tmp_path_factory.mktemp("access"))


def people_of(db: Path, teams: tuple[str, ...] = (), users: tuple[str, ...] = ()) -> set[str]:
    """The user names with data in these teams or among these users (plain SQL, no access macros)."""
    with reader(db) as con:
        rows = con.execute(
            "SELECT DISTINCT f.user_name FROM session_day_facts f LEFT JOIN org_users o USING (user_name) "
            "WHERE list_contains(?, coalesce(o.team, '(unassigned)')) OR list_contains(?, f.user_name)",
            [list(teams), list(users)]).fetchall()
    return {r[0] for r in rows}


def truth(db: Path, people: set[str]) -> dict[str, object]:
    """Cost, tokens and sessions of these people over all time, plus their sessions (plain SQL)."""
    with reader(db) as con:
        cost, tokens = con.execute(
            "SELECT sum(cost_usd), sum(total_tokens) FROM session_day_facts WHERE list_contains(?, user_name)",
            [sorted(people)]).fetchone()
        sessions = {r[0] for r in con.execute(
            "SELECT DISTINCT session_id FROM session_day_facts WHERE list_contains(?, user_name)", [sorted(people)]).fetchall()}
        flagged = {r[0] for r in con.execute(
            "SELECT DISTINCT session_id FROM flags WHERE list_contains(?, user_name)", [sorted(people)]).fetchall()}
    return {"cost": cost or 0.0, "tokens": tokens or 0, "sessions": sessions, "flagged": flagged}


def access_file(path: Path, mode: str = "local", pseudonymous: tuple[str, ...] = (), extra: str = "") -> Path:
    """An access.toml (owner-only, as the loader requires when it holds secrets)."""
    lines = [f'mode = "{mode}"']
    if pseudonymous:
        lines += [f"pseudonymous_roles = {list(pseudonymous)!r}".replace("'", '"'), f'pseudonym_key = "{PSEUDONYM_KEY}"']
    if extra:
        lines.append(extra)
    if mode == "oidc":
        lines += ["[auth]", 'redirect_uri = "http://localhost:8501/oauth2callback"', f'cookie_secret = "{COOKIE_SECRET}"',
                  'client_id = "agentledger"', 'client_secret = "s3cret"',
                  'server_metadata_url = "https://login.example.com/.well-known/openid-configuration"']
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path
