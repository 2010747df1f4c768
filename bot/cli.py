"""The `wiq-bot` command: run the bot, or check a config."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from bot.config import Config, ConfigError, load_config

EXIT_CONFIG = 2
LOG_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"
# Tests only: each update waits this many seconds before its handling begins, so that a test
# can kill or stop the process with updates fetched and not yet handled (bot/telegram_side/
# inbox.py, InboxProcessor).
HOLD_UPDATES_ENV = "WIQ_TEST_HOLD_UPDATES"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wiq-bot", description="WiQ decision bot")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (long polling)")
    run.add_argument("--config", required=True, help="path to the TOML config")
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    check = commands.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("--config", required=True, help="path to the TOML config")
    demo = commands.add_parser("demo", help="play a scripted decision in-process and print it")
    demo.add_argument("--language", default="de", choices=["de", "en"])
    args = parser.parse_args(argv)

    if args.command == "demo":
        from bot.demo import main as run_demo

        return run_demo(args.language)

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"wiq-bot: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "check-config":
        print(f"{args.config}: ok")
        return 0
    return run_bot(config, args.log_level)


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
    from bot.app import ALLOWED_UPDATES, build_application
    from bot.telegram_side.inbox import hold_from

    configure_logging(log_level)
    hold = hold_from(os.environ.get(HOLD_UPDATES_ENV))
    if hold:
        logging.getLogger(__name__).warning("event=test_hold_updates seconds=%s", hold)
    application = build_application(config, hold_updates=hold)
    # run_polling calls post_init before the first getUpdates. On SIGINT or SIGTERM it stops
    # fetching, waits until every update fetched has been handled (and marked so in the inbox)
    # and every running job has finished, then closes the database (SPEC §9).
    application.run_polling(
        allowed_updates=ALLOWED_UPDATES,
        timeout=config.telegram.poll_timeout,
        drop_pending_updates=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
