"""One process runs a SQLite store at a time: an advisory lock next to the database file.

Two runtimes executing the same store would both pick up its ready items and call the same
downstream systems twice (idempotency keys soften that, manual tasks and handlers do not
always honour them).  So running (``Runtime.run``, ``om run``, ``om resume``, ``om serve``)
takes an exclusive ``flock`` on ``<db>.runner.lock`` and a second runner is refused with a
clear error naming the holder.  The commands that move items (retry, skip, signal...) are
refused while another process runs the store, since its scheduler would not see their changes;
reading, claiming tasks and the systems' switch take no lock (a running runtime reads the
switch from the store, and releases its own held callouts when a system comes back online).

The kernel releases the lock when the process ends, however it ends (a SIGKILL included), so a
crashed runner never blocks its successor.  A ``:memory:`` database or a non-SQLite store is
private to its process and needs no lock; neither does a platform without ``fcntl``.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import IO

from om_dsl.errors import OmError
from om_dsl.runtime.store.sqlite import SqliteStore

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: nothing to lock with
    fcntl = None  # type: ignore[assignment]


class StoreInUse(OmError):
    """Another process is running this store.

    ``holder`` names it (``pid 4242 on host``, or ``another Runtime of this process``), so a
    command that goes on without the lock (``om systems online``) can say who acts instead.
    """

    def __init__(self, message: str, holder: str = "") -> None:
        super().__init__(message)
        self.holder = holder


class RunnerLock:
    """The exclusive right to run the store at ``db_path``, held from :meth:`acquire` to
    :meth:`release`."""

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        # absolute now: a host that changes its working folder later still locks this store
        self.path = Path(f"{db_path}.runner.lock").absolute()
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`StoreInUse` at once (never waits)."""
        if self._file is not None or fcntl is None:
            return
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(handle)
            handle.close()
            if holder == f" (pid {os.getpid()} on {socket.gethostname()})":
                raise StoreInUse(
                    f"the store {self.db_path} is being run by another Runtime of this "
                    "process; one runtime runs a store at a time: act through that one",
                    "another Runtime of this process",
                ) from None
            raise StoreInUse(
                f"the store {self.db_path} is being run by another process{holder}; one "
                "process runs a store at a time: use that process (its API, or stop it) "
                "instead",
                f"another process{holder}",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Give the lock up (closing the file releases it); harmless when not held."""
        handle, self._file = self._file, None
        if handle is not None:
            handle.close()


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    text = handle.read(200).strip()
    return f" ({text})" if text else ""


def runner_lock_for(store: object) -> RunnerLock | None:
    """The lock that running ``store`` needs: only a SQLite store in a file has one."""
    path = getattr(store, "path", None)
    if not isinstance(path, str) or path == ":memory:" or path.startswith("file::memory:"):
        return None
    return RunnerLock(path) if isinstance(store, SqliteStore) else None
