"""The hardened adapter around durable-rules: the only module in om_dsl that imports ``durable``.

durable-rules (a Rete engine with a C core) keeps process-global state and is not
thread-safe. Measured here (durable-rules 2.0.28, see ``benchmarks/durable_probe.py``):

* rulesets can never be unregistered (the C ``delete_ruleset`` is not exposed by the Python
  ``Host`` and is reported to crash, jruizgit/rules#136);
* at most 1,024 sessions (states) live per ruleset: ``createStateNode`` in ``src/rules/state.c``
  fails with ``MemoryError`` past ``MAX_STATE_INDEX_LENGTH`` (1024, ``rete.h``);
* sessions and facts are identified by a 32-bit FNV-1a hash of their id string
  (``fnv1Hash32`` in ``state.c``; ``getStateNode`` and ``storeMessage`` compare hashes only,
  never the strings). Two sids with the same hash share one session (``"s31597"`` and
  ``"s618190"`` do), and a fact whose id hash equals a live fact's is silently dropped as
  "already observed" (``"f6059"`` and ``"f264602"``);
* ``Host.__init__`` starts two ``threading.Timer`` chains (``Host._run``: ``dispatch_ruleset``
  and ``dispatch_timers``) that poll every ruleset from a background thread; under session
  churn that thread segfaults;
* batch asserts (``assert_facts`` / ``post_batch``) crash on a later ``delete_state``;
* an exception raised inside an action is caught by ``Promise.run`` and only stored in the
  session state as ``exception``: it is never raised to the caller;
* a condition that can match durable's own per-session state fact
  (``{"sid": ..., "id": "sid-<sid>", "$s": 1}``), such as a lone ``$nex``, loops forever,
  because every action re-asserts that state fact (``Ruleset._flush_actions`` calls
  ``update_state``);
* the package does not build or import on Python 3.13.

The guards applied here:

* a ``Host`` subclass whose ``_run`` does nothing, so no dispatcher or timer thread ever starts;
  actions run synchronously inside ``Host.assert_fact`` (``Host._handle_function`` ->
  ``Ruleset.do_actions`` -> ``start_action_for_state`` / ``complete_and_start_action``);
* one process-wide lock around every call into durable;
* explicit fact ids and sids set by us; every fact carries a marker field that each rule
  requires, so no rule can ever match durable's state fact;
* rulesets named by a caller-provided content hash and registered once per process
  (same name and same definition again: no-op; a different definition: error);
* per ruleset, a pool of at most :data:`MAX_SESSIONS_PER_RULESET` sids, chosen so that their
  32-bit hashes are pairwise distinct, leased to one run at a time and reused;
* one fact asserted at a time, never a batch; each fact is retracted once its matches are
  collected, so a session never holds more than durable's state fact and one of our facts
  (no id-hash collision is possible, and memory stays flat: keeping 20k facts in a session
  cost ~100 MB, retracting them ~2 MB and was faster);
* ``delete_state`` for the run's sid in ``finally``;
* our durable actions never raise (they only record ``(rule, fact id)``); the caller's
  ``on_match`` runs outside durable and outside the lock, and its exceptions are collected and
  raised after the run as one :class:`DurableEngineError`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from om_dsl.errors import OmError

__all__ = [
    "FACT_MARKER",
    "MAX_SESSIONS_PER_RULESET",
    "RESERVED_FACT_KEYS",
    "UNAVAILABLE_MESSAGE",
    "DurableEngineError",
    "DurableRuleset",
    "DurableUnavailable",
    "allocate_distinct_hash_ids",
    "durable_available",
    "durable_hash",
    "find_hash_collisions",
]

_log = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE: Final = (
    "the durable engine needs durable-rules, which is only available on Python < 3.13; "
    "use --engine compiled"
)

#: Never more live sessions per ruleset than this (durable's hard limit is 1,024).
MAX_SESSIONS_PER_RULESET: Final = 1000
#: Never more registered rulesets per process than this: they can never be unregistered.
MAX_RULESETS: Final = 4096
#: Field added to every fact we assert, and required by every rule.
FACT_MARKER: Final = "om_fact"
#: Keys a caller's fact must not contain: we set them.
RESERVED_FACT_KEYS: Final = frozenset({"sid", "id", FACT_MARKER})
#: Default bound on facts asserted in one run (initial plus produced), against chaining cycles.
DEFAULT_MAX_FACTS: Final = 1_000_000
#: How many individual errors a DurableEngineError lists in its message.
_MAX_LISTED_ERRORS: Final = 20
#: How many error objects a run keeps (the rest are only counted).
_MAX_KEPT_ERRORS: Final = 100
#: Seconds a run waits for a free session before giving up.
_LEASE_TIMEOUT_S: Final = 60.0

_NAME_RE: Final = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_FNV32_OFFSET: Final = 0x811C9DC5
_FNV32_PRIME: Final = 0x01000193
_U32: Final = 0xFFFFFFFF
# durable's C error code for "sid not found" (ERR_SID_NOT_FOUND), seen in
# "Could not delete state, error code: 309".
_ERR_SID_NOT_FOUND: Final = "error code: 309"


class DurableUnavailable(OmError):
    """durable-rules cannot be imported here (e.g. Python >= 3.13)."""


class DurableEngineError(OmError):
    """A run on the durable engine failed; ``errors`` holds the original exceptions."""

    def __init__(self, message: str, errors: Iterable[BaseException] = ()) -> None:
        super().__init__(message)
        self.errors: list[BaseException] = list(errors)


# --------------------------------------------------------------------------------------------
# Hashing, as durable's C core does it.


def durable_hash(text: str) -> int:
    """The 32-bit hash durable's C core uses to identify a sid or a fact id.

    Mirrors ``fnv1Hash32`` in durable-rules ``src/rules/state.c``: FNV-1a over the UTF-8
    bytes, where each byte is a C ``char`` (signed on x86-64), so bytes >= 0x80 are
    sign-extended before the XOR.
    """
    value = _FNV32_OFFSET
    for byte in text.encode("utf-8"):
        value ^= byte if byte < 0x80 else (byte - 0x100) & _U32
        value = (value * _FNV32_PRIME) & _U32
    return value


def find_hash_collisions(ids: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs of distinct ids whose :func:`durable_hash` is equal, in input order."""
    first_by_hash: dict[int, str] = {}
    collisions: list[tuple[str, str]] = []
    for item in ids:
        value = durable_hash(item)
        seen = first_by_hash.get(value)
        if seen is None:
            first_by_hash[value] = item
        elif seen != item:
            collisions.append((seen, item))
    return collisions


