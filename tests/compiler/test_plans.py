"""Plans per (technical product, action), their items, and cross-product dependencies."""

from __future__ import annotations

from typing import Any

import pytest
from compiler_support import Compile

from om_dsl.ir import models as ir
from om_dsl.orders.decompose import decompose
from om_dsl.runtime import PlanCycleError, build_plan

SETUP = """
system Inv { url "http://127.0.0.1:1" }
queue techs
cfs Other { attribute x: int }
decompose Web { -> Other { x = 1 } }
plan Other on * { auto assign handler "o.assign" }
"""


def items(om: Compile, body: str) -> dict[str, Any]:
    """The items of ``plan Line on modify { body }`` (BASE already plans Line on add)."""
    cat = om(SETUP + f"plan Line on modify {{\n{body}\n}}", base=True).catalog
    plan = next(p for p in cat.plans if p.product == "Line" and p.actions == ["modify"])
    return {i.name: i for i in plan.items}


def plan_errors(om: Compile, body: str) -> list[tuple[str, str]]:
    compiled = om(SETUP + f"plan Line on modify {{\n{body}\n}}", base=True)
    return [(d.code, d.message) for d in compiled.result.diagnostics]


def test_plan_lowering_for_every_item_kind(om: Compile) -> None:
    got = items(
        om,
        """
        /// Reserve a port.
        callout reserve: Inv POST "/ports/{line.speed}" async
            request { speed: line.speed, site: order.account, nested: { tech: tech } }
            response { port = body.port.id }
            undo release retry fixed 1s max 2 timeout 5s expect 1m
        manual install queue techs after reserve expect 2d
        auto activate handler "net.activate" after install point_of_no_return when speed > 0
        wait ported event "number.ported" after activate
        wait ready until reserve.port != null
        milestone done after ported, ready
        compensation callout release: Inv DELETE "/ports/{reserve.port}"
        """,
    )
    assert list(got) == ["reserve", "install", "activate", "ported", "ready", "done", "release"]
    reserve = got["reserve"]
    assert isinstance(reserve, ir.CalloutItem)
    assert (reserve.system, reserve.method, reserve.is_async, reserve.undo) == (
        "Inv",
        "POST",
        True,
        "release",
    )
    assert reserve.doc == "Reserve a port."
    assert (reserve.timeout_ms, reserve.expect_ms) == (5000, 60_000)
    assert reserve.retry == ir.RetryPolicy(kind="fixed", delays_ms=[1000], max_retries=2)
    assert [f.key for f in reserve.request.fields] == ["speed", "site", "nested"]
    assert isinstance(reserve.request.fields[2].value, ir.ObjectOp)
    (port,) = reserve.response
    assert (port.target, port.expr.root, port.expr.path) == ("port", "body", ["port", "id"])
    path = reserve.path_expr
    assert (path.fn, [a.op for a in path.args]) == ("concat", ["lit", "ref"])
    install = got["install"]
    assert (install.kind, install.queue, install.after, install.expect_ms) == (
        "manual", "techs", ["reserve"], 172_800_000,
    )  # fmt: skip
    activate = got["activate"]
    assert (activate.handler, activate.point_of_no_return) == ("net.activate", True)
    assert activate.when.type == "bool"
    assert (got["ported"].event, got["ported"].until) == ("number.ported", None)
    assert got["ready"].until.operator == "!="
    assert got["done"].after == ["ported", "ready"]
    release = got["release"]
    assert (release.compensation, release.method) == (True, "DELETE")
    assert release.path_expr.args[1] == ir.Ref(type="any", root="item", path=["reserve", "port"])


def test_plain_path_is_a_literal(om: Compile) -> None:
    got = items(om, 'callout c: Inv get "/plain"')
    assert got["c"].method == "GET"
    assert got["c"].path_expr == ir.Lit(type="string", value="/plain")


def test_plan_actions(om: Compile) -> None:
    cat = om(SETUP + "plan Line on modify, delete { milestone m }", base=True).catalog
    assert [p.actions for p in cat.plans if p.product == "Line"] == [["add"], ["modify", "delete"]]
    star = om("cfs X {}\ndecompose Web { -> X }\nplan X on * { milestone m }", base=True).catalog
    assert next(p for p in star.plans if p.product == "X").actions == list(ir.ACTIONS)


