"""What the weekly digests select (SPEC §7): which chat gets which digest, and what the public
one may show. The Wochenrückblick itself is gathered and rendered in `bot/flows/digests.py`."""

from __future__ import annotations

from enum import StrEnum

from bot.charter.policy import DecisionKind, TeamKind


class DigestKind(StrEnum):
    TEAM = "team"  # a team's own week
    NETWORK = "network"  # one section per team
    PUBLIC = "public"  # decisions and outcomes only


# The PT and the KT look after the whole network: their chats get the network digest.
NETWORK_CHATS = frozenset({TeamKind.PT, TeamKind.KT})

# Decisions about a person: the public digest never shows them (a rejection would name
# someone who did not get a public role); who came in shows as a new member instead.
PERSONAL_KINDS = frozenset(
    {DecisionKind.ADMISSION, DecisionKind.NOMINATION, DecisionKind.DELEGATION}
)

# Ways onto a roster that are a public role the person accepted (appointed, admitted by
# decision, elected, delegated): only these name people in the public digest.
PUBLIC_ROLES = frozenset({"appointed", "decision", "elected", "delegated"})


def digest_for(team_kind: str, *, is_public_chat: bool) -> DigestKind:
    """Each chat gets one digest: the public chat the public one, the PT and KT chats the
    network digest, every other team chat its own."""
    if is_public_chat:
        return DigestKind.PUBLIC
    return DigestKind.NETWORK if team_kind in NETWORK_CHATS else DigestKind.TEAM


def is_public_decision(kind: str) -> bool:
    """Whether the public digest may show a decision of this kind."""
    return kind not in PERSONAL_KINDS


def names_in_public(joined_how: str) -> bool:
    """Whether a person who came onto a roster this way is named in the public digest."""
    return joined_how in PUBLIC_ROLES
