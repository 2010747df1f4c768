"""The log (SPEC §9): `--log-format json` gives one JSON object per line with the fields of
the key=value line; and the INFO log of a whole scenario names no person — no name, username,
Telegram id or text anyone typed."""

from __future__ import annotations

import json
import logging
import re

import pytest

from bot.cli import LOG_FORMAT, JsonFormatter
from tests.harness import ANNA, BERT, PT, DecisionSteps, Harness
from tests.test_e2e_personal_data import FRIDO, FRIDO_TRACES, frido_takes_part, my_data


def _record(message: str, *args: object, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("bot.x", level, __file__, 1, message, args, None)


def test_json_lines_carry_the_key_value_fields() -> None:
    line = JsonFormatter().format(
        _record(
            'event=outbox_refused chat=%s method=%s error=%r hint="copy it again"',
            -100123,
            "send_message",
            "Bad Request: chat not found",
        )
    )
    entry = json.loads(line)
    assert entry["level"] == "INFO" and entry["logger"] == "bot.x"
    assert entry["event"] == "outbox_refused" and entry["chat"] == "-100123"
    assert entry["method"] == "send_message"
    assert entry["error"] == "Bad Request: chat not found"
    assert entry["hint"] == "copy it again"
    assert entry["ts"].endswith("+00:00") and "T" in entry["ts"]
    assert "message" not in entry


def test_a_line_that_is_not_key_value_is_kept_as_its_message() -> None:
    entry = json.loads(JsonFormatter().format(_record("Application started, %d jobs", 3)))
    assert entry["message"] == "Application started, 3 jobs" and "event" not in entry
    assert "\n" not in JsonFormatter().format(_record("two\nlines"))


def test_the_key_value_format_is_unchanged() -> None:
    line = logging.Formatter(LOG_FORMAT).format(_record("event=started network=1"))
    assert line.endswith(" level=INFO logger=bot.x event=started network=1")


TEXTS = (
    "Zu wenig Schatten dort.",
    "Offenheit bei den Finanzen",
    "Kennt sich aus",
    "Quastenberg-Brunnen",
    "Mein Nein",
)


async def test_the_info_log_names_no_person_and_no_text(
    net: tuple[Harness, DecisionSteps], caplog: pytest.LogCaptureFixture
) -> None:
    h, d = net
    caplog.set_level(logging.INFO)
    # Setup (the network fixture), an admission, a round with a reason, an Anliegen, a
    # nomination; then a vote and /mydata.
    await frido_takes_part(h, d)
    card = await h.say(PT, FRIDO, "/vorschlag 1d Ein Quastenberg-Brunnen am Platz")
    assert card is not None
    number = int(re.search(r"#(\d+)", card.text).group(1))  # type: ignore[union-attr]
    await d.press(PT, number, ANNA, "object")
    await h.say(ANNA, ANNA, "Mein Nein: zu teuer")
    await d.press(PT, number, BERT, "agree")
    await d.press(PT, number, FRIDO, "agree")
    await h.due(86400 + 1)
    await h.say(PT, FRIDO, f"/abstimmung {number}")
    poll = h.model.bot_messages(PT)[-1].poll
    assert poll is not None, h.bot_texts(PT)[-3:]
    h.model.answer_poll(poll.id, FRIDO, [0])
    await h.settle()
    # A reply Telegram refuses (he blocked the bot meanwhile): the outbox's line about it.
    h.model.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await h.say(FRIDO, FRIDO, "/hilfe")
    assert any("outbox_forbidden" in r.getMessage() for r in caplog.records)
    await my_data(h, FRIDO)

    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any("event=" in line for line in lines)  # the scan read the bot's own lines
    traces = (*FRIDO_TRACES, *TEXTS, str(ANNA * 1), "Anna", "anna")
    leaks = [
        f"{trace!r} in {line!r}" for line in lines for trace in traces if _appears(trace, line)
    ]
    assert leaks == []


def _appears(trace: str, line: str) -> bool:
    """A trace in a line; a number only as a whole value (not inside a longer id)."""
    if trace.isdigit():
        return re.search(rf"(?<![\d-]){trace}(?!\d)", line) is not None
    return trace.lower() in line.lower()
