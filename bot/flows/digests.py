"""Weekly digests (Wochenrückblick, SPEC §7): what a week held, per team chat; the network
digest for the PT and KT chats; the public digest; and the schedule with its catch-up.

`gather` reads a week from storage; the `render_*` functions turn it into text without I/O;
`DigestRunner` decides when and where they go (once per scheduled moment, claimed in the
database, so a digest missed while the bot was down is sent once and never twice)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.charter.digest import DigestKind, digest_for, is_public_decision, names_in_public
from bot.charter.policy import TeamKind
from bot.charter.schedule import WEEK, last_slot, next_slot
from bot.flows.open_items import OpenItem, open_items
from bot.flows.port import DigestSent, Priority
from bot.flows.round_cards import proposal_people
from bot.services import Services
from bot.texts import naming
from bot.texts.i18n import Html, t
from bot.texts.render import message_link
from storage.digests import Decided, ElectionNews, RosterChange
from storage.nominations import Nomination
from storage.people import Person
from storage.teams import Team

log = logging.getLogger(__name__)

# Ways off a roster with their own words; any other is "left".
LEFT_HOWS = ("left", "removed", "left_chat", "removed_from_chat")


@dataclass
class TeamWeek:
    team: Team
    decided: list[Decided] = field(default_factory=list)
    open: list[OpenItem] = field(default_factory=list)
    nominations: list[Nomination] = field(default_factory=list)
    roster: list[RosterChange] = field(default_factory=list)
    elections: list[ElectionNews] = field(default_factory=list)

    @property
    def quiet(self) -> bool:
        return not (self.decided or self.open or self.nominations or self.roster or self.elections)


@dataclass
class Week:
    start: datetime
    end: datetime
    network: str
    teams: list[TeamWeek]
    people: dict[int, Person]

    def of(self, team_id: int) -> TeamWeek | None:
        return next((week for week in self.teams if week.team.id == team_id), None)


@dataclass(frozen=True, slots=True)
class Formats:
    """How dates look in one language (the network's timezone)."""

    lang: str
    moment: Callable[[datetime], str]
    day: Callable[[datetime], str]


# -- reading a week ----------------------------------------------------------------------------


async def gather(services: Services, start: datetime, end: datetime) -> Week:
    """The week [start, end): decisions, roster changes, and what is open now."""
    store = services.storage
    teams = await store.teams.all()
    weeks = {team.id: TeamWeek(team) for team in teams}
    for decided in await store.digests.decided(start, end):
        if decided.team_id in weeks:
            weeks[decided.team_id].decided.append(decided)
    for change in await store.digests.roster_changes(start, end):
        if change.team_id in weeks:
            weeks[change.team_id].roster.append(change)
    elections = await store.digests.elections(start, end)
    for election in elections:
        if election.team_id in weeks:
            weeks[election.team_id].elections.append(election)
    nominations = await store.nominations.open_nominations()
    for week in weeks.values():
        week.open = await open_items(services, week.team)
        # Open nominations are decided in the PT and the ST: their digests list them.
        if week.team.kind in (TeamKind.PT.value, TeamKind.ST.value):
            week.nominations = list(nominations)
    ids = {c.person_id for w in weeks.values() for c in w.roster}
    ids |= {c.by for w in weeks.values() for c in w.roster if c.by is not None}
    ids |= {n.candidate_id for n in nominations if n.candidate_id is not None}
    ids |= {i for e in elections for i in (*e.elected, *e.tied)}
    people = await store.people.by_ids(sorted(ids))
    return Week(start, end, services.network.name, list(weeks.values()), people)


async def people_named(services: Services, week: Week) -> list[int]:
    """Everyone a digest of the week may name (kept with the queued digest for /forgetme):
    the people of its roster changes, nominations and elections, and those the decisions'
    titles name."""
    found = set(week.people)
    for team_week in week.teams:
        proposals = [item.proposal for item in team_week.open]
        for decided in team_week.decided:
            proposal = await services.storage.proposals.get(decided.proposal_id)
            if proposal is not None:
                proposals.append(proposal)
        for proposal in proposals:
            found.update(await proposal_people(services, proposal))
    return sorted(found)


# -- rendering ---------------------------------------------------------------------------------


def _period(week: Week, fmt: Formats) -> str:
    return f"{fmt.day(week.start)} – {fmt.day(week.end)}"


def _team_lines(
    week: Week, team_week: TeamWeek, fmt: Formats, shown: set[int] | None = None
) -> list[str]:
    """A team's part of a digest. `shown`: nominations already listed in an earlier team's
    part of the same digest (the network digest names each once)."""
    lang = fmt.lang
    lines: list[str] = []
    if team_week.decided:
        lines.append(t(lang, "digest.decided_header"))
        for decided in team_week.decided:
            link = message_link(decided.chat_id, decided.message_id)
            lines.append(
                t(
                    lang,
                    "digest.decided",
                    id=decided.number,
                    title=decided.title,
                    outcome=t(lang, f"outcome.{decided.outcome}"),
                    date=fmt.day(decided.closed_at),
                )
                + (t(lang, "digest.link", url=link) if link else "")
            )
    if team_week.open:
        lines.append(t(lang, "digest.open_header"))
        for item in team_week.open:
            key = f"digest.open_{item.stage}"
            lines.append(
                t(
                    lang,
                    key,
                    id=item.proposal.number,
                    title=item.proposal.title,
                    round=item.round_number,
                    deadline=fmt.moment(item.until),
                    missing=len(item.missing),
                )
            )
    nominations = [n for n in team_week.nominations if shown is None or n.id not in shown]
    if shown is not None:
        shown.update(n.id for n in nominations)
    if nominations:
        lines.append(t(lang, "digest.nominations_header"))
        for nomination in nominations:
            candidate = (
                naming.name(week.people.get(nomination.candidate_id))
                if nomination.candidate_id is not None
                else naming.name(None, username=nomination.candidate_username)
            )
            lines.append(
                t(
                    lang,
                    "digest.nomination",
                    name=candidate,
                    team=t(lang, f"kind.{nomination.target_kind}"),
                    pt=_stand(lang, nomination.pt_outcome),
                    st=_stand(lang, nomination.st_outcome),
                    accepted=t(
                        lang,
                        "digest.accepted" if nomination.accepted_at else "digest.not_accepted",
                    ),
                )
            )
    if team_week.elections:
        lines.append(t(lang, "digest.elections_header"))
        lines.extend(_election_line(week, election, fmt) for election in team_week.elections)
    if team_week.roster:
        lines.append(t(lang, "digest.roster_header"))
        for change in team_week.roster:
            lines.append(_roster_line(week, change, lang))
    return lines


def _election_line(week: Week, election: ElectionNews, fmt: Formats) -> Html:
    lang = fmt.lang
    if election.status != "closed":
        until = fmt.moment(election.until) if election.until else "–"
        key = "digest.election_voting" if election.status == "voting" else "digest.election_asking"
        return t(lang, key, id=election.number, seats=election.seats, until=until)
    elected = ", ".join(naming.name(week.people.get(i)) for i in election.elected) or "–"
    line = t(lang, "digest.election_closed", id=election.number, elected=elected)
    if election.tied:
        tied = ", ".join(naming.name(week.people.get(i)) for i in election.tied)
        line = Html(line + t(lang, "digest.election_tied", names=tied))
    return line


def _stand(lang: str, outcome: str | None) -> Html:
    return t(lang, f"outcome.{outcome}") if outcome else t(lang, "digest.pending")


def _roster_line(week: Week, change: RosterChange, lang: str) -> Html:
    name = naming.name(week.people.get(change.person_id))
    by = naming.name(week.people.get(change.by or 0))
    if change.joined:
        how = t(lang, f"members.how.{change.how}", by=by, decisions="")
        return t(lang, "digest.joined", name=name, how=how)
    how_key = change.how if change.how in LEFT_HOWS else "left"
    line = t(lang, f"digest.left_{how_key}", name=name, by=by)
    if change.reason:
        line = Html(line + t(lang, "digest.reason", reason=change.reason))
    return line


def _section(team: Team, lang: str) -> list[str]:
    """A blank line and the team's heading, before its part of a longer digest."""
    return ["", t(lang, "digest.section", team=team.name, kind=team.kind)]


def render_team(week: Week, team_week: TeamWeek, fmt: Formats, *, quiet_line: bool) -> Html | None:
    """A team's own Wochenrückblick; None for a quiet week when the config says nothing."""
    name = team_week.team.name
    if team_week.quiet:
        if not quiet_line:
            return None
        return t(fmt.lang, "digest.quiet", team=name, period=_period(week, fmt))
    header = t(fmt.lang, "digest.header", team=name, period=_period(week, fmt))
    return Html("\n".join([header, *_team_lines(week, team_week, fmt)]))


def render_network(week: Week, fmt: Formats, *, quiet_line: bool) -> Html | None:
    """The network digest (PT and KT chats): one section per team that had news."""
    lang = fmt.lang
    busy = [w for w in week.teams if not w.quiet]
    if not busy:
        if not quiet_line:
            return None
        return t(lang, "digest.network_quiet", network=week.network, period=_period(week, fmt))
    lines: list[str] = [
        t(lang, "digest.network_header", network=week.network, period=_period(week, fmt))
    ]
    shown: set[int] = set()
    for team_week in busy:
        lines.extend(_section(team_week.team, lang))
        lines.extend(_team_lines(week, team_week, fmt, shown))
    quiet = [w.team.name for w in week.teams if w.quiet]
    if quiet:
        lines.append("")
        lines.append(t(lang, "digest.quiet_teams", teams=", ".join(quiet)))
    return Html("\n".join(lines))


def render_public(week: Week, fmt: Formats, *, quiet_line: bool) -> Html | None:
    """The public digest: decisions and their outcomes only. It never names who proposed,
    responded or voted; people appear only where they took a public role (a new member
    appointed, admitted, elected or delegated)."""
    lang = fmt.lang
    lines: list[str] = []
    for team_week in week.teams:
        decided = [d for d in team_week.decided if is_public_decision(d.kind)]
        if not decided:
            continue
        lines.extend(_section(team_week.team, lang))
        for item in decided:
            lines.append(
                t(
                    lang,
                    "digest.public_decided",
                    title=item.title,
                    outcome=t(lang, f"outcome.{item.outcome}"),
                    date=fmt.day(item.closed_at),
                )
            )
    joined = [
        (team_week.team, change)
        for team_week in week.teams
        for change in team_week.roster
        if change.joined and names_in_public(change.how)
    ]
    if joined:
        lines.append("")
        lines.append(t(lang, "digest.public_joined_header"))
        for team, change in joined:
            lines.append(
                t(
                    lang,
                    f"digest.public_joined_{change.how}",
                    name=naming.name(week.people.get(change.person_id)),
                    team=team.name,
                )
            )
    if not lines:
        if not quiet_line:
            return None
        return t(lang, "digest.public_quiet", network=week.network, period=_period(week, fmt))
    header = t(lang, "digest.public_header", network=week.network, period=_period(week, fmt))
    return Html("\n".join([header, *lines]))


# -- where and when ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    kind: DigestKind
    chat_id: int
    team_id: int | None


def targets(teams: list[Team], public_chat_id: int | None) -> list[Target]:
    """Each chat gets one digest: the public chat the public one, the PT and KT chats the
    network digest, every other team chat its own."""
    found = []
    if public_chat_id is not None:
        public_team = next((team for team in teams if team.chat_id == public_chat_id), None)
        found.append(
            Target(DigestKind.PUBLIC, public_chat_id, public_team.id if public_team else None)
        )
    for team in teams:
        if team.chat_id == public_chat_id:
            continue
        kind = digest_for(team.kind, is_public_chat=False)
        found.append(Target(kind, team.chat_id, team.id))
    return found


def render_for(target: Target, week: Week, fmt: Formats, *, quiet_line: bool) -> Html | None:
    if target.kind is DigestKind.PUBLIC:
        return render_public(week, fmt, quiet_line=quiet_line)
    if target.kind is DigestKind.NETWORK:
        return render_network(week, fmt, quiet_line=quiet_line)
    team_week = week.of(target.team_id or 0)
    if team_week is None:
        return None
    return render_team(week, team_week, fmt, quiet_line=quiet_line)


class DigestRunner:
    """Runs the weekly digest at its moment (the one timer wakes for `next_run`) and
    catches up a missed one at start; `current` is the on-demand /digest."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def formats(self, lang: str) -> Formats:
        return Formats(
            lang,
            lambda moment: self.services.local_datetime(moment, lang),
            lambda moment: self.services.local_date(moment, lang),
        )

    def _slot(self, now: datetime) -> datetime:
        cfg = self.services.network
        return last_slot(now, cfg.digest.weekday, cfg.digest.time, cfg.timezone)

    def next_run(self, now: datetime) -> datetime:
        cfg = self.services.network
        return next_slot(now, cfg.digest.weekday, cfg.digest.time, cfg.timezone)

    async def _targets(self) -> list[Target]:
        public = self.services.network.digest.public_chat_id
        if public is not None:  # the NET chat may have become a supergroup since
            public = await self.services.storage.digests.current_chat(public)
        return targets(await self.services.storage.teams.all(), public)

    async def run_due(self) -> bool:
        """The latest scheduled moment's digest, if it has not been sent (once: claimed in
        the database with every chat it goes to); whether it went out now. The one timer
        wakes for the next moment."""
        now = self.services.clock.now()
        slot = self._slot(now)
        store = self.services.storage.digests
        # A moment before the network existed was not missed: the bot was not there yet.
        if slot > await store.network_created_at():
            async with self.services.storage.unit():  # the claim and every chat's digest
                planned = await self._targets()
                rows = [(p.kind.value, p.chat_id, p.team_id) for p in planned]
                if await store.claim_slot(slot, now, rows):
                    log.info("event=digest slot=%s chats=%d", slot.isoformat(), len(planned))
                    await self._deliver(slot, planned)
                    return True
        return False

    def latest_slot(self, now: datetime) -> datetime:
        """The digest's latest scheduled moment at or before `now`."""
        return self._slot(now)

    async def send_claimed(self, slot: datetime, planned: list[Target]) -> None:
        """The digests of a slot claimed by a run that never sent them (bot.flows.upgrade)."""
        await self._deliver(slot, planned)

    async def _deliver(self, slot: datetime, planned: list[Target]) -> None:
        await self.services.decisions.run_due()  # what closed at this very moment is decided
        week = await gather(self.services, slot - WEEK, slot)
        fmt = self.formats(self.services.default_language)
        quiet_line = self.services.network.digest.quiet_week == "line"
        store = self.services.storage.digests
        about = await people_named(self.services, week)
        for target in planned:
            text = render_for(target, week, fmt, quiet_line=quiet_line)
            if text is None:
                await store.mark_sent(slot, target.chat_id, self.services.clock.now())
                continue

            await self.services.outbox.send(
                target.chat_id,
                text,
                priority=Priority.NOTICE,
                on_posted=DigestSent(slot, target.chat_id),
                about=about,
            )

    async def current(self, chat_id: int, lang: str) -> tuple[Html, list[int]] | None:
        """What this chat's digest would say now, for the past seven days (/digest), and the
        people it may name."""
        planned = await self._targets()
        target = next((p for p in planned if p.chat_id == chat_id), None)
        if target is None:
            return None
        now = self.services.clock.now()
        week = await gather(self.services, now - WEEK, now)
        text = render_for(target, week, self.formats(lang), quiet_line=True)
        if text is None:
            return None
        return text, await people_named(self.services, week)
