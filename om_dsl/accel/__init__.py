"""The optional native build of the compiler's hot modules (mypyc), and the guard that keeps it
honest.

Why it exists: a 100k-line catalog compiles in about 2.5 s as pure Python, and most of that is
the lexer, the LALR loop, the AST builder and the checks, code that mypyc turns into C from the
annotations it already has (40% fewer instructions; about 1.6 s).  ``python -m om_dsl.accel build``
(``make accel``, which ``make test`` and ``make bench`` run) writes one extension per module
next to its ``.py``, plus the shared ``_accel__mypyc`` library and a manifest, ``_accel.json``.

Why the guard: Python imports an extension module in preference to the ``.py`` beside it, so
after an edit the old build would silently run instead of the new source.  The manifest holds
the SHA-256 of every source the build was made from; at import, :func:`install_guard` (called
by ``om_dsl/__init__.py``) compares them, and unless every module matches and every extension
is present it makes all of them load from source.  All or none: compiled modules call each
other natively, so one module loaded from source beside compiled callers would run two copies
of its code.  ``OM_DSL_PURE=1`` forces pure Python, for debugging and for the test run that
checks the pure package.

The manifest also holds each source's size and modification time.  While both are unchanged
the sources are not read at all, as Python trusts a ``.pyc``: hashing them cost every process
about 5 ms, most of it importing hashlib.  A file whose time changed but not its content (a
checkout, a ``touch``) is hashed until ``build`` records its time again.

The pure-Python package is the reference; no module behaves differently when compiled, and the
build is never required: without a C compiler ``build`` says why and the package runs as
Python.
"""

from __future__ import annotations

import functools
import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

# Run by every `import om_dsl`, so this module imports nothing that Python has not already
# loaded at start-up: paths are strings (pathlib costs ~20 ms to import), the finder is a
# plain class (importlib.abc pulls in importlib.resources), json comes in only when a build
# is there to be checked, and hashlib only when a source's size or time no longer matches.

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFEST = "_accel.json"
GROUP = "om_dsl._accel"
PURE_ENV = "OM_DSL_PURE"

MODULES: tuple[str, ...] = (
    "om_dsl.source",
    "om_dsl.syntax.ast",
    "om_dsl.syntax.lexer",
    "om_dsl.syntax.lalr",
    "om_dsl.syntax.builder",
    "om_dsl.syntax.numbers",
    "om_dsl.syntax.broken",
    "om_dsl.syntax.hints",
    "om_dsl.compiler.build",
    "om_dsl.compiler.context",
    "om_dsl.compiler.driver",
    "om_dsl.compiler.exprs",
    "om_dsl.compiler.lints",
    "om_dsl.compiler.names",
    "om_dsl.compiler.outputs",
    "om_dsl.compiler.plans",
    "om_dsl.compiler.products",
    "om_dsl.compiler.rules",
    "om_dsl.compiler.symbols",
    "om_dsl.compiler.systems",
    "om_dsl.orders.trusted",
    "om_dsl.orders.worlds",
    "om_dsl.orders.merge",
    "om_dsl.orders.structure",
    "om_dsl.orders.requests",
    "om_dsl.orders.diff",
    "om_dsl.rules.engine",
    "om_dsl.rules.program",
    "om_dsl.rules.compiled",
    "om_dsl.expr.evaluate",
    "om_dsl.expr.functions",
    "om_dsl.ir.constraints",
    "om_dsl.orders.quick",
    "om_dsl.orders.quick_items",
    "om_dsl.orders.quick_tmf",
    "om_dsl.orders.quick_bundles",
    "om_dsl.orders.catalog_index",
    "om_dsl.orders.values",
    "om_dsl.orders.screen",
    "om_dsl.orders.parse",
    "om_dsl.orders.reserved",
    "om_dsl.graphs",
)
"""What the build compiles.  ``source`` and ``syntax.ast`` are there for their classes: compiled
code reads the fields of native objects directly, where every ``node.span`` of a Python object
was a dictionary look-up (their ``__init__`` is written out for the same reason, see
:mod:`om_dsl.syntax.ast`).  ``orders.trusted`` makes every IR object the compiler builds
(and every line a decomposition builds): compiled, a model costs no Python frame.  The
decomposition's hot path is compiled too (the worlds, merging, requests, the rule program,
the compiled engine and the expression closures), its per-line objects (``Built``,
``Origin``, ``Fact``, ``Contribution``, ``ItemInfo``) with written-out ``__init__`` methods:
a quarter fewer instructions per decomposition.  So is the path of a plain order's validation
(the screen, the quick readers, their bundles and their tables, the value checks, the
expression functions, the cycle search): 12% fewer again.  The module globals both paths read
are ``Final``: compiled, a plain module global is a dictionary look-up on every use (3% of a
10k-item decomposition's instructions).  Left out on purpose:
``syntax.parser`` (mypyc fails on it), ``compiler.loader``, ``syntax.tables``, ``describe``
and ``formatter`` (cold, and their tests replace functions in them, which
compiled callers would not see), and everything pydantic."""


