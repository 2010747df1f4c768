"""End to end: one deployment serving two networks (SPEC §1, issue 14). Each network's chats,
commands, buttons and private questions are its own; a person in both is one person in each."""

from __future__ import annotations

from pathlib import Path

from tests.harness import (
    ADMIN,
    ADMIN_B,
    ANNA,
    BERT,
    PT,
    PT_B,
    DecisionSteps,
    Harness,
    start_two_networks,
)


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
