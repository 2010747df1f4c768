"""The charter on digests (SPEC §7): each chat gets one digest, and the public one shows
decisions and outcomes only, naming people only where they took a public role."""

import pytest

from bot.charter.digest import DigestKind, digest_for, is_public_decision, names_in_public
from bot.charter.policy import DecisionKind, TeamKind


@pytest.mark.parametrize(
    ("kind", "digest"),
    [
        (TeamKind.PT, DigestKind.NETWORK),
        (TeamKind.KT, DigestKind.NETWORK),
        (TeamKind.ST, DigestKind.TEAM),
        (TeamKind.UT, DigestKind.TEAM),
        (TeamKind.LT, DigestKind.TEAM),
        (TeamKind.NET, DigestKind.TEAM),
    ],
)
def test_the_pt_and_the_kt_read_the_network_digest_every_other_team_its_own(
    kind: TeamKind, digest: DigestKind
) -> None:
    assert digest_for(kind.value, is_public_chat=False) is digest


@pytest.mark.parametrize("kind", list(TeamKind))
def test_the_public_chat_gets_the_public_digest_whatever_team_it_is(kind: TeamKind) -> None:
    assert digest_for(kind.value, is_public_chat=True) is DigestKind.PUBLIC


@pytest.mark.parametrize(
    ("kind", "public"),
    [
        (DecisionKind.PROPOSAL, True),
        (DecisionKind.SETTINGS, True),
        (DecisionKind.SUPPORT, True),
        (DecisionKind.ADMISSION, False),
        (DecisionKind.NOMINATION, False),
        (DecisionKind.DELEGATION, False),
    ],
)
def test_a_decision_about_a_person_never_shows_in_the_public_digest(
    kind: DecisionKind, public: bool
) -> None:
    assert is_public_decision(kind.value) is public


@pytest.mark.parametrize(
    ("how", "named"),
    [
        ("appointed", True),
        ("decision", True),
        ("elected", True),
        ("delegated", True),
        ("admitted", False),  # entered by a network admin in the set-up phase
        ("chat", False),  # seen in a chat-mode team's chat
    ],
)
def test_only_a_public_role_names_a_person_in_the_public_digest(how: str, named: bool) -> None:
    assert names_in_public(how) is named
