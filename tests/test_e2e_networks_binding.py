"""End to end: binding chats in one deployment of two networks (SPEC §1, issue 14). A chat
joins the network of the admin who binds it — named in /setup, or picked with buttons by an
admin of both — and never one whose admins did not bind it; an LT joins with a one-time code
(or its startgroup link) that one of its network's admins handed out, into that network only."""

from __future__ import annotations

import re
from pathlib import Path

from bot.charter.teams import LT_CODE_VALID
from localapi.records import MessageRec
from tests.harness import (
    ADMIN,
    ADMIN_B,
    ANNA,
    BERT,
    BOT_USERNAME,
    EVE,
    KT_B,
    LT,
    LT_B,
    PT_B,
    ST,
    ST_B,
    Harness,
    peek,
    start_bot,
    start_two_networks,
)

GARDEN = -1003000000001  # a group of neighbours, the bot not yet in it; Anna is its admin
BERITS = -1003000000002  # a new group of Berit's, Ada in it too
CODE = re.compile(r"\b([A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5})\b")
LINK = re.compile(rf"https://t\.me/{BOT_USERNAME}\?startgroup=(lt_[A-Z0-9]+)")

# Ada is an admin of both networks here, Berit of the second only.
ADA_IN_BOTH = f"""
[[networks]]
name = "WiQ Test"
key = "test"
admins = [{ADMIN}]
[[networks]]
name = "Südwest"
key = "suedwest"
admins = [{ADMIN_B}, {ADMIN}]
"""


def teams_in_db(h: Harness) -> list[tuple[str, str, int, str]]:
    """Every bound team: (network, kind, chat, name)."""
    connection = peek(h.config)
    try:
        rows = connection.execute(
            "SELECT n.name, t.kind, t.chat_id, t.name FROM teams t"
            " JOIN networks n ON n.id = t.network_id ORDER BY t.id"
        ).fetchall()
    finally:
        connection.close()
    return [(str(a), str(b), int(c), str(d)) for a, b, c, d in rows]


def count(h: Harness, table: str) -> int:
    connection = peek(h.config)
    try:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        connection.close()


async def lt_code(h: Harness, admin: int) -> tuple[str, str]:
    """The admin asks privately for an LT code: (the code as shown, the startgroup payload)."""
    h.model.start_bot(admin)
    await h.settle()
    reply = await h.say(admin, admin, "/ltcode")
    assert reply is not None, h.model.transcript(admin)
    text = reply.text or ""
    code, link = CODE.search(text), LINK.search(text)
    assert code is not None and link is not None, text
    return code.group(1), link.group(1)


def text_of(message: MessageRec | None) -> str:
    return (message.text or "") if message is not None else ""


async def test_an_admin_of_one_network_cannot_bind_any_chat_into_the_other(
    tmp_path: Path,
) -> None:
    h = await start_two_networks(tmp_path)
    try:
        h.model.add_group(
            BERITS, "Neu", members=[ADMIN], admins=[ADMIN_B], bot_status="administrator"
        )
        for kind in ("PT", "ST", "KT", "UT", "NET"):
            reply = await h.say(PT_B, ADMIN, f"/setup {kind} suedwest Ein Team")
            text = text_of(reply)
            assert "✅" not in text and "Südwest" in text, text
            assert "/setup ART NETZWERK NAME" in text  # the next step: name your own
            reply = await h.say(BERITS, ADMIN_B, f"/setup {kind} test Ein Team")
            assert "✅" not in text_of(reply)
        assert teams_in_db(h) == []
        # Naming none, each binds into their own network only.
        await h.bind(PT_B, "PT", "Projektteam", by=ADMIN)
        await h.bind(BERITS, "ST", "Steuerungsteam Südwest", by=ADMIN_B)
        assert teams_in_db(h) == [
            ("WiQ Test", "PT", PT_B, "Projektteam"),
            ("Südwest", "ST", BERITS, "Steuerungsteam Südwest"),
        ]
    finally:
        await h.stop()


