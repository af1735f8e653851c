"""Every ```python block of README.md and docs/*.md is checked by a test: run for real, or, for
a sketch, compared with the code it describes.  A block that nothing runs goes stale without
anyone noticing (a renamed argument, a name only the reader's imagination defines), and a
reader who copies it gets an error instead of the promised result.

How to write a Python block in the docs (the convention this module enforces):

- A ```python block is a program: it is registered in :data:`EXAMPLES` under its page, the
  heading it sits under and its index among that heading's Python blocks.  The blocks of a page
  run in order, in one namespace (a later block may use what an earlier one made), in a
  temporary folder that links ``examples/`` (the docs' paths are relative to a checkout).
  After each block its ``check`` asserts what the prose promises.  A block that is not
  registered, or a registration whose block is gone, fails
  :func:`test_every_python_block_is_run_or_a_sketch`.
- What the prose leaves to the reader (the ``catalog``, an ``order``, the host's own
  ``network`` client) is put in the namespace by the registration's ``setup``, the least the
  prose implies.  Downstream systems are the simulators of ``examples/simulators``, started on
  127.0.0.1 for the page, with the catalog's ``*_URL`` variables pointing at them.
- What a test must not use as written (``0.0.0.0:8080``, a fixed port, ``crm.example``) is
  swapped for a loopback address by the registration's ``swaps``.  Each swapped text must be in
  the block, so a changed block fails here instead of silently running something else.
- A block whose first line is a comment starting with ``# Sketch:`` shows the shape of an
  interface, not a program (``# Sketch: the shape of the interface, not a program to run.``).
  It keeps the ``python`` tag, so renderers still highlight it, and the comment tells readers
  not to run it.  It is not run but checked: its checker in :data:`SKETCHES` (every sketch has
  one) compares it with the code, and a sketch that is valid Python must also parse with
  :func:`ast.parse` and import only names that exist.

A block tagged ``py`` or ``python3`` counts as Python too, so another tag is no way around this.
"""

from __future__ import annotations

import abc
import ast
import dataclasses
import importlib
import inspect
import os
import queue
import re
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest
from simulators import Listener, Simulator, start

import om_dsl
from om_dsl.compiler.driver import compile_catalog
from om_dsl.demo import demo_handlers
from om_dsl.ir.models import Catalog
from om_dsl.orders.models import Order
from om_dsl.render import live_svg
from om_dsl.render.sample_run import sample_run
from om_dsl.runtime import Runtime, outcomes
from om_dsl.runtime.kinds.base import ItemKind
from om_dsl.service import ServiceServer

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES_DIR = ROOT / "examples"
PYTHON_TAGS = frozenset({"python", "py", "python3"})
SKETCH = "# Sketch:"
BILLING_TOKEN = "billing-token-for-the-doc-tests"
CRM_TOKEN = "crm-token-for-the-doc-tests-0123456789"

# ---- reading the blocks -----------------------------------------------------------------------

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*$")


@dataclass(frozen=True, slots=True)
class Block:
    """A fenced block: its page (relative to the repository), the line of its opening fence,
    the heading above it, its index among the same heading's blocks of its tag, its tag (the
    info string's first word) and its text."""

    page: str
    line: int
    section: str
    index: int
    tag: str
    code: str

    @property
    def key(self) -> tuple[str, str, int]:
        """What a block is registered under: it stays put when another section changes."""
        return (self.page, self.section, self.index)

    @property
    def where(self) -> str:
        """Where a reader finds it (``docs/runtime.md:392``); also what tracebacks show."""
        return f"{self.page}:{self.line}"

    @property
    def is_sketch(self) -> bool:
        return self.code.lstrip().startswith(SKETCH)


