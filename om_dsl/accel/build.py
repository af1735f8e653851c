"""``python -m om_dsl.accel build | status | clean``: makes, reports and removes the native build.

The build is staged: mypyc and the C compiler write under ``build/accel`` first, and only a
complete build is copied into the package, with the manifest written last (atomically).  A
build that fails leaves the package as it was (Python, or the previous build, used while it
matches its sources); one interrupted while copying leaves no manifest, so the package runs
as Python until the next build.  The guard in :mod:`om_dsl.accel` never trusts half of one.
The digests are taken before mypyc reads the sources and checked again after, so a file saved
during the build makes it stale rather than wrongly trusted.

``build`` never fails a set-up: without mypyc or a C compiler it says why, says what the
package runs now, and exits 0 (``--require`` makes that exit 1, for CI, which must test the
build).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from om_dsl.accel import (
    GROUP,
    MANIFEST,
    MODULES,
    PACKAGE_DIR,
    check,
    digests,
    extension_path,
    fingerprints,
    group_file,
    source_path,
)

STAGE = "build/accel"
PACKAGE = Path(PACKAGE_DIR)


class BuildFailed(Exception):
    """Why there is no native build; the package runs as Python."""


def build(root: Path = PACKAGE, modules: Sequence[str] = MODULES, jobs: int = 2) -> str:
    """Compile ``modules`` and install them into the package at ``root``; returns a summary."""
    project = root.parent
    stats = fingerprints(modules, str(root))  # before the digests: a later edit shows in both
    before = digests(modules, str(root))
    started = time.perf_counter()
    stage = project / STAGE
    shutil.rmtree(stage, ignore_errors=True)
    _compile(project, stage, [Path(source_path(m, str(root))) for m in modules], jobs)
    if digests(modules, str(root)) != before:
        raise BuildFailed("sources changed during the build; run it again")
    remove(root, modules)
    _install(stage / "lib", project, modules, root)
    _write_manifest(root, before, stats)
    return f"compiled {len(modules)} modules in {time.perf_counter() - started:.0f} s"


def _compile(project: Path, stage: Path, paths: list[Path], jobs: int) -> None:
    """mypyc, then setuptools' build_ext, in ``project`` (mypyc names modules from paths);
    what they print goes to ``build.log`` in the stage, success or not."""
    try:
        from mypyc.build import mypycify  # noqa: PLC0415 - a build-time tool, often absent

        setup = importlib.import_module("setuptools").setup  # untyped: no stubs
    except ImportError as exc:
        raise BuildFailed(f"mypyc or setuptools is missing ({exc})") from exc
    relative = [str(p.relative_to(project)) for p in paths]
    args = ["build_ext", "--build-lib", str(stage / "lib"), "--build-temp", str(stage / "tmp")]
    out = io.StringIO()
    log = stage / "build.log"
    with (
        contextlib.chdir(project),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(out),
        _logging_to(out),  # setuptools reports the compiler commands through logging
    ):
        try:
            extensions = mypycify(relative, target_dir=str(stage / "c"), group_name=GROUP)
            setup(name="om_dsl_accel", ext_modules=extensions, script_args=[*args, "-j", str(jobs)])
        except (Exception, SystemExit) as exc:  # setuptools exits on a compiler error
            raise BuildFailed(f"{exc}\n{_tail(out)}\n(the whole log: {log})") from exc
        finally:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(out.getvalue(), encoding="utf-8")


@contextlib.contextmanager
def _logging_to(out: io.StringIO) -> Iterator[None]:
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _tail(out: io.StringIO, lines: int = 15) -> str:
    return "\n".join(out.getvalue().splitlines()[-lines:])


def _install(lib: Path, project: Path, modules: Sequence[str], root: Path) -> None:
    targets = [extension_path(m, str(root)) for m in modules] + [group_file(str(root))]
    for target in map(Path, targets):
        shutil.copy2(lib / target.relative_to(project), target)


def _write_manifest(root: Path, sources: dict[str, str], stats: dict[str, list[int]]) -> None:
    manifest = {"python": sys.implementation.cache_tag, "modules": sources, "stats": stats}
    temporary = root / (MANIFEST + ".tmp")
    temporary.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, root / MANIFEST)


def refresh_stats(root: Path = PACKAGE, modules: Sequence[str] = MODULES) -> bool:
    """Record the sources' sizes and times again where they changed but not the content (a
    checkout, a ``touch``), so that the guard stops hashing them in every process.

    The stats are taken before the digests, as in :func:`build`: an edit made while this runs
    either shows in the digests (nothing is written) or changes the file's time after the
    stats were taken (the guard hashes it, and finds it stale).
    """
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    stats = fingerprints(modules, str(root))
    if manifest.get("stats") == stats or digests(modules, str(root)) != manifest.get("modules"):
        return False
    _write_manifest(root, manifest["modules"], stats)
    return True


def remove(root: Path = PACKAGE, modules: Sequence[str] = MODULES) -> None:
    """Back to pure Python: the manifest goes first, so nothing half-removed is trusted."""
    (root / MANIFEST).unlink(missing_ok=True)
    for module in modules:
        Path(extension_path(module, str(root))).unlink(missing_ok=True)
    Path(group_file(str(root))).unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m om_dsl.accel", description=__doc__)
    parser.add_argument("command", choices=["build", "status", "clean"])
    parser.add_argument("--require", action="store_true", help="exit 1 when it cannot build")
    parser.add_argument("--force", action="store_true", help="rebuild an up-to-date build")
    parser.add_argument("--jobs", type=int, default=2, help="C compilations run at once")
    args = parser.parse_args(argv)
    if args.command == "status":
        print(check().describe())
        return 0
    if args.command == "clean":
        remove()
        print("removed the native build: om_dsl runs as pure Python")
        return 0
    current = check()
    if current.active and not args.force:
        refreshed = " (sizes and times of its sources refreshed)" if refresh_stats() else ""
        print(f"om_dsl native build is up to date ({current.reason}){refreshed}")
        return 0
    try:
        print(f"om_dsl native build: {build(jobs=args.jobs)}")
    except BuildFailed as exc:
        print(f"om_dsl native build failed: {exc}")
        print(f"om_dsl now runs: {check().describe()}")  # an earlier build, while it matches
        return 1 if args.require else 0
    return 0
