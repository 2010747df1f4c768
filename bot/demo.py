"""`wiq-bot demo`: a steering team takes one decision, start to finish, with no token and no
network, and the chats are printed as a transcript. Its second part, the week after
(`bot.demo_members`), plays what every member can do besides: /offen, the Wochenrückblick, an
Anliegen, /meinedaten and /vergessen.

Everything runs in this process: the real Application (`bot.app.build_application`) talks to
the local Bot API model (`localapi`) instead of Telegram, the database is a real SQLite file
in a temporary directory, and a manual clock lets days pass in an instant. The scenario below
reads like what the people do; the helpers (`say`, `press`, `vote`, `pass_time`) do the rest.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from bot import demo_members
from bot.clock import ManualClock
from bot.config import Config, load_config
from bot.local import LocalBot
from bot.services import Services
from bot.texts import dates
from bot.texts.i18n import LANGUAGES, t
from localapi.model import BotApiModel
from localapi.records import MessageRec
from localapi.transcript import render

TOKEN = "123456789:DEMO"
BOT_USERNAME = "wiq_demo_bot"

log = logging.getLogger(__name__)

# The people (Telegram user ids) and the steering team's chat.
ADA = 1  # network admin
ANNA = 10
BERT = 11
CARL = 12
DORA = 13
EMIL = 14
MEMBERS = (ANNA, BERT, CARL, DORA, EMIL)
NAMES = {ADA: "Ada", ANNA: "Anna", BERT: "Bert", CARL: "Carl", DORA: "Dora", EMIL: "Emil"}
ST = -1001000000002

# What the people write, in the network's language. The seat words of /admit are the
# bot's own keywords (politik, verwaltung, zivilgesellschaft, ut) in every language.
SCRIPT: dict[str, dict[str, Any]] = {
    "de": {
        "setup": "/setup ST Steuerungsteam",
        "admit": "/aufnehmen",
        "hello": "Hallo zusammen!",
        "seats": {
            ANNA: "politik Stadtbezirksbeirat Alt-West",
            BERT: "verwaltung Amt für Stadtgrün und Gewässer",
            CARL: "zivilgesellschaft",
            DORA: "zivilgesellschaft",
            EMIL: "ut Projektteam",
        },
        "propose": (
            "/vorschlag 3 Tage Straßenfest auf der Merseburger Straße am 12. September\n"
            "Wir sperren am Samstag, 12. September, die Merseburger Straße zwischen Lindenauer "
            "Markt und Hahnemannstraße von 10 bis 20 Uhr. Das ST beantragt die Sperrung beim "
            "Ordnungsamt; aus dem Quartiersfonds nehmen wir 300 € für Bänke, Strom und eine "
            "Toilette."
        ),
        "bert_reason": (
            "Samstags ist Wochenmarkt am Lindenauer Markt – die Händler brauchen die Zufahrt "
            "bis 14 Uhr, sonst fällt der Markt aus."
        ),
        "carl_reason": "Bitte die Anwohner rechtzeitig informieren, auch die ohne Internet.",
        "revise": (
            "/ueberarbeiten 1 Straßenfest auf der Merseburger Straße am 13. September\n"
            "Wir sperren am Sonntag, 13. September, die Merseburger Straße zwischen Lindenauer "
            "Markt und Hahnemannstraße von 12 bis 20 Uhr; der Wochenmarkt am Samstag bleibt "
            "unberührt. Das ST beantragt die Sperrung beim Ordnungsamt; aus dem Quartiersfonds "
            "nehmen wir 300 € für Bänke, Strom und eine Toilette. Aushänge in allen Hausfluren "
            "zwei Wochen vorher."
        ),
        "revised": "13. September",
        "bert_reason_2": (
            "Auch sonntags: Die Umleitung der Buslinie 60 führt genau dort entlang. Ohne "
            "Absprache mit den Verkehrsbetrieben bleibt mein Einwand."
        ),
    },
    "en": {
        "setup": "/setup ST Steering team",
        "admit": "/admit",
        "hello": "Hello everyone!",
        "seats": {
            ANNA: "politik District council Alt-West",
            BERT: "verwaltung Parks and waterways office",
            CARL: "zivilgesellschaft",
            DORA: "zivilgesellschaft",
            EMIL: "ut Project team",
        },
        "propose": (
            "/propose 3 days Street party on Merseburger Strasse on 12 September\n"
            "On Saturday, 12 September, we close Merseburger Strasse between Lindenauer Markt "
            "and Hahnemannstrasse from 10 am to 8 pm. The ST applies to the public order office "
            "for the closure; we take €300 from the neighbourhood fund for benches, power and a "
            "toilet."
        ),
        "bert_reason": (
            "Saturday is market day at Lindenauer Markt – the traders need the access road "
            "until 2 pm, or there is no market."
        ),
        "carl_reason": "Please tell the residents in good time, including those without internet.",
        "revise": (
            "/revise 1 Street party on Merseburger Strasse on 13 September\n"
            "On Sunday, 13 September, we close Merseburger Strasse between Lindenauer Markt and "
            "Hahnemannstrasse from 12 noon to 8 pm; Saturday's market is not affected. The ST "
            "applies to the public order office for the closure; we take €300 from the "
            "neighbourhood fund for benches, power and a toilet. Notices in every stairwell two "
            "weeks ahead."
        ),
        "revised": "13 September",
        "bert_reason_2": (
            "Sundays too: the bus 60 diversion runs right through there. Without an agreement "
            "with the transport company my objection stands."
        ),
    },
}

# What happens, as headings in the transcript.
SCENES: dict[str, dict[str, str]] = {
    "de": {
        "setup": "Ada (Netzwerk-Admin) richtet den Chat des Steuerungsteams ein",
        "propose": "Anna schlägt ein Straßenfest vor",
        "bert": "Bert erhebt einen Einwand und begründet ihn privat",
        "carl": "Carl hat Bedenken und antwortet auf die Karte",
        "dora": "Dora stimmt zu; Emil meldet sich nicht",
        "close1": "Die Frist der ersten Runde ist abgelaufen",
        "revise": "Anna überarbeitet den Vorschlag: zweite Runde",
        "bert2": "Bert bleibt bei seinem Einwand",
        "others2": "Anna und Carl stimmen zu",
        "emil2": "Emil stimmt zu; Dora ist verreist",
        "close2": "Die zweite Runde endet: die Mehrheitsabstimmung beginnt von selbst",
        "vote": "Anna und Bert stimmen ab",
        "vote2": "Carl und Dora stimmen ab; Emil nicht",
        "result": "Die Frist der Abstimmung ist abgelaufen",
    },
    "en": {
        "setup": "Ada (network admin) sets up the steering team's chat",
        "propose": "Anna proposes a street party",
        "bert": "Bert objects and gives his reason privately",
        "carl": "Carl has concerns and replies to the card",
        "dora": "Dora agrees; Emil does not respond",
        "close1": "The first round's deadline has passed",
        "revise": "Anna revises the proposal: round two",
        "bert2": "Bert keeps his objection",
        "others2": "Anna and Carl agree",
        "emil2": "Emil agrees; Dora is away",
        "close2": "Round two ends: the majority vote starts by itself",
        "vote": "Anna and Bert vote",
        "vote2": "Carl and Dora vote; Emil does not",
        "result": "The vote's deadline has passed",
    },
}


class DemoFailure(Exception):
    """The bot did not do what the scenario expects at this step."""


def config_text(db_path: Path, language: str) -> str:
    return f"""
