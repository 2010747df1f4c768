"""Why something is not done: the one type for every refusal, and the charter's own refusals.

A `Refusal` is the text that says why (a catalogue key) and what fills it in. The charter's
rules return one (or None, allowed); a flow raises one; a handler answers it, whichever of the
two it got, with `handlers.common.refuse`. The charter's refusals are named below, so callers
and tests compare against names, not strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final


class Refusal(Exception):
    """A refusal: `key` is its text in the catalogue, `params` fill it in (escaped by `t`).

    Immutable, and equal to another with the same key and params. A named refusal below is
    shared: return or compare it as it is, but raise a copy (`refusal.with_params(...)`),
    since raising an exception writes its traceback into it.
    """

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self._key = key
        self._params: Mapping[str, object] = MappingProxyType(params)

    @property
    def key(self) -> str:
        return self._key

    @property
    def params(self) -> Mapping[str, object]:
        return self._params

    def with_params(self, **params: object) -> Refusal:
        """A new refusal with the same text and more (or other) values to fill it in."""
        return Refusal(self._key, **{**self._params, **params})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Refusal):
            return NotImplemented
        return self._key == other._key and dict(self._params) == dict(other._params)

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        params = "".join(f", {name}={value!r}" for name, value in self._params.items())
        return f"Refusal({self._key!r}{params})"


# --- Teams and rosters (SPEC §1): /setup, /admit, /remove ------------------------------------

NOT_NETWORK_ADMIN: Final = Refusal("refusal.not_network_admin")
NOT_CHAT_ADMIN: Final = Refusal("refusal.not_chat_admin")
ALREADY_BOUND: Final = Refusal("refusal.already_bound")  # params: team
KIND_TAKEN: Final = Refusal("refusal.kind_taken")  # params: kind
BOT_NOT_ADMIN: Final = Refusal("refusal.bot_not_admin")  # params: bot
BOT_CANNOT_INVITE: Final = Refusal("refusal.bot_cannot_invite")  # params: bot
SETUP_PHASE_OVER: Final = Refusal("refusal.setup_phase_over")
# A deployment of several networks: an LT joins a network with a code of one of its admins.
LT_CODE_NEEDED: Final = Refusal("refusal.lt_code_needed")
LT_CODE_INVALID: Final = Refusal("refusal.lt_code_invalid")  # unknown, used, lapsed, elsewhere
NOT_ADMIN_OF_NETWORK: Final = Refusal("refusal.not_admin_of_network")  # params: network
LT_CODE_PRIVATELY: Final = Refusal("refusal.lt_code_privately")  # params: bot

# --- What the proposer asks for (SPEC §3.6, §4): /revise, /majority, /withdraw -------------
# Each text names the proposal: params: id.

NOT_PROPOSER: Final = Refusal("refused.not_proposer")
CLOSED: Final = Refusal("refused.closed")
NOTHING_TO_REVISE: Final = Refusal("refused.nothing_to_revise")  # a decision about a person
NO_ROUNDS_LEFT: Final = Refusal("refused.no_rounds_left")
ROUND_OPEN: Final = Refusal("refused.round_open")
VOTE_OPEN: Final = Refusal("refused.vote_open")
WINDOW_ENDED: Final = Refusal("refused.window_ended")
NO_FAILED_ROUND: Final = Refusal("refused.no_failed_round")
NO_FALLBACK: Final = Refusal("refused.no_fallback")

# --- A deadline a person types (SPEC §3.1): /propose, /nominate, /election [DEADLINE] … -----
# params: text (the words typed); the handler adds min and max (durations in words) and
# command (the command as typed, for the example of what to send instead).

DEADLINE_UNREADABLE: Final = Refusal("deadline.unparseable")
DEADLINE_NO_SUCH_DATE: Final = Refusal("deadline.no_such_date")  # 32.13., 30.02.2027, 25:00
DEADLINE_TYPO: Final = Refusal("deadline.typo")  # params: suggestion (morgn → morgen)
DEADLINE_MONTH_FIRST: Final = Refusal("deadline.month_first")  # 12/1: which is the month?
DEADLINE_IN_THE_PAST: Final = Refusal("deadline.in_the_past")
DEADLINE_TOO_SOON: Final = Refusal("deadline.too_soon")
DEADLINE_TOO_FAR: Final = Refusal("deadline.too_far")
