"""Telegram's text formatting: HTML and MarkdownV2 into text + entities, counted in UTF-16."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Entity = dict[str, Any]
UserLookup = Callable[[int], dict[str, Any] | None]


class EntityParseError(ValueError):
    """Markup Telegram refuses; the text follows "can't parse entities: "."""


def utf16_len(text: str) -> int:
    """Telegram measures offsets and lengths in UTF-16 code units, not code points."""
    return len(text.encode("utf-16-le")) // 2


def utf16_slice(text: str, offset: int, length: int) -> str:
    raw = text.encode("utf-16-le")
    return raw[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


def _byte_offset(source: str, index: int) -> int:
    """tdlib reports positions as UTF-8 byte offsets into the source."""
    return len(source[:index].encode("utf-8"))


# ---------------------------------------------------------------- HTML

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_ALLOWED_TAGS = {*_SIMPLE_TAGS, "a", "tg-emoji", "tg-time"}
_HTML_ENTITY = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_USER_LINK = re.compile(r"^tg://user\?id=(\d+)$")


def _decode_html_entity(source: str, index: int) -> tuple[str, int] | None:
    match = _HTML_ENTITY.match(source, index)
    if match is None:
        return None
    if match.group(3):
        return _NAMED[match.group(3)], match.end()
    code = int(match.group(1)) if match.group(1) else int(match.group(2), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


@dataclass
class _OpenTag:
    tag: str
    attrs: dict[str, str]
    start: int
    byte_offset: int
    language: str | None = None


@dataclass
class _HtmlParser:
    """A port of tdlib's parse_html rules: strict about tags, lenient about stray '&'."""

    source: str
    lookup_user: UserLookup
    out: list[str] = field(default_factory=list)
    length: int = 0
    stack: list[_OpenTag] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)

    def append(self, text: str) -> None:
        self.out.append(text)
        self.length += utf16_len(text)

    def fail(self, message: str) -> EntityParseError:
        return EntityParseError(message)

    def run(self) -> tuple[str, list[Entity]]:
        src, i = self.source, 0
        while i < len(src):
            char = src[i]
            if char == "&":
                decoded = _decode_html_entity(src, i)
                if decoded is not None:
                    self.append(decoded[0])
                    i = decoded[1]
                    continue
            if char != "<":
                self.append(char)
                i += 1
                continue
            closing = src[i + 1 : i + 2] == "/"
            i = self.end_tag(i) if closing else self.start_tag(i)
        if self.stack:
            raise self.fail(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        return "".join(self.out), self.entities

    def start_tag(self, begin: int) -> int:
        src, offset = self.source, _byte_offset(self.source, begin)
        i = begin + 1
        while i < len(src) and not src[i].isspace() and src[i] != ">":
            i += 1
        if i >= len(src):
            raise self.fail(f"Unclosed start tag at byte offset {offset}")
        tag = src[begin + 1 : i].lower()
        if tag not in _ALLOWED_TAGS:
            raise self.fail(f'Unsupported start tag "{tag}" at byte offset {offset}')
        attrs: dict[str, str] = {}
        while True:
            while i < len(src) and src[i].isspace():
                i += 1
            if i >= len(src):
                raise self.fail(f'Unclosed start tag "{tag}" at byte offset {offset}')
            if src[i] == ">":
                i += 1
                break
            name_start = i
            while i < len(src) and not src[i].isspace() and src[i] not in "=>":
                i += 1
            name = src[name_start:i].lower()
            if not name:
                raise self.fail(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
            while i < len(src) and src[i].isspace():
                i += 1
            if i >= len(src) or src[i] != "=":
                if tag == "blockquote" and name == "expandable":
                    attrs[name] = ""
                    continue
                raise self.fail(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {offset}'
                )
            i += 1
            while i < len(src) and src[i].isspace():
                i += 1
            if i >= len(src):
                raise self.fail(f'Unclosed start tag "{tag}" at byte offset {offset}')
            value, i = self.attribute_value(i)
            attrs[name] = value
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise self.fail(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        self.stack.append(_OpenTag(tag, attrs, self.length, offset))
        return i

    def attribute_value(self, i: int) -> tuple[str, int]:
        src = self.source
        if src[i] in "\"'":
            quote, i, chars = src[i], i + 1, []
            while i < len(src) and src[i] != quote:
                decoded = _decode_html_entity(src, i) if src[i] == "&" else None
                if decoded is not None:
                    chars.append(decoded[0])
                    i = decoded[1]
                else:
                    chars.append(src[i])
                    i += 1
            if i >= len(src):
                raise self.fail(f"Unclosed start tag at byte offset {_byte_offset(src, i)}")
            return "".join(chars), i + 1
        start = i
        while i < len(src) and (src[i].isalnum() or src[i] in ".-"):
            i += 1
        if i < len(src) and not src[i].isspace() and src[i] != ">":
            raise self.fail(f"Unexpected end of name token at byte offset {_byte_offset(src, i)}")
        return src[start:i].lower(), i

    def end_tag(self, begin: int) -> int:
        src, offset = self.source, _byte_offset(self.source, begin)
        if not self.stack:
            raise self.fail(f"Unexpected end tag at byte offset {offset}")
        close = src.find(">", begin + 2)
        if close < 0:
            raise self.fail(f"Unclosed end tag at byte offset {offset}")
        name = src[begin + 2 : close].strip().lower()
        top = self.stack[-1]
        if name and name != top.tag:
            raise self.fail(
                f'Unmatched end tag at byte offset {offset}, expected "</{top.tag}>", '
                f'found "</{name}>"'
            )
        self.stack.pop()
        self.close(top)
        return close + 1

    def close(self, tag: _OpenTag) -> None:
        length = self.length - tag.start
        if tag.tag == "code" and self.stack and self.stack[-1].tag == "pre":
            # <pre><code class="language-x"> is how a pre block names its language.
            css = tag.attrs.get("class", "")
            if css.startswith("language-"):
                self.stack[-1].language = css[len("language-") :]
            return
        if length <= 0:
            return  # Telegram silently drops empty entities
        entity: Entity = {"type": "", "offset": tag.start, "length": length}
        if tag.tag in _SIMPLE_TAGS:
            entity["type"] = _SIMPLE_TAGS[tag.tag]
            if tag.tag == "pre" and tag.language:
                entity["language"] = tag.language
            if tag.tag == "blockquote" and "expandable" in tag.attrs:
                entity["type"] = "expandable_blockquote"
        elif tag.tag == "a":
            href = tag.attrs.get("href", "")
            user_match = _USER_LINK.match(href)
            if user_match:
                user = self.lookup_user(int(user_match.group(1)))
                if user is None:
                    return  # mentions of users the bot cannot see are dropped
                entity.update(type="text_mention", user=user)
            elif href:
                entity.update(type="text_link", url=href)
            else:
                return
        elif tag.tag == "tg-emoji":
            if not tag.attrs.get("emoji-id"):
                return
            entity.update(type="custom_emoji", custom_emoji_id=tag.attrs["emoji-id"])
        elif tag.tag == "tg-time":
            if not tag.attrs.get("unix", "").isdigit():
                return
            entity.update(type="date_time", unix_time=int(tag.attrs["unix"]))
            if tag.attrs.get("format"):
                entity["date_time_format"] = tag.attrs["format"]
        self.entities.append(entity)


def parse_html(source: str, lookup_user: UserLookup) -> tuple[str, list[Entity]]:
    """Text and entities for parse_mode=HTML, or EntityParseError like Telegram's."""
    return _HtmlParser(source, lookup_user).run()


# ---------------------------------------------------------------- MarkdownV2

_MD_RESERVED = "_*[]()~`>#+-=|{}.!"
_MD_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _MdOpen:
    type: str
    start: int
    byte_offset: int
    out_index: int
    argument: str = ""


def _md_is_end(top: _MdOpen, src: str, i: int) -> bool:
    char, nxt = src[i], src[i + 1 : i + 2]
    return {
        "bold": char == "*",
        "italic": char == "_" and nxt != "_",
        "underline": char == "_" and nxt == "_",
        "strikethrough": char == "~",
        "spoiler": char == "|" and nxt == "|",
        "code": char == "`",
        "pre": src[i : i + 3] == "```",
        "text_link": char == "]",
        "custom_emoji": char == "]",
    }[top.type]


def parse_markdown_v2(source: str, lookup_user: UserLookup) -> tuple[str, list[Entity]]:
    """Text and entities for parse_mode=MarkdownV2, following tdlib's escaping rules."""
    out: list[str] = []
    length = 0
    stack: list[_MdOpen] = []
    entities: list[Entity] = []
    quote_start: int | None = None
    i = 0

    def emit(text: str) -> None:
        nonlocal length
        out.append(text)
        length += utf16_len(text)

    def reserved_error(char: str) -> EntityParseError:
        return EntityParseError(
            f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
        )

    while i < len(source):
        char = source[i]
        in_code = bool(stack) and stack[-1].type in ("code", "pre")
        if char == "\\" and i + 1 < len(source) and 0 < ord(source[i + 1]) <= 126:
            emit(source[i + 1])
            i += 2
            continue
        at_line_start = i == 0 or source[i - 1] == "\n"
        if char == ">" and at_line_start and not in_code:
            if quote_start is None:
                quote_start = length
            i += 1
            continue
        if char == "\n" and quote_start is not None and source[i + 1 : i + 2] != ">":
            if length > quote_start:
                entities.append(
                    {"type": "blockquote", "offset": quote_start, "length": length - quote_start}
                )
            quote_start = None
        if char not in ("`" if in_code else _MD_RESERVED):
            emit(char)
            i += 1
            continue
        if stack and _md_is_end(stack[-1], source, i):
            top = stack.pop()
            entity_len = length - top.start
            argument = top.argument
            if top.type in ("underline", "spoiler"):
                i += 1
            elif top.type == "pre":
                i += 2
            elif top.type in ("text_link", "custom_emoji"):
                if source[i + 1 : i + 2] == "(":
                    url_start, i, chars = i + 2, i + 2, []
                    while i < len(source) and source[i] != ")":
                        if source[i] == "\\" and i + 1 < len(source):
                            chars.append(source[i + 1])
                            i += 2
                            continue
                        chars.append(source[i])
                        i += 1
                    if i >= len(source):
                        position = _byte_offset(source, url_start)
                        raise EntityParseError(f"Can't find end of a URL at byte offset {position}")
                    argument = "".join(chars)
                else:
                    argument = "".join(out[top.out_index :])
            i += 1
            if entity_len > 0:
                entity: Entity = {"type": top.type, "offset": top.start, "length": entity_len}
                if top.type == "pre" and argument:
                    entity["language"] = argument
                if top.type == "text_link":
                    user_match = _USER_LINK.match(argument)
                    if user_match:
                        user = lookup_user(int(user_match.group(1)))
                        entity = {**entity, "type": "text_mention", "user": user} if user else {}
                    elif argument:
                        entity["url"] = argument
                    else:
                        entity = {}
                if top.type == "custom_emoji":
                    emoji_id = argument.partition("id=")[2]
                    entity = {**entity, "custom_emoji_id": emoji_id} if emoji_id else {}
                if entity:
                    entities.append(entity)
            continue
        byte_offset = _byte_offset(source, i)
        argument = ""
        if char == "_" and source[i + 1 : i + 2] == "_":
            kind, i = "underline", i + 2
        elif char in "_*~":
            kind, i = {"_": "italic", "*": "bold", "~": "strikethrough"}[char], i + 1
        elif char == "|" and source[i + 1 : i + 2] == "|":
            kind, i = "spoiler", i + 2
        elif char == "[":
            kind, i = "text_link", i + 1
        elif char == "!" and source[i + 1 : i + 2] == "[":
            kind, i = "custom_emoji", i + 2
        elif char == "`" and source[i : i + 3] == "```":
            kind, i = "pre", i + 3
            end = i
            while end < len(source) and not source[end].isspace() and source[end] != "`":
                end += 1
            if end > i and end < len(source) and source[end] != "`":
                argument, i = source[i:end], end
            if source[i : i + 1] in ("\n", "\r"):
                i += 1
        elif char == "`":
            kind, i = "code", i + 1
        else:
            raise reserved_error(char)
        stack.append(_MdOpen(kind, length, byte_offset, len(out), argument))
    if stack:
        top = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MD_NAMES[top.type]} entity at byte offset {top.byte_offset}"
        )
    if quote_start is not None and length > quote_start:
        entities.append(
            {"type": "blockquote", "offset": quote_start, "length": length - quote_start}
        )
    return "".join(out), entities


# ---------------------------------------------------------------- legacy Markdown


def parse_markdown(source: str, lookup_user: UserLookup) -> tuple[str, list[Entity]]:
    """parse_mode=Markdown (legacy): *bold*, _italic_, `code`, ```pre```, [text](url)."""
    out: list[str] = []
    length = 0
    entities: list[Entity] = []
    i = 0
    pairs = {"*": "bold", "_": "italic", "`": "code"}
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in "_*`[":
            out.append(source[i + 1])
            length += 1
            i += 2
            continue
        if char in pairs or char == "[":
            fence = "```" if source.startswith("```", i) else ("]" if char == "[" else char)
            opener = 3 if fence == "```" else 1
            end = source.find(fence, i + opener)
            if end < 0:
                raise EntityParseError(
                    "Can't find end of the entity starting at byte offset "
                    f"{_byte_offset(source, i)}"
                )
            inner = source[i + opener : end]
            entity: Entity = {"type": "pre" if fence == "```" else pairs.get(char, "text_link")}
            i = end + len(fence)
            if char == "[":
                close = source.find(")", i)
                if source[i : i + 1] != "(" or close < 0:
                    out.append(inner)
                    length += utf16_len(inner)
                    continue
                url = source[i + 1 : close]
                i = close + 1
                user_match = _USER_LINK.match(url)
                user = lookup_user(int(user_match.group(1))) if user_match else None
                entity = {"type": "text_mention", "user": user} if user else {"url": url, **entity}
            if inner:
                entities.append({**entity, "offset": length, "length": utf16_len(inner)})
            out.append(inner)
            length += utf16_len(inner)
            continue
        out.append(char)
        length += utf16_len(char)
        i += 1
    return "".join(out), entities


# ---------------------------------------------------------------- automatic entities

_AUTO_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("bot_command", re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?!\w)")),
    ("mention", re.compile(r"(?<![\w@/])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("url", re.compile(r"(?<![\w@])https?://[^\s<>\"]+[^\s<>\"\.,;:!?)\]'}]")),
]
# Telegram never detects entities inside these, nor overlapping them.
_OPAQUE = {
    "code",
    "pre",
    "text_link",
    "text_mention",
    "url",
    "email",
    "mention",
    "bot_command",
    "hashtag",
    "cashtag",
    "custom_emoji",
}


def detect_entities(text: str, existing: list[Entity]) -> list[Entity]:
    """Mentions, commands, hashtags and URLs Telegram finds on its own in any message text."""
    taken = [(e["offset"], e["offset"] + e["length"]) for e in existing if e["type"] in _OPAQUE]
    found: list[Entity] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(match.group(0))
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append({"type": kind, "offset": start, "length": end - start})
    return found


def sort_entities(entities: list[Entity]) -> list[Entity]:
    """Outer entities first, the order Telegram returns them in."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"], e["type"]))


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Telegram strips surrounding whitespace and shifts/clips entities to match."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    new_length = utf16_len(stripped)
    result: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, new_length)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


def clean_entities(text: str, raw: Any, lookup_user: UserLookup) -> list[Entity]:
    """Entities a client passed explicitly: keep the well-formed ones, clipped to the text."""
    if not isinstance(raw, list):
        return []
    total = utf16_len(text)
    result: list[Entity] = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        try:
            offset, length, kind = int(item["offset"]), int(item["length"]), str(item["type"])
        except (KeyError, TypeError, ValueError):
            continue
        end = min(offset + length, total)
        if offset < 0 or end <= offset:
            continue
        entity = {**item, "type": kind, "offset": offset, "length": end - offset}
        if kind == "text_mention":
            user_id = (item.get("user") or {}).get("id")
            user = lookup_user(int(user_id)) if user_id is not None else None
            if user is None:
                continue
            entity["user"] = user
        result.append(entity)
    return result


def format_text(
    source: str,
    parse_mode: str | None,
    explicit_entities: Any,
    lookup_user: UserLookup,
) -> tuple[str, list[Entity]]:
    """Everything Telegram does to an outgoing text before storing it."""
    mode = (parse_mode or "").lower()
    if explicit_entities is not None and not mode:
        text, entities = source, clean_entities(source, explicit_entities, lookup_user)
    elif mode == "html":
        text, entities = parse_html(source, lookup_user)
    elif mode == "markdownv2":
        text, entities = parse_markdown_v2(source, lookup_user)
    elif mode == "markdown":
        text, entities = parse_markdown(source, lookup_user)
    elif mode:
        raise ValueError(f"unsupported parse_mode {parse_mode!r}")
    else:
        text, entities = source, []
    entities = entities + detect_entities(text, entities)
    text, entities = trim(text, entities)
    return text, sort_entities(entities)