[telegram]
token = "{TOKEN}"
base_url = "http://127.0.0.1:9/bot"
poll_timeout = 1
[network]
name = "Wir im Quartier (Demo)"
admins = [{ADA}]
timezone = "Europe/Berlin"
language = "{language}"
[storage]
path = "{db_path}"
"""


def make_config(directory: Path, language: str) -> Config:
    path = directory / "config.toml"
    path.write_text(config_text(directory / "wiq-demo.sqlite", language), encoding="utf-8")
    return load_config(path, env={})


def make_model(clock: ManualClock, language: str) -> BotApiModel:
    model = BotApiModel(
        token=TOKEN,
        bot_username=BOT_USERNAME,
        clock=clock.monotonic,
        wall_clock=lambda: clock.now().timestamp(),
    )
    for user_id, name in NAMES.items():
        username = "ada_admin" if user_id == ADA else name.lower()
        model.add_user(user_id, name, username=username, language_code=language)
    model.add_group(
        ST,
        "ST Steuerungsteam",
        members=MEMBERS,
        admins=[ADA],
        bot_status="administrator",
        label="ST",
    )
    return model


def plain(text: str) -> str:
    """What a reader sees of a catalogue text: no tags, no entities."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@dataclass
class Demo:
    language: str
    directory: Path
    clock: ManualClock = field(default_factory=ManualClock)
    scenes: list[tuple[int, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.config = make_config(self.directory, self.language)
        self.model = make_model(self.clock, self.language)
        self.script = SCRIPT[self.language]
        self.start_time = self.clock.now()
        self.bot = LocalBot(self.model, self.config, self.clock)

    @property
    def services(self) -> Services:
        return self.bot.services

    # -- the bot's life ------------------------------------------------------------------

    async def start(self) -> None:
        await self.bot.start()

    async def stop(self) -> None:
        await self.bot.stop()

    async def settle(self, limit: float = 5.0) -> None:
        """Until the bot has fetched and finished handling every update injected so far."""
        try:
            await self.bot.settle(limit)
        except TimeoutError:
            raise DemoFailure("the bot did not finish handling its updates") from None

    # -- what people do (each action takes a minute: nobody acts in the same second) -----

    async def scene(self, key: str, when: str) -> None:
        """The next part of the story, from `when` ("DAY HH:MM", see pass_time): its heading
        goes into the transcript, then the time passes (and whatever falls due happens)."""
        shown = dates.moment(self.moment(when), self.language, self.config.network.timezone)
        title = (SCENES[self.language] | demo_members.SCENES[self.language])[key]
        self.scenes.append((len(self.model.log), f"{shown} · {title}"))
        await self.pass_time(until=when)

    async def say(
        self, chat_id: int, user_id: int, text: str, reply_to: int | None = None
    ) -> MessageRec | None:
        """A person writes (a private chat's id is the person's); returns the bot's answer."""
        await self.pass_time(minutes=1)
        sent = self.model.send_message(chat_id, user_id, text, reply_to=reply_to)
        await self.settle()
        return next(
            (m for m in self.model.bot_messages(chat_id) if m.message_id > sent["message_id"]),
            None,
        )

    async def press(self, user_id: int, choice: str) -> dict[str, Any]:
        """A member taps Zustimmung/Bedenken/Enthaltung/Einwand on the open card."""
        await self.pass_time(minutes=1)
        label = t(self.language, f"choice.{choice}")
        card = self.card()
        query = self.model.press_button(ST, card.message_id, user_id, button_text=label)
        answer = await self.model.wait_callback_answer(query)
        await self.settle()
        return answer

    async def tap(self, chat_id: int, user_id: int, label: str) -> dict[str, Any]:
        """A person taps the button `label` on the bot's newest message that has it."""
        await self.pass_time(minutes=1)
        for message in reversed(self.model.bot_messages(chat_id)):
            if not message.deleted and label in message.button_texts:
                query = self.model.press_button(
                    chat_id, message.message_id, user_id, button_text=label
                )
                answer = await self.model.wait_callback_answer(query)
                await self.settle()
                return answer
        raise DemoFailure(f"no message in chat {chat_id} has a button {label!r}")

    async def vote(self, user_id: int, ballot: str) -> None:
        """A member answers the majority vote's poll: yes, no or abstain."""
        await self.pass_time(minutes=1)
        poll = self.poll()
        option = t(self.language, f"ballot.{ballot}")
        index = [o.text for o in poll.options].index(option)
        self.model.answer_poll(poll.id, user_id, [index])
        await self.settle()

    async def pass_time(
        self, days: float = 0, hours: float = 0, minutes: float = 0, *, until: str | None = None
    ) -> None:
        """Time goes by (a while, or `until="3 09:31"`: day 3 of the demo, local time): due
        deadlines are handled and the outbox spends its new budget."""
        seconds = timedelta(days=days, hours=hours, minutes=minutes).total_seconds()
        if until is not None:
            seconds += (self.moment(until) - self.clock.now()).total_seconds()
        if seconds < 0:
            raise ValueError(f"time does not run backwards ({until})")
        self.clock.advance(seconds)
        await self.services.decisions.run_due()
        await self.bot.outbox.flush_all()
        await self.settle()

    async def due_work(self) -> None:
        """Everything that is due now, as the bot's one timer does it when it fires
        (deadlines, reminders, the digest, …); `pass_time` does the deadlines only, so that
        the story's reminders and weekly digests stay out of the transcript until the
        Wochenrückblick's own scene."""
        await self.bot.due_timer.run()
        await self.bot.outbox.flush_all()
        await self.settle()

    def moment(self, when: str) -> datetime:
        """ "DAY HH:MM" -> that moment; day 0 is the demo's first day, in the network's zone."""
        day, _, hh_mm = when.partition(" ")
        hour, minute = (int(part) for part in hh_mm.split(":"))
        zone = self.config.network.timezone
        first = self.start_time.astimezone(zone)
        local = first.replace(hour=hour, minute=minute, second=0) + timedelta(days=int(day))
        return local.astimezone(UTC)

    # -- what the bot shows --------------------------------------------------------------

    def card(self) -> MessageRec:
        """The newest message in the team chat that still has response buttons."""
        for message in reversed(self.model.bot_messages(ST)):
            if not message.deleted and message.button_texts:
                return message
        raise DemoFailure("there is no open proposal card with buttons in the ST chat")

    def card_of_round(self, number: int) -> MessageRec:
        """The card of the proposal's round `number`, as it is now (edits included)."""
        header = plain(t(self.language, "card.header", id=1, round=number, rounds=2))
        for message in reversed(self.model.bot_messages(ST)):
            if header in plain(message.text or ""):
                return message
        raise DemoFailure(f"there is no card of round {number} in the ST chat")

    def poll(self) -> Any:
        polls = [m.poll for m in self.model.bot_messages(ST) if m.poll is not None]
        if not polls:
            raise DemoFailure("the bot has posted no poll in the ST chat")
        return self.model.polls[polls[-1].id]

    def bot_texts(self, chat_id: int, since: int = 0) -> list[str]:
        return [
            " ".join(filter(None, (m.text, m.poll.question if m.poll else None)))
            for m in self.model.bot_messages(chat_id)
            if m.message_id > since
        ]

    def expect(self, condition: object, what: str) -> None:
        if not condition:
            raise DemoFailure(what)

    def expect_text(self, chat_id: int, needle: str, what: str, since: int = 0) -> None:
        texts = self.bot_texts(chat_id, since)
        if not any(needle in text for text in texts):
            shown = texts[-1] if texts else "(nothing)"
            raise DemoFailure(
                f"{what}: expected a bot message containing {needle!r}; last: {shown!r}"
            )

    def last_id(self, chat_id: int) -> int:
        return max((m.message_id for m in self.model.messages(chat_id)), default=0)

    def transcript(self) -> str:
        labels = {chat.id: chat.label for chat in self.model.chats.values()}
        bounds = [*self.scenes, (len(self.model.log), "")]
        parts = []
        if bounds[0][0] > 0:
            parts.append(render(self.model.log[: bounds[0][0]], labels, ids=True))
        for (start, title), (end, _) in pairwise(bounds):
            parts.append(f"\n── {title} ──")
            body = render(self.model.log[start:end], labels, ids=True)
            if body:
                parts.append(body)
        return "\n".join(parts).strip("\n")


async def scenario(demo: Demo) -> None:
    """What the steering team does over nine days (day 0 is a Monday)."""
    lang, script = demo.language, demo.script
    scene, say, press, vote, pass_time = demo.scene, demo.say, demo.press, demo.vote, demo.pass_time

    await scene("setup", "0 09:00")
    reply = await say(ST, ADA, script["setup"])
    demo.expect(reply is not None and "✅" in (reply.text or ""), "/setup did not bind the chat")
    for member in MEMBERS:  # the bot learns who people are when they write
        await say(ST, member, script["hello"])
    await say(BERT, BERT, "/start")  # Bert also opens the bot privately
    for member in MEMBERS:
        username = NAMES[member].lower()
        reply = await say(ST, ADA, f"{script['admit']} @{username} {script['seats'][member]}")
        demo.expect(
            reply is not None and "✅" in (reply.text or ""),
            f"{script['admit']} @{username} was not accepted: "
            + (reply.text or "" if reply else "(no reply)"),
        )

    await scene("propose", "0 09:30")  # a three-day round: until Thursday 09:31
    await say(ST, ANNA, script["propose"])
    demo.expect("Merseburger" in (demo.card().text or ""), "no card shows the proposal")
    await press(ANNA, "agree")

    await scene("bert", "0 12:15")
    before = demo.last_id(BERT)
    await press(BERT, "object")
    demo.expect_text(BERT, "#1", "Bert was not asked privately for his reason", since=before)
    await pass_time(minutes=4)
    await say(BERT, BERT, script["bert_reason"])

    await scene("carl", "0 18:40")
    await press(CARL, "concern")
    await pass_time(minutes=2)
    await say(ST, CARL, script["carl_reason"], reply_to=demo.card().message_id)

    await scene("dora", "1 07:45")
    await press(DORA, "agree")

    await scene("close1", "3 09:35")
    demo.expect_text(ST, plain(t(lang, "round_outcome.objections")), "round 1 did not fail")
    demo.expect_text(ST, script["bert_reason"], "round 1's result does not give Bert's reason")

    await scene("revise", "3 11:00")  # round two: until Sunday 11:01
    await say(ST, ANNA, script["revise"])
    card = demo.card().text or ""
    round_2 = plain(t(lang, "card.header", id=1, round=2, rounds=2))
    demo.expect(round_2 in card, "no card for round 2 after the revision")
    demo.expect(script["revised"] in card, "the round 2 card does not show the revised text")

    await scene("bert2", "3 13:00")
    await press(BERT, "object")
    await pass_time(minutes=9)
    await say(BERT, BERT, script["bert_reason_2"])

    await scene("others2", "3 17:30")
    await press(ANNA, "agree")
    await press(CARL, "agree")

    await scene("emil2", "4 08:00")
    await press(EMIL, "agree")

    await scene("close2", "6 11:05")  # the vote runs three days: until Wednesday 11:05
    majority = await demo.services.storage.votes.vote_of(1)
    demo.expect(majority is not None, "the majority vote did not start")
    assert majority is not None
    until = demo.services.local_datetime(majority.deadline, lang)
    question = plain(t(lang, "poll.question", id=1, deadline=until))
    demo.expect_text(ST, question, "the vote's poll does not say until when it runs")

    await scene("vote", "6 12:00")
    await vote(ANNA, "yes")
    await vote(BERT, "no")

    await scene("vote2", "7 19:00")
    await vote(CARL, "yes")
    await vote(DORA, "yes")

    await scene("result", "9 11:10")
    demo.expect(demo.poll().is_closed, "the poll was not closed at its deadline")
    demo.expect_text(ST, plain(t(lang, "outcome.accepted")), "the vote was not accepted")
    decided = await demo.services.storage.proposals.get(1)
    demo.expect(
        decided is not None and decided.outcome == "accepted",
        f"the chat says accepted, the record says {decided.outcome if decided else None!r}",
    )
    final = (demo.card_of_round(2).text or "").splitlines()[-1]
    demo.expect(
        plain(t(lang, "outcome.accepted")) in final,
        f"the card does not show the Beschluss, its last line is {final!r}",
    )


async def run(language: str) -> tuple[str, str | None]:
    """Play the scenario: the transcript, and what went wrong if the bot misbehaved."""
    with tempfile.TemporaryDirectory(prefix="wiq-demo-") as directory:
        demo = Demo(language, Path(directory))
        failure: str | None = None
        try:
            await demo.start()
            await scenario(demo)
            await demo_members.scenario(demo)  # the week after: what every member can do
        except DemoFailure as exc:
            failure = str(exc)
        except Exception as exc:  # the transcript so far is the best help in finding out why
            log.exception("the demo broke off")
            failure = f"{type(exc).__name__}: {exc}"
        try:
            await demo.stop()
        except Exception as exc:
            log.exception("the bot did not stop cleanly")
            failure = failure or f"stopping the bot: {type(exc).__name__}: {exc}"
        return demo.transcript(), failure


def main(language: str = "de") -> int:
    """`wiq-bot demo [--language en]`: the transcript on stdout; exit 1 if a step failed."""
    if language not in LANGUAGES:
        print(f"wiq-bot demo: unknown language {language!r}", file=sys.stderr)
        return 2
    # The bot's own logs go to stderr, and only warnings: stdout is the transcript.
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )
    transcript, failure = asyncio.run(run(language))
    print(transcript)
    if failure is not None:
        print(f"wiq-bot demo: FAILED: {failure}", file=sys.stderr)
        return 1
    return 0
