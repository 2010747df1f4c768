"""The card and poll texts: title once, body below, the poll names the title only."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.cards import POLL_QUESTION_LIMIT, body_after_title, poll_question, title_of
from storage.proposals import ProposalRecord


def proposal(text: str) -> ProposalRecord:
    now = datetime(2026, 11, 2, tzinfo=UTC)
    return ProposalRecord(
        id=7, team_id=1, kind="proposal", proposer_id=1, subject_id=None, title=title_of(text),
        text=text, policy={}, status="round_open", round_length_s=60, round_number=1,
        failed_rounds=0, any_objection_ever=False, revision_until=None, outcome=None,
        created_at=now, closed_at=None, full_text_chat_id=None, full_text_message_id=None,
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
