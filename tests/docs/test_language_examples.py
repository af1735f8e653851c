"""Every example in the language reference does what the reference says it does.

The conventions are explained to readers in docs/language.md ("How to read the examples"):

- a fenced block tagged ``om`` is a complete catalog: it compiles with no errors;
- ``om-fragment`` is a snippet: it compiles with no errors after :data:`PRELUDE`;
- ``om-error`` starts with ``// expect: E0NN`` (several codes may be listed, comma separated):
  compiling it reports exactly those error codes and at least those warning codes.  It is
  compiled as written when it has a ``catalog`` header, otherwise after :data:`PRELUDE`;
- a block may hold several files: each ``// file: path.om`` line starts one, the first file is
  the catalog root;
- a ``text`` block right after ``<!-- output of: om ARGS (exit N) -->`` is the exact output of
  running ``om ARGS`` in a folder holding the files of the closest compiled block above it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from om_dsl.compiler.driver import CompileResult, compile_catalog
from om_dsl.syntax.lexer import KEYWORDS

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "language.md", ROOT / "docs" / "diagnostics.md"]
COMPILED = ("om", "om-fragment", "om-error")
ROOT_FILE = "catalog.om"

# Shown verbatim in docs/language.md ("How to read the examples"); a test checks that it is.
PRELUDE = """\
catalog "Reference" version "1"

enum Technology { FTTH, FTTC, DSL }

order {
  attribute site_id: string
}

system Inventory { url env("INVENTORY_URL", "http://127.0.0.1:8101") }
system Network { url env("NETWORK_URL", "http://127.0.0.1:8103") }
system Billing { url env("BILLING_URL", "http://127.0.0.1:8102") }

queue field_techs "Field technicians"

offer HomeInternet "Home Internet" id "10001" {
  attribute speed: int in 50..1000 default 100 unit "Mbit/s"
  attribute technology: Technology default FTTH
  attribute static_ip: bool default false
}

cfs AccessLine "Access line" scope order {
  attribute technology: Technology merge first
  attribute max_speed: int merge max unit "Mbit/s"
  attribute site_id: string
}
"""

_FENCE = re.compile(r"^```\s*(\S*)")  # the info string's first word is the tag
_EXPECT = re.compile(r"^// expect: ([EW]\d{3}(?:\s*,\s*[EW]\d{3})*)\s*$")
_FILE = re.compile(r"^// file: (\S+)\s*$")
_OUTPUT = re.compile(r"^<!-- output of: om (.+?) \(exit (\d)\) -->$")
_CODE = re.compile(r"\"([EW]\d{3})\"")


@dataclass(frozen=True)
class Block:
    doc: str
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    output_of: tuple[str, int] | None  # (om arguments, exit code) for checked output blocks
    previous: Block | None  # the closest compiled block above (for output blocks)

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}-{self.lang}"


def _blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    previous: Block | None = None
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        marker = _OUTPUT.match(lines[i - 1]) if i > 0 else None
        output_of = (marker.group(1), int(marker.group(2))) if marker else None
        block = Block(
            path.name, i + 1, fence.group(1), "\n".join(lines[i + 1 : end]) + "\n",
            output_of, previous,
        )  # fmt: skip
        blocks.append(block)
        if block.lang in COMPILED:
            previous = block
        i = end + 1
    return blocks


ALL_BLOCKS = [b for doc in DOCS if doc.exists() for b in _blocks(doc)]
EXAMPLES = [b for b in ALL_BLOCKS if b.lang in COMPILED]
OUTPUTS = [b for b in ALL_BLOCKS if b.output_of is not None]


def _files(block: Block) -> dict[str, str]:
    """The block's files, root first; fragments (and error snippets) get the prelude."""
    files: dict[str, list[str]] = {}
    current: list[str] = []
    for line in block.text.splitlines():
        marker = _FILE.match(line)
        if marker:
            current = files.setdefault(marker.group(1), [])
        else:
            current.append(line)
    if not files:
        files[ROOT_FILE] = current
    texts = {name: "\n".join(body) + "\n" for name, body in files.items()}
    has_header = any(re.search(r'^catalog "', t, re.MULTILINE) for t in texts.values())
    if block.lang == "om-fragment" or (block.lang == "om-error" and not has_header):
        root = next(iter(texts))
        texts[root] = PRELUDE + "\n" + texts[root]
    return texts


