"""Switchable faults of the local Bot API, per method: Telegram failing the way it really does.

    api.faults.add(method="sendMessage", kind="429", retry_after=1)
    api.faults.add(method="editMessageText", kind="timeout", after_acting=True)
    api.faults.add(method="sendPoll", kind="drop", chat_id=ST, skip=1, times=2)

The kinds:

``"429"``
    Too Many Requests with ``retry_after`` (default 1 s). Telegram never acts on a request it
    answers with 429.
``"500"``, ``"502"`` (and any other error code, ``"400"``, ``"403"`` …, worded like Telegram)
    An error answer.
``"timeout"``
    The request hangs past the client's timeout: for ``hang`` seconds (keep it short in tests),
    then the client has given up (in process: ``telegram.error.TimedOut``; over HTTP the
    connection closes, unless the client's own timeout cut it earlier).
``"drop"``
    The connection drops without an answer (``telegram.error.NetworkError``).

``after_acting=True`` (for all but 429): Telegram did what was asked — the message is posted,
the poll stopped, the request approved — and then the answer was lost. That is the ambiguous
fault: the client cannot tell it from the same fault before acting, and its retry may do the
thing twice (at most once more, for the item that was in flight).

A fault hits the next ``times`` calls of its method that match (``chat_id``, ``match``) after
letting ``skip`` of them through — an after-acting fault only calls that Telegram carried out
(one it refuses, "message is not modified", answers as usual); faults of one method are taken
in the order they were added. Every fault dealt out is in ``injected``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localapi.methods import API_METHODS

TIMEOUT = "timeout"
DROP = "drop"
KINDS = ("429", "500", "502", TIMEOUT, DROP)  # the usual ones; any other error code works too


@dataclass
class Fault:
    """One switched-on fault; `hits` counts the calls it has hit so far."""

    method: str  # as the Bot API spells it
    kind: str
    retry_after: int | None = None
    times: int = 1
    after_acting: bool = False
    skip: int = 0
    chat_id: int | None = None
    match: Callable[[dict[str, Any]], bool] | None = None
    description: str | None = None
    hits: int = 0
    passed: int = 0  # matching calls let through (of `skip`)

    @property
    def spent(self) -> bool:
        return self.hits >= self.times

    @property
    def code(self) -> int | None:
        """The HTTP error code it answers with (None for a timeout or a drop)."""
        return None if self.kind in (TIMEOUT, DROP) else int(self.kind)

    @property
    def label(self) -> str:
        return f"{self.kind} {'after' if self.after_acting else 'before'} acting"

    def matches(self, params: dict[str, Any]) -> bool:
        if self.chat_id is not None and str(params.get("chat_id")) != str(self.chat_id):
            return False
        return self.match is None or bool(self.match(params))


@dataclass(frozen=True)
class Injection:
    """A fault that hit a call: which, and the call's parameters."""

    method: str
    kind: str
    after_acting: bool
    params: dict[str, Any] = field(repr=False)
    at: float = 0.0


def method_name(method: str) -> str:
    """The Bot API's spelling of a method; a name the model does not know is refused, so that
    a typo cannot make a fault that never fires."""
    entry = API_METHODS.get(method.lower())
    if entry is None:
        raise ValueError(f"localapi does not model the Bot API method {method!r}")
    return entry[0]


class Faults:
    """The faults switched on in one model (``model.faults``)."""

    def __init__(self) -> None:
        # How long a "timeout" holds the request: the client's read timeout, as the test has it.
        self.hang = 0.5
        self.injected: list[Injection] = []
        self._by_method: dict[str, list[Fault]] = {}  # lower-case name -> faults, in order

    def add(
        self,
        method: str,
        kind: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        after_acting: bool = False,
        skip: int = 0,
        chat_id: int | None = None,
        match: Callable[[dict[str, Any]], bool] | None = None,
        description: str | None = None,
    ) -> Fault:
        """Switch a fault on for the next `times` matching calls of `method` (after `skip`)."""
        name = method_name(method)
        kind = str(kind)
        if kind not in (TIMEOUT, DROP) and not (kind.isdigit() and 400 <= int(kind) < 600):
            raise ValueError(f"unknown fault kind {kind!r}: one of {', '.join(KINDS)} or a code")
        if kind == "429":
            if after_acting:
                raise ValueError("Telegram never acts on a request it answers with 429")
            retry_after = 1 if retry_after is None else retry_after
        if times < 1 or skip < 0:
            raise ValueError("times must be at least 1 and skip at least 0")
        fault = Fault(
            name, kind, retry_after, times, after_acting, skip, chat_id, match, description
        )
        self._by_method.setdefault(name.lower(), []).append(fault)
        return fault

    def armed(self, method: str) -> bool:
        """Whether some fault waits for this method (cheap: the fronts ask on every call)."""
        return bool(self._by_method.get(method.lower()))

    def take(
        self, method: str, params: dict[str, Any], *, after_acting: bool, at: float = 0.0
    ) -> Fault | None:
        """The fault that hits this call before Telegram acts, or (`after_acting`) once it
        has acted, if any (counted as dealt out)."""
        faults = self._by_method.get(method.lower())
        if not faults:
            return None
        for fault in faults:
            if fault.after_acting != after_acting or not fault.matches(params):
                continue
            if fault.passed < fault.skip:
                fault.passed += 1
                continue
            fault.hits += 1
            if fault.spent:
                faults.remove(fault)
            self.injected.append(
                Injection(fault.method, fault.kind, fault.after_acting, dict(params), at)
            )
            return fault
        return None

    def pending(self) -> list[Fault]:
        """The faults that have not hit all their calls yet."""
        return [fault for faults in self._by_method.values() for fault in faults]

    def clear_method(self, method: str) -> None:
        """Switch off the faults still waiting for one method."""
        self._by_method.pop(method_name(method).lower(), None)

    def clear(self) -> None:
        """Switch every fault off (what was injected stays in `injected`)."""
        self._by_method.clear()

    def counts(self) -> Counter[tuple[str, str, bool]]:
        """How many calls each (method, kind, after_acting) hit."""
        return Counter((i.method, i.kind, i.after_acting) for i in self.injected)
