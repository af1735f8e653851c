"""Delayed delivery of async results to the orchestrator's callback URL, with retries.

Each accepted async request gets one delivery thread: wait ``callback_delay_ms``, POST the
result, and on a refused connection or a non-2xx answer retry with exponential backoff. This is
what a real downstream system does, and it lets tests cover "callback listener briefly down".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from .core import HttpError, Json, JsonObject

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_BACKOFF_S = 2.0


def check_callback_url(url: str | None) -> str:
    """Accept only http(s) loopback URLs: a simulator must never call out of the machine."""
    if not url:
        raise HttpError(400, "async request needs an X-Callback-Url header")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK_HOSTS:
        raise HttpError(400, "X-Callback-Url must be an http(s) loopback URL", url=url)
    return url


@dataclass
class CallbackJob:
    """One async result to deliver, and the record of how its delivery went."""

    operation_id: str
    url: str
    body: JsonObject
    headers: dict[str, str]
    delay_s: float
    retries: int
    backoff_s: float
    state: str = "pending"
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def record(self) -> dict[str, Json]:
        """The JSON view served at ``GET /_sim/callbacks``."""
        return {
            "operation_id": self.operation_id,
            "url": self.url,
            "body": self.body,
            "state": self.state,
            "attempts": self.attempts,
            "last_status": self.last_status,
            "last_error": self.last_error,
        }


class CallbackDispatcher:
    """Runs delivery threads that all stop promptly when the simulator stops."""

    def __init__(self, name: str, stopping: threading.Event) -> None:
        self._name = name
        self._stopping = stopping
        self._lock = threading.Lock()
        self._jobs: list[CallbackJob] = []
        self._client: httpx.Client | None = None

    def schedule(self, job: CallbackJob) -> None:
        """Start delivering ``job`` in the background."""
        with self._lock:
            self._jobs.append(job)
        thread = threading.Thread(
            target=self._deliver, args=(job,), name=f"sim-{self._name}-callback", daemon=True
        )
        thread.start()

    def records(self) -> list[dict[str, Json]]:
        """Every delivery so far, oldest first."""
        with self._lock:
            return [job.record() for job in self._jobs]

    def wait_idle(self, timeout: float) -> bool:
        """Block until every scheduled delivery finished (delivered or gave up)."""
        with self._lock:
            jobs = list(self._jobs)
        return all(job.done.wait(timeout) for job in jobs)

    def clear(self) -> None:
        """Forget finished deliveries (``reset``); in-flight ones keep going."""
        with self._lock:
            self._jobs = [job for job in self._jobs if not job.done.is_set()]

    def close(self) -> None:
        """Release the HTTP client; delivery threads see ``stopping`` and exit."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=5.0)
            return self._client

    def _deliver(self, job: CallbackJob) -> None:
        try:
            if self._stopping.wait(job.delay_s):
                return
            for attempt in range(job.retries + 1):
                if self._attempt(job):
                    job.state = "delivered"
                    return
                backoff = min(job.backoff_s * 2**attempt, MAX_BACKOFF_S)
                if attempt < job.retries and self._stopping.wait(backoff):
                    return
            job.state = "failed"
        finally:
            if job.state == "pending":
                job.state = "abandoned"
            job.done.set()

    def _attempt(self, job: CallbackJob) -> bool:
        job.attempts += 1
        try:
            response = self._http().post(job.url, json=job.body, headers=job.headers)
        except (httpx.HTTPError, RuntimeError) as exc:  # RuntimeError: client closed by stop()
            job.last_status, job.last_error = None, f"{type(exc).__name__}: {exc}"
            return False
        job.last_status, job.last_error = response.status_code, None
        return response.is_success
