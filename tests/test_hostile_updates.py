"""Updates without a person behind them reach every command and every button, and change
nothing (SPEC §1, §10): a channel's post, a message sent as the group (an anonymous admin) or
as a channel, a linked channel's post forwarded into its group, a message with no `from`, one
from another bot; and a person in a chat that is not the one a command needs (a group bound to
no team, a private chat). Every command of the command table, by each of its names, and every
kind of button of the callback codec, valid-looking and forged: no error logged anywhere, no
table changed (but the inbox's and outbox's bookkeeping), and an answer only where one is
expected — written here by hand, not taken from the handlers."""

from __future__ import annotations

import html
import logging
import re
import string
import typing
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import pytest

from bot.charter.outcomes import Response
from bot.clock import ManualClock
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
from bot.texts.i18n import catalogue, t
from handlers.commands import COMMANDS
from tests.harness import ADMIN, ANNA, BERT, PT, ST, Harness, Teams, dialect_of, make_model, peek

CHANNEL = -1009000000001  # Anna's channel, linked to the PT's chat as its discussion group
UNBOUND = -1009000000002  # a group bound to no team: Anna (its admin) and Bert
OTHER_BOT = {"id": 4242, "is_bot": True, "first_name": "Helfer", "username": "helfer_bot"}
# A bot that claims a network admin's id: a bot is never a person, whatever its id.
BOT_AS_ADMIN = {"id": ADMIN, "is_bot": True, "first_name": "Ada", "username": "ada_bot"}
NO_ID = 987_654  # no round, nomination, delegation, election, petition or person has it
HUGE = 999_999_999_999  # the codec's largest id (12 digits)

# What each command is sent with: arguments under which it would change something if the
# one who sent it were allowed to (a proposal, a binding, an admission ...).
ARGUMENTS = {
    "propose": "Wir kaufen eine Bank für den Hof 3d",
    "open": "",
    "decisions": "",
    "digest": "",
    "export": "",
    "revise": "1 Eine bessere Bank",
    "majority": "1",
    "withdraw": "1",
    "request_support": "Wir brauchen Hilfe beim Garten",
    "settings": "quorum 1",
    "nominate": "@bert",
    "delegate": "@bert politik Stadtrat",
    "election": "2 Sprecher:in",
    "start": "",
    "join": "Gemeinschaftsgarten",
    "petition": "Mehr Bänke im Park",
    "mydata": "",
    "forgetme": "",
    "network": "",
    "ltcode": "",
    "team": "",
    "members": "",
    "leave": "",
    "admit": "@bert zivilgesellschaft",
    "remove": "@anna weil",
    "setup": "LT Garten",
    "help": "",
}


def command_texts() -> Iterator[tuple[str, str]]:
    """(name, text) for every name of every command in the table."""
    for command in COMMANDS:
        for name in command.names:
            rest = ARGUMENTS[command.name]
            yield name, f"/{name} {rest}".strip()


def test_every_command_has_its_arguments_here() -> None:
    assert set(ARGUMENTS) == {command.name for command in COMMANDS}


# ------------------------------------------------------------ what is watched


def dump(h: Harness) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows but the inbox's and the outbox's (the bookkeeping of updates in
    and messages out, which any update and any answer touches)."""
    bookkeeping = {"inbox", "outbox"}
    with closing(peek(h.config)) as db:
        names = [
            row[0] for row in db.execute(dialect_of(db).tables_sql()) if row[0] not in bookkeeping
        ]
        return {name: sorted(db.execute(f"SELECT * FROM {name}"), key=repr) for name in names}


@dataclass
class Watch:
    """What the bot posted since `mark`, in any chat (the channel's too)."""

    h: Harness
    seq: int = 0

    def mark(self) -> None:
        self.seq = max((m.seq for m in self.h.model.bot_messages()), default=0)

    def posted(self) -> list[tuple[int, str]]:
        return [(m.chat_id, m.text or "") for m in self.h.model.bot_messages() if m.seq > self.seq]


async def sent(h: Harness, inject: Callable[[], object], *, wait: float = 0.0) -> None:
    """Inject an update and let the bot handle it. `wait`: time moves on first by that much
    (past the group's budget, or the guard's pause), and what waited for it goes out."""
    assert isinstance(h.clock, ManualClock)
    if wait:
        h.clock.advance(wait)
        await h.outbox.flush_all()
    inject()
    await h.settle()


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()} {r.exc_info[1]!r}" if r.exc_info else r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR
    ]