async def test_nobody_admits_removes_or_nominates_in_the_other_networks_chats(
    tmp_path: Path,
) -> None:
    h = await start_two_networks(tmp_path)
    try:
        await h.set_up_team("PT", (ANNA, BERT), chat=PT_B, name="Projektteam", by=ADMIN_B)
        await h.set_up_team("PT", (ANNA, BERT))  # Ada's network has its PT too
        h.model.send_message(PT_B, EVE, "Hallo")
        before = await h.roster(PT_B, asker=ADMIN_B)
        assert before == ["Anna", "Bert"]
        for command in ("/aufnehmen @eve", "/entfernen @anna zieht weg", "/nominieren @eve UT"):
            reply = await h.say(PT_B, ADMIN, command)
            text = text_of(reply)
            assert reply is not None and "✅" not in text, (command, text)
        assert await h.roster(PT_B, asker=ADMIN_B) == before
        assert count(h, "nominations") == 0
        assert count(h, "proposals") == 0
    finally:
        await h.stop()


async def test_an_admin_of_both_binds_into_the_network_they_name(tmp_path: Path) -> None:
    h = await start_bot(tmp_path, networks=ADA_IN_BOTH)
    try:
        reply = await h.bind(PT_B, "PT suedwest", "Projektteam", by=ADMIN)
        assert "Südwest" in (reply.text or "")
        await h.bind(ST, "ST test", "Steuerungsteam", by=ADMIN)
        # the network's one-word name works as well as its key
        await h.bind(ST_B, "ST Südwest", "Steuerung Südwest", by=ADMIN)
        assert teams_in_db(h) == [
            ("Südwest", "PT", PT_B, "Projektteam"),
            ("WiQ Test", "ST", ST, "Steuerungsteam"),
            ("Südwest", "ST", ST_B, "Steuerung Südwest"),
        ]
    finally:
        await h.stop()


async def test_an_admin_of_both_naming_none_picks_with_buttons_for_that_setup_only(
    tmp_path: Path,
) -> None:
    h = await start_bot(tmp_path, networks=ADA_IN_BOTH)
    try:
        question = await h.say(PT_B, ADMIN, "/setup PT Projektteam")
        assert question is not None and "mehreren Netzwerken" in (question.text or "")
        assert question.button_texts == ["WiQ Test", "Südwest"]
        assert teams_in_db(h) == []
        # Someone else's press binds nothing.
        query = h.model.press_button(PT_B, question.message_id, ANNA, button_text="Südwest")
        answer = await h.model.wait_callback_answer(query)
        assert "nur für" in str(answer.get("text"))
        await h.settle()
        assert teams_in_db(h) == []
        query = h.model.press_button(PT_B, question.message_id, ADMIN, button_text="Südwest")
        await h.model.wait_callback_answer(query)
        await h.settle()
        assert teams_in_db(h) == [("Südwest", "PT", PT_B, "Projektteam")]
        assert "✅" in h.last_text(PT_B) and "Südwest" in h.last_text(PT_B)
        # The question is spent, and the pick is not remembered: the next /setup asks again.
        query = h.model.press_button(PT_B, question.message_id, ADMIN, button_text="WiQ Test")
        await h.model.wait_callback_answer(query)
        await h.settle()
        again = await h.say(KT_B, ADMIN, "/setup KT Kernteam")
        assert again is not None and again.button_texts == ["WiQ Test", "Südwest"]
        query = h.model.press_button(KT_B, again.message_id, ADMIN, button_text="WiQ Test")
        await h.model.wait_callback_answer(query)
        await h.settle()
        assert teams_in_db(h) == [
            ("Südwest", "PT", PT_B, "Projektteam"),
            ("WiQ Test", "KT", KT_B, "Kernteam"),
        ]
    finally:
        await h.stop()


async def test_a_group_admin_needs_a_network_admins_code_for_an_lt(tmp_path: Path) -> None:
    h = await start_two_networks(tmp_path)
    try:
        reply = await h.say(LT_B, ANNA, "/setup LT Gemeinschaftsgarten")
        text = text_of(reply)
        assert "✅" not in text and "/ltcode" in text, text
        reply = await h.say(LT_B, ANNA, "/setup LT ABC23-DEF45 Gemeinschaftsgarten")  # forged
        assert "nicht, oder er ist schon benutzt" in text_of(reply)
        assert teams_in_db(h) == []
    finally:
        await h.stop()