def test_cross_product_output_reference(om: Compile) -> None:
    got = items(om, 'auto a handler "h" when Other.assign.ok == true')
    cond = got["a"].when
    assert cond.left == ir.Ref(type="any", root="product", path=["Other", "assign", "ok"])


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ('auto a handler "h"\nauto a handler "h"', "E030", "plan item 'a' is declared twice"),
        ('auto a handler "h" after b', "E027", "unknown plan item 'b'"),
        ('auto a handler "h" undo b', "E027", "unknown plan item 'b'"),
        (
            'auto a handler "h" undo b\nauto b handler "h"',
            "E081",
            "undo must name a compensation item; 'b' is a normal item",
        ),
        (
            'auto a handler "h" after b\ncompensation auto b handler "h"',
            "E081",
            "'b' is a compensation item; it only runs on cancel",
        ),
        (
            'compensation auto a handler "h" point_of_no_return',
            "E082",
            "a compensation item cannot have 'point_of_no_return'",
        ),
        ('callout c: Inv POST "ports"', "E083", "a callout path must start with '/'"),
        ('callout c: Inv POST "/p/{line.speed"', "E083", "unbalanced '{' or '}' in callout path"),
        ('callout c: Inv POST "/p/{1 + 2}"', "E083", "'{1 + 2}' is not a reference"),
        ('callout c: Inv FETCH "/p"', "E084", "'FETCH' is not an HTTP method"),
        ('callout c: Nope POST "/p"', "E025", "callout to undeclared system 'Nope'"),
        ('callout c: techs POST "/p"', "E022", "'techs' is a queue, not a system"),
        ("manual m queue nope", "E026", "unknown queue 'nope'"),
        ('auto a handler "h" timeout 0s', "E086", "timeout must be longer than 0"),
        ('auto a handler "h" expect 0m', "E086", "expect must be longer than 0"),
        ('auto a handler "h" expect 9999999999999999d', "E005", "expect is too large"),
        ('auto a handler "h" retry fixed 1s max 0', "E086", "retry max must be at least 1"),
        (
            'auto a handler "h" timeout 1s timeout 2s',
            "E087",
            "'timeout' is given twice for item 'a'",
        ),
        ('auto a handler "h" queue techs', "E088", "'queue' does not apply to an auto item"),
        ('milestone m handler "h"', "E088", "'handler' does not apply to a milestone item"),
        ("auto a", "E089", "auto item 'a' needs a handler"),
        ("manual m", "E089", "manual item 'm' needs a queue"),
        ("wait w", "E089", "wait item 'w' needs exactly one of 'event' or 'until'"),
        (
            'wait w event "e" until true',
            "E089",
            "wait item 'w' needs exactly one of 'event' or 'until'",
        ),
        ('wait w event ""', "E089", "an event name cannot be empty"),
        ('wait w event "up.{line.speed"', "E083", "unbalanced '{' or '}' in event name"),
        (f'wait w event "{"e" * 201}"', "E089", "an event name is at most 200 characters"),
        ('wait w event "up.{1 + 2}"', "E083", "'{1 + 2}' is not a reference"),
        (
            'wait w event "up.{line.sped}"',
            "E023",
            "'line' has no attribute 'sped' in the plan of Line",
        ),
        ('wait w event "up.{nope.x}"', "E020", "unknown name 'nope' in the plan of Line"),
        ('auto a handler "h" when speed', "E045", "a condition must be bool, found int"),
        ('auto a handler "h" when nope > 1', "E020", "unknown name 'nope' in the plan of Line"),
        ('auto a handler "h" when Other.asign.x', "E027", "no plan of Other has an item 'asign'"),
        ('callout c: Inv POST "/{nope}"', "E020", "unknown name 'nope' in the plan of Line"),
        (
            'callout c: Inv POST "/" response { a = body.x; a = body.y }',
            "E024",
            "output 'a' is mapped twice",
        ),
        (
            'callout c: Inv POST "/" response { a = nope }',
            "E020",
            "unknown name 'nope' in a response mapping",
        ),
        (
            'auto a handler "h" after b\nauto b handler "h" after a',
            "E061",
            "plan of Line has a dependency cycle: a -> b -> a",
        ),
        ('auto a handler "h" after a', "E061", "plan of Line has a dependency cycle: a -> a"),
    ],
)
def test_item_errors(om: Compile, body: str, code: str, message: str) -> None:
    got = plan_errors(om, body)
    assert (code, message) in got, got
    assert [c for c, _ in got if not c.startswith("W")] == [code], got


