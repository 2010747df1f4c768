"""The message catalogue: one gettext .po file per language, read with Babel, keyed by id.

Every text the bot sends is `t(lang, "key", **params)`. Parameters are HTML-escaped unless
wrapped in `Html`, so user text can never break the parse mode or inject markup."""

from __future__ import annotations

import html
import string
from functools import cache
from importlib import resources
from typing import Any

from babel.messages.pofile import read_po

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"


class Html(str):
    """Already-rendered HTML that t() must not escape again."""


@cache
def catalogue(lang: str) -> dict[str, str]:
    source = resources.files("bot.texts") / "locale" / f"{lang}.po"
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


def keys(lang: str) -> set[str]:
    return set(catalogue(lang))


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def escape(value: Any) -> str:
    if isinstance(value, Html):
        return str(value)
    return html.escape(str(value), quote=False)


def t(lang: str, key: str, /, **params: Any) -> Html:
    """The text `key` in `lang` (falling back to German), with escaped parameters."""
    texts = catalogue(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    template = texts.get(key) or catalogue(DEFAULT_LANGUAGE).get(key)
    if template is None:
        raise KeyError(f"no text {key!r} in the catalogue")
    return Html(template.format(**{name: escape(value) for name, value in params.items()}))


def language_for_user(language_code: str | None, default: str) -> str:
    """A private chat follows the person's Telegram language where we have it."""
    if language_code:
        short = language_code.split("-")[0].lower()
        if short in LANGUAGES:
            return short
    return default
