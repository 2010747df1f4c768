"""End to end: a person's own data. /mydata sends everything the database holds about them;
/forgetme leaves no name, username or Telegram id of theirs anywhere in the database, keeps
the counts of past decisions, and makes their next message a new person."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from bot.texts.i18n import Html
from localapi.records import MessageRec
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    CARL,
    DORA,
    EVE,
    NEWBIE,
    PT,
    ST,
    DecisionSteps,
    Harness,
    dialect_of,
    peek,
)
from tests.test_e2e_elections import eve_and_bert_stand
from tests.test_e2e_reminders import mentioned, reminders

FRIDO = 987654323
FRIDO_TRACES = ("Fridolin", "Quastenberg", "frido_q", str(FRIDO))


def last(h: Harness, chat_id: int) -> MessageRec:
    message = h.model.last_bot_message(chat_id)
    assert message is not None
    return message


async def press(h: Harness, chat_id: int, message: MessageRec, user_id: int, label: str) -> str:
    query = h.model.press_button(chat_id, message.message_id, user_id, button_text=label)
    answer = await h.model.wait_callback_answer(query)
    await h.settle()
    return str(answer.get("text"))


async def frido_takes_part(h: Harness, d: DecisionSteps) -> int:
    """Fridolin joins the PT, responds to a proposal with a reason, raises an anonymous
    concern and is nominated for the UT. Returns his person id."""
    h.model.add_user(FRIDO, "Fridolin", last_name="Quastenberg", username="frido_q")
    h.model.member_joins(PT, FRIDO)
    h.model.start_bot(FRIDO)
    h.model.send_message(PT, FRIDO, "Hallo zusammen")
    await h.settle()
    await h.admit(PT, "frido_q")
    await h.say(PT, ANNA, "/vorschlag 1d Neue Bänke am Markt")
    await d.press(PT, 1, FRIDO, "concern")
    await h.say(FRIDO, FRIDO, "Zu wenig Schatten dort.")
    await d.press(PT, 1, ANNA, "agree")
    await d.press(PT, 1, BERT, "agree")
    assert "Beschluss: Konsens" in h.bot_texts(PT)[-1]
    choice = await h.say(FRIDO, FRIDO, "/anliegen Bitte mehr Offenheit bei den Finanzen.")
    assert choice is not None
    await press(h, FRIDO, choice, FRIDO, "Anonym")
    await h.say(PT, ANNA, "/nominieren @frido_q UT Kennt sich aus")
    # His internal id, which no chat shows: the database is what /mydata must match.
    person = await h.services.storage.people.by_telegram_id(FRIDO)
    assert person is not None
    return person.id


def database(h: Harness) -> Any:
    """The database itself: what /mydata must hold all of, and /forgetme leave no trace in."""
    connection = peek(h.config)
    connection.row_factory = sqlite3.Row
    return connection


def tables(connection: Any) -> list[str]:
    return [row[0] for row in connection.execute(dialect_of(connection).tables_sql())]


def rows_about(connection: Any, person_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table with a column that refers to this person."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table in tables(connection):
        columns = [
            key["from"]
            for key in connection.execute(*dialect_of(connection).references_sql(table))
            if key["table"] == "people"
        ]
        for column in columns:
            for row in connection.execute(
                f"SELECT * FROM {table} WHERE {column} = ?", (person_id,)
            ):
                found.setdefault(table, []).append(dict(row))
    return found


def traces_in_database(connection: Any, traces: tuple[str, ...]) -> list[str]:
    """(table.column: value) wherever any trace appears, in any column, in any form."""
    hits = []
    for table in tables(connection):
        for row in connection.execute(f"SELECT * FROM {table}"):
            for column in row.keys():  # noqa: SIM118 - sqlite3.Row iterates values
                value = row[column]
                if value is None:
                    continue
                text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                for trace in traces:
                    if trace.lower() in text.lower():
                        hits.append(f"{table}.{column}: {text[:80]}")
    return hits


def decision_counts(connection: Any) -> dict[str, Any]:
    return {
        "responses": connection.execute(
            "SELECT round_id, choice, COUNT(*) FROM responses GROUP BY round_id, choice"
        ).fetchall(),
        "electorates": connection.execute(
            "SELECT round_id, COUNT(*) FROM round_electorate GROUP BY round_id"
        ).fetchall(),
        "rounds": connection.execute("SELECT id, outcome FROM rounds ORDER BY id").fetchall(),
        "closed": connection.execute(
            "SELECT data FROM events WHERE kind = 'round.closed' ORDER BY id"
        ).fetchall(),
        "decided": connection.execute("SELECT id, outcome FROM proposals WHERE id = 1").fetchall(),
    }


async def my_data(h: Harness, user_id: int) -> dict[str, Any]:
    await h.say(user_id, user_id, "/meinedaten")
    sent = last(h, user_id)
    assert sent.document is not None and sent.document.file_name == "wiq-meine-daten.json"
    assert "Alles, was ich über dich gespeichert habe" in (sent.caption or "")
    return json.loads(sent.document.data)


def same_row(db_row: dict[str, Any], exported: dict[str, Any]) -> bool:
    for column, value in db_row.items():
        shown = exported.get(column)
        if isinstance(shown, (dict, list)):
            shown = json.dumps(shown, sort_keys=True)
            value = json.dumps(json.loads(value), sort_keys=True)
        if shown != value:
            return False
    return True


async def test_mydata_holds_everything_the_database_holds_about_the_person(
    net: tuple[Harness, DecisionSteps],
) -> None:
    h, d = net
    frido = await frido_takes_part(h, d)
    data = await my_data(h, FRIDO)

    assert data["person"]["id"] == frido
    assert data["person"]["telegram_id"] == FRIDO
    assert (data["person"]["first_name"], data["person"]["username"]) == ("Fridolin", "frido_q")
    exported = data["tables"]
    assert [e["team_id"] for e in exported["roster_entries"] if e["person_id"] == frido]
    assert any(r["reason"] == "Zu wenig Schatten dort." for r in exported["responses"])
    (petition,) = exported["petitions"]
    assert petition["text"] == "Bitte mehr Offenheit bei den Finanzen." and petition["anonymous"]
    assert [n["candidate_id"] for n in exported["nominations"]] == [frido]
    kinds = {e["kind"] for e in exported["events"]}
    assert {"roster.joined", "round.response", "round.reason"} <= kinds
    assert {team["name"] for team in data["teams"].values()} >= {"Projektteam"}

    # Against the database: every row of every table that refers to him is in the file.
    with database(h) as connection:
        about = rows_about(connection, frido)
    assert set(about) <= set(exported), set(about) - set(exported)
    for table, rows in about.items():
        for row in rows:
            assert any(same_row(row, shown) for shown in exported[table]), (table, row)

    # In a group, personal data is refused.
    answer = await h.say(PT, FRIDO, "/meinedaten")
    assert answer is not None and "nur privat" in answer.text and answer.document is None


async def test_forgetme_leaves_no_trace_and_keeps_the_counts(
    net: tuple[Harness, DecisionSteps],
) -> None:
    h, d = net
    frido = await frido_takes_part(h, d)
    with database(h) as connection:
        before = decision_counts(connection)
        assert traces_in_database(connection, FRIDO_TRACES)  # the scan does find him now

    ask = await h.say(FRIDO, FRIDO, "/vergessen")
    assert ask is not None and "Soll ich dich vergessen?" in ask.text
    assert "Projektteam" in ask.text and "nicht rückgängig" in ask.text
    answer = await press(h, FRIDO, ask, FRIDO, "Ja, vergiss mich")
    assert "ich habe dich vergessen" in answer
    assert "ich habe dich vergessen" in h.model.find_message(FRIDO, ask.message_id).text
    # How long backups still hold him (deploy/wiq-bot-backup.service keeps 14 days).
    assert "Sicherungskopien" in h.model.find_message(FRIDO, ask.message_id).text
    assert "14 Tagen" in h.model.find_message(FRIDO, ask.message_id).text
    assert not h.model.find_message(FRIDO, ask.message_id).buttons

    with database(h) as connection:
        assert traces_in_database(connection, FRIDO_TRACES) == []
        assert decision_counts(connection) == before
        forgotten = connection.execute("SELECT * FROM people WHERE id = ?", (frido,)).fetchone()
        assert forgotten["forgotten_at"] and forgotten["pseudonym"].startswith("Person-")
        on_rosters = connection.execute(
            "SELECT COUNT(*) FROM roster_entries WHERE person_id = ? AND left_at IS NULL",
            (frido,),
        ).fetchone()[0]
        assert on_rosters == 0
        nomination = connection.execute("SELECT status FROM nominations").fetchone()
        assert nomination["status"] == "declined"
    assert await h.roster(PT) == ["Anna", "Bert"]

    # He writes again: a new person, with nothing of the old record.
    await h.say(FRIDO, FRIDO, "/start")
    data = await my_data(h, FRIDO)
    assert data["person"]["id"] != frido
    text = json.dumps(data, ensure_ascii=False)
    assert "Zu wenig Schatten" not in text and "Finanzen" not in text
    assert set(data["tables"]) <= {"events"}


async def test_forgetme_asks_first_and_can_be_called_off(
    net: tuple[Harness, DecisionSteps],
) -> None:
    h, _ = net
    h.model.start_bot(ANNA)
    await h.settle()
    ask = await h.say(ANNA, ANNA, "/vergessen")
    assert ask is not None and "Projektteam" in ask.text
    answer = await press(h, ANNA, ask, ANNA, "Abbrechen")
    assert "nichts gelöscht" in answer
    assert await h.roster(PT) == ["Anna", "Bert"]

    answer_in_group = await h.say(PT, ANNA, "/vergessen")
    assert answer_in_group is not None and "nur privat" in answer_in_group.text

    # A question from before someone was forgotten is stale for the new person.
    ask = await h.say(ANNA, ANNA, "/vergessen")
    assert ask is not None
    data = ask.buttons[0][0]["callback_data"]
    await press(h, ANNA, ask, ANNA, "Ja, vergiss mich")
    query = h.model.press_button(ANNA, ask.message_id, ANNA, callback_data=data, forge=True)
    answer_again = await h.model.wait_callback_answer(query)
    assert "gilt nicht mehr" in answer_again["text"]


async def forget_me(h: Harness, user_id: int) -> str:
    h.model.start_bot(user_id)
    await h.settle()
    ask = await h.say(user_id, user_id, "/vergessen")
    assert ask is not None
    return await press(h, user_id, ask, user_id, "Ja, vergiss mich")


async def test_forgetting_someone_mentioned_in_a_proposal(
    net: tuple[Harness, DecisionSteps],
) -> None:
    """Their @username in someone else's text goes; a longer handle that begins the same
    stays; and the forgetting is complete, not half done."""
    h, _ = net
    await h.say(PT, BERT, "/vorschlag 3d Sommerfest: @Anna plant mit @annabelle")
    await forget_me(h, ANNA)
    with database(h) as connection:
        assert traces_in_database(connection, ("@anna ",)) == []
        [(text,)] = connection.execute("SELECT text FROM proposals").fetchall()
    assert text.startswith("Sommerfest: Person-") and text.endswith(" plant mit @annabelle")
    assert await h.roster(PT) == ["Bert"]


async def test_forgetting_ends_a_nomination_by_a_username_never_confirmed(
    net: tuple[Harness, DecisionSteps],
) -> None:
    h, _ = net
    await h.say(PT, ANNA, "/nominieren 10d @nele_neu UT")
    await h.say(NEWBIE, NEWBIE, "/start")  # Nele writes to the bot, not by the deep link
    await forget_me(h, NEWBIE)
    with database(h) as connection:
        assert [tuple(r) for r in connection.execute("SELECT status FROM nominations")] == [
            ("declined",)
        ]
        assert {r[0] for r in connection.execute("SELECT status FROM proposals")} == {"closed"}
        assert traces_in_database(connection, ("nele",)) == []
    for chat in (PT, ST):
        listing = await h.say(chat, ADMIN, "/offen")
        assert listing is not None and "gerade nichts offen" in listing.text
    digest = await h.say(PT, ANNA, "/rueckblick")
    assert digest is not None and "None" not in (digest.text or "")


async def test_a_forgotten_candidate_takes_no_seat(net: tuple[Harness, DecisionSteps]) -> None:
    h, _ = net
    poll = await eve_and_bert_stand(h, "3d")
    for voter in (ANNA, CARL, DORA):
        h.model.answer_poll(poll.id, voter, [0])  # Eve
    h.model.answer_poll(poll.id, EVE, [1])  # Bert
    await h.settle()
    await forget_me(h, EVE)
    await h.due(3 * 86400 + 1)
    # Eve's votes went nowhere; Bert, the one left with a vote, takes the seat.
    assert sorted(await h.roster(ST)) == ["Bert", "Carl", "Dora"]


async def test_forgetme_reaches_what_still_waits_in_the_outbox(
    net: tuple[Harness, DecisionSteps],
) -> None:
    """A reply naming him waits for the PT's budget when he is forgotten: it goes out naming
    his pseudonym, and the database holds no trace of him meanwhile."""
    h, d = net
    await frido_takes_part(h, d)
    h.outbox._queue(PT).blocked_until = h.clock.monotonic() + 3600  # as after a 429
    before = len(h.bot_texts(PT))
    await h.say(PT, ANNA, "/mitglieder")  # waits: it names Fridolin
    await forget_me(h, FRIDO)
    with database(h) as connection:
        assert traces_in_database(connection, FRIDO_TRACES) == []
    h.outbox._queue(PT).blocked_until = 0
    await h.outbox.flush_all()
    [listing] = [t for t in h.bot_texts(PT)[before:] if "Mitglieder" in t]
    assert "Person-" in listing
    assert not any(trace in listing for trace in FRIDO_TRACES)


FRIDA = 987654324  # another Fridolin: what is queued about him must stay as it is


async def test_what_waits_behind_a_spent_budget_never_names_someone_forgotten(
    net: tuple[Harness, DecisionSteps],
) -> None:
    """The PT's budget is spent, so what the bot has to say there waits: a member list, a
    card and a round's result that name Fridolin, his named petition; a question for his
    reason waits in his private chat. He does /forgetme. What goes out later names his
    pseudonym where it named him, his petition (not posted yet: his alone) and the question
    to him never go out — and nothing else is lost or changed: the other Fridolin keeps his
    name everywhere, his reason question reaches him, the filler that waited goes out."""
    h, d = net
    h.model.add_user(FRIDO, "Fridolin", last_name="Quastenberg", username="frido_q")
    h.model.add_user(FRIDA, "Fridolin", last_name="Meier", username="fridolin_m")
    for user, hello in ((FRIDO, "Hallo"), (FRIDA, "Moin")):
        h.model.member_joins(PT, user)
        h.model.start_bot(user)
        h.model.send_message(PT, user, hello)
    await h.settle()
    await h.admit(PT, "frido_q")
    await h.admit(PT, "fridolin_m")
    await h.say(PT, ANNA, "/vorschlag 1d Sommerfest mit @frido_q und @fridolin_m")
    petition = await h.say(FRIDO, FRIDO, "/anliegen Bitte mehr Bänke am Markt.")
    assert petition is not None
    ask = await h.say(FRIDO, FRIDO, "/vergessen")
    assert ask is not None and "Soll ich dich vergessen?" in ask.text

    # The budget: spent. From here on everything in the PT waits.
    while (await h.outbox.send(PT, Html("Füller"))).sent:
        pass
    waiting_from = h.last_id(PT)
    await h.say(PT, ADMIN, "/mitglieder")
    await h.say(PT, FRIDO, "/vorschlag 1d Schattige Bänke")
    h.outbox._queue(FRIDO).blocked_until = h.clock.monotonic() + 3600  # as after a 429
    for user, choice in ((FRIDO, "concern"), (FRIDA, "concern"), (ANNA, "agree"), (BERT, "agree")):
        await d.press(PT, 1, user, choice)
    await press(h, FRIDO, petition, FRIDO, "Mit meinem Namen")
    assert await h.outbox.pending(PT) >= 5 and await h.outbox.pending(FRIDO) >= 1
    seen_by_frido = len(h.model.bot_messages(FRIDO))

    answer = await press(h, FRIDO, ask, FRIDO, "Ja, vergiss mich")
    assert "ich habe dich vergessen" in answer
    h.outbox._queue(FRIDO).blocked_until = 0
    h.clock.advance(61)
    await h.outbox.flush_all()
    await h.settle()
    await h.flush_edits()
    assert await h.outbox.pending() == 0

    traces = ("Quastenberg", "frido_q", str(FRIDO))
    later = [m.text or "" for m in h.model.bot_messages(PT) if m.message_id > waiting_from]
    assert not [text for text in later if any(trace in text for trace in traces)]
    assert not any("Quastenberg" in (m.text or "") for m in h.model.bot_messages(PT)[-8:])
    [listing] = [text for text in later if "Mitglieder" in text]
    assert "Person-" in listing and "Fridolin Meier (@fridolin_m)" in listing
    [card] = [text for text in later if "Schattige Bänke" in text]
    assert "Von Person-" in card
    [result] = [text for text in later if "Ergebnis Runde 1" in text]
    assert "Person-" in result and "Fridolin Meier" in result
    assert "Füller" in later[0], "what waited before him goes out first"
    assert not any("Bitte mehr Bänke" in text for text in later), "his petition is not posted"
    card_1 = d.card(PT, 1).text
    assert "Person-" in card_1 and "@fridolin_m" in card_1 and "frido_q" not in card_1
    # His private chat: no reason question went out after he was forgotten; Frida's came.
    assert len(h.model.bot_messages(FRIDO)) == seen_by_frido
    assert any("Begründung" in t for t in h.bot_texts(FRIDA))


async def test_a_reminder_waiting_when_someone_is_forgotten_names_only_the_others(
    net: tuple[Harness, DecisionSteps],
) -> None:
    """A reminder is rendered when it goes out: one that waited while Fridolin was forgotten
    mentions who is still missing then — Bert, not him."""
    h, d = net
    h.model.add_user(FRIDO, "Fridolin", last_name="Quastenberg", username="frido_q")
    h.model.member_joins(PT, FRIDO)
    await h.settle()
    await h.admit(PT, "frido_q")
    await h.say(PT, ANNA, "/vorschlag 3d Neues Logo")
    await d.press(PT, 1, ANNA, "agree")
    h.outbox._queue(PT).blocked_until = h.clock.monotonic() + 10 * 86400  # as after a 429
    await h.due(2 * 86400 + 1)  # the reminder is due: it waits
    assert not reminders(h, PT) and await h.outbox.pending(PT) >= 1
    await forget_me(h, FRIDO)
    h.outbox._queue(PT).blocked_until = 0
    await h.outbox.flush_all()
    [reminder] = reminders(h, PT)
    assert mentioned(reminder) == {BERT}
    assert not any(trace in (reminder.text or "") for trace in FRIDO_TRACES)
