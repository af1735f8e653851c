"""Read a catalog's files: the root file and every file it imports, confined to the root.

Files are visited depth-first with imports before the importing file's declarations, which
gives one deterministic declaration order.  Paths in spans are relative to the catalog root
(the directory of the root file), so IR is identical wherever the catalog is checked out.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from om_dsl.errors import DiagnosticBag
from om_dsl.source import SourceFile, Span, as_read
from om_dsl.suggest import closest
from om_dsl.syntax import ast
from om_dsl.syntax.parser import parse_module

MAX_FILE_BYTES = 16 * 1024 * 1024


@dataclass(slots=True)
class LoadedCatalog:
    root: Path
    modules: list[ast.Module] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)


class Loader:
    def __init__(self, root_file: Path, bag: DiagnosticBag, text: str | None = None) -> None:
        self.root_file = root_file
        self.root = _root_of(root_file)
        self.bag = bag
        self.text = text
        self.result = LoadedCatalog(self.root)
        self._done: set[str] = set()
        self._stack: list[str] = []

    def load(self) -> LoadedCatalog:
        name = printable(self.root_file.name)
        # A missing root file is named as the user gave it (imports are named from the root),
        # and placed at its 1:1, so that editors and CI annotations can open it.
        shown = printable(str(self.root_file))
        at = Span(name, 1, 1, 1, 1)
        if name != self.root_file.name:  # the name would end up in spans and IR: UTF-8 only
            self.bag.error("E010", f"the file name '{name}' is not UTF-8", at, "rename the file")
            return self.result
        text = self.text if self.text is not None else self._read(self.root_file, shown, at)
        if text is not None:
            self._visit(name, text)
        return self.result

    def _visit(self, rel: str, text: str) -> None:
        text = as_read(text)
        self._stack.append(rel)
        self.result.sources[rel] = SourceFile(rel, text)
        module = parse_module(rel, text, self.bag)
        for decl in module.decls:
            if isinstance(decl, ast.ImportDecl):
                self._import(rel, decl)
        self._stack.pop()
        self._done.add(rel)
        self.result.modules.append(module)

    def _import(self, importer: str, decl: ast.ImportDecl) -> None:
        target = self._resolve(importer, decl)
        if target is None:
            return
        if target in self._stack:
            cycle = [*self._stack[self._stack.index(target) :], target]
            self.bag.error(
                "E012", "import cycle: " + " -> ".join(cycle), decl.path_span,
                "move shared declarations into a file that both import",
            )  # fmt: skip
            return
        if target in self._done:
            return
        text = self._read(self.root / target, target, decl.path_span)
        if text is not None:
            self._visit(target, text)

    def _resolve(self, importer: str, decl: ast.ImportDecl) -> str | None:
        raw = decl.path
        if "\\" in raw:  # a Windows path: the same catalog must build everywhere
            self.bag.error(
                "E011", f"import path '{raw}' uses '\\'; separate folders with '/'",
                decl.path_span, f"write: import \"{raw.replace(chr(92), '/')}\"",
            )  # fmt: skip
            return None
        if not raw or PurePosixPath(raw).is_absolute():
            self.bag.error(
                "E011", f"import path '{raw}' must be relative", decl.path_span,
                "paths are relative to the importing file and stay inside the catalog root",
            )  # fmt: skip
            return None
        if "\x00" in raw:  # no file name holds one (and the OS refuses the path outright)
            self.bag.error(
                "E011", "import path contains a NUL character (\\u0000)", decl.path_span,
                "paths are relative to the importing file and stay inside the catalog root",
            )  # fmt: skip
            return None
        try:
            joined = _resolved(self.root / PurePosixPath(importer).parent / raw)
        except Unreadable as exc:
            self.bag.error("E010", f"cannot read '{raw}': {exc}", decl.path_span)
            return None
        try:
            rel = joined.relative_to(self.root)
        except ValueError:
            self.bag.error(
                "E011",
                f"import '{raw}' leaves the catalog root",
                decl.path_span,
                f"the catalog root is the folder of {self.root_file.name}",
            )
            return None
        return rel.as_posix()

    def _read(self, path: Path, rel: str, span: Span) -> str | None:
        return read_source(path, rel, span, self.bag)


def read_source(path: Path, rel: str, span: Span, bag: DiagnosticBag) -> str | None:
    """The text of the .om file ``path``, or None after an E010 at ``span`` (the import that
    names it, or 1:1 of a file given on the command line), ``rel`` being its name there."""
    try:
        return read_regular(path).decode("utf-8")
    except FileNotFoundError:
        bag.error("E010", f"cannot find '{rel}'", span, *_missing_file_hints(path, rel))
    except IsADirectoryError:
        bag.error("E010", f"'{rel}' is a directory, not a .om file", span)
    except Unreadable as exc:
        bag.error("E010", f"cannot read '{rel}': {exc}", span)
    except UnicodeDecodeError as exc:
        bag.error("E010", f"'{rel}' is not UTF-8 text", span, _first_bad_byte(exc))
    except OSError as exc:
        bag.error("E010", f"cannot read '{rel}': {exc.strerror}", span)
    return None


class Unreadable(Exception):
    """A path that is not a regular file of at most 16 MiB (the reason is the message)."""


def _root_of(root_file: Path) -> Path:
    """The folder of the root file, symlinks resolved; a root that is a symlink loop keeps its
    own folder, and reading it reports the loop."""
    try:
        return _resolved(root_file).parent
    except Unreadable:
        return root_file.absolute().parent


def _resolved(path: Path) -> Path:
    """``path.resolve()``, with a symlink loop as :class:`Unreadable` (Python 3.11 raises
    RuntimeError for it, later versions OSError ELOOP)."""
    try:
        return path.resolve()
    except RuntimeError:
        raise Unreadable("it is a symbolic link loop") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Unreadable("it is a symbolic link loop") from None
        raise


def read_regular(path: Path) -> bytes:
    """The bytes of a regular file only: a FIFO would block, a device (``/dev/zero``) never
    ends.  Opened non-blocking and checked on the open descriptor, so a file swapped after a
    check cannot slip through; read at most one byte past the limit."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Unreadable("it is a symbolic link loop") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory")
        if not stat.S_ISREG(mode):
            raise Unreadable(f"it is {_kind(mode)}, not a regular file")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable("it is larger than 16 MiB")
    return data


