"""The runtime's outside world, wired once per runtime: systems, callouts, callbacks, manual
tasks, the hub and notifications.

:class:`~om_dsl.runtime.runtime.Runtime` builds one :class:`OutsideWorld` and exposes its
parts (``runtime.systems``, ``runtime.tasks``, ``runtime.hub``, ``runtime.notifications``,
``runtime.callbacks``); the ``callout`` and ``manual`` kinds are registered here, through the
ordinary :class:`KindRegistry`, unless the host registered its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from om_dsl.ir import models as ir
from om_dsl.ir.io import load_ir
from om_dsl.runtime.callback_server import CallbackServer
from om_dsl.runtime.downstream.callbacks import Result, receive
from om_dsl.runtime.downstream.state import SideDb
from om_dsl.runtime.downstream.systems import OnlineWatch, Systems, hold_key
from om_dsl.runtime.downstream.tasks import Tasks, TaskTable
from om_dsl.runtime.downstream.tokens import CallbackTokens
from om_dsl.runtime.engine import Engine
from om_dsl.runtime.kinds.callout import CALLBACKS_KEY, CalloutKind, callback_failure
from om_dsl.runtime.kinds.manual import ManualKind
from om_dsl.runtime.notify.hub import INVENTORY, Hub
from om_dsl.runtime.notify.notifier import Notifier, NotifySettings
from om_dsl.runtime.operator import release
from om_dsl.runtime.states import ItemState
from om_dsl.runtime.waits import hold_key as wait_hold_key

if TYPE_CHECKING:
    from om_dsl.runtime.runtime import Runtime


@dataclass(frozen=True)
class DownstreamSettings:
    """How a runtime reaches the outside world.

    Attributes:
        callback_base: the base URL that async callouts' callbacks reach
            (``<base>/callbacks/<token>``), when a host serves the callback route itself (e.g.
            ``om serve``); ``runtime.serve_callbacks()`` sets it for the built-in listener.
        notify: listener URLs for every order, and how deliveries are retried.
        environ: where system URLs and credentials are read (``os.environ`` when None).
    """

    callback_base: str | None = None
    notify: NotifySettings = field(default_factory=NotifySettings)
    environ: Mapping[str, str] | None = None


class CallbackEndpoint:
    """``runtime.callbacks``: where async callouts' callbacks go, and the built-in listener.

    Async callouts that started while there was none are held (``CALLBACKS_KEY``): giving
    the endpoint a URL, by :meth:`serve` or by setting :attr:`base_url`, releases them
    through ``on_ready``."""

    def __init__(
        self,
        base_url: str | None,
        receive: Callable[[str, Mapping[str, Any]], object],
        on_ready: Callable[[], object] = lambda: None,
    ):
        self._base_url = base_url.rstrip("/") if base_url else None
        self._receive = receive
        self._on_ready = on_ready
        self.server: CallbackServer | None = None

    @property
    def base_url(self) -> str | None:
        return self._base_url

    @base_url.setter
    def base_url(self, value: str | None) -> None:
        self._base_url = value.rstrip("/") if value else None
        if self._base_url:
            self._on_ready()

    def serve(self, port: int = 0) -> str:
        """Start the built-in listener on 127.0.0.1:``port`` (0 = free); returns its base URL,
        which becomes :attr:`base_url`."""
        if self.server is None:
            self.server = CallbackServer(self._receive, port)
            self.base_url = self.server.start()
        return self.server.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


class OutsideWorld:
    def __init__(self, runtime: Runtime, settings: DownstreamSettings | None) -> None:
        settings = settings or DownstreamSettings()
        store, clock = runtime.store, runtime._engine.clock
        self._runtime = runtime
        self.side = SideDb(store)
        self.tokens = CallbackTokens(self.side, clock)
        self.systems = Systems(self.side, self._catalogs, runtime._release_if_ours, clock,
                               settings.environ)  # fmt: skip
        self.task_table = TaskTable(self.side, clock)
        self.tasks = Tasks(self.task_table, store, runtime._act, clock, self._catalogs)
        self.hub = Hub(self.side, self._targets_changed, clock, self._before_listening)
        self.product_hub = Hub(self.side, self._targets_changed, clock, self._before_listening,
                               INVENTORY)  # fmt: skip
        self.notifications = Notifier(store, self.side, self.hub, settings.notify,
                                      runtime.add_listener, clock, self.product_hub)  # fmt: skip
        self.callbacks = CallbackEndpoint(
            settings.callback_base,
            runtime.callback,
            lambda: runtime._release_if_ours(CALLBACKS_KEY),
        )
        self.online_watch = online_watch(self.systems, runtime._engine, self.callbacks)
        self._register_kinds(settings)

    def _register_kinds(self, settings: DownstreamSettings) -> None:
        kinds = self._runtime.kinds
        if "callout" not in kinds:
            base = lambda: self.callbacks.base_url  # noqa: E731
            store = self._runtime.store
            kinds.register(
                "callout",
                CalloutKind(self.systems, self.tokens, base, settings.environ,
                            installation_id=lambda: store.installation_id),
            )  # fmt: skip
        if "manual" not in kinds:
            kinds.register("manual", ManualKind(self.task_table))

    def receive(self, token: str, payload: Mapping[str, Any]) -> Result:
        """``runtime.callback``'s work (run under the engine lock by ``runtime._act``)."""
        return self._runtime._act(receive, self.tokens, callback_failure, token, payload)

    def _targets_changed(self) -> None:
        self.notifications.changed()

    def _before_listening(self) -> None:
        self.notifications.catch_up()

    def close(self) -> None:
        self.callbacks.stop()
        self.notifications.stop()
        self.side.close()

    def _catalogs(self) -> Iterable[ir.Catalog]:
        """The runtime's catalog and those of its orders (for a runtime without a catalog,
        e.g. ``om systems`` on a store: the catalogs its orders are pinned to)."""
        runtime = self._runtime
        found: dict[str, ir.Catalog] = {}
        if runtime.catalog is not None:
            found[runtime.catalog.content_hash] = runtime.catalog
        for run in list(runtime._engine.catalogs.values()):
            found.setdefault(run.hash, run.catalog)
        if not found:
            for record in runtime.store.orders():
                if record.catalog_hash not in found:
                    found[record.catalog_hash] = load_ir(
                        runtime.store.load_catalog(record.catalog_hash)
                    )
        return found.values()


def online_watch(systems: Systems, engine: Engine, callbacks: CallbackEndpoint) -> OnlineWatch:
    """The watch that releases ``engine``'s callouts held for systems now online, and async
    callouts held for want of a callback endpoint once there is one (a runtime restarted
    with ``callback_base`` holds them from before): it reads the engine's memory (what its
    scheduler runs, holds not yet committed included), and is called by the scheduler under
    the engine lock, so it releases through the operator directly."""
    prefix = wait_hold_key(hold_key(""))  # "hold:system:"
    no_endpoint = wait_hold_key(CALLBACKS_KEY)

    def held_systems() -> list[str]:
        return [key[len(prefix) :] for key in engine.waits if key.startswith(prefix)]

    def endpoint_ready() -> None:
        if callbacks.base_url and no_endpoint in engine.waits:
            release(engine, CALLBACKS_KEY)

    return OnlineWatch(
        systems,
        any_held=lambda: engine.counts[ItemState.ON_HOLD] > 0,
        held_systems=held_systems,
        release=lambda key, act: release(engine, key, act),
        also=endpoint_ready,
    )
