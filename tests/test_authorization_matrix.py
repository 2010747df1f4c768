"""Who may do what, where (issue 11, point 4): every command and every button, by everyone who
may or may not, in every kind of chat, against the real bot on the local Bot API.

The expected outcomes are written by hand from the specification (docs/spec.md, "§x") and the
network's charter (who decides what in which team) — never read from the command table
(handlers/commands.py) or the handlers: a test that took its expectations from the code it
tests could not fail. Where the specification was silent, the rule chosen is written here and
in docs/spec.md (§1 "Who may do what, where", §10 "Where before who").

A cell is (what is done, who does it, where). Who, in the chat where it happens:
  admin      a network admin (the config's), on no roster of an explicit team
  member     on the roster of the chat's team (in a private chat or an unbound group: a PT member)
  other      on another team's roster: a KT member (whom §5 gives powers beyond the KT; in the
             KT a PT member); in "other:K", K's member, who made K's proposal
  stranger   on no roster (Eve; she is the admin of the unbound group)
  anon       an anonymous admin: a message with sender_chat = the group (§1)
  bot        another bot in the group (§1: bots are never on a roster)
  addressee  for the buttons of a private question: the person it was asked of (Quinn)
Where: each team kind's own chat (PT, ST, KT, UT, LT, NET); "other:K": team K's proposal, card
button or member used in another team's chat (the PT's; K = PT: the ST's); a private chat; an
unbound group. In the LT and the NET (roster mode `chat`) whoever writes or presses there is on
the roster (§1, §3.3), so there everyone but anon and bot acts as a member.

Outcomes: allowed (the effect is there), refused (exactly the catalogue's text for the key, as
the reply or the press's answer; nothing stored, nothing edited, nothing sent elsewhere),
ignored (the bot row, §1 "Who the bot answers": a bot is nobody the bot answers — no message,
no answer to its press, nothing stored, nothing edited), and told once (the anon row, §1: an
anonymous admin's command is answered with `error.anonymous_admin` once per chat in ten
minutes, and changes nothing — so a cell sees exactly that one refusal, or nothing when an
earlier cell on the same bot told that chat already; and every chat an anonymous admin wrote
in was told at least once).

Not cells: an anonymous admin cannot press a button (Telegram always says who pressed), and
neither anon nor a bot has a private chat with the bot. A majority vote's poll answer is no
button (an outside answer is stored, to be reported as ignored: §4) and is tested elsewhere.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from tests.authorization_world import (
    ADA,
    BERIT,
    CHAT_MODE,
    CHATS,
    CHATS_B,
    EVE,
    HELPER_BOT,
    KARL,
    KINDS,
    NETWORK_IDS,
    NOT_STATE_COLUMNS,
    PAULA,
    QUINN,
    ROSTER,
    ROSTER_B,
    SEAT,
    UNBOUND,
    Act,
    Seen,
    World,
    any_of,
    prepare,
    run_all,
    says,
    username,
)

ROWS = ("admin", "member", "other", "stranger", "anon", "bot")
BUTTON_ROWS = ("admin", "member", "other", "stranger", "bot", "addressee")
TEAMS = frozenset(KINDS)
PRIVATE, UNBOUND_GROUP = "private", "unbound"
EVERYWHERE = TEAMS | {PRIVATE, UNBOUND_GROUP}
# The rosters of the prepared network (tests/authorization_world.py builds it so): two people
# on each team, and Ada on the NET's, which she bound (§1: in roster mode `chat` whoever the
# bot sees there is on it).
ON_ROSTER = {person: {kind} for kind, people in ROSTER.items() for person in people}
ON_ROSTER[ADA] = {"NET"}


class Who(Enum):
    ANYONE = "anyone"
    MEMBER = "on the roster of the chat's team"
    PROPOSER = "who made the proposal named"
    NETWORK_ADMIN = "a network admin"
    ADMIN_OR_KT = "a network admin or a KT member"
    NOT_IN_PT = "anyone not yet in the PT"
    BINDER = "a network admin or the group's admin"
    ADDRESSEE = "the person the question was asked of"


@dataclass(frozen=True)
class Effect:
    """What an allowed cell visibly does."""

    changes: tuple[str, ...] = ()  # tables that must change
    says: tuple[str, ...] = ()  # a new message here (or the press's answer) begins so
    document: bool = False  # a file is sent here
    asks: bool = False  # a question with buttons goes to the person privately
    calm: bool = False  # and nothing is stored


GROUP_ONLY = {PRIVATE: "error.group_only", UNBOUND_GROUP: "error.unbound_chat"}


@dataclass(frozen=True)
class Rule:
    """Where it is done, who may do it there, what the others are told, what it does.

    Where first: in a chat where it is not done, everyone is told so (`elsewhere`, by
    "private", "unbound", or "team" for a team chat of another kind); then a proposal, card or
    person of another team (`not_here`); then who (`not_who`) — but for /remove, where who
    comes first (`who_first`)."""

    spec: str
    where: frozenset[str]
    who: Who
    not_who: str | None
    effect: Effect
    elsewhere: Mapping[str, str] = field(default_factory=lambda: GROUP_ONLY)
    not_here: str | None = None
    who_first: bool = False
    privately: tuple[Who, str] | None = None  # who may in a private chat, if another


def only_in(team: str | None = None, **keys: str) -> dict[str, str]:
    """Elsewhere: a group-only answer in a private chat and an unbound group, `team` in the
    chat of another team; or `keys` as given."""
    return {**GROUP_ONLY, **({"team": team} if team else {}), **keys}


def everywhere_else(key: str) -> dict[str, str]:
    return {PRIVATE: key, UNBOUND_GROUP: key, "team": key}


M, A = Who.MEMBER, Who.ANYONE
LT, PT_ST, PT = frozenset({"LT"}), frozenset({"PT", "ST"}), frozenset({"PT"})
ALONE = frozenset({PRIVATE})


def shows(*keys: str) -> Effect:
    return Effect(says=keys, calm=True)


def stores(*tables: str, says: tuple[str, ...] = ()) -> Effect:
    return Effect(changes=tables, says=says)


# fmt: off
COMMANDS: dict[str, Rule] = {
    # Deciding (§3): members propose in their team's chat; only the proposer revises, asks for
    # the vote or withdraws, and a proposal of another team is unknown here.
    "propose":  Rule("§3.1", TEAMS, M, "proposal.not_member", stores("proposals")),
    "revise":   Rule("§3.6", TEAMS, Who.PROPOSER, "refused.not_proposer", stores("rounds"),
                     not_here="proposal.unknown"),
    "majority": Rule("§3.6", TEAMS, Who.PROPOSER, "refused.not_proposer", stores("votes"),
                     not_here="proposal.unknown"),
    "withdraw": Rule("§3.7", TEAMS, Who.PROPOSER, "refused.not_proposer", stores("proposals"),
                     not_here="proposal.unknown"),
    # What a team has decided, has open and is: no secret in its chat ("offenes Berichtswesen",
    # §0; the spec restricts none of these): anyone there may ask.
    "open":      Rule("§2 show_tally", TEAMS, A, None, shows("open.header")),
    "decisions": Rule("§7", TEAMS, A, None, shows("decisions.none", "decisions.header")),
    "digest":    Rule("§7", TEAMS, A, None, shows("digest.header", "digest.network_header")),
    "team":      Rule("§1, §2", TEAMS, A, None, shows("team.info")),
    "members":   Rule("§1", TEAMS, A, None, shows("members.header")),
    # The record as files (§7; who: chosen): a team's, in its chat, for its members; the
    # whole network's, privately, for network admins.
    "export":    Rule("§7", TEAMS | ALONE, M, "export.not_member", Effect(document=True),
                      privately=(Who.NETWORK_ADMIN, "export.private_not_admin")),
    # An LT asks the ST for support in its own chat (§6) and decides its own settings (§5).
    "request_support": Rule("§6", LT, M, "proposal.not_member",
                            stores("proposals", says=("support.sent",)),
                            elsewhere=only_in("support.lt_only")),
    "settings":        Rule("§5", LT, A, None, shows("settings.show"),
                            elsewhere=only_in("settings.lt_only")),
    "settings_change": Rule("§5", LT, M, "proposal.not_member", stores("proposals"),
                            elsewhere=only_in("settings.lt_only")),
    # UT/KT nominations: a PT or ST member, in that team's chat (§5).
    "nominate":  Rule("§5", PT_ST, M, "proposal.not_member", stores("nominations"),
                      elsewhere=only_in("nominate.where")),
    # Outside seats of the ST: network admins or KT members record the delegation (§5); the
    # spec says not where — recording an outside body's decision needs no team: anywhere.
    "delegate":  Rule("§5", EVERYWHERE, Who.ADMIN_OR_KT, "delegate.who", stores("delegations")),
    # The UT seat: a PT decision, started by a PT member in the PT's chat (§5).
    "delegate_ut": Rule("§5", PT, M, "proposal.not_member", stores("proposals"),
                        elsewhere=everywhere_else("delegate.ut_in_pt")),
    # Elections: a network admin or a KT member, in the team chat where it runs (§5).
    "election":  Rule("§5", TEAMS, Who.ADMIN_OR_KT, "election.who", stores("elections")),
    # A person's own business: /join privately or in the PT's chat (§5); an Anliegen and
    # personal data only privately (§8) — a petition's text is taken out of the group.
    "join":      Rule("§5", ALONE | PT, Who.NOT_IN_PT, "join.already_member",
                      stores("proposals", says=("join.sent",)),
                      elsewhere={UNBOUND_GROUP: "join.where", "team": "join.where"}),
    "petition":  Rule("§8", ALONE, A, None, Effect(changes=("petitions",), asks=True),
                      elsewhere=everywhere_else("petition.private_only_deleted")),
    "mydata":    Rule("§8", ALONE, A, None, Effect(document=True, calm=True),
                      elsewhere=everywhere_else("privacy.private_only")),
    "forgetme":  Rule("§8", ALONE, A, None, Effect(asks=True, calm=True),
                      elsewhere=everywhere_else("privacy.private_only")),
    # What the bot is and does, to anyone anywhere (/start in a group is /help: chosen).
    "start":     Rule("§10", EVERYWHERE, A, None, Effect(says=("help.intro",))),
    "help":      Rule("§10", EVERYWHERE, A, None, shows("help.intro")),
    # Rosters (§1): a member leaves; a network admin enters members in the set-up phase (every
    # team of the prepared network is in it; any kind: chosen) and removes them any time.
    "leave":     Rule("§1", TEAMS, M, "leave.not_member",
                      stores("roster_entries", says=("leave.done",))),
    "admit":     Rule("§1", TEAMS, Who.NETWORK_ADMIN, "refusal.not_network_admin",
                      stores("roster_entries", says=("admit.done",))),
    "remove":    Rule("§1", TEAMS, Who.NETWORK_ADMIN, "refusal.not_network_admin",
                      stores("roster_entries", says=("remove.done",)),
                      not_here="remove.not_member", who_first=True),
    # Binding (§1): an LT by a network admin or the group's admin; a bound chat stays bound.
    "setup":     Rule("§1", frozenset({UNBOUND_GROUP}), Who.BINDER, "refusal.not_chat_admin",
                      stores("teams"),
                      elsewhere={PRIVATE: "setup.group_only", "team": "refusal.already_bound"}),
}

# A card's button: counted for a member; anyone else is told, by an alert, that they are not
# on the roster (§1) — in roster mode `chat` a confirmed member of the chat joins the open
# round's electorate (§3.3). The buttons of a question asked privately (§5: a nomination, a
# delegation, a candidacy; §8: an Anliegen's choice, /forgetme) are answered by the person
# asked, where they were asked. A button's data used anywhere else is forged (§10).
INVALID = everywhere_else("press.invalid")
NOT_YOURS = "nominate.not_for_you"  # the bot's one text for it (it names a nomination)
BUTTONS: dict[str, Rule] = {
    "press":   Rule("§1, §3.3", TEAMS, M, "press.not_member",
                    stores("responses", says=("press.recorded",)),
                    elsewhere=INVALID, not_here="press.invalid"),
    "accept":  Rule("§5", ALONE, Who.ADDRESSEE, NOT_YOURS,
                    stores("nominations", says=("nominate.accepted",)), elsewhere=INVALID),
    "confirm": Rule("§5", ALONE, Who.ADDRESSEE, NOT_YOURS,
                    stores("delegations", says=("delegate.confirmed",)), elsewhere=INVALID),
    "stand":   Rule("§5", ALONE, Who.ADDRESSEE, NOT_YOURS,
                    stores("election_candidates", says=("election.standing",)),
                    elsewhere=INVALID),
    "petition_named": Rule("§8", ALONE, Who.ADDRESSEE, "petition.stale",
                           stores("petitions", says=("petition.posted_toast",)),
                           elsewhere=INVALID),
    "forget_yes":     Rule("§8", ALONE, Who.ADDRESSEE, "forget.stale",
                           stores("people", says=("forget.done_toast",)), elsewhere=INVALID),
}

# What is typed. {P}: the proposal of the team whose thing it is; {second}: its second member.
TYPED = {
    "propose": "/propose Ein neuer Vorschlag", "revise": "/revise {P} Ein besserer Text",
    "majority": "/majority {P}", "withdraw": "/withdraw {P}", "open": "/open",
    "decisions": "/decisions", "digest": "/digest", "team": "/team", "members": "/members",
    "export": "/export", "request_support": "/request_support Wir brauchen einen Raum",
    "settings": "/settings", "settings_change": "/settings process majority",
    "nominate": "/nominate @eve KT", "delegate": "/delegate @eve politik Stadtbezirksbeirat",
    "delegate_ut": "/delegate @eve ut", "election": "/election 1 @eve",
    "join": "/join Ich möchte mitmachen", "petition": "/petition Ich fühle mich übergangen",
    "mydata": "/mydata", "forgetme": "/forgetme", "start": "/start", "help": "/help",
    "leave": "/leave", "admit": "/admit @eve{seat}", "remove": "/remove @{second} Ist weggezogen",
    "setup": "/setup LT Neues Lösungsteam",
}
# fmt: on
NAMED = ("revise", "majority", "withdraw", "remove", "press")  # they have "other:K" cells


# -- the outcome of a cell ------------------------------------------------------------------


@dataclass(frozen=True)
class Allowed:
    effect: Effect


@dataclass(frozen=True)
class Refused:
    key: str


@dataclass(frozen=True)
class Ignored:
    """No message, no answer, nothing stored, nothing edited."""


@dataclass(frozen=True)
class ToldOnce:
    """The refusal `key` as the one message in the chat, or nothing (told a while ago)."""

    key: str


ANONYMOUS = ToldOnce("error.anonymous_admin")


@dataclass(frozen=True)
class Place:
    name: str  # "PT" … "NET", "other:PT" …, "private", "unbound"
    team: str | None  # the kind of the chat's team
    home: str  # the team whose proposal, card or member is named or pressed

    @property
    def cls(self) -> str:
        return self.team or self.name


def places(action: str) -> list[Place]:
    found = [Place(kind, kind, kind) for kind in KINDS]
    if action in NAMED:
        found += [Place(f"other:{k}", "ST" if k == "PT" else "PT", k) for k in KINDS]
    return [*found, Place(PRIVATE, None, "PT"), Place(UNBOUND_GROUP, None, "PT")]


def person(row: str, place: Place) -> int | None:
    fixed = {"admin": ADA, "stranger": EVE, "addressee": QUINN, "bot": HELPER_BOT, "anon": None}
    if row in fixed:
        return fixed[row]
    if place.team is None:
        return PAULA if row == "member" else KARL
    if row == "member":
        return ROSTER[place.team][0]
    if place.name.startswith("other:"):
        return ROSTER[place.home][0]
    return KARL if place.team != "KT" else PAULA


def may(who: Who, user: int, place: Place) -> bool:
    rosters = ON_ROSTER.get(user, set())
    match who:
        case Who.ANYONE:
            return True
        case Who.MEMBER:
            return place.team in rosters or place.team in CHAT_MODE
        case Who.PROPOSER:
            return user == ROSTER[place.home][0]
        case Who.NETWORK_ADMIN:
            return user == ADA
        case Who.ADMIN_OR_KT:
            return user == ADA or "KT" in rosters
        case Who.NOT_IN_PT:
            return "PT" not in rosters
        case Who.BINDER:
            return user in (ADA, EVE)
        case Who.ADDRESSEE:
            return user == QUINN


def expected(action: str, row: str, place: Place) -> object | None:
    """What the rules say for this cell; None where the cell cannot happen."""
    button = action in BUTTONS
    if (place.cls == PRIVATE and row in ("anon", "bot")) or (row == "anon" and button):
        return None
    if row == "addressee" and not button:
        return None
    if row == "bot":
        return Ignored()
    if row == "anon":
        return ANONYMOUS
    user = person(row, place)
    assert user is not None
    return outcome(action, user, place)


def outcome(action: str, user: int, place: Place) -> object:
    """What the rules say for this person (a person of the prepared network) here."""
    rule = BUTTONS[action] if action in BUTTONS else COMMANDS[action]
    if place.cls not in rule.where:
        return Refused(rule.elsewhere.get(place.cls) or rule.elsewhere["team"])
    who, not_who = rule.who, rule.not_who
    if place.cls == PRIVATE and rule.privately:
        who, not_who = rule.privately
    another_teams = rule.not_here if place.home != place.team and place.team else None
    if another_teams and not rule.who_first:
        return Refused(another_teams)
    if not may(who, user, place):
        return Refused(not_who or "")
    if another_teams:
        return Refused(another_teams)
    return Allowed(rule.effect)


def act(action: str, row: str, place: Place, world: World) -> Act:
    """What the person does in the cell."""
    user = person(row, place)
    chat_id = {PRIVATE: user, UNBOUND_GROUP: UNBOUND}.get(place.name) or CHATS[place.cls]
    assert chat_id is not None
    if action in BUTTONS:
        assert user is not None
        button = world.card[place.home] if action == "press" else world.questions[action]
        if button.chat_id == chat_id:
            return Act(chat_id, user, data=button.data, message_id=button.message_id)
        hung_on = world.bot_message[chat_id]
        return Act(chat_id, user, data=button.data, message_id=hung_on, forged=True)
    text = TYPED[action].format(
        P=world.proposal[place.home],
        second=username(ROSTER[place.home][1]),
        seat=SEAT.get(place.cls, ""),
    )
    # In a chat-mode team the person has written there before: what writing does (§1) is not
    # what the command does.
    written = place.name in CHAT_MODE and user not in (None, HELPER_BOT)
    return Act(chat_id, user, text=text, seen_first=written)


def judge(outcome: object, seen: Seen, here: int, private: int | None) -> str | None:
    """None if the cell did what the outcome says; else what it did instead."""
    messages = seen.messages.get(here, [])
    texts = [m.text or m.caption or "" for m in messages]
    answer = (seen.answer or {}).get("text") or ""
    changed = sorted(seen.changed)
    problems: list[str] = []
    if isinstance(outcome, Allowed):
        effect = outcome.effect
        problems += [f"{table} unchanged" for table in effect.changes if table not in seen.changed]
        if effect.calm and changed:
            problems.append(f"changed {changed}")
        if effect.says and not any(any_of([*texts, answer], k, whole=False) for k in effect.says):
            problems.append(f"said {texts or answer!r}, not {' or '.join(effect.says)}")
        if effect.document and not any(m.document for m in messages):
            problems.append(f"sent no file, said {texts!r}")
        if effect.asks and not any(m.reply_markup for m in seen.messages.get(private or 0, [])):
            problems.append("asked nothing privately")
        return "; ".join(problems) or None
    if changed:
        problems.append(f"changed {changed}")
    if seen.edits:
        problems.append(f"edited a message in {seen.edits}")
    elsewhere = [m.text for chat, ms in seen.messages.items() if chat != here for m in ms]
    if elsewhere:
        problems.append(f"wrote elsewhere {elsewhere!r}")
    if isinstance(outcome, Refused):
        said = [answer] if seen.answer is not None else texts
        if seen.answer is not None and texts:
            problems.append(f"wrote {texts!r}")
        if len(said) != 1 or not says(said[0], outcome.key):
            problems.append(f"said {said!r}, not {outcome.key}")
    elif isinstance(outcome, ToldOnce):
        if seen.answer is not None:
            problems.append(f"answered {answer!r}")
        plain = not any(m.reply_markup or m.document for m in messages)
        if len(messages) > 1 or not plain or (texts and not says(texts[0], outcome.key)):
            problems.append(f"said {texts!r}, not {outcome.key} or nothing")
    elif messages or seen.answer is not None:  # ignored
        problems.append(f"said {texts or answer!r}")
    return "; ".join(problems) or None


def describe(outcome: object) -> str:
    if isinstance(outcome, Allowed):
        return "allowed"
    if isinstance(outcome, ToldOnce):
        return f"{outcome.key} or nothing"
    return f"refused {outcome.key}" if isinstance(outcome, Refused) else "ignored"


async def test_every_command_and_button_by_everyone_everywhere(tmp_path: Path) -> None:
    started = time.perf_counter()
    prepared = await prepare(tmp_path / "network")
    cells = [
        ((action, row, place.name), outcome, act(action, row, place, prepared.world))
        for action in [*COMMANDS, *BUTTONS]
        for place in places(action)
        for row in (BUTTON_ROWS if action in BUTTONS else ROWS)
        if (outcome := expected(action, row, place)) is not None
    ]
    seen, bots = await run_all(prepared, tmp_path, [(key, done) for key, _, done in cells], 8)
    differing = [
        f"{key}: expected {describe(outcome)}, but {problem}"
        for key, outcome, done in cells
        if (problem := judge(outcome, seen[key], done.chat_id, done.user_id))
    ]
    counts = {
        "allowed": sum(isinstance(o, Allowed) for _, o, _ in cells),
        "refused": sum(isinstance(o, Refused) for _, o, _ in cells),
        "anon": sum(isinstance(o, ToldOnce) for _, o, _ in cells),
        "bot": sum(isinstance(o, Ignored) for _, o, _ in cells),
    }
    print(f"\n{len(cells)} cells {counts}, {bots} bots, {time.perf_counter() - started:.1f} s")
    assert not differing, f"{len(differing)} of {len(cells)} cells differ:\n" + "\n".join(differing)
    # "Or nothing" only because a chat was told a moment ago: each chat an anonymous admin
    # wrote in was told.
    anon_chats = {done.chat_id for _, o, done in cells if isinstance(o, ToldOnce)}
    told = {
        done.chat_id
        for key, o, done in cells
        if isinstance(o, ToldOnce) and seen[key].messages.get(done.chat_id)
    }
    assert anon_chats and told == anon_chats, f"never told: {sorted(anon_chats - told)}"


# -- the network dimension (issue 14, point 5) ----------------------------------------------
#
# A deployment of two networks, each with every team kind as above ("WiQ Test", admin Ada;
# "Südwest", admin Berit, its people of its own: tests/authorization_world.py `_build_two`).
# Who, where:
#   in the first network's team chats: the other network's admin (Berit) and member (the
#     Südwest member of a team of the same kind) — on no roster here, no admin here (§1: an
#     admin is a network's; a roster is a team's): what anyone on no roster gets, as Eve above
#     (in roster mode `chat`, writing there puts them on the roster, as anyone);
#   in the second network's team chats: its own member — a command there acts there, on its
#     data, as the first network's people do in theirs — and for what only an admin may do,
#     its own admin and the first network's, who is no admin there;
#   a team chat of one network where a card of the other's is pressed: unknown there, as
#     another team's (§3, §10);
# (Privately, a person is placed in a network before any command: tests/test_e2e_networks.py.)
# Every cell that stores something stores it in the network of the chat.

NOBODY = 0  # a person of no roster and no admin, in the terms of the first network's rules
SECOND = "second:"
CROSSED = "crossed:"  # a chat of one network, a proposal or card of the other's
ADMINS_ONLY = [  # what a network admin may do that others may not
    action
    for action, rule in COMMANDS.items()
    if rule.who in (Who.NETWORK_ADMIN, Who.ADMIN_OR_KT, Who.BINDER)
]


@dataclass(frozen=True)
class NetworkCell:
    key: tuple[str, str, str]
    outcome: object
    act: Act
    network: str  # "A" or "B": the network of the chat


def network_cells(world: World) -> list[NetworkCell]:
    cells: list[NetworkCell] = []
    actions = [*COMMANDS, "press"]
    for kind in KINDS:
        here = Place(kind, kind, kind)
        for action in actions:
            # The first network's chat: the other network's admin and member.
            for row, user in (("admin_other", BERIT), ("member_other", ROSTER_B[kind][0])):
                cells.append(_cell(world, action, row, here, user, NOBODY, "A"))
            # The second network's chat: its own member, and for what needs an admin its own
            # admin and the first's (the first's member there is the second's in the first's
            # chat, mirrored).
            there = Place(f"{SECOND}{kind}", kind, kind)
            rows = [("member", ROSTER_B[kind][0], ROSTER[kind][0])]
            if action in ADMINS_ONLY:
                rows += [("admin", BERIT, ADA), ("admin_other", ADA, NOBODY)]
            for row, user, as_if in rows:
                cells.append(_cell(world, action, row, there, user, as_if, "B"))
        # A card of the other network, pressed (forged) here. A typed number names none of
        # the other's proposals: each network counts from #1, so /revise N in a chat is that
        # network's #N, and a number only the other has is unknown here
        # (tests/test_e2e_networks_numbers.py).
        for action in ("press",):
            crossed = Place(f"{CROSSED}{kind}", kind, f"{SECOND}{kind}")
            cells.append(_cell(world, action, "member", crossed, ROSTER[kind][0], NOBODY, "A"))
            crossed_b = Place(f"{CROSSED}{SECOND}{kind}", kind, f"first:{kind}")
            cells.append(_cell(world, action, "member", crossed_b, ROSTER_B[kind][0], NOBODY, "B"))
    return cells


def _cell(
    world: World, action: str, row: str, place: Place, user: int, as_if: int, network: str
) -> NetworkCell:
    """A cell of the network dimension: `user` does it, judged as `as_if` would be in the
    first network (by the symmetry of the two)."""
    assert place.team is not None
    kind = place.team
    second_chat = network == "B"
    chat_id = (CHATS_B if second_chat else CHATS)[kind]
    # Whose proposal and card: the chat's network's, or (crossed) the other's.
    named_second = second_chat != place.name.startswith(CROSSED)
    if action == "press":
        button = (world.card_b if named_second else world.card)[kind]
        if button.chat_id == chat_id:
            done = Act(chat_id, user, data=button.data, message_id=button.message_id)
        else:
            hung_on = world.bot_message[chat_id]
            done = Act(chat_id, user, data=button.data, message_id=hung_on, forged=True)
    else:
        roster = ROSTER_B if named_second else ROSTER
        text = TYPED[action].format(
            P=(world.proposal_b if named_second else world.proposal)[kind],
            second=username(roster[kind][1]),
            seat=SEAT.get(kind, ""),
        )
        done = Act(chat_id, user, text=text, seen_first=kind in CHAT_MODE)
    return NetworkCell((action, row, place.name), outcome(action, as_if, place), done, network)


def stored_elsewhere(cell: NetworkCell, seen: Seen, columns: Mapping[str, list[str]]) -> str | None:
    """Rows a cell added in a table of networks that are not its chat's network's."""
    wrong = []
    for table, (added, _) in seen.changed.items():
        if "network_id" not in columns.get(table, []):
            continue
        at = columns[table].index("network_id")
        wrong += [table for row in added if row[at] != NETWORK_IDS[cell.network]]
    return f"stored in the other network: {sorted(set(wrong))}" if wrong else None


def table_columns(database: Path) -> dict[str, list[str]]:
    """The columns of each table as the world's State reads them."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        names = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {
            name: [
                row[1]
                for row in connection.execute(f"PRAGMA table_info({name})")
                if row[1] not in NOT_STATE_COLUMNS.get(name, set())
            ]
            for name in names
        }


async def test_the_other_networks_admin_member_and_chat(tmp_path: Path) -> None:
    started = time.perf_counter()
    prepared = await prepare(tmp_path / "networks", second=True)
    print(f"\nprepared in {time.perf_counter() - started:.1f} s;", end=" ")
    cells = network_cells(prepared.world)
    columns = table_columns(prepared.database)
    seen, bots = await run_all(prepared, tmp_path, [(c.key, c.act) for c in cells], 8)
    differing = []
    for cell in cells:
        problems = [
            judge(cell.outcome, seen[cell.key], cell.act.chat_id, cell.act.user_id),
            stored_elsewhere(cell, seen[cell.key], columns),
        ]
        if problem := "; ".join(p for p in problems if p):
            differing.append(f"{cell.key}: expected {describe(cell.outcome)}, but {problem}")
    allowed = sum(isinstance(c.outcome, Allowed) for c in cells)
    print(f"{len(cells)} cells ({allowed} allowed), {bots} bots,", end=" ")
    print(f"{time.perf_counter() - started:.1f} s")
    assert not differing, f"{len(differing)} of {len(cells)} cells differ:\n" + "\n".join(differing)
