"""The package's public names: imported on first use, and all of them importable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import om_dsl


def test_every_public_name_resolves_to_its_home() -> None:
    assert set(om_dsl.__all__) == set(om_dsl._HOME)
    for name in om_dsl.__all__:
        value = getattr(om_dsl, name)
        assert value.__name__ == name
        assert value.__module__.startswith(om_dsl._HOME[name])
    assert set(om_dsl.__all__) <= set(dir(om_dsl))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Runtim'"):
        om_dsl.Runtim  # type: ignore[attr-defined]  # noqa: B018


def test_importing_the_package_loads_nothing_else() -> None:
    """Only the guard of the native build, which must run before any module it covers."""
    code = "import sys, om_dsl; print(sorted(m for m in sys.modules if m.startswith('om_dsl')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['om_dsl', 'om_dsl.accel']"


def test_a_type_checker_knows_the_public_names_and_refuses_a_typo(tmp_path: Path) -> None:
    """The lazy module ``__getattr__`` is hidden from type checkers: with it, any name,
    `om_dsl.compile_catalgo` included, type-checked as Any (found by the embedding hunt)."""
    pytest.importorskip("mypy")
    host = tmp_path / "host.py"
    host.write_text(
        "import om_dsl\nreveal_type(om_dsl.compile_catalog)\nom_dsl.compile_catalgo('x')\n",
        encoding="utf-8",
    )
    cache = tmp_path / "cache"
    # In its own process: mypy raises the recursion limit of the process it runs in.
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--cache-dir", str(cache), str(host)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 1, done.stderr
    assert 'Revealed type is "def (path: str | pathlib.Path' in out, out
    assert 'Module has no attribute "compile_catalgo"; maybe "compile_catalog"?' in out
