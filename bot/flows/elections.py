"""Elections of the ST's civil-society seats (SPEC §5): candidates are asked to stand; the
poll opens with those who agreed (once all answered, or when `acceptance_window` ends); a
native multi-answer poll among the chat's roster; a ballot with more choices than seats is
invalid; the candidates with the most valid votes win; a tie for the last seat is reported,
not decided by chance. The winners take civil-society seats in the ST."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.charter import elections
from bot.charter.policy import DecisionKind, TeamKind
from bot.charter.refusals import Refusal
from bot.charter.schedule import reminder_at
from bot.flows.payloads import Candidacy, OpenCandidacy
from bot.flows.port import Button, ElectionPollPosted, Keyboard, Poll, Posted
from bot.services import Services
from bot.texts import naming
from bot.texts.i18n import Html, t
from bot.texts.render import shorten_plain
from storage.elections import Candidate, Election
from storage.people import Person
from storage.teams import Team

log = logging.getLogger(__name__)

MAX_CANDIDATES = 12  # a Telegram poll has at most 12 options
OPTION_LIMIT = 100  # characters of one poll option
SEAT = "zivilgesellschaft"


async def call(
    services: Services,
    team: Team,
    caller: Person,
    seats: int,
    candidates: list[tuple[Person | None, str | None]],
    deadline: datetime | None,
) -> int:
    """/election: record it and ask every candidate to stand."""
    if seats < 1:
        raise Refusal("election.usage")
    if not 1 <= len(candidates) <= MAX_CANDIDATES:
        raise Refusal("election.count", max=MAX_CANDIDATES)
    keys = [p.id if p else (u or "").lower() for p, u in candidates]
    if len(set(keys)) != len(keys):
        raise Refusal("election.twice")
    policy = services.policy(team, DecisionKind.ELECTION)
    now = services.clock.now()
    election_id = await services.storage.elections.create(
        team.id,
        seats,
        caller.id,
        [(p.id if p else None, u) for p, u in candidates],
        now + policy.acceptance_window,
        deadline,
        now,
    )
    services.wake(now + policy.acceptance_window)  # the window to stand ends
    lang = services.default_language
    links = []
    named: list[int] = []
    for candidate in await services.storage.elections.candidates(election_id):
        person = await services.storage.people.by_id(candidate.person_id or 0)
        if person is not None and person.started_bot:
            await ask(services, election_id, candidate, person, seats)
        else:
            name = naming.name(person, username=candidate.username)
            if person is not None:
                named.append(person.id)
            links.append(
                t(
                    lang,
                    "election.link",
                    name=name,
                    link=services.outbox.start_link(OpenCandidacy(candidate.token)),
                )
            )
    called = await services.storage.elections.get(election_id)
    assert called is not None  # created just now, in this unit
    text = Html("\n".join([t(lang, "election.called", id=called.number, seats=seats), *links]))
    await services.outbox.send(team.chat_id, text, about=named)
    return election_id


async def ask(
    services: Services, election_id: int, candidate: Candidate, person: Person, seats: int
) -> None:
    if person.telegram_id is None:
        return
    lang = services.language_for("private", person.language_code)
    keyboard = Keyboard.of(
        [
            Button(t(lang, "election.stand"), Candidacy(election_id, candidate.position, True)),
            Button(t(lang, "nominate.decline"), Candidacy(election_id, candidate.position, False)),
        ]
    )
    await services.outbox.send(
        person.telegram_id, t(lang, "election.ask", seats=seats), keyboard=keyboard
    )


async def open_by_deep_link(services: Services, person: Person, token: str) -> str:
    found = await services.storage.elections.candidate_by_token(token)
    if found is None:
        return "election.stale"
    election_id, candidate = found
    election = await services.storage.elections.get(election_id)
    if election is None or election.status != "asking" or candidate.status != "asked":
        return "election.stale"
    if candidate.person_id is None:
        if not person.username or person.username.lower() != (candidate.username or "").lower():
            return "nominate.not_for_you"
    elif candidate.person_id != person.id:
        return "nominate.not_for_you"
    await ask(services, election_id, candidate, person, election.seats)
    return ""


async def answer(
    services: Services, election_id: int, position: int, person: Person, stands: bool
) -> str:
    election = await services.storage.elections.get(election_id)
    candidates = await services.storage.elections.candidates(election_id)
    candidate = next((c for c in candidates if c.position == position), None)
    if election is None or election.status != "asking" or candidate is None:
        return "election.stale"
    if candidate.person_id is None and (
        not person.username or person.username.lower() != (candidate.username or "").lower()
    ):
        return "nominate.not_for_you"
    if candidate.person_id not in (None, person.id):
        return "nominate.not_for_you"
    if not await services.storage.elections.answer_candidate(
        election_id, position, person.id, stands, services.clock.now()
    ):
        return "election.stale"
    await maybe_open_poll(services, election_id)
    return "election.standing" if stands else "election.not_standing"


async def withdraw(services: Services, election_id: int, position: int, person: Person) -> None:
    """A candidate who had their data forgotten is off the ballot (the poll not yet open)."""
    if await services.storage.elections.withdraw_candidate(
        election_id, position, person.id, services.clock.now()
    ):
        await maybe_open_poll(services, election_id)


async def maybe_open_poll(services: Services, election_id: int, window_ended: bool = False) -> None:
    """Open the poll once every candidate answered, or when the window to answer ends."""
    election = await services.storage.elections.get(election_id)
    if election is None or election.status != "asking":
        return
    candidates = await services.storage.elections.candidates(election_id)
    if not window_ended and any(c.status == "asked" for c in candidates):
        return
    team = await services.storage.teams.by_id(election.team_id)
    assert team is not None
    standing = [c for c in candidates if c.status == "standing"]
    lang = services.default_language
    if not standing:
        if await services.storage.elections.close(
            election_id, {"elected": [], "tied": []}, services.clock.now()
        ):
            await services.outbox.send(team.chat_id, t(lang, "election.nobody", id=election.number))
        return
    policy = services.policy(team, DecisionKind.ELECTION)
    now = services.clock.now()
    vote_deadline = election.deadline or now + policy.majority_deadline
    if vote_deadline <= now:
        vote_deadline = now + policy.min_deadline
    remind_at = reminder_at(election.created_at, vote_deadline, policy.reminder_before)
    if not await services.storage.elections.claim_start(
        election_id, vote_deadline, [c.position for c in standing], remind_at
    ):
        return
    services.wake(min(vote_deadline, remind_at or vote_deadline))
    await post_poll(services, election_id)


async def post_poll(services: Services, election_id: int) -> None:
    """The multi-answer poll of an election whose voting has opened."""
    election = await services.storage.elections.get(election_id)
    if election is None or election.status != "voting" or election.poll_id is not None:
        return
    team = await services.storage.teams.by_id(election.team_id)
    assert team is not None
    on_ballot = sorted(
        (
            c
            for c in await services.storage.elections.candidates(election_id)
            if c.option_index is not None and c.person_id is not None
        ),
        key=lambda c: c.option_index or 0,
    )
    people = await services.storage.people.by_ids([c.person_id for c in on_ballot if c.person_id])
    names = [
        shorten_plain(naming.name(people[c.person_id]), OPTION_LIMIT)
        for c in on_ballot
        if c.person_id in people
    ]
    lang = services.default_language

    poll = Poll(
        question=t(lang, "election.question", id=election.number, seats=election.seats),
        options=tuple(names),
        multiple_answers=True,
    )
    await services.outbox.send_poll(
        team.chat_id, poll, on_posted=ElectionPollPosted(election_id, team.id), about=list(people)
    )


async def poll_posted(services: Services, election_id: int, team_id: int, post: Posted) -> None:
    """The election's poll is out (recorded once Telegram confirmed it). The same poll sent
    twice (a kill, or a timeout, after Telegram posted it and before the bot marked it sent)
    is kept so that answers to it count, stopped, and answered with a pointer to the first."""
    if post.poll_id is None:
        return
    first = await services.storage.elections.set_poll(
        election_id, post.poll_id, post.chat_id, post.message_id, team_id, services.clock.now()
    )
    election = await services.storage.elections.get(election_id)
    if first is None and election is not None and election.status == "voting":
        return
    await services.outbox.stop_poll(post.chat_id, post.message_id)
    if first is not None:
        log.warning("event=poll_twice election=%s", election_id)
        chat_id, message_id = first
        await services.outbox.send(
            chat_id, t(services.default_language, "poll.twice"), reply_to=message_id, silent=True
        )


async def ballot(
    services: Services,
    poll_id: str,
    telegram_id: int,
    person: Person,
    options: list[int],
    update_id: int,
) -> bool:
    """A poll answer; False if the poll is not an election's."""
    election = await services.storage.elections.by_poll(poll_id)
    if election is None:
        return False
    if election.status != "voting":
        return True
    electorate = await services.storage.elections.electorate(election.id)
    team = await services.storage.teams.by_id(election.team_id)
    # Roster mode `chat`: a confirmed member of the chat joins the electorate (SPEC §3.3).
    if (
        person.id not in electorate
        and team is not None
        and team.roster_mode == "chat"
        and await services.decisions.confirm_member(team.chat_id, telegram_id)
    ):
        await services.storage.rosters.admit(team.id, person.id, "chat", services.clock.now())
        await services.storage.elections.join_electorate(election.id, person.id)
    await services.storage.elections.record_ballot(
        election.id, person.id, options, update_id, services.clock.now()
    )
    if len(options) > election.seats and person.started_bot and person.telegram_id:
        lang = services.language_for("private", person.language_code)
        await services.outbox.send(
            person.telegram_id, t(lang, "election.invalid", seats=election.seats)
        )
    return True


