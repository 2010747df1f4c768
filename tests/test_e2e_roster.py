"""End to end: admitting, removing and leaving; naming people; help; bad input."""

from __future__ import annotations

import pytest

from tests.harness import ADMIN, ANNA, BERT, CARL, DORA, EVE, LT, PT, ST, Harness, Teams


async def test_a_network_admin_admits_by_replying_to_the_persons_message(h: Harness) -> None:
    await h.set_up_team("PT", ())
    hello = h.model.send_message(PT, CARL, "Hallo zusammen")
    await h.settle()
    reply = await h.say(PT, ADMIN, "/admit", reply_to=hello["message_id"])
    assert reply is not None and "Carl" in reply.text and "✅" in reply.text
    assert await h.roster(PT) == ["Carl"]


async def test_admit_by_text_mention_of_someone_never_seen(h: Harness) -> None:
    await h.set_up_team("PT", ())
    text = "/aufnehmen Carl"
    reply = await h.say(PT, ADMIN, text, text_mentions=[(CARL, 11, 4)])
    assert reply is not None and "✅" in reply.text
    assert await h.roster(PT) == ["Carl"]


async def test_admit_by_a_username_the_bot_has_seen(h: Harness) -> None:
    await h.set_up_team("PT", ())
    await h.say(PT, ANNA, "Moin")
    reply = await h.admit(PT, "anna")
    assert "✅" in reply.text
    again = await h.admit(PT, "ANNA")
    assert "schon" in again.text
    assert await h.roster(PT) == ["Anna"]


async def test_an_unknown_username_is_answered_with_how_to_name_the_person(h: Harness) -> None:
    await h.set_up_team("PT", ())
    reply = await h.admit(PT, "nobody_here")
    assert "@nobody_here kenne ich noch nicht" in reply.text
    assert "Antworte" in reply.text
    assert await h.roster(PT) == []


async def test_admit_without_a_person_and_of_the_bot_itself(h: Harness) -> None:
    await h.set_up_team("PT", ())
    reply = await h.say(PT, ADMIN, "/admit")
    assert reply is not None and "Wen meinst du" in reply.text
    reply = await h.say(PT, ADMIN, "/admit @wiq_test_bot")
    assert reply is not None and "Bots" in reply.text
    bot_message = h.model.bot_messages(PT)[-1]
    reply = await h.say(PT, ADMIN, "/admit", reply_to=bot_message.message_id)
    assert reply is not None and "Bots" in reply.text
    assert await h.roster(PT) == []


async def test_only_network_admins_admit(h: Harness) -> None:
    await h.set_up_team("PT", ())
    await h.say(PT, BERT, "Hallo")
    reply = await h.say(PT, ANNA, "/admit @bert")
    assert reply is not None and "Netzwerk-Admins" in reply.text
    assert await h.roster(PT) == []


async def test_st_members_need_a_seat_and_may_name_their_body(h: Harness) -> None:
    await h.set_up_team("ST", ())
    await h.say(ST, ANNA, "Hallo")
    await h.say(ST, BERT, "Hallo")
    reply = await h.admit(ST, "anna")
    assert "Sitz" in reply.text
    reply = await h.admit(ST, "anna", "könig")
    assert "Sitz" in reply.text
    assert await h.roster(ST) == []
    assert "✅" in (await h.admit(ST, "anna", "politik", "Stadtbezirksbeirat", "Alt-West")).text
    assert "✅" in (await h.admit(ST, "bert", "zivilgesellschaft")).text
    listing = await h.say(ST, ANNA, "/mitglieder")
    assert listing is not None
    assert "Sitz: Politik, entsandt von: Stadtbezirksbeirat Alt-West" in listing.text
    assert "Sitz: Zivilgesellschaft" in listing.text
    assert "eingetragen von Ada" in listing.text
    assert "Mitglieder: 2" in listing.text


async def test_remove_needs_a_reason_and_is_recorded(h: Harness) -> None:
    await h.set_up_team("PT", (ANNA,))
    reply = await h.say(PT, ADMIN, "/remove @anna")
    assert reply is not None and "Grund" in reply.text
    assert await h.roster(PT) == ["Anna"]
    reply = await h.say(PT, ANNA, "/remove @anna weil")
    assert reply is not None and "Netzwerk-Admins" in reply.text
    reply = await h.say(PT, ADMIN, "/entfernen @anna zieht weg")
    assert reply is not None and "zieht weg" in reply.text
    assert await h.roster(PT) == []
    again = await h.say(PT, ADMIN, "/remove @anna zieht weg")
    assert again is not None and "nicht auf der Mitgliederliste" in again.text
    # The record of events, which no chat shows:
    team = await h.services.storage.teams.by_chat(PT)
    kinds = [e.kind for e in await h.services.storage.events.for_team(team.id)]
    assert kinds == ["team.bound", "roster.joined", "roster.left"]


async def test_leave_takes_oneself_off_the_roster(h: Harness) -> None:
    await h.set_up_team("PT", (ANNA,))
    reply = await h.say(PT, ANNA, "/austreten")
    assert reply is not None and "ausgetreten" in reply.text
    assert await h.roster(PT) == []
    again = await h.say(PT, ANNA, "/leave")
    assert again is not None and "nicht auf der Mitgliederliste" in again.text