@pytest.fixture
async def bot(team: Teams) -> Harness:
    """The network (PT: Anna, Bert; ST: Carl, Dora; a UT), Anna's channel linked to the PT,
    a group bound to no team, Anna and Bert have started the bot."""
    h, _ = await team.network()
    h.model.add_channel(CHANNEL, "Quartierskanal", admins=[ANNA])
    h.model.add_group(
        UNBOUND, "Nachbarschaft", members=[BERT], admins=[ANNA], bot_status="administrator"
    )
    for person in (ANNA, BERT):
        h.model.start_bot(person)
    await h.settle()
    await h.outbox.flush_all()
    await h.settle()
    return h


# ------------------------------------------------------------ no person: commands

# Each shape as it reaches a chat; ANSWERS has the only answer a shape gets (others: none).
Shape = Callable[[Harness, int, str], object]
AS_GROUP = "sent as the group (an anonymous admin)"
AS_CHANNEL = "sent as a channel"
SHAPES: dict[str, Shape] = {
    AS_GROUP: lambda h, chat, text: h.model.send_anonymous_admin_message(chat, text),
    AS_CHANNEL: lambda h, chat, text: h.model.send_on_behalf_of_channel(chat, CHANNEL, text),
    "a linked channel's post, forwarded": (
        lambda h, chat, text: h.model.forward_from_linked_channel(chat, CHANNEL, text)
    ),
    "with no from": lambda h, chat, text: h.model.send_odd_message(chat, text, from_user=None),
    "from another bot": (
        lambda h, chat, text: h.model.send_odd_message(chat, text, from_user=OTHER_BOT)
    ),
    "from a bot with a network admin's id": (
        lambda h, chat, text: h.model.send_odd_message(chat, text, from_user=BOT_AS_ADMIN)
    ),
}
ANSWERS = {
    AS_GROUP: t("de", "error.anonymous_admin"),
    AS_CHANNEL: t("de", "error.as_channel", channel="Quartierskanal"),
}
TELLS_AGAIN = 3600.0  # past the guard's pause before it tells a chat again
# Where each shape is tried: teams' chats and a group bound to no team; the shapes Telegram
# does not make also in a private chat (where a message always has a person as its sender).
GROUPS = (PT, ST, UNBOUND)
EVERYWHERE = (PT, UNBOUND, BERT)
ODD_SHAPES = ("with no from", "from another bot", "from a bot with a network admin's id")


@pytest.mark.parametrize("shape", list(SHAPES))
async def test_no_command_runs_for_an_update_without_a_person(
    bot: Harness, caplog: pytest.LogCaptureFixture, shape: str
) -> None:
    """Every name of every command, each with arguments that would change something: one
    answer where a person hides behind the group or a channel (told to write as themselves),
    nothing otherwise; no error, nothing changed."""
    inject = SHAPES[shape]
    answer = ANSWERS.get(shape)
    watch = Watch(bot)
    before = dump(bot)
    if shape == AS_GROUP:
        # One command at a time in the PT's chat, past the pause: each is answered so.
        for name, text in command_texts():
            watch.mark()
            await sent(bot, lambda text=text: inject(bot, PT, text), wait=TELLS_AGAIN)
            assert watch.posted() == [(PT, str(answer))], name
    for chat in EVERYWHERE if shape in ODD_SHAPES else GROUPS:
        # All of them at once: told once, not at every command (or nothing at all).
        watch.mark()
        for _name, text in command_texts():
            inject(bot, chat, text)
        await sent(bot, lambda: None, wait=TELLS_AGAIN)
        assert watch.posted() == ([(chat, str(answer))] if answer is not None else []), chat
    assert errors(caplog) == []
    assert dump(bot) == before


