"""End to end: a poll that went out twice because the process died after Telegram posted it
and before its outbox row was marked sent (the one duplicate the outbox allows). Answers to
either poll count — each person once, with their last answer — and the second poll is stopped,
with a pointer to the first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from localapi.records import MessageRec
from tests.harness import (
    ANNA,
    BERT,
    CARL,
    DORA,
    EVE,
    KT,
    THE_FOUR,
    Harness,
    start_bot,
)
from tests.test_e2e_elections import NET, eve_and_bert_stand


def dies_once_a_poll_went_out(h: Harness) -> None:
    """From now on the process 'dies' right after a poll went out and was recorded, before
    its row is marked sent: the row stays in flight, as a kill -9 at that moment leaves it."""
    rows = h.outbox.rows
    mark = rows.done

    async def done(item_id: int, status: str, **kwargs: Any) -> None:
        if kwargs.get("poll_id") is None:
            await mark(item_id, status, **kwargs)

    rows.done = done  # type: ignore[method-assign]


async def restarted(h: Harness) -> Harness:
    """The next process on the same database and Telegram; it finds the poll's row in flight
    and posts it again. Its stopPoll of the second poll does not get through at first, so
    that members can still answer the second poll for a moment."""
    await h.stop()
    h.model.fail_next("stopPoll", network_error=True)
    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()
    await again.settle()
    return again


def polls(h: Harness, chat_id: int) -> list[MessageRec]:
    return [m for m in h.model.bot_messages(chat_id) if m.poll is not None]


def pointers(h: Harness, chat_id: int) -> list[MessageRec]:
    """The bot's replies that say which of two polls to answer."""
    return [m for m in h.model.bot_messages(chat_id) if "Abgestimmt wird in" in (m.text or "")]


async def test_a_vote_poll_sent_twice_counts_both_once_each_and_stops_the_second(
    tmp_path: Path,
) -> None:
    h = await start_bot(tmp_path, extra='[policy.KT]\nprocess = "majority"\n')
    await h.set_up_team("KT", THE_FOUR, chat=KT)
    dies_once_a_poll_went_out(h)
    await h.say(KT, ANNA, "/propose 1d Gleich abstimmen")
    [first] = polls(h, KT)
    assert first.poll is not None
    h.model.answer_poll(first.poll.id, ANNA, [0])  # Ja, while the bot is down
    h.model.answer_poll(first.poll.id, BERT, [1])  # Nein
    again = await restarted(h)
    try:
        first_poll, second = polls(again, KT)
        assert first_poll.message_id == first.message_id and second.poll is not None
        assert not second.poll.is_closed, "its stop did not get through yet"
        again.model.answer_poll(second.poll.id, ANNA, [1])  # Anna changes her mind: Nein
        again.model.answer_poll(second.poll.id, CARL, [0])  # Ja
        await again.settle()
        again.clock.advance(again.config.limits.retry_base + 0.1)
        await again.outbox.flush_all()
        assert again.model.polls[second.poll.id].is_closed, "the second poll is stopped"
        assert not again.model.polls[first.poll.id].is_closed, "the first stays open"
        assert [m.reply_to for m in pointers(again, KT)] == [first.message_id]

        again.model.answer_poll(first.poll.id, DORA, [2])  # Enthaltung, on the first
        await again.settle()  # everyone has answered: the vote closes early
        await again.due(1)
        result = next(t for t in reversed(again.bot_texts(KT)) if "Mehrheitsabstimmung zu #1" in t)
        # Anna counted once, with her last answer; Bert, Carl and Dora from either poll.
        assert "Ja 1 · Nein 2 · Enthaltung 1 – 4 Stimmen gezählt" in result
        assert "Abgelehnt" in result
        assert again.model.polls[first.poll.id].is_closed
        assert len(polls(again, KT)) == 2
        assert not again.model.calls_of("stopPoll", ok=False)[1:], "no poll stopped twice"
    finally:
        await again.stop()


async def test_an_election_poll_sent_twice_counts_both_and_stops_the_second(
    tmp_path: Path,
) -> None:
    h = await start_bot(tmp_path)
    dies_once_a_poll_went_out(h)
    first = await eve_and_bert_stand(h, "3d")
    h.model.answer_poll(first.id, ANNA, [0])  # Eve
    h.model.answer_poll(first.id, CARL, [1])  # Bert
    again = await restarted(h)
    try:
        first_message, second = polls(again, NET)
        assert first_message.poll is not None and first_message.poll.id == first.id
        assert second.poll is not None
        assert [o.text for o in second.poll.options] == [o.text for o in first.options]
        again.model.answer_poll(second.poll.id, CARL, [0])  # Carl changes to Eve
        again.model.answer_poll(second.poll.id, DORA, [0])  # Eve
        again.model.answer_poll(second.poll.id, EVE, [1])  # Bert
        await again.settle()
        again.clock.advance(again.config.limits.retry_base + 0.1)
        await again.outbox.flush_all()
        assert again.model.polls[second.poll.id].is_closed
        assert not again.model.polls[first.id].is_closed
        assert [m.reply_to for m in pointers(again, NET)] == [first_message.message_id]

        await again.due(3 * 86400 + 1)
        result = next(t for t in reversed(again.bot_texts(NET)) if "Ergebnis der Wahl" in t)
        # Eve: Anna, Carl (his last ballot), Dora; Bert: Eve. Carl counted once.
        assert "Eve: 3" in result and "Bert: 1" in result, result
        assert again.model.polls[first.id].is_closed
    finally:
        await again.stop()
