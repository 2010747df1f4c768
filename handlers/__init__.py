"""Telegram adapters. `register` is the one place where every handler is added, in groups
whose order matters: the guard, then tracking, then the handlers with the catch-all for
unknown commands last."""

from __future__ import annotations

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

from handlers import (
    admissions,
    delegations,
    digests,
    elections,
    export,
    nominations,
    personal,
    personal_data,
    petitions,
    proposals,
    roster,
    setup,
    tracking,
)
from handlers import help as help_

# Handler groups run in this order; within a group the first matching handler wins.
GROUP_GUARD = -2  # anonymous admins are turned away before anything else
GROUP_TRACK = -1  # every update: remember who we saw
GROUP_MAIN = 0

COMMANDS = [
    (("start",), help_.start),
    (("help", "hilfe"), help_.show_help),
    (("setup", "team_einrichten"), setup.setup_team),
    (("team",), setup.show_team),
    (("members", "mitglieder"), roster.list_members),
    (("admit", "aufnehmen"), roster.admit_member),
    (("remove", "entfernen"), roster.remove_member),
    (("leave", "austreten"), roster.leave_team),
    (("propose", "vorschlag"), proposals.propose),
    (("revise", "ueberarbeiten"), proposals.revise),
    (("majority", "abstimmung"), proposals.request_majority),
    (("withdraw", "zurueckziehen"), proposals.withdraw),
    (("open", "offen"), proposals.list_open),
    (("decisions", "beschluesse"), proposals.list_decisions),
    (("request_support", "unterstuetzung"), proposals.request_support),
    (("join", "beitreten"), admissions.join),
    (("settings", "einstellungen"), admissions.show_or_change_settings),
    (("nominate", "nominieren"), nominations.nominate),
    (("delegate", "entsenden"), delegations.delegate),
    (("election", "wahl"), elections.call_election),
    (("petition", "anliegen", "concern"), petitions.raise_petition),
    (("mydata", "meinedaten"), personal_data.send_my_data),
    (("forgetme", "vergessen"), personal_data.ask_to_forget),
    (("digest", "rueckblick"), digests.show_digest),
    (("export", "exportieren"), export.export),
]


def register(application: Application) -> None:
    # Edits are not asked for (bot.app.ALLOWED_UPDATES); should one come anyway, it changes
    # nothing: a command is not run twice, a reply not passed on twice.
    application.add_handler(
        MessageHandler(filters.UpdateType.EDITED, tracking.ignore_edit), group=GROUP_GUARD
    )
    application.add_handler(
        MessageHandler(filters.COMMAND & filters.SenderChat.ALL, tracking.refuse_anonymous_admin),
        group=GROUP_GUARD,
    )
    application.add_handler(TypeHandler(Update, tracking.remember_sender), group=GROUP_TRACK)
    for names, callback in COMMANDS:
        application.add_handler(CommandHandler(list(names), callback), group=GROUP_MAIN)
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
    application.add_handler(
        CallbackQueryHandler(personal.answer_nomination, pattern=r"^n1:"), group=GROUP_MAIN
    )
    application.add_handler(
        CallbackQueryHandler(personal.answer_delegation, pattern=r"^d1:"), group=GROUP_MAIN
    )
    application.add_handler(
        CallbackQueryHandler(personal.answer_candidacy, pattern=r"^e1:"), group=GROUP_MAIN
    )
    application.add_handler(
        CallbackQueryHandler(petitions.choose, pattern=r"^c1:"), group=GROUP_MAIN
    )
    application.add_handler(
        CallbackQueryHandler(personal_data.answer_forget, pattern=r"^f1:"), group=GROUP_MAIN
    )
    application.add_handler(CallbackQueryHandler(proposals.press_response), group=GROUP_MAIN)
    application.add_handler(PollAnswerHandler(proposals.poll_answer), group=GROUP_MAIN)
    application.add_handler(ChatJoinRequestHandler(admissions.join_request), group=GROUP_MAIN)
    application.add_handler(
        MessageHandler(
            # a concern's text or a follow-up first; else the reason asked for
            filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND,
            petitions.private_text,
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
            petitions.reply_in_group,
        ),
        group=GROUP_MAIN,
    )
    # Last in the main group: within a group only the first matching handler runs, so this
    # sees only the commands no handler above took.
    application.add_handler(
        MessageHandler(filters.COMMAND, help_.unknown_command), group=GROUP_MAIN
    )


ALL_COMMAND_NAMES = [names[0] for names, _ in COMMANDS]
