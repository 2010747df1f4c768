"""End to end: binding chats to teams, and the chat's life around the binding."""

from __future__ import annotations

from tests.harness import ADMIN, ANNA, BERT, EVE, LT, PLAIN, PT, ST, Harness


async def unbound(h: Harness, chat_id: int) -> bool:
    """Whether the chat belongs to no team, as /team there tells anyone."""
    reply = await h.say(chat_id, BERT, "/team")
    assert reply is not None
    return "/setup" in reply.text


async def test_a_network_admin_binds_the_pt(h: Harness) -> None:
    reply = await h.say(PT, ADMIN, "/setup PT Projektteam")
    assert reply is not None
    assert "Projektteam" in reply.text and "✅" in reply.text
    assert "/aufnehmen" in reply.text  # says what comes next
    info = await h.say(PT, ANNA, "/team")
    assert info is not None and "„Projektteam“ (PT)" in info.text
    assert "Mitgliederliste: nur ausdrücklich aufgenommene Mitglieder" in info.text


async def test_the_german_alias_binds_too(h: Harness) -> None:
    reply = await h.say(ST, ADMIN, "/team_einrichten ST Steuerungsteam")
    assert reply is not None and "✅" in reply.text


async def test_a_non_admin_cannot_bind_the_pt(h: Harness) -> None:
    reply = await h.say(PT, ANNA, "/setup PT Projektteam")
    assert reply is not None and "Netzwerk-Admins" in reply.text
    assert await unbound(h, PT)


async def test_a_second_pt_is_refused(h: Harness) -> None:
    await h.set_up_team("PT", ())
    reply = await h.say(ST, ADMIN, "/setup PT Noch ein PT")
    assert reply is not None and "nur eines" in reply.text
    assert await unbound(h, ST)


async def test_a_bound_chat_cannot_be_rebound(h: Harness) -> None:
    await h.set_up_team("PT", ())
    reply = await h.say(PT, ADMIN, "/setup KT Kernteam")
    assert reply is not None and "gehört schon" in reply.text
    info = await h.say(PT, ANNA, "/team")
    assert info is not None and "„Projektteam“ (PT)" in info.text


async def test_setup_needs_the_bot_as_admin_with_invite_rights(h: Harness) -> None:
    h.model.set_bot_rights(ST, "member")
    await h.settle()
    reply = await h.say(ST, ADMIN, "/setup ST Steuerungsteam")
    assert reply is not None and "Admin" in reply.text and "Nutzer einladen" in reply.text
    assert await unbound(h, ST)
    h.model.set_bot_rights(ST, "administrator", can_invite_users=False)
    await h.settle()
    reply = await h.say(ST, ADMIN, "/setup ST Steuerungsteam")
    assert reply is not None and "Nutzer einladen" in reply.text
    assert await unbound(h, ST)


async def test_bad_setup_arguments_get_the_usage(h: Harness) -> None:
    for text in ("/setup", "/setup XT Name", "/setup PT", "/setup PT " + "x" * 65):
        reply = await h.say(PT, ADMIN, text)
        assert reply is not None
        assert "/setup" in reply.text or "64" in reply.text, text
    assert await unbound(h, PT)


async def test_setup_in_a_private_chat_is_explained(h: Harness) -> None:
    reply = await h.say(ADMIN, ADMIN, "/setup PT Projektteam")
    assert reply is not None and "Gruppe" in reply.text


async def test_a_chat_admin_binds_an_lt_with_chat_roster(h: Harness) -> None:
    reply = await h.say(LT, ANNA, "/setup LT Gemeinschaftsgarten")
    assert reply is not None and "✅" in reply.text
    info = await h.say(LT, ANNA, "/team")
    assert info is not None
    assert "Mitgliederliste: alle, die im Chat aktiv sind – Mitglieder: 1" in info.text
    assert await h.roster(LT, asker=ANNA) == ["Anna"]


async def test_a_plain_member_cannot_bind_an_lt(h: Harness) -> None:
    reply = await h.say(LT, BERT, "/setup LT Garten")
    assert reply is not None and "Admin dieser Gruppe" in reply.text
    assert await unbound(h, LT)


async def test_a_basic_group_is_advised_to_become_a_supergroup(h: Harness) -> None:
    reply = await h.say(PLAIN, ADMIN, "/setup KT Kernteam")
    assert reply is not None and "Supergruppe" in reply.text