async def test_an_lt_code_of_one_network_binds_into_that_network_once(tmp_path: Path) -> None:
    h = await start_two_networks(tmp_path)
    try:
        code, _ = await lt_code(h, ADMIN)
        # Only an admin of the group may use it (Bert is a member there) …
        reply = await h.say(LT_B, BERT, f"/setup LT {code} Gemeinschaftsgarten")
        assert "✅" not in text_of(reply)
        # … and it binds the group into Ada's network, though its other chats are Südwest's.
        reply = await h.say(LT_B, ANNA, f"/setup LT {code.lower()} Gemeinschaftsgarten")
        assert "✅" in text_of(reply) and "WiQ Test" in text_of(reply)
        assert teams_in_db(h) == [("WiQ Test", "LT", LT_B, "Gemeinschaftsgarten")]
        # Used once: a second group cannot use it again.
        h.model.add_group(
            GARDEN, "Garten", members=[BERT], admins=[ANNA], bot_status="administrator"
        )
        reply = await h.say(GARDEN, ANNA, f"/setup LT {code} Zweiter Garten")
        assert "abgelaufen" in text_of(reply)
        assert len(teams_in_db(h)) == 1
    finally:
        await h.stop()


async def test_an_lt_code_lapses_and_fits_no_other_network(tmp_path: Path) -> None:
    h = await start_two_networks(tmp_path)
    try:
        code_a, _ = await lt_code(h, ADMIN)
        code_b, _ = await lt_code(h, ADMIN_B)
        # Südwest's code, said to be for WiQ Test, binds nothing.
        reply = await h.say(LT_B, ANNA, f"/setup LT test {code_b} Gemeinschaftsgarten")
        assert "abgelaufen" in text_of(reply)
        assert teams_in_db(h) == []
        h.clock.advance(LT_CODE_VALID.total_seconds() + 1)
        reply = await h.say(LT_B, ANNA, f"/setup LT {code_a} Gemeinschaftsgarten")
        assert "abgelaufen" in text_of(reply)
        assert teams_in_db(h) == []
        # and Südwest's, handed out at the same time, has lapsed too
        reply = await h.say(LT_B, ANNA, f"/setup LT {code_b} Gemeinschaftsgarten")
        assert "abgelaufen" in text_of(reply)
        assert teams_in_db(h) == []
    finally:
        await h.stop()


async def test_the_startgroup_link_brings_the_code_and_setup_lt_name_binds(
    tmp_path: Path,
) -> None:
    h = await start_two_networks(tmp_path)
    try:
        await h.set_up_team("PT", (ANNA, BERT), chat=PT_B, name="Projektteam", by=ADMIN_B)
        h.model.start_bot(ADMIN_B)
        await h.settle()
        # Asked in a chat of her network, Berit gets the code privately.
        reply = await h.say(PT_B, ADMIN_B, "/ltcode")
        assert "privat" in text_of(reply)
        message = h.model.last_bot_message(ADMIN_B)
        assert message is not None
        link = LINK.search(message.text or "")
        assert link is not None, message.text
        # Anna opens the link: Telegram adds the bot to her group, which sends /start there.
        h.model.add_group(GARDEN, "Garten", members=[BERT, EVE], admins=[ANNA], bot_status="left")
        h.model.set_bot_rights(GARDEN, "member", by=ANNA)
        await h.settle()
        assert "/setup" in h.last_text(GARDEN)  # the bot says hello and how to go on
        reply = await h.say(GARDEN, ANNA, f"/start@{BOT_USERNAME} {link.group(1)}")
        assert "Südwest" in text_of(reply)
        h.model.set_bot_rights(GARDEN, "administrator", by=ANNA)
        await h.settle()
        reply = await h.say(GARDEN, ANNA, "/setup LT Gemeinschaftsgarten")
        assert "✅" in text_of(reply), text_of(reply)
        assert ("Südwest", "LT", GARDEN, "Gemeinschaftsgarten") in teams_in_db(h)
        # The link is spent with the code.
        reply = await h.say(LT_B, ANNA, f"/start@{BOT_USERNAME} {link.group(1)}")
        assert "abgelaufen" in text_of(reply)
    finally:
        await h.stop()


async def test_with_one_network_no_code_is_needed(tmp_path: Path) -> None:
    h = await start_bot(tmp_path)
    try:
        h.model.start_bot(ADMIN)
        await h.settle()
        reply = await h.say(ADMIN, ADMIN, "/ltcode")
        assert reply is not None and "ohne Code" in (reply.text or "")
        await h.bind(LT, "LT", "Gemeinschaftsgarten", by=ANNA)  # Anna: no network admin
    finally:
        await h.stop()
