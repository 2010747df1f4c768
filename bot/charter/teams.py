"""Rules about teams and rosters (SPEC §1): who may bind a chat, who may admit, who counts.

Plain Python: the handlers ask, these answer with a refusal (an enum) or None."""

from __future__ import annotations

from enum import StrEnum

from bot.charter.policy import SINGLE_TEAM_KINDS, RosterMode, TeamKind

SEATS = ("politik", "verwaltung", "zivilgesellschaft", "ut")
# The seats' English names, accepted as well in commands (an English-speaking network).
SEAT_ALIASES = {
    "politics": "politik",
    "administration": "verwaltung",
    "civil_society": "zivilgesellschaft",
    "civil-society": "zivilgesellschaft",
}


def seat_words(lang: str) -> list[str]:
    """The seats as a person of this language types them."""
    if lang == "de":
        return list(SEATS)
    english = {}
    for alias, stored in SEAT_ALIASES.items():
        english.setdefault(stored, alias)  # the first alias is the one shown
    return [english.get(seat, seat) for seat in SEATS]


def seat_word(word: str) -> str:
    """A seat as typed (German or English, any case) -> its stored name."""
    lowered = word.lower()
    return SEAT_ALIASES.get(lowered, lowered)


MAX_TEAM_NAME = 64
MAX_BODY = 100
MAX_REASON = 500


class Refusal(StrEnum):
    """Why something is not done; each has a text `refusal.<value>` in the catalogue."""

    NOT_A_GROUP = "not_a_group"
    NOT_NETWORK_ADMIN = "not_network_admin"
    NOT_CHAT_ADMIN = "not_chat_admin"
    ALREADY_BOUND = "already_bound"
    KIND_TAKEN = "kind_taken"
    BOT_NOT_ADMIN = "bot_not_admin"
    BOT_CANNOT_INVITE = "bot_cannot_invite"
    SETUP_PHASE_OVER = "setup_phase_over"
    IS_A_BOT = "is_a_bot"


def roster_mode_for(kind: TeamKind) -> RosterMode:
    """LTs start in `chat` mode and may change it; NET is always `chat`; the rest explicit."""
    if kind in (TeamKind.LT, TeamKind.NET):
        return RosterMode.CHAT
    return RosterMode.EXPLICIT


def may_bind(kind: TeamKind, *, is_network_admin: bool, is_chat_admin: bool) -> Refusal | None:
    """PT/ST/KT/UT/NET by a network admin; an LT also by an admin of that group chat."""
    if is_network_admin:
        return None
    if kind is TeamKind.LT:
        return None if is_chat_admin else Refusal.NOT_CHAT_ADMIN
    return Refusal.NOT_NETWORK_ADMIN


def bot_rights_refusal(*, is_admin: bool, can_invite_users: bool) -> Refusal | None:
    """Only an admin bot gets member updates, checks membership and handles invitations."""
    if not is_admin:
        return Refusal.BOT_NOT_ADMIN
    if not can_invite_users:
        return Refusal.BOT_CANNOT_INVITE
    return None


def kind_taken(kind: TeamKind, existing_kinds: set[str]) -> bool:
    return kind in SINGLE_TEAM_KINDS and kind.value in existing_kinds


def may_admit_directly(*, is_network_admin: bool, in_setup_phase: bool) -> Refusal | None:
    """Network admins enter existing members only until the team's first decision."""
    if not is_network_admin:
        return Refusal.NOT_NETWORK_ADMIN
    if not in_setup_phase:
        return Refusal.SETUP_PHASE_OVER
    return None


def decided_by_the_team(
    kind: str, roster_mode: str, is_network_admin: bool, in_setup_phase: bool
) -> bool:
    """An LT with an explicit roster admits by its own decision; only during the set-up
    phase does a network admin still enter members directly."""
    if kind != TeamKind.LT or roster_mode != RosterMode.EXPLICIT:
        return False
    return not (is_network_admin and in_setup_phase)


# How a person left a roster that keeps them off it in roster mode `chat`.
STAYS_OUT = frozenset({"left", "removed"})
# ... of which only a network admin's removal also keeps them from rejoining by a press.
REMOVED = "removed"


def joins_by_sighting(roster_mode: str, *, last_left_how: str | None) -> bool:
    """In roster mode `chat` everyone the bot sees in the chat is on the roster — except a
    person who left with /leave (only taking part again, a press, brings them back) or was
    removed by a network admin."""
    return roster_mode == RosterMode.CHAT and last_left_how not in STAYS_OUT


def parse_seat(words: list[str]) -> tuple[str | None, str | None]:
    """`politik Stadtbezirksbeirat West` -> ("politik", "Stadtbezirksbeirat West")."""
    if not words:
        return None, None
    seat = seat_word(words[0])
    if seat not in SEATS:
        return None, None
    body = " ".join(words[1:]).strip() or None
    return seat, body
