"""The simulator engine: idempotency, effects log, auth, faults, async answers, admin API.

A downstream system is just a name and a route table; everything that makes it useful for
testing an orchestrator lives here, once:

* mutating requests with an ``Idempotency-Key`` are applied once; repeats replay the stored
  answer and are counted, so tests can assert "exactly one effect per key";
* faults (config or ``X-Sim-Fault``) are recorded as requests, never as effects;
* async mode answers 202 and POSTs the result to ``X-Callback-Url`` later.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .callbacks import CallbackDispatcher, CallbackJob, check_callback_url
from .core import (
    CALLBACK_URL,
    CORRELATION_ID,
    IDEMPOTENCY_KEY,
    MUTATING_METHODS,
    PREFER,
    SIM_FAULT,
    HttpError,
    Json,
    JsonObject,
    Reply,
    Request,
)
from .faults import FaultPlan, FaultState, SimConfig
from .ids import Counters
from .routing import Route, RouteTable
from .server import LoopbackServer

ADMIN_PREFIX = "/_sim/"


@dataclass(frozen=True)
class _Stored:
    """The first successful answer for an idempotency key, replayed on repeats."""

    method: str
    path: str
    reply: Reply


class Simulator(LoopbackServer):
    """A downstream system over real HTTP on 127.0.0.1.

    Args:
        name: system name (``billing``); used in logs, thread names and generic ids.
        routes: the system's endpoints.
        config: start-up faults and token; ``reset()`` returns to it.
        on_reset: clears the system's own resources when the simulator is reset.
    """

    def __init__(
        self,
        name: str,
        routes: Iterable[Route],
        config: SimConfig | None = None,
        *,
        on_reset: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(name)
        self._routes = RouteTable(routes)
        self._initial = config or SimConfig()
        self._initial.validate()
        self._faults = FaultState(self._initial)
        self._on_reset = on_reset
        self._lock = threading.Lock()
        self._ops = Counters()
        self._callbacks = CallbackDispatcher(name, self.stopping)
        self._effects: list[JsonObject] = []
        self._requests: list[JsonObject] = []
        self._stored: dict[str, _Stored] = {}
        self._admin = RouteTable(self._admin_routes())

    # ----------------------------------------------------------------- Python API for tests

    @property
    def config(self) -> SimConfig:
        """The configuration in force."""
        return self._faults.config

    def configure(self, **faults: Any) -> SimConfig:
        """Change faults (merged into the current config); ``ValueError`` on bad values."""
        config = self._faults.config.merged(faults)
        self._faults.reconfigure(config)
        return config

    def clear_faults(self) -> SimConfig:
        """Go back to the start-up configuration without touching the logs."""
        self._faults.reconfigure(self._initial)
        return self._initial

    def reset(self) -> None:
        """Forget effects, requests, stored keys, resources and ids; restore start-up config."""
        with self._lock:
            self._effects.clear()
            self._requests.clear()
            self._stored.clear()
            self._ops.clear()
            if self._on_reset is not None:
                self._on_reset()
        self._callbacks.clear()
        self._faults.reconfigure(self._initial)

    def effects(self, key: str | None = None) -> list[JsonObject]:
        """Applied effects, oldest first, optionally only those for one idempotency key."""
        with self._lock:
            return [dict(e) for e in self._effects if key is None or e["key"] == key]

    def effect_count(self, key: str) -> int:
        """How many times the effect for ``key`` was applied (1 is the only right answer)."""
        return len(self.effects(key))

    def requests(self) -> list[JsonObject]:
        """Every request received (replays and faults included), credentials redacted."""
        with self._lock:
            return [dict(r) for r in self._requests]

    def callbacks(self) -> list[dict[str, Json]]:
        """Async result deliveries and how they went."""
        return self._callbacks.records()

    def wait_callbacks(self, timeout: float = 5.0) -> bool:
        """Block until every scheduled callback was delivered or given up."""
        return self._callbacks.wait_idle(timeout)

    def stats(self) -> JsonObject:
        """Counts of requests, effects, replays and faults, in total and per path and route."""
        with self._lock:
            requests, effects = list(self._requests), len(self._effects)
        outcomes = Counter(str(r["outcome"]) for r in requests)
        return {
            "name": self.name,
            "requests": len(requests),
            "effects": effects,
            "replays": outcomes["replay"],
            "faults": outcomes["fault"] + outcomes["timeout"],
            "outcomes": dict(outcomes),
            "callbacks": dict(Counter(str(c["state"]) for c in self.callbacks())),
            "per_path": _group(requests, "path"),
            "per_route": _group(requests, "route"),
        }

    def on_stop(self) -> None:
        self._callbacks.close()

    # ----------------------------------------------------------------- request pipeline

    def handle(self, request: Request) -> Reply:
        if request.path.startswith(ADMIN_PREFIX):
            return self._handle_admin(request)
        entry = self._log_request(request)
        try:
            reply, outcome = self._serve(request, entry)
        except HttpError as exc:
            reply, outcome = Reply(exc.status, exc.body), _error_outcome(exc.status)
        with self._lock:
            entry["status"], entry["outcome"] = reply.status, outcome
        return reply

    def _log_request(self, request: Request) -> JsonObject:
        fields: JsonObject = {
            "method": request.method,
            "path": request.path,
            "route": None,
            "query": request.query,
            "headers": request.redacted_headers(),
            "body": request.logged_body(),
            "key": request.header(IDEMPOTENCY_KEY),
            "correlation_id": request.header(CORRELATION_ID),
            "status": None,
            "outcome": "in_progress",
        }
        with self._lock:
            entry = {"seq": len(self._requests) + 1, **fields}
            self._requests.append(entry)
        return entry

    def _serve(self, request: Request, entry: JsonObject) -> tuple[Reply, str]:
        self._check_auth(request)
        route, request.params = self._routes.resolve(request.method, request.path)
        entry["route"] = route.name
        _ = request.body  # 400 on invalid JSON before any fault or effect
        plan = self._plan(request)
        if plan.latency_ms and self.stopping.wait(plan.latency_ms / 1000):
            return Reply(503, drop=True), "timeout"
        if plan.fails and not plan.after_effect:
            return self._fail(plan, request)
        reply, outcome = self._execute(route, request, plan)
        if plan.fails:  # after_effect: the work is done but the answer is lost
            return self._fail(plan)
        return reply, outcome

    def _check_auth(self, request: Request) -> None:
        token = self._faults.config.token
        if token and request.header("Authorization") != f"Bearer {token}":
            raise HttpError(401, "unauthorized")

    def _plan(self, request: Request) -> FaultPlan:
        prefer = (request.header(PREFER) or "").lower()
        return self._faults.plan(
            request.path, request.header(SIM_FAULT), prefer_async="respond-async" in prefer
        )

    def _fail(self, plan: FaultPlan, request: Request | None = None) -> tuple[Reply, str]:
        """The fault's answer; with ``replay_failures`` a status fault of a request that did
        no work (``request`` given) is kept under its key, as a system that stores every
        answer does."""
        if plan.timeout_s is not None:
            stopped = self.stopping.wait(plan.timeout_s)
            return Reply(504, {"error": "simulated timeout"}, drop=stopped), "timeout"
        status = plan.fail_status or 503
        reply = Reply(status, {"error": "simulated fault", "status": status, "system": self.name})
        if request is not None:
            with self._lock:
                self._keep_failure(request, reply)
        return reply, "fault"

    def _keep_failure(self, request: Request, reply: Reply) -> None:
        """With ``replay_failures``, store a failed answer under the request's key (unless one
        is stored already), so that a repeat gets it again (Stripe's idempotency does this);
        the caller holds the lock."""
        key = request.header(IDEMPOTENCY_KEY)
        if not self._faults.config.replay_failures or request.method not in MUTATING_METHODS:
            return
        if key and key not in self._stored:
            self._stored[key] = _Stored(request.method, request.path, reply)

    def _execute(self, route: Route, request: Request, plan: FaultPlan) -> tuple[Reply, str]:
        if request.method not in MUTATING_METHODS:
            with self._lock:
                reply = _run(route, request)
            return reply, "ok" if reply.ok else "rejected"
        key = request.header(IDEMPOTENCY_KEY)
        callback_url = check_callback_url(request.header(CALLBACK_URL)) if plan.async_mode else ""
        with self._lock:
            if key and key in self._stored:
                return self._replay(self._stored[key], request)
            if plan.async_mode:
                return self._accept_async(route, request, plan, callback_url)
            reply = _run(route, request)
            if not reply.ok:
                self._keep_failure(request, reply)
                return reply, "rejected"
            self._record_effect(request, reply, key)
            return reply, "effect"

    def _replay(self, stored: _Stored, request: Request) -> tuple[Reply, str]:
        if (stored.method, stored.path) != (request.method, request.path):
            raise HttpError(
                422,
                "Idempotency-Key reused for a different request",
                original=f"{stored.method} {stored.path}",
            )
        headers = (*stored.reply.headers, ("Idempotent-Replayed", "true"))
        return Reply(stored.reply.status, stored.reply.body, headers), "replay"

    def _record_effect(
        self, request: Request, reply: Reply, key: str | None, answer: Reply | None = None
    ) -> None:
        """Log the effect and remember the answer under its key; the caller holds the lock.

        ``answer`` is what the client got when it differs from the result (the 202 of an async
        request), so that a replay answers exactly as the first attempt did.
        """
        operation = answer.body.get("id") if answer is not None else None
        self._effects.append(
            {
                "seq": len(self._effects) + 1,
                "key": key,
                "method": request.method,
                "path": request.path,
                "body": request.body,
                "status": reply.status,
                "response": reply.body,
                "correlation_id": request.header(CORRELATION_ID),
                "operation_id": operation,
            }
        )
        if key:
            self._stored[key] = _Stored(request.method, request.path, answer or reply)

    def _accept_async(
        self, route: Route, request: Request, plan: FaultPlan, callback_url: str
    ) -> tuple[Reply, str]:
        """Answer 202 now and schedule the callback; a failed outcome applies no effect."""
        operation = self._ops.make_id("OP")
        accepted = Reply(202, {"status": "accepted", "id": operation})
        if plan.callback_status == "failed":
            reason = self._faults.config.callback_reason
            self._schedule(request, plan, callback_url, operation, {"reason": reason})
            self._keep_failure(request, accepted)  # a repeat: the same 202, no new callback
            return accepted, "accepted_failing"
        result = _run(route, request)
        if not result.ok:
            self._keep_failure(request, result)
            return result, "rejected"
        key = request.header(IDEMPOTENCY_KEY)
        self._record_effect(request, result, key, accepted)
        self._schedule(request, plan, callback_url, operation, result.body)
        return accepted, "accepted"

    def _schedule(
        self, request: Request, plan: FaultPlan, url: str, operation: str, result: Json
    ) -> None:
        body = dict(result) if isinstance(result, dict) else {"result": result}
        body.update(status=plan.callback_status, operation_id=operation)
        headers = {"X-Sim-Operation-Id": operation, "Idempotency-Key": f"callback-{operation}"}
        correlation = request.header(CORRELATION_ID)
        if correlation:
            headers[CORRELATION_ID] = correlation
        config = self._faults.config
        job = CallbackJob(
            operation_id=operation,
            url=url,
            body=body,
            headers=headers,
            delay_s=plan.callback_delay_ms / 1000,
            retries=config.callback_retries,
            backoff_s=config.callback_backoff_ms / 1000,
        )
        self._callbacks.schedule(job)

    # ----------------------------------------------------------------- admin endpoints

    def _handle_admin(self, request: Request) -> Reply:
        route, request.params = self._admin.resolve(request.method, request.path)
        status, body = route.handler(request)
        return Reply(status, body)

    def _admin_routes(self) -> list[Route]:
        return [
            Route("GET", "/_sim/health", lambda _: (200, {"status": "ok", "name": self.name})),
            Route("GET", "/_sim/effects", self._admin_effects),
            Route("GET", "/_sim/requests", lambda _: (200, self.requests())),
            Route("GET", "/_sim/stats", lambda _: (200, self.stats())),
            Route("GET", "/_sim/callbacks", lambda _: (200, self.callbacks())),
            Route("POST", "/_sim/reset", self._admin_reset),
            Route("GET", "/_sim/config", lambda _: (200, self.config.public())),
            Route("POST", "/_sim/config", self._admin_configure),
            Route("DELETE", "/_sim/config", lambda _: (200, self.clear_faults().public())),
        ]

    def _admin_effects(self, request: Request) -> tuple[int, Json]:
        return 200, self.effects(request.query.get("key"))

    def _admin_reset(self, _: Request) -> tuple[int, Json]:
        self.reset()
        return 200, {"status": "reset"}

    def _admin_configure(self, request: Request) -> tuple[int, Json]:
        try:
            return 200, self.configure(**request.json_object()).public()
        except ValueError as exc:
            raise HttpError(400, "invalid config", detail=str(exc)) from None


def _run(route: Route, request: Request) -> Reply:
    """Call a system handler; its ``HttpError`` becomes an ordinary (non-effect) answer."""
    try:
        status, body = route.handler(request)
    except HttpError as exc:
        return Reply(exc.status, exc.body)
    return Reply(status, body)


def _error_outcome(status: int) -> str:
    return {401: "unauthorized", 404: "not_found", 405: "not_found"}.get(status, "rejected")


def _group(requests: list[JsonObject], field: str) -> dict[str, dict[str, int]]:
    """Per-path (or per-route) counts of requests, effects, replays and faults."""
    groups: dict[str, Counter[str]] = {}
    for entry in requests:
        name = f"{entry['method']} {entry['path']}" if field == "path" else entry[field]
        if name is None:
            continue
        counts = groups.setdefault(str(name), Counter())
        counts["requests"] += 1
        counts[_bucket(str(entry["outcome"]))] += 1
    return {name: dict(counts) for name, counts in groups.items()}


def _bucket(outcome: str) -> str:
    mapping: Mapping[str, str] = {
        "effect": "effects",
        "accepted": "effects",
        "replay": "replays",
        "fault": "faults",
        "timeout": "faults",
    }
    return mapping.get(outcome, "other")
