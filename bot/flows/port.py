"""The one port through which a flow says what to post: typed values in (HTML text, keyboards
of typed payloads, polls), typed values out (where it was posted, what became of it). No
Telegram type crosses it, and a flow never learns how or when something is sent: the outbox
behind it (bot.telegram_side.outbox, a transactional outbox) owns each chat's
budget, the order by priority, coalescing, retries and splitting long texts.

What a flow hands over is plain data and nothing else, so that the outbox can keep it in the
database until Telegram confirmed it: what to record once something is posted is a typed value
(`OnPosted`), and so is what to do if Telegram refuses it for good (`OnFailed`); a card or a
reminder that is built only when its turn comes is named by a
typed value too (`Deferred`), rendered by the flows when it goes out — also after a restart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Protocol

from bot.flows.payloads import CallbackPayload, StartPayload
from bot.texts.i18n import Html


class Priority(IntEnum):
    """Lower goes first when a chat's budget is short (SPEC §9)."""

    ACTION = -1  # invite links, answers to join requests: no message, no budget, retried
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
    """Where something was posted: what recording an `OnPosted` value is given."""

    chat_id: int
    message_id: int
    poll_id: str | None = None  # a poll's own id, which its answers name
    text: str | None = None  # the HTML text that went out (a text's first message)
    link: str | None = None  # an invite link Telegram made (no message: message_id 0)


# What to record once something is posted: typed values, kept with the queued item (so a
# restart still records it); bot.flows.posting carries each out. Each names what it is the
# post of, so the outbox queues one post of the same thing in a chat at a time.


@dataclass(frozen=True, slots=True)
class CardPosted:
    """A round's card: its message is the card (Rounds.set_card)."""

    round_id: int


@dataclass(frozen=True, slots=True)
class RoundAnnounced:
    """A round's result: the round is announced, and where its result went is kept with the
    line it ended with, `next_step` (what happened next, as it was when the round closed), so
    that a reason that comes later edits it in place (Rounds.mark_announced)."""

    round_id: int
    next_step: str = ""


@dataclass(frozen=True, slots=True)
class FullTextPosted:
    """A proposal's full text, which its card links (Proposals.set_full_text)."""

    proposal_id: int


@dataclass(frozen=True, slots=True)
class VotePollPosted:
    """A vote's poll, whose answers are ballots (Votes.add_poll)."""

    vote_id: int


@dataclass(frozen=True, slots=True)
class VoteCardPosted:
    """The card of a vote without a round (process `majority`): kept (Votes.set_card) and
    edited when the vote closes; its poll answers it (`Poll.reply_to_post`)."""

    vote_id: int


@dataclass(frozen=True, slots=True)
class VoteAnnounced:
    """A vote's result (Votes.mark_announced)."""

    vote_id: int


@dataclass(frozen=True, slots=True)
class ElectionPollPosted:
    """An election's poll (Elections.set_poll)."""

    election_id: int
    team_id: int


@dataclass(frozen=True, slots=True)
class PetitionPosted:
    """A petition in the PT chat (Petitions.posted)."""

    petition_id: int


@dataclass(frozen=True, slots=True)
class PetitionAnswered:
    """A PT member's answer (their message `answer_id` in the PT chat), delivered to the
    sender privately, who may reply to it (Petitions.answered)."""

    petition_id: int
    author_id: int
    team_id: int
    answer_id: int


@dataclass(frozen=True, slots=True)
class PetitionFollowedUp:
    """A petition's follow-up in the PT chat (Petitions.followed_up)."""

    petition_id: int


@dataclass(frozen=True, slots=True)
class DigestSent:
    """A digest of one slot in one chat (Digests.mark_sent)."""

    slot: datetime
    chat_id: int


@dataclass(frozen=True, slots=True)
class InviteLinkMade:
    """An invitation's link, made by Telegram: kept, then sent to the person privately
    (bot.flows.admissions.link_made)."""

    invitation_id: int


@dataclass(frozen=True, slots=True)
class InvitationDelivered:
    """The private message carrying an invitation's link (Invitations.mark_delivered)."""

    invitation_id: int


OnPosted = (
    CardPosted
    | RoundAnnounced
    | FullTextPosted
    | VotePollPosted
    | VoteCardPosted
    | VoteAnnounced
    | ElectionPollPosted
    | PetitionPosted
    | PetitionAnswered
    | PetitionFollowedUp
    | DigestSent
    | InviteLinkMade
    | InvitationDelivered
)


# What to do when Telegram refuses an item for good (a 400 or 403 answer): typed values, kept
# with the queued item like OnPosted (a refusal after a restart still does it), carried out by
# bot.flows.posting. Inside a unit of work the flow has answered before the item goes out: a
# refusal that the person must hear of, or that must undo what the unit did, is one of these.


@dataclass(frozen=True, slots=True)
class PetitionNotPosted:
    """A petition's post to the PT: its claim is undone and its sender told, and asked again
    (bot.flows.petitions.not_posted)."""

    petition_id: int


@dataclass(frozen=True, slots=True)
class FollowUpNotSent:
    """A sender's follow-up to the PT: they are told it did not reach the PT
    (bot.flows.petitions.follow_up_not_sent)."""

    petition_id: int
    sender_id: int