@pytest.mark.parametrize(
    "body",
    [
        'callout c: Inv GET "/x/{c.out}" response { out = body.x }',
        'callout c: Inv POST "/" request { x: c.out } response { out = body.x }',
        'callout c: Inv GET "/" response { out = body.x; p = c.out }',
        'auto c handler "h" when c.out > 1',
    ],
)
def test_an_item_reading_its_own_outputs_gets_no_after_hint(om: Compile, body: str) -> None:
    """The hint was "add `after c` to 'c'": following it gave E061 (a cycle c -> c)."""
    compiled = om(SETUP + f"plan Line on modify {{\n{body}\n}}", base=True)
    diag = compiled.one("E051")
    assert diag.message == (
        "item 'c' of Line reads its own outputs, which do not exist before it has run"
    )
    assert not any("after" in h and "add" in h for h in diag.hints), diag.hints


@pytest.mark.parametrize(
    ("body", "col", "end"),
    [
        ('wait w event "up.{line.sped}"', 18, 29),
        ('callout c: Inv POST "/p/{line.sped}/x"', 25, 36),
        ('callout c: Inv POST "/p\\"{line.sped}"', 21, 38),  # an escape: the whole text
    ],
)
def test_an_error_in_a_placeholder_points_at_it(om: Compile, body: str, col: int, end: int) -> None:
    """A designer's probe: the caret of E023 underlined the whole event name."""
    compiled = om(SETUP + f"plan Line on modify {{\n{body}\n}}", base=True)
    span = compiled.one("E023").span
    assert (span.col, span.end_col) == (col, end), compiled.render()


def test_clause_for_another_kind_names_its_owner(om: Compile) -> None:
    compiled = om(SETUP + 'plan Line on modify { auto a handler "h" queue techs }', base=True)
    assert compiled.one("E088").hints == ("'queue' belongs to manual items",)


def test_compensation_item_never_used_is_w003(om: Compile) -> None:
    got = plan_errors(om, 'auto a handler "h"\ncompensation auto b handler "h"')
    assert got == [("W003", "compensation item 'b' is never used by an undo, so it never runs")]


def test_item_with_when_false_is_w003(om: Compile) -> None:
    got = plan_errors(om, 'auto a handler "h" when false')
    assert got == [("W003", "item 'a' has `when false`, so it never runs")]


@pytest.mark.parametrize(
    ("header", "code", "message"),
    [
        ("plan Web on add", "E022", "a plan runs for a cfs, rfs or resource; 'Web' is an offer"),
        ("plan Lien on add", "E020", "unknown technical product 'Lien'"),
        ("plan Line on ad", "E033", "unknown action 'ad'"),
        ("plan Line on add", "E080", "Line already has a plan for 'add'"),
        ("plan Line on modify, modify", "E080", "action 'modify' is listed twice"),
    ],
)
def test_plan_errors(om: Compile, header: str, code: str, message: str) -> None:
    compiled = om(f"{header} {{ milestone m }}", base=True)
    assert compiled.one(code).message == message


def test_unknown_action_lists_the_actions(om: Compile) -> None:
    diag = om("plan Line on ad { milestone m }", base=True).one("E033")
    assert diag.hints == ("did you mean 'add'?", "actions: add, modify, delete, noChange or *")


# ---- dependencies ------------------------------------------------------------------------------


