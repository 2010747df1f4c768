"""The record as files: what a spreadsheet and a Markdown reader get from /export."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.charter.policy import DecisionKind
from bot.flows import export
from bot.texts.i18n import keys
from storage.proposals import ProposalRecord
from storage.record import RecordedDecision, RecordedRound
from storage.votes import VoteRecord

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 24, 13, 5, tzinfo=UTC)  # 14:05 in Berlin
HOSTILE = [
    '=HYPERLINK("http://evil";"klick")',
    "+49 341 123",
    "-1+1",
    "@SUM(A1:A9)",
    'Saatgut, Erde; und "Töpfe"',
    "a | b || c \\| d",
    "zwei\nZeilen\r\nund\rmehr",
    "<b>fett</b> & Co",
    "'schon mit Apostroph",
]


def proposal(
    id: int,
    title: str = "Wir kaufen Saatgut",
    *,
    kind: str = "proposal",
    status: str = "closed",
    outcome: str | None = "consensus",
    team_id: int = 1,
    show_tally: str = "live",
) -> ProposalRecord:
    return ProposalRecord(
        id=id,
        number=id,
        team_id=team_id,
        kind=kind,
        proposer_id=7,
        subject_id=None,
        title=title,
        text=title,
        policy={"show_tally": show_tally},
        status=status,
        round_length_s=86400,
        round_number=1,
        failed_rounds=0,
        any_objection_ever=False,
        revision_until=None,
        outcome=outcome,
        created_at=START,
        closed_at=START + timedelta(days=2) if status == "closed" else None,
        full_text_chat_id=None,
        full_text_message_id=None,
        payload={},
    )


def round_(
    number: int,
    outcome: str | None,
    reasons: tuple[tuple[str, str, bool], ...] = (),
    **counts: int,
) -> RecordedRound:
    closed = START + timedelta(days=number) if outcome else None
    return RecordedRound(number, outcome, closed, electorate=4, counts=counts, reasons=reasons)


def vote(outcome: str | None, yes=None, no=None, abstain=None, ignored=None) -> VoteRecord:
    return VoteRecord(
        1, 1, START, START, START if outcome else None, outcome, yes, no, abstain, ignored
    )


def decided(id: int = 1, title: str = "Wir kaufen Saatgut") -> RecordedDecision:
    return RecordedDecision(
        proposal(id, title), (round_(1, "consensus", agree=3, abstain=1),), None
    )


def read_csv(data: bytes, lang: str = "de") -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM, for Excel
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=export.separator(lang)))


def read_markdown_table(data: bytes) -> list[list[str]]:
    """The table's rows (header first, the --- line left out), cells unescaped."""
    rows = []
    for line in data.decode("utf-8").splitlines():
        if not line.startswith("|") or line.startswith("| ---") or line.startswith("|---"):
            continue
        cells, cell, escaped = [], "", False
        for char in line.strip()[1:]:
            if escaped:
                cell, escaped = cell + char, False
            elif char == "\\":
                escaped = True
            elif char == "|":
                cells.append(cell.strip())
                cell = ""
            else:
                cell += char
        rows.append([html.unescape(c.replace("<br>", "\n")) for c in cells])
    return rows


def undefused(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:2] in tuple("=+-@\t\r") else cell


def test_hostile_titles_round_trip_through_csv_and_markdown() -> None:
    record = [decided(n, title) for n, title in enumerate(HOSTILE, start=1)]
    files = export.build(record, "de", BERLIN, START, scope="Steuerungsteam")
    rows = read_csv(files.csv)[1:]
    assert [undefused(row[2]) for row in rows] == HOSTILE
    table = read_markdown_table(files.markdown)
    assert table[0] == read_csv(files.csv)[0]
    # Markdown knows one kind of line break
    assert [row[2] for row in table[1:]] == [re.sub(r"\r\n?", "\n", t) for t in HOSTILE]
    assert [[undefused(c) for c in row] for row in rows][:6] == table[1:7]


