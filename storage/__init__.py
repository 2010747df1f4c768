"""Storage: one gateway (Database) and one module per aggregate; nothing here knows Telegram."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage.db import Database, Transaction
from storage.delegations import Delegations
from storage.digests import Digests
from storage.elections import Elections
from storage.events import Events
from storage.inbox import Inbox
from storage.invitations import Invitations
from storage.lt_codes import LtCodes
from storage.networks import Networks
from storage.nominations import Nominations
from storage.outbox import Outbox
from storage.people import People
from storage.personal_data import PersonalData
from storage.petitions import Petitions
from storage.proposals import Proposals
from storage.reasons import Reasons
from storage.reminders import Reminders
from storage.rosters import Rosters
from storage.rounds import Rounds
from storage.teams import Teams
from storage.votes import Votes


@dataclass(frozen=True, slots=True)
class CharterTerms:
    """The charter's words that SQL asks about. They are defined once, in bot.charter.outcomes,
    which storage may not import: the composition root hands them over (Storage.open)."""

    decided_outcomes: frozenset[str]  # a Beschluss was made: the first ends a team's set-up
    approving_outcomes: frozenset[str]  # a Beschluss that says yes (a nomination's two teams)
    reasoned_responses: frozenset[str]  # a response that asks for a reason, and keeps it


@dataclass
class Storage:
    db: Database
    network_id: int
    networks: Networks
    people: People
    teams: Teams
    rosters: Rosters
    events: Events
    proposals: Proposals
    rounds: Rounds
    reasons: Reasons
    votes: Votes
    invitations: Invitations
    nominations: Nominations
    delegations: Delegations
    elections: Elections
    lt_codes: LtCodes
    petitions: Petitions
    personal_data: PersonalData
    reminders: Reminders
    digests: Digests
    inbox: Inbox
    outbox: Outbox

    @classmethod
    async def open(
        cls, path: Path | str, network_name: str, now: datetime, terms: CharterTerms
    ) -> Storage:
        """The storage of a deployment of one network."""
        return (await cls.open_networks(path, [network_name], now, terms))[0]

    @classmethod
    async def open_networks(
        cls, path: Path | str, network_names: list[str], now: datetime, terms: CharterTerms
    ) -> list[Storage]:
        """One database, and each network's storage on it, in the order of the names (a
        network the database does not know yet is added; `Networks.ensure`)."""
        db = Database(path)
        await db.open()
        ids = await Networks(db).ensure(network_names, now)
        return [cls.scoped(db, network_id, terms) for network_id in ids]

    @classmethod
    def scoped(cls, db: Database, network_id: int, terms: CharterTerms) -> Storage:
        """The aggregates of one network on an open database: every query they make is
        that network's (SPEC §1); `networks`, the inbox and the outbox are the deployment's."""
        return cls(
            db=db,
            network_id=network_id,
            networks=Networks(db),
            people=People(db, network_id),
            teams=Teams(db, network_id),
            rosters=Rosters(db, network_id),
            events=Events(db, network_id),
            proposals=Proposals(db, network_id, terms.decided_outcomes),
            rounds=Rounds(db, network_id, terms.reasoned_responses),
            reasons=Reasons(db, network_id, terms.reasoned_responses),
            votes=Votes(db, network_id),
            invitations=Invitations(db, network_id),
            nominations=Nominations(db, network_id, terms.approving_outcomes),
            delegations=Delegations(db, network_id),
            elections=Elections(db, network_id),
            lt_codes=LtCodes(db, network_id),
            petitions=Petitions(db, network_id),
            personal_data=PersonalData(db, network_id),
            reminders=Reminders(db, network_id),
            digests=Digests(db, network_id),
            inbox=Inbox(db),
            outbox=Outbox(db),
        )

    def unit(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        """One unit of work (`Database.transaction`): everything this task does in storage
        until it ends, and the outbox rows it writes, commit together or not at all; inside
        another unit, a savepoint of it. A due item (a round closing, a reminder, a digest)
        is one."""
        return self.db.transaction()

    async def close(self) -> None:
        await self.db.close()
