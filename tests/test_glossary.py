"""One English word per concept (issue 12.11): where the German catalogue uses one of the
network's words (SPEC §0), the English text says the one English word for it — the code's name
(docs/architecture.md, word list) — and the English word of one concept never stands for
another (an Anliegen is no "concern": that is Bedenken)."""

from __future__ import annotations

import re

import pytest

from bot.texts.i18n import catalogue

# concept: (the German word, as a pattern; its one English word, as a pattern; whether an
# English text with that word must have the German word too — False where English uses the
# word for more than the concept, as "decision" is a Beschluss and any Entscheidung)
GLOSSARY: dict[str, tuple[str, str, bool]] = {
    "Zustimmung": (r"zustimm|zugestimmt", r"\bagree", True),
    "Bedenken": (r"\bbedenken\b", r"\bconcern", True),
    "Enthaltung": (r"enthaltung|enthält|enthalten", r"\babstain", True),
    "Einwand": (r"einwand|einwände|einwänd", r"\bobject", True),
    "Konsens": (r"konsens(?!t)", r"\bconsensus\b", True),
    "Mehrheitsabstimmung": (r"mehrheitsabstimmung", r"\bmajority vote", True),
    "Beschluss": (r"beschluss|beschlüsse|beschlossen", r"\bdecision|\bdecided", False),
    # the noun, and "vorgeschlagen" (proposed); "vorschlagen" also says "nominate"
    "Vorschlag": (r"vorschlag\b|vorschläge|vorschlags|vorgeschlagen", r"\bpropos", True),
    "Nominierung": (r"nominier", r"\bnominat", True),
    "Ernennung": (r"ernenn|ernannt", r"\bappoint", True),
    "Absichtserklärung": (r"absichtserklärung", r"\bdeclaration of intent", True),
    "Entsendung": (r"entsend|entsandt", r"\bdelegat", True),
    # "wer was gewählt hat" is who chose what; "electorate" is who may respond (stimmberechtigt)
    "Wahl": (r"\bwahl(en|verfahren)?\b|wählen|\bgewählt\b(?! hat)", r"\belect(?!orate)", True),
    "Anliegen": (r"\banliegen", r"\bpetition", True),
    "Wochenrückblick": (r"wochenrückblick", r"\bdigest", False),
    "Absage": (r"\babsage|abgelehnt|ablehn", r"\bdeclin|\breject", True),
}
# English words no text may use, and the concept whose word to use instead.
NEVER = {
    r"\bstand(s|ing)? aside\b": "Enthaltung: abstain",
    r"\braise[sd]? an? concern": "Anliegen: petition",
    r"\bwhat a pity\b": "a decline is said plainly: declined",
}
COMMAND = re.compile(r"/[a-z_]+")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    """The words of a text: no commands (they have their own test), placeholders or tags."""
    return TAG.sub(" ", PLACEHOLDER.sub(" ", COMMAND.sub(" ", text))).lower()


KEYS = sorted(catalogue("de"))


@pytest.mark.parametrize("concept", sorted(GLOSSARY))
def test_each_concept_has_one_english_word(concept: str) -> None:
    german, english, both_ways = GLOSSARY[concept]
    wrong = []
    for key in KEYS:
        de, en = plain(catalogue("de")[key]), plain(catalogue("en")[key])
        has_german, has_english = re.search(german, de), re.search(english, en)
        if has_german and not has_english:
            wrong.append(f"{key}: no {english!r} in {en!r}")
        if both_ways and has_english and not has_german:
            wrong.append(f"{key}: {english!r} without {concept} in {de!r}")
    assert wrong == []


def test_each_concept_is_found() -> None:
    """Every pattern matches somewhere, so no entry above checks nothing."""
    for concept, (german, english, _) in GLOSSARY.items():
        assert any(re.search(german, plain(catalogue("de")[key])) for key in KEYS), concept
        assert any(re.search(english, plain(catalogue("en")[key])) for key in KEYS), concept


@pytest.mark.parametrize("word", sorted(NEVER))
def test_no_english_text_uses_a_word_of_another_concept(word: str) -> None:
    used = [key for key in KEYS if re.search(word, catalogue("en")[key], re.IGNORECASE)]
    assert used == [], NEVER[word]
