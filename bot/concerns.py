"""Anliegen (SPEC §8): anyone may raise a concern with the PT privately; the bot posts it in
the PT chat as a new message (never a forward, which would reveal the sender), with the
sender's name or anonymously, and carries PT members' replies back — and the sender's
answers to those — without ever showing the PT who an anonymous sender is."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.i18n import Html, t
from bot.outbox import Delivery
from bot.policy import TeamKind
from bot.render import mention
from bot.services import Services
from storage.concerns import Concern
from storage.people import Person
from storage.teams import Team

log = logging.getLogger(__name__)

# The post carries a header and a footer; the text stays well inside one message (4096).
MAX_TEXT = 3500


class Choice(StrEnum):
    NAMED = "n"
    ANONYMOUS = "a"
    CANCEL = "x"


@dataclass(frozen=True, slots=True)
class ConcernPress:
    concern_id: int
    choice: Choice


_PRESS = re.compile(r"^c1:([1-9]\d{0,11}):([nax])$")


def encode(concern_id: int, choice: Choice) -> str:
    return f"c1:{concern_id}:{choice.value}"


def decode(data: str | None) -> ConcernPress | None:
    """None for anything we did not make (forged, foreign or from an older version)."""
    match = _PRESS.match(data or "")
    if match is None:
        return None
    return ConcernPress(int(match.group(1)), Choice(match.group(2)))


class Refused(Exception):
    """A concern that cannot go ahead; `key` is the text that says why."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


async def _pt(wiq: Services) -> Team:
    teams = await wiq.storage.teams.by_kind(TeamKind.PT.value)
    if not teams:
        raise Refused("concern.no_pt")
    return teams[0]


def _checked(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise Refused("error.too_long", limit=MAX_TEXT)
    return text


async def start(wiq: Services, sender: Person, text: str) -> None:
    """/concern [TEXT]: ask for the text, or straight for named or anonymous."""
    await _pt(wiq)
    concern = await wiq.storage.concerns.start(sender.id, _checked(text) or None, wiq.clock.now())
    await _ask_next(wiq, sender, concern)


async def take_text(wiq: Services, sender: Person, text: str) -> bool:
    """A private message that may be the text a /concern waits for; False if none waits."""
    concern = await wiq.storage.concerns.awaiting_text(sender.id, wiq.clock.now())
    if concern is None:
        return False
    text = _checked(text)
    if not text or not await wiq.storage.concerns.set_text(concern.id, text):
        return True
    fresh = await wiq.storage.concerns.get(concern.id)
    assert fresh is not None
    await _ask_next(wiq, sender, fresh)
    return True


async def _ask_next(wiq: Services, sender: Person, concern: Concern) -> None:
    assert sender.telegram_id is not None
    lang = wiq.language_for("private", sender.language_code)
    cancel = InlineKeyboardButton(
        t(lang, "concern.button.cancel"), callback_data=encode(concern.id, Choice.CANCEL)
    )
    if concern.text is None:
        await wiq.outbox.send(
            sender.telegram_id,
            t(lang, "concern.ask_text"),
            reply_markup=InlineKeyboardMarkup([[cancel]]),
        )
        return
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "concern.button.named"),
                    callback_data=encode(concern.id, Choice.NAMED),
                ),
                InlineKeyboardButton(
                    t(lang, "concern.button.anonymous"),
                    callback_data=encode(concern.id, Choice.ANONYMOUS),
                ),
            ],
            [cancel],
        ]
    )
    await wiq.outbox.send(
        sender.telegram_id,
        t(lang, "concern.ask_choice", text=concern.text),
        reply_markup=keyboard,
    )


@dataclass(frozen=True, slots=True)
class Answer:
    """What a press comes to: the alert, and the text that replaces the question, if any."""

    alert: str
    question_text: str | None = None
    concern_id: int | None = None


async def choose(wiq: Services, sender: Person, press: ConcernPress) -> Answer:
    """The sender pressed Mit meinem Namen, Anonym or Abbrechen."""
    concern = await wiq.storage.concerns.get(press.concern_id)
    if concern is None or concern.sender_id != sender.id:
        return Answer("concern.stale")
    if press.choice is Choice.CANCEL:
        if await wiq.storage.concerns.cancel(concern.id, sender.id):
            return Answer("concern.cancelled", "concern.cancelled", concern.id)
        return Answer("concern.already_sent" if concern.status == "posted" else "concern.stale")
    if concern.status in ("posting", "posted"):
        return Answer("concern.already_sent")
    if concern.status != "awaiting_choice":
        return Answer("concern.stale")
    try:
        pt = await _pt(wiq)
    except Refused as refused:
        return Answer(refused.key)
    anonymous = press.choice is Choice.ANONYMOUS
    # One atomic claim: a second press (or a double tap) posts nothing.
    if not await wiq.storage.concerns.claim(concern.id, sender.id, anonymous, pt.id):
        return Answer("concern.already_sent")
    delivery = await _post(wiq, pt, concern, sender, anonymous)
    if delivery.status == "failed":
        await wiq.storage.concerns.unclaim(concern.id)
        log.warning("event=concern_not_posted concern=%s error=%s", concern.id, delivery.error)
        return Answer("concern.not_sent")
    log.info("event=concern_posted concern=%s", concern.id)
    key = "concern.sent.anonymous" if anonymous else "concern.sent.named"
    return Answer("concern.posted_toast", key, concern.id)


