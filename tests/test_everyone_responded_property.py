"""A round closes early once everyone in its electorate has responded. The charter says so in
Python (bot.charter.tally.everyone_responded); storage asks it in SQL after every press
(storage/rounds.py), and the reminders ask in SQL who has not responded yet. On generated
rounds and votes (electorates of 0–12, responses by members and by others, people who leave
and come back or are admitted meanwhile, late presses, retracted ballots), stored through
storage's own methods in a real SQLite file, the SQL and the rule agree after every step.

CI runs 40 examples per test; WIQ_PROPERTY_EXAMPLES=1000 runs more."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.app import CHARTER_TERMS
from bot.charter import tally
from bot.charter.outcomes import (
    Ballot,
    Response,
)
from storage import Storage
from storage.proposals import StateChange, Transition
from storage.rounds import NewRound
from storage.votes import NewVote

settings.register_profile(
    "everyone_responded",
    max_examples=int(os.environ.get("WIQ_PROPERTY_EXAMPLES", "40")),
    deadline=None,  # every example opens a database of its own
)
PROFILE = settings.get_profile("everyone_responded")

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CHAT = -100
MAX_ELECTORATE = 12
OUTSIDERS = 3  # people who are not on the roster when the round or vote opens
PEOPLE = MAX_ELECTORATE + OUTSIDERS
_databases = itertools.count()


@dataclass(frozen=True)
class Step:
    """One thing that happens while the round or vote is open. Who does it is named by their
    part at that moment (`among`), so that the steps reach the states that matter: the one
    member who has not answered leaves, an outsider answers, someone who left comes back."""

    action: str  # press, respond (the long way), ballot; leave, join (mid-round), admit
    among: str  # member, missing (has not answered), answered, outsider; or index (people[i])
    index: int  # which of them, modulo their number
    choice: str | None = None  # a ballot of None retracts it
    late: bool = False  # an update older than any the person sent before (arrives late)


AMONG = ("member", "missing", "answered", "outsider", "index")


@dataclass
class Model:
    """What the charter's rule is asked about: the electorate, and who answered how."""

    people: list[int]  # person ids; the first `size` were on the roster when it opened
    roster: set[int]
    electorate: set[int]
    answers: dict[int, tuple[str | None, int]] = field(default_factory=dict)  # (choice, update)

    def store(self, person: int, choice: str | None, update_id: int) -> bool:
        """An answer is stored unless a newer one of this person is (SPEC §9)."""
        if person in self.answers and update_id <= self.answers[person][1]:
            return False
        self.answers[person] = (choice, update_id)
        return True

    def given(self) -> dict[int, str]:
        """The answers that count: a retracted ballot is no answer."""
        return {person: c for person, (c, _) in self.answers.items() if c is not None}

    def who(self, step: Step) -> int:
        groups: dict[str, Sequence[int]] = {
            "member": sorted(self.electorate),
            "missing": sorted(self.electorate - set(self.given())),
            "answered": sorted(self.answers),
            "outsider": sorted(set(self.people) - self.electorate),
            "index": self.people,
        }
        group = groups[step.among] or self.people
        return group[step.index % len(group)]


def _steps(actions: list[str], choices: st.SearchStrategy[str | None]) -> st.SearchStrategy[Step]:
    among, index = st.sampled_from(AMONG), st.integers(0, PEOPLE - 1)
    return st.one_of(
        st.builds(Step, st.sampled_from(actions), among, index, choices, st.booleans()),
        st.builds(Step, st.sampled_from(["leave", "join", "admit"]), among, index),
    )


ROUND_STEPS = _steps(["press", "respond"], st.sampled_from([r.value for r in Response]))
VOTE_STEPS = _steps(["ballot"], st.sampled_from([b.value for b in Ballot] + [None]))

Fates = list[str] | None
# Random steps seldom reach the states where all but a few have answered, or where the only
# ones who have not have left. So the members may first meet a fate each, in order (those
# beyond the list answer), and then the random steps follow; None: nobody answers first.
FATES: st.SearchStrategy[Fates] = st.none() | st.lists(
    st.sampled_from(["answers"] * 4 + ["answers, leaves", "silent", "silent, leaves"]),
    max_size=MAX_ELECTORATE,
)