def blocks(page: Path, root: Path = ROOT) -> list[Block]:
    """The fenced blocks of ``page``: ``` or ~~~ fences indented by at most three spaces,
    closed by a bare fence of the same character at least as long (CommonMark).  A ``#`` line
    inside a block is code, not a heading."""
    found: list[Block] = []
    counts: dict[tuple[str, str], int] = {}
    section = ""
    opened: tuple[str, int, str, str] | None = None  # fence, line, tag, indent
    body: list[str] = []
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        fence = _FENCE.match(line)
        if opened is None:
            if fence:
                tag = (fence["info"].split() or [""])[0].lower()
                opened, body = (fence["fence"], number, tag, fence["indent"]), []
            elif heading := _HEADING.match(line):
                section = heading["title"]
            continue
        mark, start, tag, indent = opened
        closes = fence and fence["fence"][0] == mark[0] and len(fence["fence"]) >= len(mark)
        if fence and closes and not fence["info"].strip():
            index = counts.get((section, tag), 0)
            counts[(section, tag)] = index + 1
            code = "".join(f"{text.removeprefix(indent)}\n" for text in body)
            page_name = page.relative_to(root).as_posix()
            found.append(Block(page_name, start, section, index, tag, code))
            opened = None
        else:
            body.append(line)
    return found


def python_blocks() -> list[Block]:
    """Every Python block of the README and of docs/*.md, page by page, in page order."""
    return [block for page in PAGES for block in blocks(page) if block.tag in PYTHON_TAGS]


# ---- what a page's blocks run in ----------------------------------------------------------------


@dataclass
class Sims:
    """The example catalog's systems and a notification listener, on free 127.0.0.1 ports."""

    inventory: Simulator
    billing: Simulator
    network: Simulator
    listener: Listener


@dataclass
class Lab:
    """One page's run: its namespace, what the last block printed, and what to stop after."""

    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    stack: ExitStack
    ns: dict[str, Any] = field(default_factory=lambda: {"__name__": "__doc_example__"})
    code: str = ""
    """The block as it ran (after its swaps)."""
    out: str = ""
    """What it printed."""
    seen: dict[str, Any] = field(default_factory=dict)
    """What a block's helper thread observed (the service block's requests)."""
    _sims: Sims | None = None
    _closing: set[int] = field(default_factory=set)

    def sims(self) -> Sims:
        """Start the simulators once per page and point the catalog's systems at them (the
        example catalog reads ``BILLING_URL`` etc., examples/catalog/common/systems.om)."""
        if self._sims is None:
            fast = {"callback_delay_ms": 20, "callback_backoff_ms": 30}
            self._sims = Sims(
                self.stack.enter_context(start("inventory", **fast)),
                self.stack.enter_context(start("billing", token=BILLING_TOKEN, **fast)),
                self.stack.enter_context(start("network", **fast)),
                self.stack.enter_context(Listener("doc-listener").start()),
            )
            for name, server in (("INVENTORY", self._sims.inventory),
                                 ("BILLING", self._sims.billing),
                                 ("NETWORK", self._sims.network)):  # fmt: skip
                self.monkeypatch.setenv(f"{name}_URL", server.url)
            self.monkeypatch.setenv("BILLING_TOKEN", BILLING_TOKEN)
        return self._sims

    def close_runtimes_later(self) -> None:
        """A block that makes a runtime leaves it open, as a host would: closed after the page
        (before the simulators stop), so a later block may still use it."""
        for value in list(self.ns.values()):
            if isinstance(value, Runtime) and id(value) not in self._closing:
                self._closing.add(id(value))
                self.stack.callback(value.close)


@dataclass(frozen=True)
class Example:
    """How a runnable block is run: ``setup`` puts in the namespace what the prose leaves to
    the reader, ``swaps`` replaces texts of the block that a test must not use (each must be
    there), ``check`` asserts what the prose promises once it ran."""

    check: Callable[[Lab], None]
    setup: Callable[[Lab], None] = lambda lab: None
    swaps: Callable[[Lab], dict[str, str]] = lambda lab: {}
    needs_dot: bool = False


def _acme() -> Catalog:
    return compile_catalog(EXAMPLES_DIR / "catalog" / "acme.om").raise_on_error()


def _order_text(name: str) -> str:
    return (EXAMPLES_DIR / "orders" / f"{name}.json").read_text(encoding="utf-8")


# ---- README.md ----------------------------------------------------------------------------------


