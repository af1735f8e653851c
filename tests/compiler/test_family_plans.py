"""``plan family F``: one plan for every technical product of a family, unless it has its own."""

from __future__ import annotations

from compiler_support import Compile

from om_dsl.ir import models as ir

SERVICES = """
system Inv { url "http://127.0.0.1:1" }
offer Bundle { attribute speed: int default 100 }
cfs Voice { family Vas  attribute code: string  attribute level: int }
cfs Tv { family Vas  attribute code: string  attribute level: decimal }
cfs Music { family Vas  attribute code: string }
decompose Bundle {
  -> Voice { code = "V"; level = 1 }
  -> Tv { code = "T" }
  -> Music { code = "M" }
}
"""


def plans(catalog: ir.Catalog) -> dict[str, list[tuple[list[str], list[str]]]]:
    """product -> [(actions, item names)] of its plans."""
    out: dict[str, list[tuple[list[str], list[str]]]] = {}
    for plan in catalog.plans:
        out.setdefault(plan.product, []).append((plan.actions, [i.name for i in plan.items]))
    return out


def test_a_family_plan_is_every_members_plan(om: Compile) -> None:
    catalog = om(
        SERVICES
        + """
        /// Provisioned alike.
        plan family Vas on add, delete {
          callout provision: Inv POST "/vas" request { code: line.code } response { id = body.id }
          auto notify handler "crm.notify" after provision when provision.id != null
        }
        """
    ).catalog
    both = (["add", "delete"], ["provision", "notify"])
    assert plans(catalog) == {"Voice": [both], "Tv": [both], "Music": [both]}
    voice = next(p for p in catalog.plans if p.product == "Voice")
    assert voice.doc == "Provisioned alike." and voice.span.line == 15  # the family plan


def test_a_members_own_plan_replaces_the_familys_for_its_actions(om: Compile) -> None:
    compiled = om(
        SERVICES
        + """
        plan family Vas on add, delete { auto provision handler "vas.provision" }
        plan Music on delete { milestone gone }
        plan Tv on * { milestone own }
        """
    )
    assert compiled.codes == []
    assert plans(compiled.catalog) == {
        "Music": [(["delete"], ["gone"]), (["add"], ["provision"])],
        "Tv": [(["add", "modify", "delete", "noChange"], ["own"])],
        "Voice": [(["add", "delete"], ["provision"])],
    }


def test_a_family_plan_reads_what_every_member_declares_alike(om: Compile) -> None:
    compiled = om(
        SERVICES
        + """
        plan family Vas on add {
          auto a handler "x" when line.level > 1
          auto b handler "x" when line.cod != null
        }
        """
    )
    level, code = compiled.of("E023")
    assert level.message == "'line' has no attribute 'level' in the plan of family Vas"
    assert list(level.hints) == [
        "a family plan reads only attributes that every member of Vas declares with one "
        "type; 'level' is Voice: int, Tv: decimal, and not in Music"
    ]
    assert list(code.hints) == ["did you mean 'code'?"]
    assert len(compiled.errors) == 2  # checked once, not once per member


def test_conflicting_and_unknown_families_are_errors(om: Compile) -> None:
    compiled = om(
        """
        offer Bundle { family Offers  attribute speed: int default 100 }
        cfs Voice { family Vas  family Extras  attribute code: string }
        cfs Tv { family Vas  attribute code: string }
        decompose Bundle { -> Voice { code = "V" }  -> Tv { code = "T" } }
        plan family Vas on add { milestone a }
        plan family Vas on add, modify { milestone b }
        plan family Extras on add { milestone c }
        plan family Vass on delete { milestone d }
        plan family Offers on add { milestone e }
        """
    )
    assert [(d.code, d.message) for d in compiled.errors] == [
        ("E080", "family Vas already has a plan for 'add'"),
        ("E080", "Voice is in family Vas and family Extras, which both have a plan for 'add'"),
        ("E032", "no product declares family 'Vass'"),
        (
            "E022",
            "family Offers has no cfs, rfs or resource: a plan runs for technical products",
        ),
    ]
    assert list(compiled.of("E032")[0].hints) == ["did you mean 'Vas'?"]


def test_other_plans_and_dependencies_see_the_members_items(om: Compile) -> None:
    """A family plan's items are each member's: `Voice.provision.id` and `depend` name
    them, and W004 (no plan) is not reported for a member."""
    compiled = om(
        SERVICES
        + """
        plan family Vas on add {
          callout provision: Inv POST "/vas" request { code: line.code } response { id = body.id }
        }
        resource Port { attribute n: int }
        decompose Bundle -> Port { n = 1 }
        plan Port on add {
          auto wire handler "x" when Voice.provision.id != null
        }
        depend Port.wire after Voice.provision
        """
    )
    assert compiled.codes == []
    (dependency,) = compiled.catalog.dependencies
    assert (dependency.after_product, dependency.after_item) == ("Voice", "provision")