async def test_team_shows_kind_policy_and_size(h: Harness) -> None:
    await h.set_up_team("ST", ())
    reply = await h.say(ST, BERT, "/team")
    assert reply is not None
    assert "„Steuerungsteam“ (ST)" in reply.text
    assert "Konsens, falls nicht erreichbar einfache Mehrheit" in reply.text
    assert "Mitglieder: 0" in reply.text


async def test_an_unbound_chat_says_how_to_bind_it(h: Harness) -> None:
    for command in ("/team", "/members", "/leave", "/admit @anna"):
        reply = await h.say(ST, BERT, command)
        assert reply is not None and "/setup" in reply.text, command


async def test_the_bot_demoted_after_setup_warns_chat_and_admins(h: Harness) -> None:
    await h.set_up_team("ST", ())
    h.model.start_bot(ADMIN)
    await h.settle()
    h.model.set_bot_rights(ST, "member")
    await h.settle()
    warning = h.bot_texts(ST)[-1]
    assert "nicht mehr Admin" in warning and "Einladungslinks" in warning
    assert any(
        "Steuerungsteam" in text and "nicht mehr Admin" in text for text in h.bot_texts(ADMIN)
    )
    # Remembered as well, though no chat shows more of it than the warnings:
    team = await h.services.storage.teams.by_chat(ST)
    assert team is not None and not team.bot_is_admin
    h.model.set_bot_rights(ST, "administrator")
    await h.settle()
    assert "wieder Admin" in h.bot_texts(ST)[-1]


async def test_the_bot_added_to_a_new_group_explains_setup(h: Harness) -> None:
    h.model.add_group(-1001000000099, "Neu", members=[ANNA], admins=[ADMIN], bot_status="left")
    h.model.set_bot_rights(-1001000000099, "member")
    await h.settle()
    assert "/setup" in h.bot_texts(-1001000000099)[-1]


async def test_a_supergroup_migration_keeps_the_binding(h: Harness) -> None:
    await h.set_up_team("KT", (), chat=PLAIN)
    new_id = h.model.migrate_to_supergroup(PLAIN)
    await h.settle()
    reply = await h.say(new_id, EVE, "/team")
    assert reply is not None and "„Kernteam“ (KT)" in reply.text
    # Announced once, though Telegram reports the migration in both chats.
    assert sum("Supergruppe" in text for text in h.bot_texts(new_id)) == 1


async def test_sentences_name_a_team_in_quotes_and_its_kind_once(h: Harness) -> None:
    """„Steuerungsteam“ (ST), Lösungsteam „Bänke am Markt“ — not "zum Team Steuerungsteam –
    Steuerungsteam (ST)" (issue 12.5): /setup, /aufnehmen, /offen, /vorschlag and a press by
    someone not on the team."""
    said = [(await h.bind(ST, "ST", "Steuerungsteam")).text or ""]
    said.append((await h.bind(LT, "LT", "Bänke am Markt", by=ANNA)).text or "")
    h.model.send_message(ST, BERT, "Hallo")
    await h.settle()
    said.append((await h.admit(ST, "bert", "zivilgesellschaft")).text or "")
    for chat, who, text in ((ST, BERT, "/offen"), (ST, EVE, "/vorschlag 1d Bänke")):
        reply = await h.say(chat, who, text)
        said.append(reply.text if reply and reply.text else "")
    await h.say(ST, BERT, "/vorschlag 1d Bänke")
    card = next(m for m in reversed(h.model.bot_messages(ST)) if m.reply_markup)
    query = h.model.press_button(ST, card.message_id, EVE, button_text="Zustimmung")
    said.append((await h.model.wait_callback_answer(query))["text"])
    setup_st, setup_lt, admitted, open_st, not_member, press = said
    assert "zum „Steuerungsteam“ (ST)" in setup_st
    assert "zum Lösungsteam „Bänke am Markt“" in setup_lt
    assert "Mitglied im „Steuerungsteam“ (ST)" in admitted
    for text in said:
        assert "Team Steuerungsteam" not in text and "Steuerungsteam (ST)" not in text
        assert text.count("Steuerungsteam") + text.count("Bänke am Markt") == 1, text
    assert "„Steuerungsteam“ (ST)" in open_st and "„Steuerungsteam“ (ST)" in not_member
    assert "„Steuerungsteam“ (ST)" in press
