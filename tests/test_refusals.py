"""Refusals (bot/charter/refusals.py): one type, named refusals of the charter, and one way a
handler tells the person (handlers.common.refuse)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from bot.charter import refusals
from bot.charter.refusals import Refusal
from bot.services import SERVICES_KEY, Deployment
from bot.texts.i18n import t
from handlers.common import refuse


def test_a_named_refusal_gets_its_values_as_a_new_refusal() -> None:
    refusal = refusals.NOT_PROPOSER.with_params(id=7)
    assert refusal.key == "refused.not_proposer" and refusal.params == {"id": 7}
    assert refusals.NOT_PROPOSER.params == {}  # the shared one is unchanged
    assert refusal != refusals.NOT_PROPOSER
    assert refusal == Refusal("refused.not_proposer", id=7)


def test_a_refusal_cannot_be_changed() -> None:
    with pytest.raises(TypeError):
        refusals.CLOSED.params["id"] = 1  # type: ignore[index]  # the point: it is read-only
    with pytest.raises(AttributeError):
        refusals.CLOSED.key = "refused.vote_open"  # type: ignore[misc]  # the point: it is frozen


@dataclass
class FakeQuery:
    answers: list[dict[str, Any]] = field(default_factory=list)

    async def answer(self, **kwargs: Any) -> None:
        self.answers.append(kwargs)


@dataclass
class FakeOutbox:
    sent: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)

    async def send(self, chat_id: int, text: str, **kwargs: Any) -> None:
        self.sent.append((chat_id, text, kwargs))


def _update_and_context(query: FakeQuery | None) -> tuple[Any, Any, FakeOutbox]:
    outbox = FakeOutbox()
    services = SimpleNamespace(outbox=outbox, language_for=lambda chat_type, user_lang: "de")
    update = SimpleNamespace(
        callback_query=query,
        effective_chat=SimpleNamespace(id=-100, type="supergroup"),
        effective_user=SimpleNamespace(language_code="de"),
        effective_message=SimpleNamespace(message_id=5),
    )
    return update, SimpleNamespace(bot_data={SERVICES_KEY: Deployment([services])}), outbox


async def test_a_refused_command_is_answered_in_the_chat() -> None:
    update, context, outbox = _update_and_context(None)
    await refuse(update, context, refusals.NOT_PROPOSER, id=7)
    [(chat_id, text, options)] = outbox.sent
    assert chat_id == -100 and text == t("de", "refused.not_proposer", id=7)
    assert text.startswith("Das kann nur, wer #7 vorgeschlagen hat")
    assert options["reply_to"] == 5


async def test_a_refused_press_is_answered_with_an_alert() -> None:
    query = FakeQuery()
    update, context, outbox = _update_and_context(query)
    await refuse(update, context, Refusal("refusal.already_bound", team="PT"))
    assert outbox.sent == []
    [answer] = query.answers
    assert answer["show_alert"] is True
    assert answer["text"].startswith("Dieser Chat gehört schon zum PT.")
