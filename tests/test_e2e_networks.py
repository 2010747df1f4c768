"""End to end: one deployment serving two networks (SPEC §1, issue 14). Each network's chats,
commands, buttons and private questions are its own; a person in both is one person in each."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.texts.i18n import t
from localapi.records import MessageRec
from tests.harness import (
    ADMIN,
    ADMIN_B,
    ANNA,
    BERT,
    CARL,
    DORA,
    EVE,
    KT,
    KT_B,
    LT,
    LT_B,
    PT,
    PT_B,
    PUBLIC,
    ST,
    ST_B,
    UT,
    DecisionSteps,
    Harness,
    peek,
    start_bot,
    start_two_networks,
)
from tests.test_e2e_delegations import confirm
from tests.test_e2e_elections import stand
from tests.test_e2e_nominations import accept, approve


async def two_pts(tmp_path: Path) -> Harness:
    """Both networks have a PT with Anna and Bert on it; Ada set up the first, Berit the
    second."""
    h = await start_two_networks(tmp_path)
    await h.set_up_team("PT", (ANNA, BERT))
    await h.set_up_team("PT", (ANNA, BERT), chat=PT_B, name="Projektteam Südwest", by=ADMIN_B)
    return h


async def test_each_network_sees_only_its_own_proposals(tmp_path: Path) -> None:
    h = await two_pts(tmp_path)
    try:
        await h.say(PT, ANNA, "/vorschlag 1d Bänke am Markt")
        await h.say(PT_B, BERT, "/vorschlag 1d Ein Hoffest im Juni")
        await h.say(PT, BERT, "/offen")
        first = h.last_text(PT)
        assert "Bänke am Markt" in first and "Hoffest" not in first
        await h.say(PT_B, ANNA, "/offen")
        second = h.last_text(PT_B)
        assert "Hoffest" in second and "Bänke" not in second
    finally:
        await h.stop()


async def test_a_card_of_one_network_counts_its_own_members(tmp_path: Path) -> None:
    h = await two_pts(tmp_path)
    try:
        d = DecisionSteps(h)
        await h.say(PT_B, BERT, "/vorschlag 1d Ein Hoffest im Juni")
        await d.press(PT_B, 1, ANNA, "agree")
        await d.press(PT_B, 1, BERT, "agree")
        assert "Beschluss" in h.bot_texts(PT_B)[-1]
        assert not any("Hoffest" in text for text in h.bot_texts(PT))
    finally:
        await h.stop()


async def test_an_admin_of_one_network_cannot_admit_in_the_other(tmp_path: Path) -> None:
    h = await two_pts(tmp_path)
    try:
        before = await h.roster(PT_B, asker=ADMIN_B)
        await h.say(PT_B, ADMIN, "/aufnehmen @eve")
        assert "✅" not in h.last_text(PT_B)
        assert await h.roster(PT_B, asker=ADMIN_B) == before
    finally:
        await h.stop()


async def test_a_private_command_of_a_member_of_both_asks_which_network(tmp_path: Path) -> None:
    h = await two_pts(tmp_path)
    try:
        h.model.start_bot(ANNA)
        await h.say(ANNA, ANNA, "/anliegen")
        question = h.model.last_bot_message(ANNA)
        assert question is not None and "Netzwerk" in (question.text or "")
        assert question.button_texts == ["WiQ Test", "Südwest"]
        query = h.model.press_button(ANNA, question.message_id, ANNA, button_text="Südwest")
        await h.model.wait_callback_answer(query)
        await h.settle()
        # the command that asked runs in the chosen network, and the choice is remembered
        assert "Schreib mir dein Anliegen" in h.last_text(ANNA)
        choice = await h.say(ANNA, ANNA, "Der Hof braucht mehr Licht.")
        assert choice is not None and choice.button_texts[0] == "Mit meinem Namen"
        query = h.model.press_button(ANNA, choice.message_id, ANNA, button_text="Anonym")
        await h.model.wait_callback_answer(query)
        await h.settle()
        assert any("Der Hof braucht mehr Licht." in text for text in h.bot_texts(PT_B))
        assert not any("Der Hof braucht" in text for text in h.bot_texts(PT))
    finally:
        await h.stop()


# -- nothing crosses networks (SPEC §1), both ways --------------------------------------------

A_ONLY = ("Bänke am Markt", "Kompost im Hof")  # the first network's proposals
B_ONLY = ("Hoffest im Juni", "Lastenrad für alle")  # the second's


async def two_networks(tmp_path: Path, **options: Any) -> tuple[Harness, DecisionSteps]:
    """A PT and an ST in each network, with other people on them, so that a roster, a card
    or a digest that reached across would show someone it should not: "WiQ Test" PT Anna,
    Bert and ST Carl, Dora; "Südwest" PT Anna, Carl and ST Bert, Dora. Anna and Dora are on
    a roster in both."""
    h = await start_two_networks(tmp_path, **options)
    await h.set_up_team("PT", (ANNA, BERT))
    await h.set_up_team("ST", (CARL, DORA))
    await h.set_up_team("PT", (ANNA, CARL), chat=PT_B, name="Projektteam Südwest", by=ADMIN_B)
    await h.set_up_team("ST", (BERT, DORA), chat=ST_B, name="Steuerung Südwest", by=ADMIN_B)
    return h, DecisionSteps(h)


def database(h: Harness) -> Any:
    """A plain connection to the test's database (either backend: `peek`)."""
    connection = peek(h.config)
    connection.row_factory = sqlite3.Row
    return connection


