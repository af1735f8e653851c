"""Fault injection: the configuration knobs and the per-request fault plan.

Faults come from two places that compose: the simulator's :class:`SimConfig` (set at start-up,
by ``POST /_sim/config`` or by ``Simulator.configure``) and the ``X-Sim-Fault`` request header,
which overrides the configuration for one request. Randomness uses a seeded RNG so that a test
that sets ``error_rate`` sees the same sequence of failures on every run.
"""

from __future__ import annotations

import dataclasses
import math
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .core import HttpError, Json

CALLBACK_STATUSES = ("completed", "failed")


@dataclass(frozen=True)
class SimConfig:
    """Every knob of a simulator; see the README for what each one does."""

    token: str | None = None
    error_rate: float = 0.0
    error_status: int = 503
    status: int | None = None
    latency_ms: int = 0
    timeout: bool = False
    timeout_s: float = 30.0
    fail_times: int | None = None
    path: str | None = None
    async_mode: bool = False
    callback_delay_ms: int = 100
    callback_status: str = "completed"
    callback_reason: str = "simulated downstream failure"
    callback_retries: int = 5
    callback_backoff_ms: int = 100
    after_effect: bool = False
    replay_failures: bool = False
    seed: int = 0

    def merged(self, changes: Mapping[str, Json]) -> SimConfig:
        """A copy with ``changes`` applied, type-checked, so bad JSON config is a clear 400."""
        unknown = sorted(set(changes) - _FIELDS.keys())
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        coerced = {name: _coerce(name, value) for name, value in changes.items()}
        config = dataclasses.replace(self, **coerced)
        config.validate()
        return config

    def validate(self) -> None:
        """Reject values that would make the simulator misbehave rather than fault on purpose."""
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        for name in ("error_status", "status"):
            value = getattr(self, name)
            if value is not None and not 400 <= value <= 599:
                raise ValueError(f"{name} must be an HTTP error status (400-599)")
        if self.callback_status not in CALLBACK_STATUSES:
            raise ValueError(f"callback_status must be one of {CALLBACK_STATUSES}")
        for name in (
            "latency_ms", "timeout_s", "callback_delay_ms", "callback_retries",
            "callback_backoff_ms",
        ):  # fmt: skip
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:  # inf would overflow Event.wait
                raise ValueError(f"{name} must be a finite number, not negative")
        if self.fail_times is not None and self.fail_times < 0:
            raise ValueError("fail_times must not be negative")

    def public(self) -> dict[str, Json]:
        """The config as JSON for ``GET /_sim/config``, with the token redacted."""
        data = dataclasses.asdict(self)
        if data["token"]:
            data["token"] = "***"
        return data


def _to_bool(value: Json) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no"):
        return value.lower() in ("1", "true", "yes", "on")
    raise ValueError(f"expected a boolean, got {value!r}")


def _optional(convert: Callable[[Any], Any]) -> Callable[[Json], Any]:
    return lambda value: None if value is None else convert(value)


def _strict_int(value: Json) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"expected an integer, got {value!r}")
    return int(value)


_FIELDS: dict[str, Callable[[Json], Any]] = {
    "token": _optional(str),
    "error_rate": float,
    "error_status": _strict_int,
    "status": _optional(_strict_int),
    "latency_ms": _strict_int,
    "timeout": _to_bool,
    "timeout_s": float,
    "fail_times": _optional(_strict_int),
    "path": _optional(str),
    "async_mode": _to_bool,
    "callback_delay_ms": _strict_int,
    "callback_status": str,
    "callback_reason": str,
    "callback_retries": _strict_int,
    "callback_backoff_ms": _strict_int,
    "after_effect": _to_bool,
    "replay_failures": _to_bool,
    "seed": _strict_int,
}


