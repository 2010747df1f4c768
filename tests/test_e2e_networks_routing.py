"""End to end: what names no network in a deployment of several (SPEC §1) is answered all the
same, and asks nothing it need not ask: an unknown command, a photo, a stale button, the bot
added to a new group, someone blocking the bot; /netzwerk shows and changes the choice."""

from __future__ import annotations

from pathlib import Path

from tests.harness import (
    ADMIN_B,
    ANNA,
    BERT,
    CARL,
    PT,
    PT_B,
    Harness,
    start_two_networks,
)

NEW_GROUP = -1003000000009


async def two_pts(tmp_path: Path) -> Harness:
    h = await start_two_networks(tmp_path)
    await h.set_up_team("PT", (ANNA, BERT))
    await h.set_up_team("PT", (ANNA, BERT), chat=PT_B, name="Projektteam Südwest", by=ADMIN_B)
    return h


async def test_what_needs_no_network_asks_for_none(tmp_path: Path) -> None:
    h = await two_pts(tmp_path)
    try:
        h.model.start_bot(ANNA)
        await h.settle()
        await h.say(ANNA, ANNA, "/gibtsnicht")
        assert "/gibtsnicht" in h.last_text(ANNA) and "Netzwerk" not in h.last_text(ANNA)
        await h.say(ANNA, ANNA, "/hilfe")
        help_text = h.last_text(ANNA)
        assert "WiQ Test" in help_text and "Südwest" in help_text and "/netzwerk" in help_text
        # a button of nothing (gone, or forged) is answered as such, in no network
        last = h.model.last_bot_message(ANNA)
        assert last is not None
        before = len(h.model.bot_messages(ANNA))
        query = h.model.press_button(
            ANNA, last.message_id, ANNA, callback_data="1:999999:a", forge=True
        )
        answer = await h.model.wait_callback_answer(query)
        await h.settle()
        assert answer.get("text")
        assert len(h.model.bot_messages(ANNA)) == before
    finally:
        await h.stop()


async def test_the_bot_added_to_a_new_group_says_how_to_bind_it(tmp_path: Path) -> None:
    h = await two_pts(tmp_path)
    try:
        h.model.add_group(NEW_GROUP, "Neu", members=[ANNA], admins=[ANNA], bot_status="left")
        h.model.set_bot_rights(NEW_GROUP, "administrator", by=ANNA)
        await h.settle()
        assert "/setup" in h.last_text(NEW_GROUP)
    finally:
        await h.stop()


async def test_blocking_the_bot_is_known_in_every_network(tmp_path: Path) -> None:
    h = await two_pts(tmp_path)
    try:
        h.model.start_bot(ANNA)
        await h.settle()
        h.model.block_bot(ANNA)
        await h.settle()
        for services in h.deployment.networks:
            person = await services.storage.people.by_telegram_id(ANNA)
            assert person is not None and not person.started_bot, services.network.name
    finally:
        await h.stop()


async def test_the_network_command_shows_and_changes_the_choice(tmp_path: Path) -> None:
    h = await two_pts(tmp_path)
    try:
        h.model.start_bot(ANNA)
        await h.say(ANNA, ANNA, "/netzwerk")
        card = h.model.last_bot_message(ANNA)
        assert card is not None and card.button_texts == ["WiQ Test", "Südwest"]
        query = h.model.press_button(ANNA, card.message_id, ANNA, button_text="Südwest")
        await h.model.wait_callback_answer(query)
        await h.settle()
        assert "Südwest" in h.last_text(ANNA)
        await h.say(ANNA, ANNA, "/netzwerk")
        assert "Dieser Chat ist für Südwest" in h.last_text(ANNA)
        # Carl is in no network yet: he is offered every one, and may choose any
        h.model.start_bot(CARL)
        await h.say(CARL, CARL, "/anliegen")
        offer = h.model.last_bot_message(CARL)
        assert offer is not None and offer.button_texts == ["WiQ Test", "Südwest"]
        # in a group, /netzwerk says whose chat it is
        await h.say(PT_B, ANNA, "/netzwerk")
        assert "Südwest" in h.last_text(PT_B)
        await h.say(PT, ANNA, "/netzwerk")
        assert "WiQ Test" in h.last_text(PT)
    finally:
        await h.stop()


async def test_a_petition_link_from_a_group_opens_it_in_that_network(tmp_path: Path) -> None:
    h = await two_pts(tmp_path)
    try:
        await h.say(PT_B, CARL, "/anliegen")
        link = h.last_text(PT_B)
        assert "start=petition_" in link
        payload = link.split("start=")[1].split()[0].rstrip(").,")
        h.model.start_bot(CARL, payload)
        await h.settle()
        assert "Schreib mir dein Anliegen" in h.last_text(CARL)
        await h.say(CARL, CARL, "Mehr Bänke im Hof.")
        choice = h.model.last_bot_message(CARL)
        assert choice is not None
        query = h.model.press_button(CARL, choice.message_id, CARL, button_text="Anonym")
        await h.model.wait_callback_answer(query)
        await h.settle()
        assert any("Mehr Bänke im Hof." in text for text in h.bot_texts(PT_B))
        assert not any("Mehr Bänke im Hof." in text for text in h.bot_texts(PT))
    finally:
        await h.stop()