def count(h: Harness, sql: str, *params: Any) -> int:
    with contextlib.closing(database(h)) as connection:
        return int(connection.execute(sql, params).fetchone()[0])


def files(h: Harness, chat_id: int, after: int) -> str:
    """The text of every file the bot sent to the chat after message `after`."""
    return "\n".join(
        m.document.data.decode("utf-8-sig")
        for m in h.model.bot_messages(chat_id)
        if m.document is not None and m.message_id > after
    )


def shows_only(text: str, own: Sequence[str], others: Sequence[str]) -> bool:
    return all(title in text for title in own) and not any(title in text for title in others)


async def test_commands_buttons_and_exports_see_only_their_network(tmp_path: Path) -> None:
    h, d = await two_networks(tmp_path)
    try:
        # Each network: one Beschluss and one proposal still open (each network counts from
        # #1: A's #1 and #2, B's #1 and #2).
        await h.say(PT, ANNA, f"/vorschlag 1d {A_ONLY[0]}")
        await h.say(PT_B, CARL, f"/vorschlag 1d {B_ONLY[0]}")
        for user in (ANNA, BERT):
            await d.press(PT, 1, user, "agree")
        for user in (ANNA, CARL):
            await d.press(PT_B, 1, user, "agree")
        assert "Beschluss: Konsens" in h.bot_texts(PT)[-1]
        assert "Beschluss: Konsens" in h.bot_texts(PT_B)[-1]
        await h.say(PT, BERT, f"/vorschlag 1d {A_ONLY[1]}")
        await h.say(PT_B, ANNA, f"/vorschlag 1d {B_ONLY[1]}")

        # A press on A's card counts A's roster only: Anna (on both PTs) answers in A, and
        # B's card does not move; Carl (on B's PT, not on A's) is not on A's roster.
        await d.press(PT, 2, ANNA, "agree")
        assert "Geantwortet: 1 von 2 Stimmberechtigten" in d.card(PT, 2).text
        assert "Geantwortet: 0 von 2 Stimmberechtigten" in d.card(PT_B, 2).text
        answer = await d.press(PT, 2, CARL, "agree")
        assert "nicht" in answer["text"] and answer.get("show_alert")
        assert "Geantwortet: 1 von 2 Stimmberechtigten" in d.card(PT, 2).text

        # A forged press in B's chat naming A's round changes nothing and is invalid.
        [[agree, *_], *_] = d.card(PT, 2).buttons
        responses = count(h, "SELECT COUNT(*) FROM responses")
        hung_on = d.card(PT_B, 2).message_id
        for presser in (ANNA, BERT):  # on A's PT; on neither PT
            query = h.model.press_button(
                PT_B, hung_on, presser, callback_data=agree["callback_data"], forge=True
            )
            answer = await h.model.wait_callback_answer(query)
            await h.settle()
            assert answer["text"] == t("de", "press.invalid"), answer
        assert count(h, "SELECT COUNT(*) FROM responses") == responses
        assert "Geantwortet: 1 von 2 Stimmberechtigten" in d.card(PT, 2).text
        assert "Geantwortet: 0 von 2 Stimmberechtigten" in d.card(PT_B, 2).text

        # Commands in a team chat answer of that network only.
        own = {PT: (A_ONLY, B_ONLY), PT_B: (B_ONLY, A_ONLY)}
        for chat, (mine, theirs) in own.items():
            listing = await h.say(chat, ANNA, "/offen")
            assert listing is not None and shows_only(listing.text, mine[1:], (*theirs, mine[0]))
            decided = await h.say(chat, ANNA, "/beschluesse")
            assert decided is not None and shows_only(decided.text, mine[:1], theirs)
            digest = await h.say(chat, ANNA, "/rueckblick")
            assert digest is not None and not any(t in digest.text for t in theirs)
            assert any(t in digest.text for t in mine)
        assert await h.roster(PT) == ["Anna", "Bert"]
        assert await h.roster(PT_B, asker=ADMIN_B) == ["Anna", "Carl"]
        assert await h.roster(ST_B, asker=ADMIN_B) == ["Bert", "Dora"]
        team_a = await h.say(PT, BERT, "/team")
        team_b = await h.say(PT_B, BERT, "/team")
        assert team_a is not None and "Projektteam" in team_a.text
        assert "Südwest" not in team_a.text and "Carl" not in team_a.text
        assert team_b is not None and "Projektteam Südwest" in team_b.text
        assert "Bert" not in team_b.text

        # Exports: a team's in its chat, the whole network's privately by its admin.
        for chat, (mine, theirs) in own.items():
            after = h.last_id(chat)
            await h.say(chat, ANNA, "/export")
            exported = files(h, chat, after)
            assert shows_only(exported, mine[:1], theirs), exported
        for admin, (mine, theirs) in ((ADMIN, own[PT]), (ADMIN_B, own[PT_B])):
            h.model.start_bot(admin)
            await h.settle()
            after = h.last_id(admin)
            await h.say(admin, admin, "/export")
            exported = files(h, admin, after)
            assert shows_only(exported, mine[:1], theirs), exported
            assert ("Südwest" in exported) == (admin == ADMIN_B)  # its teams, its name
    finally:
        await h.stop()


