"""How texts name people (bot/texts/naming.py): a plain name everywhere, a mention only where
the bot means to reach someone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.texts.i18n import t
from bot.texts.naming import mention, name, team
from storage.people import Person
from storage.teams import Team


def person(
    first: str | None = "Anna",
    last: str | None = "Berg",
    username: str | None = "anna_b",
    telegram_id: int | None = 10,
) -> Person:
    return Person(1, telegram_id, first, last, username, "de", "Person-a1b2c3", True)


def test_a_person_is_named_by_name_then_username_then_pseudonym() -> None:
    assert name(person()) == "Anna Berg"
    assert name(person(last=None)) == "Anna"
    assert name(person(first=None, last=None)) == "@anna_b"
    forgotten = person(first=None, last=None, username=None, telegram_id=None)
    assert name(forgotten) == "Person-a1b2c3"


def test_someone_not_known_is_named_by_the_username_they_were_named_by() -> None:
    assert name(None, username="otto") == "@otto"
    assert name(None) == "?"
    assert name(person(), username="otto") == "Anna Berg"


def test_the_username_is_added_only_where_the_name_does_not_show_it() -> None:
    assert name(person(), with_username=True) == "Anna Berg (@anna_b)"
    assert name(person(first=None, last=None), with_username=True) == "@anna_b"
    assert name(person(username=None), with_username=True) == "Anna Berg"


def test_a_mention_links_the_person_and_escapes_the_name() -> None:
    assert mention(person(first="<Anna>")) == '<a href="tg://user?id=10">&lt;Anna&gt; Berg</a>'
    assert mention(person(), with_username=True) == (
        '<a href="tg://user?id=10">Anna Berg</a> (@anna_b)'
    )


def test_a_forgotten_person_is_not_linked() -> None:
    forgotten = person(first=None, last=None, username=None, telegram_id=None)
    assert mention(forgotten) == "Person-a1b2c3"


def test_a_mention_is_not_escaped_again_but_a_name_is() -> None:
    someone = person(first="Anna & Co")
    assert "Anna &amp; Co" in t("de", "admit.already", name=name(someone))
    assert t("de", "admit.done", name=mention(someone), team="T").count("<a href=") == 1


def a_team(kind: str, name: str) -> Team:
    now = datetime(2026, 11, 2, tzinfo=UTC)
    return Team(1, 1, kind, name, -100, "supergroup", "explicit", {}, True, now, None)


def test_a_team_is_named_in_quotes_with_its_kind_said_once() -> None:
    assert team(a_team("ST", "Steuerungsteam"), "de") == "„Steuerungsteam“ (ST)"
    assert team(a_team("LT", "Bänke am Markt"), "de") == "Lösungsteam „Bänke am Markt“"
    assert team(a_team("LT", "LT Bänke"), "de") == "„LT Bänke“"
    assert team(a_team("PT", "Projektteam Lindenau"), "de") == "„Projektteam Lindenau“ (PT)"
    assert team(a_team("ST", "Steering team"), "en") == "“Steering team” (ST)"
    assert team(a_team("LT", "Community garden"), "en") == "solution team “Community garden”"
    assert team(a_team("LT", "<Garten>"), "de") == "Lösungsteam „&lt;Garten&gt;“"
    assert team(a_team("LT", "Garden"), "en", start=True) == "Solution team “Garden”"


@pytest.mark.parametrize(
    "key",
    [
        "setup.done",
        "admit.done",
        "proposal.not_member",
        "press.not_member",
        "open.header",
        "open.none",
        "decisions.header",
        "leave.done",
        "admission.welcome",
        "join.already_member",
        "invitation.text",
        "refusal.already_bound",
    ],
)
@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_sentence_names_the_team_once_with_its_kind_once(key: str, lang: str) -> None:
    """„Steuerungsteam“ (ST), not "Team Steuerungsteam – Steuerungsteam (ST)"."""
    for kind, team_name in (("ST", "Steuerungsteam"), ("LT", "Bänke am Markt")):
        named = team(a_team(kind, team_name), lang)
        text = t(lang, key, team=named, name="Eve", link="L")
        assert named in text and text.count(team_name) == 1, text
        assert text.count(t(lang, f"team.kind.{kind}")) <= 1, text
