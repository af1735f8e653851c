"""The native build (om_dsl.accel): used only while it matches its sources, all or none.

The guard's verdicts are checked on small package trees of their own; the real build is
checked on a copy of the package (``make accel`` makes it; with ``OM_DSL_REQUIRE_NATIVE=1``, as
CI sets, a missing build fails these tests instead of skipping them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from om_dsl import accel
from om_dsl.accel import MANIFEST, SourceFinder, Status, check, extension_path, group_file
from om_dsl.accel import build as accel_build
from om_dsl.accel.build import BuildFailed, build

MODULES = ("om_dsl.syntax.first", "om_dsl.compiler.second")
REQUIRED = os.environ.get("OM_DSL_REQUIRE_NATIVE", "") not in ("", "0")


def python_c(package_parent: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -c code`` importing the ``om_dsl`` under ``package_parent``."""
    environment = {k: v for k, v in os.environ.items() if k != accel.PURE_ENV}
    environment.update(PYTHONPATH=str(package_parent), **env)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environment,
        cwd=package_parent,  # not the checkout, whose om_dsl would come first
        check=False,
    )


def run_in(package_parent: Path, code: str, **env: str) -> str:
    done = python_c(package_parent, code, **env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def fake_build(root: Path, modules: tuple[str, ...] = MODULES, stats: bool = False) -> None:
    """A package tree with sources, an 'extension' per module and a matching manifest (with
    the sources' sizes and times if ``stats``, as a build writes it; without, as before)."""
    for module in modules:
        source = Path(accel.source_path(module, str(root)))
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(f"NAME = {module!r}\n")
        Path(extension_path(module, str(root))).write_bytes(b"not really a shared library")
    Path(group_file(str(root))).write_bytes(b"")
    sources = accel.digests(modules, str(root))
    manifest: dict[str, object] = {"python": sys.implementation.cache_tag, "modules": sources}
    if stats:
        manifest["stats"] = accel.fingerprints(modules, str(root))
    (root / MANIFEST).write_text(json.dumps(manifest))


def hashes_taken(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the guard's calls of ``digests`` (one per check that reads the sources)."""
    calls: list[int] = []
    real = accel.digests

    def counting(modules: tuple[str, ...], root: str) -> dict[str, str]:
        calls.append(1)
        return real(modules, root)

    monkeypatch.setattr(accel, "digests", counting)
    return calls


def set_time(path: Path, ns: int) -> None:
    os.utime(path, ns=(ns, ns))


@pytest.fixture(autouse=True)
def not_forced_pure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(accel.PURE_ENV, raising=False)


def test_a_complete_build_of_the_current_sources_is_used(tmp_path: Path) -> None:
    fake_build(tmp_path)
    assert check(str(tmp_path), MODULES) == Status(True, "2 modules compiled")


def test_an_edited_source_makes_the_build_stale_and_names_the_module(tmp_path: Path) -> None:
    fake_build(tmp_path)
    Path(accel.source_path(MODULES[1], str(tmp_path))).write_text("NAME = 'edited'\n")
    verdict = check(str(tmp_path), MODULES)
    assert not verdict.active
    assert verdict.reason == ("stale: om_dsl.compiler.second changed since the build (make accel)")


def test_unchanged_sizes_and_times_are_trusted_without_reading_the_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_build(tmp_path, stats=True)
    hashed = hashes_taken(monkeypatch)
    assert check(str(tmp_path), MODULES) == Status(True, "2 modules compiled")
    assert hashed == []


def test_an_edit_of_the_same_size_is_found_by_its_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_build(tmp_path, stats=True)
    source = Path(accel.source_path(MODULES[0], str(tmp_path)))
    before = source.stat().st_mtime_ns
    source.write_text(source.read_text().replace("first", "FIRST"))
    set_time(source, before + 1_000_000)
    hashed = hashes_taken(monkeypatch)
    assert check(str(tmp_path), MODULES).reason.startswith("stale: om_dsl.syntax.first")
    assert hashed == [1]


def test_an_edit_that_keeps_size_and_time_is_trusted_as_python_trusts_a_pyc(
    tmp_path: Path,
) -> None:
    """The documented limit of the fast path: only a tool that sets a file's time back can
    get past it (``make accel --force`` or ``OM_DSL_PURE=1`` then)."""
    fake_build(tmp_path, stats=True)
    source = Path(accel.source_path(MODULES[0], str(tmp_path)))
    before = source.stat().st_mtime_ns
    source.write_text(source.read_text().replace("first", "FIRST"))
    set_time(source, before)
    assert check(str(tmp_path), MODULES).active


def test_a_touched_source_is_hashed_until_a_build_refreshes_its_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_build(tmp_path, stats=True)
    source = Path(accel.source_path(MODULES[1], str(tmp_path)))
    set_time(source, source.stat().st_mtime_ns + 5_000_000_000)  # a checkout: same content
    hashed = hashes_taken(monkeypatch)
    assert check(str(tmp_path), MODULES).active
    assert hashed == [1]
    assert accel_build.refresh_stats(tmp_path, MODULES)
    assert not accel_build.refresh_stats(tmp_path, MODULES)  # nothing left to refresh
    hashed.clear()
    assert check(str(tmp_path), MODULES).active
    assert hashed == []


def test_refreshing_never_records_the_time_of_an_edited_source(tmp_path: Path) -> None:
    fake_build(tmp_path, stats=True)
    source = Path(accel.source_path(MODULES[1], str(tmp_path)))
    source.write_text("NAME = 'edited'\n")
    manifest = (tmp_path / MANIFEST).read_text()
    assert not accel_build.refresh_stats(tmp_path, MODULES)
    assert (tmp_path / MANIFEST).read_text() == manifest
    assert check(str(tmp_path), MODULES).reason.startswith("stale: om_dsl.compiler.second")


def test_a_missing_extension_or_shared_library_makes_it_incomplete(tmp_path: Path) -> None:
    fake_build(tmp_path)
    Path(extension_path(MODULES[0], str(tmp_path))).unlink()
    assert check(str(tmp_path), MODULES).reason.startswith("incomplete build (1 extensions missing")
    fake_build(tmp_path)
    Path(group_file(str(tmp_path))).unlink()
    assert check(str(tmp_path), MODULES).reason.startswith("incomplete build (0 extensions missing")


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        ("{", "unreadable _accel.json: Expecting property name"),
        ("[]", "unreadable _accel.json: not a build manifest"),
        ('{"python": "x", "modules": {}}', "built for another module list (make accel)"),
    ],
)
def test_a_damaged_manifest_is_not_trusted(tmp_path: Path, manifest: str, reason: str) -> None:
    fake_build(tmp_path)
    (tmp_path / MANIFEST).write_text(manifest)
    verdict = check(str(tmp_path), MODULES)
    assert not verdict.active
    assert verdict.reason.startswith(reason)


