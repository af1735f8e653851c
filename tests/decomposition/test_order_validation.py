"""Invalid orders: every one gives clear issues with JSON paths, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from bad_orders import BAD_ORDERS, FIBRE, Bad, native, sample_with
from decomposition_support import ACME, decomposer
from hypothesis import example, given
from hypothesis import strategies as st

from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import OrderValidationError
from om_dsl.ir.constraints import violation
from om_dsl.orders.issues import IssueLog
from om_dsl.orders.jsondoc import _loads, _Walk
from om_dsl.orders.limits import Limits
from om_dsl.orders.screen import _depth as screen_depth
from om_dsl.orders.screen import needs_walk
from om_dsl.orders.values import did_you_mean, type_check


def _issues(bad: Bad) -> list[dict[str, str]]:
    with pytest.raises(OrderValidationError) as caught:
        decomposer(bad.catalog, "compiled").read(bad.raw)
    return [issue.to_dict() for issue in caught.value.issues]


def test_there_are_enough_bad_orders() -> None:
    assert len({b.name for b in BAD_ORDERS}) == len(BAD_ORDERS) >= 25


@pytest.mark.parametrize("bad", BAD_ORDERS, ids=[b.name for b in BAD_ORDERS])
def test_bad_order_is_reported(bad: Bad) -> None:
    issues = _issues(bad)
    found = [i for i in issues if i["code"] == bad.code and i["path"].startswith(bad.path or "$")]
    assert found, f"expected {bad.code} at {bad.path!r}, got {issues}"
    assert any(bad.says in i["message"] for i in found), found
    for issue in issues:
        assert "Traceback" not in issue["message"]
        assert len(issue["message"]) < 600


REL = "productOrderItem[0].productOrderItemRelationship[0]"
ONE_CAUSE = [  # the TMF622 sample: its bundle's first part (item 110), or the bundle's link to it
    ("O013", "productOrderItem[1].action", 1, None, {"action": "change"}),
    ("O038", "productOrderItem[1].quantity", 1, None, {"quantity": 0}),
    ("O050", f"{REL}.relationshipType", 0, 0, {"relationshipType": "contains"}),
    ("O051", f"{REL}.id", 0, 0, {"id": "999"}),
    ("O052", f"{REL}.id", 0, 0, {"id": "100"}),
]


@pytest.mark.parametrize(("code", "path", "item", "link", "changes"), ONE_CAUSE,
                         ids=[c[0] for c in ONE_CAUSE])  # fmt: skip
def test_a_broken_bundle_part_is_one_error_not_a_bundle_short_of_parts(
    code: str, path: str, item: int, link: int | None, changes: dict[str, Any]
) -> None:
    """The bundle cannot count a part the order does not show right; "TMF25 needs at least 1
    MobileTelephony; the order gives 0" (O062) would blame the bundle for the part's error."""

    def change(order: dict[str, Any]) -> None:
        changed = order["productOrderItem"][item]
        if link is not None:
            changed = changed["productOrderItemRelationship"][link]
        changed.update(changes)

    bad = Bad("one cause", sample_with(change), code, path, "")
    assert [(i["code"], i["path"]) for i in _issues(bad)] == [(code, path)]


@pytest.mark.parametrize(
    ("written", "meant"),
    [("change", "modify"), ("update", "modify"), ("Remove", "delete"), ("terminate", "delete"),
     ("ADD", "add"), ("create", "add"), ("no_change", "noChange"), ("nochange", "noChange")],
)  # fmt: skip
def test_an_action_of_another_order_system_gets_ours(written: str, meant: str) -> None:
    bad = Bad("action", native([{**FIBRE, "action": written}]), "O013", "items[0].action", "")
    (issue,) = _issues(bad)
    assert issue["message"].endswith(f"(did you mean '{meant}'?)"), issue


MOBILE = {"id": "m", "product": "MobileTelephony"}
CHAR = "productOrderItem[1].product.productCharacteristic"


def _mobile_chars(change: Callable[[list[dict[str, Any]]], object]) -> bytes:
    """The TMF622 sample with the characteristics of its mobile item (110) changed."""
    return sample_with(
        lambda d: change(d["productOrderItem"][1]["product"]["productCharacteristic"])
    )


ATTRIBUTE_CASES = [
    # (the order, the one issue expected): null is absent, but its name is checked
    (native([{**FIBRE, "attributes": {"sped": None}}]), ("O034", "items[0].attributes.sped")),
    (native([FIBRE], attributes={"site_idd": None}), ("O034", "attributes.site_idd")),
    (_mobile_chars(lambda c: c.append({"name": "COLOUR", "value": None})),
     ("O034", f"{CHAR}[1].name")),
    # a required attribute that is null is reported where the null stood, not at the container
    (native([{**MOBILE, "attributes": {"msisdn": None}}]), ("O037", "items[0].attributes.msisdn")),
    (_mobile_chars(lambda c: c[0].pop("value")), ("O037", f"{CHAR}[0].value")),
    # a misspelt required attribute: its hint is the fix, it is not also missing (O037) ...
    (_mobile_chars(lambda c: c[0].update(name="TEL_MSISDNX")), ("O034", f"{CHAR}[0].name")),
    (native([{**MOBILE, "attributes": {"msisd": "+33 6"}}]), ("O034", "items[0].attributes.msisd")),
    # ... nor is the right name given after it twice (O035)
    (native([{**FIBRE, "attributes": {"sped": 50, "speed": 50}}]),
     ("O034", "items[0].attributes.sped")),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "expected"), ATTRIBUTE_CASES)
