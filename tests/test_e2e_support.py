"""End to end: an LT asks the ST for support (SPEC §6)."""

from __future__ import annotations

from pathlib import Path

from tests.harness import ANNA, BERT, CARL, LT, ST, DecisionSteps
from tests.test_e2e_resilience import due, setup_team

UT = -1001000000005


async def test_support_request_is_decided_by_the_st_and_reported_back(tmp_path: Path) -> None:
    h, d = await setup_team(tmp_path)  # the ST with Anna, Bert, Carl, Dora
    try:
        h.model.add_group(UT, "UT", members=[CARL], admins=[1], bot_status="administrator")
        await h.bind(UT, "UT", "Unterstützungsteam")
        await h.bind(LT, "LT", "Gemeinschaftsgarten", by=ANNA)
        h.model.send_message(LT, BERT, "Wir brauchen Hilfe")
        await h.settle()
        reply = await h.say(LT, BERT, "/unterstuetzung 200 € für Werkzeug")
        assert reply is not None and "#1" in reply.text
        card = DecisionSteps(h).card(ST, 1)
        assert "Unterstützungsanfrage von Gemeinschaftsgarten" in card.text
        assert "200 € für Werkzeug" in card.text
        for user in (ANNA, BERT, CARL):
            await d.press(ST, 1, user, "agree")
        await due(h, 7 * 86400 + 1)
        for chat in (LT, UT):
            told = h.bot_texts(chat)[-1]
            assert "Unterstützungsanfrage #1" in told and "Konsens" in told
    finally:
        await h.stop()


async def test_support_is_requested_from_an_lt_only(tmp_path: Path) -> None:
    h, _ = await setup_team(tmp_path)
    try:
        reply = await h.say(ST, ANNA, "/request_support Geld")
        assert reply is not None and "Lösungsteams" in reply.text
        await h.bind(LT, "LT", "Garten", by=ANNA)
        reply = await h.say(LT, ANNA, "/request_support")
        assert reply is not None and "/unterstuetzung TEXT" in reply.text
        assert await h.services.storage.proposals.open_proposals() == []
    finally:
        await h.stop()
