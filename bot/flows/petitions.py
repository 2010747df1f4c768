"""Anliegen (SPEC §8): anyone may raise a petition with the PT privately; the bot posts it in
the PT chat as a new message (never a forward, which would reveal the sender), with the
sender's name or anonymously, and carries PT members' replies back — and the sender's
answers to those — without ever showing the PT who an anonymous sender is."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.charter.policy import TeamKind
from bot.charter.refusals import Refusal
from bot.flows.payloads import PetitionChoice, PetitionPress
from bot.flows.port import (
    Button,
    Delivery,
    FollowUpNotSent,
    Keyboard,
    PetitionAnswered,
    PetitionFollowedUp,
    PetitionNotPosted,
    PetitionPosted,
)
from bot.services import Services
from bot.texts import naming
from bot.texts.i18n import Html, t
from storage.people import Person
from storage.petitions import Petition
from storage.teams import Team

log = logging.getLogger(__name__)

# The post carries a header and a footer; the text stays well inside one message (4096).
MAX_TEXT = 3500


async def _pt(services: Services) -> Team:
    teams = await services.storage.teams.by_kind(TeamKind.PT.value)
    if not teams:
        raise Refusal("petition.no_pt")
    return teams[0]


def _checked(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise Refusal("error.too_long", limit=MAX_TEXT)
    return text


async def start(services: Services, sender: Person, text: str) -> None:
    """/petition [TEXT]: ask for the text, or straight for named or anonymous."""
    pt = await _pt(services)
    petition = await services.storage.petitions.start(
        sender.id, _checked(text) or None, services.clock.now()
    )
    await _ask_next(services, sender, petition, pt)


async def take_text(services: Services, sender: Person, text: str) -> bool:
    """A private message that may be the text a /petition waits for; False if none waits."""
    petition = await services.storage.petitions.awaiting_text(sender.id, services.clock.now())
    if petition is None:
        return False
    text = _checked(text)
    if not text or not await services.storage.petitions.set_text(petition.id, text):
        return True
    fresh = await services.storage.petitions.get(petition.id)
    assert fresh is not None
    await _ask_next(services, sender, fresh, await _pt(services))
    return True


async def _readers(services: Services, pt: Team, lang: str) -> str:
    """Who will read it: everyone in the PT's chat, which is the PT — said by their number,
    not their names (anyone may write to the bot, and the PT's roster is the PT's to show)."""
    count = await services.storage.rosters.size(pt.id)
    if count == 0:
        return t(lang, "petition.readers.none")
    if count == 1:
        return t(lang, "petition.readers.one")
    return t(lang, "petition.readers.many", count=count)


async def _ask_next(services: Services, sender: Person, petition: Petition, pt: Team) -> None:
    """The petition's next question: its text, or whether with the sender's name; each says
    who will read it."""
    assert sender.telegram_id is not None
    lang = services.language_for("private", sender.language_code)
    readers = Html(await _readers(services, pt, lang))
    cancel = Button(
        t(lang, "petition.button.cancel"), PetitionPress(petition.id, PetitionChoice.CANCEL)
    )
    if petition.text is None:
        await services.outbox.send(
            sender.telegram_id,
            t(lang, "petition.ask_text", readers=readers),
            keyboard=Keyboard.of([cancel]),
        )
        return
    keyboard = Keyboard.of(
        [
            Button(
                t(lang, "petition.button.named"),
                PetitionPress(petition.id, PetitionChoice.NAMED),
            ),
            Button(
                t(lang, "petition.button.anonymous"),
                PetitionPress(petition.id, PetitionChoice.ANONYMOUS),
            ),
        ],
        [cancel],
    )
    await services.outbox.send(
        sender.telegram_id,
        t(lang, "petition.ask_choice", text=petition.text, readers=readers),
        keyboard=keyboard,
    )


@dataclass(frozen=True, slots=True)
class Answer:
    """What a press comes to: the alert, and the text that replaces the question, if any."""

    alert: str
    question_text: str | None = None
    petition_id: int | None = None
    number: int | None = None  # the network's Anliegen #N, for the texts


async def choose(services: Services, sender: Person, press: PetitionPress) -> Answer:
    """The sender pressed Mit meinem Namen, Anonym or Abbrechen."""
    petition = await services.storage.petitions.get(press.petition_id)
    if petition is None or petition.sender_id != sender.id:
        return Answer("petition.stale")
    if press.choice is PetitionChoice.CANCEL:
        if await services.storage.petitions.cancel(petition.id, sender.id):
            return Answer("petition.cancelled", "petition.cancelled", petition.id, petition.number)
        return Answer("petition.already_sent" if petition.status == "posted" else "petition.stale")
    if petition.status in ("posting", "posted"):
        return Answer("petition.already_sent")
    if petition.status != "awaiting_choice":
        return Answer("petition.stale")
    try:
        pt = await _pt(services)
    except Refusal as refused:
        return Answer(refused.key)
    anonymous = press.choice is PetitionChoice.ANONYMOUS
    # One atomic claim: a second press (or a double tap) posts nothing.
    if not await services.storage.petitions.claim(petition.id, sender.id, anonymous, pt.id):
        return Answer("petition.already_sent")
    # The post goes out after this unit's commit; if Telegram refuses it, the claim is undone
    # and the sender told and asked again (`not_posted`).
    await _post(services, pt, petition, sender, anonymous)
    log.info("event=petition_posted petition=%s", petition.id)
    key = "petition.sent.anonymous" if anonymous else "petition.sent.named"
    return Answer("petition.posted_toast", key, petition.id, petition.number)


async def post_claimed(services: Services, petition_id: int) -> None:
    """A petition whose sender chose but whose post never went out (the one-time catch-up of
    a database from before the outbox, bot.flows.upgrade); a named one whose sender was
    forgotten meanwhile is not posted."""
    petition = await services.storage.petitions.get(petition_id)
    if petition is None or petition.status != "posting" or petition.anonymous is None:
        return
    sender = await services.storage.people.by_id(petition.sender_id or 0)
    pt = await services.storage.teams.by_id(petition.team_id or 0)
    if pt is None or (sender is None and not petition.anonymous):
        return
    await _post(services, pt, petition, sender, petition.anonymous)


async def _post(
    services: Services, pt: Team, petition: Petition, sender: Person | None, anonymous: bool
) -> Delivery:
    """A new message in the PT chat, written by the bot: nothing in it points at an
    anonymous sender."""
    lang = services.default_language
    named = not anonymous and sender is not None
    if not named:
        text = t(lang, "petition.post.anonymous", id=petition.number, text=petition.text or "")
    else:
        assert sender is not None
        text = t(
            lang,
            "petition.post.named",
            id=petition.number,
            name=naming.mention(sender, with_username=True),
            text=petition.text or "",
        )
    # If the sender is forgotten while it waits, it is not sent: a petition not yet posted
    # is theirs alone (and ends with their data, storage.personal_data).
    return await services.outbox.send(
        pt.chat_id,
        text,
        on_posted=PetitionPosted(petition.id),
        on_failed=PetitionNotPosted(petition.id),
        about=[sender.id] if named and sender is not None else (),
        subject=petition.sender_id,
    )


@dataclass(frozen=True, slots=True)
class Reply:
    """A PT member's reply to a petition's post: the text key that tells them what became of
    it (in the PT chat, so nothing in it may name an anonymous sender)."""

    key: str
    number: int  # the network's Anliegen #N
    params: dict[str, object] = field(default_factory=dict)


async def reply_from_team(
    services: Services, chat_id: int, replied_to: int, replier: Person, text: str, answer_id: int
) -> Reply | None:
    """A reply in a group (the message `answer_id`) to one of a petition's posts; None if it
    is no such reply."""
    petition = await services.storage.petitions.by_team_message(chat_id, replied_to)
    if petition is None:
        return None
    team = await services.storage.teams.by_chat(chat_id)
    if team is None or not await services.storage.rosters.is_member(team.id, replier.id):
        return Reply("petition.reply.not_member", petition.number)
    sender = await services.storage.people.by_id(petition.sender_id) if petition.sender_id else None
    if sender is None or sender.telegram_id is None:
        return Reply("petition.reply.forgotten", petition.number)
    if len(text) > MAX_TEXT:
        return Reply("error.too_long", petition.number, {"limit": MAX_TEXT})
    if not sender.started_bot:
        # They blocked the bot (Telegram told it so): nothing would reach them.
        log.info("event=petition_answer_failed petition=%s", petition.id)
        return Reply("petition.reply.not_delivered", petition.number)
    lang = services.language_for("private", sender.language_code)
    await services.outbox.send(
        sender.telegram_id,
        t(lang, "petition.answer", id=petition.number, name=naming.name(replier), text=text),
        on_posted=PetitionAnswered(petition.id, replier.id, team.id, answer_id),
        about=[replier.id],
    )
    log.info("event=petition_answered petition=%s", petition.id)
    return Reply("petition.reply.delivered", petition.number)


async def follow_up(services: Services, sender: Person, replied_to: int, text: str) -> str | None:
    """The sender replied privately to an answer from the PT: it goes to the PT chat as a
    reply to the petition's post. None if their message answers no petition."""
    petition = await services.storage.petitions.by_sender_message(sender.id, replied_to)
    if petition is None:
        return None
    if len(text.strip()) > MAX_TEXT:
        return "error.too_long"
    post = await services.storage.petitions.first_team_message(petition.id)
    team = await services.storage.teams.by_id(petition.team_id) if petition.team_id else None
    if post is None or team is None:
        return "petition.not_sent"
    lang = services.default_language
    if petition.anonymous:
        body = t(lang, "petition.followup.anonymous", id=petition.number, text=text.strip())
    else:
        body = t(
            lang,
            "petition.followup.named",
            id=petition.number,
            name=naming.mention(sender, with_username=True),
            text=text.strip(),
        )

    # The post's chat may be an older id of the team's chat; the team knows the current one.
    reply_to = post[1] if post[0] == team.chat_id else None
    # Their own words: if they are forgotten while it waits, it is not sent.
    # If Telegram refuses it, the sender is told (`follow_up_not_sent`).
    await services.outbox.send(
        team.chat_id,
        body,
        reply_to=reply_to,
        on_posted=PetitionFollowedUp(petition.id),
        on_failed=FollowUpNotSent(petition.id, sender.id),
        about=[] if petition.anonymous else [sender.id],
        subject=sender.id,
    )
    return "petition.followup_sent"


