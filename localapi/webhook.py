"""Webhook delivery: while a webhook is set, the model posts each pending update to its url.

As Telegram does: one update per request (JSON), with the secret in
`X-Telegram-Bot-Api-Secret-Token` when one was set; an update is confirmed (leaves the queue)
only by a 2xx answer; any other answer, a refused connection or a timeout is remembered
(getWebhookInfo's `last_error_date`/`last_error_message`) and the same update is posted again
after a pause, which grows, so none is skipped: updates go in update_id order, one at a time
(Telegram's `max_connections=1`, what the bot asks for). Each attempt is recorded in
`webhook_deliveries` (update_id, HTTP status or 0)."""

from __future__ import annotations

import asyncio
import contextlib
import json

import aiohttp

from localapi.records import Delivery
from localapi.state import ModelState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookSender(ModelState):
    """The delivery loop, started by setWebhook and ending when the webhook is removed."""

    # Seconds between attempts after a failure: doubling from the first to the last.
    webhook_retry_first = 0.05
    webhook_retry_last = 1.0
    webhook_timeout = 30.0  # seconds a delivery waits for its answer

    def _start_delivery(self) -> None:
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._post_pending())
        self._notify_updates()  # a loop waiting out a pause tries again at once

    async def stop_delivery(self) -> None:
        """Stop posting (the server stops; the webhook stays set)."""
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _post_pending(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
        pause = self.webhook_retry_first
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while self.webhook_url:
                batch = self._deliverable(1)
                if not batch:
                    await self._new_updates.wait(1.0)
                    continue
                update, url = batch[0], self.webhook_url
                status, error = await self._post(session, url, update.to_dict())
                self.webhook_deliveries.append(Delivery(update.update_id, status, url))
                if 200 <= status < 300:
                    self._updates = [u for u in self._updates if u.update_id != update.update_id]
                    pause = self.webhook_retry_first
                    self._notify()
                    continue
                self.webhook_last_error_date = self.now_date()
                self.webhook_last_error_message = error
                self._notify()
                await self._new_updates.wait(pause)
                pause = min(pause * 2, self.webhook_retry_last)

    async def _post(
        self, session: aiohttp.ClientSession, url: str, update: dict[str, object]
    ) -> tuple[int, str]:
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers[SECRET_HEADER] = self.webhook_secret
        try:
            async with session.post(url, data=json.dumps(update), headers=headers) as answer:
                await answer.read()
                return answer.status, f"Wrong response from the webhook: {answer.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return 0, f"Connection failed: {type(exc).__name__}"
