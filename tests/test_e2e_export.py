"""End to end: /export sends the record as a CSV file and a Markdown file (SPEC §7)."""

from __future__ import annotations

import csv
import html
import io
from pathlib import Path
from zoneinfo import ZoneInfo

from storage.db import from_db
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    CARL,
    DORA,
    EVE,
    KT,
    PT,
    ST,
    DecisionSteps,
    Harness,
    make_config,
    make_model,
)

BERLIN = ZoneInfo("Europe/Berlin")
OUTCOMES = {
    "consensus": "Konsens",
    "accepted": "Angenommen",
    "rejected": "Abgelehnt",
    "expired": "Abgelaufen",
    "withdrawn": "Zurückgezogen",
    None: "offen",
}
CHOICES = ("agree", "concern", "abstain", "object")
TITLES = {
    1: 'Saatgut, Erde und "Töpfe"',
    2: "=SUMME(A1:A9) | Kasse; prüfen",
    3: '@Treffen -verschoben; "neu" || später',
}


async def st_decisions(h: Harness, d: DecisionSteps) -> None:
    """In the ST (Carl, Dora): #1 Konsens, #2 Einwand then the majority vote, #3 still open."""
    await h.say(ST, CARL, f"/vorschlag 1d {TITLES[1]}")
    await d.press(ST, 1, CARL, "agree")
    await d.press(ST, 1, DORA, "concern")
    h.clock.advance(3600)
    await h.say(ST, CARL, f"/vorschlag 1d {TITLES[2]}")
    await d.press(ST, 2, CARL, "agree")
    h.clock.advance(3600)
    await d.press(ST, 2, DORA, "object")
    await h.say(ST, CARL, "/abstimmung 2")
    poll = h.model.bot_messages(ST)[-1].poll
    assert poll is not None
    h.model.answer_poll(poll.id, EVE, [1])  # not on the roster: ignored
    h.model.answer_poll(poll.id, CARL, [0])
    h.model.answer_poll(poll.id, DORA, [2])
    await h.settle()
    h.clock.advance(3600)
    await h.say(ST, DORA, f"/vorschlag 2d {TITLES[3]}")
    await d.press(ST, 3, DORA, "agree")


def documents(h: Harness, chat_id: int, after: int = 0) -> list:
    return [m for m in h.model.bot_messages(chat_id) if m.document and m.message_id > after]


def read_csv(data: bytes, delimiter: str = ";") -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(
        csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter)
    )


def read_markdown(data: bytes) -> list[dict[str, str]]:
    lines = [line for line in data.decode("utf-8").splitlines() if line.startswith("|")]
    header, _, *rows = [split_row(line) for line in lines]
    return [dict(zip(header, row, strict=True)) for row in rows]


def split_row(line: str) -> list[str]:
    cells, cell, escaped = [], "", False
    for char in line[1:]:
        if escaped:
            cell, escaped = cell + char, False
        elif char == "\\":
            escaped = True
        elif char == "|":
            cells.append(html.unescape(cell.strip().replace("<br>", "\n")))
            cell = ""
        else:
            cell += char
    return cells


def plain_title(cell: str) -> str:
    """A spreadsheet shows a cell starting with an apostrophe as text without it."""
    return cell[1:] if cell[:2] in {"'=", "'+", "'-", "'@"} else cell


def local(text: str | None) -> str:
    return from_db(text).astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") if text else ""


