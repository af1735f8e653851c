"""The written-out ``__init__`` methods of the classes the native build compiles (see
:mod:`om_dsl.syntax.ast`): each takes the class's fields, in order, with the same defaults, and
sets every one of them.

A dataclass keeps an explicit ``__init__``, so a field added without its ``__init__`` would go
unset, and fail only where some pass reads it.  These run as pure Python (CI runs
``tests/compiler`` again with ``OM_DSL_PURE=1``): compiled methods carry no signature.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from om_dsl.compiler.exprs import ExprEnv
from om_dsl.orders.merge import Contribution
from om_dsl.orders.structure import ItemInfo
from om_dsl.orders.worlds import Built, Origin
from om_dsl.rules.engine import Fact
from om_dsl.source import Span
from om_dsl.syntax import ast
from om_dsl.syntax.lexer import NATIVE

NODES = [
    cls
    for cls in vars(ast).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == ast.__name__
]
CLASSES = sorted(
    [*NODES, Span, ExprEnv, Built, Origin, Contribution, ItemInfo, Fact],
    key=lambda cls: cls.__name__,
)


def test_every_node_class_is_checked() -> None:
    assert len(NODES) > 30


@pytest.mark.skipif(NATIVE, reason="compiled methods carry no signature; the pure run checks it")
@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_init_takes_the_fields_in_order_with_their_defaults(cls: type) -> None:
    fields = dataclasses.fields(cls)
    params = list(inspect.signature(cls).parameters.values())
    assert [p.name for p in params] == [f.name for f in fields]
    for param, field in zip(params, fields, strict=True):
        if field.default is not dataclasses.MISSING:
            assert param.default == field.default
        elif field.default_factory is dataclasses.MISSING:
            assert param.default is inspect.Parameter.empty


@pytest.mark.skipif(NATIVE, reason="compiled __init__ checks types; the pure run checks this")
@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_init_sets_every_field_to_its_argument(cls: type) -> None:
    fields = dataclasses.fields(cls)
    values = [object() for _ in fields]
    node = cls(*values)
    assert [getattr(node, f.name) for f in fields] == values
