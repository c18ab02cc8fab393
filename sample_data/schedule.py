"""Which sessions each user has on each day, and where the planted behaviours go."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sample_data.catalog import UserProfile

PLANT_KINDS = ("loop", "discarded_work", "idle_burn", "context_bloat")
# Chance per user-workday; spike users ("tokenmaxxing") loop and idle more than others.
PLANT_RATES = {"loop": 0.05, "discarded_work": 0.07, "idle_burn": 0.025, "context_bloat": 0.04}
SPIKE_USER_RATES = {"loop": 0.10, "discarded_work": 0.05, "idle_burn": 0.06, "context_bloat": 0.04}
MIN_BASELINE_DAYS = 2


# Real-work sessions (sample_data/real_work.py): chance per user-workday, each at least once per run.
REAL_KINDS = ("steering", "benign_errors", "harness_overhead", "subagent_only", "command_variations", "rewind")
REAL_RATE = 0.15


@dataclass
class DayPlan:
    user: UserProfile
    day: date
    kinds: list[str] = field(default_factory=list)
    spike: bool = False
    # Drawn from their own generator so that adding them leaves every other session as it was.
    real: list[str] = field(default_factory=list)

    @property
    def workday(self) -> bool:
        return self.day.weekday() < 5


def _count(rng: random.Random, mean: float) -> int:
    whole = int(mean)
    return whole + (rng.random() < mean - whole)


def plan_days(seed: int, profiles: list[UserProfile], days: int, start: date, scale: float) -> list[DayPlan]:
    """Every user-day with its session kinds; each planted kind appears at least once when it can."""
    plans = []
    for user in profiles:
        for offset in range(days):
            day = start + timedelta(days=offset)
            rng = random.Random(f"{seed}:plan:{user.handle}:{day.isoformat()}")
            plan = DayPlan(user, day)
            if plan.workday:
                plan.kinds = ["normal"] * _count(rng, user.sessions_per_day * scale)
                rates = SPIKE_USER_RATES if user.spike_user else PLANT_RATES
                plan.kinds += [k for k in PLANT_KINDS if rng.random() < rates[k]]
            elif rng.random() < 0.15:
                plan.kinds = ["normal"]
            plans.append(plan)
    _ensure_everyone_works(plans)
    _ensure_coverage(random.Random(f"{seed}:coverage"), plans)
    _mark_spikes(seed, plans)
    _plan_real_work(random.Random(f"{seed}:real-work"), plans)
    return plans


def _plan_real_work(rng: random.Random, plans: list[DayPlan]) -> None:
    # Never for a spike user: their spike is sized against a baseline these sessions would move.
    candidates = [p for p in plans if p.workday and not p.user.spike_user]
    for plan in candidates:
        if rng.random() < REAL_RATE:
            plan.real.append(rng.choice(REAL_KINDS))
    present = {k for p in candidates for k in p.real}
    missing = [k for k in REAL_KINDS if k not in present]
    for plan, kind in zip(rng.sample(candidates, min(len(missing), len(candidates))), missing):
        plan.real.append(kind)


def _ensure_everyone_works(plans: list[DayPlan]) -> None:
    # A user with no session would be invisible (and the user left out of org.csv must show up).
    busy = {p.user.handle for p in plans if p.kinds}
    for plan in plans:
        if plan.user.handle not in busy and (plan.workday or plan.day == plans[-1].day):
            plan.kinds.append("normal")
            busy.add(plan.user.handle)


def _ensure_coverage(rng: random.Random, plans: list[DayPlan]) -> None:
    # Small runs (the committed sample, tests) must still contain every behaviour.
    present = {k for p in plans for k in p.kinds}
    candidates = [p for p in plans if p.workday] or plans
    if not candidates:
        return
    order = rng.sample(candidates, len(candidates))
    for i, kind in enumerate(k for k in PLANT_KINDS if k not in present):
        order[i % len(order)].kinds.append(kind)


def _mark_spikes(seed: int, plans: list[DayPlan]) -> None:
    by_user: dict[str, list[DayPlan]] = {}
    for plan in plans:
        if plan.user.spike_user and plan.workday:
            by_user.setdefault(plan.user.handle, []).append(plan)
    for handle, workdays in by_user.items():
        if len(workdays) <= MIN_BASELINE_DAYS:
            continue
        rng = random.Random(f"{seed}:spikes:{handle}")
        later = workdays[MIN_BASELINE_DAYS:]
        # Keep other plants off spike days: a spike is sized by its own sessions.
        quiet = [p for p in later if set(p.kinds) <= {"normal"}] or later
        for plan in rng.sample(quiet, max(1, min(3, len(workdays) // 10, len(quiet)))):
            plan.spike = True


def ordered(plans: list[DayPlan]) -> list[DayPlan]:
    """Per user, baseline days before spike days (a spike is sized against the user's baseline)."""
    return sorted(plans, key=lambda p: (p.user.handle, p.spike, p.day))
