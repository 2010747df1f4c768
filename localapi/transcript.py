"""Readable one-line-per-event descriptions of chat activity, and the transcript renderer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from localapi.records import LogEntry, MessageRec, PollRec


def buttons_text(markup: Mapping[str, Any] | None) -> str:
    """An inline keyboard as rows of "[Label]" ("" without one)."""
    if not markup:
        return ""
    rows = markup.get("inline_keyboard", [])
    return "\n".join(" ".join(f"[{button.get('text', '')}]" for button in row) for row in rows)


def poll_text(poll: PollRec, with_counts: bool = False) -> str:
    kind = "anonymous poll" if poll.is_anonymous else "poll"
    if poll.type == "quiz":
        kind = "quiz"
    if poll.allows_multiple_answers:
        kind += ", multiple answers"
    counts = poll.voter_counts()
    options = "  ".join(
        f"○ {option.text}" + (f" ({counts[index]})" if with_counts else "")
        for index, option in enumerate(poll.options)
    )
    return f"📊 {poll.question} ({kind})\n{options}"


def message_body(msg: MessageRec) -> str:
    """What a reader sees of a message: text, poll or file, then its buttons."""
    parts: list[str] = []
    if msg.poll is not None:
        parts.append(poll_text(msg.poll))
    if msg.document is not None:
        doc = msg.document
        parts.append(f"📎 {doc.file_name or doc.file_id} ({doc.file_size} bytes)")
    if msg.caption:
        parts.append(msg.caption)
    if msg.text is not None:
        parts.append(msg.text)
    keyboard = buttons_text(msg.reply_markup)
    if keyboard:
        parts.append(keyboard)
    return "\n".join(parts)


def option_names(poll: PollRec, option_ids: Iterable[int]) -> str:
    return ", ".join(poll.options[index].text for index in option_ids)


def render(
    log: Iterable[LogEntry],
    labels: Mapping[int, str],
    chat_id: int | None = None,
    *,
    ids: bool = False,
) -> str:
    """Lines as "[LABEL] event", continuation lines indented under the event text."""
    lines: list[str] = []
    for entry in log:
        if chat_id is not None and entry.chat_id != chat_id:
            continue
        text = entry.text
        if ids and entry.message_id is not None:
            text = f"{text[: entry.name_end]} #{entry.message_id}{text[entry.name_end :]}"
        event_chat = entry.chat_id
        prefix = f"[{labels.get(event_chat, str(event_chat))}] " if event_chat is not None else ""
        first, *rest = text.split("\n")
        lines.append(prefix + first)
        indent = " " * (len(prefix) + 4)
        lines.extend(indent + line for line in rest)
    return "\n".join(lines)
