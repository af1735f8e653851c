"""One process runs a SQLite store at a time: an advisory lock next to the database file.

Two runtimes executing the same store would both pick up its ready items and call the same
downstream systems twice (idempotency keys soften that, manual tasks and handlers do not
always honour them).  So running (``Runtime.run``, ``om run``, ``om resume``, ``om serve``)
takes an exclusive ``flock`` on ``<db>.runner.lock`` and a second runner is refused with a
clear error naming the holder.  ``<db>`` is the database's real path (symlinks and ``..``
resolved), so every spelling of one store takes the same lock: a symlink to the store used to
lock a file of its own, and a second ``om serve`` through it ran the store beside the first.

The commands that move items (retry, skip, signal...) are refused while another process runs
the store, since its scheduler would not see their changes; while nobody runs it they hold the
lock *shared* as they act (see :class:`RunnerLock`), so they never refuse each other and no
runner starts half-way through one.  Reading, claiming tasks and
the systems' switch take no lock (a running runtime reads the switch from the store, and
releases its own held callouts when a system comes back online).

The lock covers one file: a copy of the store at another path (a backup being checked) takes
a lock of its own.  So a runner, once it holds the lock, also refuses a copy made by
``om backup`` unless it is a restore (:func:`admit_runner`, :mod:`.restore`).

The kernel releases the lock when the process ends, however it ends (a SIGKILL included), so a
crashed runner never blocks its successor.  A ``:memory:`` database or a non-SQLite store is
private to its process and needs no lock; neither does a platform without ``fcntl``.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from om_dsl.errors import OmError
from om_dsl.runtime.states import ORDER_TERMINAL, OrderState
from om_dsl.runtime.store.restore import StoreIsBackup
from om_dsl.runtime.store.sqlite import SqliteStore, StoreError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: nothing to lock with
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("om_dsl.runtime")
UNFINISHED = frozenset(state.value for state in OrderState if state not in ORDER_TERMINAL)
"""The order states a runner resumes (what a refused backup copy would have resumed)."""
ACTIONS_S = 10.0
"""How long a runner that starts waits for the actions under way of runtimes that do not run
the store (each holds the lock shared for one action: milliseconds)."""
NAME_S = 0.5
"""How long a refused caller waits for a runner that has just taken the lock to write its name."""
POLL_S = 0.005


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
    :meth:`release`; and, for the actions of runtimes that do not run it, :meth:`shared`.

    Runtimes that do not run the store may still act on it (submit, retry, signal...): their
    changes wait in the store for the next run.  Each such action holds the lock *shared*
    while it works, which tells them whether a runner holds it (they are refused then) and
    keeps a runner from starting half-way through (it would not see the change).  Shared
    holders never refuse each other, so any number of processes and threads act at once;
    they used to probe by taking and dropping the exclusive lock, and two probes that met
    refused each other as if the store were being run.  A runner that starts while actions
    hold the lock waits for them (they take milliseconds), up to :data:`ACTIONS_S` seconds.
    """

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self.path = lock_path(db_path)
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`StoreInUse` when another runner holds it (never
        waits for a runner; waits for actions of runtimes that do not run the store)."""
        if self._file is not None or fcntl is None:
            return
        handle = self.path.open("a+", encoding="utf-8")
        try:
            self._lock(handle, fcntl.LOCK_EX)
        except BaseException:
            handle.close()
            raise
        _write_name(handle)
        self._file = handle

    def release(self) -> None:
        """Give the lock up (closing the file releases it); harmless when not held.  The
        holder's name goes first, so nobody reads it as the name of the next runner."""
        handle, self._file = self._file, None
        if handle is None:
            return
        try:
            handle.seek(0)
            handle.truncate()
        except OSError:  # pragma: no cover - the name is a courtesy; the lock goes anyway
            pass
        handle.close()

    @contextmanager
    def shared(self) -> Iterator[None]:
        """Hold the lock shared for one action of a runtime that does not run the store.

        Raises:
            StoreInUse: a runner holds it.
        """
        if self._file is not None or fcntl is None:
            yield
            return
        with self.path.open("a+", encoding="utf-8") as handle:
            self._lock(handle, fcntl.LOCK_SH)
            yield

    def runner(self) -> str | None:
        """Who runs the store now (``pid 4242 on host``), or None: nobody, or it cannot be
        told (a lock file this account may not open).  For hints: `om status` suggested
        `om retry` while `om serve` ran the store, and the command was refused (exit 7).

        A read: the lock file is opened for reading, never made (`om status`, which reads a
        store read-only, left a ``.runner.lock`` beside a backup copy).  No file: no runner."""
        if self._file is not None or fcntl is None:
            return None
        try:
            with self.path.open(encoding="utf-8") as handle:
                self._lock(handle, fcntl.LOCK_SH)
                return None
        except StoreInUse as exc:
            return exc.holder or "another process"
        except OSError:
            return None

    def _lock(self, handle: IO[str], mode: int) -> None:
        """Take ``handle``'s lock in ``mode`` (``LOCK_EX`` to run, ``LOCK_SH`` to act).

        Refused only because of a runner: an exclusive lock that is held only shared
        (actions) is waited for.  A runner that has just taken the lock may not have
        written its name yet, so a refusal waits up to :data:`NAME_S` for it: a refusal
        names the runner (it used to name nobody, and called a runtime of this process
        "another process").
        """
        start = time.monotonic()
        while not _try(handle, mode):
            if mode == fcntl.LOCK_EX and _try(handle, fcntl.LOCK_SH):
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)  # only actions: they end soon
                if time.monotonic() - start >= ACTIONS_S:
                    raise self._busy()
            else:
                holder = _holder(handle)
                if holder or time.monotonic() - start >= NAME_S:
                    raise self._in_use(holder)
            time.sleep(POLL_S)

    def _in_use(self, holder: str) -> StoreInUse:
        if holder == _me():
            return StoreInUse(
                f"the store {self.db_path} is being run by another Runtime of this "
                "process; one runtime runs a store at a time: act through that one",
                "another Runtime of this process",
            )
        named = f" ({holder})" if holder else ""
        return StoreInUse(
            f"the store {self.db_path} is being run by another process{named}; one "
            "process runs a store at a time: use that process (its API, or stop it) "
            "instead",
            f"another process{named}",
        )

    def _busy(self) -> StoreInUse:
        return StoreInUse(
            f"the store {self.db_path} could not be run: runtimes that do not run it kept "
            f"acting on it (submitting, retrying...) for {ACTIONS_S:g} s without a pause; "
            "try again",
            "runtimes acting on the store",
        )