def test_dependency_lowering(om: Compile) -> None:
    cat = om(SETUP + "depend Line.activate after Other.assign", base=True).catalog
    (dep,) = cat.dependencies
    assert (dep.product, dep.item, dep.after_product, dep.after_item, dep.within) == (
        "Line", "activate", "Other", "assign", "root",
    )  # fmt: skip


@pytest.mark.parametrize("within", ["root", "order", "relies_on"])
def test_dependency_within(om: Compile, within: str) -> None:
    cat = om(SETUP + f"depend Line.activate after Other.assign within {within}", base=True).catalog
    assert cat.dependencies[0].within == within


@pytest.mark.parametrize(
    ("depend", "code", "message"),
    [
        ("depend Line.activate after Other.asign", "E027", "no plan of Other has an item 'asign'"),
        ("depend Lin.activate after Other.assign", "E020", "unknown technical product 'Lin'"),
        (
            "depend Web.x after Other.assign",
            "E022",
            "a plan runs for a cfs, rfs or resource; 'Web' is an offer",
        ),
        (
            "depend Line.activate after Other.assign within site",
            "E034",
            "unknown dependency scope 'site'",
        ),
        ("depend Line.activate after Line.activate", "E062", "an item cannot depend on itself"),
    ],
)
def test_dependency_errors(om: Compile, depend: str, code: str, message: str) -> None:
    compiled = om(SETUP + depend, base=True)
    assert compiled.one(code).message == message


@pytest.mark.parametrize(
    ("text", "hints"),
    [
        ("depend Line.activate after Other.nope", ("the items of Other's plans: assign",)),
        ("depend Line.activate after Other.asign", ("did you mean 'assign'?",)),
        ('plan Line on modify {\n auto a handler "h" after nope\n auto b handler "h"\n}',
         ("the plan's other items: b",)),
    ],
)  # fmt: skip
def test_an_unknown_plan_item_lists_the_items_when_none_is_close(
    om: Compile, text: str, hints: tuple[str, ...]
) -> None:
    assert om(SETUP + text, base=True).one("E027").hints == hints


def test_depend_before_says_to_turn_the_pair_round(om: Compile) -> None:
    diag = om(SETUP + "depend Line.activate before Other.assign within order", base=True).one(
        "E001"
    )
    assert diag.hints == (
        "write it the other way round: 'depend Other.assign after Line.activate within order'",
    )


def test_cross_product_cycle_is_e062_with_its_path(om: Compile) -> None:
    compiled = om(
        SETUP + "depend Line.activate after Other.assign\ndepend Other.assign after Line.activate",
        base=True,
    )
    diag = compiled.one("E062")
    assert diag.message == "dependency cycle: Line.activate -> Other.assign -> Line.activate"
    assert diag.hints[0] == "each arrow reads 'runs before'"
    assert diag.hints[1].startswith("declared by `depend` at main.om:")


def test_cycle_closed_by_a_depend_within_one_product(om: Compile) -> None:
    compiled = om(
        SETUP + 'plan Line on modify { auto a handler "h" after b\nauto b handler "h" }\n'
        "depend Line.b after Line.a",
        base=True,
    )
    assert compiled.one("E062").message == "dependency cycle: Line.a -> Line.b -> Line.a"


def test_dependencies_of_different_actions_do_not_form_a_cycle(om: Compile) -> None:
    compiled = om(
        SETUP.replace("plan Other on *", "plan Other on delete")
        + "depend Line.activate after Other.assign\ndepend Other.assign after Line.activate",
        base=True,
    )
    assert compiled.codes == []


CHAIN = """
offer Site {
  attribute speed: int default 10
}
cfs Router { attribute speed: int }
cfs Link { attribute speed: int }
decompose Site -> Router { speed = speed }
decompose SOURCE -> Link WAIT { speed = speed }
plan Router on add {
  auto validate handler "r.validate"
  auto activate handler "r.activate" after validate
}
plan Link on add {
  auto order_link handler "l.order"
  auto test_link handler "l.test" after order_link
}
"""


def _chain(source: str, wait: str, depend: str) -> str:
    text = CHAIN.replace("SOURCE", source).replace("WAIT", wait) + depend
    if source.startswith("family "):  # a family no rule uses would be W017
        text = text.replace("cfs Router {", f"cfs Router {{ {source}")
    return text


