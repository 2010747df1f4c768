"""End-to-end harness: the real Application, a real SQLite file, the local Bot API model.

A test says what people do (`await h.say(ST, ANNA, "/members")`) and reads what the bot
sent back; `settle()` waits until every injected update has been handled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.config import Config, load_config
from bot.local import LocalBot
from bot.texts.i18n import t
from localapi.model import BotApiModel
from localapi.records import MessageRec

TOKEN = "123456789:TEST-wiq-local"
BOT_USERNAME = "wiq_test_bot"

# People
ADMIN = 1  # network admin
ANNA = 10
BERT = 11
CARL = 12  # no username
DORA = 13  # speaks English
EVE = 14  # in no team
# Chats
PT = -1001000000001
ST = -1001000000002
LT = -1001000000003
KT = -1001000000004
PLAIN = -5005  # a basic group, not a supergroup
UT = -1001000000005
PUBLIC = -1001000000099  # a chat for the public digest, bound to no team
NEWBIE = 77  # never seen by the bot
OUTSIDER = 88


def config_text(db_path: Path, language: str = "de", extra: str = "") -> str:
    return f"""
[telegram]
token = "{TOKEN}"
base_url = "http://127.0.0.1:9/bot"
poll_timeout = 1
[network]
name = "WiQ Test"
admins = [{ADMIN}]
language = "{language}"
[storage]
path = "{db_path}"
{extra}
"""


def make_config(tmp_path: Path, language: str = "de", extra: str = "") -> Config:
    path = tmp_path / "config.toml"
    path.write_text(config_text(tmp_path / "wiq.sqlite", language, extra), encoding="utf-8")
    return load_config(path, env={})


def make_model(clock: Any = None) -> BotApiModel:
    kwargs = {"clock": clock} if clock is not None else {}
    model = BotApiModel(token=TOKEN, bot_username=BOT_USERNAME, **kwargs)
    model.add_user(ADMIN, "Ada", username="ada_admin")
    model.add_user(ANNA, "Anna", username="anna")
    model.add_user(BERT, "Bert", username="bert")
    model.add_user(CARL, "Carl")
    model.add_user(DORA, "Dora", username="dora", language_code="en")
    model.add_user(EVE, "Eve", username="eve")
    everyone = [ANNA, BERT, CARL, DORA, EVE]
    model.add_group(PT, "PT", members=everyone, admins=[ADMIN], bot_status="administrator")
    model.add_group(ST, "ST", members=everyone, admins=[ADMIN], bot_status="administrator")
    model.add_group(KT, "KT", members=everyone, admins=[ADMIN], bot_status="administrator")
    model.add_group(LT, "LT", members=[BERT, CARL, EVE], admins=[ANNA], bot_status="administrator")
    model.add_group(PUBLIC, "Öffentlich", members=[EVE], admins=[ADMIN], bot_status="administrator")
    model.add_group(
        PLAIN, "Plain", type="group", members=everyone, admins=[ADMIN], bot_status="administrator"
    )
    return model


class Harness(LocalBot):
    """The bot on the local Bot API, with what the tests say and read."""

    async def flush_edits(self) -> None:
        """Let the outbox's spaced-out card edits go out (time moves on by one interval)."""
        if isinstance(self.clock, ManualClock):
            self.clock.advance(self.services.outbox.edit_interval)
            await self.services.outbox.flush_all()
            await self.settle()

    def last_id(self, chat_id: int) -> int:
        messages = self.model.messages(chat_id)
        return max((m.message_id for m in messages), default=0)

    async def say(self, chat_id: int, user_id: int, text: str, **kwargs: Any) -> MessageRec | None:
        """A person writes; returns the bot's first message in that chat afterwards, if any."""
        sent = self.model.send_message(chat_id, user_id, text, **kwargs)
        await self.settle()
        return self.reply_after(chat_id, sent["message_id"])

    def reply_after(self, chat_id: int, message_id: int) -> MessageRec | None:
        return next(
            (m for m in self.model.bot_messages(chat_id) if m.message_id > message_id), None
        )

    def bot_texts(self, chat_id: int) -> list[str]:
        return [m.text or "" for m in self.model.bot_messages(chat_id)]

    async def bind(self, chat_id: int, kind: str, name: str, by: int = ADMIN) -> MessageRec:
        reply = await self.say(chat_id, by, f"/setup {kind} {name}")
        assert reply is not None and "✅" in (reply.text or ""), reply
        return reply

    async def admit(self, chat_id: int, username: str, *rest: str) -> MessageRec:
        reply = await self.say(chat_id, ADMIN, " ".join(["/admit", f"@{username}", *rest]))
        assert reply is not None
        return reply