def lock_path(db_path: str) -> Path:
    """The lock file of the store at ``db_path``: next to the database file itself.

    The path is resolved now, symlinks and ``..`` included: every spelling of one store
    (``alias/om.db`` a symlink to ``s2/om.db``, ``./x/../om.db``) must take the same lock, and
    a host that changes its working folder later must still lock this store.  The database
    file itself is not locked: closing any descriptor of it would drop the POSIX locks that
    SQLite holds on it in this process (and a hard link is no way to share a SQLite store:
    its journal files are named after the path).
    """
    return Path(f"{os.path.realpath(db_path)}.runner.lock")


def _try(handle: IO[str], mode: int) -> bool:
    try:
        fcntl.flock(handle.fileno(), mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _write_name(handle: IO[str]) -> None:
    """Write who holds the lock into its file, unbuffered: on a full disk the name is lost
    but the lock is held all the same (the name is a courtesy).  A buffered write left bytes
    that the next flush, at release, failed on again; the restart of a service on a full
    disk was an internal error (exit 3) instead of the store's own "disk is full"."""
    try:
        os.ftruncate(handle.fileno(), 0)
        os.pwrite(handle.fileno(), f"{_me()}\n".encode(), 0)  # "a+": appends to the empty file
    except OSError:
        pass


def _me() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    return handle.read(200).strip()


def admit_runner(store: object) -> None:
    """Let the runner that has just taken the lock run ``store``, unless it is a backup copy.

    A copy made by ``om backup`` is refused (:class:`StoreIsBackup`, naming how many orders
    running it would resume) unless it was opened as a restore (``SqliteStore(path,
    restored=True)``): it is accepted then, its mark cleared and a new event id epoch started
    (see :mod:`om_dsl.runtime.store.restore`).  The lock's holder calls it, so no other
    runner accepts the same copy meanwhile.  Other stores have no mark.

    Raises:
        StoreIsBackup: the store is a backup copy, not opened as a restore.
    """
    if not isinstance(store, SqliteStore):
        return
    if store.restored:
        mark = store.accept_restore()
        if mark is not None:
            log.warning(
                "%s is restored from the backup of %s taken %s: its unfinished orders resume, "
                "and its events have ids om-<seq>-%s from now on (cancel requests cpo-<seq>-%s)",
                store.path, mark.source, mark.taken_at, store.event_id_epoch,
                store.event_id_epoch,
            )  # fmt: skip
        return
    refuse_backup(store)


def refuse_backup(store: object) -> None:
    """Refuse to run ``store`` if it is a backup copy not opened as a restore: a read, so
    that a runner checks it before it makes its lock file (see :func:`admit_runner`).

    Raises:
        StoreIsBackup: the store is a backup copy, not opened as a restore.
    """
    if not isinstance(store, SqliteStore) or store.restored:
        return
    mark = store.backup_mark()
    if mark is not None:
        unfinished = len(store.orders(states=UNFINISHED))
        raise StoreIsBackup(store.path, mark, unfinished)


def refuse_backup_file(path: str | Path) -> None:
    """Refuse to run the store file at ``path`` if it is a backup copy, reading it
    read-only, before anything opens it to write.

    Opening a store to write changes the file before a runner can refuse it: its journal
    mode becomes WAL (a header write), an older store's schema is upgraded, and the runner
    lock file is made; a backup kept by checksum, or on read-only storage, then failed its
    check.  `om serve`, `om run` and `om resume` call this first, unless ``--restored``.  A
    file that is no readable om store is left to the opening, which says what is wrong.

    Raises:
        StoreIsBackup: the file is a backup copy made by ``om backup``.
    """
    if not Path(path).is_file():
        return
    try:
        store = SqliteStore(path, read_only=True)
    except StoreError:
        return
    try:
        refuse_backup(store)
    finally:
        store.close()


def runner_lock_for(store: object) -> RunnerLock | None:
    """The lock that running ``store`` needs: only a SQLite store in a file has one."""
    path = getattr(store, "path", None)
    if not isinstance(path, str) or path == ":memory:" or path.startswith("file::memory:"):
        return None
    return RunnerLock(path) if isinstance(store, SqliteStore) else None
