"""`make docs`: every diagram is written, parses, and the committed set is complete."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from om_dsl.docs_build import DEFAULT_OUT, DIAGRAMS, build, main


def test_build_writes_every_diagram_and_an_index(tmp_path: Path) -> None:
    written = build(tmp_path)
    assert [p.name for p in written] == [f"{d.name}.svg" for d in DIAGRAMS] + ["README.md"]
    for path in written[:-1]:
        ET.parse(path)
    index = (tmp_path / "README.md").read_text()
    assert all(f"]({d.name}.svg)" in index for d in DIAGRAMS)


def test_the_committed_diagrams_are_complete() -> None:
    committed = {p.name for p in DEFAULT_OUT.glob("*.svg")}
    assert committed == {f"{d.name}.svg" for d in DIAGRAMS}


def test_main_reports_what_it_wrote(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path), "--format", "dot"]) == 0
    assert (tmp_path / "catalog.dot").read_text().startswith("digraph catalog {")


def test_main_rejects_an_unknown_format(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path), "--format", "gif"]) == 1


def test_the_docs_show_every_diagram_and_only_existing_ones() -> None:
    page = (DEFAULT_OUT.parent / "diagrams.md").read_text()
    shown = set(re.findall(r"\]\(diagrams/([\w.-]+)\.svg\)", page))
    order_views = {d.name for d in DIAGRAMS if not d.name.startswith(("catalog", "plan-"))}
    assert order_views <= shown <= {d.name for d in DIAGRAMS}
    readme = (DEFAULT_OUT.parents[1] / "README.md").read_text()
    for name in re.findall(r"\]\(docs/diagrams/([\w.-]+)\.svg\)", readme):
        assert (DEFAULT_OUT / f"{name}.svg").is_file(), name


def _words(svg: str) -> list[str]:
    """What an SVG says (its texts and titles), not how Graphviz laid it out: another
    Graphviz version places things differently, but must not make the docs look stale."""
    return re.findall(r"<(?:text|title)\b[^>]*>([^<]*)<", svg)


def test_the_committed_diagrams_show_what_the_code_draws_now(tmp_path: Path) -> None:
    """The docs' diagrams went stale once (an older catalog hash in five subtitles) with no
    test noticing: `make docs` regenerates them."""
    build(tmp_path)
    stale = [
        d.name
        for d in DIAGRAMS
        if _words((tmp_path / f"{d.name}.svg").read_text())
        != _words((DEFAULT_OUT / f"{d.name}.svg").read_text())
    ]
    assert stale == [], "run `make docs` to regenerate these diagrams"
