"""The generated org: who the users are, their team, setup and habits; and its org.csv."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from sample_data.catalog import (
    EMAIL_DOMAIN, FIRST_NAMES, LAST_NAMES, LEGACY_VERSION, TEAMS, VERSION_WEIGHTS, UserProfile, is_legacy,
)

ORG_COLUMNS = ("user", "email", "display_name", "team", "manager")


def _weighted(rng: random.Random, pairs) -> str:
    names, weights = zip(*pairs)
    return rng.choices(names, weights=weights)[0]


def _handles(rng: random.Random, n: int) -> list[str]:
    pairs = [(f, l) for f in FIRST_NAMES for l in LAST_NAMES]
    rng.shuffle(pairs)
    seen_first: set[str] = set()
    chosen = []
    for first, last in pairs:
        # Distinct first names while they last, so a small org reads naturally.
        if first in seen_first and len(seen_first) < len(FIRST_NAMES):
            continue
        seen_first.add(first)
        chosen.append(f"{first}.{last}")
        if len(chosen) == n:
            break
    return chosen


def build_org(seed: int, users: int) -> list[UserProfile]:
    """`users` profiles spread over the teams; one heavy 'tokenmaxxing' user per 20, one user left out of org.csv."""
    rng = random.Random(f"{seed}:org")
    teams = list(TEAMS)
    rng.shuffle(teams)
    profiles = []
    for i, handle in enumerate(_handles(rng, users)):
        team = teams[i % len(teams)]
        first, last = handle.split(".")
        mac = rng.random() < 0.7
        model = _weighted(rng, team.models)
        profiles.append(UserProfile(
            handle=handle,
            display_name=f"{first.title()} {last.title()}",
            email=f"{handle}@{EMAIL_DOMAIN}",
            team=team,
            version=_weighted(rng, VERSION_WEIGHTS),
            model=model,
            home=f"/Users/{first}" if mac else f"/home/{first}",
            cache_1h=model.startswith("opus") and rng.random() < 0.6,
            sessions_per_day=rng.choice((1.0, 2.0, 2.0, 3.0, 3.0, 4.0)),
            shift_start_hour=rng.randrange(6, 11),
            plugins=tuple(p for p in team.plugins if rng.random() < 0.75),
            mcp_servers=("github",) + tuple(s for s in team.mcp_servers if s != "github" and rng.random() < 0.7),
            extra={"src_root": rng.choice(("code", "src", "work", "dev"))},
        ))
    for p in profiles[1 :: 20]:
        # Tokenmaxxing on an API key: the big model, and a 5-minute cache that idle gaps keep expiring.
        p.spike_user = True
        p.model = "opus-4-7"
        p.cache_1h = False
    if users >= 3 and not any(is_legacy(p.version) for p in profiles):
        profiles[2].version = LEGACY_VERSION    # someone always lags: 2.0.x warm-ups and flat agent files
    if users >= 2:
        profiles[-1].in_org_csv = False     # a contractor nobody added to the directory: team "(unassigned)"
    return profiles


def org_csv_text(profiles: list[UserProfile]) -> str:
    """org.csv content for the users who are in the directory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ORG_COLUMNS)
    for p in profiles:
        if p.in_org_csv:
            writer.writerow((p.handle, p.email, p.display_name, p.team.name, p.team.manager))
    return buffer.getvalue()


def write_org_csv(path: Path, profiles: list[UserProfile]) -> None:
    """Write org.csv (user,email,display_name,team,manager)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(org_csv_text(profiles), encoding="utf-8")
