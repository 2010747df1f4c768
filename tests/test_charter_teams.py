"""The charter's rules about teams and rosters (bot/charter/teams.py, SPEC §1): who binds a
chat, who admits, who is on a chat-mode roster, and how a seat in the ST is typed."""

from __future__ import annotations

import pytest

from bot.charter import refusals
from bot.charter.policy import RosterMode, TeamKind
from bot.charter.teams import (
    SEATS,
    Leaving,
    bot_rights_refusal,
    decided_by_the_team,
    joins_by_sighting,
    kind_taken,
    lt_code_is_good,
    lt_code_typed,
    may_admit_directly,
    may_bind,
    parse_seat,
    read_setup,
    roster_mode_for,
    seat_word,
    seat_words,
)

ALL_KINDS = list(TeamKind)


# --- binding a chat -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_network_admin_binds_a_chat_of_any_kind(kind: TeamKind) -> None:
    assert may_bind(kind, is_network_admin=True, is_chat_admin=False) is None


def test_an_admin_of_the_group_chat_binds_an_lt() -> None:
    assert may_bind(TeamKind.LT, is_network_admin=False, is_chat_admin=True) is None
    assert (
        may_bind(TeamKind.LT, is_network_admin=False, is_chat_admin=False)
        == refusals.NOT_CHAT_ADMIN
    )


@pytest.mark.parametrize("kind", [k for k in ALL_KINDS if k is not TeamKind.LT])
def test_only_a_network_admin_binds_the_network_teams(kind: TeamKind) -> None:
    assert may_bind(kind, is_network_admin=False, is_chat_admin=True) == refusals.NOT_NETWORK_ADMIN


def test_the_bot_must_be_an_admin_that_may_invite() -> None:
    assert bot_rights_refusal(is_admin=False, can_invite_users=True) == refusals.BOT_NOT_ADMIN
    assert bot_rights_refusal(is_admin=True, can_invite_users=False) == refusals.BOT_CANNOT_INVITE
    assert bot_rights_refusal(is_admin=True, can_invite_users=True) is None


@pytest.mark.parametrize("kind", [k for k in ALL_KINDS if k is not TeamKind.LT])
def test_the_network_has_one_team_of_each_kind_but_the_lt(kind: TeamKind) -> None:
    assert kind_taken(kind, {kind.value})
    assert not kind_taken(kind, set())


def test_there_may_be_any_number_of_lts() -> None:
    assert not kind_taken(TeamKind.LT, {"LT", "PT", "ST"})


@pytest.mark.parametrize(
    ("kind", "mode"),
    [
        (TeamKind.LT, RosterMode.CHAT),  # may change it by its own decision
        (TeamKind.NET, RosterMode.CHAT),
        (TeamKind.PT, RosterMode.EXPLICIT),
        (TeamKind.ST, RosterMode.EXPLICIT),
        (TeamKind.KT, RosterMode.EXPLICIT),
        (TeamKind.UT, RosterMode.EXPLICIT),
    ],
)
def test_an_lt_and_the_net_start_with_a_chat_roster_the_others_explicit(
    kind: TeamKind, mode: RosterMode
) -> None:
    assert roster_mode_for(kind) is mode


# --- admitting ----------------------------------------------------------------------------------


def test_network_admins_enter_members_directly_only_in_the_setup_phase() -> None:
    assert may_admit_directly(is_network_admin=True, in_setup_phase=True) is None
    assert (
        may_admit_directly(is_network_admin=True, in_setup_phase=False) == refusals.SETUP_PHASE_OVER
    )
    assert (
        may_admit_directly(is_network_admin=False, in_setup_phase=True)
        == refusals.NOT_NETWORK_ADMIN
    )


@pytest.mark.parametrize(
    ("is_network_admin", "in_setup_phase", "by_decision"),
    [
        (False, True, True),
        (False, False, True),
        (True, False, True),
        (True, True, False),  # a network admin still enters the existing members
    ],
)
def test_an_explicit_lt_admits_by_its_own_decision(
    is_network_admin: bool, in_setup_phase: bool, by_decision: bool
) -> None:
    assert decided_by_the_team("LT", "explicit", is_network_admin, in_setup_phase) is by_decision