def allocate_distinct_hash_ids(
    prefix: str, count: int, avoid: Iterable[str] = (), *, start: int = 0
) -> list[str]:
    """``count`` ids ``prefix + n`` (n from ``start`` up) whose hashes are pairwise distinct
    and distinct from the hashes of ``avoid``; a colliding candidate is skipped."""
    taken = {durable_hash(item) for item in avoid}
    chosen: list[str] = []
    number = start
    while len(chosen) < count:
        candidate = f"{prefix}{number}"
        number += 1
        value = durable_hash(candidate)
        if value not in taken:
            taken.add(value)
            chosen.append(candidate)
    return chosen


# --------------------------------------------------------------------------------------------
# Process-wide durable state. Everything below touches durable only under _DURABLE_LOCK.

_DURABLE_LOCK: Final = threading.Lock()


class _Process:
    """durable's process-global objects, created lazily under ``_DURABLE_LOCK``."""

    engine_module: Any = None
    import_error: BaseException | None = None
    host: Any = None
    registry: dict[str, _Registered] = {}


def _load_engine() -> Any:
    """Import ``durable.engine`` once (caller holds the lock); raise DurableUnavailable."""
    if _Process.engine_module is not None:
        return _Process.engine_module
    if _Process.import_error is None:
        try:
            from durable import engine  # noqa: PLC0415 - imported only when first needed
        except ImportError as exc:
            _Process.import_error = exc
        else:
            engine.json = _DurableJson  # see _DurableJson
            _Process.engine_module = engine
            return engine
    raise DurableUnavailable(
        f"{UNAVAILABLE_MESSAGE} (Python {sys.version_info.major}.{sys.version_info.minor}: "
        f"{_Process.import_error})"
    ) from _Process.import_error


