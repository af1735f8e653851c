"""Retry policies: how long to wait before the next attempt, and when to give up.

A policy comes from the item (``retry ...``), else from the system a callout calls, else it is
``none``.  Jitter is deterministic per (idempotency key, failure number): a restarted runtime
computes the same delay, and tests are reproducible whatever the hash seed.
"""

from __future__ import annotations

import hashlib

from om_dsl.ir import models as ir

NO_RETRY = ir.RetryPolicy(kind="none")


def effective_policy(item: ir.ItemBase, catalog: ir.Catalog) -> ir.RetryPolicy:
    """The item's own policy, else its system's (callouts only), else no retries."""
    if item.retry is not None:
        return item.retry
    system_name = getattr(item, "system", None)
    if system_name is not None:
        for system in catalog.systems:
            if system.name == system_name and system.retry is not None:
                return system.retry
    return NO_RETRY


def next_delay_ms(policy: ir.RetryPolicy, failures: int, key: str) -> int | None:
    """The delay before retry number ``failures`` (1-based), or None when retries are spent."""
    if policy.kind == "none" or failures > policy.max_retries or not policy.delays_ms:
        return None
    if policy.kind == "staggered":
        delays = policy.delays_ms
        return delays[min(failures, len(delays)) - 1]
    base = policy.delays_ms[0]
    delay = base if policy.kind == "fixed" else base * 2 ** (failures - 1)
    if policy.cap_ms is not None:
        delay = min(delay, policy.cap_ms)
    if policy.jitter:
        delay = _jittered(delay, key, failures)
    return delay


def _jittered(delay: int, key: str, failures: int) -> int:
    """ "Equal jitter": half the delay fixed, the other half spread uniformly (AWS's advice)."""
    digest = hashlib.blake2b(f"{key}#{failures}".encode(), digest_size=8).digest()
    fraction = int.from_bytes(digest, "big") / 2**64
    half = delay / 2
    return int(half + half * fraction)