async def expected_rows(h: Harness, team_chat: int | None) -> list[dict[str, str]]:
    """The decisions as the database holds them, straight from SQL."""
    db = h.services.storage.db
    scope, params = "", ()
    if team_chat is not None:
        scope, params = " WHERE t.chat_id = ?", (team_chat,)
    rows = await db.fetchall(
        "SELECT p.id, t.name, p.kind, p.title, p.outcome, p.created_at, p.closed_at"
        " FROM proposals p JOIN teams t ON t.id = p.team_id" + scope + " ORDER BY p.id",
        params,
    )
    expected = []
    for row in rows:
        last = await db.fetchone(
            "SELECT id FROM rounds WHERE proposal_id = ? ORDER BY number DESC LIMIT 1", (row[0],)
        )
        counts = dict(
            await db.fetchall(
                "SELECT choice, COUNT(*) FROM responses WHERE round_id = ? GROUP BY choice",
                (last[0],),
            )
        )
        electorate = await db.fetchone(
            "SELECT COUNT(*) FROM round_electorate WHERE round_id = ?", (last[0],)
        )
        vote = await db.fetchone(
            "SELECT yes, no, abstain, ignored FROM votes WHERE proposal_id = ?", (row[0],)
        )
        labels = ("Zustimmung", "Bedenken", "Enthaltung", "Einwand")
        item = {
            "Nr.": str(row[0]),
            "Team": row[1],
            "Art": {"proposal": "Vorschlag"}[row[2]],
            "Titel": row[3],
            "Ergebnis": OUTCOMES[row[4]],
            "Letzte Runde: stimmberechtigt": str(electorate[0]),
            "Letzte Runde: Antworten": str(sum(counts.values())),
            **{
                f"Letzte Runde: {label}": str(counts.get(choice, 0))
                for choice, label in zip(CHOICES, labels, strict=True)
            },
            "Abstimmung: Ja": "",
            "Abstimmung: Nein": "",
            "Abstimmung: Enthaltung": "",
            "Abstimmung: nicht gezählt (außerhalb)": "",
            "erstellt": local(row[5]),
            "abgeschlossen": local(row[6]),
        }
        if vote is not None and vote[0] is not None:
            item["Abstimmung: Ja"], item["Abstimmung: Nein"] = str(vote[0]), str(vote[1])
            item["Abstimmung: Enthaltung"] = str(vote[2])
            item["Abstimmung: nicht gezählt (außerhalb)"] = str(vote[3])
        expected.append(item)
    return expected


async def test_a_member_gets_the_teams_decisions_as_csv_and_markdown(net) -> None:
    h, d = net
    await st_decisions(h, d)
    asked = h.model.send_message(ST, DORA, "/exportieren")
    await h.settle()
    sent = documents(h, ST, asked["message_id"])
    stem = f"beschluesse-steuerungsteam-{local_day(h)}"
    assert [m.document.file_name for m in sent] == [f"{stem}.csv", f"{stem}.md"]
    assert all(m.reply_to == asked["message_id"] for m in sent)
    assert "Beschlüsse von Steuerungsteam (Einträge: 3" in sent[0].caption
    table = read_csv(sent[0].document.data)
    for row in table:
        row["Titel"] = plain_title(row["Titel"])
    expected = await expected_rows(h, ST)
    for row in expected:
        del row["Team"]
    assert [{k: v for k, v in r.items() if k != "Verlauf"} for r in table] == expected
    assert [r["Titel"] for r in table] == [TITLES[1], TITLES[2], TITLES[3]]
    assert [r["Verlauf"] for r in table] == [
        "Runde 1: Konsens",
        "Runde 1: Einwände; Abstimmung: Angenommen",
        "Runde 1 (läuft)",
    ]
    assert table[1]["Abstimmung: nicht gezählt (außerhalb)"] == "1"
    assert read_csv(sent[0].document.data)[1]["Titel"].startswith("'=SUMME")
    # The Markdown table has the same rows, its titles as they are
    assert read_markdown(sent[1].document.data) == table
    # Nobody is named: not who proposed, responded or voted
    for data in (sent[0].document.data, sent[1].document.data):
        text = data.decode("utf-8-sig")
        for name in ("Carl", "carl_x", "Dora", "dora", "Eve"):
            assert name not in text


def local_day(h: Harness) -> str:
    return h.clock.now().astimezone(BERLIN).date().isoformat()