async def test_a_channel_post_gets_nothing(bot: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """Telegram may deliver a channel post the bot did not ask for (one made before it
    asked), or its edit: no command runs, nothing is posted, in the channel or elsewhere."""
    watch = Watch(bot)
    watch.mark()
    before = dump(bot)
    for _name, text in command_texts():
        bot.model.post_in_channel(CHANNEL, text, unasked=True)
        post = bot.model.messages(CHANNEL)[-1]
        edited = {**bot.model.message_view(post), "edit_date": post.date + 1}
        bot.model.inject_update("edited_channel_post", edited, unasked=True)
    await sent(bot, lambda: None)
    assert watch.posted() == []
    assert errors(caplog) == []
    assert dump(bot) == before


async def test_the_local_telegram_delivers_a_channel_post_only_if_asked_or_made_before() -> None:
    """localapi as Telegram: a channel post reaches a bot whose allowed_updates leave it out
    only if it was made before they were set (`unasked`)."""
    model = make_model()
    model.add_channel(CHANNEL, "Quartierskanal", admins=[ANNA])
    model.post_in_channel(CHANNEL, "Heute Markt")
    model.post_in_channel(CHANNEL, "/hilfe", unasked=True)
    status, answer = await model.call("getUpdates", {"allowed_updates": ["message"]})
    assert status == 200
    [update] = answer["result"]
    post = update["channel_post"]
    assert post["text"] == "/hilfe" and "from" not in post
    assert post["sender_chat"] == {"id": CHANNEL, "type": "channel", "title": "Quartierskanal"}
    status, answer = await model.call("getUpdates", {"allowed_updates": ["channel_post"]})
    assert answer["result"][-1]["channel_post"]["text"] == "/hilfe"
    model.post_in_channel(CHANNEL, "Morgen auch")
    status, answer = await model.call("getUpdates", {"offset": update["update_id"] + 1})
    assert [u["channel_post"]["text"] for u in answer["result"]] == ["Morgen auch"]


async def test_the_group_is_told_again_only_after_a_pause(bot: Harness) -> None:
    """An anonymous admin trying command after command is told once; a while later, again."""
    watch = Watch(bot)
    watch.mark()
    for text in ("/setup LT Garten", "/hilfe", "/members"):
        await sent(bot, lambda text=text: bot.model.send_anonymous_admin_message(UNBOUND, text))
    warning = str(t("de", "error.anonymous_admin"))
    assert watch.posted() == [(UNBOUND, warning)]
    watch.mark()
    await sent(bot, lambda: bot.model.send_anonymous_admin_message(UNBOUND, "/setup"), wait=599)
    assert watch.posted() == []
    await sent(bot, lambda: bot.model.send_anonymous_admin_message(UNBOUND, "/setup"), wait=2)
    assert watch.posted() == [(UNBOUND, warning)]


async def test_only_this_bots_commands_are_answered(bot: Harness) -> None:
    """Sent as the group: a command for another bot, an unknown one, or no command at all
    gets nothing (the chat may have other bots, and an anonymous admin may just be talking)."""
    watch = Watch(bot)
    watch.mark()
    for text in ("/setup@other_bot LT Garten", "/frobnicate", "Guten Morgen", "/members@wiq"):
        await sent(
            bot,
            lambda text=text: bot.model.send_anonymous_admin_message(UNBOUND, text),
            wait=TELLS_AGAIN,
        )
    assert watch.posted() == []
    await sent(bot, lambda: bot.model.send_anonymous_admin_message(UNBOUND, "/hilfe@wiq_test_bot"))
    assert watch.posted() == [(UNBOUND, str(t("de", "error.anonymous_admin")))]


# ------------------------------------------------------------ a person in the wrong chat

# What Bert (on the PT's roster, no admin of anything) is answered in a group bound to no team,
# command by command — from the spec, not from the handlers.
UNBOUND_ANSWERS = {
    **dict.fromkeys(
        (
            "propose", "open", "decisions", "digest", "export", "revise", "majority",
            "withdraw", "request_support", "settings", "nominate", "election", "team",
            "members", "leave", "admit", "remove",
        ),
        "error.unbound_chat",
    ),
    "delegate": "delegate.who",  # recorded from any chat, by network admins and the KT
    "start": "help.intro",
    "help": "help.intro",
    "join": "join.where",
    "petition": "petition.private_only_deleted",  # his message is taken down, too
    "mydata": "privacy.private_only",
    "forgetme": "privacy.private_only",
    "setup": "refusal.not_chat_admin",  # an LT: only the group's admins (or network admins)
    "network": "network.only",  # a bot of one network: nothing to choose
    "ltcode": "ltcode.not_needed",  # a bot of one network: an LT needs no code
}  # fmt: skip
# And in his private chat, each command that is not a private one.
PRIVATE_ANSWERS = {
    **dict.fromkeys(
        (
            "propose", "open", "decisions", "digest", "revise", "majority", "withdraw",
            "request_support", "settings", "nominate", "election", "team", "members",
            "leave", "admit", "remove",
        ),
        "error.group_only",
    ),
    "export": "export.private_not_admin",  # privately: the whole network's, for its admins
    "delegate": "delegate.who",
    "setup": "setup.group_only",
}  # fmt: skip
PRIVATE_COMMANDS = {
    "start", "join", "petition", "mydata", "forgetme", "help", "network", "ltcode",
}  # fmt: skip


def says(text: str, key: str) -> bool:
    """Whether a posted text is the German catalogue's `key`, whatever its placeholders
    (/help's answer: opens with it, then lists the commands)."""
    parts = []
    for literal, field, _, _ in string.Formatter().parse(catalogue("de")[key]):
        parts.append(re.escape(html.unescape(re.sub(r"<[^>]+>", "", literal))))
        if field is not None:
            parts.append(".*?")
    pattern = "".join(parts) + ("(\n.*)?" if key == "help.intro" else "")
    return re.fullmatch(pattern, text, re.DOTALL) is not None


def test_the_expected_answers_cover_the_command_table() -> None:
    names = {command.name for command in COMMANDS}
    assert set(UNBOUND_ANSWERS) == names
    assert set(PRIVATE_ANSWERS) | PRIVATE_COMMANDS == names
    assert not set(PRIVATE_ANSWERS) & PRIVATE_COMMANDS


@pytest.mark.parametrize(
    ("chat", "answers"),
    [(UNBOUND, UNBOUND_ANSWERS), (BERT, PRIVATE_ANSWERS)],
    ids=["unbound", "private"],
)
async def test_a_person_in_a_chat_a_command_does_not_fit_is_told_so(
    bot: Harness, caplog: pytest.LogCaptureFixture, chat: int, answers: dict[str, str]
) -> None:
    """Bert sends every name of each command in a group bound to no team, or privately where
    the command needs a group: one clear answer each, there; nothing changes."""
    watch = Watch(bot)
    before = dump(bot)
    for command in COMMANDS:
        key = answers.get(command.name)
        if key is None:
            continue
        for name in command.names:
            text = f"/{name} {ARGUMENTS[command.name]}".strip()
            watch.mark()
            # time moves on so that the group's budget never holds an answer back
            await sent(bot, lambda text=text: bot.model.send_message(chat, BERT, text), wait=4)
            posted = watch.posted()
            assert len(posted) == 1 and posted[0][0] == chat, (name, posted)
            assert says(posted[0][1], key), (name, key, posted)
    assert errors(caplog) == []
    assert dump(bot) == before


# ------------------------------------------------------------ buttons


def payload_samples() -> dict[type[Any], CallbackPayload]:
    """A valid-looking payload of each kind the codec knows, naming nothing that exists."""
    return {
        Press: Press(NO_ID, Response.AGREE),
        Acceptance: Acceptance(NO_ID, True),
        Confirmation: Confirmation(NO_ID, True),
        Candidacy: Candidacy(NO_ID, 1, True),
        PetitionPress: PetitionPress(NO_ID, PetitionChoice.NAMED),
        ForgetPress: ForgetPress(NO_ID, True),
        SettingPress: SettingPress(NO_ID, SettingField.MODE, "explicit"),
        NetworkChoice: NetworkChoice(NO_ID),
        BindingNetwork: BindingNetwork(NO_ID),
    }


def test_every_kind_of_button_has_a_sample_here() -> None:
    assert set(payload_samples()) == set(typing.get_args(CallbackPayload))


def callback_data() -> list[str | None]:
    """Every kind's valid-looking data, and forged data around each kind's prefix."""
    data: list[str | None] = [None, "", ":", "x" * 65, "1:" + "9" * 60, "ü:1:a", "\u200f1:1:a"]
    for payload in payload_samples().values():
        good = callbacks.encode(payload)
        prefix = good.split(":")[0]
        data += [
            good,
            good.replace(str(NO_ID), str(HUGE)),
            good.replace(str(NO_ID), "0"),
            good.replace(str(NO_ID), "-5"),
            good.replace(str(NO_ID), "1" * 13),
            good + ":x",
            f"{prefix}:",
            f"{prefix}:{NO_ID}:z",
            good.replace(":", "：", 1),  # a full-width colon
        ]
    return data


async def test_forged_presses_change_nothing_and_a_person_is_answered(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Every kind of button, valid-looking and forged, pressed by a person on a message in a
    bound group, in a group bound to no team, in a private chat, on an inline message (no
    message at all) and on a message too old to see (inaccessible): each press is answered;
    pressed by a bot: ignored. Nothing changes."""
    bert = bot.model.user_dict(BERT)
    in_pt = bot.model.bot_messages(PT)[-1]
    await sent(bot, lambda: bot.model.send_message(UNBOUND, BERT, "/hilfe"))
    in_unbound = bot.model.bot_messages(UNBOUND)[-1]
    in_private = bot.model.bot_messages(BERT)[-1]
    inaccessible = {"chat": bot.model.chat_dict(bot.model.chat(PT)), "message_id": 1, "date": 0}
    before = dump(bot)
    answered: list[str] = []
    ignored: list[str] = []
    for data in callback_data():
        for where in (in_pt, in_unbound, in_private):
            answered.append(
                bot.model.press_odd(bert, data, chat_id=where.chat_id, message_id=where.message_id)
            )
            ignored.append(
                bot.model.press_odd(
                    OTHER_BOT, data, chat_id=where.chat_id, message_id=where.message_id
                )
            )
        answered.append(bot.model.press_odd(bert, data, inline_message_id="AAQAAAB"))
        answered.append(bot.model.press_odd(bert, data, chat_id=PT, message=inaccessible))
    await sent(bot, lambda: None)
    queries = bot.model.callback_queries
    assert [q for q in answered if not queries[q].answered] == []
    assert [q for q in ignored if queries[q].answered] == []
    assert errors(caplog) == []
    assert dump(bot) == before


async def test_poll_answers_and_join_requests_without_a_person_change_nothing(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A poll answered on behalf of a chat (no user), a poll answer or a join request from a
    bot: ignored."""
    before = dump(bot)
    chat = bot.model.chat_dict(bot.model.chat(PT))
    for poll_id in ("1", "unknown", "9" * 40):
        bot.model.inject_update(
            "poll_answer",
            {
                "poll_id": poll_id,
                "voter_chat": chat,
                "option_ids": [0],
                "option_persistent_ids": ["a"],
            },
        )
        bot.model.inject_update(
            "poll_answer",
            {
                "poll_id": poll_id,
                "user": OTHER_BOT,
                "option_ids": [1],
                "option_persistent_ids": ["b"],
            },
        )
    bot.model.inject_update(
        "chat_join_request",
        {"chat": chat, "from": OTHER_BOT, "user_chat_id": OTHER_BOT["id"], "date": 1},
    )
    await sent(bot, lambda: None)
    assert errors(caplog) == []
    assert dump(bot) == before
