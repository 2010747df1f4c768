"""No refusal is a dead end (issue 12.8): every text that says "no" — the charter's refusals,
every key the code raises as a `Refusal`, and the refusals the handlers answer with directly —
also says what the person can do instead, in both catalogues: a command to send, a link to
open, or whom to ask."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.charter import refusals
from bot.charter.refusals import Refusal
from bot.texts.i18n import catalogue
from handlers.commands import COMMANDS

ROOT = Path(__file__).resolve().parent.parent

# The charter's named refusals.
CONSTANTS = {value.key for value in vars(refusals).values() if isinstance(value, Refusal)}
# Every key the code raises or returns as a Refusal("key", …).
RAISED_IN_CODE = re.compile(r'Refusal\(\s*"([a-z_.]+)"')
RAISED = {
    match.group(1)
    for folder in ("bot", "handlers")
    for path in (ROOT / folder).rglob("*.py")
    for match in RAISED_IN_CODE.finditer(path.read_text(encoding="utf-8"))
}
# The refusals the handlers answer with directly (reply, answer_query), not as a Refusal.
ANSWERED = {
    # a card's buttons
    "press.invalid",
    "press.closed",
    "press.not_member",
    "press.next_round",
    # where a command works, and who may send it
    "error.group_only",
    "error.unbound_chat",
    "error.unknown_command",
    "error.umlaut_command",
    "error.anonymous_admin",
    "error.person_is_bot",
    "setup.group_only",
    "setup.which_network_stale",
    "ltcode.not_needed",
    "proposal.not_member",
    "proposal.unknown",
    "export.not_member",
    "export.private_not_admin",
    "digest.not_here",
    "join.where",
    "delegate.who",
    "delegate.ut_in_pt",
    "election.who",
    "leave.not_member",
    "remove.not_member",
    "admit.one_by_decision",
    "admit.too_many",
    *(f"admit.by_charter.{kind}" for kind in ("PT", "ST", "KT", "UT", "LT", "NET")),
    # private questions that are no longer open
    "reason.nothing_pending",
    "petition.private_only",
    "petition.private_only_deleted",
    "petition.stale",
    "petition.already_sent",
    "petition.reply.not_member",
    "privacy.private_only",
    "forget.stale",
    "nominate.not_for_you",
    "nominate.link_stale",
    "nominate.already_in",
    "delegate.stale",
    "delegate.already_seated",
    "election.stale",
}
# A text whose next step is in it as a plain instruction (shorten it, send it again): said of
# a text of any command, so it can name none. Each must still say to send it again.
SEND_AGAIN = {"error.too_long"}
AGAIN = {"de": "noch einmal", "en": "again"}

REFUSALS = sorted(CONSTANTS | RAISED | ANSWERED)

COMMAND_NAMES = {name for command in COMMANDS for name in command.names}
COMMAND = re.compile(r"(?<![\w<])/([a-z_]+)")
LINK = re.compile(r"\{link\}|\{url\}|href=|https://")
# Words that name whom to ask.
ASK = {
    "de": re.compile(r"\b(frag|fragt|wende dich an|sprich)\b", re.IGNORECASE),
    "en": re.compile(r"\b(ask|talk to)\b", re.IGNORECASE),
}


# Filled in with a command: the one the person typed ({command}: "/vorschlag"), or its usage.
COMMAND_PLACEHOLDER = re.compile(r"\{command\}|\{usage\}")


def next_steps(lang: str, text: str) -> list[str]:
    """What the text offers to do instead: commands, links, whom to ask."""
    steps = [f"/{name}" for name in COMMAND.findall(text) if name in COMMAND_NAMES]
    steps += COMMAND_PLACEHOLDER.findall(text)
    steps += LINK.findall(text)
    steps += ASK[lang].findall(text)
    return steps


def test_the_refusals_are_found() -> None:
    """The sets are what they should be, so the test below cannot pass on nothing."""
    assert len(CONSTANTS) >= 20
    assert {"support.lt_only", "petition.no_pt", "nominate.where", "election.count"} <= RAISED
    assert {"press.not_member", "press.invalid", "refusal.not_network_admin"} <= set(REFUSALS)
    assert len(REFUSALS) >= 80


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("key", REFUSALS)
def test_every_refusal_offers_a_next_step(lang: str, key: str) -> None:
    text = catalogue(lang)[key]
    if key in SEND_AGAIN:
        assert AGAIN[lang] in text, text
        return
    assert next_steps(lang, text), f"{key} ({lang}) is a dead end: {text}"


@pytest.mark.parametrize(("lang", "command"), [("de", "/offen"), ("en", "/open")])
def test_an_invalid_button_points_to_what_is_open(lang: str, command: str) -> None:
    assert command in catalogue(lang)["press.invalid"]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_press_from_outside_the_roster_says_whom_to_ask(lang: str) -> None:
    text = catalogue(lang)["press.not_member"]
    assert ASK[lang].search(text), text
    assert "{team}" in text