async def test_the_export_agrees_with_the_decisions_list(net) -> None:
    h, d = net
    await st_decisions(h, d)
    listing = await h.say(ST, CARL, "/beschluesse")
    await h.say(ST, CARL, "/export")
    table = read_csv(documents(h, ST)[0].document.data)
    closed = [r for r in table if r["Ergebnis"] != "offen"]
    for row in closed:
        assert f"#{row['Nr.']} " in listing.text and row["Ergebnis"] in listing.text
    assert "#3 " not in listing.text and [r["Nr."] for r in table if r not in closed] == ["3"]


async def test_someone_off_the_roster_is_refused(net) -> None:
    h, d = net
    await st_decisions(h, d)
    reply = await h.say(ST, EVE, "/export")
    assert "können nur Mitglieder des Teams" in reply.text
    reply = await h.say(ST, ANNA, "/export")  # on the PT's roster, not the ST's
    assert "können nur Mitglieder des Teams" in reply.text
    reply = await h.say(ST, ADMIN, "/export")
    assert "im privaten Chat" in reply.text
    assert documents(h, ST) == []


async def test_a_network_admin_gets_the_whole_network_in_private(net) -> None:
    h, d = net
    await st_decisions(h, d)
    await h.say(PT, ANNA, "/vorschlag 2d Sommerfest im Juli")
    await d.press(PT, 4, BERT, "object")
    h.model.start_bot(ADMIN)
    await h.settle()
    await h.say(ADMIN, ADMIN, "/export")
    sent = documents(h, ADMIN)
    assert len(sent) == 2
    assert "Alle Beschlüsse im Netzwerk WiQ Test (Einträge: 4" in sent[0].caption
    assert sent[0].document.file_name.startswith("beschluesse-wiq-test-")
    table = read_csv(sent[0].document.data)
    for row in table:
        row["Titel"] = plain_title(row["Titel"])
    expected = await expected_rows(h, None)
    assert [{k: r[k] for k in expected[0] if k != "Verlauf"} for r in table] == expected
    assert [r["Team"] for r in table] == ["Steuerungsteam"] * 3 + ["Projektteam"]
    assert read_markdown(sent[1].document.data) == table


async def test_anyone_else_in_a_private_chat_is_told_what_export_does(net) -> None:
    h, _ = net
    h.model.start_bot(CARL)
    await h.settle()
    reply = await h.say(CARL, CARL, "/export")
    assert "nur Netzwerk-Admins" in reply.text and "im Chat des Teams" in reply.text
    assert documents(h, CARL) == []


async def test_an_unbound_chat_and_an_empty_team_get_a_clear_answer(net) -> None:
    h, _ = net
    reply = await h.say(KT, CARL, "/export")
    assert "gehört noch zu keinem Team" in reply.text
    reply = await h.say(PT, ANNA, "/export")
    assert "Projektteam hat noch keine Vorschläge und keine Beschlüsse" in reply.text
    assert documents(h, PT) == []
    h.model.start_bot(ADMIN)
    await h.settle()
    reply = await h.say(ADMIN, ADMIN, "/export")
    assert "nichts zu exportieren" in reply.text


async def test_an_english_network_gets_english_columns_and_commas(tmp_path: Path) -> None:
    h = Harness(make_model(), make_config(tmp_path, language="en"))
    await h.start()
    try:
        await h.bind(ST, "ST", "Steering")
        h.model.send_message(ST, ANNA, "Hello")
        await h.settle()
        await h.admit(ST, "anna", "zivilgesellschaft")
        await h.say(ST, ANNA, "/propose 2d Seeds, soil and pots")
        await h.say(ST, ANNA, "/export")
        data = documents(h, ST)[0].document.data
        (row,) = read_csv(data, delimiter=",")
        assert (row["No."], row["Kind"], row["Title"], row["Outcome"]) == (
            "1",
            "Proposal",
            "Seeds, soil and pots",
            "open",
        )
        assert row["Process"] == "Round 1 (running)"
    finally:
        await h.stop()
