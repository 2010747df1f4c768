"""The charter on joint nominations (SPEC §5): appointed once PT, ST and the candidate said
yes, in any order; lapsed when the candidate lets the acceptance window pass."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.charter.nominations import has_lapsed, ready_to_appoint

APPROVED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


@pytest.mark.parametrize(
    ("both_approved_at", "accepted_at", "appoint"),
    [
        (None, None, False),
        (APPROVED, None, False),  # the teams said yes, the candidate has not answered
        (None, APPROVED, False),  # the candidate accepted early, a team is still deciding
        (APPROVED, APPROVED + timedelta(hours=1), True),
        (APPROVED, APPROVED - timedelta(days=2), True),  # accepted before the teams decided
    ],
)
def test_a_nomination_is_appointed_only_when_both_teams_and_the_candidate_said_yes(
    both_approved_at: datetime | None, accepted_at: datetime | None, appoint: bool
) -> None:
    assert ready_to_appoint(both_approved_at=both_approved_at, accepted_at=accepted_at) is appoint


def test_a_candidate_who_lets_the_window_pass_lets_the_nomination_lapse() -> None:
    def lapsed(now: datetime, accepted_at: datetime | None = None) -> bool:
        return has_lapsed(
            both_approved_at=APPROVED, accepted_at=accepted_at, acceptance_window=WEEK, now=now
        )

    assert not lapsed(APPROVED + WEEK - timedelta(seconds=1))
    assert lapsed(APPROVED + WEEK)
    assert not lapsed(APPROVED + 2 * WEEK, accepted_at=APPROVED + timedelta(days=1))


def test_a_nomination_waiting_for_a_team_never_lapses() -> None:
    assert not has_lapsed(
        both_approved_at=None, accepted_at=None, acceptance_window=WEEK, now=APPROVED + 9 * WEEK
    )


def test_without_an_acceptance_window_a_nomination_never_lapses() -> None:
    assert not has_lapsed(
        both_approved_at=APPROVED,
        accepted_at=None,
        acceptance_window=None,
        now=APPROVED + 99 * WEEK,
    )
