"""End to end: PT admission on a declaration of intent, explicit LTs admitting by decision,
LT settings decided by the LT, and join requests approved for the invited person only."""

from __future__ import annotations

from pathlib import Path

from tests.harness import ANNA, BERT, CARL, DORA, EVE, LT, PT
from tests.test_e2e_resilience import due, setup_team


async def test_pt_admission_by_consensus_invites_the_person(tmp_path: Path) -> None:
    h, d = await setup_team(tmp_path, chat_id=PT, kind="PT")  # PT: Anna, Bert, Carl, Dora
    try:
        h.model.member_leaves(PT, EVE)  # Eve is not in the PT's chat yet
        h.model.add_user(99, "Mallory", username="mallory")
        h.model.start_bot(EVE)
        await h.settle()
        reply = await h.say(
            EVE, EVE, "/beitreten Ich möchte beim Transfer in andere Quartiere helfen."
        )
        assert reply is not None and "#1" in reply.text
        card = d.card(PT, 1)
        assert "Absichtserklärung von Eve" in card.text
        for user in (ANNA, BERT, CARL, DORA):
            await d.press(PT, 1, user, "agree")
        team = await h.services.storage.teams.by_chat(PT)
        eve = await h.services.storage.people.by_telegram_id(EVE)
        assert await h.services.storage.rosters.is_member(team.id, eve.id)
        texts = h.bot_texts(EVE)
        assert any("Mitglied von PT" in t or "Mitglied von Team" in t for t in texts)
        invitation = next(t for t in texts if "Link in den Chat" in t)
        link = invitation.split(": ", 1)[1].split("\n")[0]
        # Someone else using the forwarded link is declined; Eve is approved.
        h.model.request_join(PT, 99, link)
        h.model.request_join(PT, EVE, link)
        await h.settle()
        assert h.model.calls_of("declineChatJoinRequest")[-1].params["user_id"] == 99
        assert h.model.calls_of("approveChatJoinRequest")[-1].params["user_id"] == EVE
    finally:
        await h.stop()


async def test_pt_admission_has_no_majority_fallback(tmp_path: Path) -> None:
    h, d = await setup_team(tmp_path, chat_id=PT, kind="PT")
    try:
        h.model.start_bot(EVE)
        await h.settle()
        await h.say(EVE, EVE, "/join Ich bin dabei")
        await d.press(PT, 1, BERT, "object")
        await due(h, 7 * 86400 + 1)  # round 1 fails; the next opens by itself (a person)
        assert d.card(PT, 1, round_number=2)
        await due(h, 7 * 86400 + 1)  # Bert's objection stands
        assert not any(m.poll for m in h.model.bot_messages(PT))
        assert (await h.services.storage.proposals.get(1)).outcome == "rejected"
        assert "gegen deine Aufnahme" in h.bot_texts(EVE)[-1]
    finally:
        await h.stop()


async def test_join_refusals(tmp_path: Path) -> None:
    h, _ = await setup_team(tmp_path, chat_id=PT, kind="PT")
    try:
        reply = await h.say(PT, ANNA, "/join Noch mal")
        assert reply is not None and "schon Mitglied" in reply.text
        reply = await h.say(EVE, EVE, "/join")
        assert reply is not None and "/beitreten TEXT" in reply.text
        await h.say(EVE, EVE, "/join Ich möchte")
        reply = await h.say(EVE, EVE, "/join Wirklich")
        assert reply is not None and "schon entschieden (#1)" in reply.text
    finally:
        await h.stop()


async def test_an_explicit_lt_admits_by_its_own_decision(tmp_path: Path) -> None:
    h, d = await setup_team(tmp_path, chat_id=LT, kind="LT")  # chat mode: Anna, Bert, Carl
    try:
        reply = await h.say(LT, ANNA, "/settings")
        assert reply is not None and "alle, die im Chat aktiv sind" in reply.text
        await h.say(LT, ANNA, "/einstellungen mode explicit")
        card = d.card(LT, 1)
        assert "Mitgliederliste" in card.text
        for user in (ANNA, BERT, CARL):
            await d.press(LT, 1, user, "agree")
        team = await h.services.storage.teams.by_chat(LT)
        assert team.roster_mode == "explicit"
        assert "Beschlossen" in h.bot_texts(LT)[-1]
        h.model.send_message(LT, EVE, "Darf ich mitmachen?")
        await h.settle()
        eve = await h.services.storage.people.by_telegram_id(EVE)
        assert not await h.services.storage.rosters.is_member(team.id, eve.id)
        await h.say(LT, BERT, "/admit @eve")
        for user in (ANNA, BERT, CARL):
            await d.press(LT, 2, user, "agree")
        assert await h.services.storage.rosters.is_member(team.id, eve.id)
        listing = await h.say(LT, EVE, "/members")
        assert listing is not None and "durch Beschluss des Teams" in listing.text
    finally:
        await h.stop()


async def test_settings_refusals(tmp_path: Path) -> None:
    h, _ = await setup_team(tmp_path, chat_id=LT, kind="LT")
    try:
        reply = await h.say(LT, ANNA, "/settings mode sometimes")
        assert reply is not None and "/einstellungen mode" in reply.text
        reply = await h.say(LT, ANNA, "/settings mode chat")
        assert reply is not None and "schon so eingestellt" in reply.text
        assert await h.services.storage.proposals.open_proposals() == []
    finally:
        await h.stop()


async def test_an_lt_changes_its_process_by_its_current_one(tmp_path: Path) -> None:
    h, d = await setup_team(tmp_path, chat_id=LT, kind="LT")
    try:
        await h.say(LT, ANNA, "/settings process majority")
        for user in (ANNA, BERT, CARL):
            await d.press(LT, 1, user, "agree")
        reply = await h.say(LT, ANNA, "/settings")
        assert reply is not None and "einfache Mehrheit" in reply.text
        await h.say(LT, ANNA, "/propose 1d Jetzt direkt abstimmen")
        assert h.model.bot_messages(LT)[-1].poll is not None
    finally:
        await h.stop()


async def test_an_invite_link_that_failed_is_made_later(tmp_path: Path) -> None:
    from bot.flows import admissions

    h, d = await setup_team(tmp_path, chat_id=PT, kind="PT")
    try:
        h.model.member_leaves(PT, EVE)
        h.model.start_bot(EVE)
        await h.settle()
        await h.say(EVE, EVE, "/join Ich helfe gern")
        h.model.fail_next("createChatInviteLink", network_error=True)
        for user in (ANNA, BERT, CARL, DORA):
            await d.press(PT, 1, user, "agree")
        assert not any("Link in den Chat" in t for t in h.bot_texts(EVE))
        await admissions.retry_invitations(h.services)
        await h.settle()
        assert sum("Link in den Chat" in t for t in h.bot_texts(EVE)) == 1
    finally:
        await h.stop()
