"""The `wiq-bot` command: run the bot, check a config, and the operator's commands (health,
backup, restore, migrate); what each does is in bot/ops/."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from bot.config import Config, ConfigError, load_config

EXIT_CONFIG = 2
EXIT_UNHEALTHY = 1  # `health` exits 0 or 1 only (Docker reserves 2)
LOG_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"
# Tests only: each update waits this many seconds before its handling begins, so that a test
# can kill or stop the process with updates fetched and not yet handled (bot/telegram_side/
# inbox.py, InboxProcessor).
HOLD_UPDATES_ENV = "WIQ_TEST_HOLD_UPDATES"
# Every file the bot writes (the database, its -wal and -shm, backups) is its user's alone,
# whatever umask it was started with; each is also created with mode 0600 by itself.
UMASK = 0o077


def _parser() -> argparse.ArgumentParser:
    from bot.ops.database import version_line

    parser = argparse.ArgumentParser(prog="wiq-bot", description="WiQ decision bot")
    parser.add_argument("--version", action="version", version=version_line())
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--config", required=True, help="path to the TOML config")
        return sub

    run = command("run", "run the bot (long polling)")
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    command("check-config", "validate a config file and exit")
    command(
        "health",
        "exit 0 if the database opens, its schema is current and the running bot's"
        " heartbeat is fresh; else 1, with one line saying which",
    )
    backup = command("backup", "write a consistent copy of the database, also while it runs")
    backup.add_argument("path", type=Path, help="the file to write, or a directory")
    restore = command("restore", "put a backup in the database's place (the bot must be stopped)")
    restore.add_argument("path", type=Path, help="the backup to restore")
    migrate = command(
        "migrate", "apply pending schema migrations (after a backup beside the database)"
    )
    migrate.add_argument(
        "--check", action="store_true", help="only list them; exit 1 if any are pending"
    )
    demo = commands.add_parser("demo", help="play a scripted decision in-process and print it")
    demo.add_argument("--language", default="de", choices=["de", "en"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    if args.command == "demo":
        from bot.demo import main as run_demo

        return run_demo(args.language)

    os.umask(UMASK)
    # Only `run` talks to Telegram; the others accept a config without the token.
    try:
        config = load_config(args.config, need_token=args.command in ("run", "check-config"))
    except ConfigError as exc:
        print(f"wiq-bot: config error: {exc}", file=sys.stderr)
        return EXIT_UNHEALTHY if args.command == "health" else EXIT_CONFIG
    if args.command == "check-config":
        print(f"{args.config}: ok")
        return 0
    if args.command == "run":
        return run_bot(config, args.log_level)
    return _operate(config, args)


def _operate(config: Config, args: argparse.Namespace) -> int:
    from bot.ops import database, health

    if args.command == "health":
        return health.check(config)
    if args.command == "backup":
        return database.backup(config, args.path)
    if args.command == "restore":
        return database.restore(config, args.path)
    return database.migrate(config, check=args.check)


def configure_logging(log_level: str) -> None:
    """`key=value` lines on stderr: ours, and the libraries' warnings; the scheduler's
    routine lines only at DEBUG."""
    logging.basicConfig(level=log_level, format=LOG_FORMAT)
    # httpx logs every request URL at INFO, and the URL contains the token: never below.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # APScheduler (under PTB's JobQueue) logs "Added job", "Running job" and "executed
        # successfully" at INFO for every deadline, reminder and outbox flush: most lines
        # of a run, and none of them news.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def run_bot(config: Config, log_level: str) -> int:
    from bot.ops.run import run
    from bot.telegram_side.inbox import hold_from

    configure_logging(log_level)
    hold = hold_from(os.environ.get(HOLD_UPDATES_ENV))
    if hold:
        logging.getLogger(__name__).warning("event=test_hold_updates seconds=%s", hold)
    return run(config, hold_updates=hold)


if __name__ == "__main__":
    sys.exit(main())
