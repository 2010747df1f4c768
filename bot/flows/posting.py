"""The typed values of the port that the outbox keeps in the database until Telegram confirmed
an item: what to record once something is posted (`OnPosted`), what to do if it is refused
for good (`OnFailed`) and what is rendered only when its turn comes (`Deferred`). Here they
are written as JSON and read back, and carried out: a queued item survives a restart, and
what it records, does and renders is the same after it."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from bot.flows import admissions, elections, petitions
from bot.flows.port import (
    CardPosted,
    Deferred,
    DigestSent,
    ElectionPollPosted,
    FollowUpNotSent,
    FullTextPosted,
    InvitationDelivered,
    InviteLinkMade,
    JoinRefused,
    Keyboard,
    OnFailed,
    OnPosted,
    PetitionAnswered,
    PetitionFollowedUp,
    PetitionNotPosted,
    PetitionPosted,
    Posted,
    Reminder,
    RoundAnnounced,
    RoundCard,
    RoundResult,
    VoteAnnounced,
    VoteCard,
    VoteCardPosted,
    VotePollPosted,
)
from bot.services import Services
from bot.texts.i18n import Html

_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        CardPosted,
        RoundAnnounced,
        FullTextPosted,
        VotePollPosted,
        VoteCardPosted,
        VoteAnnounced,
        ElectionPollPosted,
        PetitionPosted,
        PetitionAnswered,
        PetitionFollowedUp,
        DigestSent,
        InviteLinkMade,
        InvitationDelivered,
        PetitionNotPosted,
        FollowUpNotSent,
        JoinRefused,
        RoundCard,
        VoteCard,
        RoundResult,
        Reminder,
    )
}


def encode(value: OnPosted | OnFailed | Deferred) -> str:
    """One value as JSON, its type named; equal values give equal text (the outbox relies on
    it to queue one post of the same thing at a time)."""
    fields: dict[str, Any] = {"type": type(value).__name__}
    for field in dataclasses.fields(value):
        item = getattr(value, field.name)
        fields[field.name] = {"at": item.isoformat()} if isinstance(item, datetime) else item
    return json.dumps(fields, sort_keys=True, ensure_ascii=False)


def decode(text: str) -> Any:
    """A value written by `encode` (an OnPosted, OnFailed or Deferred value)."""
    fields = json.loads(text)
    cls = _TYPES[fields.pop("type")]
    values = {
        name: datetime.fromisoformat(item["at"]) if isinstance(item, dict) else item
        for name, item in fields.items()
    }
    return cls(**values)


async def record(services: Services, what: OnPosted, post: Posted) -> None:
    """Write down where something was posted (after Telegram confirmed it)."""
    storage, now = services.storage, services.clock.now()
    match what:
        case CardPosted(round_id):
            await storage.rounds.set_card(round_id, post.chat_id, post.message_id)
        case RoundAnnounced(round_id, next_step):
            await services.decisions.cards.announced(round_id, next_step, post)
        case FullTextPosted(proposal_id):
            await storage.proposals.set_full_text(proposal_id, post.chat_id, post.message_id)
        case VotePollPosted(vote_id):
            await services.decisions.votes.poll_posted(vote_id, post)
        case VoteCardPosted(vote_id):
            await storage.votes.set_card(vote_id, post.chat_id, post.message_id)
        case VoteAnnounced(vote_id):
            await storage.votes.mark_announced(vote_id, now)
        case ElectionPollPosted(election_id, team_id):
            await elections.poll_posted(services, election_id, team_id, post)
        case PetitionPosted(petition_id):
            await storage.petitions.posted(petition_id, post.chat_id, post.message_id, now)
        case PetitionAnswered(petition_id, author_id, team_id):
            await storage.petitions.answered(petition_id, author_id, team_id, post.message_id, now)
        case PetitionFollowedUp(petition_id):
            petition = await storage.petitions.get(petition_id)
            if petition is not None:
                await storage.petitions.followed_up(petition, post.chat_id, post.message_id, now)
        case DigestSent(slot, chat_id):
            await storage.digests.mark_sent(slot, chat_id, now)
        case InviteLinkMade(invitation_id):
            if post.link is not None:
                await admissions.link_made(services, invitation_id, post.link)
        case InvitationDelivered(invitation_id):
            await storage.invitations.mark_delivered(invitation_id, now)


async def refused(services: Services, what: OnFailed, error: str) -> None:
    """Carry out what follows from Telegram refusing an item for good (`error`: its reason)."""
    match what:
        case PetitionNotPosted(petition_id):
            await petitions.not_posted(services, petition_id, error)
        case FollowUpNotSent(petition_id, sender_id):
            await petitions.follow_up_not_sent(services, petition_id, sender_id, error)
        case JoinRefused(invitation_id):
            await admissions.join_refused(services, invitation_id, error)


async def render(services: Services, what: Deferred) -> tuple[Html, Keyboard | None] | None:
    """A deferred item as it is now; None when it is no longer needed."""
    match what:
        case RoundCard(round_id):
            return await services.decisions.cards.render_current(round_id)
        case VoteCard(vote_id):
            return await services.decisions.votes.render_card(vote_id)
        case RoundResult(round_id):
            return await services.decisions.cards.render_result(round_id)
        case Reminder():
            return await services.reminders.render(what)
    return None