_EXPONENT_ONLY = re.compile(r'("(?:[^"\\]|\\.)*")|(?<![0-9.])(-?[0-9]+)([eE][-+]?[0-9]+)')
"""A JSON string (kept as it is), or a number with an exponent and no fraction."""


class _DurableJson:
    """What ``durable.engine`` sees as its ``json`` module.

    durable's C parser refuses a number with an exponent but no fraction (error 204 on the
    fact, or on the whole ruleset for such a literal), and Python writes ``1e-05`` and
    ``1e+16`` just so: an ordinary decimal like 0.00001 failed on durable only.  Numbers
    written this way get ``.0`` before the exponent, which is the same value.
    """

    loads = staticmethod(json.loads)

    @staticmethod
    def dumps(value: Any, **options: Any) -> str:
        text = json.dumps(value, **options)
        if not _MAYBE_EXPONENT.search(text):  # the common case: one C scan, no rewriting
            return text
        return _EXPONENT_ONLY.sub(_with_fraction, text)


_MAYBE_EXPONENT = re.compile(r"[0-9][eE]")


def _with_fraction(match: re.Match[str]) -> str:
    string, whole, exponent = match.groups()
    return string if string is not None else f"{whole}.0{exponent}"


def durable_available() -> bool:
    """True when durable-rules can be imported in this interpreter."""
    with _DURABLE_LOCK:
        try:
            _load_engine()
        except DurableUnavailable:
            return False
        return True


def _no_dispatch_thread(self: Any) -> None:
    """Replaces ``Host._run``, which ``Host.__init__`` calls to start the ``dispatch_ruleset``
    and ``dispatch_timers`` ``threading.Timer`` chains. Every action runs synchronously inside
    ``Host.assert_fact`` instead, so that thread must never exist."""
    return None


def _no_ruleset_loading(self: Any, ruleset_name: str) -> Any:
    """Replaces ``Host.load_ruleset``: an unknown ruleset is a bug here, never a lookup."""
    raise DurableEngineError(f"durable ruleset {ruleset_name!r} is not registered")


def _get_host() -> Any:
    """The one process-wide Host, with durable's background threads off (lock held)."""
    if _Process.host is None:
        engine = _load_engine()
        threadless_host = type(
            "ThreadlessHost",
            (engine.Host,),
            {
                "__doc__": "durable Host without its dispatcher and timer threads.",
                "_run": _no_dispatch_thread,
                "load_ruleset": _no_ruleset_loading,
            },
        )
        _Process.host = threadless_host()
    return _Process.host


# --------------------------------------------------------------------------------------------
# Conditions.


