"""The unvalidated IR builder gives the same models, and the same JSON, as validation."""

from __future__ import annotations

import pytest

from om_dsl.compiler.build import builder
from om_dsl.ir import models as ir

new_retry = builder(ir.RetryPolicy)


def test_built_model_equals_the_validated_one_and_dumps_the_same() -> None:
    built = new_retry(kind="staggered", delays_ms=[1000, 5000], max_retries=2)
    validated = ir.RetryPolicy(kind="staggered", delays_ms=[1000, 5000], max_retries=2)
    assert built == validated
    assert built.model_dump_json() == validated.model_dump_json()


def test_omitted_fields_take_their_defaults_and_list_defaults_are_not_shared() -> None:
    first, second = new_retry(kind="none"), new_retry(kind="none")
    assert first == ir.RetryPolicy(kind="none")
    assert first.delays_ms == [] and first.delays_ms is not second.delays_ms


def test_unknown_or_missing_fields_are_refused_as_validation_would() -> None:
    with pytest.raises(TypeError, match="unknown or missing"):
        new_retry(kind="none", colour="red")
    with pytest.raises(TypeError, match="unknown or missing"):
        new_retry(max_retries=3)
