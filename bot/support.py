"""Support requests (SPEC §6): an LT asks, the ST decides by its process, and the Beschluss
goes back to the LT chat and, where there is one, the UT chat."""

from __future__ import annotations

from bot.i18n import t
from bot.policy import DecisionKind, TeamKind
from bot.rules import DecisionOutcome
from bot.services import Services
from storage.proposals import ProposalRecord
from storage.teams import Team


class SupportRefusal(Exception):
    """Why a support request cannot be made; `key` is its text."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


async def request_support(wiq: Services, lt: Team, requester_id: int, text: str) -> int:
    """Open the ST's decision on an LT's request; returns the proposal's id."""
    if lt.kind != TeamKind.LT:
        raise SupportRefusal("support.lt_only")
    steering = await wiq.storage.teams.by_kind(TeamKind.ST.value)
    if not steering:
        raise SupportRefusal("support.no_st")
    lang = wiq.default_language
    title = t(lang, "support.title", team=lt.name)
    return await wiq.decisions.propose(
        steering[0],
        requester_id,
        f"{title}\n{text}",
        None,
        kind=DecisionKind.SUPPORT,
        payload={"lt_team_id": lt.id},
    )


async def support_decided(
    wiq: Services, proposal: ProposalRecord, outcome: DecisionOutcome
) -> None:
    """Tell the LT (and the UT, which supports LTs) what the ST decided."""
    lt = await wiq.storage.teams.by_id(int(proposal.payload.get("lt_team_id", 0)))
    if lt is None:
        return
    lang = wiq.default_language
    text = t(
        lang,
        "support.decided",
        id=proposal.id,
        team=lt.name,
        outcome=t(lang, f"outcome.{outcome.value}"),
        request=proposal.text,
    )
    await wiq.outbox.send(lt.chat_id, text)
    for ut in await wiq.storage.teams.by_kind(TeamKind.UT.value):
        await wiq.outbox.send(ut.chat_id, text)


def register(wiq: Services) -> None:
    async def hook(proposal: ProposalRecord, outcome: DecisionOutcome) -> None:
        await support_decided(wiq, proposal, outcome)

    wiq.decisions.on_decided[DecisionKind.SUPPORT] = hook