def _kind(mode: int) -> str:
    kinds = [
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((name for test, name in kinds if test(mode)), "a special file")


def printable(text: str) -> str:
    """A name as it can be printed and stored: bytes that were not UTF-8 (kept by Python as
    lone surrogates) become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _first_bad_byte(exc: UnicodeDecodeError) -> str:
    """Where the first byte that is not UTF-8 is, so that it can be found and fixed."""
    before = exc.object[: exc.start]
    line = before.count(b"\n") + 1
    col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
    byte = exc.object[exc.start]
    return f"the first byte that is not UTF-8 (0x{byte:02X}) is at line {line}, column {col}"


def _missing_file_hints(path: Path, rel: str) -> tuple[str, ...]:
    """What an import of a missing file most likely meant: the name with `.om` (`import
    "types"`), or a `.om` file of a close name in the same folder (`Types.om`, `product.om`),
    named as the message names the missing file (from the catalog root, folder included: a
    hint of `types.om` for `common/type.om` led to a second failing import)."""
    where = PurePosixPath(rel)
    if path.suffix != ".om" and path.with_name(path.name + ".om").is_file():
        return (f"did you mean '{where.with_name(path.name + '.om')}'?",)
    try:
        names = [p.name for p in path.parent.iterdir() if p.suffix == ".om" and p.is_file()]
    except OSError:  # the folder is missing or unreadable: nothing to suggest from
        return ()
    close = closest(path.name, names)
    if close is None:
        return ()
    return (f"did you mean '{where.with_name(close)}'?",)
