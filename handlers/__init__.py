"""Telegram adapters. `register` is the one place where every handler is added, in groups
whose order matters: the guard (handlers.guard: no handler ever runs for an update without a
person behind it), then tracking, then the handlers with the catch-all for unknown commands
last."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatJoinRequestHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    PollAnswerHandler,
    TypeHandler,
    filters,
)

from bot.flows.payloads import (
    Acceptance,
    BindingNetwork,
    CallbackPayload,
    Candidacy,
    Confirmation,
    ForgetPress,
    NetworkChoice,
    PetitionPress,
    Press,
    SettingPress,
)
from bot.telegram_side import callbacks
from handlers import (
    admissions,
    free_text,
    guard,
    networks,
    personal,
    personal_data,
    petitions,
    proposals,
    roster,
    routing,
    setup,
    tracking,
)
from handlers import help as help_
from handlers.commands import COMMANDS, Handler, Menu, in_menu
from handlers.common import Context

# What the composition root (bot.app) reads besides `register`: the menus.
__all__ = ["COMMANDS", "Menu", "in_menu", "register"]

# Handler groups run in this order; within a group the first matching handler wins.
GROUP_ROUTE = -3  # which network the update is for (SPEC §1), before anything else
GROUP_GUARD = -2  # what has no person behind it is turned away before anything else
GROUP_TRACK = -1  # every update: remember who we saw
GROUP_MAIN = 0

# Each kind of button and the handler that answers a press on it.
BUTTONS: list[tuple[type[CallbackPayload], Handler]] = [
    (Acceptance, personal.answer_nomination),
    (Confirmation, personal.answer_delegation),
    (Candidacy, personal.answer_candidacy),
    (PetitionPress, petitions.choose),
    (ForgetPress, personal_data.answer_forget),
    (SettingPress, admissions.propose_setting_pressed),
    (NetworkChoice, networks.chosen),
    (BindingNetwork, networks.binding_chosen),
]


def register(
    application: Application[Any, Context, Any, Any, Any, Any], *, networks: int = 1
) -> None:
    """Add every handler; `networks`: how many networks the deployment serves."""
    # Every update is placed in its network first (a deployment of one: that one, which
    # serves everything without placing: no handler to ask for every update).
    if networks > 1:
        application.add_handler(TypeHandler(Update, routing.place), group=GROUP_ROUTE)
    # Every update meets the guard first: one without a person behind it (a channel, a bot,
    # an anonymous admin, no sender) or an edit (a command is not run twice) goes no further.
    application.add_handler(TypeHandler(Update, guard.guard), group=GROUP_GUARD)
    application.add_handler(TypeHandler(Update, tracking.remember_sender), group=GROUP_TRACK)
    # Buttons first: PTB asks the group's handlers in turn whether they take the update, and
    # presses are most of what comes. A button's handler takes no message; every button goes
    # to one (never to a command's, which PTB would hand a press on a message that begins
    # with a command). By the prefix of their payload in the one callback codec: the cards'
    # presses, the other buttons, last the cards' handler again for whatever the bot did not
    # make (it answers that as invalid).
    press = callbacks.pattern(Press)
    application.add_handler(
        CallbackQueryHandler(proposals.press_response, pattern=press), group=GROUP_MAIN
    )
    for payload_type, answer in BUTTONS:
        pattern = callbacks.pattern(payload_type)
        application.add_handler(CallbackQueryHandler(answer, pattern=pattern), group=GROUP_MAIN)
    application.add_handler(CallbackQueryHandler(proposals.press_response), group=GROUP_MAIN)
    for command in COMMANDS:  # the command table (handlers.commands): every name of each
        application.add_handler(
            CommandHandler(list(command.names), command.handler), group=GROUP_MAIN
        )
    application.add_handler(
        MessageHandler(filters.StatusUpdate.MIGRATE, setup.chat_migrated), group=GROUP_MAIN
    )
    application.add_handler(
        ChatMemberHandler(setup.bot_rights_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        group=GROUP_MAIN,
    )
    application.add_handler(
        ChatMemberHandler(roster.chat_member_changed, ChatMemberHandler.CHAT_MEMBER),
        group=GROUP_MAIN,
    )
    application.add_handler(PollAnswerHandler(proposals.poll_answer), group=GROUP_MAIN)
    application.add_handler(ChatJoinRequestHandler(admissions.join_request), group=GROUP_MAIN)
    # /überarbeiten …: Telegram marks no command with an umlaut; it runs as /ueberarbeiten
    umlauts = MessageHandler(free_text.UMLAUT_COMMAND, free_text.umlaut_command)
    application.add_handler(umlauts, group=GROUP_MAIN)
    application.add_handler(
        MessageHandler(
            # a petition's text or a follow-up first; else the reason asked for
            filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND,
            free_text.private_text,
        ),
        group=GROUP_MAIN,
    )
    application.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL, help_.not_text
        ),
        group=GROUP_MAIN,
    )
    application.add_handler(
        MessageHandler(
            # a reply to an Anliegen goes to its sender; else it may be a reason
            filters.ChatType.GROUPS & filters.REPLY & filters.TEXT & ~filters.COMMAND,
            free_text.reply_in_group,
        ),
        group=GROUP_MAIN,
    )
    # Last in the main group: within a group only the first matching handler runs, so this
    # sees only the commands no handler above took.
    application.add_handler(
        MessageHandler(filters.COMMAND, help_.unknown_command), group=GROUP_MAIN
    )