def _readme_check(lab: Lab) -> None:
    """One line per fulfillment line (id, product, action), then the submitted order's state."""
    *lines, state = lab.out.splitlines()
    assert state == "acknowledged"
    assert lab.ns["runtime"].status(lab.ns["order_id"]).state == "acknowledged"
    expected = {"order/AccessLine AccessLine add", "1.1/InternetService InternetService add"}
    assert expected <= set(lines)
    assert len(lines) == len(om_dsl.decompose(lab.ns["catalog"], lab.ns["order"]).lines())
    assert (lab.tmp / "om.db").is_file()


# ---- docs/decomposition.md ----------------------------------------------------------------------


def _decomposition_setup(lab: Lab) -> None:
    """``order_json``: an order as a host receives it."""
    lab.ns["order_json"] = _order_text("home-duo-add")


def _decomposition_check(lab: Lab) -> None:
    """A printed line per fulfillment line: request id, line id, action and attributes."""
    result = lab.ns["result"]
    assert lab.out.splitlines() == [
        f"{request.id} {line.id} {line.action} {line.attributes}"
        for request in result.requests
        for line in request.lines
    ]
    internet = next(line for line in result.lines() if line.product == "InternetService")
    assert internet.attributes["bandwidth_kbps"] == 500 * 1000  # speed 500 in home-duo-add


def _decomposer_setup(lab: Lab) -> None:
    """``body``: the request body the host service got (the same order)."""
    lab.ns["body"] = lab.ns["order_json"]


def _decomposer_check(lab: Lab) -> None:
    """A held ``Decomposer`` validates, then decomposes to what ``decompose()`` gives."""
    assert isinstance(lab.ns["order"], Order) and lab.ns["order"].id == "ORD-1001"
    assert lab.ns["result"] == om_dsl.decompose(lab.ns["catalog"], lab.ns["order_json"])


# ---- docs/diagrams.md ---------------------------------------------------------------------------


def _live_svg_setup(lab: Lab) -> None:
    """``runtime`` and ``order_id``: the page's own example, the scripted run of
    home-trio-tv.json, left open for the block."""
    run = lab.stack.enter_context(sample_run(_acme(), EXAMPLES_DIR / "orders"))
    lab.ns.update(runtime=run.runtime, order_id=run.order_id)


def _live_svg_check(lab: Lab) -> None:
    """SVG of the order's live plan as the prose describes it at day 2 18:00 (held, with the
    TV boxes' installation in jeopardy); the signature in the comment is ``live_svg``'s."""
    svg = lab.ns["svg"]
    assert isinstance(svg, bytes) and b"<svg" in svg
    assert b"Order ORD&#45;1004: held" in svg  # the title: the order and its state
    assert b"1 in jeopardy" in svg  # the TV boxes' installation is late
    shown = re.search(r"^# live_svg\((.*)\)$", lab.code, re.M)
    assert shown, "the signature comment is gone"
    parameters = list(inspect.signature(live_svg).parameters.values())
    declared = [p.name if p.default is p.empty else f"{p.name}={p.default!r}" for p in parameters]
    assert shown[1].split(", ")[1:] == declared[1:]  # the first is the runtime, or a store


# ---- docs/downstream.md -------------------------------------------------------------------------


def _downstream_setup(lab: Lab) -> None:
    """``catalog`` and ``order``: the example catalog and an order of it (without ``notify``
    URLs of its own, which would be called too)."""
    lab.sims()
    lab.ns.update(catalog=_acme(), order=_order_text("home-trio-tv"))


def _downstream_swaps(lab: Lab) -> dict[str, str]:
    """The listener stands in for the CRM, and the callbacks take a free port."""
    return {"https://crm.example": lab.sims().listener.url, "port=8190": "port=0"}


def _downstream_check(lab: Lab) -> None:
    """``drain`` returned once the order's events so far reached the listener; the operator's
    switch, the hub registration and the callback server (on loopback) took."""
    runtime, listener = lab.ns["runtime"], lab.sims().listener
    delivered = [event for event in listener.events() if event["path"] == "/events"]
    assert delivered, "drain() returned before the events so far were delivered"
    assert all(event["body"]["event"]["productOrder"]["id"] == "ORD-1004" for event in delivered)
    network = runtime.systems.status("Network")
    assert (network.offline, network.changed_by) == (True, "ops")
    hub = [(s.callback, s.query) for s in runtime.hub.list() if s.order_id is None]
    query = "eventType=ProductOrderStateChangeEvent"
    assert hub == [(f"{listener.url}/hub", query)]
    assert runtime.callbacks.base_url.startswith("http://127.0.0.1:")


