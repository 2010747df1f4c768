"""Decision policies as data: the charter's table (SPEC §2) with config and per-LT overrides."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeAlias


class TeamKind(StrEnum):
    PT = "PT"
    ST = "ST"
    KT = "KT"
    UT = "UT"
    LT = "LT"
    NET = "NET"


class DecisionKind(StrEnum):
    PROPOSAL = "proposal"
    ADMISSION = "admission"
    NOMINATION = "nomination"
    DELEGATION = "delegation"
    ELECTION = "election"
    SETTINGS = "settings"
    SUPPORT = "support"


class Process(StrEnum):
    CONSENSUS_THEN_MAJORITY = "consensus_then_majority"
    MAJORITY = "majority"
    CONSENSUS_ONLY = "consensus_only"
    CONSENT = "consent"


class Silence(StrEnum):
    NO_QUORUM = "no_quorum"
    CONSENT = "consent"


class ShowTally(StrEnum):
    LIVE = "live"
    AFTER_CLOSE = "after_close"


class RosterMode(StrEnum):
    CHAT = "chat"
    EXPLICIT = "explicit"


# Teams with one chat per network; LTs may be many.
SINGLE_TEAM_KINDS = frozenset({TeamKind.PT, TeamKind.ST, TeamKind.KT, TeamKind.UT, TeamKind.NET})

_DURATION_RE = re.compile(r"(\d+)\s*([smhdw])")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `12h`, `3d`, `1w`, or a combination such as `1d12h`."""
    cleaned = text.strip().lower()
    if not cleaned:
        raise ValueError("empty duration")
    pos = 0
    seconds = 0
    for match in _DURATION_RE.finditer(cleaned):
        if cleaned[pos : match.start()].strip():
            raise ValueError(f"not a duration: {text!r}")
        seconds += int(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos == 0 or cleaned[pos:].strip():
        raise ValueError(f"not a duration: {text!r}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The inverse of parse_duration, in the largest whole unit: 172800 s -> `2d`."""
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        size = _DURATION_UNITS[unit]
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


PolicyValue: TypeAlias = Process | Silence | ShowTally | int | float | timedelta
"""The value of one of Policy's fields."""


@dataclass(frozen=True, slots=True)
class Policy:
    """How one team decides one kind of decision (SPEC §2)."""

    process: Process = Process.CONSENSUS_THEN_MAJORITY
    max_consensus_rounds: int = 2
    consensus_deadline: timedelta = timedelta(days=7)
    majority_deadline: timedelta = timedelta(days=3)
    min_deadline: timedelta = timedelta(hours=1)
    quorum: float = 0.5
    silence: Silence = Silence.NO_QUORUM
    revision_window: timedelta = timedelta(hours=48)
    acceptance_window: timedelta = timedelta(days=7)
    reminder_before: timedelta = timedelta(hours=24)
    show_tally: ShowTally = ShowTally.LIVE

    @property
    def has_majority_fallback(self) -> bool:
        return self.process is Process.CONSENSUS_THEN_MAJORITY

    def with_overrides(self, overrides: Mapping[str, PolicyValue]) -> Policy:
        # replace() checks each keyword against its field's type, which a mapping of names
        # cannot say statically; coerce_field gave every value its field's type.
        changes: dict[str, Any] = dict(overrides)
        return dataclasses.replace(self, **changes)


# The names in the dataclass's order (the order a stored policy lists them in).
POLICY_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Policy))


def coerce_field(name: str, raw: object) -> PolicyValue:
    """Turn a config or stored value into the field's type; ValueError names what is wrong."""
    if name not in POLICY_FIELDS:
        raise KeyError(name)
    enums: dict[str, type[Process] | type[Silence] | type[ShowTally]] = {
        "process": Process,
        "silence": Silence,
        "show_tally": ShowTally,
    }
    if name in enums:
        if not isinstance(raw, str):
            raise TypeError("expected a string")
        try:
            return enums[name](raw)
        except ValueError:
            allowed = ", ".join(m.value for m in enums[name])
            raise ValueError(f"must be one of {allowed}, not {raw!r}") from None
    if name == "max_consensus_rounds":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise TypeError("expected a whole number")
        if raw < 1:
            raise ValueError("must be at least 1")
        return raw
    if name == "quorum":
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise TypeError("expected a number")
        if not 0 <= raw <= 1:
            raise ValueError("must be between 0 and 1")
        return float(raw)
    # every other field is a duration
    if not isinstance(raw, str):
        raise TypeError("expected a duration string such as '7d' or '90s'")
    value = parse_duration(raw)
    if value <= timedelta(0) and name != "reminder_before":
        raise ValueError("must be longer than 0")
    return value


def builtin_overrides(team: TeamKind, decision: DecisionKind) -> dict[str, PolicyValue]:
    """The charter's exceptions to the defaults."""
    if team is TeamKind.PT and decision is DecisionKind.ADMISSION:
        # "Absichtserklärung interessierter Personen und Konsens im PT": no majority fallback.
        return {"process": Process.CONSENSUS_ONLY}
    if decision is DecisionKind.ELECTION:
        return {"quorum": 0.0}
    return {}


@dataclass(frozen=True, slots=True)
class PolicyBook:
    """Config overrides: per team kind, and per team kind and decision kind."""

    by_team: Mapping[TeamKind, Mapping[str, PolicyValue]] = field(default_factory=dict)
    by_team_decision: Mapping[tuple[TeamKind, DecisionKind], Mapping[str, PolicyValue]] = field(
        default_factory=dict
    )

    def resolve(
        self,
        team: TeamKind,
        decision: DecisionKind = DecisionKind.PROPOSAL,
        team_overrides: Mapping[str, object] | None = None,
    ) -> Policy:
        """Defaults, team config, the charter's exceptions, decision config, the team's choices."""
        # The charter's exceptions beat a team-wide setting; only [policy.KIND.decision] beats them.
        policy = Policy().with_overrides(self.by_team.get(team, {}))
        policy = policy.with_overrides(builtin_overrides(team, decision))
        policy = policy.with_overrides(self.by_team_decision.get((team, decision), {}))
        if team_overrides:
            # A team's stored choices are plain JSON: give them their types.
            policy = policy.with_overrides(
                {name: coerce_field(name, value) for name, value in team_overrides.items()}
            )
        return policy


def policy_to_json(policy: Policy) -> dict[str, str | int | float]:
    """A policy as stored with a proposal: a decision keeps the rules it started under."""
    out: dict[str, str | int | float] = {}
    for name in POLICY_FIELDS:
        value = getattr(policy, name)
        out[name] = format_duration(value) if isinstance(value, timedelta) else value
    return out


def policy_from_json(data: Mapping[str, object]) -> Policy:
    return Policy().with_overrides(
        {name: coerce_field(name, value) for name, value in data.items() if name in POLICY_FIELDS}
    )