def _fates_first(size: int, fates: Fates, action: str, choice: str) -> list[Step]:
    if fates is None:
        return []
    fate = [fates[i] if i < len(fates) else "answers" for i in range(size)]
    answer = [Step(action, "index", i, choice) for i in range(size) if "answers" in fate[i]]
    leave = [Step("leave", "index", i) for i in range(size) if "leaves" in fate[i]]
    return answer + leave


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with every migration applied, for each example to copy: migrating each
    example's anew would take most of the test's time."""
    path = tmp_path_factory.mktemp("everyone_responded") / "migrated.sqlite"

    async def migrate() -> None:
        await (await Storage.open(path, "Test", NOW, CHARTER_TERMS)).close()

    asyncio.run(migrate())
    return path


def _copy(migrated: Path, name: str) -> Path:
    path = migrated.with_name(f"{name}-{next(_databases)}.sqlite")
    shutil.copyfile(migrated, path)
    return path


@dataclass
class Opened:
    storage: Storage
    team_id: int
    model: Model


async def _open(path: Path, size: int, *, vote: bool) -> tuple[Opened, int]:
    """A team with `size` members and a proposal whose round (or vote) has just opened."""
    storage = await Storage.open(path, "Test", NOW, CHARTER_TERMS)
    team = await storage.teams.bind("ST", "ST", CHAT, "supergroup", "explicit", None, NOW)
    people = [
        (await storage.people.seen(1000 + i, f"P{i}", None, None, "de", NOW)).id
        for i in range(PEOPLE)
    ]
    for person in people[:size]:
        await storage.rosters.admit(team.id, person, "admitted", NOW)
    deadline = NOW + timedelta(days=1)
    status = "vote_open" if vote else "round_open"
    _, applied = await storage.proposals.create(
        team_id=team.id,
        kind="proposal",
        proposer_id=people[0],
        subject_id=None,
        title="Budget",
        text="Budget",
        policy={},
        round_length_s=86400,
        first=Transition(
            change=StateChange(status, 0 if vote else 1, 0, False),
            event="proposal.created",
            new_round=None if vote else NewRound(1, "Budget", deadline),
            new_vote=NewVote(deadline) if vote else None,
        ),
        now=NOW,
    )
    opened_id = applied.vote_id if vote else applied.round_id
    assert opened_id is not None
    model = Model(people=people, roster=set(people[:size]), electorate=set(people[:size]))
    return Opened(storage, team.id, model), opened_id


ROSTER_ACTIONS = ("leave", "admit")


async def _roster_step(opened: Opened, step: Step, person: int, now: datetime) -> None:
    """Leaving the team leaves its open electorates; who is admitted counts from the next."""
    storage, model = opened.storage, opened.model
    if step.action == "leave":
        left = await storage.rosters.leave(opened.team_id, person, "left", now, by=person)
        assert left == (person in model.roster)
        if left:
            model.roster.discard(person)
            model.electorate.discard(person)
    else:
        admitted = await storage.rosters.admit(opened.team_id, person, "admitted", now)
        assert admitted == (person not in model.roster)
        model.roster.add(person)


async def _run_round(path: Path, size: int, fates: Fates, steps: list[Step]) -> None:
    opened, round_id = await _open(path, size, vote=False)
    storage, model = opened.storage, opened.model
    try:
        steps = _fates_first(size, fates, "press", Response.AGREE.value) + steps
        await _round_agrees(storage, round_id, model)
        for update_id, step in enumerate(steps, start=2):
            person, now = model.who(step), NOW + timedelta(seconds=update_id)
            sent = 1 if step.late else update_id  # the update 1 is older than any other
            if step.action in ROSTER_ACTIONS:
                await _roster_step(opened, step, person, now)
            elif step.action == "join":  # a chat-mode member the bot first sees pressing
                await storage.rounds.join_round(round_id, person, now)
                model.electorate.add(person)
            elif step.action == "press":  # the one statement: only a member of the electorate
                assert step.choice is not None
                stored = await storage.rounds.record_press(
                    round_id, CHAT, person, step.choice, sent, now
                )
                expected = person in model.electorate and model.store(person, step.choice, sent)
                assert (stored is not None) == expected
            else:  # the long way stores anyone's, whoever asked it to
                assert step.choice is not None
                recorded = await storage.rounds.record_response(
                    round_id, person, step.choice, sent, now
                )
                assert recorded == model.store(person, step.choice, sent)
            await _round_agrees(storage, round_id, model)
    finally:
        await storage.close()


async def _round_agrees(storage: Storage, round_id: int, model: Model) -> None:
    rule = tally.everyone_responded(model.answers, model.electorate)
    assert await storage.rounds.everyone_responded(round_id) == rule
    # What storage reads back is what was generated, and gives the rule the same answer.
    electorate = await storage.rounds.round_electorate(round_id)
    responses = await storage.rounds.responses(round_id)
    assert electorate == model.electorate
    assert {p: r.choice for p, r in responses.items()} == model.given()
    assert tally.everyone_responded(responses, electorate) == rule
    missing = await storage.reminders.not_responded("round", round_id)
    assert set(missing) == model.electorate - set(model.answers)


async def _run_vote(path: Path, size: int, fates: Fates, steps: list[Step]) -> None:
    opened, vote_id = await _open(path, size, vote=True)
    storage, model = opened.storage, opened.model
    try:
        steps = _fates_first(size, fates, "ballot", Ballot.YES.value) + steps
        await _vote_agrees(storage, vote_id, model)
        for update_id, step in enumerate(steps, start=2):
            person, now = model.who(step), NOW + timedelta(seconds=update_id)
            sent = 1 if step.late else update_id
            if step.action in ROSTER_ACTIONS:
                await _roster_step(opened, step, person, now)
            elif step.action == "join":
                await storage.votes.join_vote(vote_id, person, now)
                model.electorate.add(person)
            else:  # a poll answer, or its retraction (None)
                stored = await storage.votes.record_ballot(vote_id, person, step.choice, sent, now)
                assert stored == model.store(person, step.choice, sent)
            await _vote_agrees(storage, vote_id, model)
    finally:
        await storage.close()


async def _vote_agrees(storage: Storage, vote_id: int, model: Model) -> None:
    """A vote's early close is the rule asked about what storage reads (bot/flows), so the
    SQL to check is the reading: retracted ballots and people who left do not count."""
    rule = tally.everyone_responded(model.given(), model.electorate)
    electorate = await storage.votes.vote_electorate(vote_id)
    ballots = await storage.votes.ballots(vote_id)
    assert electorate == model.electorate
    assert ballots == model.given()
    assert tally.everyone_responded(ballots, electorate) == rule
    missing = await storage.reminders.not_responded("vote", vote_id)
    assert set(missing) == model.electorate - set(model.given())


@PROFILE
@given(
    size=st.integers(0, MAX_ELECTORATE),
    fates=FATES,
    steps=st.lists(ROUND_STEPS, max_size=25),
)
# The one who has not responded leaves: everyone left has.
@example(size=3, fates=["answers", "answers", "silent, leaves"], steps=[])
# As many responses as members, one of them from outside: not everyone.
@example(size=2, fates=["answers", "silent"], steps=[Step("respond", "outsider", 0, "agree")])
# Everyone left, after responding: an empty electorate waits for its deadline.
@example(size=1, fates=["answers, leaves"], steps=[])
# Who left and comes back (a chat-mode member pressing) counts again.
@example(size=2, fates=[], steps=[Step("leave", "index", 1), Step("join", "index", 1)])
def test_the_sql_and_the_rule_agree_on_whether_everyone_responded_to_a_round(
    migrated: Path, size: int, fates: Fates, steps: list[Step]
) -> None:
    asyncio.run(_run_round(_copy(migrated, "round"), size, fates, steps))


@PROFILE
@given(
    size=st.integers(0, MAX_ELECTORATE),
    fates=FATES,
    steps=st.lists(VOTE_STEPS, max_size=25),
)
@example(size=2, fates=[], steps=[Step("ballot", "member", 1, None)])  # a retracted ballot
@example(size=3, fates=["answers", "answers", "silent, leaves"], steps=[])
@example(size=2, fates=["answers", "silent"], steps=[Step("ballot", "outsider", 0, "no")])
@example(size=1, fates=["answers, leaves"], steps=[])
@example(size=2, fates=[], steps=[Step("leave", "index", 1), Step("join", "index", 1)])
def test_what_storage_reads_and_the_rule_agree_on_whether_everyone_voted(
    migrated: Path, size: int, fates: Fates, steps: list[Step]
) -> None:
    asyncio.run(_run_vote(_copy(migrated, "vote"), size, fates, steps))


def test_the_check_after_every_press_reads_no_members_row(migrated: Path) -> None:
    """The check runs after every press, in rounds of hundreds of members: it counts them
    from indexes alone (round_electorate_present holds left_at), never reading each one's
    row — which, for 500 members, doubled its time."""
    asked: list[str] = []

    async def ask() -> None:
        opened, round_id = await _open(_copy(migrated, "plan"), 3, vote=False)
        try:
            here = opened.storage.db._here  # the sqlite3 connection the statement runs on
            assert here is not None
            here.set_trace_callback(asked.append)
            async with opened.storage.db.transaction():  # as after a press: in its unit
                await opened.storage.rounds.everyone_responded(round_id)
            here.set_trace_callback(None)
            plan = [
                str(row[3])
                for sql in asked
                if sql.lstrip().upper().startswith("SELECT")
                for row in here.execute("EXPLAIN QUERY PLAN " + sql)
            ]
        finally:
            await opened.storage.close()
        searches = [line for line in plan if line.startswith(("SEARCH", "SCAN "))]
        searches = [line for line in searches if line != "SCAN CONSTANT ROW"]
        assert searches and any("round_electorate" in line for line in searches)
        assert all("COVERING INDEX" in line for line in searches), plan

    asyncio.run(ask())
