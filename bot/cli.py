"""The `wiq-bot` command: run the bot, check a config, and the operator's commands (health,
backup, restore, migrate, copy-database, and the networks': networks, export-network,
remove-network); what each does is in bot/ops/."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Config, ConfigError, describe, load_config

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

    run = command("run", "run the bot (long polling, or the webhook when [webhook] url is set)")
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    run.add_argument(
        "--log-format",
        default="kv",
        choices=["kv", "json"],
        help="kv: key=value lines (default); json: one JSON object per line",
    )
    command(
        "check-config",
        "validate a config file, say what it sets up (each network, its digest, its policy"
        " apart from the defaults) and exit",
    )
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
    command(
        "networks",
        "list the networks with their chats and counts, also those only in the database",
    )
    export = command(
        "export-network", "write one network's record (CSV, Markdown, JSON) into a directory"
    )
    export.add_argument("name", help="the network's key or name")
    export.add_argument("directory", type=Path, help="where the files go (created if need be)")
    remove = command(
        "remove-network",
        "remove one network's data, after a confirmation and a backup (the bot must be"
        " stopped); the other networks are untouched",
    )
    remove.add_argument("name", help="the network's key or name (or its name in the database)")
    remove.add_argument("--yes", action="store_true", help="do not ask to type the name again")
    remove.add_argument(
        "--force",
        action="store_true",
        help="also a network still in the config (the next start creates it again, empty)",
    )
    remove.add_argument(
        "--backup",
        type=Path,
        metavar="PATH",
        help="the backup taken first: a file or a directory (default: beside the database;"
        " on PostgreSQL, beside the config file)",
    )
    copy = command(
        "copy-database",
        "copy the SQLite database into an empty PostgreSQL one (the bot must be stopped);"
        " every table's row count is checked",
    )
    copy.add_argument("--to", required=True, help="the target: postgresql://…")
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
        for line in describe(config):
            print(line)
        return 0
    if args.command == "run":
        return run_bot(config, args.log_level, args.log_format)
    return _operate(config, args)


def _operate(config: Config, args: argparse.Namespace) -> int:
    from bot.ops import database, health, networks

    if args.command == "networks":
        return networks.list_networks(config)
    if args.command == "export-network":
        return networks.export_network(config, args.name, args.directory)
    if args.command == "remove-network":
        return networks.remove_network(
            config, args.name, yes=args.yes, force=args.force, backup_to=args.backup
        )
    if args.command == "health":
        return health.check(config)
    if args.command == "backup":
        return database.backup(config, args.path)
    if args.command == "restore":
        return database.restore(config, args.path)
    if args.command == "copy-database":
        from bot.ops import postgres

        return postgres.copy_database(config, args.to)
    return database.migrate(config, check=args.check)


_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|\S+)')


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, event and the line's other key=value
    fields; a message that is not key=value lines (a library's) is kept as `message`, and a
    traceback as `exc`."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        fields = {key: _unquote(value) for key, value in _FIELD.findall(text)}
        if "event" in fields and _FIELD.sub("", text).strip() == "":
            entry["event"] = fields.pop("event")
            entry.update((key, value) for key, value in fields.items() if key not in entry)
        else:
            entry["message"] = text
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def configure_logging(log_level: str, log_format: str = "kv") -> None:
    """`key=value` lines on stderr (or, with `json`, one JSON object per line): ours, and the
    libraries' warnings; the scheduler's routine lines only at DEBUG."""
    logging.basicConfig(level=log_level, format=LOG_FORMAT)
    if log_format == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
    # httpx logs every request URL at INFO, and the URL contains the token: never below.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # APScheduler (under PTB's JobQueue) logs "Added job", "Running job" and "executed
        # successfully" at INFO for every deadline, reminder and outbox flush: most lines
        # of a run, and none of them news.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def run_bot(config: Config, log_level: str, log_format: str = "kv") -> int:
    from bot.ops.run import run
    from bot.telegram_side.inbox import hold_from

    configure_logging(log_level, log_format)
    hold = hold_from(os.environ.get(HOLD_UPDATES_ENV))
    if hold:
        logging.getLogger(__name__).warning("event=test_hold_updates seconds=%s", hold)
    return run(config, hold_updates=hold)


if __name__ == "__main__":
    sys.exit(main())