def _write(block: Block, folder: Path) -> Path:
    files = _files(block)
    for name, text in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return folder / next(iter(files))


def _compile(block: Block, folder: Path) -> CompileResult:
    return compile_catalog(_write(block, folder))


def _shown(result: CompileResult) -> str:
    return "\n".join(d.render(result.sources) for d in result.diagnostics)


@pytest.mark.parametrize("block", EXAMPLES, ids=[b.id for b in EXAMPLES])
def test_example(block: Block, tmp_path: Path) -> None:
    result = _compile(block, tmp_path)
    errors = sorted({d.code for d in result.diagnostics if d.is_error})
    warnings = {d.code for d in result.diagnostics if not d.is_error}
    if block.lang != "om-error":
        assert errors == [], f"{block.id} should compile without errors:\n{_shown(result)}"
        assert result.catalog is not None
        return
    first = block.text.splitlines()[0]
    expect = _EXPECT.match(first)
    assert expect, f"{block.id}: an om-error block starts with '// expect: E0NN', not {first!r}"
    codes = {c.strip() for c in expect.group(1).split(",")}
    assert errors == sorted(c for c in codes if c.startswith("E")), (
        f"{block.id} expects {sorted(codes)}, got:\n{_shown(result)}"
    )
    assert {c for c in codes if c.startswith("W")} <= warnings, _shown(result)


@pytest.mark.parametrize("block", OUTPUTS, ids=[b.id for b in OUTPUTS])
def test_shown_output_is_real(block: Block, tmp_path: Path) -> None:
    assert block.output_of is not None and block.previous is not None
    args, exit_code = block.output_of
    _write(block.previous, tmp_path)
    run = subprocess.run(
        [sys.executable, "-c", "from om_dsl.cli import main; main()", *args.split()],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    shown = run.stderr + run.stdout
    assert run.returncode == exit_code, shown
    assert _normalise(shown) == _normalise(block.text), f"the real output is:\n{shown}"


def _normalise(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()]


def test_prelude_is_shown_in_the_reference() -> None:
    assert PRELUDE in (ROOT / "docs" / "language.md").read_text(encoding="utf-8")


def test_every_om_block_uses_a_known_tag() -> None:
    tags = {b.lang for b in ALL_BLOCKS if b.lang.startswith("om")}
    assert tags <= set(COMPILED), f"unknown tags: {tags - set(COMPILED)}"


def _compiler_codes() -> set[str]:
    """Codes the catalog compiler can report (the order and runtime stages have their own)."""
    sources = [
        p for d in ("syntax", "compiler", "expr") for p in (ROOT / "om_dsl" / d).rglob("*.py")
    ]
    return {code for path in sources for code in _CODE.findall(path.read_text(encoding="utf-8"))}


def _table_codes() -> set[str]:
    text = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `?([EW]\d{3})`? \|", text, re.MULTILINE))


def test_diagnostics_table_lists_every_code_the_compiler_reports() -> None:
    missing = _compiler_codes() - _table_codes()
    assert not missing, f"docs/diagnostics.md has no row for {sorted(missing)}"


def test_every_listed_code_has_an_example() -> None:
    shown = set()
    for block in EXAMPLES:
        expect = _EXPECT.match(block.text.splitlines()[0]) if block.lang == "om-error" else None
        if expect:
            shown.update(c.strip() for c in expect.group(1).split(","))
    missing = _table_codes() - shown
    assert not missing, f"no om-error example shows {sorted(missing)}"


def test_keyword_list_is_complete() -> None:
    """The "Soft keywords" section lists exactly the lexer's keywords."""
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    paragraph = text.split("The keywords: ", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r"`(\w+)`", paragraph) == sorted(KEYWORDS)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


ALL_DOCS = sorted((ROOT / "docs").glob("*.md"))


@pytest.mark.parametrize("doc", [d.name for d in ALL_DOCS])
def test_links_between_sections_resolve(doc: str) -> None:
    anchors = {
        path.name: {_anchor(h) for h in re.findall(r"^#+ (.+)$", path.read_text(), re.MULTILINE)}
        for path in ALL_DOCS
    }
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    broken = []
    for target_doc, anchor in re.findall(r"\]\(([\w.]*)#([\w-]+)\)", text):
        if anchor not in anchors.get(target_doc or doc, set()):
            broken.append(f"{target_doc}#{anchor}")
    assert not broken, f"{doc} links to missing sections: {broken}"