async def test_a_member_leaving_the_chat_leaves_the_roster(h: Harness) -> None:
    await h.set_up_team("PT", (ANNA, BERT))
    h.model.member_leaves(PT, ANNA)
    h.model.member_leaves(PT, BERT, removed_by=ADMIN)
    await h.settle()
    assert await h.roster(PT) == []
    digest = await h.say(PT, ADMIN, "/rueckblick")
    assert digest is not None
    assert "Anna – hat den Chat verlassen" in digest.text
    assert "Bert – aus dem Chat entfernt" in digest.text


async def bert_goes(h: Harness, way: str) -> None:
    if way == "remove":
        await h.say(ST, ADMIN, "/remove @bert zieht weg")
    elif way == "leave":
        await h.say(ST, BERT, "/leave")
    elif way == "leave the chat":
        h.model.member_leaves(ST, BERT)
    else:  # forgetme
        h.model.start_bot(BERT)
        await h.settle()
        ask = await h.say(BERT, BERT, "/vergessen")
        assert ask is not None
        query = h.model.press_button(BERT, ask.message_id, BERT, button_text="Ja, vergiss mich")
        await h.model.wait_callback_answer(query)
    await h.settle()
    await h.flush_edits()


@pytest.mark.parametrize("way", ["remove", "leave", "leave the chat", "forgetme"])
async def test_whoever_goes_mid_round_no_longer_counts_however_they_go(
    team: Teams, way: str
) -> None:
    """Removed, left, gone from the chat or forgotten: Bert's Einwand goes with him, the card
    counts one fewer, and Dora's answer completes the round."""
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Etwas")
    await d.press(ST, 1, BERT, "object")
    for user in (ANNA, CARL):
        await d.press(ST, 1, user, "agree")
    await bert_goes(h, way)
    assert "Bert" not in await h.roster(ST)
    card = d.card(ST, 1).text
    assert "Noch nicht geantwortet (1): Dora" in card and "Einwand (" not in card
    assert "von 3 Stimmberechtigten" in card
    await d.press(ST, 1, DORA, "agree")
    result = h.bot_texts(ST)[-1]
    assert "Antworten: 3 von 3" in result and "Beschluss: Konsens" in result


async def test_chat_mode_roster_follows_the_chat(h: Harness) -> None:
    await h.set_up_team("LT", (ANNA,), name="Garten")
    await h.say(LT, BERT, "Ich bin dabei")
    h.model.member_joins(LT, DORA)
    await h.settle()
    assert sorted(await h.roster(LT, asker=ANNA)) == ["Anna", "Bert", "Dora"]
    await h.say(LT, BERT, "/leave")
    await h.say(LT, BERT, "Ich lese noch mit")
    # Left on request: a message does not put him back.
    assert "Bert" not in await h.roster(LT, asker=ANNA)


async def test_help_in_group_and_private_in_german_and_english(h: Harness) -> None:
    await h.set_up_team("PT", ())
    group = await h.say(PT, ANNA, "/hilfe")
    assert group is not None
    assert "Projektteam" in group.text and "/mitglieder –" in group.text
    assert "/aufnehmen" not in group.text  # not for this person
    admin_group = await h.say(PT, ADMIN, "/help")
    assert admin_group is not None and "/aufnehmen –" in admin_group.text
    private = await h.say(ANNA, ANNA, "/start")
    assert private is not None and "Entscheidungs-Bot" in private.text
    english = await h.say(DORA, DORA, "/help")
    assert english is not None and "decision bot" in english.text
    assert "Entscheidung" not in english.text
    unbound = await h.say(ST, EVE, "/help")
    assert unbound is not None and "/setup" in unbound.text


async def test_an_unknown_command_is_answered_only_when_addressed_to_the_bot(h: Harness) -> None:
    private = await h.say(ANNA, ANNA, "/fliegen")
    assert private is not None and "/fliegen" in private.text and "kenne ich nicht" in private.text
    addressed = await h.say(PT, ANNA, "/fliegen@wiq_test_bot")
    assert addressed is not None and "kenne ich nicht" in addressed.text
    before = len(h.model.bot_messages(PT))
    await h.say(PT, ANNA, "/fliegen")  # may belong to another bot in the group
    assert len(h.model.bot_messages(PT)) == before


async def test_an_anonymous_admin_is_asked_to_write_under_their_own_name(h: Harness) -> None:
    await h.set_up_team("PT", ())
    h.model.send_anonymous_admin_message(PT, "/admit @anna")
    await h.settle()
    assert "anonym" in h.bot_texts(PT)[-1]
    assert await h.roster(PT) == []


async def test_commands_are_registered_per_scope_and_language(h: Harness) -> None:
    calls = h.model.calls_of("setMyCommands")
    scopes = {(c.params["scope"]["type"], c.params.get("language_code", "")) for c in calls}
    assert ("all_group_chats", "de") in scopes and ("all_private_chats", "en") in scopes
    german = next(
        c
        for c in calls
        if c.params["scope"]["type"] == "all_group_chats" and c.params.get("language_code") == "de"
    )
    descriptions = {c["command"]: c["description"] for c in german.params["commands"]}
    assert descriptions["mitglieder"] == "Mitglieder des Teams"


async def test_a_known_command_gets_exactly_one_answer(h: Harness) -> None:
    before = len(h.model.bot_messages(ANNA))
    await h.say(ANNA, ANNA, "/help")
    await h.say(ANNA, ANNA, "/start")
    assert len(h.model.bot_messages(ANNA)) == before + 2
    assert not any("kenne ich nicht" in text for text in h.bot_texts(ANNA))