def test_a_build_for_another_python_is_not_used(tmp_path: Path) -> None:
    fake_build(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    (tmp_path / MANIFEST).write_text(json.dumps({**manifest, "python": "cpython-399"}))
    assert check(str(tmp_path), MODULES).reason.startswith(
        "built for cpython-399, this is cpython-"
    )


def test_no_manifest_means_not_built_and_the_variable_forces_pure_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check(str(tmp_path), MODULES) == Status(False, "not built (make accel)")
    fake_build(tmp_path)
    monkeypatch.setenv(accel.PURE_ENV, "1")
    assert check(str(tmp_path), MODULES) == Status(False, "OM_DSL_PURE is set")


def test_the_finder_loads_the_source_beside_a_broken_extension(tmp_path: Path) -> None:
    """Without the finder, Python would try the 'extension' first and fail to load it."""
    fake_build(tmp_path / "om_dsl")
    (tmp_path / "om_dsl" / "__init__.py").write_text("")
    for package in ("syntax", "compiler"):
        (tmp_path / "om_dsl" / package / "__init__.py").write_text("")
    code = (
        "import sys; from om_dsl_accel_under_test import SourceFinder\n"
        f"sys.meta_path.insert(0, SourceFinder({MODULES!r}, {str(tmp_path / 'om_dsl')!r}))\n"
        "import om_dsl.syntax.first as m; print(m.NAME, m.__file__.endswith('.py'))"
    )
    shutil.copy(accel.__file__, tmp_path / "om_dsl_accel_under_test.py")
    assert run_in(tmp_path, code) == "om_dsl.syntax.first True"
    failed = python_c(tmp_path, "import om_dsl.syntax.first")
    assert "ImportError" in failed.stderr  # the test would prove nothing if this loaded


def test_finder_answers_only_for_its_modules(tmp_path: Path) -> None:
    finder = SourceFinder(MODULES, str(tmp_path))
    assert finder.find_spec("om_dsl.syntax.parser", None) is None
    spec = finder.find_spec(MODULES[0], None)
    assert spec is not None
    assert spec.origin == str(tmp_path / "syntax" / "first.py")


# ---- the real build ------------------------------------------------------------------------


def built() -> bool:
    live = check()
    if not live.active and REQUIRED:
        pytest.fail(f"OM_DSL_REQUIRE_NATIVE is set, but the package is {live.describe()}")
    return live.active


REPORT = (
    "import om_dsl.accel as a, om_dsl.syntax.lexer as l, om_dsl.compiler.driver as d\n"
    "print(a.status().describe(), l.__file__.endswith('.py'), d.__file__.endswith('.py'))\n"
    "r = d.compile_catalog('x.om', 'catalog \"X\" version \"1\"\\nenum E { A, B }\\n')\n"
    "print(len(r.diagnostics), r.catalog is not None)"
)


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """The package with its build, in a directory of its own (edits stay in the copy)."""
    if not built():
        pytest.skip("no native build here (make accel)")
    shutil.copytree(
        accel.PACKAGE_DIR, tmp_path / "om_dsl", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def test_the_built_package_runs_its_compiled_modules(package_copy: Path) -> None:
    assert run_in(package_copy, REPORT).splitlines() == [
        f"native (mypyc): {len(accel.MODULES)} modules compiled False False",
        "0 True",
    ]


def test_an_edit_after_the_build_runs_the_edited_source_everywhere(package_copy: Path) -> None:
    lexer = package_copy / "om_dsl" / "syntax" / "lexer.py"
    lexer.write_text(lexer.read_text() + "\nEDITED = True\n")
    lines = run_in(package_copy, REPORT + "\nimport om_dsl.syntax.lexer as l; print(l.EDITED)")
    assert lines.splitlines() == [
        "pure Python: stale: om_dsl.syntax.lexer changed since the build (make accel) True True",
        "0 True",
        "True",
    ]


def test_the_variable_runs_the_built_package_as_python(package_copy: Path) -> None:
    lines = run_in(package_copy, REPORT, OM_DSL_PURE="1").splitlines()
    assert lines == ["pure Python: OM_DSL_PURE is set True True", "0 True"]


# ---- building ------------------------------------------------------------------------------

TINY = "def twice(n: int) -> int:\n    return 2 * n\n"
TINY_MODULES = ("om_dsl.syntax.first",)


def tiny_package(parent: Path, source: str = TINY) -> Path:
    """A package ``om_dsl`` of one module under ``parent`` (no guard: imports take the .so)."""
    root = parent / "om_dsl"
    (root / "syntax").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "syntax" / "__init__.py").write_text("")
    (root / "syntax" / "first.py").write_text(source)
    return root


def build_or_skip(root: Path) -> str:
    """A first build: where there is no C compiler, the package runs as Python (not in CI)."""
    try:
        return build(root, TINY_MODULES, jobs=1)
    except BuildFailed as exc:
        if REQUIRED:
            raise
        pytest.skip(f"no native build on this machine: {exc}")


def test_a_build_installs_the_extensions_and_a_manifest_that_check_trusts(tmp_path: Path) -> None:
    root = tiny_package(tmp_path)
    summary = build_or_skip(root)
    assert summary.startswith("compiled 1 modules in ")
    assert check(str(root), TINY_MODULES) == Status(True, "1 modules compiled")
    stats = json.loads((root / MANIFEST).read_text())["stats"]
    assert stats == accel.fingerprints(TINY_MODULES, str(root))  # the guard's fast path
    code = "import om_dsl.syntax.first as m; print(m.twice(21), m.__file__.endswith('.py'))"
    assert run_in(tmp_path, code) == "42 False"
    assert (tmp_path / "build" / "accel" / "build.log").read_text()  # what mypyc and gcc said


def test_a_failed_build_says_why_and_leaves_the_previous_one_alone(tmp_path: Path) -> None:
    root = tiny_package(tmp_path)
    build_or_skip(root)
    manifest = (root / MANIFEST).read_text()
    (root / "syntax" / "first.py").write_text(TINY + "def broken(n: int) -> str:\n    return n\n")
    with pytest.raises(BuildFailed, match="Incompatible return value type"):
        build(root, TINY_MODULES, jobs=1)
    assert (root / MANIFEST).read_text() == manifest  # the old build, now stale: not used
    assert check(str(root), TINY_MODULES).reason.startswith("stale: om_dsl.syntax.first")


@pytest.mark.parametrize(("flags", "code"), [([], 0), (["--require"], 1)])
def test_a_failed_build_says_what_runs_now_and_fails_only_when_required(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], flags: list[str], code: int
) -> None:
    why = "error: [Errno 2] No such file or directory: 'gcc'"

    def no_compiler(**_: object) -> str:
        raise BuildFailed(why)

    monkeypatch.setattr(accel_build, "build", no_compiler)
    assert accel_build.main(["build", "--force", *flags]) == code
    said = capsys.readouterr().out.splitlines()
    assert said[0] == f"om_dsl native build failed: {why}"
    assert said[1] == f"om_dsl now runs: {check().describe()}"
