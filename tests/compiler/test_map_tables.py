"""Named map tables: `table NAME: KEY -> VALUE { ... }`, used as `map SUBJECT NAME`.

A table has no IR of its own: each use lowers to the inline `map` the table spells out, so
the IR of a catalog that uses tables is the IR of the same catalog with the maps written in
place (engines, diagrams and the schema are untouched).  The diagnostics reuse the codes of
inline maps and of other names (E020, E021, E022, E041, E043, E049, W005); the golden
fixtures `E020_E021_E022_table_names` and `E041_E043_E049_W005_bad_named_table` show them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from compiler_support import BASE, Compile

from om_dsl import decompose
from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import DiagnosticBag
from om_dsl.expr.unparse import unparse
from om_dsl.ir.io import dump_ir
from om_dsl.orders.decompose import Decomposer
from om_dsl.orders.explain import explain, render_text
from om_dsl.rules.durable_adapter import durable_available
from om_dsl.syntax import ast
from om_dsl.syntax.parser import parse_module

TABLES = """
/// Access profile per speed tier.
table Profile: int -> string { 100: "gpon-100", 500: "gpon-500", default: "gpon-1g" }
table Fibre: Tech -> bool { FTTH: true, DSL: false }
"""

RULES = """
cfs Access {{ attribute profile: string  attribute fibre: bool  attribute tech: Tech }}
decompose Web -> Access when {fibre} {{ profile = {profile}; fibre = {fibre}; tech = tech }}
plan Access on add {{ auto go handler "net.go" when {line_fibre} }}
"""

NAMED = RULES.format(
    fibre="map tech Fibre", line_fibre="map line.tech Fibre", profile="map speed Profile"
)
INLINE = RULES.format(
    fibre="map tech { FTTH: true, DSL: false }",
    line_fibre="map line.tech { FTTH: true, DSL: false }",
    profile='map speed { 100: "gpon-100", 500: "gpon-500", default: "gpon-1g" }',
)


def _without_spans(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_spans(v) for k, v in value.items() if k != "span"}
    if isinstance(value, list):
        return [_without_spans(v) for v in value]
    return value


def _ir(catalog: object) -> object:
    text = dump_ir(catalog)  # type: ignore[arg-type]
    data = json.loads(text)
    data.pop("content_hash", None)
    return _without_spans(data)


# ---- parsing ---------------------------------------------------------------------------------


def test_a_table_parses_with_its_types_cases_and_doc() -> None:
    bag = DiagnosticBag()
    module = parse_module("t.om", TABLES, bag)
    assert bag.items == []
    profile, fibre = module.decls
    assert isinstance(profile, ast.TableDecl)
    assert profile.name.value == "Profile"
    assert (profile.key.name, profile.value.name) == ("int", "string")
    assert [c.key and c.key.value for c in profile.cases] == [100, 500, None]
    assert profile.doc == "Access profile per speed tier."
    assert isinstance(fibre, ast.TableDecl) and fibre.doc is None


def test_a_use_is_map_subject_then_the_tables_name() -> None:
    bag = DiagnosticBag()
    module = parse_module("t.om", "decompose A -> B { x = map speed + 1 Profile }", bag)
    assert bag.items == []
    (decl,) = module.decls
    assert isinstance(decl, ast.DecomposeDecl)
    use = decl.rules[0].mappings[0].expr
    assert isinstance(use, ast.MapTable)
    assert use.table.value == "Profile"
    assert isinstance(use.subject, ast.Binary)  # the subject is a whole expression


def test_table_stays_a_name_everywhere_else(om: Compile) -> None:
    """`table` is a soft keyword: catalogs that use it as a name keep compiling."""
    compiled = om(
        """
        enum Furniture { table, chair }
        offer Desk {
        attribute table: string default "oak"
        attribute kind: Furniture default table
        }
        cfs Build { attribute table: string }
        decompose Desk -> Build {
        table = table
        }
        plan Build on add { auto table handler "x.table" }
        """
    )
    assert compiled.codes == []
    (rule,) = compiled.catalog.rules
    assert rule.mappings[0].target == "table"


def test_table_first_on_a_line_before_an_operator_continues_the_expression(om: Compile) -> None:
    """`table in [...]` or `table and ...` first on a line goes on with a `when`: `table`
    starts a declaration only before the table's name."""
    compiled = om(
        """
        offer Desk { attribute table: string  attribute oak: bool }
        cfs Build { attribute table: string }
        decompose Desk -> Build when oak and
        table in ["a", "b"] or
        table == "c" { table = table }
        plan Build on add { auto go handler "x.go" }
        table Sizes: string -> int { "a": 1, default: 0 }
        """
    )
    assert compiled.codes == []
    (rule,) = compiled.catalog.rules
    assert rule.when is not None


# ---- lowering --------------------------------------------------------------------------------


