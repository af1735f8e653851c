"""A name unknown only because its file is not imported: the hint is the import to add."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from om_dsl.compiler import unimported
from om_dsl.compiler.driver import compile_catalog

TYPES = """
enum Tier { T50, T100 }
system Net { url "http://127.0.0.1:9" }
queue techs "Technicians"
"""

ROOT = """
catalog "I" version "1"
import "sites/site.om"
"""

SITE = """
offer Site { attribute tier: Tier default T50 }
cfs Router { attribute mbps: int }
decompose Site -> Router { mbps = map tier { T50: 50, T100: 100, default: 0 } }
plan Router on add {
  callout go: Net POST "/x"
  manual fit queue techs
}
"""


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def _hints(folder: Path) -> dict[str, tuple[str, ...]]:
    result = compile_catalog(folder / "main.om")
    return {f"{d.code} {d.message}": d.hints for d in result.diagnostics if d.is_error}


def test_every_name_of_the_unimported_file_hints_at_its_import(tmp_path: Path) -> None:
    _write(tmp_path, {"main.om": ROOT, "sites/site.om": SITE, "common/types.om": TYPES})
    fix = 'which the catalog does not import: add import "../common/types.om" to sites/site.om'
    assert _hints(tmp_path) == {
        "E020 unknown type 'Tier'": (f"'Tier' is declared in common/types.om, {fix}",),
        "E020 unknown name 'T50': not a member of any enum": (
            f"'T50' (enum Tier) is declared in common/types.om, {fix}",
        ),
        "E020 unknown name 'T100': not a member of any enum": (
            f"'T100' (enum Tier) is declared in common/types.om, {fix}",
        ),
        "E025 callout to undeclared system 'Net'": (
            f"'Net' is declared in common/types.om, {fix}",
        ),
        "E026 unknown queue 'techs'": (f"'techs' is declared in common/types.om, {fix}",),
    }


def test_once_imported_it_compiles(tmp_path: Path) -> None:
    _write(tmp_path, {"main.om": ROOT + 'import "common/types.om"\n', "sites/site.om": SITE})
    _write(tmp_path, {"common/types.om": TYPES})
    assert compile_catalog(tmp_path / "main.om").catalog is not None


def test_a_name_declared_nowhere_keeps_its_own_hints(tmp_path: Path) -> None:
    _write(tmp_path, {"main.om": ROOT, "sites/site.om": SITE.replace("Net", "Nett")})
    _write(tmp_path, {"common/types.om": TYPES})
    hints = _hints(tmp_path)
    assert hints["E025 callout to undeclared system 'Nett'"] == (
        "callouts may only go to systems declared in the catalog",
    )


def test_files_outside_the_catalog_root_are_not_read(tmp_path: Path) -> None:
    """A symlink that leads out of the root is skipped, as an import of it would be refused."""
    outside, root = tmp_path / "outside", tmp_path / "root"
    _write(outside, {"types.om": TYPES})
    _write(root, {"main.om": ROOT, "sites/site.om": SITE})
    try:
        (root / "linked.om").symlink_to(outside / "types.om")
    except OSError:
        pytest.skip("no symlinks here")
    hints = _hints(root)
    assert not any("is declared in" in h for hs in hints.values() for h in hs)


def test_another_catalogs_root_is_not_suggested(tmp_path: Path) -> None:
    """Importing a file with a `catalog` header is E013: it is a catalog of its own."""
    _write(tmp_path, {"main.om": ROOT, "sites/site.om": SITE})
    _write(tmp_path, {"other.om": 'catalog "Other" version "1"\n' + TYPES})
    hints = _hints(tmp_path)
    assert not any("is declared in" in h for hs in hints.values() for h in hs)


def test_the_loaded_files_do_not_count_against_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unimported, "MAX_FILES", 2)
    imports = "".join(f'import "a/f{n}.om"\n' for n in range(5))
    files = {f"a/f{n}.om": f'queue q{n} "Q"\n' for n in range(5)}
    _write(tmp_path, {"main.om": ROOT + imports, "sites/site.om": SITE, **files})
    _write(tmp_path, {"z/types.om": TYPES})
    hints = _hints(tmp_path)
    assert any("declared in z/types.om" in h for hs in hints.values() for h in hs)


def test_a_file_too_large_to_be_a_catalog_is_not_read(tmp_path: Path) -> None:
    _write(tmp_path, {"main.om": ROOT, "sites/site.om": SITE})
    (tmp_path / "huge.om").write_text(TYPES + "//" + "x" * (1024 * 1024) + "\n")
    hints = _hints(tmp_path)
    assert not any("is declared in" in h for hs in hints.values() for h in hs)


def test_a_misspelt_import_is_the_one_error_for_the_names_its_file_declares(
    tmp_path: Path,
) -> None:
    """One typo in an import gave 20 errors, each hinting "add import ..." of the file the
    typo meant, while the fix was the typo (found by a designer new to om_dsl)."""
    root = ROOT.replace('import "sites/site.om"', 'import "sites/site.om"\nimport "common/type.om"')
    _write(tmp_path, {"main.om": root, "sites/site.om": SITE, "common/types.om": TYPES})
    assert _hints(tmp_path) == {
        "E010 cannot find 'common/type.om'": (
            "did you mean 'common/types.om'?",
            "5 errors about names that file declares are left out: they go once this is fixed",
        )
    }
    assert compile_catalog(tmp_path / "main.om").diagnostics[0].code == "E010"


def test_a_failed_import_of_another_file_keeps_the_import_hints(tmp_path: Path) -> None:
    root = ROOT + 'import "zzz.om"\n'
    _write(tmp_path, {"main.om": root, "sites/site.om": SITE, "common/types.om": TYPES})
    hints = _hints(tmp_path)
    assert hints["E010 cannot find 'zzz.om'"] == ()
    assert "add import" in hints["E026 unknown queue 'techs'"][0]
