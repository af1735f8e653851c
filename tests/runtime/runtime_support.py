"""Helpers for runtime tests: compile a catalog snippet, build decompositions, record handlers."""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir import models as ir
from om_dsl.orders.models import Decomposition, FulfillmentLine, FulfillmentRequest
from om_dsl.runtime import HandlerRegistry, ItemContext, Runtime
from om_dsl.runtime.store.base import Store

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
ACME = EXAMPLES / "catalog" / "acme.om"
FIXTURES = REPO / "tests" / "fixtures" / "plans"

ONE_MANUAL_TASK = """
queue field "Field"
offer Internet "Internet" id "1" { attribute speed: int default 100 }
cfs Line { attribute bw: int }
decompose Internet { -> Line { bw = speed } }
plan Line on add { manual install queue field }
"""
"""One offer, one line, one manual task: an order that waits for a person until told."""


ACCOUNT_LAB = """
offer Plan "Plan" id "1" { attribute tier: int default 1 }
cfs Acct scope account { attribute account: string }
cfs Svc { attribute tier: int }
decompose Plan {
  -> Acct { account = order.account }
  -> Svc { tier = tier }
}
plan Acct on add { auto open handler "acct.open" }
plan Svc on add { wait go event "go" }
"""
"""An account line that opens the account, and a line that waits: for the installed base."""


def compile_text(text: str, name: str = "lab.om") -> ir.Catalog:
    """Compile a catalog snippet (a header is added); fail the test on any error."""
    source = 'catalog "Lab" version "1"\n' + textwrap.dedent(text)
    result = compile_catalog(name, text=source)
    errors = [d.headline() for d in result.diagnostics if d.is_error]
    assert result.catalog is not None, "\n".join(errors)
    return result.catalog


def line(
    line_id: str,
    product: str,
    *,
    action: str = "add",
    roots: Sequence[str] = ("1",),
    sources: Sequence[str] | None = None,
    request: str = "fr:1",
    parent: str | None = None,
    wait: str = "none",
    scope: str = "line",
    **attributes: Any,
) -> FulfillmentLine:
    return FulfillmentLine(
        id=line_id,
        product=product,
        kind="cfs",
        scope=scope,  # type: ignore[arg-type]
        action=action,  # type: ignore[arg-type]
        attributes=attributes,
        source_items=list(sources if sources is not None else roots),
        root_items=list(roots),
        rules=[f"rule->{product}"],
        parent_line=parent,
        wait=wait,  # type: ignore[arg-type]
        request=request,
    )


def decomposition(
    order_id: str,
    catalog: ir.Catalog,
    lines: Iterable[FulfillmentLine],
    requests: Sequence[FulfillmentRequest] | None = None,
) -> Decomposition:
    """A decomposition of the given lines, grouped into requests by their ``request`` field."""
    if requests is None:
        grouped: dict[str, list[FulfillmentLine]] = {}
        for one in lines:
            grouped.setdefault(one.request, []).append(one)
        requests = [FulfillmentRequest(id=rid, lines=group) for rid, group in grouped.items()]
    return Decomposition(
        order_id=order_id, catalog_hash=catalog.content_hash, requests=list(requests)
    )


@dataclass
class Recorder:
    """Handlers that record when each item started and ended (and can fail on demand)."""

    delay: float = 0.0
    fail_times: dict[str, int] = field(default_factory=dict)
    """handler name -> how many first attempts raise."""
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def registry(self, names: Iterable[str], inline: bool = False) -> HandlerRegistry:
        registry = HandlerRegistry()
        for name in names:
            registry.register(name, self._handler(name), inline=inline)
        return registry

    def _handler(self, name: str) -> Any:
        def handle(ctx: ItemContext) -> dict[str, Any]:
            start = time.monotonic()
            with self.lock:
                self.attempts[ctx.item_id] = self.attempts.get(ctx.item_id, 0) + 1
                self.keys[ctx.item_id] = ctx.idempotency_key
                failing = self.fail_times.get(name, 0) >= self.attempts[ctx.item_id]
            if self.delay:
                time.sleep(self.delay)
            if failing:
                raise RuntimeError(f"{name} failed on purpose")
            with self.lock:
                self.spans[ctx.item_id] = (start, time.monotonic())
                self.order.append(ctx.item_id)
            return {"by": name, "attempt": ctx.attempt}

        return handle


def lab_runtime(
    catalog: ir.Catalog, handlers: HandlerRegistry, store: Store | None = None, **kw: Any
) -> Runtime:
    return Runtime(catalog, store=store, handlers=handlers, **kw)


def states(runtime: Runtime, order_id: str) -> dict[str, str]:
    return {item.id: item.state for item in runtime.status(order_id).items}