CARD_WORDS = {"de": ("Vorschlag", "Konsensrunde"), "en": ("Proposal", "consensus round")}


class DecisionSteps:
    """Mixin-free helpers for the decision tests, on top of a Harness."""

    def __init__(self, h: Harness, lang: str = "de") -> None:
        self.h = h
        self.lang = lang

    def card(self, chat_id: int, proposal_id: int, round_number: int = 1) -> MessageRec:
        proposal, round_ = CARD_WORDS[self.lang]
        header = f"{proposal} #{proposal_id}</b> · {round_} {round_number} "
        plain = f"{proposal} #{proposal_id} · {round_} {round_number} "
        for message in reversed(self.h.model.bot_messages(chat_id)):
            text = message.text or ""
            if plain in text or header in text:
                return message
        raise AssertionError(f"no card for #{proposal_id} round {round_number}")

    async def press(
        self, chat_id: int, proposal_id: int, user_id: int, choice: str, round_number: int = 1
    ) -> dict[str, Any]:
        card = self.card(chat_id, proposal_id, round_number)
        query = self.h.model.press_button(
            chat_id, card.message_id, user_id, button_text=str(t(self.lang, f"choice.{choice}"))
        )
        answer = await self.h.model.wait_callback_answer(query)
        await self.h.settle()
        await self.h.flush_edits()
        return answer

    async def press_closed(
        self, chat_id: int, proposal_id: int, user_id: int, round_number: int = 1
    ) -> dict[str, Any]:
        """Press a button of a card whose keyboard is gone (as a stale client still shows)."""
        card = self.card(chat_id, proposal_id, round_number)
        round_ = await self.h.services.storage.proposals.round_by_card(chat_id, card.message_id)
        assert round_ is not None
        query = self.h.model.press_button(
            chat_id, card.message_id, user_id, callback_data=f"1:{round_.id}:a", forge=True
        )
        answer = await self.h.model.wait_callback_answer(query)
        await self.h.settle()
        await self.h.flush_edits()
        return answer


TEAM_NAMES = {
    "de": ("Projektteam", "Steuerungsteam", "Unterstützungsteam"),
    "en": ("Project team", "Steering team", "Support team"),
}


async def start_net(tmp_path: Path, extra: str = "", language: str = "de") -> Harness:
    """A started network: PT with Anna and Bert, ST with Carl and Dora, a UT with nobody
    yet; Eve is in no team (the usual candidate). Deadlines may be as short as 1 s."""
    clock = ManualClock()
    config = make_config(
        tmp_path, language=language, extra='[policy]\nmin_deadline = "1s"\n' + extra
    )
    model = make_model(clock=clock.monotonic)
    model.group_limit_per_minute = None
    model.users[CARL].username = "carl_x"
    model.add_user(NEWBIE, "Nele", username="nele_neu")
    model.add_user(OUTSIDER, "Otto", username="otto")
    model.add_group(UT, "UT", members=[], admins=[ADMIN], bot_status="administrator")
    if language != "de":  # everyone speaks the network's language (Dora always English)
        for user in model.users.values():
            user.language_code = language
    h = Harness(model, config, clock=clock)
    await h.start()
    pt, st, ut = TEAM_NAMES[language]
    await h.bind(PT, "PT", pt)
    await h.bind(ST, "ST", st)
    await h.bind(UT, "UT", ut)
    for user in (ANNA, BERT, CARL, DORA, EVE):
        h.model.send_message(PT, user, "Hallo")
    await h.settle()
    for username in ("anna", "bert"):
        await h.admit(PT, username)
    for username in ("carl_x", "dora"):
        await h.admit(ST, username, "zivilgesellschaft")
    return h