def _signed_check(lab: Lab) -> None:
    """A tampered body is refused, with the message the comment shows."""
    assert lab.out == "the signature does not match the body\n"


# ---- docs/runtime.md ----------------------------------------------------------------------------


class _Network:
    """The host's client of its network system, which the handler calls and the page leaves
    to the reader."""

    def configure(self, bandwidth_kbps: int, key: str) -> str:
        return f"port-{bandwidth_kbps}-{key}"


def _embedding_setup(lab: Lab) -> None:
    """``network``: the host's client; ``order``: an example order (its callouts go to the
    simulators)."""
    lab.sims()
    lab.ns.update(network=_Network(), order=_order_text("home-trio-tv"))


def _embedding_check(lab: Lab) -> None:
    """Submitted, stored in om.db and run until idle: the first callout answered (the
    inventory simulator), the technician's task waits in its queue, and the printed state is
    the order's.  The registration took (the catalog's other handlers are the ones missing),
    and the order is held only because of those: the router's shipping item has no handler.
    (``configure`` itself waits for the line to be installed, so ``network`` is not called.)"""
    runtime, order_id = lab.ns["runtime"], lab.ns["order_id"]
    status = runtime.status(order_id)
    assert lab.out == f"{status.state}\n" and (lab.tmp / "om.db").is_file()
    assert status.item("order/AccessLine:reserve_port").state == "completed"
    install = status.item("order/AccessLine:install")
    assert (install.state, install.reason) == ("waiting", "in queue field_techs")
    missing = set(runtime.missing_handlers())
    assert "network.configure_internet" not in missing and "logistics.ship_router" in missing
    failed = {item.id: item.reason for item in status.items if "failed" in item.state}
    assert failed == {"order/Router:ship": "no handler is registered for 'logistics.ship_router'"}
    assert status.state == "held"
    assert status.item("copper/InternetService:configure").state == "pending"


def _amendment_check(lab: Lab) -> None:
    """The block asserts its own outcome; the amended order still waits for its event, so it
    is ``pending`` (only people, events or callbacks can move it, docs/runtime.md)."""
    assert lab.ns["status"].state == "pending"
    assert lab.ns["status"].item("1/Line:go").state == "waiting"


# ---- docs/service.md ----------------------------------------------------------------------------


def _service_setup(lab: Lab) -> None:
    """``catalog``, ``registry`` (the demo's handlers), ``crm_listener`` (the listener) and
    ``crm_token``; a thread then uses the service the block serves and stops it as a reader
    would, with Ctrl-C (SIGINT), which is what ends ``serve()``."""
    sims = lab.sims()
    lab.ns.update(catalog=_acme(), registry=demo_handlers(), crm_token=CRM_TOKEN,
                  crm_listener=f"{sims.listener.url}/crm")  # fmt: skip
    bound: queue.Queue[ServiceServer] = queue.Queue()
    bind = ServiceServer.bind

    def bind_and_tell(server: ServiceServer) -> str:
        url = bind(server)
        bound.put(server)
        return url

    lab.monkeypatch.setattr(ServiceServer, "bind", bind_and_tell)
    user = threading.Thread(target=_use_the_service, args=(lab, bound), daemon=True)
    user.start()
    lab.stack.callback(user.join, 30)


