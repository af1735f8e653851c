"""Read a catalog's files: the root file and every file it imports, confined to the root.

Files are visited depth-first with imports before the importing file's declarations, which
gives one deterministic declaration order.  Paths in spans are relative to the catalog root
(the directory of the root file), so IR is identical wherever the catalog is checked out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from om_dsl.errors import DiagnosticBag
from om_dsl.source import SourceFile, Span
from om_dsl.syntax import ast
from om_dsl.syntax.parser import parse_module

MAX_FILE_BYTES = 16 * 1024 * 1024
BOM = "\ufeff"
"""A byte order mark that some Windows editors put at the start of a UTF-8 file: not text."""


@dataclass(slots=True)
class LoadedCatalog:
    root: Path
    modules: list[ast.Module] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)


class Loader:
    def __init__(self, root_file: Path, bag: DiagnosticBag, text: str | None = None) -> None:
        self.root_file = root_file
        self.root = root_file.resolve().parent
        self.bag = bag
        self.text = text
        self.result = LoadedCatalog(self.root)
        self._done: set[str] = set()
        self._stack: list[str] = []

    def load(self) -> LoadedCatalog:
        name = self.root_file.name
        # A missing root file is named as the user gave it (imports are named from the root),
        # and placed at its 1:1, so that editors and CI annotations can open it.
        shown = str(self.root_file)
        at = Span(name, 1, 1, 1, 1)
        text = self.text if self.text is not None else self._read(self.root_file, shown, at)
        if text is not None:
            self._visit(name, text)
        return self.result

    def _visit(self, rel: str, text: str) -> None:
        text = text.removeprefix(BOM)
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
        if not raw or PurePosixPath(raw).is_absolute() or "\\" in raw:
            self.bag.error(
                "E011", f"import path '{raw}' must be relative", decl.path_span,
                "paths are relative to the importing file and stay inside the catalog root",
            )  # fmt: skip
            return None
        joined = (self.root / PurePosixPath(importer).parent / raw).resolve()
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
        """The text of ``path``, or None after an E010 at ``span`` (the import, or 1:1)."""
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                self.bag.error("E010", f"'{rel}' is larger than 16 MiB", span)
                return None
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.bag.error("E010", f"cannot find '{rel}'", span)
        except IsADirectoryError:
            self.bag.error("E010", f"'{rel}' is a directory, not a .om file", span)
        except UnicodeDecodeError as exc:
            self.bag.error("E010", f"'{rel}' is not UTF-8 text", span, _first_bad_byte(exc))
        except OSError as exc:
            self.bag.error("E010", f"cannot read '{rel}': {exc.strerror}", span)
        return None


def _first_bad_byte(exc: UnicodeDecodeError) -> str:
    """Where the first byte that is not UTF-8 is, so that it can be found and fixed."""
    before = exc.object[: exc.start]
    line = before.count(b"\n") + 1
    col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
    byte = exc.object[exc.start]
    return f"the first byte that is not UTF-8 (0x{byte:02X}) is at line {line}, column {col}"