async def run_due(services: Services) -> None:
    """Windows to stand that ended, polls whose deadline passed (at start and every minute)."""
    now = services.clock.now()
    for election in await services.storage.elections.unfinished():
        async with services.storage.unit():  # each election's step and what it posts, together
            if election.status == "asking" and now >= election.stand_until:
                await maybe_open_poll(services, election.id, window_ended=True)
            elif election.status != "voting":
                continue
            elif election.vote_deadline and now >= election.vote_deadline:
                await close(services, election)
            elif election.poll_id is None:
                await post_poll(services, election.id)  # the poll never went out (refused)


async def close(services: Services, election: Election) -> None:
    await services.storage.elections.claim_count(election.id, services.clock.now())
    candidates = [
        c
        for c in await services.storage.elections.candidates(election.id)
        if c.option_index is not None and c.person_id is not None
    ]
    # A candidate who had their data forgotten while the poll was open cannot take a seat:
    # they are off the count, and a tick for them is as if it had not been made.
    known = await services.storage.people.by_ids([c.person_id for c in candidates if c.person_id])
    withdrawn = {
        c.option_index
        for c in candidates
        if c.person_id not in known or known[c.person_id].telegram_id is None
    }
    candidates = [c for c in candidates if c.option_index not in withdrawn]
    by_option = {c.option_index: c.person_id for c in candidates if c.person_id is not None}
    raw = await services.storage.elections.ballots(election.id)
    ballots = {
        voter: frozenset(by_option.get(i, -1) for i in options if i not in withdrawn)
        for voter, options in raw.items()
    }
    electorate = await services.storage.elections.electorate(election.id)
    team = await services.storage.teams.by_id(election.team_id)
    assert team is not None
    policy = services.policy(team, DecisionKind.ELECTION)
    tally = elections.tally_election(
        ballots,
        [
            c.person_id
            for c in sorted(candidates, key=lambda c: c.option_index or 0)
            if c.person_id is not None
        ],
        election.seats,
        electorate,
        policy,
    )
    result = {
        "elected": list(tally.elected),
        "tied": sorted(tally.tied),
        "votes": {str(k): v for k, v in tally.votes.items()},
    }
    people = await services.storage.people.by_ids(list(tally.votes))
    steering = await services.storage.teams.by_kind(TeamKind.ST.value)
    for person_id in tally.elected:
        if steering:
            await services.storage.rosters.admit(
                steering[0].id,
                person_id,
                "elected",
                services.clock.now(),
                seat=SEAT,
                body=team.name,
            )
    # Seats first (idempotent), then the close that posts the result exactly once: a crash
    # in between leaves the election open, and the next pass finishes it.
    if not await services.storage.elections.close(election.id, result, services.clock.now()):
        return
    if election.poll_chat_id and election.poll_message_id:
        await services.outbox.stop_poll(election.poll_chat_id, election.poll_message_id)
    lang = services.default_language
    lines = [t(lang, "election.result", id=election.number, seats=election.seats)]
    for person_id, votes in sorted(tally.votes.items(), key=lambda item: -item[1]):
        lines.append(t(lang, "election.votes", name=naming.name(people[person_id]), votes=votes))
    elected = ", ".join(naming.name(people[p]) for p in tally.elected) or "–"
    lines.append(t(lang, "election.elected", names=elected))
    if tally.tied:
        tied = ", ".join(sorted(naming.name(people[p]) for p in tally.tied))
        lines.append(t(lang, "election.tie", names=tied, open=tally.seats_open))
    if tally.invalid_voters:
        lines.append(t(lang, "election.invalid_count", count=len(tally.invalid_voters)))
    text = Html("\n".join(lines))
    await services.outbox.send(team.chat_id, text, about=list(people))
    if steering and steering[0].id != team.id:
        await services.outbox.send(steering[0].chat_id, text, about=list(people))
    log.info("event=election_closed election=%s", election.id)