def _use_the_service(lab: Lab, bound: queue.Queue[ServiceServer]) -> None:
    """Once ``serve()`` bound its socket: list orders without and with the token, post the
    TMF622 sample order, wait for its event at ``crm_listener``, then interrupt ``serve()``.

    SIGINT is sent only once the service answered: uvicorn handles it from then on (it sets
    its handlers before it serves), where before it would interrupt pytest itself.  A service
    that never answers is stopped with ``ServiceServer.stop()`` instead, so the test fails
    rather than hangs."""
    try:
        server = bound.get(timeout=30)
    except queue.Empty:
        return
    answered = False
    try:
        # the socket listens from bind() on: a request waits until uvicorn serves
        address = f"http://{server.config.host}:{server.config.port}"
        with httpx.Client(base_url=address, timeout=10) as http:
            lab.seen["anonymous"] = http.get("/productOrder").status_code
            answered = True
            auth = {"Authorization": f"Bearer {CRM_TOKEN}"}
            lab.seen["listed"] = http.get("/productOrder", headers=auth).status_code
            order = _order_text("tmf622-product-order").encode()
            posted = http.post("/productOrder", content=order, headers=auth)
            lab.seen["posted"] = posted.status_code
            listener = lab.sims().listener
            lab.seen["event"] = listener.wait_for(lambda e: e["path"] == "/crm", timeout=10)[0]
    except Exception as problem:
        lab.seen["problem"] = problem
    finally:
        if answered:
            os.kill(os.getpid(), signal.SIGINT)
        else:
            server.stop()


def _service_swaps(lab: Lab) -> dict[str, str]:
    """Loopback on a free port: a test binds nothing public and no fixed port."""
    return {'host="0.0.0.0", port=8080': 'host="127.0.0.1", port=0'}


def _service_check(lab: Lab) -> None:
    """The service served with the configured token, its runtime ran the posted order, whose
    events reach ``crm_listener`` with hrefs under the public URL."""
    assert "problem" not in lab.seen, lab.seen.get("problem")
    assert (lab.seen["anonymous"], lab.seen["listed"], lab.seen["posted"]) == (401, 200, 201)
    body = lab.seen["event"]["body"]
    assert body["event"]["productOrder"]["href"] == "https://om.example/productOrder/30001"


# ---- the registry -------------------------------------------------------------------------------

EXAMPLES: dict[tuple[str, str, int], Example] = {
    ("README.md", "A five-minute tour", 0): Example(_readme_check),
    ("docs/decomposition.md", "Python API", 0): Example(
        _decomposition_check, setup=_decomposition_setup
    ),
    ("docs/decomposition.md", "Python API", 1): Example(_decomposer_check, setup=_decomposer_setup),
    ("docs/diagrams.md", "For a host service", 0): Example(
        _live_svg_check, setup=_live_svg_setup, needs_dot=True
    ),
    ("docs/downstream.md", "Downstream systems, manual work and notifications", 0): Example(
        _downstream_check, setup=_downstream_setup, swaps=_downstream_swaps
    ),
    ("docs/downstream.md", "Notifications", 0): Example(_signed_check),
    ("docs/runtime.md", "Orchestration: the plan builder and the durable runtime", 0): Example(
        _embedding_check, setup=_embedding_setup
    ),
    ("docs/runtime.md", "Amending an order", 0): Example(_amendment_check),
    ("docs/service.md", "Embedding the app", 0): Example(
        _service_check, setup=_service_setup, swaps=_service_swaps
    ),
}


# ---- sketches -----------------------------------------------------------------------------------


def _item_kind_sketch(code: str) -> None:
    """docs/runtime.md's ``ItemKind``: each method it shows is ItemKind's, async where shown,
    with the parameters and return annotation shown; each outcome has the fields shown, in
    order, and the outcomes are all of ``Outcome``."""
    assert re.search(r"^class ItemKind\(abc\.ABC\):$", code, re.M)
    assert issubclass(ItemKind, abc.ABC)
    methods = re.findall(
        r"^ +(async )?def (\w+)\(([^)]*)\)(?: -> ([^#\n]+?))?\s*(?:#|$)", code, re.M
    )
    assert len(methods) >= 5
    for is_async, name, params, returns in methods:
        method = getattr(ItemKind, name, None)
        assert callable(method), f"ItemKind has no method {name}"
        assert inspect.iscoroutinefunction(method) == bool(is_async), name
        signature = inspect.signature(method)
        assert [p.split(":")[0].strip() for p in params.split(",")] == list(signature.parameters)
        if returns:
            assert returns == signature.return_annotation, name
    union = code.split("\nOutcome =", 1)[1]
    shown = dict(re.findall(r"(\w+)\(([^)]*)\)", union))
    assert set(shown) == {cls.__name__ for cls in get_args(outcomes.Outcome)}
    for name, fields in shown.items():
        declared = [f.name for f in dataclasses.fields(getattr(outcomes, name))]
        assert [f.strip() for f in fields.split(",")] == declared, name


