"""The message catalogue: every text in both languages, and every key the code uses exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.charter import outcomes, refusals
from bot.charter.policy import Process, RosterMode, TeamKind
from bot.charter.teams import SEATS
from bot.texts.i18n import Html, catalogue, keys, placeholders, t
from bot.texts.render import MAX_MESSAGE, shorten, split_message, visible_length
from handlers.commands import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
# t(lang, "key" …), reply(update, context, "key" …), and "key" literals passed on
# (event names, `event="proposal.created"`, are record kinds, not texts)
LITERAL_KEY = re.compile(r'(?<!event=)["\']((?:[a-z_]+\.)+[a-z_A-Z]+)["\']')
KEY_PREFIXES = (
    "digest.",
    "reminder.",
    "command.",
    "kind.",
    "process.",
    "roster_mode.",
    "admission.",
    "seat.",
    "setup.",
    "refusal.",
    "team.",
    "rights.",
    "members.",
    "admit.",
    "remove.",
    "leave.",
    "error.",
    "help.",
    "card.",
    "result.",
    "outcome.",
    "round_outcome.",
    "choice.",
    "ballot.",
    "poll.",
    "proposal.",
    "deadline.",
    "revise.",
    "majority.",
    "withdraw.",
    "refused.",
    "open.",
    "decisions.",
    "export.",
    "press.",
    "reason.",
    "objection.",
    "petition.",
    "privacy.",
    "mydata.",
    "forget.",
    "settings.",
)


def test_every_key_exists_in_both_languages() -> None:
    assert keys("de") == keys("en")


@pytest.mark.parametrize("key", sorted(keys("de")))
def test_placeholders_match_across_languages(key: str) -> None:
    assert placeholders(catalogue("de")[key]) == placeholders(catalogue("en")[key])


def test_every_literal_key_in_the_code_exists() -> None:
    used = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for match in LITERAL_KEY.finditer(path.read_text(encoding="utf-8")):
                if match.group(1).startswith(KEY_PREFIXES):
                    used.add(match.group(1))
    missing = sorted(used - keys("de"))
    assert not missing, missing


def test_every_computed_key_exists() -> None:
    computed = {f"kind.{k.value}" for k in TeamKind} | {f"team.kind.{k.value}" for k in TeamKind}
    computed |= {f"settings.option.mode.{m.value}" for m in RosterMode}
    computed |= {f"settings.option.process.{p.value}" for p in Process}
    computed |= {f"admission.{k.value}" for k in TeamKind} | {"admission.LT_chat"}
    computed |= {f"admit.by_charter.{k.value}" for k in TeamKind}
    computed |= {f"process.{p.value}" for p in Process}
    computed |= {f"roster_mode.{m.value}" for m in RosterMode}
    computed |= {f"members.empty.{m.value}" for m in RosterMode}
    computed |= {f"setup.next.{m.value}" for m in RosterMode}
    computed |= {f"seat.{seat}" for seat in SEATS}
    computed |= {
        f"members.how.{how}"
        for how in (
            "admitted",
            "chat",
            "chat_admin",
            "decision",
            "appointed",
            "delegated",
            "elected",
        )
    }
    computed |= {f"settings.title.{field}" for field in ("mode", "process")}
    computed |= {f"settings.changed.{field}" for field in ("mode", "process")}
    computed |= {command.help_key for command in COMMANDS}
    computed |= {command.menu_key for command in COMMANDS}
    computed |= {f"outcome.{o.value}" for o in outcomes.DecisionOutcome}
    computed |= {f"round_outcome.{o.value}" for o in outcomes.RoundOutcome}
    computed |= {"round_outcome.superseded"}
    computed |= {f"choice.{r.value}" for r in outcomes.Response}
    computed |= {f"ballot.{b.value}" for b in outcomes.Ballot}
    computed |= {f"objection.{o.value}" for o in outcomes.ObjectionStatus}
    computed |= {f"reason.ask.{r}" for r in ("object", "concern")}
    assert sorted(computed - keys("de")) == []


CHARTER_REFUSALS = {
    name: value for name, value in vars(refusals).items() if isinstance(value, refusals.Refusal)
}


@pytest.mark.parametrize("name", sorted(CHARTER_REFUSALS))
@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_refusal_of_the_charter_has_its_text(name: str, lang: str) -> None:
    assert CHARTER_REFUSALS[name].key in keys(lang)


def test_parameters_are_escaped_but_html_is_kept() -> None:
    text = t("de", "admit.already", name="<b>Eve</b> & co")
    assert "&lt;b&gt;Eve&lt;/b&gt; &amp; co" in text
    assert t("de", "admit.done", name=Html("<i>x</i>"), team="T").count("<i>x</i>") == 1


def test_unknown_language_falls_back_to_german() -> None:
    assert t("fr", "help.unbound") == t("de", "help.unbound")


def test_a_10000_character_text_is_split_within_the_limit() -> None:
    text = "\n".join(f"Zeile {n}: " + "x" * 90 for n in range(100))
    parts = split_message(text)
    assert len(parts) > 1
    assert all(visible_length(part) <= MAX_MESSAGE for part in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_one_endless_line_is_cut_by_characters() -> None:
    text = "ä" * 10_000
    parts = split_message(text)
    assert [visible_length(p) for p in parts] == [4096, 4096, 1808]


def test_shorten_ends_with_a_clear_ellipsis() -> None:
    text = "\n".join("y" * 100 for _ in range(100))
    short = shorten(text)
    assert visible_length(short) <= MAX_MESSAGE
    assert short.endswith("…")


def test_length_counts_like_telegram() -> None:
    assert visible_length("<b>a&amp;b</b>") == 3
    assert visible_length("😀") == 2  # UTF-16 code units