async def not_posted(services: Services, petition_id: int, error: str) -> None:
    """Telegram refused the petition's post to the PT: the claim is undone, and the sender is
    told and asked again whether with their name (the question they answered was replaced)."""
    log.warning("event=petition_not_posted petition=%s error=%s", petition_id, error)
    petition = await services.storage.petitions.get(petition_id)
    if petition is None or petition.status != "posting":
        return
    await services.storage.petitions.unclaim(petition_id)
    sender = await services.storage.people.by_id(petition.sender_id or 0)
    if sender is None or sender.telegram_id is None:
        return
    lang = services.language_for("private", sender.language_code)
    await services.outbox.send(sender.telegram_id, t(lang, "petition.not_sent"))
    try:
        pt = await _pt(services)
    except Refusal:
        return
    await _ask_next(services, sender, petition, pt)


async def follow_up_not_sent(
    services: Services, petition_id: int, sender_id: int, error: str
) -> None:
    """Telegram refused a follow-up to the PT: its sender is told."""
    log.warning("event=petition_followup_not_sent petition=%s error=%s", petition_id, error)
    sender = await services.storage.people.by_id(sender_id)
    if sender is None or sender.telegram_id is None:
        return
    lang = services.language_for("private", sender.language_code)
    await services.outbox.send(sender.telegram_id, t(lang, "petition.not_sent"))


async def remember_confirmation(services: Services, petition_id: int, message_id: int) -> None:
    """The sender's confirmation can be replied to as well, like an answer from the PT."""
    await services.storage.petitions.sender_message(petition_id, message_id, services.clock.now())
