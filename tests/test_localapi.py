"""The local Bot API behaves like Telegram where it matters: both fronts, rules, object shapes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    CallbackQuery,
    ChatFullInfo,
    ChatInviteLink,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    Message,
    MessageEntity,
    Poll,
    ReplyParameters,
    Update,
    User,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from localapi import BotApiModel, LocalBotApiServer, ModelRequest
from localapi.textparse import parse_html, parse_markdown_v2

ANNA, BERND, CARLA = 101, 102, 103
ST = -1001000000001  # a supergroup
BASIC = -4001  # a basic group


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def model(clock: FakeClock) -> BotApiModel:
    model = BotApiModel(clock=clock)
    model.add_user(ANNA, "Anna", username="anna_wiq")
    model.add_user(BERND, "Bernd")
    model.add_user(CARLA, "Carla", language_code="en")
    model.add_group(ST, "ST", members=[BERND], creator=ANNA)
    return model


@pytest_asyncio.fixture
async def bot(model: BotApiModel) -> AsyncIterator[Bot]:
    async with Bot(model.token, request=ModelRequest(model)) as bot:
        yield bot


def updates_of(model: BotApiModel, kind: str) -> list[dict[str, Any]]:
    return [u.payload for u in model.pending_updates if u.kind == kind]


async def fetch_updates(model: BotApiModel, **params: Any) -> list[dict[str, Any]]:
    status, body = await model.call("getUpdates", params)
    assert status == 200, body
    return body["result"]


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t, callback_data=t.lower()) for t in labels]]
    )


# ---------------------------------------------------------------- both fronts with PTB


async def _propose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat and update.effective_user
    await update.effective_chat.send_message(
        f"Vorschlag von <b>{update.effective_user.first_name}</b>: {' '.join(context.args or [])}",
        parse_mode="HTML",
        reply_markup=keyboard("Zustimmung", "Bedenken"),
    )


async def _vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"Danke: {query.data}", show_alert=True)
    await query.edit_message_reply_markup(None)


async def _run_app(model: BotApiModel, builder: ApplicationBuilder) -> None:
    app = builder.token(model.token).build()
    app.add_handler(CommandHandler("propose", _propose))
    app.add_handler(CallbackQueryHandler(_vote))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=5)
        sent = model.send_message(ST, ANNA, "/propose Budget 2025")
        reply = await model.wait_for_message(ST, "Vorschlag", after=sent["message_id"])
        assert reply.text == "Vorschlag von Anna: Budget 2025"
        assert reply.entities == [{"type": "bold", "offset": 14, "length": 4}]
        query_id = model.press_button(ST, reply.message_id, BERND, button_text="Bedenken")
        answer = await model.wait_callback_answer(query_id)
        assert answer["text"] == "Danke: bedenken" and answer["show_alert"] is True
        await model.wait_until(lambda: reply.reply_markup is None)
        await app.updater.stop()
        await app.stop()
    assert "[ST] bot: Vorschlag von Anna: Budget 2025" in model.transcript()


@pytest.mark.asyncio
async def test_in_process_application_answers_a_command(model: BotApiModel) -> None:
    builder = ApplicationBuilder().request(ModelRequest(model))
    await _run_app(model, builder.get_updates_request(ModelRequest(model)))
    assert [c.method for c in model.calls][:2] == ["getMe", "deleteWebhook"]


@pytest.mark.asyncio
async def test_http_application_answers_a_command(model: BotApiModel) -> None:
    async with LocalBotApiServer(model) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        await _run_app(model, ApplicationBuilder().base_url(server.base_url))
    assert model.calls_of("answerCallbackQuery")[0].params["show_alert"] is True


@pytest.mark.asyncio
async def test_http_bodies_tokens_and_uploads(model: BotApiModel) -> None:
    model.start_bot(ANNA)
    async with LocalBotApiServer(model) as server, aiohttp.ClientSession() as http:
        url = f"{server.base_url}{model.token}"
        async with http.post(f"{server.base_url}123:wrong/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.get(f"{url}/getMe") as response:
            assert (await response.json())["result"]["username"] == model.bot_username
        async with http.post(f"{url}/noSuchMethod") as response:
            assert response.status == 404
            assert (await response.json())["description"] == "Not Found: method not found"
        # Form fields carry JSON values; "text" stays a string even if it looks like a number.
        form = {
            "chat_id": str(ANNA),
            "text": "123",
            "reply_markup": json.dumps(keyboard("A").to_dict()),
        }
        async with http.post(f"{url}/sendMessage", data=form) as response:
            result = (await response.json())["result"]
            assert result["text"] == "123" and result["reply_markup"]["inline_keyboard"]
        async with http.post(f"{url}/sendMessage", json={"chat_id": ANNA, "text": "json"}) as r:
            assert (await r.json())["result"]["chat"]["id"] == ANNA
        data = aiohttp.FormData()
        data.add_field("chat_id", str(ANNA))
        data.add_field("document", b"a,b\n1,2\n", filename="report.csv", content_type="text/csv")
        async with http.post(f"{url}/sendDocument", data=data) as response:
            document = (await response.json())["result"]["document"]
        async with http.post(f"{url}/getFile", json={"file_id": document["file_id"]}) as r:
            path = (await r.json())["result"]["file_path"]
        async with http.get(f"{server.base_file_url}{model.token}/{path}") as response:
            assert await response.read() == b"a,b\n1,2\n"
    assert model.calls_of("sendMessage")[0].params["chat_id"] == ANNA
    assert model.documents[0].file_name == "report.csv"


@pytest.mark.asyncio
async def test_send_document_in_process_keeps_name_and_bytes(model: BotApiModel, bot: Bot) -> None:
    model.start_bot(ANNA)
    sent = await bot.send_document(
        ANNA, b"hello", filename="notes.txt", caption="<i>hi</i>", parse_mode="HTML"
    )
    assert sent.document is not None and sent.document.file_name == "notes.txt"
    assert model.documents[0].data == b"hello"
    assert sent.caption_entities[0].type == MessageEntity.ITALIC
    assert "📎 notes.txt (5 bytes)" in model.transcript(ANNA)


# ---------------------------------------------------------------- Telegram's rules


def test_privacy_mode_filters_group_messages(model: BotApiModel) -> None:
    model.send_message(ST, ANNA, "just chatting")
    model.send_message(ST, ANNA, "/propose x")
    model.send_message(ST, ANNA, f"/propose@{model.bot_username} y")
    model.send_message(ST, ANNA, "/propose@other_bot z")
    model.send_message(ST, ANNA, f"hey @{model.bot_username}")
    model.member_joins(ST, CARLA)
    delivered = [m.get("text") or "service" for m in updates_of(model, "message")]
    assert delivered == [
        "/propose x",
        f"/propose@{model.bot_username} y",
        f"hey @{model.bot_username}",
        "service",
    ]


@pytest.mark.asyncio
async def test_privacy_mode_passes_replies_to_the_bot(model: BotApiModel, bot: Bot) -> None:
    bot_message = await bot.send_message(ST, "Frage?")
    model.send_message(ST, BERND, "Antwort", reply_to=bot_message.message_id)
    model.send_message(ST, BERND, "Antwort an Anna", reply_to=model.messages(ST)[-1].message_id)
    assert [m["text"] for m in updates_of(model, "message")] == ["Antwort"]


def test_admin_bot_or_privacy_off_sees_everything(model: BotApiModel) -> None:
    model.privacy_mode = False
    model.send_message(ST, ANNA, "one")
    model.privacy_mode = True
    model.set_bot_rights(ST, "administrator")
    model.send_message(ST, ANNA, "two")
    assert [m["text"] for m in updates_of(model, "message")] == ["one", "two"]


@pytest.mark.asyncio
async def test_private_chat_needs_start_first(model: BotApiModel, bot: Bot) -> None:
    with pytest.raises(Forbidden, match=r"(?i)bot can't initiate conversation with a user"):
        await bot.send_message(BERND, "Hallo")
    start = model.start_bot(BERND, payload="tok")
    assert start["text"] == "/start tok"
    assert start["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert (await bot.send_message(BERND, "Hallo")).text == "Hallo"
    model.enforce_private_403 = False
    assert (await bot.send_message(CARLA, "Hi")).chat.id == CARLA
    model.block_bot(BERND)
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(BERND, "Hallo")


@pytest.mark.asyncio
async def test_unknown_or_left_chats(model: BotApiModel, bot: Bot) -> None:
    model.add_group(-1001000000009, "Elsewhere", members=[ANNA], bot_status="left")
    for chat_id in (-1009999, -1001000000009):
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(chat_id, "x")
    model.set_bot_rights(ST, "kicked")
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the supergroup chat"):
        await bot.send_message(ST, "x")


@pytest.mark.asyncio
async def test_message_not_modified(model: BotApiModel, bot: Bot) -> None:
    sent = await bot.send_message(ST, "<b>Stand</b>", parse_mode="HTML", reply_markup=keyboard("A"))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified: specified new message"):
        await bot.edit_message_text(
            "<b>Stand</b>", ST, sent.message_id, parse_mode="HTML", reply_markup=keyboard("A")
        )
    # Same text without the keyboard is a change: the keyboard goes away.
    edited = await bot.edit_message_text("<b>Stand</b>", ST, sent.message_id, parse_mode="HTML")
    assert edited.reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(ST, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", ST, 999)
    record = model.last_bot_message(ST)
    assert record is not None and record.edit_count == 1
    assert f"[ST] bot ✎ edited #{sent.message_id}: Stand" in model.transcript()


@pytest.mark.asyncio
async def test_length_is_counted_after_parsing_in_utf16(model: BotApiModel, bot: Bot) -> None:
    await bot.send_message(ST, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(ST, "&lt;" * 4096, parse_mode="HTML")
    await bot.send_message(ST, "😀" * 2048)  # two UTF-16 units each
    for text in ("x" * 4097, "😀" * 2049):
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(ST, text)
    with pytest.raises(BadRequest, match=r"(?i)text is empty"):
        await bot.send_message(ST, "<b> </b>", parse_mode="HTML")


@pytest.mark.asyncio
async def test_malformed_html_is_refused(model: BotApiModel, bot: Bot) -> None:
    cases = {
        "a < b": 'Unsupported start tag "" at byte offset 2',
        "<b>open": 'Can\'t find end tag corresponding to start tag "b"',
        "<b><i>x</b></i>": 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"',
        "<br>": 'Unsupported start tag "br" at byte offset 0',
    }
    for source, problem in cases.items():
        with pytest.raises(BadRequest) as info:
            await bot.send_message(ST, source, parse_mode="HTML")
        assert info.value.message.startswith("Can't parse entities")
        assert model.calls[-1].error == f"Bad Request: can't parse entities: {problem}"


def test_html_entities_and_mentions(model: BotApiModel) -> None:
    text, entities = parse_html(
        f'Hi <a href="tg://user?id={BERND}">Bernd</a> &amp; <a href="https://x.org">link</a>'
        '<pre><code class="language-py">a&lt;b</code></pre><tg-spoiler>s</tg-spoiler>',
        model.mention_lookup,
    )
    assert text == "Hi Bernd & linka<bs"
    assert entities[0] == {
        "type": "text_mention",
        "offset": 3,
        "length": 5,
        "user": model.user_dict(BERND),
    }
    assert entities[1] == {"type": "text_link", "offset": 11, "length": 4, "url": "https://x.org"}
    assert entities[2] == {"type": "pre", "offset": 15, "length": 3, "language": "py"}
    assert entities[3]["type"] == "spoiler"
    text, entities = parse_markdown_v2(r"*fett* _kursiv_ \. [x](https://a.b)", model.mention_lookup)
    assert text == "fett kursiv . x"
    assert [e["type"] for e in entities] == ["bold", "italic", "text_link"]
    with pytest.raises(ValueError, match=r"Character '\.' is reserved"):
        parse_markdown_v2("Ende.", model.mention_lookup)


@pytest.mark.asyncio
async def test_callback_data_is_limited_to_64_bytes(bot: Bot) -> None:
    await bot.send_message(
        ST,
        "ok",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="ä" * 32)]]),
    )
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(
            ST,
            "too long",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("x", callback_data="ä" * 32 + "x")]]
            ),
        )


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own
async def test_group_flood_limit(model: BotApiModel, bot: Bot, clock: FakeClock) -> None:
    model.start_bot(ANNA)
    first = await bot.send_message(ST, "0")
    for index in range(1, 20):
        clock.advance(1)
        await bot.send_message(ST, str(index))
    with pytest.raises(RetryAfter) as info:
        await bot.edit_message_text("edit", ST, first.message_id)
    assert "Retry in 0:00:41" in str(info.value) or "Retry in 41 seconds" in str(info.value)
    failed = model.calls_of("editMessageText")[-1]
    assert failed.status == 429 and failed.error == "Too Many Requests: retry after 41"
    for _ in range(25):  # private chats have no group limit
        await bot.send_message(ANNA, "dm")
    query = model.press_button(ST, first.message_id, BERND, callback_data="any", forge=True)
    assert await bot.answer_callback_query(query)  # never limited
    clock.advance(41)
    await bot.send_message(ST, "again")
    model.group_limit_per_minute = None
    for _ in range(25):
        await bot.send_message(ST, "unlimited")


@pytest.mark.asyncio
async def test_chat_member_updates_need_admin_and_allowed_updates(model: BotApiModel) -> None:
    model.member_joins(ST, CARLA)
    assert updates_of(model, "chat_member") == []  # bot is no admin
    my = model.set_bot_rights(ST, "administrator", can_invite_users=False)
    assert my["new_chat_member"]["can_invite_users"] is False
    model.promote(ST, BERND)
    assert len(updates_of(model, "chat_member")) == 1
    kinds = [next(k for k in u if k != "update_id") for u in await fetch_updates(model)]
    assert "chat_member" not in kinds and "my_chat_member" in kinds
    model.member_leaves(ST, CARLA, removed_by=ANNA)
    got = await fetch_updates(model, offset=-2, allowed_updates=["chat_member", "message"])
    assert got[0]["chat_member"]["new_chat_member"]["status"] == "kicked"
    assert got[1]["message"]["left_chat_member"]["id"] == CARLA
    # allowed_updates sticks until changed, as on Telegram.
    model.set_member_status(ST, CARLA, "restricted")
    last = (await fetch_updates(model, offset=got[-1]["update_id"] + 1))[-1]
    assert last["chat_member"]["new_chat_member"]["status"] == "restricted"


@pytest.mark.asyncio
async def test_migration_to_supergroup(model: BotApiModel, bot: Bot) -> None:
    model.add_group(
        BASIC, "Planung", type="group", members=[BERND], creator=ANNA, bot_status="administrator"
    )
    new_id = model.migrate_to_supergroup(BASIC)
    assert str(new_id).startswith("-100")
    messages = updates_of(model, "message")
    assert messages[0]["migrate_to_chat_id"] == new_id
    assert messages[1]["migrate_from_chat_id"] == BASIC
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(BASIC, "hallo")
    assert info.value.new_chat_id == new_id
    member = await bot.get_chat_member(new_id, ANNA)
    assert member.status == ChatMember.OWNER
    assert (await bot.get_chat_member(new_id, bot.id)).status == ChatMember.ADMINISTRATOR
    assert (await bot.send_message(new_id, "hier")).message_id == 2


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own
async def test_forced_failures(model: BotApiModel, bot: Bot) -> None:
    model.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(ST, "x")
    assert "Retry in 0:00:07" in str(info.value) or "Retry in 7 seconds" in str(info.value)
    model.fail_next("sendMessage", 502, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
            await bot.send_message(ST, "x")
    model.fail_next("sendMessage", network_error=True)
    with pytest.raises(NetworkError):
        await bot.send_message(ST, "x")
    sent = await bot.send_message(ST, "finally", reply_markup=keyboard("A"))
    query = model.press_button(ST, sent.message_id, BERND, button_text="A")
    model.fail_next("answerCallbackQuery", 400)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query)


@pytest.mark.asyncio
async def test_callback_queries(model: BotApiModel, bot: Bot) -> None:
    sent = await bot.send_message(ST, "Wahl", reply_markup=keyboard("Ja", "Nein"))
    with pytest.raises(ValueError, match="no such callback button"):
        model.press_button(ST, sent.message_id, BERND, callback_data="vielleicht")
    query = model.press_button(ST, sent.message_id, BERND, callback_data="ja")
    payload = updates_of(model, "callback_query")[0]
    assert payload["data"] == "ja" and payload["message"]["message_id"] == sent.message_id
    assert await bot.answer_callback_query(query, "Gezählt")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("nope")
    await bot.edit_message_reply_markup(ST, sent.message_id, reply_markup=keyboard("Neu"))
    with pytest.raises(ValueError, match="its buttons: \\['Neu'\\]"):
        model.press_button(ST, sent.message_id, BERND, button_text="Ja")
    model.press_button(ST, sent.message_id, BERND, callback_data="forged", forge=True)
    assert "(toast to Bernd: Gezählt)" in model.transcript(ST)


@pytest.mark.asyncio
async def test_polls(model: BotApiModel, bot: Bot) -> None:
    sent = await bot.send_poll(
        ST,
        "Budget?",
        [InputPollOption("Ja"), "Nein", "Enthaltung"],
        is_anonymous=False,
        allows_multiple_answers=True,
        hide_results_until_closes=True,
        reply_parameters=ReplyParameters(model.send_message(ST, ANNA, "/poll")["message_id"]),
    )
    assert sent.poll is not None and sent.reply_to_message is not None
    poll = model.polls[sent.poll.id]
    assert poll.params["hide_results_until_closes"] is True  # unknown extras are kept
    answer = model.answer_poll(poll.id, BERND, [0, 2])
    assert answer["option_persistent_ids"] == [
        poll.options[0].persistent_id,
        poll.options[2].persistent_id,
    ]
    assert updates_of(model, "poll_answer") == [answer]
    assert updates_of(model, "poll")[-1]["options"][0]["voter_count"] == 1
    model.answer_poll(poll.id, BERND, [])  # retraction
    assert poll.answers == {}
    model.answer_poll(poll.id, ANNA, [1])
    stopped = await bot.stop_poll(ST, sent.message_id)
    assert stopped.is_closed and stopped.total_voter_count == 1
    with pytest.raises(ValueError, match="closed"):
        model.answer_poll(poll.id, BERND, [0])
    with pytest.raises(BadRequest, match=r"(?i)poll has already been closed"):
        await bot.stop_poll(ST, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)poll question length must not exceed 300"):
        await bot.send_poll(ST, "?" * 301, ["a", "b"])
    with pytest.raises(BadRequest, match=r"(?i)more than 12 options"):
        await bot.send_poll(ST, "?", [str(i) for i in range(13)])
    assert len(updates_of(model, "poll_answer")) == 3  # a retraction is an answer too
    anonymous = await bot.send_poll(ST, "Geheim?", ["a", "b"])
    assert anonymous.poll is not None
    model.answer_poll(anonymous.poll.id, BERND, [0])
    assert len(updates_of(model, "poll_answer")) == 3  # no poll_answer for anonymous polls


@pytest.mark.asyncio
async def test_join_requests(model: BotApiModel, bot: Bot) -> None:
    model.set_bot_rights(ST, "administrator")
    link = await bot.create_chat_invite_link(ST, creates_join_request=True, name="Bewerbung")
    assert link.creates_join_request and link.name == "Bewerbung"
    request = model.request_join(ST, CARLA, link.invite_link, bio="Nachbarin")
    assert updates_of(model, "chat_join_request") == [request]
    await bot.send_message(CARLA, "Warum möchtest du beitreten?")  # allowed while pending
    assert await bot.approve_chat_join_request(ST, CARLA)
    assert model.chats[ST].members[CARLA] == "member"
    joined = updates_of(model, "chat_member")[-1]
    assert joined["via_join_request"] is True
    assert joined["invite_link"]["invite_link"] == link.invite_link
    with pytest.raises(BadRequest, match=r"(?i)HIDE_REQUESTER_MISSING"):
        await bot.decline_chat_join_request(ST, CARLA)
    model.add_user(104, "Dora")
    model.request_join(ST, 104)
    assert await bot.decline_chat_join_request(ST, 104)
    assert model.chats[ST].join_requests[104].status == "declined"


@pytest.mark.asyncio
async def test_get_updates_long_polls_confirms_and_conflicts(model: BotApiModel) -> None:
    waiting = asyncio.create_task(fetch_updates(model, timeout=5))
    await asyncio.sleep(0)
    model.send_message(ST, ANNA, "/a")
    first = await asyncio.wait_for(waiting, 1)  # woken by the message, not the timeout
    assert [u["message"]["text"] for u in first] == ["/a"]
    model.send_message(ST, ANNA, "/b")
    model.send_message(ST, ANNA, "/c")
    assert len(await fetch_updates(model, limit=1)) == 1
    later = await fetch_updates(model, offset=first[0]["update_id"] + 1)
    assert [u["message"]["text"] for u in later] == ["/b", "/c"]
    assert later[0]["update_id"] < later[1]["update_id"]
    older = asyncio.create_task(
        model.call("getUpdates", {"offset": later[-1]["update_id"] + 1, "timeout": 5})
    )
    await asyncio.sleep(0)
    await fetch_updates(model, timeout=0)
    status, body = await asyncio.wait_for(older, 1)
    assert status == 409 and "terminated by other getUpdates request" in body["description"]


@pytest.mark.asyncio
async def test_commands_per_scope_and_language(model: BotApiModel, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("propose", "Vorschlag machen")])
    await bot.set_my_commands([BotCommand("propose", "Make a proposal")], language_code="en")
    await bot.set_my_commands([BotCommand("status", "Stand")], scope=BotCommandScopeChat(ST))
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(ST))] == [
        "status"
    ]
    assert await bot.get_my_commands(scope=BotCommandScopeAllGroupChats()) == ()
    assert model.visible_commands(ST, BERND)[0]["command"] == "status"
    assert model.visible_commands(CARLA, CARLA)[0]["description"] == "Make a proposal"
    await bot.delete_my_commands(scope=BotCommandScopeChat(ST))
    assert model.visible_commands(ST, BERND)[0]["description"] == "Vorschlag machen"
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])


# ---------------------------------------------------------------- object shapes for PTB 22.8


@pytest.mark.asyncio
async def test_every_emitted_object_builds_in_ptb(model: BotApiModel, bot: Bot) -> None:
    model.set_bot_rights(ST, "administrator")
    sent = await bot.send_message(
        ST,
        f'<a href="tg://user?id={BERND}">Bernd</a>, bitte',
        parse_mode="HTML",
        reply_markup=keyboard("Ok"),
    )
    assert sent.entities[0].type == MessageEntity.TEXT_MENTION
    assert sent.entities[0].user is not None and sent.entities[0].user.id == BERND
    poll_message = await bot.send_poll(ST, "Ja?", ["Ja", "Nein"], is_anonymous=False)
    assert poll_message.poll is not None
    model.send_message(
        ST, ANNA, f"/propose @{model.bot_username} und Bernd", text_mentions=[(BERND, 27, 5)]
    )
    model.send_anonymous_admin_message(ST, "/status")
    model.press_button(ST, sent.message_id, BERND, button_text="Ok")
    model.answer_poll(poll_message.poll.id, BERND, [1])
    for status in ("administrator", "restricted", "member", "kicked", "left", "creator"):
        model.set_member_status(ST, CARLA, status)
    model.add_user(104, "Dora")
    model.request_join(ST, 104)
    model.set_bot_rights(ST, "member")
    model.block_bot(ANNA)

    kinds, statuses = set(), set()
    for update in model.pending_updates:
        parsed = Update.de_json(update.to_dict(), bot)
        assert parsed is not None and parsed.update_id == update.update_id
        kinds.add(update.kind)
        member = parsed.chat_member or parsed.my_chat_member
        if member is not None:
            statuses.add(member.new_chat_member.status)
            assert isinstance(
                member.new_chat_member,
                (
                    ChatMemberOwner,
                    ChatMemberAdministrator,
                    ChatMemberMember,
                    ChatMemberRestricted,
                    ChatMemberLeft,
                    ChatMemberBanned,
                ),
            )
    assert statuses == {"creator", "administrator", "member", "restricted", "left", "kicked"}
    assert kinds >= {
        "message",
        "callback_query",
        "poll",
        "poll_answer",
        "chat_member",
        "chat_join_request",
        "my_chat_member",
    }
    command = next(u for u in updates_of(model, "message") if u.get("text", "").startswith("/pro"))
    message = Message.de_json(command, bot)
    assert message.parse_entities([MessageEntity.TEXT_MENTION]).popitem()[1] == "Bernd"
    assert message.parse_entities([MessageEntity.MENTION]).popitem()[1] == f"@{model.bot_username}"
    anonymous = next(u for u in updates_of(model, "message") if u.get("text") == "/status")
    assert Message.de_json(anonymous, bot).sender_chat.id == ST
    callback = CallbackQuery.de_json(updates_of(model, "callback_query")[0], bot)
    assert callback.message is not None and callback.message.message_id == sent.message_id
    assert Poll.de_json(updates_of(model, "poll")[0], bot).options[1].voter_count == 1
    restricted = next(
        u["new_chat_member"]
        for u in updates_of(model, "chat_member")
        if u["new_chat_member"]["status"] == "restricted"
    )
    assert ChatMemberRestricted.de_json(restricted, bot).can_react_to_messages is False

    # Method results go through PTB's own parsing inside Bot; check the remaining kinds.
    assert isinstance(await bot.get_chat(ST), ChatFullInfo)
    admins = await bot.get_chat_administrators(ST)
    assert isinstance(admins[0], ChatMemberOwner)
    assert await bot.get_chat_member_count(ST) == 4
    assert isinstance(User.de_json((await model.call("getMe"))[1]["result"], bot), User)
    invite = (await model.call("createChatInviteLink", {"chat_id": ST}))[1]
    assert invite["ok"] is False  # the bot is no admin any more
    model.set_bot_rights(ST, "administrator")
    created = await bot.create_chat_invite_link(ST, member_limit=5)
    assert isinstance(created, ChatInviteLink) and created.member_limit == 5


@pytest.mark.asyncio
async def test_transcript_reads_like_a_chat(model: BotApiModel, bot: Bot) -> None:
    model.send_message(ST, ANNA, "/propose Budget")
    sent = await bot.send_message(
        ST, "<b>Vorschlag</b>\nBudget", parse_mode="HTML", reply_markup=keyboard("Ja", "Nein")
    )
    query = model.press_button(ST, sent.message_id, BERND, button_text="Nein")
    await bot.answer_callback_query(query, "Bedenken notiert", show_alert=True)
    await bot.edit_message_text("Angenommen", ST, sent.message_id)
    model.member_joins(ST, CARLA, invited_by=ANNA)
    assert model.transcript(ST).splitlines() == [
        "[ST] Anna: /propose Budget",
        "[ST] bot: Vorschlag",
        "         Budget",
        "         [Ja] [Nein]",
        "[ST] Bernd ▸ [Nein]",
        "[ST] (alert to Bernd: Bedenken notiert)",
        "[ST] bot ✎ edited #2: Angenommen",
        "[ST] * Carla joined (added by Anna)",
    ]
    assert model.transcript(ids=True).splitlines()[1] == "[ST] bot #2: Vorschlag"
