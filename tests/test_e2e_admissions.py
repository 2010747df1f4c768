"""End to end: PT admission on a declaration of intent, explicit LTs admitting by decision,
LT settings decided by the LT, and join requests approved for the invited person only."""

from __future__ import annotations

import pytest

from tests.harness import ANNA, BERT, CARL, DORA, EVE, LT, PT, DecisionSteps, Harness, Teams, peek


async def test_pt_admission_by_consensus_invites_the_person(team: Teams) -> None:
    h, d = await team("PT")  # PT: Anna, Bert, Carl, Dora
    h.model.member_leaves(PT, EVE)  # Eve is not in the PT's chat yet
    h.model.add_user(99, "Mallory", username="mallory")
    h.model.start_bot(EVE)
    await h.settle()
    reply = await h.say(EVE, EVE, "/beitreten Ich möchte beim Transfer in andere Quartiere helfen.")
    assert reply is not None and "#1" in reply.text
    card = d.card(PT, 1)
    assert "Absichtserklärung von Eve" in card.text
    for user in (ANNA, BERT, CARL, DORA):
        await d.press(PT, 1, user, "agree")
    listing = await h.say(PT, ANNA, "/mitglieder")
    assert (
        listing is not None and "Eve (@eve) – aufgenommen durch Beschluss des Teams" in listing.text
    )
    texts = h.bot_texts(EVE)
    assert any("Mitglied im „Projektteam“ (PT)" in t for t in texts)
    invitation = next(t for t in texts if "Link in den Chat" in t)
    link = invitation.split(": ", 1)[1].split("\n")[0]
    # Someone else using the forwarded link is declined; Eve is approved.
    h.model.request_join(PT, 99, link)
    h.model.request_join(PT, EVE, link)
    await h.settle()
    assert h.model.calls_of("declineChatJoinRequest")[-1].params["user_id"] == 99
    assert h.model.calls_of("approveChatJoinRequest")[-1].params["user_id"] == EVE


async def test_pt_admission_has_no_majority_fallback(team: Teams) -> None:
    h, d = await team("PT")
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(EVE, EVE, "/join Ich bin dabei")
    await d.press(PT, 1, BERT, "object")
    await h.due(7 * 86400 + 1)  # round 1 fails; the next opens by itself (a person)
    assert d.card(PT, 1, round_number=2)
    await h.due(7 * 86400 + 1)  # Bert's objection stands
    assert not any(m.poll for m in h.model.bot_messages(PT))
    assert "Beschluss: Abgelehnt" in h.last_text(PT)
    assert "gegen deine Aufnahme" in h.bot_texts(EVE)[-1]


async def test_a_declaration_of_intent_needs_a_text_a_non_member_and_comes_once(
    team: Teams,
) -> None:
    h, _ = await team("PT")
    reply = await h.say(PT, ANNA, "/join Noch mal")
    assert reply is not None and "schon Mitglied" in reply.text
    reply = await h.say(EVE, EVE, "/join")
    assert reply is not None and "/beitreten TEXT" in reply.text
    await h.say(EVE, EVE, "/join Ich möchte")
    reply = await h.say(EVE, EVE, "/join Wirklich")
    assert reply is not None and "schon entschieden (#1)" in reply.text


async def test_an_explicit_lt_admits_by_its_own_decision(team: Teams) -> None:
    h, d = await team("LT", members=(ANNA, BERT, CARL))  # chat mode: Anna, Bert, Carl
    reply = await h.say(LT, ANNA, "/settings")
    assert reply is not None and "alle, die im Chat aktiv sind" in reply.text
    await h.say(LT, ANNA, "/einstellungen mode explicit")
    card = d.card(LT, 1)
    assert "Mitgliederliste" in card.text
    for user in (ANNA, BERT, CARL):
        await d.press(LT, 1, user, "agree")
    assert "Beschlossen" in h.bot_texts(LT)[-1]
    reply = await h.say(LT, ANNA, "/settings")
    assert reply is not None and "nur ausdrücklich aufgenommene Mitglieder" in reply.text
    h.model.send_message(LT, EVE, "Darf ich mitmachen?")
    await h.settle()
    listing = await h.say(LT, ANNA, "/members")
    assert listing is not None and "Mitglieder: 3" in listing.text and "Eve" not in listing.text
    await h.say(LT, BERT, "/admit @eve")
    for user in (ANNA, BERT, CARL):
        await d.press(LT, 2, user, "agree")
    listing = await h.say(LT, EVE, "/members")
    assert listing is not None and "durch Beschluss des Teams" in listing.text


async def test_an_unknown_or_unchanged_lt_setting_is_refused(team: Teams) -> None:
    h, _ = await team("LT", members=(ANNA, BERT, CARL))
    reply = await h.say(LT, ANNA, "/settings mode sometimes")
    assert reply is not None and "kenne ich nicht" in reply.text
    assert reply.reply_markup is not None  # the choices, as buttons
    reply = await h.say(LT, ANNA, "/settings mode chat")
    assert reply is not None and "schon so eingestellt (alle, die im Chat aktiv sind)" in reply.text
    listing = await h.say(LT, ANNA, "/offen")
    assert listing is not None and "gerade nichts offen" in listing.text


