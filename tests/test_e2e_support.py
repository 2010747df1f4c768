"""End to end: an LT asks the ST for support (SPEC §6)."""

from __future__ import annotations

from tests.harness import ANNA, BERT, CARL, LT, ST, UT, Teams


async def test_support_request_is_decided_by_the_st_and_reported_back(team: Teams) -> None:
    h, d = await team("ST")  # the ST with Anna, Bert, Carl, Dora
    await team("UT", members=())
    await team("LT", members=(ANNA, BERT))
    reply = await h.say(LT, BERT, "/unterstuetzung 200 € für Werkzeug")
    assert reply is not None and "#1" in reply.text
    card = d.card(ST, 1)
    assert "Unterstützungsanfrage vom Lösungsteam „Gemeinschaftsgarten“" in card.text
    assert "200 € für Werkzeug" in card.text
    for user in (ANNA, BERT, CARL):
        await d.press(ST, 1, user, "agree")
    await h.due(7 * 86400 + 1)
    for chat in (LT, UT):
        told = h.last_text(chat)
        assert "Unterstützungsanfrage #1" in told and "Konsens" in told


async def test_support_is_requested_from_an_lt_only(team: Teams) -> None:
    h, _ = await team("ST")
    reply = await h.say(ST, ANNA, "/request_support Geld")
    assert reply is not None and "Lösungsteams" in reply.text
    await team("LT", members=(ANNA,))
    reply = await h.say(LT, ANNA, "/request_support")
    assert reply is not None and "/unterstuetzung TEXT" in reply.text
    listing = await h.say(ST, ANNA, "/offen")
    assert listing is not None and "gerade nichts offen" in listing.text