@pytest.mark.parametrize(
    ("source", "wait", "depend", "cycle"),
    [
        ("Router", "after parent", "depend Router.activate after Link.order_link",
         "Router.activate -> Link.order_link -> Router.activate"),
        ("Router", "after parent", "depend Router.validate after Link.test_link",
         "Router.validate -> Router.activate -> Link.order_link -> Link.test_link"
         " -> Router.validate"),
        ("family Edge", "after parent", "depend Router.activate after Link.order_link",
         "Router.activate -> Link.order_link -> Router.activate"),
        ("Router", "before parent", "depend Link.order_link after Router.activate",
         "Router.validate -> Router.activate -> Link.order_link -> Link.test_link"
         " -> Router.validate"),
    ],
    ids=["after-parent", "after-parent-through-items", "family-source", "before-parent"],
)  # fmt: skip
def test_a_chained_rules_wait_closes_a_cycle_with_a_depend(
    om: Compile, source: str, wait: str, depend: str, cycle: str
) -> None:
    """`after parent` joins the child's first items to the parent's last ones, as the plan
    builder wires them: a `depend` the other way is a plan no order can get (E062 here,
    "no plan" for every order before)."""
    diag = om(_chain(source, wait, depend)).one("E062")
    assert diag.message == f"dependency cycle: {cycle}"
    declared = f"declared by `{wait}` of Router -> Link at main.om:"
    assert any(h.startswith(declared) for h in diag.hints)
    # the plan builder agrees: given the same edges, it finds the cycle in every order
    catalog = om(_chain(source, wait, "")).catalog
    words = depend.split()
    (waiter, waiter_item), (awaited, awaited_item) = (w.split(".") for w in (words[1], words[3]))
    dependency = ir.Dependency(
        product=waiter, item=waiter_item, after_product=awaited, after_item=awaited_item,
        span=catalog.rules[0].span,
    )  # fmt: skip
    catalog = catalog.model_copy(update={"dependencies": [dependency]})
    order = {"id": "o", "items": [{"id": "1", "product": "Site"}]}
    with pytest.raises(PlanCycleError):
        build_plan(catalog, decompose(catalog, order))


def test_a_wait_passes_over_a_parent_without_a_plan(om: Compile) -> None:
    """Link waits after Mid, which has no plan: at run time it waits for Router instead."""
    text = CHAIN.replace("SOURCE", "Mid").replace("WAIT", "after parent") + (
        "cfs Mid { attribute speed: int }\n"
        "decompose Router -> Mid { speed = speed }\n"
        "depend Router.activate after Link.order_link"
    )
    diag = om(text).one("E062")
    assert diag.message == "dependency cycle: Router.activate -> Link.order_link -> Router.activate"
    assert diag.hints[1].startswith("declared by `after parent` of Mid -> Link at main.om:")


def test_a_per_action_wait_closes_a_cycle_only_under_its_actions(om: Compile) -> None:
    """`after parent on add` and `before parent on delete` are two edges the other way
    round, each under its own actions: no cycle between them, and a `depend` closes one only
    under the action whose wait it opposes."""
    text = CHAIN.replace("SOURCE", "Router").replace(
        "WAIT", "after parent on add before parent on delete"
    )
    assert om(text).codes == []
    # `depend` opposing the add wait: the same cycle as with a wait on every action
    diag = om(text + "depend Router.activate after Link.order_link").one("E062")
    assert diag.message == "dependency cycle: Router.activate -> Link.order_link -> Router.activate"
    assert diag.hints[1].startswith("declared by `after parent on add` of Router -> Link at")
    # under delete the router waits for the link already: the same `depend` is no cycle there
    deleting = text.replace("plan Router on add", "plan Router on delete").replace(
        "plan Link on add", "plan Link on delete"
    )
    assert om(deleting + "depend Router.activate after Link.order_link").codes == []


