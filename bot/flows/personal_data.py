"""A person's own data (SPEC §8): /mydata gives them everything stored about them; /forgetme
takes them off every roster, ends what is still open about them, and leaves in the record only
a random pseudonym, so the counts of past decisions stay what they were."""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from bot.charter.teams import Leaving
from bot.flows import elections, nominations, rosters
from bot.services import Services
from bot.texts import naming
from bot.texts.i18n import escape
from storage.outbox import Rename
from storage.people import Person, new_pseudonym

log = logging.getLogger(__name__)

FILE_NAME = "wiq-meine-daten.json"


async def personal_data(services: Services, person: Person) -> bytes:
    """Everything the database holds about the person, as a JSON document."""
    data: dict[str, Any] = {
        "network": services.network.name,
        "exported_at": services.clock.now().isoformat(),
        **await services.storage.personal_data.personal_data(person.id),
    }
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")


async def of_networks(found: list[tuple[Services, Person]]) -> bytes:
    """/mydata of a person in a deployment of several networks: each network that knows
    them, with everything it holds about them (SPEC §1, §8)."""
    networks = []
    for services, person in found:
        networks.append(
            {
                "network": services.network.name,
                **await services.storage.personal_data.personal_data(person.id),
            }
        )
    now = found[0][0].clock.now().isoformat() if found else None
    data = {"exported_at": now, "networks": networks}
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")


async def team_names(services: Services, person: Person) -> list[str]:
    names = []
    for team_id in await services.storage.rosters.teams_of(person.id):
        team = await services.storage.teams.by_id(team_id)
        if team is not None:
            names.append(team.name)
    return names


async def forget(services: Services, person: Person) -> bool:
    """/forgetme, confirmed. False if this person was forgotten already."""
    now = services.clock.now()
    # What waits for the person's answer ends as if they had declined; decisions about
    # them end. Both while the bot still knows who they are, so every chat hears it.
    open_ = await services.storage.personal_data.open_questions(person.id, person.username)
    for nomination_id in open_.nominations:
        # One made by their @username is theirs to decline too (bound first, no-op if it is).
        await services.storage.nominations.bind_candidate(nomination_id, person.id, now)
        await nominations.answer(services, nomination_id, person, False)
    for delegation_id in open_.delegations:
        await services.storage.delegations.close(delegation_id, "declined", now)
    for election_id, position in open_.candidacies:
        await elections.withdraw(services, election_id, position, person)
    for proposal_id in open_.proposals:
        await services.decisions.end(proposal_id, event="proposal.subject_forgotten")
    # Off every roster, recorded like a leave; open rounds and votes lose them as well.
    for team_id in await services.storage.rosters.teams_of(person.id):
        team = await services.storage.teams.by_id(team_id)
        if team is None:
            continue
        await rosters.leave(services, team, person, Leaving.LEFT, by=person)
    # What still waits in the outbox and names them is re-rendered, found by their id: each
    # form a text can name them by becomes what names the forgotten person.
    pseudonym = new_pseudonym()
    current = await services.storage.people.by_id(person.id) or person
    html_forms, plain_forms = renames(current, pseudonym)
    done = await services.storage.personal_data.forget(
        person.id, pseudonym, now, html_forms, plain_forms
    )
    services.storage.people.drop_cached(person.id)
    if done:
        log.info("event=forgotten person=%s", person.id)
    return done


def renames(person: Person, pseudonym: str) -> tuple[list[Rename], list[Rename]]:
    """How texts name the person (bot.texts.naming: a name, a mention, either with the
    @username after it, the @username alone), each paired with how they name the person once
    forgotten: as HTML (a text) and as plain text (a poll's question and options)."""
    gone = dataclasses.replace(
        person,
        telegram_id=None,
        first_name=None,
        last_name=None,
        username=None,
        pseudonym=pseudonym,
    )
    plain = [(naming.name(person, with_username=w), naming.name(gone)) for w in (True, False)]
    if person.username:
        plain.append((f"@{person.username}", naming.name(gone)))
    html = [(escape(old), escape(new)) for old, new in plain]
    html += [(naming.mention(person, with_username=w), naming.mention(gone)) for w in (True, False)]
    return html, plain
