"""om_dsl's exceptions cross process boundaries whole: a host that compiles or decomposes in a
process pool gets the error it would get in-process.  ``CompileError`` broke the pool
(``BrokenProcessPool``: pickle re-called it with its message), and an ``OrderValidationError``
came back saying "102 problem(s); first: o" (its message taken as its issues)."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from om_dsl import StoreIsBackup, compile_catalog
from om_dsl.errors import (
    CompileError,
    DecompositionError,
    InstalledBaseError,
    NotFound,
    OmError,
    OrderIssue,
    OrderValidationError,
    UnmappableCallback,
)
from om_dsl.runtime.store import BackupMark

BAD = 'catalog "C" version "1"\noffer O { attribute a: nope }\n'
ISSUES = [OrderIssue("O036", "items[0].attributes.speed", "expected an integer")]


def _compile_error() -> CompileError:
    with pytest.raises(CompileError) as raised:
        compile_catalog("c.om", text=BAD).raise_on_error()
    return raised.value


def _same(error: OmError) -> None:
    back: Any = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
    for name in ("diagnostics", "issues", "reason", "mark", "unfinished"):
        assert getattr(back, name, None) == getattr(error, name, None)


def test_a_compile_error_keeps_its_diagnostics_and_sources() -> None:
    error = _compile_error()
    error.add_note("while loading the catalog of tenant 7")
    back = pickle.loads(pickle.dumps(error))
    assert back.render() == error.render()
    assert back.__notes__ == ["while loading the catalog of tenant 7"]
    _same(error)


@pytest.mark.parametrize(
    "error",
    [
        OrderValidationError(ISSUES * 3),
        InstalledBaseError(ISSUES),
        DecompositionError(ISSUES),
        UnmappableCallback("no field 'x' in the body"),
        NotFound("no order ORD-1"),
        StoreIsBackup("copy.db", BackupMark("/srv/om/om.db", "2026-11-28T02:00:04Z", 3), 2),
    ],
    ids=lambda e: type(e).__name__,
)
def test_order_errors_keep_their_issues_and_message(error: OmError) -> None:
    _same(error)


def _compile_in_worker() -> None:
    compile_catalog("c.om", text=BAD).raise_on_error()


def test_a_process_pool_hands_back_the_compile_error() -> None:
    with ProcessPoolExecutor(max_workers=1) as pool, pytest.raises(CompileError) as raised:
        pool.submit(_compile_in_worker).result()
    assert raised.value.diagnostics == _compile_error().diagnostics