async def post_interrupted(wiq: Services) -> None:
    """At start: a concern whose sender chose, but whose post was still waiting in the outbox
    when the bot stopped, is posted now (the claim keeps it from going out twice while the
    bot runs)."""
    for concern in await wiq.storage.concerns.posting():
        sender = await wiq.storage.people.by_id(concern.sender_id or 0)
        pt = await wiq.storage.teams.by_id(concern.team_id or 0)
        if pt is None or concern.anonymous is None or (sender is None and not concern.anonymous):
            continue  # a named concern whose sender was forgotten meanwhile is not posted
        await _post(wiq, pt, concern, sender, concern.anonymous)
        log.info("event=concern_reposted concern=%s", concern.id)


def _sender_name(sender: Person) -> Html:
    name = sender.display_name
    if sender.username and f"@{sender.username}" != name:
        return Html(f"{mention(sender.telegram_id, name)} (@{sender.username})")
    return mention(sender.telegram_id, name)


async def _post(
    wiq: Services, pt: Team, concern: Concern, sender: Person | None, anonymous: bool
) -> Delivery:
    """A new message in the PT chat, written by the bot: nothing in it points at an
    anonymous sender."""
    lang = wiq.default_language
    if anonymous or sender is None:
        text = t(lang, "concern.post.anonymous", id=concern.id, text=concern.text or "")
    else:
        text = t(
            lang,
            "concern.post.named",
            id=concern.id,
            name=_sender_name(sender),
            text=concern.text or "",
        )

    async def remember(message: Message) -> None:
        await wiq.storage.concerns.posted(
            concern.id, message.chat_id, message.message_id, wiq.clock.now()
        )

    return await wiq.outbox.send(pt.chat_id, text, on_sent=remember)


@dataclass(frozen=True, slots=True)
class Reply:
    """A PT member's reply to a concern's post: the text key that tells them what became of
    it (in the PT chat, so nothing in it may name an anonymous sender)."""

    key: str
    concern_id: int
    params: dict[str, object] = field(default_factory=dict)


async def reply_from_team(
    wiq: Services, chat_id: int, replied_to: int, replier: Person, text: str
) -> Reply | None:
    """A reply in a group to one of a concern's posts; None if it is no such reply."""
    concern = await wiq.storage.concerns.by_team_message(chat_id, replied_to)
    if concern is None:
        return None
    team = await wiq.storage.teams.by_chat(chat_id)
    if team is None or not await wiq.storage.rosters.is_member(team.id, replier.id):
        return Reply("concern.reply.not_member", concern.id)
    sender = await wiq.storage.people.by_id(concern.sender_id) if concern.sender_id else None
    if sender is None or sender.telegram_id is None:
        return Reply("concern.reply.forgotten", concern.id)
    if len(text) > MAX_TEXT:
        return Reply("error.too_long", concern.id, {"limit": MAX_TEXT})
    lang = wiq.language_for("private", sender.language_code)
    delivery = await wiq.outbox.send(
        sender.telegram_id,
        t(lang, "concern.answer", id=concern.id, name=replier.display_name, text=text),
    )
    if delivery.status == "failed":
        log.info("event=concern_answer_failed concern=%s", concern.id)
        return Reply("concern.reply.not_delivered", concern.id)
    message = delivery.message
    if message is not None:
        await wiq.storage.concerns.answered(
            concern.id, replier.id, team.id, message.message_id, wiq.clock.now()
        )
    log.info("event=concern_answered concern=%s", concern.id)
    return Reply("concern.reply.delivered", concern.id)


async def follow_up(wiq: Services, sender: Person, replied_to: int, text: str) -> str | None:
    """The sender replied privately to an answer from the PT: it goes to the PT chat as a
    reply to the concern's post. None if their message answers no concern."""
    concern = await wiq.storage.concerns.by_sender_message(sender.id, replied_to)
    if concern is None:
        return None
    if len(text.strip()) > MAX_TEXT:
        return "error.too_long"
    post = await wiq.storage.concerns.first_team_message(concern.id)
    team = await wiq.storage.teams.by_id(concern.team_id) if concern.team_id else None
    if post is None or team is None:
        return "concern.not_sent"
    lang = wiq.default_language
    if concern.anonymous:
        body = t(lang, "concern.followup.anonymous", id=concern.id, text=text.strip())
    else:
        body = t(
            lang,
            "concern.followup.named",
            id=concern.id,
            name=_sender_name(sender),
            text=text.strip(),
        )

    async def remember(message: Message) -> None:
        await wiq.storage.concerns.followed_up(
            concern, message.chat_id, message.message_id, wiq.clock.now()
        )

    # The post's chat may be an older id of the team's chat; the team knows the current one.
    reply_to = post[1] if post[0] == team.chat_id else None
    delivery = await wiq.outbox.send(team.chat_id, body, reply_to=reply_to, on_sent=remember)
    if delivery.status == "failed":
        return "concern.not_sent"
    return "concern.followup_sent"


async def remember_confirmation(wiq: Services, concern_id: int, message_id: int) -> None:
    """The sender's confirmation can be replied to as well, like an answer from the PT."""
    await wiq.storage.concerns.sender_message(concern_id, message_id, wiq.clock.now())