# "WiQ Test" sends its digests on Monday at 9:00 in Berlin, "Südwest" on Wednesday at 18:00 in
# Lisbon; each has its own public chat (a chat of no team).
OWN_DIGESTS = f"""
[[networks]]
name = "WiQ Test"
key = "test"
admins = [{ADMIN}]
[networks.digest]
public_chat_id = {PUBLIC}
[[networks]]
name = "Südwest"
key = "suedwest"
admins = [{ADMIN_B}]
timezone = "Europe/Lisbon"
[networks.digest]
weekday = "wednesday"
time = "18:00"
public_chat_id = {KT_B}
"""


def digests(h: Harness, chat_id: int) -> list[str]:
    return [text for text in h.bot_texts(chat_id) if text.startswith(("📅", "📰"))]


async def until(h: Harness, moment: datetime) -> None:
    h.clock.advance((moment - h.clock.now()).total_seconds())  # type: ignore[attr-defined]
    await h.due(0)


async def test_each_network_gets_its_own_digests_at_its_own_time(tmp_path: Path) -> None:
    tuesday = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    h = await start_bot(tmp_path, networks=OWN_DIGESTS, start=tuesday)
    d = DecisionSteps(h)
    try:
        await h.set_up_team("PT", (ANNA, BERT))
        await h.set_up_team("ST", (CARL, DORA))
        await h.set_up_team("PT", (ANNA, CARL), chat=PT_B, name="Projektteam Südwest", by=ADMIN_B)
        await h.set_up_team("ST", (BERT, DORA), chat=ST_B, name="Steuerung Südwest", by=ADMIN_B)
        await h.say(ST, CARL, f"/vorschlag 1d {A_ONLY[0]}")  # A's #1
        await h.say(ST_B, DORA, f"/vorschlag 1d {B_ONLY[0]}")  # B's #1
        for user in (CARL, DORA):
            await d.press(ST, 1, user, "agree")
        for user in (BERT, DORA):  # Dora, on both STs, agrees in each
            await d.press(ST_B, 1, user, "agree")
        await h.say(ST, DORA, f"/vorschlag 3d {A_ONLY[1]}")  # A's #2, open
        await d.press(ST, 2, DORA, "object")  # Dora objects in A only
        await h.say(ST_B, BERT, f"/vorschlag 3d {B_ONLY[1]}")  # B's #2, open, unanswered
        chats_a, chats_b = (PT, ST, PUBLIC), (PT_B, ST_B, KT_B)

        # Wednesday 18:00 in Lisbon: Südwest's digests, and none of WiQ Test's.
        await until(h, datetime(2026, 11, 4, 17, 59, tzinfo=UTC))
        assert [digests(h, chat) for chat in (*chats_a, *chats_b)] == [[]] * 6
        await until(h, datetime(2026, 11, 4, 18, 0, tzinfo=UTC))
        assert [len(digests(h, chat)) for chat in chats_b] == [1, 1, 1]
        assert [digests(h, chat) for chat in chats_a] == [[]] * 3
        [pt_b], [st_b], [public_b] = (digests(h, chat) for chat in chats_b)
        assert "Netzwerk-Wochenrückblick" in pt_b
        for text in (st_b, pt_b, public_b):
            assert not any(title in text for title in A_ONLY), text
            assert "Steuerungsteam" not in text and "Einwand" not in text
        assert B_ONLY[0] in st_b and B_ONLY[0] in pt_b and B_ONLY[0] in public_b
        assert "Steuerung Südwest" in pt_b

        # Monday 9:00 in Berlin: WiQ Test's, and nothing more of Südwest's.
        await until(h, datetime(2026, 11, 9, 7, 59, tzinfo=UTC))
        assert [digests(h, chat) for chat in chats_a] == [[]] * 3
        await until(h, datetime(2026, 11, 9, 8, 0, tzinfo=UTC))
        assert [len(digests(h, chat)) for chat in (*chats_a, *chats_b)] == [1] * 6
        [pt_a], [st_a], [public_a] = (digests(h, chat) for chat in chats_a)
        for text in (pt_a, st_a, public_a):
            assert not any(title in text for title in B_ONLY), text
            assert "Südwest" not in text
        assert A_ONLY[0] in st_a and A_ONLY[0] in pt_a and A_ONLY[0] in public_a
        assert A_ONLY[1] in st_a
    finally:
        await h.stop()


