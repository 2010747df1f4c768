"""Support requests (SPEC §6): an LT asks, the ST decides by its process, and the Beschluss
goes back to the LT chat and, where there is one, the UT chat."""

from __future__ import annotations

from bot.charter.outcomes import DecisionOutcome
from bot.charter.policy import DecisionKind, TeamKind
from bot.charter.refusals import Refusal
from bot.flows.round_cards import proposal_people
from bot.services import Services
from bot.texts import naming
from bot.texts.i18n import t
from storage.proposals import ProposalRecord
from storage.teams import Team


async def request_support(
    services: Services, lt: Team, requester_id: int, text: str
) -> ProposalRecord:
    """Open the ST's decision on an LT's request; returns the proposal."""
    if lt.kind != TeamKind.LT:
        raise Refusal("support.lt_only")
    steering = await services.storage.teams.by_kind(TeamKind.ST.value)
    if not steering:
        raise Refusal("support.no_st")
    lang = services.default_language
    title = t(lang, "support.title", team=naming.team(lt, lang))
    return await services.decisions.propose(
        steering[0],
        requester_id,
        f"{title}\n{text}",
        None,
        kind=DecisionKind.SUPPORT,
        payload={"lt_team_id": lt.id},
    )


async def support_decided(
    services: Services, proposal: ProposalRecord, outcome: DecisionOutcome
) -> None:
    """Tell the LT (and the UT, which supports LTs) what the ST decided."""
    lt = await services.storage.teams.by_id(int(proposal.payload.get("lt_team_id", 0)))
    if lt is None:
        return
    lang = services.default_language
    text = t(
        lang,
        "support.decided",
        id=proposal.number,
        team=naming.team(lt, lang),
        outcome=t(lang, f"outcome.{outcome.value}"),
        request=proposal.text,
    )
    about = await proposal_people(services, proposal)
    await services.outbox.send(lt.chat_id, text, about=about)
    for ut in await services.storage.teams.by_kind(TeamKind.UT.value):
        await services.outbox.send(ut.chat_id, text, about=about)


def register(services: Services) -> None:
    async def hook(proposal: ProposalRecord, outcome: DecisionOutcome) -> None:
        await support_decided(services, proposal, outcome)

    services.decisions.on_decided[DecisionKind.SUPPORT] = hook
