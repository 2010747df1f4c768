"""The one callback-data codec: the buttons already posted keep working (the wire format is
the one of before), and nothing the bot did not make is taken for a press."""

from __future__ import annotations

import re

import pytest

from bot.charter.outcomes import Response
from bot.flows.payloads import (
    Acceptance,
    BindingNetwork,
    CallbackPayload,
    Candidacy,
    Confirmation,
    ForgetPress,
    NetworkChoice,
    PetitionChoice,
    PetitionPress,
    Press,
    SettingField,
    SettingPress,
)
from bot.telegram_side import callbacks

# Each payload with the callback data it had on the buttons before the codec was one.
WIRE = [
    (Press(12, Response.AGREE), "1:12:a"),
    (Press(12, Response.CONCERN), "1:12:c"),
    (Press(12, Response.ABSTAIN), "1:12:s"),
    (Press(999_999_999_999, Response.OBJECT), "1:999999999999:o"),
    (Acceptance(3, True), "n1:3:a"),
    (Acceptance(3, False), "n1:3:d"),
    (Confirmation(4, True), "d1:4:a"),
    (Confirmation(4, False), "d1:4:d"),
    (Candidacy(5, 0, True), "e1:5:0:a"),
    (Candidacy(5, 11, False), "e1:5:11:d"),
    (PetitionPress(6, PetitionChoice.NAMED), "c1:6:n"),
    (PetitionPress(6, PetitionChoice.ANONYMOUS), "c1:6:a"),
    (PetitionPress(6, PetitionChoice.CANCEL), "c1:6:x"),
    (ForgetPress(7, True), "f1:7:y"),
    (NetworkChoice(2), "w1:2"),
    (BindingNetwork(2), "b1:2"),
    (ForgetPress(7, False), "f1:7:n"),
    (SettingPress(8, SettingField.MODE, "explicit"), "s1:8:m:e"),
    (SettingPress(8, SettingField.MODE, "chat"), "s1:8:m:c"),
    (SettingPress(8, SettingField.PROCESS, "consensus_then_majority"), "s1:8:p:cm"),
    (SettingPress(8, SettingField.PROCESS, "majority"), "s1:8:p:m"),
    (SettingPress(8, SettingField.PROCESS, "consensus_only"), "s1:8:p:co"),
    (SettingPress(8, SettingField.PROCESS, "consent"), "s1:8:p:cs"),
]


@pytest.mark.parametrize(("payload", "data"), WIRE, ids=[data for _, data in WIRE])
def test_buttons_posted_before_keep_their_callback_data(
    payload: CallbackPayload, data: str
) -> None:
    assert callbacks.encode(payload) == data
    assert callbacks.decode(data) == payload


def test_every_payload_type_has_a_format() -> None:
    assert {type(payload) for payload, _ in WIRE} == set(CallbackPayload.__args__)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "1",
        "1:",
        "1:12",
        "1:12:",
        "1:12:x",  # no such response
        "1:0:a",  # ids start at 1
        "1:012:a",
        "1:-12:a",
        "1:1234567890123:a",  # longer than any id we make
        "1:12:a\n",  # a trailing newline is no part of ours
        "1:12:a:b",
        "1:١٢:a",  # digits, but not the ones we write
        "2:12:a",  # a version we never made
        "n1:3:y",
        "d1:4:x",
        "e1:5:123:a",
        "c1:6:q",
        "f1:7:a",
        "s1:8:m:cs",  # a process is no roster mode
        "s1:8:p:e",
        "s1:8:x:c",
        "s1:8:m:zz",
        "x1:3:a",  # somebody else's button
        "spam",
        "1:12:a" + " " * 60,  # over Telegram's 64 bytes
        "ä" * 40,
    ],
)
def test_forged_foreign_and_over_long_data_is_no_press(data: str | None) -> None:
    assert callbacks.decode(data) is None


def test_a_payload_that_would_not_read_back_is_never_put_on_a_button() -> None:
    with pytest.raises(ValueError):
        callbacks.encode(Press(0, Response.AGREE))
    with pytest.raises(ValueError):
        callbacks.encode(Candidacy(5, 100, True))
    with pytest.raises(ValueError):
        callbacks.encode(SettingPress(8, SettingField.MODE, "sometimes"))


def test_each_handler_pattern_takes_its_own_prefix_only() -> None:
    types = {type(payload) for payload, _ in WIRE}
    for payload_type in types:
        pattern = re.compile(callbacks.pattern(payload_type))
        for payload, data in WIRE:
            assert bool(pattern.match(data)) == (type(payload) is payload_type), (payload, data)


def test_a_pattern_also_takes_what_does_not_decode_so_its_handler_answers_it() -> None:
    # A forged answer to a nomination still reaches the nomination's handler, which
    # answers it as stale instead of leaving the button spinning.
    assert re.match(callbacks.pattern(Acceptance), "n1:abc")
    assert callbacks.decode("n1:abc") is None