@pytest.mark.parametrize("title", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_a_title_that_a_spreadsheet_would_run_is_shown_as_text(title: str) -> None:
    files = export.build([decided(1, title)], "de", BERLIN, START, scope="ST")
    assert read_csv(files.csv)[1][2] == "'" + title


def test_markdown_titles_cannot_break_the_table_or_bring_in_markup() -> None:
    files = export.build([decided(1, "a|b\nc <script>")], "de", BERLIN, START, scope="ST")
    text = files.markdown.decode()
    assert "a\\|b<br>c &lt;script&gt;" in text
    assert "<script>" not in text
    body = [line for line in text.splitlines() if line.startswith("| 1 |")]
    assert len(body) == 1


def test_german_columns_separator_and_dates_in_the_networks_time() -> None:
    record = [
        RecordedDecision(
            proposal(4, outcome="accepted"),
            (
                round_(1, "objections", (("object", "zu teuer", False),), agree=2, object=1),
                round_(
                    2,
                    "objections",
                    (("object", "immer noch", True), ("concern", "knapp", False)),
                    agree=2,
                    concern=1,
                    object=1,
                ),
            ),
            vote("accepted", 3, 1, 0, 2),
        )
    ]
    files = export.build(record, "de", BERLIN, START, scope="Steuerungsteam")
    header, row = read_csv(files.csv)
    assert header == [
        "Nr.",
        "Art",
        "Titel",
        "Verlauf",
        "Ergebnis",
        "Letzte Runde: stimmberechtigt",
        "Letzte Runde: Antworten",
        "Letzte Runde: Zustimmung",
        "Letzte Runde: Bedenken",
        "Letzte Runde: Enthaltung",
        "Letzte Runde: Einwand",
        "Abstimmung: Ja",
        "Abstimmung: Nein",
        "Abstimmung: Enthaltung",
        "Abstimmung: nicht gezählt (außerhalb)",
        "erstellt",
        "abgeschlossen",
        "Begründungen (Einwände, Bedenken)",
    ]
    assert row == [
        "4",
        "Vorschlag",
        "Wir kaufen Saatgut",
        "Runde 1: Einwände; Runde 2: Einwände; Abstimmung: Angenommen",
        "Angenommen",
        "4",
        "4",
        "2",
        "1",
        "0",
        "1",
        "3",
        "1",
        "0",
        "2",
        "2026-11-24 14:05",
        "2026-11-26 14:05",
        "Runde 1, Einwand: zu teuer; Runde 2, Einwand: immer noch (nachgetragen);"
        " Runde 2, Bedenken: knapp",
    ]
    assert files.csv.decode("utf-8-sig").splitlines()[0].count(";") == len(header) - 1
    assert files.csv_name == "beschluesse-steuerungsteam-2026-11-24.csv"
    assert files.markdown_name == "beschluesse-steuerungsteam-2026-11-24.md"
    assert files.markdown.decode().startswith("# Beschlüsse von Steuerungsteam\n\nStand: ")


def test_english_files_use_commas_and_english_words() -> None:
    record = [RecordedDecision(proposal(1, kind="admission", outcome="expired"), (), None)]
    files = export.build(record, "en", BERLIN, START, scope="Projektteam")
    header, row = read_csv(files.csv, "en")
    assert header[:5] == ["No.", "Kind", "Title", "Process", "Outcome"]
    assert row[1] == "Admission" and row[4] == "Expired"
    assert files.csv_name.startswith("decisions-projektteam-")


def test_open_proposals_are_in_the_record_as_open() -> None:
    running = RecordedDecision(
        proposal(1, status="round_open", outcome=None),
        (round_(1, "objections", object=1), round_(2, None, agree=1, object=1)),
        None,
    )
    voting = RecordedDecision(
        proposal(2, status="vote_open", outcome=None), (round_(1, "no_quorum"),), vote(None)
    )
    table = export.decision_table([running, voting], "de", BERLIN)
    first, second = table.rows
    assert first[3:5] == ["Runde 1: Einwände; Runde 2 (läuft)", "offen"]
    assert first[5:11] == ["4", "2", "1", "0", "0", "1"]
    assert first[-1] == ""  # not closed
    assert second[3:5] == ["Runde 1: Zu wenige Antworten; Abstimmung (läuft)", "offen"]
    assert second[11:15] == ["", "", "", ""]  # a vote's counts exist only once it closed


def test_a_running_round_that_hides_its_tally_shows_only_how_many_responded() -> None:
    reasons = (("object", "zu laut", False),)
    hidden = RecordedDecision(
        proposal(1, status="round_open", outcome=None, show_tally="after_close"),
        (round_(1, None, reasons, agree=1, object=1),),
        None,
    )
    row = export.decision_table([hidden], "de", BERLIN).rows[0]
    assert row[5:11] == ["4", "2", "", "", "", ""]
    assert row[-1] == ""  # a reason would tell that someone objected
    closed = RecordedDecision(
        proposal(2, show_tally="after_close", outcome="rejected"),
        (round_(1, "objections", reasons, agree=1, object=1),),
        None,
    )
    assert export.decision_table([closed], "de", BERLIN).rows[0][-1] == "Runde 1, Einwand: zu laut"
    assert export.decision_table([closed], "de", BERLIN).rows[0][5:11] == [
        "4",
        "2",
        "1",
        "0",
        "0",
        "1",
    ]


def test_withdrawn_during_rounds_and_votes_say_so_in_the_path() -> None:
    in_round = RecordedDecision(proposal(1, outcome="withdrawn"), (round_(1, None, agree=1),), None)
    in_vote = RecordedDecision(
        proposal(2, outcome="withdrawn"), (round_(1, "objections"),), vote(None)
    )
    rows = export.decision_table([in_round, in_vote], "de", BERLIN).rows
    assert rows[0][3:5] == ["Runde 1: ohne Ergebnis beendet", "Zurückgezogen"]
    assert rows[1][3:5] == [
        "Runde 1: Einwände; Abstimmung: ohne Ergebnis beendet",
        "Zurückgezogen",
    ]


def test_the_network_export_has_a_team_column() -> None:
    record = [
        RecordedDecision(proposal(1, team_id=1), (), None),
        RecordedDecision(proposal(2, team_id=2, kind="support"), (), None),
    ]
    files = export.build(
        record, "de", BERLIN, START, scope="WiQ Test", team_names={1: "Projektteam", 2: "ST"}
    )
    header, *rows = read_csv(files.csv)
    assert header[:3] == ["Nr.", "Team", "Art"]
    assert [row[:3] for row in rows] == [
        ["1", "Projektteam", "Vorschlag"],
        ["2", "ST", "Unterstützung"],
    ]
    assert files.markdown.decode().startswith("# Beschlüsse im Netzwerk WiQ Test")
    assert files.csv_name.startswith("beschluesse-wiq-test-")


def test_every_kind_of_decision_has_a_name_in_both_languages() -> None:
    for lang in ("de", "en"):
        assert {f"export.kind.{kind.value}" for kind in DecisionKind} <= keys(lang)


def test_file_names_are_plain_ascii() -> None:
    assert export.slug("Lösungsteam Grüne Straße") == "loesungsteam-gruene-strasse"
    assert export.slug("Ümit's Café / Ost") == "uemit-s-cafe-ost"
    assert export.slug("🌻") == "team"