def test_e062_names_the_actions_whose_plans_hold_the_cycle(om: Compile) -> None:
    text = CHAIN.replace("SOURCE", "Router").replace("WAIT", "after parent")
    diag = om(text + "depend Router.activate after Link.order_link").one("E062")
    assert diag.hints[-1] == "in the plans of add lines"


def test_a_parent_with_compensations_only_passes_its_wait_on(om: Compile) -> None:
    """The builder instantiates no item of a plan that holds compensations alone, so a wait
    on such a parent reaches its planned ancestor: E062 missed the cycle that closes there,
    and every delete order got no plan."""
    text = CHAIN.replace("SOURCE", "Mid").replace("WAIT", "after parent on delete") + (
        "cfs Mid { attribute speed: int }\n"
        "decompose Router -> Mid { speed = speed }\n"
        'plan Mid on delete { compensation auto unmid handler "m.undo" }\n'
        'plan Router on delete { auto remove handler "r.remove" }\n'
        'plan Link on delete { auto cease handler "l.cease" }\n'
        "depend Router.remove after Link.cease"
    )
    diag = om(text).of("E062")[0]
    assert diag.message == "dependency cycle: Router.remove -> Link.cease -> Router.remove"
    assert diag.hints[-1] == "in the plans of delete lines"


def test_an_action_listed_twice_in_a_wait_is_e080(om: Compile) -> None:
    text = CHAIN.replace("SOURCE", "Router").replace("WAIT", "after parent on add, add")
    diag = om(text).one("E080")
    assert diag.message == "action 'add' is listed twice"


def test_a_depend_on_a_compensation_closes_no_cycle(om: Compile) -> None:
    """Compensations run on cancel only: the plan builder joins no wait to them, so neither
    does the check (a false E062 before)."""
    text = (
        CHAIN.replace("SOURCE", "Router").replace("WAIT", "after parent")
        .replace('auto validate handler "r.validate"',
                 'auto validate handler "r.validate" undo unvalidate\n'
                 '  compensation auto unvalidate handler "r.unvalidate"')
        + "depend Router.unvalidate after Link.order_link"
    )  # fmt: skip
    assert om(text).codes == []


@pytest.mark.parametrize("wait", ["after parent", "before parent"])
def test_a_chained_wait_and_a_depend_the_same_way_are_no_cycle(om: Compile, wait: str) -> None:
    depend = (
        "depend Link.order_link after Router.activate"
        if wait == "after parent"
        else "depend Router.validate after Link.test_link"
    )
    assert om(_chain("Router", wait, depend)).codes == []


CALLOUTS = 'callout r: Inv POST "/r" response { port = body.port }\ncallout bare: Inv POST "/b"\n'


@pytest.mark.parametrize(
    ("reads", "wrong"),
    [
        ("r.port", []),
        ("r.prt", ["callout 'r' has no output 'prt'"]),
        ("bare.x", ["callout 'bare' has no output 'x'"]),
        ("Other.assign.anything", []),  # a handler's outputs are open
        ("Sub.c.port", []),
        ("Sub.c.extra", []),  # one plan of Sub maps it
        ("Sub.c.nope", ["callout 'Sub.c' has no output 'nope'"]),
    ],
)
def test_reads_of_callout_outputs_are_checked(om: Compile, reads: str, wrong: list[str]) -> None:
    """A callout's outputs are its response mappings: `r.prt` for `port` compiled clean and
    read null at run time (a condition quietly false, a request sending nulls)."""
    sub = (
        "cfs Sub { attribute y: int }\ndecompose Web { -> Sub { y = 1 } }\n"
        'plan Sub on add { callout c: Inv POST "/c" response { port = body.p } }\n'
        'plan Sub on delete { callout c: Inv DELETE "/c" response { extra = body.e } }\n'
    )
    body = CALLOUTS + f'auto a handler "h" after r, bare when {reads} != null'
    compiled = om(SETUP + sub + f"plan Line on modify {{\n{body}\n}}", base=True)
    found = [d for d in compiled.result.diagnostics if d.code == "E098"]
    assert [d.message for d in found] == wrong
    if reads == "r.prt":
        assert found[0].hints == (
            "did you mean 'port'?",
            "a callout's outputs are its response mappings (port)",
        )
    if reads == "bare.x":
        assert found[0].hints[-1].endswith("(none: it has no response mapping)")


