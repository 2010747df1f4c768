"""The charter's decision policies as data (bot/charter/policy.py, SPEC §2): the defaults, the
charter's own exceptions, how config and a team's choices override them, and durations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.charter.policy import (
    POLICY_FIELDS,
    SINGLE_TEAM_KINDS,
    DecisionKind,
    Policy,
    PolicyBook,
    Process,
    ShowTally,
    Silence,
    TeamKind,
    builtin_overrides,
    coerce_field,
    format_duration,
    parse_duration,
    policy_from_json,
    policy_to_json,
)

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


# --- durations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("12h", 12 * HOUR),
        ("3d", 3 * DAY),
        ("1w", 7 * DAY),
        ("1d12h", 36 * HOUR),
        (" 2D ", 2 * DAY),
        ("1d 12h", 36 * HOUR),
    ],
)
def test_a_duration_is_a_number_and_a_unit_or_several(text: str, duration: timedelta) -> None:
    assert parse_duration(text) == duration


@pytest.mark.parametrize("text", ["", "   ", "7 days", "d", "3x", "3d later", "-1d", "1.5d"])
def test_anything_else_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (2 * DAY, "2d"),
        (36 * HOUR, "36h"),
        (7 * DAY, "1w"),
        (timedelta(seconds=90), "90s"),
        (timedelta(minutes=30), "30m"),
        (timedelta(0), "0s"),
    ],
)
def test_a_duration_is_written_in_its_largest_whole_unit(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text
    assert parse_duration(format_duration(duration)) == duration


# --- the charter's defaults and exceptions ------------------------------------------------------


def test_the_default_policy_is_the_charters() -> None:
    policy = Policy()
    assert policy.process is Process.CONSENSUS_THEN_MAJORITY
    assert policy.max_consensus_rounds == 2
    assert (policy.consensus_deadline, policy.majority_deadline) == (7 * DAY, 3 * DAY)
    assert policy.quorum == 0.5 and policy.silence is Silence.NO_QUORUM
    assert policy.revision_window == 48 * HOUR
    assert policy.acceptance_window == 7 * DAY
    assert policy.reminder_before == 24 * HOUR
    assert policy.show_tally is ShowTally.LIVE


@pytest.mark.parametrize("process", list(Process))
def test_only_consensus_then_majority_falls_back_to_a_vote(process: Process) -> None:
    assert Policy(process=process).has_majority_fallback is (
        process is Process.CONSENSUS_THEN_MAJORITY
    )


def test_pt_admission_is_by_consensus_only() -> None:
    assert builtin_overrides(TeamKind.PT, DecisionKind.ADMISSION) == {
        "process": Process.CONSENSUS_ONLY
    }
    policy = PolicyBook().resolve(TeamKind.PT, DecisionKind.ADMISSION)
    assert not policy.has_majority_fallback


@pytest.mark.parametrize("team", list(TeamKind))
def test_an_election_needs_no_quorum(team: TeamKind) -> None:
    assert PolicyBook().resolve(team, DecisionKind.ELECTION).quorum == 0.0


@pytest.mark.parametrize("team", [k for k in TeamKind if k is not TeamKind.PT])
def test_other_admissions_follow_the_teams_policy(team: TeamKind) -> None:
    assert builtin_overrides(team, DecisionKind.ADMISSION) == {}
    assert builtin_overrides(team, DecisionKind.PROPOSAL) == {}


def test_the_lt_is_the_only_kind_a_network_has_many_of() -> None:
    assert set(TeamKind) - SINGLE_TEAM_KINDS == {TeamKind.LT}


# --- overrides: config, then the charter, then decision config, then the team's choices ---------


def test_a_team_wide_setting_does_not_override_the_charters_exception() -> None:
    book = PolicyBook(by_team={TeamKind.PT: {"process": Process.MAJORITY, "quorum": 0.75}})
    admission = book.resolve(TeamKind.PT, DecisionKind.ADMISSION)
    assert admission.process is Process.CONSENSUS_ONLY
    assert admission.quorum == 0.75  # what the charter does not say, the team setting does
    assert book.resolve(TeamKind.PT).process is Process.MAJORITY


def test_a_setting_for_the_decision_kind_overrides_the_charters_exception() -> None:
    book = PolicyBook(
        by_team_decision={(TeamKind.PT, DecisionKind.ADMISSION): {"process": Process.MAJORITY}}
    )
    assert book.resolve(TeamKind.PT, DecisionKind.ADMISSION).process is Process.MAJORITY
    assert book.resolve(TeamKind.ST, DecisionKind.ADMISSION).process is (
        Process.CONSENSUS_THEN_MAJORITY
    )


def test_a_teams_own_choices_come_last_and_are_read_as_stored() -> None:
    book = PolicyBook(by_team={TeamKind.LT: {"process": Process.CONSENSUS_ONLY}})
    policy = book.resolve(
        TeamKind.LT, team_overrides={"process": "majority", "consensus_deadline": "3d"}
    )
    assert policy.process is Process.MAJORITY
    assert policy.consensus_deadline == 3 * DAY


# --- a field's value, from config or the database -----------------------------------------------


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [
        ("process", "consent", Process.CONSENT),
        ("silence", "consent", Silence.CONSENT),
        ("show_tally", "after_close", ShowTally.AFTER_CLOSE),
        ("max_consensus_rounds", 3, 3),
        ("quorum", 1, 1.0),
        ("quorum", 0.25, 0.25),
        ("consensus_deadline", "10d", 10 * DAY),
        ("reminder_before", "0s", timedelta(0)),  # no reminder at all
    ],
)
def test_a_field_gets_its_type(name: str, raw: object, value: object) -> None:
    coerced = coerce_field(name, raw)
    assert coerced == value and type(coerced) is type(value)


@pytest.mark.parametrize(
    ("name", "raw", "error", "message"),
    [
        ("process", "dictator", ValueError, "must be one of"),
        ("process", 1, TypeError, "expected a string"),
        ("max_consensus_rounds", 0, ValueError, "at least 1"),
        ("max_consensus_rounds", True, TypeError, "whole number"),
        ("max_consensus_rounds", 2.0, TypeError, "whole number"),
        ("quorum", 1.5, ValueError, "between 0 and 1"),
        ("quorum", -0.1, ValueError, "between 0 and 1"),
        ("quorum", "half", TypeError, "a number"),
        ("quorum", False, TypeError, "a number"),
        ("min_deadline", "0s", ValueError, "longer than 0"),
        ("consensus_deadline", "7 days", ValueError, "not a duration"),
        ("consensus_deadline", 7, TypeError, "duration string"),
    ],
)
def test_a_wrong_value_says_what_is_wrong(
    name: str, raw: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        coerce_field(name, raw)


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(KeyError):
        coerce_field("quorom", 0.5)


# --- a policy stored with its proposal ----------------------------------------------------------


def test_a_decision_keeps_the_policy_it_started_under() -> None:
    policy = Policy(
        process=Process.CONSENT,
        max_consensus_rounds=3,
        consensus_deadline=36 * HOUR,
        quorum=0.6,
        show_tally=ShowTally.AFTER_CLOSE,
    )
    stored = policy_to_json(policy)
    assert list(stored) == list(POLICY_FIELDS)
    assert stored["consensus_deadline"] == "36h" and stored["process"] == "consent"
    assert policy_from_json(stored) == policy


def test_a_stored_policy_ignores_fields_it_does_not_know_and_defaults_the_rest() -> None:
    assert policy_from_json({"quorum": 0.6, "retired_field": 1}) == Policy(quorum=0.6)
