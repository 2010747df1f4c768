"""The flows against a recording port: what a flow has posted is typed values — a text, the
buttons under it with what pressing them means, a poll, a link — whatever sends it. The
flows run on a real database; nothing here speaks Telegram."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.app import CHARTER_TERMS
from bot.charter.outcomes import Response
from bot.clock import ManualClock
from bot.flows import nominations, petitions, posting
from bot.flows.decisions import Decisions
from bot.flows.payloads import OpenNomination, PetitionChoice, PetitionPress, Press, StartPayload
from bot.flows.port import (
    Deferred,
    Delivery,
    Edited,
    Keyboard,
    OnPosted,
    Poll,
    Posted,
    Priority,
    Reminder,
    RoundCard,
    RoundResult,
    Status,
)
from bot.flows.responses import PressResult
from bot.services import Services
from bot.texts.i18n import Html
from storage import Storage
from storage.people import Person
from storage.teams import Team
from tests.harness import make_config

PT_CHAT, ST_CHAT, UT_CHAT = -100_001, -100_002, -100_005


@dataclass
class Post:
    """One thing a flow had posted."""

    chat_id: int
    text: str
    keyboard: Keyboard | None = None
    reply_to: int | None = None
    priority: Priority = Priority.REPLY
    message_id: int = 0


@dataclass
class RecordingOutbox:
    """The port, keeping what a flow asks for. Everything is posted at once (message ids
    count up) and what it records is carried out; a card edit is kept, to be rendered when
    the test asks."""

    services: Services | None = None
    posts: list[Post] = field(default_factory=list)
    edits: dict[tuple[int, int], Edited | tuple[Html, Keyboard | None]] = field(
        default_factory=dict
    )
    polls: list[tuple[int, Poll]] = field(default_factory=list)
    stopped: list[tuple[int, int]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def _posted(
        self,
        chat_id: int,
        on_posted: OnPosted | None,
        poll: str | None = None,
        text: Html | None = None,
    ):
        where = Posted(chat_id, next(self._ids), poll, text)
        if on_posted is not None:
            assert self.services is not None
            # as the outbox keeps it: written down and read back
            await posting.record(self.services, posting.decode(posting.encode(on_posted)), where)
        return Delivery(Status.SENT, where)

    async def send(
        self,
        chat_id: int,
        text: Html,
        *,
        priority: Priority = Priority.REPLY,
        reply_to: int | None = None,
        keyboard: Keyboard | None = None,
        silent: bool = False,
        on_posted: OnPosted | None = None,
        on_failed: object = None,
        about: object = (),
        subject: object = None,
    ) -> Delivery:
        delivery = await self._posted(chat_id, on_posted, text=text)
        assert delivery.posted is not None
        self.posts.append(
            Post(chat_id, text, keyboard, reply_to, priority, delivery.posted.message_id)
        )
        return delivery

    async def edit(self, chat_id: int, message_id: int, text: Html, *, keyboard=None) -> Delivery:
        self.edits[(chat_id, message_id)] = (text, keyboard)
        return Delivery(Status.SENT)

    async def edit_later(self, chat_id: int, message_id: int, card: Edited) -> Delivery:
        self.edits[(chat_id, message_id)] = card  # the newest replaces a waiting one
        return Delivery(Status.QUEUED)

    async def send_poll(
        self, chat_id: int, poll: Poll, *, on_posted: OnPosted | None = None, about: object = ()
    ) -> Delivery:
        self.polls.append((chat_id, poll))
        return await self._posted(chat_id, on_posted, poll=f"poll-{len(self.polls)}")

    async def stop_poll(self, chat_id: int, message_id: int) -> Delivery:
        self.stopped.append((chat_id, message_id))
        return Delivery(Status.SENT)

    async def send_document(self, chat_id: int, data: bytes, filename: str, **_: object):
        return await self._posted(chat_id, None)

    async def send_later(
        self,
        chat_id: int,
        notice: Deferred,
        *,
        priority: Priority = Priority.NOTICE,
        on_posted: OnPosted | None = None,
    ) -> Delivery:
        assert self.services is not None
        rendered = await posting.render(self.services, notice)
        if rendered is None:
            return Delivery(Status.DROPPED)
        text, keyboard = rendered
        reply_to = notice.reply_to if isinstance(notice, Reminder) else None
        return await self.send(
            chat_id,
            text,
            priority=priority,
            reply_to=reply_to,
            keyboard=keyboard,
            on_posted=on_posted,
        )

    async def create_invite_link(
        self, chat_id: int, name: str, *, on_posted: OnPosted, subject: object = None
    ) -> Delivery:
        assert self.services is not None
        where = Posted(chat_id, 0, link=f"https://invite/{name}")
        await posting.record(self.services, posting.decode(posting.encode(on_posted)), where)
        return Delivery(Status.SENT, where)

    async def approve_join_request(
        self, chat_id: int, telegram_id: int, *, on_failed: object = None
    ) -> None:
        pass

    async def decline_join_request(
        self, chat_id: int, telegram_id: int, *, on_failed: object = None
    ) -> None:
        pass

    def start_link(self, payload: StartPayload) -> str:
        return f"https://start/{payload!r}"

    async def card(self, chat_id: int, message_id: int) -> tuple[Html, Keyboard | None]:
        """The card as its waiting edit would show it now."""
        edit = self.edits[(chat_id, message_id)]
        if isinstance(edit, RoundCard | RoundResult):
            assert self.services is not None
            rendered = await posting.render(self.services, edit)
            assert rendered is not None
            return rendered
        return edit


@dataclass
class Network:
    services: Services
    outbox: RecordingOutbox
    clock: ManualClock

    async def person(self, telegram_id: int, name: str, username: str | None = None) -> Person:
        person = await self.services.storage.people.seen(
            telegram_id, name, None, username, "de", self.clock.now()
        )
        await self.services.storage.people.mark_started(person.id)
        found = await self.services.storage.people.by_id(person.id)
        assert found is not None
        return found

    async def team(self, kind: str, chat_id: int, *members: Person) -> Team:
        team = await self.services.storage.teams.bind(
            kind, kind, chat_id, "supergroup", "explicit", None, self.clock.now()
        )
        for member in members:
            await self.services.storage.rosters.admit(team.id, member.id, "x", self.clock.now())
        return team


@pytest.fixture
async def net(tmp_path: Path) -> AsyncIterator[Network]:
    config = make_config(tmp_path)
    clock = ManualClock()
    storage = await Storage.open(config.database, config.network.name, clock.now(), CHARTER_TERMS)
    outbox = RecordingOutbox()
    services = Services(config=config, clock=clock, storage=storage, outbox=outbox)
    outbox.services = services

    async def in_chat(chat_id: int, telegram_id: int) -> bool:
        return True

    services.decisions = Decisions(services, in_chat)
    nominations.register(services)
    try:
        yield Network(services, outbox, clock)
    finally:
        await storage.close()


async def test_a_proposal_is_a_card_with_the_four_responses_under_it(net: Network) -> None:
    anna, bert = await net.person(10, "Anna"), await net.person(11, "Bert")
    st = await net.team("ST", ST_CHAT, anna, bert)
    await net.services.decisions.propose(st, anna.id, "Straßenfest\nIm September", None)
    [card] = net.outbox.posts
    assert card.chat_id == ST_CHAT and "Straßenfest" in card.text
    assert card.keyboard is not None
    round_ = await net.services.storage.rounds.current_round(1)
    assert round_ is not None and round_.card_message_id == card.message_id  # remembered
    assert [(b.label, b.payload) for b in card.keyboard.buttons] == [
        ("Zustimmung", Press(round_.id, Response.AGREE)),
        ("Bedenken", Press(round_.id, Response.CONCERN)),
        ("Enthaltung", Press(round_.id, Response.ABSTAIN)),
        ("Einwand", Press(round_.id, Response.OBJECT)),
    ]


async def test_a_press_shows_on_the_card_and_the_last_one_closes_it_a_grace_later(
    net: Network,
) -> None:
    anna, bert = await net.person(10, "Anna"), await net.person(11, "Bert")
    st = await net.team("ST", ST_CHAT, anna, bert)
    await net.services.decisions.propose(st, anna.id, "Budget", None)
    card = net.outbox.posts[0]
    round_ = await net.services.storage.rounds.current_round(1)
    assert round_ is not None
    responses = net.services.decisions.responses
    pressed = await responses.press(round_.id, ST_CHAT, 10, anna.id, Response.AGREE, 1)
    assert pressed.result is PressResult.RECORDED
    await responses.after_press(pressed)
    text, keyboard = await net.outbox.card(ST_CHAT, card.message_id)
    assert "Zustimmung (1): Anna" in text and keyboard is not None
    pressed = await responses.press(round_.id, ST_CHAT, 11, bert.id, Response.AGREE, 2)
    await responses.after_press(pressed)  # everyone responded: it closes a grace (3 s) later
    assert not any("Konsens" in post.text for post in net.outbox.posts[1:])
    net.clock.advance(3)
    await net.services.decisions.on_deadline(1)
    text, keyboard = await net.outbox.card(ST_CHAT, card.message_id)
    assert keyboard is None  # closed: nobody can respond any more
    assert any("Konsens" in post.text for post in net.outbox.posts[1:])


async def test_an_anliegen_asks_named_or_anonymous_or_cancel(net: Network) -> None:
    eve = await net.person(14, "Eve")
    await net.team("PT", PT_CHAT)
    await petitions.start(net.services, eve, "Mehr Bänke im Park")
    [question] = net.outbox.posts
    assert question.chat_id == 14 and question.keyboard is not None
    assert [[b.payload for b in row] for row in question.keyboard.rows] == [
        [PetitionPress(1, PetitionChoice.NAMED), PetitionPress(1, PetitionChoice.ANONYMOUS)],
        [PetitionPress(1, PetitionChoice.CANCEL)],
    ]


async def test_a_candidate_the_bot_has_not_met_is_reached_by_a_link(net: Network) -> None:
    anna = await net.person(10, "Anna")
    pt = await net.team("PT", PT_CHAT, anna)
    await net.team("ST", ST_CHAT, anna)
    await net.team("UT", UT_CHAT)
    nomination = await nominations.nominate(net.services, pt, anna, None, "newbie", "UT", "", None)
    link = net.outbox.start_link(OpenNomination(nomination.token))
    cards = [post for post in net.outbox.posts if post.keyboard is not None]
    assert {post.chat_id for post in cards} == {PT_CHAT, ST_CHAT}
    assert all(link in post.text for post in cards)
