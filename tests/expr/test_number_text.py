"""`int()` and `decimal()` of text say what is wrong in the catalog's words: Python's own
messages named `sys.set_int_max_str_digits()` and echoed a 10,000-character value whole
(found by an adversarial review)."""

from __future__ import annotations

import pytest

from om_dsl.expr.evaluate import EvalError, compile_expr
from om_dsl.ir import models as ir

V = ir.Ref(type="any", root="source", path=["v"])


def _run(fn: str, value: str) -> object:
    return compile_expr(ir.CallOp(type="any", fn=fn, args=[V]))({"source": {"v": value}})


@pytest.mark.parametrize(
    ("fn", "value", "message"),
    [
        ("int", "9" * 5000, "int() failed: '99999"),
        ("int", "a" * 10_000, "int() failed: 'aaaa"),
        ("decimal", "a" * 10_000, "decimal() failed: 'aaaa"),
    ],
)
def test_text_that_is_no_number_is_refused_in_few_words(fn: str, value: str, message: str) -> None:
    with pytest.raises(EvalError) as caught:
        _run(fn, value)
    text = str(caught.value)
    assert text.startswith(message) and len(text) < 200, text
    assert "sys." not in text and "convert string" not in text


def test_numbers_in_text_still_read_exactly() -> None:
    assert _run("int", " 12 ") == 12
    assert _run("int", "1e3") == 1000
    assert _run("decimal", "1.5") == 1.5
    assert _run("int", "9007199254740992") == 9007199254740992  # exactly, not through a float
