"""End to end: each network counts its proposals from #1 (SPEC §1 "Nothing crosses
networks"), and its people name them by that number: the card, /offen, /beschluesse and the
proposer's /zurueckziehen N speak of the network's #N, whatever the row's id across the
deployment. (Elections and Anliegen are numbered the same way: tests/test_storage.py.)"""

from __future__ import annotations

from pathlib import Path

from tests.harness import ADMIN_B, ANNA, BERT, PT, PT_B, DecisionSteps, start_two_networks


async def test_the_second_networks_first_proposal_is_its_number_one(tmp_path: Path) -> None:
    h = await start_two_networks(tmp_path)
    try:
        await h.set_up_team("PT", (ANNA, BERT))
        await h.set_up_team("PT", (ANNA, BERT), chat=PT_B, name="Projektteam Südwest", by=ADMIN_B)
        await h.say(PT, ANNA, "/vorschlag 1d Bänke am Markt")
        await h.say(PT, ANNA, "/vorschlag 1d Licht im Durchgang")
        await h.say(PT_B, BERT, "/vorschlag 1d Ein Hoffest im Juni")
        card = DecisionSteps(h).card(PT_B, 1)  # Südwest's card says #1, not #3
        assert "Hoffest" in (card.text or "")
        await h.say(PT_B, ANNA, "/offen")
        listed = h.last_text(PT_B)
        assert "#1 „Ein Hoffest im Juni“" in listed and "#3" not in listed, listed
        # Bert names his proposal by Südwest's number; the first network's #1 stays open.
        await h.say(PT_B, BERT, "/zurueckziehen 1")
        await h.say(PT_B, ANNA, "/beschluesse")
        decided = h.last_text(PT_B)
        assert "#1 „Ein Hoffest im Juni“ – Zurückgezogen" in decided, decided
        await h.say(PT, BERT, "/offen")
        assert "#1 „Bänke am Markt“" in h.last_text(PT) and "#2" in h.last_text(PT)
        # A number Südwest does not have is unknown there, though the first network has it.
        unknown = await h.say(PT_B, BERT, "/zurueckziehen 2")
        assert unknown is not None and "Einen Vorschlag #2 gibt es in diesem Team nicht" in (
            unknown.text
        )
        # Its next proposal is its #2.
        await h.say(PT_B, BERT, "/vorschlag 1d Ein Flohmarkt")
        assert "Flohmarkt" in (DecisionSteps(h).card(PT_B, 2).text or "")
    finally:
        await h.stop()
