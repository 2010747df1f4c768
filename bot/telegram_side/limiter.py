"""The rate limiter of every Bot API call, which also tries a call made at once again when
Telegram failed it for a moment.

The outbox's calls (`bot_calls.QUEUED_ENDPOINTS`) pass through: the outbox retries them from
its table, without making anyone wait. Every other call is made at once, while a person or the
start waits for its answer: a press's answer (answerCallbackQuery), a member's status
(getChatMember), a chat's admins, an invite link, deleting a message, the command menus,
getMe and deleteWebhook at start. A 429 whose retry_after is short, a 5xx, a timeout or a
dropped connection is tried again a few times, after the outbox's back-off (`[limits]`
retry_base, doubling up to retry_max); anything else, or the last failure, goes to the caller
as before. Each such call is safe to repeat: Telegram's answer to a repeat after it acted is a
refusal the caller already expects ("query is too old", "message to delete not found") or a
second invite link nobody receives."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter

from bot.telegram_side.bot_calls import QUEUED_ENDPOINTS

log = logging.getLogger(__name__)

ATTEMPTS = 4  # a call made at once is tried at most this often
LONGEST_WAIT = 5.0  # seconds: a longer retry_after is not waited for (someone is waiting)

Answer = bool | dict[str, Any] | list[dict[str, Any]]


class RetryingLimiter(AIORateLimiter):
    """PTB's AIORateLimiter (the overall rate; no group limit: the outbox owns it), retrying
    what is made at once."""

    def __init__(
        self,
        *,
        overall_max_rate: float,
        retry_base: float = 1.0,
        retry_max: float = 60.0,
    ) -> None:
        super().__init__(overall_max_rate=overall_max_rate, group_max_rate=0)
        self.retry_base = retry_base
        self.retry_max = retry_max

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Answer:
        attempt = 1
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                if endpoint in QUEUED_ENDPOINTS or attempt >= ATTEMPTS or wait > LONGEST_WAIT:
                    raise
                error: Exception = exc
            except BadRequest:
                raise  # Telegram refused it: asking again changes nothing
            except NetworkError as exc:  # a 5xx, a timeout, a dropped connection
                if endpoint in QUEUED_ENDPOINTS or attempt >= ATTEMPTS:
                    raise
                wait = min(self.retry_base * 2.0 ** (attempt - 1), self.retry_max)
                error = exc
            log.warning(
                "event=call_retried method=%s attempt=%d wait_s=%.2f error=%r",
                endpoint,
                attempt,
                wait,
                str(error),
            )
            attempt += 1
            await asyncio.sleep(wait)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
