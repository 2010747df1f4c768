"""How a text names a person (`name` everywhere, `mention` where the bot means to reach them)
and a team (`team`)."""

from __future__ import annotations

import html
import re

from bot.texts.i18n import Html, t
from storage.people import Person
from storage.teams import Team


def name(person: Person | None, *, username: str | None = None, with_username: bool = False) -> str:
    """A person as every text names them: their first and last name; without one, their
    @username; a forgotten person, their pseudonym.

    Someone the bot does not know (yet) is named by the @`username` they were named by, or "?"
    (a record whose person is not at hand). `with_username` adds the @username after a name
    that does not already show it, to tell apart people of the same name. Plain text: `t`
    escapes it like any parameter.
    """
    if person is None:
        return f"@{username}" if username else "?"
    full = " ".join(part for part in (person.first_name, person.last_name) if part)
    plain = full or (f"@{person.username}" if person.username else person.pseudonym)
    return plain + _username_after(person, plain) if with_username else plain


def mention(person: Person, *, with_username: bool = False) -> Html:
    """The person's `name` as a text mention, which notifies them (even without a username).

    A separate function because a mention is a ping: a reminder of who has not answered, a
    welcome, the PT learning who brought an Anliegen. Cards, digests and lists use the plain
    `name`, so that naming someone does not reach them. A forgotten person (no Telegram id)
    gets the plain name.
    """
    plain = name(person)
    shown = html.escape(plain, quote=False)
    if person.telegram_id is not None:
        shown = f'<a href="tg://user?id={person.telegram_id}">{shown}</a>'
    return Html(shown + _username_after(person, plain) if with_username else shown)


def _username_after(person: Person, plain: str) -> str:
    """The " (@anna_b)" that follows a name which does not already show the username."""
    if person.username and plain != f"@{person.username}":
        return f" (@{person.username})"
    return ""


def team(team: Team, lang: str, *, start: bool = False) -> Html:
    """A team as a sentence names it: its name in quotes, its kind said once.

    „Steuerungsteam“ (ST) where the name is the kind's own word (or holds it), Lösungsteam
    „Bänke am Markt“ where it does not, and just „LT Bänke“ where the name carries the
    kind's short form already; `start` capitalises the kind at the start of a heading. The
    texts around it say "im {team}", "zum {team}", "vom {team}": every kind is "das …team"
    but the NET chat, "der Netzwerk-Chat", and im/zum/vom fit both.
    """
    kind = t(lang, f"team.kind.{team.kind}")
    if start:  # at the start of a heading: "Solution team “Garden”"
        kind = Html(kind[:1].upper() + kind[1:])
    name = team.name.strip()
    if re.search(rf"(?<!\w){re.escape(team.kind)}(?!\w)", name):
        return t(lang, "team.quoted", name=name)
    if kind.casefold() in name.casefold():
        return t(lang, "team.named_short", name=name, short=team.kind)
    return t(lang, "team.named", kind=kind, name=name)
