"""The one-time catch-up of a database from before the outbox (SPEC §9). Before schema 018 the
bot's queue of what to post was in memory: what it had committed but not posted when it
stopped is in no outbox row, so `TelegramOutbox.resume` cannot send it. It is derived once
from the state: a round's card or a vote's poll that never went out, a closed round or vote
whose result was never announced (its polls not stopped), a Beschluss whose consequences were
not carried out, a petition whose post never went out, a claimed digest of the latest week
not sent.

It runs only when the migrations that took the database past 018 noted it
(`upgrade_catch_up`, storage/db.py), at start after the outbox resumed and before polling
(bot/app.py), in one unit of work with the note's removal: it is all queued in the outbox or
none of it is, so a kill never makes it post twice, and it never runs for a database that was
at 018 or later, whose outbox holds what it had not posted."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.charter.digest import DigestKind
from bot.charter.outcomes import DecisionOutcome
from bot.flows import petitions
from bot.flows.digests import Target
from bot.services import Services
from storage.upgrade import CatchUp

log = logging.getLogger(__name__)


async def catch_up(services: Services) -> None:
    """If this database came from before the outbox and was not caught up yet: queue what it
    left unposted, and note that it is done."""
    storage = services.storage
    store = CatchUp(storage.db, storage.network_id)
    from_schema = await store.due_from()
    if from_schema is None:
        return
    done = 0
    async with storage.unit():
        for what, item in await _items(services, store):
            # Each item in a savepoint: one that fails is logged and left, the others go.
            try:
                async with storage.unit():
                    await item()
            except Exception:
                log.exception("event=upgrade_catch_up_failed item=%s", what)
                continue
            done += 1
            log.info("event=upgrade_catch_up item=%s", what)
        await store.done()
    log.info("event=upgrade_caught_up from_schema=%03d items=%d", from_schema, done)


Item = Callable[[], Awaitable[None]]


async def _items(services: Services, store: CatchUp) -> list[tuple[str, Item]]:
    """What a database from before the outbox left unposted, in the order the old start-up
    did it: results and consequences first, then new cards and polls, petitions, digests."""
    decisions = services.decisions
    storage = services.storage
    items: list[tuple[str, Item]] = []

    for round_id in await store.unannounced_rounds():
        round_ = await storage.rounds.round(round_id)
        proposal = await storage.proposals.get(round_.proposal_id) if round_ else None
        if proposal is not None:
            items.append(
                (
                    f"round_result:{round_id}",
                    _bind(decisions.cards.announce_round, proposal, round_id),
                )
            )
    for vote_id in await store.unannounced_votes():
        vote = await storage.votes.vote(vote_id)
        proposal = await storage.proposals.get(vote.proposal_id) if vote else None
        if proposal is not None:
            items.append(
                (f"vote_result:{vote_id}", _bind(decisions.votes.announce, proposal, vote_id))
            )
    for proposal_id in await store.effects_pending():
        proposal = await storage.proposals.get(proposal_id)
        if proposal is not None and proposal.outcome:
            outcome = DecisionOutcome(proposal.outcome)
            items.append((f"effects:{proposal_id}", _bind(decisions.decided, proposal, outcome)))
    for round_id in await store.rounds_without_card():
        round_ = await storage.rounds.round(round_id)
        proposal = await storage.proposals.get(round_.proposal_id) if round_ else None
        team = await storage.teams.by_id(proposal.team_id) if proposal else None
        if team is not None:
            items.append(
                (f"card:{round_id}", _bind(decisions.cards.post_card, round_id, team.chat_id))
            )
    for vote_id in await store.votes_without_poll():
        vote = await storage.votes.vote(vote_id)
        proposal = await storage.proposals.get(vote.proposal_id) if vote else None
        team = await storage.teams.by_id(proposal.team_id) if proposal else None
        if proposal is not None and team is not None:
            items.append(
                (
                    f"poll:{vote_id}",
                    _bind(decisions.votes.post_poll, proposal, vote_id, team.chat_id),
                )
            )
    for petition_id in await store.petitions_posting():
        items.append(
            (f"petition:{petition_id}", _bind(petitions.post_claimed, services, petition_id))
        )
    # The latest week's digest only: an older one would be stale news by now.
    latest = services.digests.latest_slot(services.clock.now())
    unsent = [d for d in await store.unsent_digests() if d.slot == latest]
    if unsent:
        targets = [Target(DigestKind(d.target), d.chat_id, d.team_id) for d in unsent]
        items.append(
            (f"digest:{latest.isoformat()}", _bind(services.digests.send_claimed, latest, targets))
        )
    return items


def _bind(function: Callable[..., Awaitable[object]], *args: object) -> Item:
    async def item() -> None:
        await function(*args)

    return item
