"""The card and poll texts: title once, body below, the poll names the title only; a card
that reads on a phone (each group once, what the numbers mean, Bedenken vs Einwand); and where
the whole proposal stands once its round closed (the vote's deadline, then the Beschluss)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.charter.policy import Policy, Process
from bot.texts.cards import (
    POLL_QUESTION_LIMIT,
    RoundView,
    body_after_title,
    poll_question,
    render_card,
    render_next_step,
    render_vote_card,
    title_of,
)
from bot.texts.i18n import t
from bot.texts.render import visible_length
from storage.people import Person
from storage.proposals import ProposalRecord
from storage.rounds import RoundRecord, StoredResponse
from storage.votes import VoteRecord

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
DEADLINE = "Do., 05.11.2026, 18:00 Uhr"


def when(moment: datetime) -> str:
    return DEADLINE if moment == NOW + timedelta(days=3) else "Mo., 02.11.2026, 09:30 Uhr"


def proposal(text: str, **changes: Any) -> ProposalRecord:
    now = datetime(2026, 11, 2, tzinfo=UTC)
    record = ProposalRecord(
        id=7,
        number=7,
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
    return replace(record, **changes)


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
    text = "Straßenfest\nMit Details, die auf der Karte stehen"
    question = poll_question(proposal(text), DEADLINE, "de")
    assert question == f"Mehrheitsabstimmung zu #7 bis {DEADLINE}: Straßenfest …"
    long = poll_question(proposal("y" * 1000), DEADLINE, "de")
    assert len(long) <= POLL_QUESTION_LIMIT and DEADLINE in long
    english = poll_question(proposal("Garden\nmore"), "Thu 5 Nov 2026, 18:00", "en")
    assert english.startswith("Majority vote on #7 until Thu 5 Nov 2026, 18:00:")


def test_a_card_of_a_large_team_stays_one_message_and_counts_the_rest() -> None:
    from bot.texts.render import MAX_MESSAGE

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


# -- the card on a phone (issue 12.9) ------------------------------------------------------

TWELVE = {
    n: Person(n, 1000 + n, first, "Muster", None, "de", f"P{n}", False)
    for n, first in enumerate(
        [
            "Anna",
            "Bert",
            "Carla",
            "Dora",
            "Emil",
            "Frida",
            "Gero",
            "Hanna",
            "Ida",
            "Jonas",
            "Kim",
            "Lea",
        ],
        start=1,
    )
}
MIXED = {1: "agree", 2: "agree", 3: "agree", 4: "agree", 5: "concern", 6: "concern"}
MIXED |= {7: "abstain", 8: "object"}  # 9 to 12 have not responded


def a_round(number: int = 1, closed: bool = False, outcome: str | None = None) -> RoundRecord:
    text = "Bänke am Lindenauer Markt\nWir stellen vier Bänke auf, aus dem Quartiersfonds."
    closed_at = NOW + timedelta(days=2) if closed else None
    return RoundRecord(
        1, 7, number, text, NOW, NOW + timedelta(days=2), closed_at, outcome, -100, 5, None
    )


def view_of(
    responses: dict[int, str],
    people: dict[int, Person] = TWELVE,
    round_: RoundRecord | None = None,
    closed: str | None = None,
    policy: Policy | None = None,
    **proposal_changes: Any,
) -> RoundView:
    return RoundView(
        proposal=proposal(a_round().text, **proposal_changes),
        round=round_ or a_round(),
        policy=policy or Policy(),
        people=people,
        electorate=frozenset(people),
        responses={p: StoredResponse(c, None, p) for p, c in responses.items()},
        objections=[],
        closed_outcome=closed,
    )


def group_lines(text: str, lang: str = "de") -> dict[str, str]:
    """The card's line for each choice, by its label."""
    labels = {t(lang, f"choice.{c}"): c for c in ("agree", "concern", "abstain", "object")}
    found = {}
    for line in text.splitlines():
        for label, choice in labels.items():
            if line.startswith(label):
                assert choice not in found, f"{label} twice: {text}"
                found[choice] = line
    return found


