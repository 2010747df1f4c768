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
second invite link nobody receives.

Every attempt of every call but getUpdates (the long poll, which python-telegram-bot never
rate-limits; the heartbeat's age tells of it) is counted here, the outbox's and the at-once
ones alike (`bot.ops.metrics.call`): by its method, one of `bot_calls.ENDPOINTS` or `other`,
and by how it ended (`metrics.OUTCOMES`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter

from bot.ops import metrics
from bot.telegram_side.bot_calls import ENDPOINTS, QUEUED_ENDPOINTS

log = logging.getLogger(__name__)

ATTEMPTS = 4  # a call made at once is tried at most this often
LONGEST_WAIT = 5.0  # seconds: a longer retry_after is not waited for (someone is waiting)

Answer = bool | dict[str, Any] | list[dict[str, Any]]


class _NoTracebackFor429(logging.Filter):
    """AIORateLimiter retries a 429 itself never (max_retries 0) and logs each one as an ERROR
    with a traceback; a 429 is expected, and the outbox or this limiter says in one line what
    it does about it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Rate limit hit after maximum of")


_QUIET = _NoTracebackFor429()


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
        logging.getLogger("telegram.ext.AIORateLimiter").addFilter(_QUIET)  # once: the same one
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
        method = endpoint if endpoint in ENDPOINTS else "other"  # a bounded label
        queued = endpoint in QUEUED_ENDPOINTS
        # AIORateLimiter limits only what goes to a chat (its overall rate counts those); a
        # call to none, such as a press's answer, it would only hand on — unless a 429 made
        # it hold every call, which it does only when it retries calls itself (max_retries or
        # a call's rate_limit_args; this limiter's own retries are below, and the bot asks it
        # for none). So such a call skips it: the same call, without its layers of coroutines.
        limited = (
            data.get("chat_id") is not None
            or bool(data.get("allow_paid_broadcast"))
            or bool(rate_limit_args or self._max_retries)
        )
        attempt = 1
        while True:
            try:
                if limited:
                    answer = await super().process_request(
                        callback, args, kwargs, endpoint, data, rate_limit_args
                    )
                else:
                    answer = await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                again = not queued and attempt < ATTEMPTS and wait <= LONGEST_WAIT
                # The outbox queues its own again, always.
                metrics.call(method, "retry_after", retried=queued or again)
                if not again:
                    raise
                error: Exception = exc
            except BadRequest as exc:
                # Telegram refused it: asking again changes nothing.
                metrics.call(method, _refusal(exc))
                raise
            except NetworkError as exc:  # a 5xx, a timeout, a dropped connection
                again = not queued and attempt < ATTEMPTS
                metrics.call(method, "network_error", retried=queued or again)
                if not again:
                    raise
                wait = min(self.retry_base * 2.0 ** (attempt - 1), self.retry_max)
                error = exc
            except Forbidden:
                metrics.call(method, "forbidden")
                raise
            except ChatMigrated:
                metrics.call(method, "migrated")
                raise
            except Exception:
                metrics.call(method, "error")
                raise
            else:
                metrics.call(method, "ok")
                return answer
            log.warning(
                "event=call_retried method=%s attempt=%d wait_s=%.2f error=%r",
                endpoint,
                attempt,
                wait,
                str(error),
            )
            attempt += 1
            await asyncio.sleep(wait)


def _refusal(exc: BadRequest) -> str:
    """An edit to what the message says already is done, not refused (the outbox takes it
    as sent)."""
    return "not_modified" if "not modified" in exc.message.lower() else "refused"


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
