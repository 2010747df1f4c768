"""End to end: ST seats by delegation — recorded once the delegate confirmed; the UT seat by
a PT decision (SPEC §5)."""

from __future__ import annotations

import re

from tests.harness import ADMIN, ANNA, BERT, EVE, NEWBIE, PT, ST, Harness
from tests.test_e2e_nominations import approve


async def st_seat(h: Harness, name: str) -> str | None:
    """The seat the ST's /members shows for this person (None: not on the list)."""
    listing = await h.say(ST, ADMIN, "/members")
    assert listing is not None
    for line in listing.text.splitlines():
        if line.startswith(f"• {name} "):
            return line.split(" – Sitz: ")[1] if " – Sitz: " in line else ""
    return None


async def confirm(h: Harness, user: int, yes: bool = True) -> dict:
    question = next(m for m in reversed(h.model.bot_messages(user)) if m.reply_markup)
    query = h.model.press_button(
        user, question.message_id, user, button_text="Bestätigen" if yes else "Ablehnen"
    )
    answer = await h.model.wait_callback_answer(query)
    await h.settle()
    return answer


async def test_a_delegation_is_recorded_after_the_delegates_confirmation(net) -> None:
    h, _ = net
    h.model.start_bot(EVE)
    await h.settle()
    reply = await h.say(ST, ADMIN, "/entsenden @eve politik Stadtbezirksbeirat Alt-West")
    assert reply is not None and "Eingetragen" in reply.text
    assert await st_seat(h, "Eve") is None  # not before she confirmed
    answer = await confirm(h, EVE)
    assert "Steuerungsteam" in answer["text"]
    assert await st_seat(h, "Eve") == "Politik, entsandt von: Stadtbezirksbeirat Alt-West"
    listing = await h.say(ST, ANNA, "/members")
    assert listing is not None and "Sitz: Politik, entsandt von: Stadtbezirksbeirat" in listing.text
    again = await confirm(h, EVE)
    assert "abgeschlossen" in again["text"]


async def test_an_unseen_delegate_confirms_by_deep_link(net) -> None:
    h, _ = net
    reply = await h.say(ST, ADMIN, "/delegate @nele_neu verwaltung Amt für Stadtgrün")
    assert reply is not None
    token = re.search(r"start=(del_\S+)", reply.text).group(1)
    h.model.start_bot(NEWBIE, payload=token)
    await h.settle()
    await confirm(h, NEWBIE)
    assert await st_seat(h, "Nele") == "Verwaltung, entsandt von: Amt für Stadtgrün"


async def test_a_declined_delegation_seats_nobody(net) -> None:
    h, _ = net
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(ST, ADMIN, "/delegate @eve verwaltung Ordnungsamt")
    await confirm(h, EVE, yes=False)
    assert await st_seat(h, "Eve") is None


async def test_the_ut_seat_is_filled_by_a_pt_decision(net) -> None:
    h, d = net
    await h.say(PT, ANNA, "/delegate @eve ut")
    card = d.card(PT, 1)
    assert "UT-Sitz" in card.text
    await approve(h, d, PT, 1, (ANNA, BERT))
    assert await st_seat(h, "Eve") == "UT, entsandt von: PT"


async def test_who_may_delegate_and_what_a_delegation_needs(net) -> None:
    h, _ = net
    reply = await h.say(ST, ANNA, "/delegate @eve politik Beirat")
    assert reply is not None and "Netzwerk-Admins und Mitglieder des Kernteams" in reply.text
    reply = await h.say(ST, ADMIN, "/delegate @eve politik")
    assert reply is not None and "entsendende Stelle" in reply.text
    reply = await h.say(ST, ADMIN, "/delegate @eve könig Hof")
    assert reply is not None and "/entsenden" in reply.text
    reply = await h.say(ST, ADMIN, "/delegate @eve ut")
    assert reply is not None and "PT-Chat" in reply.text
    reply = await h.say(ST, ADMIN, "/delegate @dora politik Beirat")
    assert reply is not None and "schon auf der Mitgliederliste" in reply.text


async def test_decisions_show_who_came_in_by_delegation(net) -> None:
    h, _ = net
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(ST, ADMIN, "/delegate @eve politik Stadtbezirksbeirat")
    await confirm(h, EVE)
    listing = await h.say(ST, ANNA, "/beschluesse")
    assert listing is not None
    assert "Aufnahmen nach dem Leitbild" in listing.text and "Eve – entsandt" in listing.text