def _normalize_condition(rule_id: str, condition: Mapping[str, Any]) -> dict[str, Any]:
    """The single-fact m-expression of one rule.

    Accepted forms: ``{"m": expr}``, ``{"all": [{"m": expr}]}`` and
    ``{"any": [{"m": e1}, {"m": e2}, ...]}`` (taken as ``{"$or": [e1, e2, ...]}``).
    """
    if not isinstance(condition, Mapping):
        raise ValueError(f"rule {rule_id!r}: the condition must be a JSON object")
    keys = set(condition)
    if keys == {"m"}:
        expr = condition["m"]
    elif keys == {"all"}:
        patterns = condition["all"]
        if not isinstance(patterns, list) or len(patterns) != 1:
            raise ValueError(
                f"rule {rule_id!r}: 'all' must hold exactly one {{'m': ...}} pattern "
                "(rules match one fact at a time)"
            )
        expr = _single_pattern(rule_id, patterns[0])
    elif keys == {"any"}:
        patterns = condition["any"]
        if not isinstance(patterns, list) or not patterns:
            raise ValueError(f"rule {rule_id!r}: 'any' must be a non-empty list")
        branches = [_single_pattern(rule_id, pattern) for pattern in patterns]
        expr = branches[0] if len(branches) == 1 else {"$or": branches}
    else:
        raise ValueError(
            f"rule {rule_id!r}: expected {{'m': ...}}, {{'all': [...]}} or {{'any': [...]}}, "
            f"got keys {sorted(keys)}"
        )
    if not isinstance(expr, Mapping):
        raise ValueError(f"rule {rule_id!r}: the m-expression must be a JSON object")
    try:
        canonical: dict[str, Any] = json.loads(json.dumps(expr, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"rule {rule_id!r}: the condition is not plain JSON: {exc}") from exc
    return canonical


def _single_pattern(rule_id: str, pattern: Any) -> Any:
    if not isinstance(pattern, Mapping) or set(pattern) != {"m"}:
        raise ValueError(
            f"rule {rule_id!r}: each pattern must be {{'m': expr}} (one fact per rule)"
        )
    return pattern["m"]


def _guarded(expr: dict[str, Any]) -> dict[str, Any]:
    """``expr`` and the marker: a rule can then never match durable's own state fact."""
    marker = {FACT_MARKER: 1}
    if not expr:
        return marker
    return {"$and": [marker, expr]}


# --------------------------------------------------------------------------------------------
# Registered rulesets and their session pools.


@dataclass(slots=True)
class _Sink:
    """Where the durable actions record matches while one fact is being asserted."""

    sid: str
    fact_id: str
    rule_indexes: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Registered:
    name: str
    fingerprint: str
    rule_ids: tuple[str, ...]
    # Session pool; guarded by ``pool_cond`` (never held together with the durable lock).
    pool_cond: threading.Condition = field(default_factory=threading.Condition)
    all_sids: list[str] = field(default_factory=list)
    free_sids: deque[str] = field(default_factory=deque)
    leased: set[str] = field(default_factory=set)
    poisoned: set[str] = field(default_factory=set)
    # Set only while a fact is asserted, under the durable lock.
    sink: _Sink | None = None

    def lease(self) -> str:
        with self.pool_cond:
            while True:
                if self.free_sids:
                    sid = self.free_sids.popleft()
                    break
                if len(self.all_sids) < MAX_SESSIONS_PER_RULESET:
                    (sid,) = allocate_distinct_hash_ids(
                        "s", 1, self.all_sids, start=len(self.all_sids)
                    )
                    self.all_sids.append(sid)
                    break
                if not self.pool_cond.wait(timeout=_LEASE_TIMEOUT_S):
                    raise DurableEngineError(
                        f"durable ruleset {self.name!r}: all {MAX_SESSIONS_PER_RULESET} "
                        f"sessions stayed busy for {_LEASE_TIMEOUT_S:.0f} s "
                        f"({len(self.poisoned)} lost to failed clean-ups)"
                    )
            self.leased.add(sid)
            return sid

    def give_back(self, sid: str, *, clean: bool) -> None:
        with self.pool_cond:
            self.leased.discard(sid)
            if clean:
                self.free_sids.append(sid)
            else:
                # Its state may still be live in durable: never reuse it, keep counting it.
                self.poisoned.add(sid)
            self.pool_cond.notify()


def _make_action(registered: _Registered, index: int) -> Callable[[Any], None]:
    """The durable action of rule ``index``: record the match, never raise.

    durable calls it as ``func(c)`` (``Promise`` requires exactly one parameter); ``c.m`` is
    the matched fact as durable stored it. Anything raised here would be swallowed by
    ``Promise.run`` into the session state, so problems are recorded instead.
    """

    def action(c: Any) -> None:
        try:
            sink = registered.sink
            fact = c.m
            sid = str(fact["sid"]) if fact is not None else None
            fact_id = str(fact["id"]) if fact is not None else None
            if sink is None:
                _log.error("durable fired rule %d of %s outside a run", index, registered.name)
            elif sid != sink.sid or fact_id != sink.fact_id:
                sink.problems.append(
                    f"durable fired rule {registered.rule_ids[index]!r} for fact "
                    f"{fact_id!r} in session {sid!r} while fact {sink.fact_id!r} was being "
                    f"asserted in session {sink.sid!r}"
                )
            else:
                sink.rule_indexes.append(index)
        except Exception as exc:  # pragma: no cover - defensive: must never escape to durable
            if registered.sink is not None:
                registered.sink.problems.append(f"recording a durable match failed: {exc!r}")

    return action


def _register(name: str, rule_ids: tuple[str, ...], exprs: list[dict[str, Any]]) -> _Registered:
    fingerprint = json.dumps(
        [[rule_id, expr] for rule_id, expr in zip(rule_ids, exprs, strict=True)],
        sort_keys=True,
        separators=(",", ":"),
    )
    with _DURABLE_LOCK:
        _load_engine()  # DurableUnavailable first, whatever is registered
        existing = _Process.registry.get(name)
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise DurableEngineError(
                    f"durable ruleset {name!r} is already registered with a different "
                    "definition; rulesets cannot be unregistered, so name each one by the hash "
                    "of its content"
                )
            return existing
        if len(_Process.registry) >= MAX_RULESETS:
            raise DurableEngineError(
                f"{MAX_RULESETS} durable rulesets are registered in this process and durable "
                "cannot unregister any; restart the process or use --engine compiled"
            )
        host = _get_host()
        registered = _Registered(name=name, fingerprint=fingerprint, rule_ids=rule_ids)
        definition = {
            f"r{index}": {
                "all": [{"m": _guarded(expr)}],
                "run": _make_action(registered, index),
            }
            for index, expr in enumerate(exprs)
        }
        try:
            host.register_rulesets({name: definition})
        except Exception as exc:
            raise DurableEngineError(
                f"durable rejected ruleset {name!r}: {exc}", errors=[exc]
            ) from exc
        _Process.registry[name] = registered
        return registered


# --------------------------------------------------------------------------------------------
# Facts.


def _check_fact(fact: Any, where: str) -> None:
    """A fact must be a JSON object with string keys, none reserved, and plain JSON values."""
    if not isinstance(fact, Mapping):
        raise ValueError(f"{where}: a fact must be a JSON object, got {type(fact).__name__}")
    for key, value in fact.items():
        if not isinstance(key, str):
            raise ValueError(f"{where}: fact keys must be strings, got {key!r}")
        if key in RESERVED_FACT_KEYS or key.startswith("$"):
            raise ValueError(
                f"{where}: fact key {key!r} is reserved by the durable engine "
                f"(reserved: {sorted(RESERVED_FACT_KEYS)} and keys starting with '$')"
            )
        kind = type(value)
        if kind is str or kind is bool or value is None:
            continue  # the common case, kept fast
        _check_value(value, where)


def _check_value(root: Any, where: str) -> None:
    stack: list[Any] = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, bool) or value is None or isinstance(value, str):
            continue
        elif isinstance(value, int):
            if not _INT64_MIN <= value <= _INT64_MAX:
                raise ValueError(f"{where}: integer {value} does not fit durable's 64 bits")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"{where}: {value} is not a JSON number")
        else:
            raise ValueError(f"{where}: {type(value).__name__} is not a JSON value")