async def choose_network(h: Harness, user: int, name: str) -> None:
    """The person's private chat is for this network from now on (/netzwerk, a button)."""
    offer = await h.say(user, user, "/netzwerk")
    assert offer is not None and name in offer.button_texts, offer
    query = h.model.press_button(user, offer.message_id, user, button_text=name)
    await h.model.wait_callback_answer(query)
    await h.settle()
    assert f"jetzt für {name}" in h.last_text(user)


def seat_line(listing: MessageRec | None, name: str) -> str | None:
    assert listing is not None and listing.text is not None
    return next((line for line in listing.text.splitlines() if line.startswith(f"• {name} ")), None)


async def test_nominations_delegations_elections_support_and_anliegen_stay_home(
    tmp_path: Path,
) -> None:
    h, d = await two_networks(tmp_path)
    chats_b = (PT_B, ST_B, LT_B, KT_B)  # KT_B: Südwest's NET chat
    try:
        await h.set_up_team("UT", ())
        await h.set_up_team("NET", (ANNA, BERT, CARL, DORA, EVE), chat=KT)
        for user in (ANNA, BERT, CARL, DORA, EVE):
            h.model.start_bot(user)
        h.model.send_message(ST_B, EVE, "Hallo")  # Südwest knows Eve now, on no roster there
        await h.settle()
        before_b = {chat: h.last_id(chat) for chat in chats_b}

        # A delegation in each network: the same person, a seat of her own in each.
        await h.say(ST, ADMIN, "/entsenden @eve politik Stadtbezirksbeirat Alt-West")
        await confirm(h, EVE)
        await h.say(ST_B, ADMIN_B, "/entsenden @eve verwaltung Amt für Stadtgrün")
        await confirm(h, EVE)
        seat_a = seat_line(await h.say(ST, ADMIN, "/mitglieder"), "Eve")
        seat_b = seat_line(await h.say(ST_B, ADMIN_B, "/mitglieder"), "Eve")
        assert seat_a is not None and "Stadtbezirksbeirat Alt-West" in seat_a
        assert "Stadtgrün" not in seat_a
        assert seat_b is not None and "Amt für Stadtgrün" in seat_b and "Alt-West" not in seat_b

        # Eve's private chat is for Südwest now: the questions of the first network she
        # answers there (a nomination, a candidacy) are the first network's all the same.
        await choose_network(h, EVE, "Südwest")

        # A nomination: the PT and the ST of its own network approve it.
        await h.say(PT, ANNA, "/nominieren 2d @eve UT kennt alle")
        assert "Nominierung von Eve" in d.card(PT, 1).text
        assert "Nominierung von Eve" in d.card(ST, 2).text
        question = next(m for m in reversed(h.model.bot_messages(EVE)) if m.reply_markup)
        [[yes, *_], *_] = question.buttons
        forged = h.model.press_button(  # Dora presses Eve's button: not hers
            DORA, h.last_id(DORA), DORA, callback_data=yes["callback_data"], forge=True
        )
        answer = await h.model.wait_callback_answer(forged)
        assert answer["text"] == t("en", "nominate.not_for_you"), answer  # Dora: English
        await accept(h, EVE)
        await approve(h, d, PT, 1, (ANNA, BERT))
        await approve(h, d, ST, 2, (CARL, DORA, EVE))  # Eve sits on the ST by now
        assert await h.roster(UT) == ["Eve"]
        refused = await h.say(ST_B, DORA, "/nominieren 2d @eve UT")  # Südwest has no UT
        assert refused is not None and "eingerichtet" in refused.text

        # An election in the first network's NET chat: its admin calls it, Südwest's may not.
        h.model.member_joins(KT, ADMIN_B)
        refused = await h.say(KT, ADMIN_B, "/wahl 3d 1 @eve @bert")
        assert refused is not None and refused.text == t("de", "election.who")
        await h.say(KT, ADMIN, "/wahl 3d 1 @bert @eve")
        assert any("Wahl #1" in text for text in h.bot_texts(KT))
        await stand(h, BERT)
        await stand(h, EVE)
        # And one in Südwest's, with Eve again: she stands in each on her own.
        await h.set_up_team("NET", (ANNA, BERT, CARL, DORA, EVE), chat=KT_B, by=ADMIN_B)
        await h.say(KT_B, ADMIN_B, "/wahl 3d 1 @carl_x @eve")
        await stand(h, CARL)
        await stand(h, EVE)
        [poll_a] = [m.poll for m in h.model.bot_messages(KT) if m.poll is not None]
        [poll_b] = [m.poll for m in h.model.bot_messages(KT_B) if m.poll is not None]
        assert [o.text for o in poll_a.options] == ["Bert", "Eve"]
        assert [o.text for o in poll_b.options] == ["Carl", "Eve"]
        h.model.answer_poll(poll_a.id, ANNA, [0])  # Anna, in both NETs: Bert in one,
        h.model.answer_poll(poll_b.id, ANNA, [0])  # Carl in the other
        h.model.answer_poll(poll_b.id, DORA, [1])
        h.model.answer_poll(poll_b.id, CARL, [0])
        await h.settle()

        # Support requests: each LT's go to its own network's ST.
        for chat, admin in ((LT, ADMIN), (LT_B, ADMIN_B)):
            h.model.member_joins(chat, admin)
            await h.bind(chat, "LT", "Garten" if chat == LT else "Garten Südwest", by=admin)
        await h.say(LT, CARL, "/unterstuetzung 200 € für Werkzeug")
        await h.say(LT_B, BERT, "/unterstuetzung Ein Raum für das Hoffest")
        assert "200 € für Werkzeug" in h.bot_texts(ST)[-1]
        assert "Raum für das Hoffest" in h.bot_texts(ST_B)[-1]
        assert not any("Raum für das Hoffest" in text for text in h.bot_texts(ST))
        assert not any("Werkzeug" in text for text in h.bot_texts(ST_B))

        # An Anliegen goes to the PT of the network it is for: Eve's chat is for Südwest.
        choice = await h.say(EVE, EVE, "/anliegen Die Sitzungen sind zu spät am Abend.")
        assert choice is not None and choice.button_texts[0] == "Mit meinem Namen"
        query = h.model.press_button(EVE, choice.message_id, EVE, button_text="Anonym")
        await h.model.wait_callback_answer(query)
        await h.settle()
        [post] = [m for m in h.model.bot_messages(PT_B) if "Sitzungen sind zu" in (m.text or "")]
        assert not any("Sitzungen sind zu" in text for text in h.bot_texts(PT))
        # Eve switches her chat to the first network; the PT's answer and her reply to it stay
        # with the Anliegen's network (a reply goes where the message it answers came from).
        await choose_network(h, EVE, "WiQ Test")
        await h.say(PT_B, ANNA, "Wir legen sie früher.", reply_to=post.message_id)
        delivered = h.model.last_bot_message(EVE)
        assert delivered is not None and "Wir legen sie früher." in (delivered.text or "")
        passed_on = await h.say(EVE, EVE, "Danke, 18 Uhr wäre gut.", reply_to=delivered.message_id)
        assert passed_on is not None and "weitergegeben" in (passed_on.text or "")
        assert "18 Uhr wäre gut" in h.last_text(PT_B)
        assert not any("18 Uhr" in text for text in h.bot_texts(PT))

        # The elections close: each counts its own ballots, and seats its own in its own ST.
        await h.due(3 * 86400 + 1)
        [result_a] = [text for text in h.bot_texts(KT) if "Ergebnis der Wahl #1" in text]
        # (each network counts its elections from #1)
        [result_b] = [text for text in h.bot_texts(KT_B) if "Ergebnis der Wahl #1" in text]
        assert "Bert: 1" in result_a and "Eve: 0" in result_a and "Gewählt: Bert" in result_a
        assert "Carl: 2" in result_b and "Eve: 1" in result_b and "Gewählt: Carl" in result_b
        elected_a = seat_line(await h.say(ST, ADMIN, "/mitglieder"), "Bert")
        elected_b = seat_line(await h.say(ST_B, ADMIN_B, "/mitglieder"), "Carl")
        assert elected_a is not None and "gewählt" in elected_a
        assert elected_b is not None and "gewählt" in elected_b
        assert seat_line(await h.say(ST, ADMIN, "/mitglieder"), "Carl") is not None  # as before
        assert seat_line(await h.say(ST_B, ADMIN_B, "/mitglieder"), "Bert") is not None

        # Nothing of the first network's reached Südwest's chats.
        for chat in chats_b:
            new = [m for m in h.model.bot_messages(chat) if m.message_id > before_b[chat]]
            for text in (m.text or "" for m in new):
                for word in ("Nominierung", "Werkzeug", "Alt-West"):
                    assert word not in text, (chat, text)
    finally:
        await h.stop()


