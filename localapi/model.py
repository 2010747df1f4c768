"""BotApiModel: one in-memory Telegram that both fronts (in-process and HTTP) talk to."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from localapi import errors as err
from localapi.actions import UserActions
from localapi.errors import ApiError, NetworkFailure, RequestHung
from localapi.faults import DROP, Fault, Faults, method_name
from localapi.methods import API_METHODS, BotApiMethods
from localapi.params import Params, UploadedFile, plain_copy
from localapi.records import CallRecord, MessageRec, UpdateRec
from localapi.senders import ChatSenders
from localapi.transcript import render

_LOGGER = logging.getLogger(__name__)
_MAY_WAIT: dict[str, bool] = {}  # method name as called -> BotApiModel.may_wait


class BotApiModel(BotApiMethods, UserActions, ChatSenders):
    """Telegram's side of a conversation: the Bot API, the people, and their chats.

    Switch Telegram's rules with attributes: ``privacy_mode``, ``enforce_private_403``,
    ``group_limit_per_minute`` (None = off), ``callback_query_ttl``, ``emit_poll_updates``;
    switch faults on per method with ``faults.add`` (`localapi.faults`). While a webhook is
    set (setWebhook), updates are posted to it (`localapi.webhook`) instead of getUpdates.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.faults = Faults()

    # ------------------------------------------------------------ the one entry point

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        files: dict[str, UploadedFile] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Run a Bot API method; returns (HTTP status, Telegram-shaped answer)."""
        status, body = await self.call_json(method, params, files)
        return status, json.loads(body)

    async def call_json(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        files: dict[str, UploadedFile] | None = None,
    ) -> tuple[int, bytes]:
        """Run a Bot API method; returns (HTTP status, the answer as Telegram sends it)."""
        params = dict(params or {})
        files = dict(files or {})
        entry = API_METHODS.get(method.lower())
        name = entry[0] if entry else method
        result: Any = None
        try:
            if entry is None:
                # Telegram's answer, but say why in the log: the method may well exist there.
                _LOGGER.warning("localapi does not model the Bot API method %r", method)
                raise ApiError(404, err.METHOD_NOT_FOUND)
            fault = self.faults.take(name, params, after_acting=False, at=self.clock())
            if fault is not None:
                return await self._fault(fault, name, params, files)
            outcome = getattr(self, entry[1])(Params(params), files)
            result = await outcome if inspect.isawaitable(outcome) else outcome
        except ApiError as exc:
            self._record(name, params, files, exc.code, error=exc.description)
            self._log_failure(name, params, exc)
            return exc.code, json.dumps(exc.body()).encode()
        # Encoded at once: later changes never leak into an answer (or its record, which is
        # decoded from the same text when someone reads it).
        encoded = json.dumps(result)
        fault = self.faults.take(name, params, after_acting=True, at=self.clock())
        if fault is not None:  # Telegram acted; the answer is lost on its way back
            return await self._fault(fault, name, params, files, result_json=encoded)
        self._record(name, params, files, 200, result_json=encoded)
        return 200, b'{"ok": true, "result": ' + encoded.encode() + b"}"

    async def _fault(
        self,
        fault: Fault,
        name: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        result_json: str | None = None,
    ) -> tuple[int, bytes]:
        """What the client gets instead of the answer: an error answer, a dropped connection,
        or (a timeout) nothing until it gives up. Recorded first: a client that gives up
        cuts the hang short."""
        label = f"fault: {fault.label}"
        if fault.code is not None:
            error = err.forced_error(fault.code, fault.description, fault.retry_after)
            self._record(
                name, params, files, error.code, result_json, error.description, fault.label
            )
            self._log_failure(name, params, error)
            return error.code, json.dumps(error.body()).encode()
        self._record(name, params, files, 0, result_json, label, fault.label)
        if fault.kind == DROP:
            raise NetworkFailure(f"simulated dropped connection in {name}")
        await asyncio.sleep(self.faults.hang)
        raise RequestHung(f"simulated timeout in {name}")

    def may_wait(self, method: str) -> bool:
        """Whether a method can keep the caller waiting (getUpdates' long poll); all others
        answer at once."""
        waits = _MAY_WAIT.get(method)
        if waits is None:
            entry = API_METHODS.get(method.lower())
            waits = entry is not None and inspect.iscoroutinefunction(getattr(self, entry[1]))
            _MAY_WAIT[method] = waits
        return waits

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        status: int,
        result_json: str | None = None,
        error: str | None = None,
        fault: str | None = None,
    ) -> None:
        record = CallRecord(
            method=method,
            params=plain_copy(params),
            status=status,
            error=error,
            at=self.clock(),
            files={part: upload.filename or "" for part, upload in files.items()},
            result_json=result_json,
            fault=fault,
        )
        self.calls.append(record)
        for listener in self.call_listeners:
            listener(record)
        self._notify()

    def _log_failure(self, method: str, params: dict[str, Any], exc: ApiError) -> None:
        if method == "getUpdates":
            return
        chat_id = params.get("chat_id")
        try:
            chat_key = int(chat_id) if chat_id is not None else None
        except (TypeError, ValueError):
            chat_key = None
        if chat_key not in self.chats:
            chat_key = None
        self._log(chat_key, f"bot ✗ {method} failed: {exc.code} {exc.description}")

    # ------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
        *,
        network_error: bool = False,
    ) -> None:
        """Make the next `count` calls of `method` fail (or drop the connection) before
        Telegram acts: a shorthand of ``faults.add``.

        Without a description Telegram's usual wording is used; a 400 on
        answerCallbackQuery says "query is too old ..." like a late answer would.
        """
        name = method_name(method)
        if description is None and error_code == 400 and name == "answerCallbackQuery":
            description = err.QUERY_TOO_OLD
        self.faults.add(
            name,
            DROP if network_error else str(error_code),
            retry_after=retry_after,
            times=count,
            description=description,
        )

    def heal(self, method: str) -> None:
        """The failures still forced on `method` are dropped: it answers again."""
        self.faults.clear_method(method)

    def deliver_again(self, updates: Iterable[UpdateRec]) -> None:
        """Telegram delivers these updates again, as it does when the bot's confirmation (the
        offset of its next getUpdates) never arrived: queued once more, in update_id order."""
        queued = {update.update_id for update in self._updates}
        again = [update for update in updates if update.update_id not in queued]
        self._updates = sorted([*again, *self._updates], key=lambda update: update.update_id)
        self._notify_updates()

    # ------------------------------------------------------------ inspection

    def calls_of(self, method: str, ok: bool | None = None) -> list[CallRecord]:
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted and (ok is None or c.ok == ok)]

    @property
    def pending_updates(self) -> list[UpdateRec]:
        """Updates queued and not yet confirmed by the bot."""
        return list(self._updates)

    def messages(self, chat_id: int) -> list[MessageRec]:
        return sorted(self.chat(chat_id).messages.values(), key=lambda m: m.message_id)

    def bot_messages(self, chat_id: int | None = None) -> list[MessageRec]:
        """Messages the bot sent (deleted ones included, flagged), oldest first."""
        chats = [self.chat(chat_id)] if chat_id is not None else list(self.chats.values())
        found = [m for chat in chats for m in chat.messages.values() if m.by_bot]
        return sorted(found, key=lambda m: m.seq)

    def last_bot_message(self, chat_id: int) -> MessageRec | None:
        """The newest bot message in the chat that is still there."""
        alive = [m for m in self.bot_messages(chat_id) if not m.deleted]
        return alive[-1] if alive else None

    def message_view(self, msg: MessageRec) -> dict[str, Any]:
        """The message as Telegram would serialise it now."""
        return self.message_dict(msg)

    def commands_for(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """Exactly what setMyCommands stored for one scope and language."""
        return list(self.commands.get((self.scope_key(scope), language_code), []))

    def visible_commands(self, chat_id: int, user_id: int) -> list[dict[str, Any]]:
        """The command menu a user sees in a chat, by Telegram's scope precedence."""
        chat = self.chat(chat_id)
        language = self.user(user_id).language_code or ""
        if chat.type == "private":
            scopes: list[dict[str, Any]] = [
                {"type": "chat", "chat_id": chat_id},
                {"type": "all_private_chats"},
            ]
        else:
            is_admin = chat.members.get(user_id) in ("creator", "administrator")
            scopes = [{"type": "chat_member", "chat_id": chat_id, "user_id": user_id}]
            if is_admin:
                scopes.append({"type": "chat_administrators", "chat_id": chat_id})
            scopes.append({"type": "chat", "chat_id": chat_id})
            if is_admin:
                scopes.append({"type": "all_chat_administrators"})
            scopes.append({"type": "all_group_chats"})
        scopes.append({"type": "default"})
        for scope in scopes:
            for lang in (language, ""):
                found = self.commands.get((self.scope_key(scope), lang))
                if found:
                    return list(found)
        return []

    # ------------------------------------------------------------ waiting

    async def wait_for(
        self,
        predicate: Callable[[CallRecord], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a plain timeout reads best in tests
        *,
        since: int = 0,
    ) -> CallRecord:
        """The first recorded call (from index `since`) matching the predicate."""

        def check() -> CallRecord | None:
            return next((c for c in self.calls[since:] if predicate(c)), None)

        return await self.wait_until(check, timeout, "matching call")

    async def wait_for_call(
        self,
        method: str,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        since: int = 0,
        ok: bool | None = None,
    ) -> CallRecord:
        wanted = method.lower()
        return await self.wait_for(
            lambda c: c.method.lower() == wanted and (ok is None or c.ok == ok),
            timeout,
            since=since,
        )

    async def wait_for_message(
        self,
        chat_id: int,
        contains: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        after: int | None = None,
    ) -> MessageRec:
        """The first live bot message in the chat (newer than message id `after`, if given)
        whose text, caption or poll question contains `contains`."""

        def check() -> MessageRec | None:
            for msg in self.bot_messages(chat_id):
                if msg.deleted or (after is not None and msg.message_id <= after):
                    continue
                shown = " ".join(
                    part
                    for part in (msg.text, msg.caption, msg.poll.question if msg.poll else None)
                    if part
                )
                if contains is None or contains in shown:
                    return msg
            return None

        what = f"bot message in {chat_id}" + (f" containing {contains!r}" if contains else "")
        return await self.wait_until(check, timeout, what)

    async def wait_idle(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Until the bot has fetched every queued update (it may still be handling the last)."""
        await self.wait_until(lambda: not self._updates, timeout, "empty update queue")

    # ------------------------------------------------------------ transcript

    def transcript(self, chat_id: int | None = None, *, ids: bool = False) -> str:
        """A readable log of one chat (or all, interleaved) in the order things happened;
        ids=True shows message ids ("bot #12: ...") so edits and votes can be followed."""
        labels = {chat.id: chat.label for chat in self.chats.values()}
        return render(self.log, labels, chat_id, ids=ids)
