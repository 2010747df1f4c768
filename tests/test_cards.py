"""The card and poll texts: title once, body below, the poll names the title only."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.texts.cards import POLL_QUESTION_LIMIT, body_after_title, poll_question, title_of
from storage.proposals import ProposalRecord


def proposal(text: str) -> ProposalRecord:
    now = datetime(2026, 11, 2, tzinfo=UTC)
    return ProposalRecord(
        id=7,
        team_id=1,
        kind="proposal",
        proposer_id=1,
        subject_id=None,
        title=title_of(text),
        text=text,
        policy={},
        status="round_open",
        round_length_s=60,
        round_number=1,
        failed_rounds=0,
        any_objection_ever=False,
        revision_until=None,
        outcome=None,
        created_at=now,
        closed_at=None,
        full_text_chat_id=None,
        full_text_message_id=None,
        payload={},
    )


def test_the_title_is_the_first_line_and_the_body_the_rest() -> None:
    text = "Straßenfest im September\nWir sperren die Straße.\nUnd feiern."
    assert title_of(text) == "Straßenfest im September"
    assert body_after_title(text) == "Wir sperren die Straße.\nUnd feiern."
    assert body_after_title("Nur eine Zeile") == ""


def test_a_long_first_line_keeps_the_whole_text_as_body() -> None:
    text = "x" * 200
    assert title_of(text).endswith("…") and len(title_of(text)) == 80
    assert body_after_title(text) == text


def test_the_poll_question_names_the_title_within_telegrams_limit() -> None:
    question = poll_question(proposal("Straßenfest\nMit Details, die auf der Karte stehen"), "de")
    assert question == "Mehrheitsabstimmung zu #7: Straßenfest …"
    long = poll_question(proposal("y" * 1000), "de")
    assert len(long) <= POLL_QUESTION_LIMIT
    assert poll_question(proposal("Garden\nmore"), "en").startswith("Majority vote on #7:")


def test_a_card_of_a_large_team_stays_one_message_and_counts_the_rest() -> None:
    from bot.charter.policy import Policy
    from bot.texts.cards import RoundView, render_card
    from bot.texts.render import MAX_MESSAGE, visible_length
    from storage.people import Person
    from storage.rounds import RoundRecord

    now = datetime(2026, 11, 2, tzinfo=UTC)
    people = {
        n: Person(n, 1000 + n, f"Vorname{n}", f"Nachname{n}", None, "de", f"P{n}", False)
        for n in range(1, 501)
    }
    round_ = RoundRecord(1, 7, 1, "Titel\nText", now, now, None, None, -100, 5, None)
    view = RoundView(
        proposal=proposal("Titel\nText"),
        round=round_,
        policy=Policy(),
        people=people,
        electorate=frozenset(people),
        responses={},
        objections=[],
    )
    text = render_card(view, "de", lambda moment: "heute")
    assert visible_length(text) < MAX_MESSAGE
    assert "und 470 weitere" in text


def test_splitting_an_endless_line_is_linear() -> None:
    import time

    from bot.texts.render import split_message

    started = time.perf_counter()
    parts = split_message("Name, " * 50_000)
    assert len(parts) == 74
    assert time.perf_counter() - started < 1.0
