"""Where a benchmark's time goes: a sampling profiler of the event loop's thread, for
`python -m bench.votes --profile`.

A timer signal looks at the main thread's stack every `interval` seconds while sampling is
on; each sample counts once for the function on top ("self"), once for every function on the
stack ("total"), and once for what it was doing (CATEGORIES: the phases of a press). A sample
whose top is the selector's wait is the event loop with nothing to run: waiting for SQLite's
thread (aiosqlite) or for I/O.

Unlike cProfile it does not slow each Python call down (cProfile makes python-telegram-bot's
many small calls look three times as costly as they are), so its shares are the process's own;
at 1 kHz it costs the process a few per cent, the same for the bot and for the floor."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

IDLE = "idle: the event loop waits (for SQLite's thread, or I/O)"

# What a sample was doing: the first of these whose pattern is in the name ("path:function")
# of any frame on the stack, in this order (so a Bot API call made by the outbox's flush counts
# as the flush, and one made to answer the press as the answer). A sample with the selector's
# wait on top is IDLE, whatever is below it.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("getUpdates: the inbox stores and screens the answer", ("telegram_side/inbox.py:receive",)),
    ("getUpdates: ptb reads the answer, the model answers", ("_bot.py:get_updates",)),
    ("inbox: the processor reads the update (de_json)", ("telegram_side/inbox.py:take",)),
    ("answerCallbackQuery: ptb and the model", ("_callbackquery.py:answer",)),
    ("outbox: the flush after the commit", ("telegram_side/outbox.py",)),
    ("guard: handlers/guard.py", ("handlers/guard.py",)),
    ("tracking: remember the sender", ("handlers/tracking.py",)),
    ("press handler: parse, flow, storage", ("proposals.py:press_response", "floor.py:on_press")),
    ("ptb: dispatch to the handlers (process_update)", ("_application.py:process_update",)),
    ("unit of work: BEGIN, COMMIT, the inbox mark, hooks", ("storage/db.py", "inbox.py:_in_unit")),
    ("update processors: ordering, the inbox's checks", ("_baseupdateprocessor.py",)),
    ("localapi: the model, driven by the bench", ("localapi/", "bench/")),
)
OTHER = "other: the event loop itself, tasks, futures"


def _name(frame: FrameType) -> str:
    code = frame.f_code
    path = code.co_filename
    for marker in ("site-packages/", "/wt-", "/lib/python3"):
        at = path.find(marker)
        if at >= 0:
            path = path[at + len(marker) :]
            break
    return f"{path}:{code.co_name}"


class Sampler:
    """Samples the main thread (the event loop's) while `sampling()` is on: a SIGALRM every
    `interval` seconds of wall time, whose handler Python runs in the main thread between two
    bytecodes, so it sees the stack that was running (a thread that sampled would see only
    the moments the main thread let go of the GIL: nearly always its wait in the selector)."""

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.samples = 0
        self.self_counts: Counter[str] = Counter()
        self.total_counts: Counter[str] = Counter()
        self.categories: Counter[str] = Counter()
        self.wall = 0.0  # seconds of sampling

    def _take(self, signum: int, top: FrameType | None) -> None:
        names = []
        frame = top
        while frame is not None:
            names.append(_name(frame))
            frame = frame.f_back
        if not names:
            return
        self.samples += 1
        self.self_counts[names[0]] += 1
        for name in set(names):
            self.total_counts[name] += 1
        if names[0].endswith("selectors.py:select"):
            self.categories[IDLE] += 1
            return
        stack = "\n".join(names)
        for category, patterns in CATEGORIES:
            if any(pattern in stack for pattern in patterns):
                self.categories[category] += 1
                return
        self.categories[OTHER] += 1

    @contextmanager
    def sampling(self) -> Iterator[None]:
        previous = signal.signal(signal.SIGALRM, self._take)
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, self.interval, self.interval)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.wall += time.perf_counter() - started
            signal.signal(signal.SIGALRM, previous)

    def report(self, label: str, per: int, top: int = 15) -> list[str]:
        """Lines: the categories, then the top functions by self and by total samples, each
        as a share of all samples and as µs per press (`per` presses sampled)."""
        if not self.samples:
            return [f"{label}: no samples"]
        lines = [
            f"{label}: {self.samples} samples in {self.wall:.2f} s over {per} presses"
            f" ({self.wall / per * 1e6:.0f} µs of wall time per press)"
        ]

        def line(count: int, name: str) -> str:
            share = count / self.samples
            return f"  {share:6.1%} {share * self.wall / per * 1e6:6.0f} µs/press  {name}"

        lines.append(" by what it was doing:")
        lines += [line(n, c) for c, n in self.categories.most_common()]
        lines.append(" by function, self:")
        lines += [line(n, f) for f, n in self.self_counts.most_common(top)]
        # On the stack of (nearly) every sample: the event loop and the bench's own frames.
        below = [(f, n) for f, n in self.total_counts.most_common() if n < 0.95 * self.samples]
        lines.append(" by function, total (on the stack; not those under nearly every sample):")
        lines += [line(n, f) for f, n in below[:top]]
        return lines