def test_attribute_values_give_the_one_issue_to_fix(raw: bytes, expected: tuple[str, str]) -> None:
    issues = _issues(Bad("attributes", raw, *expected, ""))
    assert [(i["code"], i["path"]) for i in issues] == [expected], issues


def test_a_required_attribute_given_as_null_says_so() -> None:
    (issue,) = _issues(
        Bad("null", native([{**MOBILE, "attributes": {"TEL_MSISDN": None}}]), "", "", "")
    )
    assert issue["message"] == (
        "offer MobileTelephony needs attribute 'msisdn' (alias TEL_MSISDN), which has no value "
        "here (null or left out); it is required"
    )


@pytest.mark.parametrize(
    ("type_", "value", "hint"),
    [("int", "100", "write 100"), ("int", "-3", "write -3"), ("decimal", "9.99", "write 9.99"),
     ("decimal", "0", "write 0"), ("bool", "false", "write false"),
     ("int", "0100", None), ("int", "1e2", None), ("int", "10.0", None), ("int", " 1", None),
     ("decimal", ".5", None), ("bool", "True", None), ("bool", "yes", None),
     ("int", "1" * 16, None)],  # JSON would not read it as written, or not exactly
)  # fmt: skip
def test_a_value_in_quotes_gets_the_literal_to_write_when_json_reads_it_as_is(
    type_: str, value: str, hint: str | None
) -> None:
    problem = type_check(type_, {})(value)
    assert problem is not None
    assert problem.endswith(f"({hint}, without quotes)" if hint else f"got string {value!r}")


def test_every_problem_is_reported_at_once() -> None:
    raw = native(
        [
            {"id": "f", "product": "HomeFibre", "attributes": {"speed": 5, "static_ip": "yes"}},
            {"id": "f", "product": "HomeVoice", "attributes": {"colour": 1}},
            {"id": "x", "product": "Nope", "relationships": [{"type": "reliesOn", "id": "zz"}]},
        ]
    )
    issues = _issues(Bad("many", raw, "", "", ""))
    assert {(i["code"], i["path"]) for i in issues} == {
        ("O036", "items[0].attributes.speed"),
        ("O036", "items[0].attributes.static_ip"),
        ("O020", "items[1].id"),
        ("O034", "items[1].attributes.colour"),
        ("O030", "items[2].product"),
        ("O051", "items[2].relationships[0].id"),
    }


def test_data_already_parsed_is_checked_the_same_way() -> None:
    data = {
        "id": "x",
        "items": [{"id": "f", "product": "HomeFibre", "attributes": {"speed": float("nan")}}],
    }
    with pytest.raises(OrderValidationError) as caught:
        decomposer(ACME, "compiled").read(data)
    assert caught.value.issues[0].path == "items[0].attributes.speed"


def test_deeper_than_the_json_parser_can_go() -> None:
    raw = ("[" * 100_000 + "]" * 100_000).encode()
    with pytest.raises(OrderValidationError) as caught:
        decomposer(ACME, "compiled").read(raw)
    assert caught.value.issues[0].code == "O003"


def test_hundreds_of_problems_are_capped() -> None:
    items = [{"id": str(i), "product": "Nope"} for i in range(500)]
    with pytest.raises(OrderValidationError) as caught:
        decomposer(ACME, "compiled").read(native(items))
    assert len(caught.value.issues) == 500  # catalog problems are all kept ...
    data = json.dumps({"id": "x", "items": [{"id": "\ud800"}] * 500})
    with pytest.raises(OrderValidationError) as caught:
        decomposer(ACME, "compiled").read(data)
    assert len(caught.value.issues) == 101  # ... but a broken document stops at 100 (+1 note)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**40), 10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(
        alphabet=st.characters(codec="utf-8")
        | st.sampled_from(["\x00", "\x7f", '"', "\\", "[", "]", "{", "}", "e", "1"])
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=20,
)


