"""The one deep-link codec: links already sent keep opening what they opened, and /start with
anything else is just /start."""

from __future__ import annotations

import pytest

from bot.flows.payloads import (
    BindLt,
    GiveReason,
    OpenBot,
    OpenCandidacy,
    OpenDelegation,
    OpenNomination,
    RaisePetition,
    StartPayload,
)
from bot.telegram_side import deep_links

WIRE = [
    (OpenBot(), ""),
    (RaisePetition(), "petition"),
    (RaisePetition(3), "petition_3"),
    (GiveReason(42), "reason_42"),
    (OpenNomination("Ab3_-x9QzT0kLmNo"), "nom_Ab3_-x9QzT0kLmNo"),
    (OpenDelegation("tok"), "del_tok"),
    (OpenCandidacy("tok"), "cand_tok"),
    (BindLt("K7QMR9XPD4"), "lt_K7QMR9XPD4"),
]


@pytest.mark.parametrize(("payload", "text"), WIRE, ids=[text or "(none)" for _, text in WIRE])
def test_links_sent_before_keep_their_start_parameter(payload: StartPayload, text: str) -> None:
    assert deep_links.encode(payload) == text
    assert deep_links.decode(text) == payload


def test_the_link_opens_the_bot_with_the_payload() -> None:
    assert deep_links.url("wiq_bot", GiveReason(7)) == "https://t.me/wiq_bot?start=reason_7"
    assert deep_links.url("wiq_bot", RaisePetition()) == "https://t.me/wiq_bot?start=petition"


def test_a_startgroup_link_adds_the_bot_to_a_group_with_the_code() -> None:
    link = deep_links.group_url("wiq_bot", BindLt("K7QMR9XPD4"))
    assert link == "https://t.me/wiq_bot?startgroup=lt_K7QMR9XPD4"


def test_a_link_to_just_the_chat_has_no_empty_start_parameter() -> None:
    # "?start=" with nothing after it looks broken (issue 12.10)
    assert deep_links.url("wiq_bot", OpenBot()) == "https://t.me/wiq_bot"


@pytest.mark.parametrize(
    "text", ["hello", "reason_", "reason_x1", "reason_٧", "reason_" + "9" * 19, "petitions"]
)
def test_anything_else_is_none_of_ours(text: str) -> None:
    assert deep_links.decode(text) is None


def test_an_unknown_token_is_left_to_the_flow_that_answers_it() -> None:
    # "This question is no longer open" is the flow's answer, as it always was.
    assert deep_links.decode("nom_") == OpenNomination("")
    assert deep_links.decode("cand_gone") == OpenCandidacy("gone")


def test_a_payload_telegram_would_not_carry_is_never_put_in_a_link() -> None:
    with pytest.raises(ValueError):
        deep_links.encode(OpenNomination("with space"))
    with pytest.raises(ValueError):
        deep_links.encode(OpenDelegation("x" * 64))
