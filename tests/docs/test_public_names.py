"""The names the docs give as the public API import from ``om_dsl`` itself: docs/runtime.md
describes ``PermanentFailure`` and ``StoreInUse`` as the runtime's, and they lived only in
``om_dsl.runtime``, so ``from om_dsl import StoreInUse`` failed."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import om_dsl
import om_dsl.runtime

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNTIME_DOC = (ROOT / "docs" / "runtime.md").read_text(encoding="utf-8")


def test_the_runtime_errors_the_docs_name_are_public() -> None:
    """Every exception class ``om_dsl.runtime`` exports and docs/runtime.md names: a host
    catches them, so they are public as the other runtime errors are (``NotFound``,
    ``OperatorActionRejected``, ``PlanError``)."""
    named = set(re.findall(r"`(\w+)`", RUNTIME_DOC))
    errors = {
        name
        for name in om_dsl.runtime.__all__
        if isinstance(value := getattr(om_dsl.runtime, name), type)
        and issubclass(value, BaseException)
        and name in named
    }
    assert {"PermanentFailure", "StoreInUse"} <= errors
    assert errors - set(om_dsl.__all__) == set()
    for name in errors:
        assert getattr(om_dsl, name) is getattr(om_dsl.runtime, name)


def test_every_documented_import_from_the_package_works() -> None:
    """Each ``from om_dsl import ...`` of the README and the docs names only public names."""
    found = 0
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for module, names in re.findall(r"^from (om_dsl[\w.]*) import ([\w, ]+)$", text, re.M):
            imported = importlib.import_module(module)
            for name in (n.strip() for n in names.split(",")):
                found += 1
                assert hasattr(imported, name), f"{page.name}: from {module} import {name}"
                if module == "om_dsl":
                    assert name in om_dsl.__all__, f"{page.name}: {name}"
    assert found > 10