async def test_an_lt_changes_its_process_by_its_current_one(team: Teams) -> None:
    h, d = await team("LT", members=(ANNA, BERT, CARL))
    await h.say(LT, ANNA, "/settings process majority")
    for user in (ANNA, BERT, CARL):
        await d.press(LT, 1, user, "agree")
    reply = await h.say(LT, ANNA, "/settings")
    assert reply is not None and "einfache Mehrheit" in reply.text
    await h.say(LT, ANNA, "/propose 1d Jetzt direkt abstimmen")
    assert h.model.bot_messages(LT)[-1].poll is not None


async def eve_is_admitted_while_links_fail(h: Harness, d: DecisionSteps) -> None:
    """Eve declares her intent and the PT agrees, while Telegram cannot be reached for the
    invite link."""
    h.model.member_leaves(PT, EVE)
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(EVE, EVE, "/join Ich helfe gern")
    h.model.fail_next("createChatInviteLink", network_error=True, count=1000)
    for user in (ANNA, BERT, CARL, DORA):
        await d.press(PT, 1, user, "agree")
    assert any("Mitglied im „Projektteam“" in t for t in h.bot_texts(EVE))
    assert not any("Link in den Chat" in t for t in h.bot_texts(EVE))


def links_to(h: Harness, user: int) -> list[str]:
    return [
        t.split(": ", 1)[1].split("\n")[0] for t in h.bot_texts(user) if "Link in den Chat" in t
    ]


async def test_an_invite_link_telegram_could_not_be_reached_for_comes_once_it_can(
    team: Teams,
) -> None:
    """Telegram unreachable when the admission is approved: the link is retried (with
    back-off, outside the group's budget) and reaches Eve once Telegram answers — once."""
    h, d = await team("PT")
    await eve_is_admitted_while_links_fail(h, d)
    for _ in range(3):
        await h.due(60)
    assert len(h.model.calls_of("createChatInviteLink", ok=False)) >= 3, "retried"
    assert links_to(h, EVE) == []
    h.model.heal("createChatInviteLink")
    for _ in range(3):
        await h.due(60)
    [link] = links_to(h, EVE)
    assert len(h.model.calls_of("createChatInviteLink", ok=True)) == 1
    h.model.request_join(PT, EVE, link)
    await h.settle()
    assert h.model.chats[PT].join_requests[EVE].status == "approved"


async def test_an_invite_link_waiting_for_telegram_is_made_after_a_restart_once(
    team: Teams,
) -> None:
    """The same, with a restart while Telegram cannot be reached: the link is an outbox row,
    so the new process makes it and Eve gets it once."""
    h, d = await team("PT")
    await eve_is_admitted_while_links_fail(h, d)
    await h.stop()
    h.model.heal("createChatInviteLink")
    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()
    try:
        await again.settle()
        await again.due(60)
        [link] = links_to(again, EVE)
        assert len(again.model.calls_of("createChatInviteLink", ok=True)) == 1
        again.model.request_join(PT, EVE, link)
        await again.settle()
        assert again.model.chats[PT].join_requests[EVE].status == "approved"
        await again.say(EVE, EVE, "/start")  # opening the bot again brings no second link
        assert len(links_to(again, EVE)) == 1
    finally:
        await again.stop()


async def test_an_invite_link_refused_for_want_of_rights_is_made_when_they_return(
    team: Teams,
) -> None:
    """Telegram refuses the link while the bot may not invite users (no retry would help);
    once an admin gives the right back, the link is made and reaches Eve, once."""
    h, d = await team("PT")
    h.model.member_leaves(PT, EVE)
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(EVE, EVE, "/join Ich helfe gern")
    h.model.set_bot_rights(PT, "administrator", can_invite_users=False)
    await h.settle()
    for user in (ANNA, BERT, CARL, DORA):
        await d.press(PT, 1, user, "agree")
    assert [c.error for c in h.model.calls_of("createChatInviteLink")] == [
        "Bad Request: not enough rights to manage chat invite links"
    ]
    await h.due(60)
    assert links_to(h, EVE) == [] and len(h.model.calls_of("createChatInviteLink")) == 1
    h.model.set_bot_rights(PT, "administrator")
    await h.settle()
    assert len(links_to(h, EVE)) == 1
    h.model.set_bot_rights(PT, "administrator", can_invite_users=False)
    h.model.set_bot_rights(PT, "administrator")
    await h.settle()
    assert len(links_to(h, EVE)) == 1, "a link made is not made again"