@dataclass(frozen=True, slots=True)
class JoinRefused:
    """The approval of a join request made with a person's own link: the invitation is theirs
    again, and they are told (bot.flows.admissions.join_refused)."""

    invitation_id: int


OnFailed = PetitionNotPosted | FollowUpNotSent | JoinRefused


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
    # A reply to where that was posted, looked up when the poll goes out: a post queued in the
    # same unit of work has no message id yet.
    reply_to_post: OnPosted | None = None


# What is built only when its turn comes, named by typed values (bot.flows.posting renders
# them).


@dataclass(frozen=True, slots=True)
class RoundCard:
    """A round's card as it is when the edit goes out."""

    round_id: int


@dataclass(frozen=True, slots=True)
class VoteCard:
    """The card of a vote without a round as it is when the edit goes out."""

    vote_id: int


@dataclass(frozen=True, slots=True)
class RoundResult:
    """A round's posted result as it is when the edit goes out (a reason that came after the
    close, SPEC §3.4)."""

    round_id: int


@dataclass(frozen=True, slots=True)
class Reminder:
    """The reminder of a round, a vote or an election, naming who is still missing when it
    goes out (nothing if nobody is, or it closed)."""

    stage: str  # "round", "vote", "election"
    stage_id: int
    proposal_id: int
    title: str
    round_number: int
    deadline: datetime
    reply_to: int | None = None
    number: int | None = None  # the network's #N (None: queued before there were numbers)


# What an edit shows when it goes out: a round's or a vote's card, or a round's result.
Edited = RoundCard | VoteCard | RoundResult
Deferred = RoundCard | VoteCard | RoundResult | Reminder

# How a deferred item is rendered when it goes out; None: no longer needed (nothing is sent).
Render = Callable[[Deferred], Awaitable[tuple[Html, Keyboard | None] | None]]
# What carries out an OnPosted value.
Record = Callable[[OnPosted, Posted], Awaitable[None]]
# What carries out an OnFailed value, given Telegram's reason.
Refused = Callable[[OnFailed, str], Awaitable[None]]


class Outbox(Protocol):
    """What a flow can have posted. Nothing here waits for a chat's budget: what cannot go
    out now is queued, and its Delivery says so. Inside a unit of work (every handled update,
    every due item: storage.db) nothing goes out before the unit is committed, so a Delivery
    handed out there is still queued when the call returns: what depends on where a post
    went is an `OnPosted` value, carried out once it is posted, and what follows from its
    refusal an `OnFailed` value, carried out if Telegram refuses it for good."""

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
        on_failed: OnFailed | None = None,
        about: Sequence[int] = (),
        subject: int | None = None,
    ) -> Delivery:
        """Post a text; one longer than a message goes out as several, the keyboard,
        `on_posted` and `on_failed` with the first. `silent`: without a notification sound.
        `about`: the people (internal ids) it names — if one of them is forgotten (/forgetme)
        while it waits, it goes out naming their pseudonym; `subject`: the one person it
        exists for — if they are forgotten while it waits, it is not sent."""
        ...

    async def edit(
        self, chat_id: int, message_id: int, text: Html, *, keyboard: Keyboard | None = None
    ) -> Delivery:
        """Replace a message's text (shortened to one message) and keyboard (None: none)."""
        ...

    async def edit_later(self, chat_id: int, message_id: int, card: Edited) -> Delivery:
        """Edit a card (or a round's result) to what it is when the edit goes out: a burst of
        changes costs one edit, showing the newest state."""
        ...

    async def send_poll(
        self,
        chat_id: int,
        poll: Poll,
        *,
        on_posted: OnPosted | None = None,
        about: Sequence[int] = (),
    ) -> Delivery:
        """Post a poll; `about`: the people its question and options name (as for `send`)."""
        ...

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
        self,
        chat_id: int,
        notice: Deferred,
        *,
        priority: Priority = Priority.NOTICE,
        on_posted: OnPosted | None = None,
    ) -> Delivery:
        """Post the notice (a reminder, a new card) as it is when its turn comes (nothing if
        it is no longer needed then)."""
        ...

    async def create_invite_link(
        self, chat_id: int, name: str, *, on_posted: OnPosted, subject: int | None = None
    ) -> Delivery:
        """Have Telegram make a link into the chat that makes a join request (which the bot
        answers): an action queued first in the chat, outside its budget, retried while
        Telegram cannot be reached (after a restart too); once made, `on_posted` is recorded
        with the link (`Posted.link`). `subject`: the person it is for (as for `send`)."""
        ...

    async def approve_join_request(
        self, chat_id: int, telegram_id: int, *, on_failed: OnFailed | None = None
    ) -> None:
        """Let the person in: at once (after the unit's commit), or by a retry if Telegram
        cannot be reached now (the answer is queued, outside the chat's budget); if Telegram
        refuses it, `on_failed` is carried out."""
        ...

    async def decline_join_request(
        self, chat_id: int, telegram_id: int, *, on_failed: OnFailed | None = None
    ) -> None:
        """Keep the person out (at once, or by a retry, as approving)."""
        ...

    def start_link(self, payload: StartPayload) -> str:
        """A link that opens the private chat with the bot and hands it `payload`."""
        ...