async def test_mydata_lists_both_networks_and_forgetme_forgets_in_both(tmp_path: Path) -> None:
    h, d = await two_networks(tmp_path)
    try:
        await h.say(PT, BERT, f"/vorschlag 1d {A_ONLY[0]}")  # A's #1
        await h.say(PT_B, CARL, f"/vorschlag 1d {B_ONLY[0]}")  # B's #1
        await d.press(PT, 1, ANNA, "agree")
        await d.press(PT_B, 1, ANNA, "concern")
        h.model.start_bot(ANNA)
        h.model.start_bot(EVE)
        await h.settle()
        # Anna is one person in each network: her Zustimmung in one, her Bedenken in the other.
        await h.say(ANNA, ANNA, "/meinedaten")
        sent = h.model.last_bot_message(ANNA)
        assert sent is not None and sent.document is not None
        data = json.loads(sent.document.data)
        by_network = {entry["network"]: entry for entry in data["networks"]}
        assert list(by_network) == ["WiQ Test", "Südwest"]
        choices = {
            name: [r["choice"] for r in entry["tables"]["responses"]]
            for name, entry in by_network.items()
        }
        assert choices == {"WiQ Test": ["agree"], "Südwest": ["concern"]}
        assert by_network["WiQ Test"]["person"]["id"] != by_network["Südwest"]["person"]["id"]
        # Eve is known to neither network's rosters: a file of no network's data about others.
        await h.say(EVE, EVE, "/meinedaten")
        eve = h.model.last_bot_message(EVE)
        assert eve is not None and eve.document is not None
        assert "Anna" not in eve.document.data.decode("utf-8")

        ask = await h.say(ANNA, ANNA, "/vergessen")
        assert ask is not None and "Projektteam (WiQ Test)" in (ask.text or "")
        assert "Projektteam Südwest (Südwest)" in (ask.text or "")
        query = h.model.press_button(ANNA, ask.message_id, ANNA, button_text="Ja, vergiss mich")
        answer = await h.model.wait_callback_answer(query)
        await h.settle()
        assert "ich habe dich vergessen" in answer["text"]
        assert count(h, "SELECT COUNT(*) FROM people WHERE telegram_id = ?", ANNA) == 0
        assert await h.roster(PT) == ["Bert"]
        assert await h.roster(PT_B, asker=ADMIN_B) == ["Carl"]
        # Both open rounds go on without her (as in a deployment of one network).
        await h.flush_edits()
        assert "Geantwortet: 0 von 1 Stimmberechtigten" in d.card(PT, 1).text
        assert "Geantwortet: 0 von 1 Stimmberechtigten" in d.card(PT_B, 1).text
    finally:
        await h.stop()