def test_a_callout_method_is_read_in_any_case(om: Compile) -> None:
    """As docs/language.md says: `post` is POST (the IR always holds the upper-case name)."""
    got = items(om, 'callout c: Inv post "/x"\ncallout d: Inv Delete "/y"')
    assert (got["c"].method, got["d"].method) == ("POST", "DELETE")


# ---- record --------------------------------------------------------------------------------


def test_a_record_lowers_to_the_plan_and_record_stays_a_soft_keyword(om: Compile) -> None:
    """``record`` is a keyword only where a plan statement starts: an item, an attribute and
    a recorded attribute may all be called ``record``."""
    compiled = om(
        """
        offer Web { attribute record: string  attribute speed: int default 100 }
        cfs Line { attribute speed: int }
        decompose Web { -> Line { speed = speed } }
        plan Line on add, modify {
          auto record handler "net.record"
          record record = record.id
          record speed = line.speed * 2
        }
        """
    )
    assert compiled.codes == []
    [plan] = compiled.catalog.plans
    assert [(r.name, r.value.type) for r in plan.records] == [("record", "any"), ("speed", "int")]
    assert plan.records[0].value == ir.Ref(type="any", root="item", path=["record", "id"])


def test_a_plan_without_records_leaves_them_out_of_the_ir(om: Compile) -> None:
    plan = om("", base=True).catalog.plans[0]
    assert plan.records == [] and "records" not in plan.model_dump(mode="json")


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ("record speed = reserve.port", "", ""),  # an output: checked at run time
        ('record speed = "fast"', "E043", "expected int here, found string"),
        ("record tech = DSL", "", ""),  # a bare member of the attribute's enum
        ("record sped = 1", "E085", "'sped' is an attribute of no offer or bundle"),
        ("record speed = line.speed\n record speed = 2", "E024", "'speed' is recorded twice"),
        ("record speed = Other.assign.x", "E085", "Other.assign is an item of Other"),
        ("record label = reserv.port", "E020", "unknown name 'reserv' in a record"),
        ("record label = reserve.prt", "E098", "callout 'reserve' has no output 'prt'"),
        ('record label = env("TOKEN")', "E046", "unknown function 'env'"),
    ],
)
def test_record_checks(om: Compile, body: str, code: str, message: str) -> None:
    """Against the offers that make the product (Web makes Line): the attribute, its type,
    and what the value reads.  No record can read an environment variable."""
    reserve = 'callout reserve: Inv POST "/r" response { port = body.port }'
    errors = plan_errors(om, f"{reserve}\n{body}")
    assert errors == ([(code, errors[0][1])] if code else []), errors
    if code:
        assert message in errors[0][1]


def test_a_record_is_checked_against_offers_that_make_the_product_through_chains(
    om: Compile,
) -> None:
    """A chained product's lines come from their parent's order items: Web makes Line, and
    Line makes Port, so Port's plan records on Web's products; a family rule counts too."""
    compiled = om(
        """
        rfs Port { attribute n: int }
        decompose Line -> Port { n = speed }
        plan Port on add { auto p handler "p" record label = p.label }
        offer Tv { family Media attribute channels: int default 10 }
        cfs Box { family Kit attribute m: int }
        decompose family Media -> Box { m = channels }
        plan family Kit on add { auto b handler "b" record channels = b.n }
        """,
        base=True,
    )
    assert compiled.codes == [], compiled.render()
    assert all(p.records for p in compiled.catalog.plans if p.product in ("Port", "Box"))
    wrong = om(
        """
        offer Tv { family Media attribute channels: int default 10 }
        cfs Box { family Kit attribute m: int }
        decompose family Media -> Box { m = channels }
        plan family Kit on add { auto b handler "b" record speed = b.n }
        """,
        base=True,
    )
    assert wrong.codes == ["E085"]
    assert "the offers whose items make its lines: Tv" in wrong.one("E085").hints[-1]
