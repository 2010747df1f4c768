"""HTML helpers for what the bot sends: escaping, links, Telegram's length limit (naming a
person: bot.texts.naming)."""

from __future__ import annotations

import html
import re

MAX_MESSAGE = 4096
ELLIPSIS = "…"
_TAG = re.compile(r"<[^>]*>")


def visible_length(text: str) -> int:
    """Length as Telegram counts it: after entity parsing, in UTF-16 code units."""
    plain = html.unescape(_TAG.sub("", text))
    return len(plain.encode("utf-16-le")) // 2


def message_link(chat_id: int | None, message_id: int | None) -> str | None:
    """A link to a message; only supergroups and channels (ids -100…) have them."""
    if chat_id is None or message_id is None or not str(chat_id).startswith("-100"):
        return None
    return f"https://t.me/c/{str(chat_id)[4:]}/{message_id}"


def _plain(line: str) -> str:
    return html.unescape(_TAG.sub("", line))


def _hard_split(line: str, limit: int) -> list[str]:
    """A single line longer than a message: drop its markup and cut it by characters."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in _plain(line):
        width = 2 if ord(char) > 0xFFFF else 1  # UTF-16 code units, as Telegram counts
        if size + width > limit:
            pieces.append(html.escape("".join(current), quote=False))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        pieces.append(html.escape("".join(current), quote=False))
    return pieces


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split at line breaks into messages within the limit; markup never spans lines here."""
    if visible_length(text) <= limit:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        length = visible_length(line)
        if length > limit:
            if current:
                parts.append("\n".join(current))
                current, size = [], 0
            parts.extend(_hard_split(line, limit))
            continue
        extra = length + (1 if current else 0)
        if size + extra > limit:
            parts.append("\n".join(current))
            current, size = [line], length
        else:
            current.append(line)
            size += extra
    if current:
        parts.append("\n".join(current))
    return [part for part in parts if part.strip()]


def shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    """Keep whole lines that fit and end with a clear "…" (for edits, which cannot split)."""
    if visible_length(text) <= limit:
        return text
    first = split_message(text, limit - 2)[0]
    return f"{first}\n{ELLIPSIS}"


def shorten_plain(value: str, limit: int) -> str:
    """Shorten user text before it is escaped (card titles, poll questions)."""
    value = " ".join(value.split())
    if len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + ELLIPSIS
