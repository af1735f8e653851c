"""The names the docs give as the public API import from ``om_dsl`` itself: docs/runtime.md
describes ``PermanentFailure`` and ``StoreInUse`` as the runtime's, and they lived only in
``om_dsl.runtime``, so ``from om_dsl import StoreInUse`` failed."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

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


PUBLIC_MODULES = (
    "om_dsl.errors",
    "om_dsl.runtime",
    "om_dsl.runtime.downstream",
    "om_dsl.runtime.notify",
    "om_dsl.render",
    "om_dsl.rules.engine",
)


def test_every_error_the_docs_name_imports_from_om_dsl_and_is_an_om_error() -> None:
    """`SigningError`, which `Runtime(...)` raises for a signing secret that is not set, was a
    bare ValueError that only `om_dsl.runtime.notify` exported, and `StoreError`,
    `UnknownQueue` and `EngineUnavailable` imported only from where they are defined: a host
    catching `OmError`, or importing from `om_dsl` as the docs do, missed them."""
    named = {name for page in PAGES for name in re.findall(r"`(\w+)`", page.read_text("utf-8"))}
    errors: dict[str, type[BaseException]] = {}
    for module in map(importlib.import_module, PUBLIC_MODULES):
        for name in named:
            value = getattr(module, name, None)
            ours = isinstance(value, type) and value.__module__.startswith("om_dsl.")
            if ours and issubclass(value, BaseException):
                errors[name] = value
    assert {"StoreError", "EngineUnavailable", "UnknownQueue", "SigningError"} <= set(errors)
    for name, error in errors.items():
        assert name in om_dsl.__all__, name
        assert getattr(om_dsl, name) is error, name
        assert issubclass(error, om_dsl.OmError), name
    assert om_dsl.ItemContext is om_dsl.runtime.ItemContext


def test_a_signing_secret_that_is_not_set_is_an_om_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from om_dsl import DownstreamSettings, NotifySettings, OmError, Runtime, SigningError  # noqa: PLC0415

    monkeypatch.delenv("OM_TEST_UNSET_SECRET", raising=False)
    settings = DownstreamSettings(notify=NotifySettings(signing_secret_env="OM_TEST_UNSET_SECRET"))
    with pytest.raises(OmError) as raised:
        Runtime(downstream=settings)
    assert isinstance(raised.value, SigningError)
    assert isinstance(raised.value, ValueError)  # what it was: listeners may catch that
    assert "$OM_TEST_UNSET_SECRET is not set" in str(raised.value)