def _coerce(name: str, value: Json) -> Any:
    try:
        return _FIELDS[name](value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad value for {name}: {exc}") from None


@dataclass(frozen=True)
class FaultPlan:
    """What happens to one request: delay, failure, hang, and whether to answer asynchronously."""

    latency_ms: int = 0
    fail_status: int | None = None
    timeout_s: float | None = None
    async_mode: bool = False
    callback_delay_ms: int = 0
    callback_status: str = "completed"
    after_effect: bool = False

    @property
    def fails(self) -> bool:
        """True when the request must not succeed (error status or hang)."""
        return self.fail_status is not None or self.timeout_s is not None


class FaultState:
    """The mutable half of fault injection: the seeded RNG and the ``fail_times`` countdown."""

    def __init__(self, config: SimConfig) -> None:
        self._lock = threading.Lock()
        self.config = config
        self._rng = random.Random(config.seed)
        self._fail_left = config.fail_times or 0

    def reconfigure(self, config: SimConfig) -> None:
        """Install a new config; the RNG and countdown restart so tests are reproducible."""
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self._fail_left = config.fail_times or 0

    def plan(self, path: str, fault_header: str | None, prefer_async: bool) -> FaultPlan:
        """The plan for one request: config faults (if ``path`` matches), then header overrides."""
        with self._lock:
            config = self.config
            applies = config.path is None or path.startswith(config.path)
            plan = self._config_plan(config) if applies else _callback_defaults(config)
        if fault_header:
            plan = dataclasses.replace(plan, **parse_fault_header(fault_header, config))
        if prefer_async:
            plan = dataclasses.replace(plan, async_mode=True)
        return plan

    def _config_plan(self, config: SimConfig) -> FaultPlan:
        fail_status, timeout_s = self._draw_failure(config)
        return dataclasses.replace(
            _callback_defaults(config),
            latency_ms=config.latency_ms,
            fail_status=fail_status,
            timeout_s=timeout_s,
            async_mode=config.async_mode,
            after_effect=config.after_effect,
        )

    def _draw_failure(self, config: SimConfig) -> tuple[int | None, float | None]:
        """``fail_times`` gates the fixed status / timeout; otherwise they apply always."""
        failing = config.timeout or config.status is not None
        if config.fail_times is not None:
            failing = self._fail_left > 0
            self._fail_left = max(self._fail_left - 1, 0)
        if failing and config.timeout:
            return None, config.timeout_s
        if failing:
            return config.status or config.error_status, None
        if config.error_rate > 0 and self._rng.random() < config.error_rate:
            return config.error_status, None
        return None, None


def _callback_defaults(config: SimConfig) -> FaultPlan:
    return FaultPlan(
        callback_delay_ms=config.callback_delay_ms, callback_status=config.callback_status
    )


def parse_fault_header(value: str, config: SimConfig) -> dict[str, Any]:
    """Parse ``X-Sim-Fault: status=503; latency_ms=200; timeout[=5]; async`` into plan fields."""
    changes: dict[str, Any] = {}
    for directive in value.replace(",", ";").split(";"):
        name, _, arg = (part.strip() for part in directive.strip().partition("="))
        if name:
            changes.update(_directive(name.lower(), arg, config))
    return changes


def _directive(name: str, arg: str, config: SimConfig) -> dict[str, Any]:
    try:
        if name == "status":
            return {"fail_status": _error_status(int(arg))}
        if name == "latency_ms":
            return {"latency_ms": max(int(arg), 0)}
        if name == "timeout":
            return {"timeout_s": float(arg) if arg else config.timeout_s}
        if name in ("async", "async_mode"):
            return {"async_mode": _to_bool(arg) if arg else True}
        if name == "callback_delay_ms":
            return {"callback_delay_ms": max(int(arg), 0)}
        if name == "callback_status" and arg in CALLBACK_STATUSES:
            return {"callback_status": arg}
        if name == "after_effect":
            return {"after_effect": _to_bool(arg) if arg else True}
    except ValueError:
        pass
    raise HttpError(400, "bad X-Sim-Fault directive", directive=f"{name}={arg}" if arg else name)


def _error_status(status: int) -> int:
    if not 400 <= status <= 599:
        raise ValueError(status)
    return status