def _table_names(value: object, found: list[str]) -> object:
    """``value`` without the ``table`` key of its maps, whose values go to ``found``."""
    if isinstance(value, dict):
        if value.get("op") == "map" and "table" in value:
            found.append(value["table"])
        return {k: _table_names(v, found) for k, v in value.items() if k != "table"}
    if isinstance(value, list):
        return [_table_names(v, found) for v in value]
    return value


def test_a_use_lowers_to_the_inline_map_it_spells_out(om: Compile) -> None:
    named = om(BASE + TABLES + NAMED)
    inline = om(BASE + INLINE)
    assert named.codes == []
    assert inline.codes == []
    names: list[str] = []
    assert _table_names(_ir(named.catalog), names) == _ir(inline.catalog)
    assert sorted(names) == ["Fibre", "Fibre", "Fibre", "Profile"]  # only readers see it
    assert '"table"' not in dump_ir(inline.catalog)  # an inline map's IR keeps its bytes


def test_explain_and_labels_print_a_use_as_written(om: Compile) -> None:
    """A big table's cases would bury the condition they are part of."""
    catalog = om(BASE + TABLES + NAMED).catalog
    rule = next(r for r in catalog.rules if r.target == "Access")
    assert rule.when is not None and unparse(rule.when) == "map tech Fibre"
    assert {unparse(m.expr) for m in rule.mappings} >= {"map speed Profile", "map tech Fibre"}
    d = Decomposer(catalog)
    order = d.read({"id": "o", "items": [{"id": "i", "product": "Web"}]})
    text = render_text(explain(d.program, order, d.decompose(order)))
    assert "when map tech Fibre" in text
    assert "FTTH: true" not in text
    assert "(map tech Fibre = true, tech = 'FTTH')" in text  # what the look-up found


def test_a_table_declared_in_an_imported_file_is_visible(om: Compile) -> None:
    compiled = om(
        'import "lib/tables.om"\n' + BASE + NAMED,
        files={"lib/tables.om": TABLES},
    )
    assert compiled.codes == []
    assert _ir(compiled.catalog)["rules"][-1]["when"]["op"] == "map"  # type: ignore[index]


def test_the_use_takes_the_declared_value_type(om: Compile) -> None:
    compiled = om(
        BASE
        + """
        table Weight: Tech -> decimal { FTTH: 1, DSL: 0.5 }
        cfs Price { attribute weight: int }
        decompose Web -> Price { weight = map tech Weight }
        plan Price on add { auto go handler "x" }
        """
    )
    error = compiled.one("E043")
    assert error.message == "expected int here, found decimal"


def test_a_subject_that_does_not_fit_the_key_type_is_e043_with_a_conversion(om: Compile) -> None:
    compiled = om(
        BASE
        + TABLES
        + """
        cfs Access { attribute profile: string }
        decompose Web -> Access { profile = map label Profile }
        plan Access on add { auto go handler "x" }
        """
    )
    error = compiled.one("E043")
    assert error.message == "table Profile is keyed by int, found string"
    assert error.hints == ("write int(label) to read it from the text",)


def test_a_decimal_subject_looks_up_int_keys_as_an_inline_map_does(om: Compile) -> None:
    compiled = om(
        BASE
        + TABLES
        + """
        cfs Access { attribute profile: string }
        decompose Web -> Access { profile = map speed / 1 Profile }
        plan Access on add { auto go handler "x" }
        """
    )
    assert compiled.codes == []


def test_values_are_constants(om: Compile) -> None:
    compiled = om(BASE + 'table Label: int -> string { 1: label, default: "x" }\n')
    error = compiled.one("E020")
    assert error.message.startswith("unknown name 'label' in table Label")


def test_bundle_in_a_tables_values_hints_the_lookup_in_the_rule(om: Compile) -> None:
    """Not the plans' hint (map it onto the line, read line.NAME): a table reads no line."""
    compiled = om(BASE + "table Term: int -> int { 1: bundle.term, default: 0 }\n")
    error = compiled.one("E020")
    assert error.message == "unknown name 'bundle' in table Term (its values are constants)"
    assert error.hints == (
        "a table is declared outside any rule and reads no attribute; look the bundle's "
        "attribute up where a rule reads it: `map bundle.NAME TABLE`",
    )


LIST_KEYS = """
table Bundle: list[string] -> int { ["tv"]: 1, ["tv", "voice"]: 2, default: 0 }
offer Box { attribute extras: list[string] default ["tv", "voice"] }
cfs Pack { attribute size: int  attribute inline: int }
decompose Box -> Pack when map extras Bundle > 0 {
  size = map extras Bundle
  inline = map extras { ["tv"]: 10, default: 20 }
}
plan Pack on add { auto go handler "x.go" }
"""