class Status(NamedTuple):
    """Whether the native build is in use, and if not, why (for ``status`` and benchmarks)."""

    active: bool
    reason: str

    def describe(self) -> str:
        build = "native (mypyc)" if self.active else "pure Python"
        return f"{build}: {self.reason}"


def source_path(module: str, root: str = PACKAGE_DIR) -> str:
    """The ``.py`` of a module of the package rooted at ``root``."""
    return os.path.join(root, *module.split(".")[1:]) + ".py"


def extension_path(module: str, root: str = PACKAGE_DIR) -> str:
    """Where this interpreter looks for a module's extension (its ABI tag in the name)."""
    return os.path.join(root, *module.split(".")[1:]) + EXTENSION_SUFFIXES[0]


def group_file(root: str = PACKAGE_DIR) -> str:
    """The shared library that every compiled module's extension loads."""
    return os.path.join(root, GROUP.rpartition(".")[2] + "__mypyc" + EXTENSION_SUFFIXES[0])


def digests(modules: Sequence[str], root: str = PACKAGE_DIR) -> dict[str, str]:
    import hashlib  # noqa: PLC0415 - only once a manifest is found: it loads OpenSSL

    found = {}
    for module in modules:
        with open(source_path(module, root), "rb") as source:
            found[module] = hashlib.sha256(source.read()).hexdigest()
    return found


def fingerprints(modules: Sequence[str], root: str = PACKAGE_DIR) -> dict[str, list[int]]:
    """(size, mtime in ns) of each source: an edit changes one of them, so while neither has
    changed the digests need not be taken again."""
    found = {}
    for module in modules:
        stat = os.stat(source_path(module, root))
        found[module] = [stat.st_size, stat.st_mtime_ns]
    return found


def check(root: str = PACKAGE_DIR, modules: Sequence[str] = MODULES) -> Status:
    """Is the build at ``root`` complete, for this interpreter, and made from these sources?"""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return Status(False, f"{PURE_ENV} is set")
    path = os.path.join(root, MANIFEST)
    if not os.path.exists(path):
        return Status(False, "not built (make accel)")
    import json  # noqa: PLC0415 - only once a manifest is found

    try:
        with open(path, encoding="utf-8") as file:
            manifest = json.load(file)
    except (OSError, ValueError) as exc:
        return Status(False, f"unreadable {MANIFEST}: {exc}")
    return _compare(manifest, root, modules)


def _compare(manifest: object, root: str, modules: Sequence[str]) -> Status:
    if not isinstance(manifest, dict) or not isinstance(manifest.get("modules"), dict):
        return Status(False, f"unreadable {MANIFEST}: not a build manifest")
    built, python = manifest["modules"], manifest.get("python")
    if sorted(built) != sorted(modules):
        return Status(False, "built for another module list (make accel)")
    if python != sys.implementation.cache_tag:
        return Status(False, f"built for {python}, this is {sys.implementation.cache_tag}")
    missing = [m for m in modules if not os.path.isfile(extension_path(m, root))]
    if missing or not os.path.isfile(group_file(root)):
        return Status(False, f"incomplete build ({len(missing)} extensions missing; make accel)")
    if manifest.get("stats") == fingerprints(modules, root):
        return Status(True, f"{len(modules)} modules compiled")
    stale = [m for m, sha in digests(modules, root).items() if built[m] != sha]
    if stale:
        return Status(False, f"stale: {', '.join(stale)} changed since the build (make accel)")
    return Status(True, f"{len(modules)} modules compiled")


class SourceFinder:
    """A meta path finder: loads the listed modules from their ``.py``, never from an
    extension beside it."""

    def __init__(self, modules: Sequence[str], root: str) -> None:
        self.sources = {module: source_path(module, root) for module in modules}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        source = self.sources.get(fullname)
        if source is None:
            return None
        from importlib.util import spec_from_file_location  # noqa: PLC0415 - rarely needed

        return spec_from_file_location(fullname, source)


@functools.cache
def install_guard() -> Status:
    """Run once, from the package's ``__init__``, before any listed module is imported."""
    verdict = check()
    if not verdict.active and any(os.path.exists(extension_path(m)) for m in MODULES):
        sys.meta_path.insert(0, SourceFinder(MODULES, PACKAGE_DIR))
    return verdict


def status() -> Status:
    """What this process runs: the guard's verdict, confirmed by the lexer, which knows."""
    verdict = install_guard()
    from om_dsl.syntax import lexer  # noqa: PLC0415 - after the guard, on purpose

    if verdict.active != lexer.NATIVE:
        return Status(lexer.NATIVE, f"the guard said {verdict.describe()!r}: {lexer.__file__}")
    return verdict