@example("\b", 1, True, 8)
@example(["\f"], 2, True, 8)
@example("\ud800", 1, True, 8)
@example(10**20, 1, True, 8)
@example(["]", [[]]], 2, True, 8)
@example({"k": "a]]]]"}, 2, True, 8)
@example('"' * 9, 1, True, 8)
@example(["x" * 9, "y"], 1, True, 8)
@example(["é" * 5, "y"], 1, False, 4)
@given(JSON_VALUES, st.integers(1, 6), st.booleans(), st.integers(1, 12))
def test_the_screen_never_lets_a_problem_through(
    value: object, depth: int, ascii: bool, max_string: int
) -> None:
    """Whatever the cheap screen calls clean, the full walk finds clean too."""
    limits = Limits(max_depth=depth, max_string=max_string, max_int_digits=12)
    # NaN/Infinity are written as such, as a client might; raw or escaped non-ASCII text
    text = json.dumps(value, ensure_ascii=ascii)
    if needs_walk(text, limits):
        return
    log = IssueLog()
    _Walk(limits, log).run(_loads(text, limits, log, checked=True))
    assert not log.issues


def _true_depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_true_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_true_depth(v) for v in value), default=0)
    return 0


@example({"a]": ["[[", {}]}, True)
@given(JSON_VALUES, st.booleans())
def test_the_screen_measures_nesting_exactly(value: object, ascii: bool) -> None:
    """Brackets inside strings (escaped quotes too) never count, real ones always do."""
    text = json.dumps(value, ensure_ascii=ascii)
    assert screen_depth(text.encode("utf-8", "surrogatepass"), 100) == _true_depth(value)


def test_a_suggestion_is_never_the_text_itself() -> None:
    assert did_you_mean("Home Voice", ["Home Voice", "Home Voic"]) == " (did you mean 'Home Voic'?)"
    assert did_you_mean("Home Voice", ["Home Voice"]) == ""


def test_constraint_messages_show_values_in_json_terms() -> None:
    """One display for order issues and the compiler's constraint checks (ir/constraints)."""
    assert violation(False, {"allowed": [True]}) == (
        "false is not one of the allowed values (true)"
    )
    assert violation([None], {"allowed": ["a", 1.5]}) is None  # null passes (absence)
    assert violation("b", {"allowed": ["a", 1.5]}) == (
        "'b' is not one of the allowed values ('a', 1.5)"
    )
    result = compile_catalog(
        "b.om", 'catalog "B" version "1"\norder { attribute d: bool values [true] default false }\n'
    )
    messages = [d.message for d in result.diagnostics if d.code == "E048"]
    assert messages == ["default false is not one of the allowed values (true)"]


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (
            native([{"id": "a", "product": "HomeDuo", "children": [{**FIBRE, "id": "a"}]}]),
            "items[0].children[0].id",
        ),
        (
            json.dumps(
                {
                    "productOrderItem": [
                        {
                            "id": "a",
                            "action": "add",
                            "productOffering": {"id": "14100"},
                            "productOrderItem": [
                                {"id": "a", "action": "add", "productOffering": {"id": "14100"}}
                            ],
                        }
                    ]
                }
            ).encode(),
            "productOrderItem[0].productOrderItem[0].id",
        ),
    ],
    ids=["native", "tmf"],
)
def test_a_part_reusing_its_bundles_id_is_that_error_alone(raw: bytes, path: str) -> None:
    """Not also a cycle 'a -> a', a bundle that does not include itself or lacks a part."""
    issues = _issues(Bad("reuse", raw, "", "", ""))
    assert [(i["code"], i["path"]) for i in issues] == [("O020", path)]


def test_a_link_to_a_missing_item_does_not_suggest_the_item_itself() -> None:
    """'130' relies on a missing '110': '130' is the closest id, and relating to it is O052."""
    raw = native(
        [
            {"id": "120", "product": "HomeFibre"},
            {
                "id": "130",
                "product": "HomeVoice",
                "relationships": [{"type": "reliesOn", "id": "110"}],
            },
        ]
    )
    (issue,) = _issues(Bad("self", raw, "", "", ""))
    assert issue["code"] == "O051"
    assert issue["message"].endswith("which is not in the order (did you mean '120'?)")


@pytest.mark.parametrize(
    ("type_", "value", "says"),
    [
        ("list[string]", [None], "element 0: expected text (string), got null"),
        ("list[int]", ["1"], "element 0: expected a whole number (int), got string '1'"),
    ],
)
def test_a_list_element_says_what_it_got_once(type_: str, value: Any, says: str) -> None:
    """A null element was 'got null null' (its JSON type, then its value)."""
    problem = type_check(type_, {})(value)
    assert problem is not None
    assert problem.split(" (write")[0] == says


@pytest.mark.parametrize(
    ("data", "path", "says"),
    [
        ({"id": "x", "items": ({"id": "f", "product": "HomeFibre"},)}, "items", "got a tuple"),
        (({"id": "x"},), "$", "an order is a JSON object, not a tuple"),
    ],
)
def test_a_tuple_in_parsed_data_is_named(data: Any, path: str, says: str) -> None:
    """A host that builds its order in Python was told 'expected an array, got an array'."""
    with pytest.raises(OrderValidationError) as caught:
        decomposer(ACME, "compiled").read(data)
    (issue,) = caught.value.issues
    assert issue.path == path
    assert issue.message.endswith(says)
