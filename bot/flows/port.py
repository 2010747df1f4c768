"""The one port through which a flow says what to post: typed values in (HTML text, keyboards
of typed payloads, polls), typed values out (where it was posted, what became of it). No
Telegram type crosses it, and a flow never learns how or when something is sent: the outbox
behind it (bot.telegram_side.outbox today, a transactional outbox later) owns each chat's
budget, the order by priority, coalescing, retries and splitting long texts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Protocol

from bot.flows.payloads import CallbackPayload, StartPayload
from bot.texts.i18n import Html


class Priority(IntEnum):
    """Lower goes first when a chat's budget is short (SPEC §9)."""

    REPLY = 0  # command replies, new cards, results, polls
    NOTICE = 1  # reminders and digests
    EDIT = 2  # card edits: only the newest state of a card matters


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a message; pressing it brings `payload` back to the bot."""

    label: str
    payload: CallbackPayload


@dataclass(frozen=True, slots=True)
class Keyboard:
    """Buttons under a message, row by row."""

    rows: tuple[tuple[Button, ...], ...]

    @classmethod
    def of(cls, *rows: Sequence[Button]) -> Keyboard:
        return cls(tuple(tuple(row) for row in rows))

    @property
    def buttons(self) -> list[Button]:
        return [button for row in self.rows for button in row]


@dataclass(frozen=True, slots=True)
class Posted:
    """Where something was posted: what an on-posted callback is given."""

    chat_id: int
    message_id: int
    poll_id: str | None = None  # a poll's own id, which its answers name


OnPosted = Callable[[Posted], Awaitable[None]]


class Status(StrEnum):
    QUEUED = "queued"  # waits for the chat's budget (or a retry); sent later
    SENT = "sent"
    FAILED = "failed"  # refused for good: `error` says why
    DROPPED = "dropped"  # built when its turn came, and no longer needed then


@dataclass
class Delivery:
    """What became of one item so far. A queued item's delivery is updated when it goes out."""

    status: Status = Status.QUEUED
    posted: Posted | None = None
    error: str | None = None

    @property
    def sent(self) -> bool:
        return self.status == Status.SENT


@dataclass(frozen=True, slots=True)
class Poll:
    """A poll of the bot's: never anonymous (a ballot counts for a person), and its results
    hidden until it closes."""

    question: str
    options: tuple[str, ...]
    multiple_answers: bool = False
    reply_to: int | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """A text built only when its turn comes (a reminder that names who is still missing)."""

    text: Html
    reply_to: int | None = None


# The card's text and keyboard as they are when the edit goes out.
RenderCard = Callable[[], Awaitable[tuple[Html, Keyboard | None]]]
# The notice as it is when it goes out; None: no longer needed (then nothing is sent).
BuildNotice = Callable[[], Awaitable[Notice | None]]


class ChatActionFailed(Exception):
    """An action done at once (an invite link, the answer to a join request) did not go
    through; the message says why."""


class Outbox(Protocol):
    """What a flow can have posted. Nothing here waits for a chat's budget: what cannot go
    out now is queued, and its Delivery says so."""

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
    ) -> Delivery:
        """Post a text; one longer than a message goes out as several, the keyboard and
        `on_posted` with the first. `silent`: without a notification sound."""
        ...

    async def edit(
        self, chat_id: int, message_id: int, text: Html, *, keyboard: Keyboard | None = None
    ) -> Delivery:
        """Replace a message's text (shortened to one message) and keyboard (None: none)."""
        ...

    async def edit_later(self, chat_id: int, message_id: int, render: RenderCard) -> Delivery:
        """Edit a card to what `render` gives when the edit goes out: a burst of changes
        costs one edit, showing the newest state."""
        ...

    async def send_poll(
        self, chat_id: int, poll: Poll, *, on_posted: OnPosted | None = None
    ) -> Delivery: ...

    async def stop_poll(self, chat_id: int, message_id: int) -> Delivery:
        """Close a poll of the bot's, so that nobody can answer it any more."""
        ...

    async def send_document(
        self,
        chat_id: int,
        data: bytes,
        filename: str,
        *,
        caption: Html | None = None,
        reply_to: int | None = None,
        priority: Priority = Priority.REPLY,
    ) -> Delivery: ...

    async def send_later(
        self, chat_id: int, build: BuildNotice, *, priority: Priority = Priority.NOTICE
    ) -> Delivery:
        """Post the notice `build` gives when its turn comes (nothing if it gives None)."""
        ...

    async def create_invite_link(self, chat_id: int, name: str) -> str:
        """A link into the chat that makes a join request, which the bot answers; raises
        ChatActionFailed."""
        ...

    async def approve_join_request(self, chat_id: int, telegram_id: int) -> None:
        """Let the person in; raises ChatActionFailed."""
        ...

    async def decline_join_request(self, chat_id: int, telegram_id: int) -> None:
        """Keep the person out; raises ChatActionFailed."""
        ...

    def start_link(self, payload: StartPayload) -> str:
        """A link that opens the private chat with the bot and hands it `payload`."""
        ...