async def test_a_join_request_answer_telegram_did_not_take_is_retried(team: Teams) -> None:
    """Telegram unreachable for a moment when the invited person asks to join: the answer waits
    in the outbox and goes out with the next try — the person is let in."""
    h, d = await team("PT")
    h.model.member_leaves(PT, EVE)
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(EVE, EVE, "/beitreten Ich helfe gern.")
    for user in (ANNA, BERT, CARL, DORA):
        await d.press(PT, 1, user, "agree")
    invitation = next(t for t in h.bot_texts(EVE) if "Link in den Chat" in t)
    link = invitation.split(": ", 1)[1].split("\n")[0]
    h.model.fail_next("approveChatJoinRequest", network_error=True)
    h.model.request_join(PT, EVE, link)
    await h.settle()
    assert not [c for c in h.model.calls_of("approveChatJoinRequest") if c.ok]
    h.clock.advance(h.config.limits.retry_base + 0.1)
    await h.outbox.flush_all()
    [approved] = [c for c in h.model.calls_of("approveChatJoinRequest") if c.ok]
    assert approved.params["user_id"] == EVE
    assert h.model.chats[PT].join_requests[EVE].status == "approved"


@pytest.mark.sqlite_only  # the file as an older wiq-bot left it
async def test_an_invitation_left_without_a_link_before_the_upgrade_gets_one(
    team: Teams,
) -> None:
    """A database from before invite links were outbox rows, with an invitation whose link
    was still to be retried from its own table: the upgrade queues the link, and Eve gets it."""
    h, d = await team("PT")
    h.model.member_leaves(PT, EVE)
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(EVE, EVE, "/join Ich helfe gern")
    h.model.fail_next("createChatInviteLink", error_code=400, description="Bad Request: down")
    for user in (ANNA, BERT, CARL, DORA):
        await d.press(PT, 1, user, "agree")
    await h.stop()
    # Migrations 19 and 20 undone, as the database was left before invite links were rows.
    with peek(h.config) as db:
        assert db.execute("SELECT COUNT(*) FROM invitations WHERE link IS NULL").fetchone()[0]
        db.executescript(
            "DELETE FROM outbox; DROP INDEX outbox_subject; ALTER TABLE outbox DROP COLUMN"
            " subject_id; DROP TABLE election_polls;"
            " DELETE FROM schema_migrations WHERE version IN (19, 20);"
        )
    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()
    try:
        await again.settle()
        assert len(links_to(again, EVE)) == 1
    finally:
        await again.stop()


CODE_WORDS = ("mode", "process", "explicit", "consensus_then_majority", "consensus_only", "|")


async def test_settings_are_offered_as_buttons_and_the_card_says_the_change_once(
    team: Teams,
) -> None:
    """/einstellungen shows what is set and a button per change (no code words to type);
    pressing one puts it to the team, on a card that says the change once (issue 12.12)."""
    h, d = await team("LT", members=(ANNA, BERT, CARL))
    menu = await h.say(LT, ANNA, "/einstellungen")
    assert menu is not None and menu.reply_markup is not None
    assert not any(word in menu.text for word in CODE_WORDS), menu.text
    labels = [row[0]["text"] for row in menu.reply_markup["inline_keyboard"]]
    assert labels == [
        "Mitgliederliste: nur Aufgenommene",
        "Verfahren: einfache Mehrheit",
        "Verfahren: nur Konsens",
        "Verfahren: Konsent",
    ]  # the current ones are not offered
    query = h.model.press_button(LT, menu.message_id, BERT, button_text=labels[0])
    answer = await h.model.wait_callback_answer(query)
    await h.settle()
    assert "#1" in answer["text"] and not answer.get("show_alert")
    card = d.card(LT, 1).text
    title = card.splitlines()[1]
    assert title == "Mitgliederliste ändern: nur ausdrücklich aufgenommene Mitglieder"
    assert card.count("nur ausdrücklich aufgenommene Mitglieder") == 1
    assert "Bisher: alle, die im Chat aktiv sind." in card
    # A second press (a double tap, or someone else) puts nothing twice.
    again = h.model.press_button(LT, menu.message_id, CARL, button_text=labels[0])
    answer = await h.model.wait_callback_answer(again)
    await h.settle()
    assert answer["show_alert"] and "schon entschieden (#1)" in answer["text"]
    for user in (ANNA, BERT, CARL):
        await d.press(LT, 1, user, "agree")
    assert "Beschlossen" in h.bot_texts(LT)[-1]
    reply = await h.say(LT, ANNA, "/einstellungen")
    assert reply is not None and "nur ausdrücklich aufgenommene Mitglieder" in reply.text
    assert reply.reply_markup["inline_keyboard"][0][0]["text"] == "Mitgliederliste: alle im Chat"


async def test_a_settings_button_counts_only_in_its_own_team(team: Teams) -> None:
    h, _ = await team("LT", members=(ANNA, BERT))
    menu = await h.say(LT, ANNA, "/einstellungen")
    assert menu is not None
    data = menu.reply_markup["inline_keyboard"][0][0]["callback_data"]
    team_id = int(data.split(":")[1])
    forged = data.replace(f"s1:{team_id}:", f"s1:{team_id + 1}:")
    query = h.model.press_button(LT, menu.message_id, ANNA, callback_data=forged, forge=True)
    answer = await h.model.wait_callback_answer(query)
    await h.settle()
    assert answer["show_alert"] and "nicht (mehr) gültig" in answer["text"]
    assert await h.say(LT, ANNA, "/offen") is not None
    assert "gerade nichts offen" in h.last_text(LT)
