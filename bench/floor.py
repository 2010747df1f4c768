"""The floor under bench.votes' throughput: the least a python-telegram-bot Application can do
for a press on a card. It decodes the callback data, stores the press in one SQL statement (an
upsert of (round, person) -> choice in a one-table SQLite file, with the bot's pragmas), and
answers the callback query with the bot's text. No people, no roster, no round to look up, no
card to edit.

It speaks to the same local Bot API model over the same transport as the bot does in
bench.votes, and imports nothing from bot/: what the bot costs above this is the bot's own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiosqlite
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes

from localapi.model import BotApiModel
from localapi.request import ModelRequest

# The callback format of bot.telegram_side.callbacks, `1:<round id>:<code>`, and the bot's
# German answers (press.recorded).
PATTERN = re.compile(r"^1:([1-9]\d{0,11}):([acso])$")
ANSWERS = {
    "a": "Gespeichert: Zustimmung",
    "c": "Gespeichert: Bedenken",
    "s": "Gespeichert: Enthaltung",
    "o": "Gespeichert: Einwand",
}
BUTTONS = (("Zustimmung", "a"), ("Bedenken", "c"), ("Enthaltung", "s"), ("Einwand", "o"))
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS press (round INTEGER NOT NULL, person INTEGER NOT NULL,"
    " choice TEXT NOT NULL, PRIMARY KEY (round, person)) WITHOUT ROWID"
)
UPSERT = (
    "INSERT INTO press (round, person, choice) VALUES (?, ?, ?)"
    " ON CONFLICT (round, person) DO UPDATE SET choice = excluded.choice"
)
DB = "floor_db"  # bot_data key of the aiosqlite connection


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    match = PATTERN.match(query.data or "")
    if match is None:
        await query.answer()
        return
    db: aiosqlite.Connection = context.bot_data[DB]
    await db.execute(UPSERT, (int(match[1]), query.from_user.id, match[2]))
    await query.answer(text=ANSWERS[match[2]])


class Floor:
    """The floor Application on `model`: in-process (ModelRequest) or, given a base_url
    (localapi.server.LocalBotApiServer's), over HTTP. `concurrent` goes to PTB's
    concurrent_updates (1: one update after the other)."""

    def __init__(
        self, model: BotApiModel, db_path: Path, concurrent: int, base_url: str | None = None
    ) -> None:
        self.model = model
        self.db_path = db_path
        builder = ApplicationBuilder().token(model.token).job_queue(None)
        if base_url is not None:
            builder = builder.base_url(base_url)
        else:
            builder = builder.request(ModelRequest(model)).get_updates_request(ModelRequest(model))
        builder = builder.concurrent_updates(concurrent)
        self.app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.app.add_handler(CallbackQueryHandler(on_press))

    @property
    def db(self) -> aiosqlite.Connection:
        db: aiosqlite.Connection = self.app.bot_data[DB]
        return db

    async def start(self) -> None:
        db = await aiosqlite.connect(self.db_path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000"):
            await db.execute(f"PRAGMA {pragma}")
        await db.execute(SCHEMA)
        self.app.bot_data[DB] = db
        await self.app.initialize()
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(
            timeout=1, poll_interval=0, allowed_updates=[Update.CALLBACK_QUERY]
        )

    async def stop(self) -> None:
        app = self.app
        assert app.updater is not None
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        db = app.bot_data.pop(DB, None)
        if db is not None:
            await db.close()

    async def post_card(self, chat_id: int, round_id: int) -> tuple[int, dict[str, str]]:
        """A card with the bot's four buttons: (message id, code -> callback data)."""
        data = {code: f"1:{round_id}:{code}" for _, code in BUTTONS}
        keyboard = [
            [InlineKeyboardButton(label, callback_data=data[code])] for label, code in BUTTONS
        ]
        message = await self.app.bot.send_message(
            chat_id, f"Floor round {round_id}", reply_markup=InlineKeyboardMarkup(keyboard)
        )
        return message.message_id, data

    async def stored(self, round_id: int) -> dict[int, str]:
        """person (telegram id) -> code, as stored."""
        rows = await self.db.execute_fetchall(
            "SELECT person, choice FROM press WHERE round = ?", (round_id,)
        )
        return {int(person): str(choice) for person, choice in rows}
