"""A key given twice in one JSON object is an error (O014) with its path, never "last one wins".

``json.loads`` keeps the last value of a repeated key without a word, so the reader counts the
keys it kept and compares them with the keys of the text (a cheap screen, see
``om_dsl/orders/screen.py``); only when they differ is the text parsed again, keeping every
key, to find which ones repeat and where.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from decomposition_support import ACME, EXAMPLE_ORDERS, decomposer, outcome
from hypothesis import example, given
from hypothesis import strategies as st

from om_dsl.errors import OrderValidationError
from om_dsl.orders.issues import index, key
from om_dsl.orders.jsondoc import _counting, load_document
from om_dsl.orders.screen import may_repeat_keys, utf8


def _repeats(text: str) -> list[tuple[str, str]]:
    try:
        load_document(text)
    except OrderValidationError as exc:
        return [(i.code, i.path) for i in exc.issues]
    return []


def test_repeated_keys_and_other_document_problems_are_listed_in_document_order() -> None:
    """A repeated key is found when its object closes, so O014 on `static_ip` came before
    an O004 on `speed`, although the docs list the fields of an object by name."""
    text = (
        '{"id": "x", "items": [{"id": "f", "product": "HomeFibre",'
        ' "attributes": {"static_ip": true, "speed": 1e999, "static_ip": false}}]}'
    )
    assert _repeats(text) == [
        ("O004", "items[0].attributes.speed"),
        ("O014", "items[0].attributes.static_ip"),
    ]


def test_a_repeated_attribute_is_reported_not_overwritten() -> None:
    text = (
        '{"id": "x", "items": [{"id": "f", "product": "HomeFibre",'
        ' "attributes": {"speed": 500, "speed": 5000}}]}'
    )
    with pytest.raises(OrderValidationError) as caught:
        decomposer(ACME, "compiled").decompose(text)
    [issue] = caught.value.issues
    assert (issue.code, issue.path) == ("O014", "items[0].attributes.speed")
    assert "given 2 times" in issue.message


@pytest.mark.parametrize(
    ("text", "paths"),
    [
        ('{"id": "a", "id": "b", "items": []}', ["id"]),
        ('{"items": [{"x": 1}, {"y": 1, "y": 2, "z": 1, "z": 1}]}', ["items[1].y", "items[1].z"]),
        ('{"a" : 1, "a" : 2}', ["a"]),  # blanks before the colon (Jackson's pretty printer)
        ('{"a"\n:1,\n"a"\t:2}', ["a"]),
        ('{"a.b": 1, "a.b": 2}', ['["a.b"]']),
        ('{"note": [{"text": "x", "text": "y"}], "productOrderItem": []}', ["note[0].text"]),
    ],
)
def test_each_repeat_is_reported_with_its_path(text: str, paths: list[str]) -> None:
    assert _repeats(text) == [("O014", path) for path in paths]


def test_a_value_that_looks_like_a_key_is_no_repeat() -> None:
    """Strings holding ``":`` make the screen look closer; the exact check clears them."""
    text = '{"a": ":", "b": "\\": x", "c": [":"], "d": " :"}'
    assert _repeats(text) == []


@pytest.mark.parametrize("separators", [(",", ":"), (", ", " : "), (",\n", "\n:\t")])
def test_any_layout_decomposes_the_same(separators: tuple[str, str]) -> None:
    data = json.loads((EXAMPLE_ORDERS / "home-duo-add.json").read_text())
    text = json.dumps(data, separators=separators)
    assert outcome(ACME, text, "compiled") == outcome(ACME, json.dumps(data), "compiled")


# ---- the screen never misses a repeat ------------------------------------------------------


@dataclass(frozen=True)
class Obj:
    """A JSON object as written: its pairs in order, repeats allowed."""

    pairs: tuple[tuple[str, Any], ...]


KEYS = st.sampled_from(["a", "b", ":", " :", 'q"', "\\", "a:b", ""]) | st.text(max_size=3)
SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | KEYS
NODES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(st.tuples(KEYS, inner), max_size=4).map(lambda p: Obj(tuple(p)))
        | st.lists(inner, max_size=3)
    ),
    max_leaves=12,
)
SEPARATORS = st.tuples(
    st.sampled_from([",", ", ", ",\n  "]),
    st.sampled_from([":", ": ", " : ", "\t:", "  :  ", "\n:", " \r\n :"]),
)


def _write(node: Any, seps: tuple[str, str], ascii: bool) -> str:
    item, colon = seps
    if isinstance(node, Obj):
        pairs = (
            json.dumps(k, ensure_ascii=ascii) + colon + _write(v, seps, ascii)
            for k, v in node.pairs
        )
        return "{" + item.join(pairs) + "}"
    if isinstance(node, list):
        return "[" + item.join(_write(v, seps, ascii) for v in node) + "]"
    return json.dumps(node, ensure_ascii=ascii)


def _expected(node: Any, path: str = "") -> list[str]:
    """The paths of the repeated keys that ``json.loads`` lets the walk see (a repeated key
    keeps its last value only, so repeats inside its earlier values are gone)."""
    out: list[str] = []
    if isinstance(node, Obj):
        kept: dict[str, Any] = {}
        counts: dict[str, int] = {}
        for name, value in node.pairs:
            kept[name] = value
            counts[name] = counts.get(name, 0) + 1
        for name, value in kept.items():
            if counts[name] > 1:
                out.append(key(path, name))
            out.extend(_expected(value, key(path, name)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_expected(value, index(path, i)))
    return out


@example(Obj((("a", 1), ("a", ":"))), (",", " : "), True)
@example(Obj((("a", Obj((("x", 1), ("x", 2)))), ("a", 3))), (",", ":"), True)
@given(NODES, SEPARATORS, st.booleans())
def test_the_screen_never_misses_a_repeat(node: Any, seps: tuple[str, str], ascii: bool) -> None:
    text = _write(node, seps, ascii)
    sizes: list[int] = []
    json.loads(text, object_hook=_counting(sizes))
    expected = _expected(node)
    if expected:
        assert may_repeat_keys(utf8(text), sum(sizes))
    found = [path for code, path in _repeats(text) if code == "O014"]  # not odd characters
    assert sorted(found) == sorted(expected)