@pytest.mark.parametrize(("kind", "mode"), [("LT", "chat"), ("PT", "explicit"), ("ST", "explicit")])
def test_other_teams_do_not_admit_by_a_decision_of_their_own(kind: str, mode: str) -> None:
    assert not decided_by_the_team(kind, mode, False, False)


# --- a chat-mode roster -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_left_how", "joins"),
    [
        (None, True),  # never on the roster: seen, so on it
        (Leaving.LEFT_CHAT, True),  # came back to the chat
        (Leaving.REMOVED_FROM_CHAT, True),
        (Leaving.LEFT, False),  # left with /leave: a message does not bring them back
        (Leaving.REMOVED, False),  # removed by a network admin
    ],
)
def test_whoever_writes_in_a_chat_mode_team_is_on_its_roster(
    last_left_how: str | None, joins: bool
) -> None:
    assert joins_by_sighting("chat", last_left_how=last_left_how) is joins


def test_writing_in_an_explicit_team_puts_nobody_on_its_roster() -> None:
    assert not joins_by_sighting("explicit", last_left_how=None)


# --- seats in the ST ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "seat", "body"),
    [
        (["politik", "Stadtbezirksbeirat", "West"], "politik", "Stadtbezirksbeirat West"),
        (["Verwaltung", "Amt", "für", "Stadtgrün"], "verwaltung", "Amt für Stadtgrün"),
        (["zivilgesellschaft"], "zivilgesellschaft", None),
        (["ut"], "ut", None),
        (["civil_society"], "zivilgesellschaft", None),  # the English names are accepted
        (["Politics", "Council"], "politik", "Council"),
        (["könig", "Hof"], None, None),
        ([], None, None),
    ],
)
def test_a_seat_is_typed_with_the_body_that_delegates(
    words: list[str], seat: str | None, body: str | None
) -> None:
    assert parse_seat(words) == (seat, body)


def test_the_seats_are_shown_in_the_persons_language() -> None:
    assert seat_words("de") == list(SEATS)
    assert seat_words("en") == ["politics", "administration", "civil_society", "ut"]
    assert [seat_word(word) for word in seat_words("en")] == list(SEATS)


# --- several networks: naming the network, an LT's code (SPEC §1) ------------------------------


def test_with_several_networks_a_group_admin_binds_an_lt_only_with_a_code() -> None:
    lt = TeamKind.LT
    assert may_bind(lt, is_network_admin=False, is_chat_admin=True, needs_code=True) == (
        refusals.LT_CODE_NEEDED
    )
    assert (
        may_bind(lt, is_network_admin=False, is_chat_admin=True, needs_code=True, has_code=True)
        is None
    )
    # a code is no way around being the group's admin, and no network admin needs one
    assert (
        may_bind(lt, is_network_admin=False, is_chat_admin=False, needs_code=True, has_code=True)
        == refusals.NOT_CHAT_ADMIN
    )
    assert may_bind(lt, is_network_admin=True, is_chat_admin=False, needs_code=True) is None
    assert (
        may_bind(TeamKind.PT, is_network_admin=False, is_chat_admin=True, has_code=True)
        == refusals.NOT_NETWORK_ADMIN
    )


def test_setup_reads_the_network_and_the_code_only_where_there_are_several() -> None:
    keys = {"test", "suedwest"}.__contains__
    words = ["PT", "suedwest", "Projektteam", "Süd"]
    assert read_setup(words, keys).network == "suedwest"
    assert read_setup(words, keys).name == "Projektteam Süd"
    assert read_setup(words, None).name == "suedwest Projektteam Süd"  # one network: all name
    read = read_setup(["lt", "test", "k7qmr-9xpd4", "Garten"], keys)
    assert (read.kind, read.network, read.code, read.name) == (
        TeamKind.LT,
        "test",
        "K7QMR9XPD4",
        "Garten",
    )
    assert read_setup(["PT", "K7QMR-9XPD4", "X"], keys).code is None  # codes are an LT's
    assert read_setup(["XX", "Garten"], keys).kind is None


def test_a_word_of_a_team_name_never_reads_as_a_code() -> None:
    assert lt_code_typed("Kunst-Markt") is None  # five and five letters, no digit
    assert lt_code_typed("K7QMR-9XPD4") == "K7QMR9XPD4"
    assert lt_code_typed("K7QMR9XPD4") is None  # typed, a code has its dash
    assert not lt_code_is_good("KUNSTMARKT") and not lt_code_is_good("K7QMR9XPDO")