def test_a_card_for_twelve_with_mixed_responses_reads_without_scrolling() -> None:
    """Each group once, with its count and its names; the budget: at most 15 lines, and at
    most 15 lines more than the proposal's own text when a phone wraps them at 40
    characters (a phone shows about 20 such lines at once)."""
    text = render_card(view_of(MIXED), "de", when)
    lines = text.splitlines()
    assert len(lines) <= 15, text
    phone = sum(max(1, -(-visible_length(line) // 40)) for line in lines[3:])
    assert phone <= 15, (phone, text)
    groups = group_lines(text)
    assert set(groups) == {"agree", "concern", "abstain", "object"}
    assert "(4)" in groups["agree"] and "(2)" in groups["concern"]
    responses = "\n".join(lines[lines.index("") :])  # below the proposer's line
    assert all(responses.count(f"{p.first_name} Muster") == 1 for p in TWELVE.values())


def test_the_card_says_what_its_numbers_mean() -> None:
    """Not "(im Team: 12)": how many of how many who may respond now, and how many are
    needed; in a chat-mode team, that whoever responds from the chat counts too."""
    text = render_card(view_of(MIXED), "de", when)
    assert "im Team" not in text
    assert re.search(r"8 von 12 Stimmberechtigten.*nötig: 6", text)
    assert re.search(r"Noch nicht geantwortet \(4\)", text)
    chat = render_card(replace(view_of(MIXED), chat_roster=True), "de", when)
    assert "im Chat" in chat and "im Chat" not in text
    consent = render_card(view_of(MIXED, policy=Policy(process=Process.CONSENT)), "de", when)
    assert "nötig" not in consent and "Schweigen zählt als Zustimmung" in consent


def test_the_card_explains_bedenken_and_einwand_in_one_line_while_open() -> None:
    for lang in ("de", "en"):
        text = render_card(view_of({}), lang, when)
        concern, objection = t(lang, "choice.concern"), t(lang, "choice.object")
        consensus = t(lang, "outcome.consensus").lower()  # what an Einwand blocks
        [line] = [line for line in text.splitlines() if concern in line and objection in line]
        assert consensus in line.lower() and not any(c.isdigit() for c in line), line
        assert visible_length(line) <= 80
    closed = render_card(view_of({}, closed="no_quorum", round_=a_round(closed=True)), "de", when)
    assert "Vorbehalt" not in closed


def test_too_few_responses_is_said_with_the_numbers() -> None:
    """Not "Kein Quorum": "Zu wenige Antworten", 1 of 5, 3 needed — on the card and in the
    result."""
    five = {n: TWELVE[n] for n in range(1, 6)}
    card = render_card(
        view_of({1: "agree"}, five, a_round(closed=True), closed="no_quorum"), "de", when
    )
    assert "Quorum" not in card
    assert "Zu wenige Antworten" in card and re.search(r"1 von 5 .*nötig: 3", card)
    participation = t("de", "result.participation", responded=1, electorate=5, quorum=3)
    assert participation == "Antworten: 1 von 5, nötig: 3"
    assert t("de", "round_outcome.no_quorum") == "Zu wenige Antworten"


# -- where the whole proposal stands (issue 12.1) -------------------------------------------


def a_vote(outcome: str | None = None) -> VoteRecord:
    closed = NOW + timedelta(days=3) if outcome else None
    counts = (3, 1, 1, 0) if outcome else (None, None, None, None)
    return VoteRecord(4, 7, NOW, NOW + timedelta(days=3), closed, outcome, *counts)


def test_a_round_that_led_to_the_vote_shows_until_when_the_vote_runs() -> None:
    view = replace(
        view_of(
            MIXED,
            round_=a_round(2, True, "objections"),
            closed="objections",
            status="vote_open",
            round_number=2,
        ),
        vote=a_vote(),
    )
    text = render_card(view, "de", when)
    assert "Runde beendet: <b>Einwände</b>" in text
    assert "Mehrheitsabstimmung" in text and DEADLINE in text.splitlines()[-1]


def test_after_the_vote_the_card_shows_the_beschluss_not_the_round() -> None:
    view = replace(
        view_of(
            MIXED,
            round_=a_round(2, True, "objections"),
            closed="objections",
            status="closed",
            outcome="accepted",
            round_number=2,
        ),
        vote=a_vote("accepted"),
    )
    text = render_card(view, "de", when)
    last = text.splitlines()[-1]
    assert "Angenommen" in last and "durch Mehrheitsabstimmung" in last and "Ja 3" in last
    assert "Runde beendet" not in text
    earlier = replace(view, round=a_round(1, True, "objections"))
    assert render_card(earlier, "de", when).splitlines()[-1] == "Runde beendet: <b>Einwände</b>"


def test_a_round_decided_by_itself_says_its_beschluss_once() -> None:
    consensus = view_of(
        MIXED,
        round_=a_round(1, True, "consensus"),
        closed="consensus",
        status="closed",
        outcome="consensus",
    )
    text = render_card(consensus, "de", when)
    assert text.splitlines()[-1] == "Beschluss: <b>Konsens</b>" and text.count("Konsens<") == 1
    rejected = view_of(
        MIXED,
        round_=a_round(2, True, "objections"),
        closed="objections",
        status="closed",
        outcome="rejected",
        round_number=2,
    )
    last = render_card(rejected, "de", when).splitlines()[-1]
    assert "Einwände" in last and "Abgelehnt" in last


def test_the_vote_card_of_a_majority_process_shows_its_deadline_then_its_beschluss() -> None:
    open_card = render_vote_card(proposal("Bänke\nVier Stück"), a_vote(), "Anna", "de", when)
    assert DEADLINE in open_card and "Beschluss" not in open_card
    decided = proposal("Bänke\nVier Stück", status="closed", outcome="accepted")
    closed_card = render_vote_card(decided, a_vote("accepted"), "Anna", "de", when)
    assert "Beschluss: <b>Angenommen</b> durch Mehrheitsabstimmung" in closed_card


def test_the_result_of_the_last_round_says_until_when_the_vote_runs() -> None:
    for lang in ("de", "en"):
        line = render_next_step(proposal("x", status="vote_open"), "", DEADLINE, lang)
        assert DEADLINE in line


def test_a_round_ended_by_asking_for_the_vote_says_so_and_until_when_it_runs() -> None:
    view = replace(
        view_of(MIXED, round_=a_round(1, True, None), closed="superseded", status="vote_open"),
        vote=a_vote(),
    )
    lines = render_card(view, "de", when).splitlines()
    assert lines[-2] == "Runde vorzeitig beendet." and DEADLINE in lines[-1]


def test_a_proposal_withdrawn_during_its_vote_shows_zurueckgezogen() -> None:
    view = replace(
        view_of(
            MIXED,
            round_=a_round(2, True, "objections"),
            closed="objections",
            status="closed",
            outcome="withdrawn",
            round_number=2,
        ),
        vote=replace(a_vote(), closed_at=NOW),
    )
    last = render_card(view, "de", when).splitlines()[-1]
    assert "Zurückgezogen" in last and "Mehrheitsabstimmung" not in last
