"""What a button press or an opened link carries back to the bot, as typed values: the
payloads of buttons (callback data) and of links that start the bot (deep links). The wire
formats live in one codec each, on the Telegram side (bot.telegram_side.callbacks and
bot.telegram_side.deep_links); a flow only ever sees these values."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.charter.outcomes import Response

# -- buttons ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Press:
    """A member's response on a round's card: Zustimmung, Bedenken, Enthaltung or Einwand."""

    round_id: int
    choice: Response


@dataclass(frozen=True, slots=True)
class Acceptance:
    """A candidate's answer to a nomination: Annehmen or Ablehnen."""

    nomination_id: int
    accept: bool


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A delegate's answer: Bestätigen or Ablehnen."""

    delegation_id: int
    confirm: bool


@dataclass(frozen=True, slots=True)
class Candidacy:
    """A candidate's answer to an election: standing or not."""

    election_id: int
    position: int
    stands: bool


class PetitionChoice(StrEnum):
    NAMED = "n"
    ANONYMOUS = "a"
    CANCEL = "x"


@dataclass(frozen=True, slots=True)
class PetitionPress:
    """The sender of an Anliegen chose: with their name, anonymously, or not at all."""

    petition_id: int
    choice: PetitionChoice


@dataclass(frozen=True, slots=True)
class ForgetPress:
    """The answer to /forgetme's question: Ja, vergiss mich or Abbrechen."""

    person_id: int
    confirm: bool


class SettingField(StrEnum):
    """What an LT's settings (/einstellungen) can change."""

    MODE = "mode"  # the roster mode: a RosterMode value
    PROCESS = "process"  # how the LT decides: a Process value


@dataclass(frozen=True, slots=True)
class SettingPress:
    """A member of an LT proposes a change of its settings from /einstellungen's buttons:
    `value` is the RosterMode or Process value proposed for `field`."""

    team_id: int
    field: SettingField
    value: str


@dataclass(frozen=True, slots=True)
class NetworkChoice:
    """In a private chat, the network a person's messages there are for (SPEC §1), when
    they belong to several or none: chosen with the bot's buttons."""

    network_id: int


@dataclass(frozen=True, slots=True)
class BindingNetwork:
    """In a group, the network an admin of several binds it into with /setup (SPEC §1):
    chosen with the bot's buttons, for that /setup only."""

    network_id: int


CallbackPayload = (
    Press
    | Acceptance
    | Confirmation
    | Candidacy
    | PetitionPress
    | ForgetPress
    | SettingPress
    | NetworkChoice
    | BindingNetwork
)

# -- links that start the bot -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenBot:
    """Just the private chat with the bot (where an Anliegen is raised)."""


@dataclass(frozen=True, slots=True)
class RaisePetition:
    """From a group to the private chat, straight to the first question of an Anliegen (to
    that group's network, in a deployment of several)."""

    network_id: int | None = None


@dataclass(frozen=True, slots=True)
class GiveReason:
    """From a card to the private chat, to give the reason for an Einwand or Bedenken."""

    round_id: int


@dataclass(frozen=True, slots=True)
class OpenNomination:
    """A candidate not yet known to the bot opens their nomination."""

    token: str


@dataclass(frozen=True, slots=True)
class OpenDelegation:
    """A delegate not yet known to the bot opens their delegation."""

    token: str


@dataclass(frozen=True, slots=True)
class OpenCandidacy:
    """A candidate not yet known to the bot opens their election's question."""

    token: str


@dataclass(frozen=True, slots=True)
class BindLt:
    """A startgroup link: the bot is added to a group, which may become an LT of the network
    whose admin handed out this code (SPEC §1)."""

    code: str


StartPayload = (
    OpenBot | RaisePetition | GiveReason | OpenNomination | OpenDelegation | OpenCandidacy | BindLt
)
