"""The host's code for ``auto`` items, registered by name.

    registry = HandlerRegistry()

    @registry.handler("network.activate_line")
    def activate(ctx: ItemContext) -> dict[str, object]:
        return {"activation_id": network.activate(ctx.line["port"], key=ctx.idempotency_key)}

A handler may be sync (it runs in the runtime's bounded thread pool) or async (awaited on the
runtime's loop).  It returns the item's outputs (a JSON object, or None for none).  Raising
:class:`PermanentFailure` fails the item at once; any other exception is a failed attempt that
the item's retry policy may retry.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from om_dsl.errors import OmError

F = TypeVar("F", bound=Callable[..., Any])


class PermanentFailure(OmError):
    """Raised by a handler: retrying cannot help (bad data, a refusal); go to fallout."""


def missing_handlers_warning(names: Iterable[str]) -> str | None:
    """What ``om run``, ``om resume`` and ``om serve`` warn of at start for the handler names
    their registry lacks (``Runtime.missing_handlers...``), or None when none is missing: such
    an item fails only when it runs, perhaps past its order's point of no return.  One text
    for all three, so that an operator greps one line whichever started the runtime."""
    missing = sorted(set(names))
    if not missing:
        return None
    return (
        f"no handler is registered for {', '.join(missing)}; their items will fail "
        "(--handlers module:registry)"
    )


@dataclass(frozen=True, slots=True)
class Handler:
    name: str
    fn: Callable[..., Any]
    is_async: bool
    inline: bool = False
    """Run a sync handler on the loop thread itself: only for trivial, non-blocking code."""


class HandlerRegistry:
    """Handlers for ``auto`` items, by the name the catalog gives (``handler "x.y"``)."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def handler(self, name: str, *, inline: bool = False) -> Callable[[F], F]:
        """Decorator: register the function as the handler called ``name``."""

        def register(fn: F) -> F:
            self.register(name, fn, inline=inline)
            return fn

        return register

    def register(self, name: str, fn: Callable[..., Any], *, inline: bool = False) -> None:
        if name in self._handlers:
            raise ValueError(f"a handler named '{name}' is already registered")
        is_async = inspect.iscoroutinefunction(fn)
        self._handlers[name] = Handler(name, fn, is_async, inline and not is_async)

    def get(self, name: str) -> Handler | None:
        return self._handlers.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._handlers

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._handlers))

    def __len__(self) -> int:
        return len(self._handlers)


class StubHandlers(HandlerRegistry):
    """Every handler name answers, with no outputs: for a designer trying a catalog's plans
    before its handlers exist (``om run --handlers stub``), who otherwise wrote a module of
    empty functions first.  An item that reads a stub's outputs reads null.  Handlers
    registered on it still win, so a host can stub all but a few."""

    def get(self, name: str) -> Handler | None:
        return super().get(name) or Handler(name, _no_outputs, is_async=False, inline=True)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)


def _no_outputs(_ctx: object) -> dict[str, Any]:
    return {}


STUB = "stub"
"""The ``--handlers`` value of :class:`StubHandlers`."""


def load_registry(spec: str) -> HandlerRegistry:
    """``module:attribute`` -> the HandlerRegistry it names (for ``om run --handlers``), or
    ``stub``: :class:`StubHandlers`.

    The attribute is a HandlerRegistry, or a function called without arguments that returns
    one (e.g. ``om_dsl.demo:demo_handlers``).  Nothing else is called: a spec naming some other
    callable (``json:loads``) is a mistake, not code to run.

    Raises:
        ValueError: the spec is malformed, the module cannot be imported, the attribute is
            neither, or the function fails (the message names the spec and says which).
    """
    if spec == STUB:
        return StubHandlers()
    found = _attribute(spec)
    if isinstance(found, HandlerRegistry):
        return found
    if _is_factory(found):
        try:
            found = found()
        except Exception as exc:
            raise ValueError(f"{spec} failed: {type(exc).__name__}: {exc}") from None
        if isinstance(found, HandlerRegistry):
            return found
        raise ValueError(f"{spec} returned {type(found).__name__}, not a HandlerRegistry")
    raise ValueError(f"{spec} is not a HandlerRegistry nor a function returning one")


def _attribute(spec: str) -> Any:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"'{spec}' is not module:attribute (e.g. myhost.handlers:registry)")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import handler module '{module_name}': {exc}") from None
    except Exception as exc:  # the module's own code failed while importing
        raise ValueError(f"importing '{module_name}' failed: {type(exc).__name__}: {exc}") from None
    if not hasattr(module, attr):
        raise ValueError(f"module '{module_name}' has no attribute '{attr}'")
    return getattr(module, attr)


def _is_factory(found: Any) -> bool:
    """A plain function (not a class, not a builtin) that can be called without arguments."""
    if not inspect.isfunction(found):
        return False
    try:
        inspect.signature(found).bind()
    except TypeError:
        return False
    return True