SKETCHES: dict[tuple[str, str, int], Callable[[str], None]] = {
    ("docs/runtime.md", "Item kinds: the plug-in point", 0): _item_kind_sketch,
}


# ---- the tests ----------------------------------------------------------------------------------


def test_every_python_block_is_run_or_a_sketch() -> None:
    """A new block must be registered (run) or marked a sketch (checked), and a registration
    must name a block that is there."""
    found = python_blocks()
    assert len(found) >= 10
    runnable = {b.key: b for b in found if not b.is_sketch}
    sketches = {b.key: b for b in found if b.is_sketch}
    unchecked = [b.where for key, b in runnable.items() if key not in EXAMPLES]
    assert not unchecked, (
        f"register these Python blocks in EXAMPLES, or mark them sketches: {unchecked}"
    )
    assert set(EXAMPLES) <= set(runnable), set(EXAMPLES) - set(runnable)
    assert set(SKETCHES) == set(sketches), set(SKETCHES) ^ set(sketches)


def test_the_block_reader_knows_headings_from_comments(tmp_path: Path) -> None:
    """A ``# comment`` in a block is not a heading, other tags are not Python, and ``py``
    is (so that a block cannot escape the check by its tag)."""
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n## Part\n```python\n# not a heading\nx = 1\n```\n"
        "```text\n# text\n```\n````py\n```\ny = 2\n````\n",
        encoding="utf-8",
    )
    found = [(b.section, b.index, b.tag, b.code, b.line) for b in blocks(page, tmp_path)]
    assert found == [
        ("Part", 0, "python", "# not a heading\nx = 1\n", 3),
        ("Part", 0, "text", "# text\n", 7),
        ("Part", 0, "py", "```\ny = 2\n", 10),
    ]


@pytest.mark.parametrize("key", sorted(SKETCHES), ids=lambda key: f"{key[0]}:{key[1]}")
def test_a_sketch_matches_the_code(key: tuple[str, str, int]) -> None:
    """A sketch is not run, but it goes stale like any example: its checker compares it with
    the code, and when it is Python, it parses and its imports exist."""
    block = next(b for b in python_blocks() if b.key == key and b.is_sketch)
    SKETCHES[key](block.code)
    try:
        tree = ast.parse(block.code, block.where)
    except SyntaxError:
        return  # a shape in pseudo-Python (as the ItemKind one is): the checker is the check
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            module = importlib.import_module(node.module)
            assert all(hasattr(module, alias.name) for alias in node.names), ast.unparse(node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                importlib.import_module(alias.name)


def _pages() -> list[str]:
    return sorted({key[0] for key in EXAMPLES})


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lab]:
    """A temporary folder to run in, with ``examples/`` as in a checkout; what a page
    started is stopped after it."""
    (tmp_path / "examples").symlink_to(EXAMPLES_DIR, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    with ExitStack() as stack:
        yield Lab(tmp_path, monkeypatch, stack)


@pytest.mark.parametrize("page", _pages())
def test_the_python_blocks_of_a_page_run(
    page: str, lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each runnable block of the page runs as written (after its setup and swaps), in page
    order, and does what its prose says."""
    runnable = [b for b in python_blocks() if b.page == page and b.key in EXAMPLES]
    assert runnable
    if any(EXAMPLES[b.key].needs_dot for b in runnable) and shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot")
    for block in runnable:
        example = EXAMPLES[block.key]
        example.setup(lab)
        code = block.code
        for old, new in example.swaps(lab).items():
            assert old in code, f"{block.where}: the block no longer has {old!r} to swap"
            code = code.replace(old, new)
        capsys.readouterr()
        try:
            exec(compile(code, block.where, "exec"), lab.ns)
        finally:
            lab.close_runtimes_later()
            lab.code, lab.out = code, capsys.readouterr().out
        example.check(lab)