def _format_errors(name: str, errors: list[tuple[str, BaseException | str]], total: int) -> str:
    lines = [f"durable ruleset {name!r}: {total} error(s) during the run:"]
    for where, error in errors[:_MAX_LISTED_ERRORS]:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        lines.append(f"  - {where}: {text}")
    if total > _MAX_LISTED_ERRORS:
        lines.append(f"  ... and {total - _MAX_LISTED_ERRORS} more")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The public ruleset.


class DurableRuleset:
    """One registered ruleset.

    ``conditions`` maps rule id -> durable JSON condition, in durable's ruleset format, one
    fact per rule: ``{"m": expr}`` (also ``{"all": [{"m": expr}]}`` or
    ``{"any": [{"m": e1}, ...]}``), e.g.
    ``{"m": {"$and": [{"product": "HomeInternet"}, {"$gt": {"speed": 100}}]}}``.
    Their order is the order in which :meth:`run` reports the rules a fact matched.

    ``name`` is a caller-provided content hash (letters, digits and ``_.:-``): the ruleset
    is registered in durable once per process; the same name with the same conditions is a
    no-op, with different ones a :class:`DurableEngineError`.
    """

    def __init__(self, name: str, conditions: dict[str, dict[str, Any]]) -> None:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ValueError(
                f"durable ruleset name {name!r} must be 1-128 letters, digits or '_.:-'"
            )
        if not conditions:
            raise ValueError(f"durable ruleset {name!r} has no rules")
        rule_ids = tuple(conditions)
        for rule_id in rule_ids:
            if not isinstance(rule_id, str) or not rule_id:
                raise ValueError(f"durable ruleset {name!r}: rule ids must be non-empty strings")
        exprs = [_normalize_condition(rule_id, conditions[rule_id]) for rule_id in rule_ids]
        self._name = name
        self._rule_ids = rule_ids
        self._registered = _register(name, rule_ids, exprs)

    @property
    def name(self) -> str:
        return self._name

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return self._rule_ids

    def session_stats(self) -> dict[str, int]:
        """Bookkeeping of this ruleset's sessions (shared by every object with this name).

        ``created`` is an upper bound on the sessions durable may hold for the ruleset; it
        never exceeds :data:`MAX_SESSIONS_PER_RULESET`."""
        registered = self._registered
        with registered.pool_cond:
            return {
                "created": len(registered.all_sids),
                "free": len(registered.free_sids),
                "leased": len(registered.leased),
                "poisoned": len(registered.poisoned),
            }

    def run(
        self,
        facts: Iterable[dict[str, Any]],
        on_match: Callable[[str, dict[str, Any]], Iterable[dict[str, Any]]],
        *,
        max_facts: int = DEFAULT_MAX_FACTS,
    ) -> None:
        """Assert ``facts`` and call ``on_match(rule_id, fact)`` for every rule each matches.

        Guarantees:

        * facts are processed breadth-first: first the given facts in order, then the facts
          returned by ``on_match`` for them (in call order), then theirs, and so on; each
          returned fact is asserted in turn (forward chaining);
        * for one fact, ``on_match`` is called once per matching rule, in the order of
          ``conditions``, whatever order durable fired them in; it receives the fact object
          that was given or returned (not durable's copy), and it runs outside durable and
          outside the durable lock (it may itself use the durable engine);
        * exceptions raised by ``on_match`` do not stop the run (the facts that call would
          have returned are lost); after the run and its clean-up they are raised together
          as one :class:`DurableEngineError` whose ``errors`` holds the originals and whose
          message names each rule and fact (``fact #n`` counts facts in processing order);
        * the run's durable session is deleted in ``finally``: no state leaks into the next
          run, and the same fact content fires again in a later run.

        ``ValueError`` is raised before anything is asserted if a given fact is not a JSON
        object of plain JSON values or uses a reserved key (``sid``, ``id``, ``om_fact``,
        ``$...``);
        a produced fact with that problem is reported as an error of the run. More than
        ``max_facts`` facts in one run (a chaining cycle) aborts it with DurableEngineError.
        """
        initial = list(facts)
        for position, fact in enumerate(initial):
            _check_fact(fact, f"fact #{position}")
        registered = self._registered
        sid = registered.lease()
        touched = bool(initial)  # with no fact, nothing is asserted and no state is created
        finished = False
        fired: list[bool] = []  # gets an entry once durable handles a fact (a rule fired)
        try:
            errors, total = self._drive(sid, initial, on_match, max_facts, fired)
            finished = True
        finally:
            cleanup_problem = self._end_session(sid, touched, bool(fired))
            if cleanup_problem is not None:
                pending = sys.exc_info()[1]
                if pending is not None:
                    pending.add_note(f"durable clean-up also failed: {cleanup_problem!r}")
                elif finished:
                    raise DurableEngineError(
                        f"durable ruleset {self._name!r}: deleting the state of session "
                        f"{sid!r} failed: {cleanup_problem}",
                        errors=[cleanup_problem],
                    ) from cleanup_problem
        if total:
            originals = [error for _, error in errors if isinstance(error, BaseException)]
            raised = DurableEngineError(_format_errors(self._name, errors, total), originals)
            if originals:
                raise raised from originals[0]
            raise raised

    # -- internals ---------------------------------------------------------------------------

    def _drive(
        self,
        sid: str,
        initial: list[dict[str, Any]],
        on_match: Callable[[str, dict[str, Any]], Iterable[dict[str, Any]]],
        max_facts: int,
        fired: list[bool],
    ) -> tuple[list[tuple[str, BaseException | str]], int]:
        queue: deque[dict[str, Any]] = deque(initial)
        errors: list[tuple[str, BaseException | str]] = []
        total = 0
        state_id_hash = durable_hash(f"sid-{sid}")
        next_number = 0
        sequence = 0
        while queue:
            if sequence >= max_facts:
                raise DurableEngineError(
                    f"durable ruleset {self._name!r}: more than {max_facts} facts in one run; "
                    "is there a cycle in the forward chaining?"
                )
            fact = queue.popleft()
            # Fact ids are ours: unique in the run, and never hash-equal to durable's state
            # fact "sid-<sid>" (the only other message the session holds).
            fact_id = f"f{next_number}"
            while durable_hash(fact_id) == state_id_hash:
                next_number += 1
                fact_id = f"f{next_number}"
            next_number += 1
            matched = self._assert_one(sid, fact_id, fact, fired)
            for index in matched:
                rule_id = self._rule_ids[index]
                try:
                    produced = on_match(rule_id, fact)
                    new_facts = [] if produced is None else list(produced)
                    for offset, new_fact in enumerate(new_facts):
                        _check_fact(new_fact, f"fact #{offset} returned for rule {rule_id!r}")
                except Exception as exc:
                    total += 1
                    if len(errors) < _MAX_KEPT_ERRORS:
                        errors.append((f"rule {rule_id!r} on fact #{sequence}", exc))
                    continue
                queue.extend(new_facts)
            sequence += 1
        return errors, total

    def _assert_one(
        self, sid: str, fact_id: str, fact: Mapping[str, Any], fired: list[bool]
    ) -> list[int]:
        """Assert one fact, collect the rules it fired, retract it. Returns rule indexes in
        ``conditions`` order; ``fired`` gets an entry once durable has handled a fact."""
        payload = dict(fact)
        payload["sid"] = sid
        payload["id"] = fact_id
        payload[FACT_MARKER] = 1
        registered = self._registered
        sink = _Sink(sid=sid, fact_id=fact_id)
        with _DURABLE_LOCK:
            engine = _load_engine()
            host = _get_host()
            registered.sink = sink
            try:
                # MessageNotHandledException: no rule matched, nothing fired or was stored.
                with contextlib.suppress(engine.MessageNotHandledException):
                    host.assert_fact(self._name, payload)
                    if not fired:  # handled: the session now holds what a rule made of it
                        fired.append(True)
                # Only sid and id identify a fact to retract (ACTION_RETRACT_FACT looks the
                # message up by id); it is a no-op for a fact that matched nothing.
                host.retract_fact(self._name, {"sid": sid, "id": fact_id})
            except DurableEngineError:
                raise
            except Exception as exc:
                raise DurableEngineError(
                    f"durable ruleset {self._name!r} failed on a fact: {exc}", errors=[exc]
                ) from exc
            finally:
                registered.sink = None
        if sink.problems:
            raise DurableEngineError(f"durable ruleset {self._name!r}: " + "; ".join(sink.problems))
        return sorted(set(sink.rule_indexes))

    def _end_session(self, sid: str, touched: bool, fired: bool) -> Exception | None:
        """``delete_state`` for the run's sid and give the sid back (or retire it).

        A session where durable handled no fact (no rule ever fired) is given back without
        ``delete_state``: durable 2.0.28 crashes the process in it then (``free(): invalid
        pointer``, SIGABRT or SIGSEGV; found with an order none of whose conditions held).
        Nothing of such a run is stored (each unmatched fact is refused,
        MessageNotHandledException), so the next run on the sid starts as clean as after a
        delete: tests run a no-match order, then matching ones, on one sid and compare with
        the compiled engine.
        """
        problem: Exception | None = None
        if touched and fired:
            with _DURABLE_LOCK:
                try:
                    _get_host().delete_state(self._name, sid)
                except Exception as exc:
                    if _ERR_SID_NOT_FOUND not in str(exc):  # no state was ever created
                        problem = exc
        if problem is not None:
            _log.error("durable: deleting session %s of %s failed: %r", sid, self._name, problem)
        self._registered.give_back(sid, clean=problem is None)
        return problem


def _debug_session_exists(name: str, sid: str) -> bool:
    """Whether durable holds state for ``sid`` in ruleset ``name`` (for tests)."""
    with _DURABLE_LOCK:
        try:
            _get_host().get_state(name, sid)
        except Exception as exc:
            if _ERR_SID_NOT_FOUND in str(exc):
                return False
            raise
        return True
