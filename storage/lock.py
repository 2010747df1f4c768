"""One bot per database (SPEC §9): the guard that a second `wiq-bot run`, a restore or a
migration meets while a bot holds the database.

SQLite serves one process that polls Telegram: two would fight over getUpdates (409s) and
over each group's budget. The guard is an exclusive `flock` on a file beside the database,
`<database>.lock`; the kernel releases it when the process ends, however it ends, so a
restart after a kill -9 (systemd's `Restart=on-failure`) is never refused, and no stale lock
is ever left to remove by hand. The file keeps who holds it, for the refusal's line.

This is the one place that decides what "holding the database" means: a deployment with
several webhook workers on PostgreSQL changes it here (an advisory lock, or one lock per
poller), and nowhere else."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType

from storage.db import PRIVATE


class DatabaseInUse(Exception):
    """Another process holds the database."""

    def __init__(self, database: Path, holder: str) -> None:
        super().__init__(f"another wiq-bot ({holder or 'pid unknown'}) holds {database}")
        self.database = database
        self.holder = holder


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


class DatabaseLock:
    """`with DatabaseLock(path).hold("pid 12 on host"):` … or `acquire`/`release`. Raises
    DatabaseInUse at once (it never waits) when another process holds it."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = lock_path(database)
        self._fd: int | None = None

    def acquire(self, holder: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held_by = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            raise DatabaseInUse(self.database, held_by) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode("utf-8") + b"\n", 0)
        self._fd = fd

    def release(self) -> None:
        """Release it (the file stays: removing it could let two processes each lock a
        different file of the same name)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def hold(self, holder: str) -> DatabaseLock:
        self.acquire(holder)
        return self

    def __enter__(self) -> DatabaseLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