def test_list_keys_compile_and_look_up_in_both_engines(om: Compile) -> None:
    """A `list[string]` key (a table's or an inline map's) is a constant like any other: it
    crashed the compiler (a list is no set member) where the engines look it up fine."""
    catalog = om(LIST_KEYS).catalog
    order = {"id": "O1", "items": [{"id": "1", "product": "Box", "action": "add"}]}
    for engine in ["compiled", "durable"] if durable_available() else ["compiled"]:
        (line,) = decompose(catalog, order, engine=engine).lines()
        assert line.attributes == {"size": 2, "inline": 20}, engine


def test_a_list_key_given_twice_is_e049(om: Compile) -> None:
    compiled = om('table Twice: list[string] -> int { ["a"]: 1, ["a"]: 2, default: 0 }\n')
    assert compiled.one("E049").message == "table Twice has two cases for ['a']"
    inline = om(
        "offer Box { attribute extras: list[string] }\n"
        "cfs Pack { attribute size: int }\n"
        'decompose Box -> Pack { size = map extras { ["a"]: 1, ["a"]: 2, default: 0 } }\n'
        'plan Pack on add { auto go handler "x.go" }\n'
    )
    assert inline.one("E049").message == "map has two cases for ['a']"


def test_a_tables_values_look_up_no_table(om: Compile) -> None:
    compiled = om(
        BASE + TABLES + 'table Twice: int -> string { 1: map 100 Profile, default: "" }\n'
    )
    error = compiled.one("E022")
    assert error.message == "the values of table Twice are constants, not look-ups in a table"


def test_w005_is_the_declarations_once_whatever_the_uses(om: Compile) -> None:
    compiled = om(
        BASE
        + """
        table Rank: Tech -> int { FTTH: 1 }
        cfs Ranked { attribute a: int  attribute b: int }
        decompose Web -> Ranked { a = map tech Rank; b = map tech Rank }
        plan Ranked on add { auto go handler "x" }
        """
    )
    warning = compiled.one("W005")
    assert warning.message == (
        "table Rank has no default case (no case for DSL); unmatched values give null"
    )
    assert compiled.codes == ["W005"]


def test_an_allow_accepts_a_tables_w005(om: Compile) -> None:
    compiled = om(BASE + "table Rank: Tech -> int { FTTH: 1 }  // allow W005 a DSL has no rank\n")
    assert compiled.codes == []


def test_an_unused_table_is_no_warning(om: Compile) -> None:
    """As an unused enum, system or queue: a shared file of tables serves several catalogs."""
    assert om(BASE + TABLES).codes == []


def test_a_table_named_like_a_type_or_declared_twice(om: Compile) -> None:
    compiled = om(BASE + TABLES + "table Profile: int -> int {}\nqueue Fibre\n")
    assert [d.message for d in compiled.of("E021")] == [
        "'Profile' is declared twice",
        "'Fibre' is declared twice",
    ]


def test_a_table_is_no_type(om: Compile) -> None:
    compiled = om(BASE + TABLES + "cfs X { attribute p: Profile }\n")
    assert compiled.one("E022").message == "'Profile' is a table, not a type"


def test_an_unknown_key_type_is_reported_once(om: Compile) -> None:
    compiled = om(BASE + "table T: Teck -> int { FTTH: 1, Other: 2 }\n")
    error = compiled.one("E020")
    assert error.message == "unknown type 'Teck'"
    assert error.hints == ("did you mean 'Tech'?",)


def test_a_forgotten_import_of_a_tables_file_is_hinted(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "tables.om").write_text(TABLES, encoding="utf-8")
    root = tmp_path / "main.om"
    root.write_text('catalog "T" version "1"\n' + BASE + NAMED, encoding="utf-8")
    result = compile_catalog(root)
    hints = {d.hints for d in result.diagnostics if d.code == "E020"}
    assert hints == {
        (
            f"'{name}' is declared in lib/tables.om, which the catalog does not import: "
            'add import "lib/tables.om" to main.om',
        )
        for name in ("Fibre", "Profile")
    }


# ---- depth -----------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["mapping", "condition"])
def test_deep_table_values_make_their_uses_e052(om: Compile, where: str) -> None:
    """A use is parsed as a map of scalar values; a table whose values nest deeply makes it
    deeper, and its expression is measured again (one E052, at the expression)."""
    deep = " + ".join(["1"] * 100)
    chain = " or ".join(["speed == 1"] * 60)
    use = f"map speed Deep == 1 or {chain}"
    body = (
        f"table Deep: int -> int {{ 1: {deep}, default: 0 }}\n"
        "cfs Deeper { attribute ok: bool }\n"
        + (
            f"decompose Web -> Deeper {{ ok = {use} }}\n"
            if where == "mapping"
            else f"decompose Web -> Deeper when {use} {{ ok = true }}\n"
        )
        + 'plan Deeper on add { auto go handler "x" }\n'
    )
    compiled = om(BASE + body)
    error = compiled.one("E052")
    assert error.message.startswith("expression nests too deeply: ")
    assert int(error.message.split(": ")[1].split()[0]) > 128
