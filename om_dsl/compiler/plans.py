"""Plans (per technical product and action), their items, and cross-product dependencies."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from om_dsl.base_urls import dot_segment
from om_dsl.compiler.build import builder
from om_dsl.compiler.context import Context, back_span
from om_dsl.compiler.exprs import ExprEnv, lit, mapping, new_call
from om_dsl.compiler.names import a, suggest, suggest_or_list
from om_dsl.compiler.outputs import check_cross_outputs, check_plan_outputs
from om_dsl.compiler.plan_cycles import chain_waits, check_cross_cycles
from om_dsl.compiler.records import lower_records
from om_dsl.compiler.rules import common_attrs, family_members, order_scope, technical_product
from om_dsl.compiler.symbols import TECHNICAL
from om_dsl.compiler.systems import lower_retry
from om_dsl.compiler.teardown import check_teardown
from om_dsl.ir import models as ir
from om_dsl.source import Span
from om_dsl.syntax import ast

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
WITHIN = ("root", "order", "relies_on")
COMMON_CLAUSES = frozenset(
    {"after", "when", "retry", "timeout", "expect", "point_of_no_return", "undo"}
)
KIND_CLAUSES: dict[str, frozenset[str]] = {
    "auto": frozenset({"handler"}),
    "callout": frozenset({"request", "response", "async"}),
    "manual": frozenset({"queue"}),
    "milestone": frozenset(),
    "wait": frozenset({"event", "until"}),
}
# Plans, items and dependencies hold only checked values (an unknown method becomes POST, an
# unknown undo target None): built without validation (see om_dsl.compiler.build).
_new_plan: Final = builder(ir.Plan)
_new_auto: Final = builder(ir.AutoItem)
_new_callout: Final = builder(ir.CalloutItem)
_new_manual: Final = builder(ir.ManualItem)
_new_milestone: Final = builder(ir.MilestoneItem)
_new_wait: Final = builder(ir.WaitItem)
_new_dependency: Final = builder(ir.Dependency)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def collect_items(ctx: Context) -> None:
    """Item names per product, known before expressions are checked (for output references).

    Each keeps the source span of its name as it is: only the names are read, so converting
    10k spans to IR spans (as this did) bought nothing.
    """
    own = _own_actions(ctx)
    for plan in ctx.symbols.plans:
        for product in _planned_products(ctx, plan, own):
            table = ctx.plan_items.setdefault(product, {})
            outputs = ctx.item_outputs.setdefault(product, {})
            for item in plan.items:
                name = item.name.value
                table.setdefault(name, item.name.span)
                fixed = declared_outputs(item)
                outputs[name] = _either(outputs[name], fixed) if name in outputs else fixed


def _own_actions(ctx: Context) -> dict[str, set[str]]:
    """The actions each product's own plans are for (a family plan's apply to the rest)."""
    own: dict[str, set[str]] = {}
    for plan in ctx.symbols.plans:
        if not plan.family:
            own.setdefault(plan.product.value, set()).update(_action_names(plan))
    return own


def _action_names(plan: ast.PlanDecl) -> list[str]:
    return [a.value for a in plan.actions] if plan.actions else list(ir.ACTIONS)


def _planned_products(ctx: Context, plan: ast.PlanDecl, own: dict[str, set[str]]) -> list[str]:
    """The products whose items a plan declares: its product, or the technical members of
    its family that have an action of it without a plan of their own."""
    if not plan.family:
        return [plan.product.value]
    actions = set(_action_names(plan))
    return [
        m for m in _technical(ctx, ctx.symbols.families.get(plan.product.value, []))
        if actions - own.get(m, set())
    ]  # fmt: skip


def _technical(ctx: Context, names: list[str]) -> list[str]:
    return [n for n in names if ctx.symbols.products[n].kind in TECHNICAL]


def _either(first: frozenset[str] | None, second: frozenset[str] | None) -> frozenset[str] | None:
    """The outputs of an item name that two plans of a product declare: either may run."""
    return None if first is None or second is None else first | second


def declared_outputs(item: ast.ItemDecl) -> frozenset[str] | None:
    """A callout's outputs (its response mappings); None for an item whose outputs are open:
    a handler returns what it likes, a person enters what a task asks."""
    if item.kind != "callout":
        return None
    response = next((c for c in item.clauses if c.key == "response"), None)
    if response is None:
        return frozenset()
    return frozenset(m.target.value for m in response.value)


@dataclass(slots=True)
class _Owners:
    """Who plans what: a product's own plans by (product, action), family plans by
    (family, action), and which family plan each (member, action) got."""

    own: dict[str, set[str]]
    """The actions each product's own plans are for (see :func:`_own_actions`)."""
    products: dict[tuple[str, str], ast.PlanDecl] = field(default_factory=dict)
    families: dict[tuple[str, str], ast.PlanDecl] = field(default_factory=dict)
    members: dict[tuple[str, str], ast.PlanDecl] = field(default_factory=dict)


def lower_plans(ctx: Context) -> list[ir.Plan]:
    """Products' own plans first, then family plans, which apply to each technical member
    for the actions its own plans leave (the more specific plan wins)."""
    plans: list[ir.Plan] = []
    owners = _Owners(_own_actions(ctx))
    for decl in ctx.symbols.plans:
        if decl.family or not _plan_product(ctx, decl):
            continue
        actions = _actions(ctx, decl, owners.products)
        env = _env(ctx, decl)
        items = _items(ctx, decl, actions, env)
        records = _records(ctx, decl, env, [decl.product.value])
        plans.append(_lowered(ctx, decl, decl.product.value, actions, items, records))
    for decl in ctx.symbols.plans:
        if decl.family:
            plans.extend(_family_plans(ctx, decl, owners))
    return plans


def _lowered(
    ctx: Context,
    decl: ast.PlanDecl,
    product: str,
    actions: list[str],
    items: list[Any],
    records: list[ir.Record],
) -> ir.Plan:
    return _new_plan(
        product=product,
        actions=actions,
        items=items,
        doc=decl.doc,
        span=ctx.span(decl.span),
        records=records,
    )


def _records(
    ctx: Context, decl: ast.PlanDecl, env: ExprEnv, products: list[str]
) -> list[ir.Record]:
    """The plan's ``record`` statements (after its items: they read the items' outputs)."""
    if not decl.records:
        return []
    items = {i.name.value: i for i in reversed(decl.items)}  # the first of a duplicate name
    return lower_records(ctx, decl, env, items, products)


def _family_plans(ctx: Context, decl: ast.PlanDecl, owners: _Owners) -> list[ir.Plan]:
    """``plan family F``: checked once, against the attributes every technical member
    declares alike; one IR plan per member, for the actions no plan of its own covers."""
    members = _family_technical(ctx, decl)
    if members is None:
        return []
    actions = _actions(ctx, decl, owners.families)
    attrs, why_not = common_attrs(ctx, decl.product.value, members, "plan")
    readers = _planned_products(ctx, decl, owners.own)
    env = _env(ctx, decl, attrs, why_not)
    items = _items(ctx, decl, actions, env, readers)
    records = _records(ctx, decl, env, readers)
    out: list[ir.Plan] = []
    for member in members:
        mine = [
            action for action in actions
            if (member, action) not in owners.products and _claim(ctx, decl, member, action, owners)
        ]  # fmt: skip
        if mine:
            out.append(_lowered(ctx, decl, member, mine, items, records))
    _replaced_actions(ctx, decl, actions, members, owners)
    return out


def _replaced_actions(
    ctx: Context, decl: ast.PlanDecl, actions: list[str], members: list[str], owners: _Owners
) -> None:
    """W010: an action of a family plan that every member plans itself never runs (a probe's
    family plan was counted nowhere, and said nothing)."""
    replaced = [a for a in actions if members and all((m, a) in owners.products for m in members)]
    if replaced:
        ctx.bag.warning(
            "W010",
            f"plan family {decl.product.value} on {', '.join(replaced)} never runs: every "
            f"member ({', '.join(members)}) has its own plan for it, which replaces it",
            decl.product.span,
            f"drop {' and '.join(replaced)} from the family plan, or drop a member's own plan "
            "for it so that the family's applies to that member",
        )


def _family_technical(ctx: Context, decl: ast.PlanDecl) -> list[str] | None:
    members = family_members(ctx, decl.product)
    if members is None:
        return None
    technical = _technical(ctx, members)
    if not technical:
        name = decl.product.value
        ctx.bag.error(
            "E022",
            f"family {name} has no cfs, rfs or resource: a plan runs for technical products",
            decl.product.span,
            f"its members are offers: `decompose family {name}` applies rules to them",
        )
        return None
    return technical


def _claim(ctx: Context, decl: ast.PlanDecl, member: str, action: str, owners: _Owners) -> bool:
    """A member in two families that both plan an action: neither plan is chosen (E080)."""
    other = owners.members.setdefault((member, action), decl)
    if other is decl:
        return True
    if other.product.value == decl.product.value:
        return False  # one family planning an action twice: reported once, by _actions
    ctx.bag.error(
        "E080",
        f"{member} is in family {other.product.value} and family {decl.product.value}, "
        f"which both have a plan for '{action}'",
        decl.product.span,
        f"give {member} a plan of its own for '{action}' (it replaces both), "
        f"or keep it in one of the families; the other plan is at {other.span}",
    )
    return False


def _plan_product(ctx: Context, decl: ast.PlanDecl) -> bool:
    name = decl.product.value
    return technical_product(
        ctx,
        decl.product,
        f"a plan runs for a cfs, rfs or resource; '{name}' is {{kind}}",
        f"decompose {name} into technical products and plan those",
    )


def _actions(
    ctx: Context, decl: ast.PlanDecl, owners: dict[tuple[str, str], ast.PlanDecl]
) -> list[str]:
    names = [a.value for a in decl.actions] if decl.actions else list(ir.ACTIONS)
    spans = [a.span for a in decl.actions] if decl.actions else [decl.product.span] * 4
    out: list[str] = []
    for action, span in zip(names, spans, strict=True):
        if action not in ir.ACTIONS:
            ctx.bag.error(
                "E033", f"unknown action '{action}'", span,
                *suggest(action, ir.ACTIONS), "actions: add, modify, delete, noChange or *",
            )  # fmt: skip
            continue
        key = (_label(decl), action)  # `family F` is never a product's name
        if owners.get(key) is decl:
            ctx.bag.error("E080", f"action '{action}' is listed twice", span)
            continue
        if key in owners:
            ctx.bag.error(
                "E080",
                f"{key[0]} already has a plan for '{action}'",
                span,
                f"the other plan is at {owners[key].span}",
            )
        owners[key] = decl
        out.append(action)
    return out


def _items(
    ctx: Context,
    decl: ast.PlanDecl,
    actions: list[str],
    env: ExprEnv,
    readers: list[str] | None = None,
) -> list[Any]:
    """The plan's items, checked; ``readers`` are the products whose lines run them (a family
    plan's members; the plan's product when None)."""
    seen: dict[str, ast.ItemDecl] = {}
    for item in decl.items:
        if item.name.value in seen:
            ctx.bag.error(
                "E030",
                f"plan item '{item.name.value}' is declared twice",
                item.name.span,
                f"first declared at {seen[item.name.value].name.span}",
            )
        else:
            seen[item.name.value] = item
    env = _with_items(env, ctx, seen)
    items = [_item(ctx, item, seen, env) for item in seen.values()]
    _intra_cycles(ctx, decl, items)
    _unreachable(ctx, items, actions)
    check_plan_outputs(ctx, _label(decl), items, actions, readers)
    return items


def _label(decl: ast.PlanDecl) -> str:
    """A plan's owner: the product, or ``family F`` (in messages, and as the key of a family
    plan in :class:`_Owners`, where it cannot meet a product's name)."""
    return f"family {decl.product.value}" if decl.family else decl.product.value


class OtherProducts(Mapping[str, Collection[str]]):
    """The item names of every planned product but one: what ``Product.item`` may refer to.

    A view rather than a copy: copying the table for each plan made compiling a catalog with
    thousands of plans quadratic (24 s of 34 s at 100k lines).
    """

    def __init__(self, items: dict[str, dict[str, Span]], exclude: str) -> None:
        self._items = items
        self._exclude = exclude

    def __getitem__(self, product: str) -> Collection[str]:
        if product == self._exclude:
            raise KeyError(product)
        return self._items[product].keys()

    def __contains__(self, product: object) -> bool:
        return product != self._exclude and product in self._items

    def __iter__(self) -> Iterator[str]:
        return (p for p in self._items if p != self._exclude)

    def __len__(self) -> int:
        return len(self._items) - (self._exclude in self._items)


def _env(
    ctx: Context,
    decl: ast.PlanDecl,
    attrs: dict[str, str] | None = None,
    why_not: dict[str, str] | None = None,
) -> ExprEnv:
    """What a plan's expressions read: its product's attributes, or (``attrs``) those every
    member of its family declares alike."""
    if attrs is None:
        attrs = {n: a.type for n, a in ctx.attributes.get(decl.product.value, {}).items()}
    return ExprEnv(
        where=f"in the plan of {_label(decl)}",
        bare=attrs,
        bare_root="line",
        roots={"line": attrs, "order": order_scope(ctx)},
        products=OtherProducts(ctx.plan_items, decl.product.value),
        product_outputs=ctx.item_outputs,
        why_not=why_not,
    )


def _with_items(env: ExprEnv, ctx: Context, items: dict[str, ast.ItemDecl]) -> ExprEnv:
    env.items = set(items)
    env.outputs = {name: declared_outputs(item) for name, item in items.items()}
    return env


def _clauses(ctx: Context, item: ast.ItemDecl) -> dict[str, ast.Option]:
    allowed = COMMON_CLAUSES | KIND_CLAUSES[item.kind]
    found: dict[str, ast.Option] = {}
    for clause in item.clauses:
        if clause.key in found:
            ctx.bag.error(
                "E087", f"'{clause.key}' is given twice for item '{item.name.value}'", clause.span
            )
        elif clause.key not in allowed:
            ctx.bag.error(
                "E088",
                f"'{clause.key}' does not apply to {a(item.kind)} item",
                clause.span,
                *_clause_hint(clause.key),
            )
        else:
            found[clause.key] = clause
    return found


def _clause_hint(key: str) -> tuple[str, ...]:
    owners = [kind for kind, keys in KIND_CLAUSES.items() if key in keys]
    return (f"'{key}' belongs to {' or '.join(owners)} items",) if owners else ()


def _item(ctx: Context, item: ast.ItemDecl, items: dict[str, ast.ItemDecl], env: ExprEnv) -> Any:
    c = _clauses(ctx, item)
    fields: dict[str, Any] = {
        "name": item.name.value,
        "compensation": item.compensation,
        "doc": item.doc,
        "span": ctx.span(item.span),
    }
    _common(ctx, item, c, items, env, fields)
    builder = _KIND_BUILDERS[item.kind]
    return builder(ctx, item, c, env, fields)


def _common(
    ctx: Context,
    item: ast.ItemDecl,
    c: dict[str, ast.Option],
    items: dict[str, ast.ItemDecl],
    env: ExprEnv,
    fields: dict[str, Any],
) -> None:
    if "after" in c:
        fields["after"] = _after(ctx, item, c["after"].value, items)
    if "when" in c:
        fields["when"] = ctx.exprs.condition(c["when"].value, env)
    if "retry" in c:
        fields["retry"] = lower_retry(ctx, c["retry"].value)
    for key in ("timeout", "expect"):
        if key in c:
            if c[key].value <= 0:
                ctx.bag.error("E086", f"{key} must be longer than 0", c[key].span)
            ctx.too_large(c[key].value, c[key].span, key)
            fields[f"{key}_ms"] = c[key].value
    fields["point_of_no_return"] = "point_of_no_return" in c
    if "undo" in c:
        fields["undo"] = _undo(ctx, item, c["undo"].value, items)
    if item.compensation:
        _compensation_rules(ctx, item, c)


def _after(
    ctx: Context, item: ast.ItemDecl, names: list[ast.Name], items: dict[str, ast.ItemDecl]
) -> list[str]:
    out: list[str] = []
    for name in names:
        target = items.get(name.value)
        if target is None:
            ctx.bag.error(
                "E027", f"unknown plan item '{name.value}'", name.span,
                *suggest_or_list(name.value, _others(items, item), "the plan's other items"),
            )  # fmt: skip
        elif target.compensation and not item.compensation:
            ctx.bag.error(
                "E081",
                f"'{name.value}' is a compensation item; it only runs on cancel",
                name.span,
            )
        elif name.value not in out:
            out.append(name.value)
    return out


def _others(items: dict[str, ast.ItemDecl], item: ast.ItemDecl) -> list[str]:
    """The plan's items but ``item``: what else it may wait for or undo."""
    return [name for name in items if name != item.name.value]


def _undo(
    ctx: Context, item: ast.ItemDecl, name: ast.Name, items: dict[str, ast.ItemDecl]
) -> str | None:
    target = items.get(name.value)
    if target is None:
        ctx.bag.error(
            "E027", f"unknown plan item '{name.value}'", name.span,
            *suggest_or_list(name.value, _others(items, item), "the plan's other items"),
        )  # fmt: skip
        return None
    if not target.compensation:
        ctx.bag.error(
            "E081",
            f"undo must name a compensation item; '{name.value}' is a normal item",
            name.span,
            f"declare it as: compensation {target.kind} {name.value} ...",
        )
        return None
    return name.value


def _compensation_rules(ctx: Context, item: ast.ItemDecl, c: dict[str, ast.Option]) -> None:
    for key in ("point_of_no_return", "undo"):
        if key in c:
            ctx.bag.error("E082", f"a compensation item cannot have '{key}'", c[key].span)


# ---- kinds ------------------------------------------------------------------------------------


def _missing(ctx: Context, item: ast.ItemDecl, what: str, example: str) -> None:
    ctx.bag.error(
        "E089", f"{item.kind} item '{item.name.value}' needs {what}", item.name.span, example
    )


def _auto(
    ctx: Context, item: ast.ItemDecl, c: dict[str, ast.Option], env: ExprEnv, f: dict[str, Any]
) -> ir.AutoItem:
    if "handler" not in c:
        _missing(ctx, item, "a handler", 'e.g. auto activate handler "network.activate"')
        return _new_auto(handler="", **f)
    if not c["handler"].value.strip():
        ctx.bag.error("E089", "a handler name cannot be empty", c["handler"].span)
    return _new_auto(handler=c["handler"].value, **f)


def _manual(
    ctx: Context, item: ast.ItemDecl, c: dict[str, ast.Option], env: ExprEnv, f: dict[str, Any]
) -> ir.ManualItem:
    if "queue" not in c:
        _missing(ctx, item, "a queue", "e.g. manual install queue field_techs")
        return _new_manual(queue="", **f)
    queue = c["queue"].value
    kind = ctx.symbols.kind_of(queue.value)
    if queue.value not in ctx.symbols.queues and kind is not None:  # a system, an enum...
        ctx.bag.error(
            "E022", f"'{queue.value}' is {a(kind)}, not a queue", queue.span,
            *suggest(queue.value, ctx.symbols.queues),
            "a manual item's queue is a declared `queue`",
        )  # fmt: skip
    elif queue.value not in ctx.symbols.queues and not ctx.symbols.broken.declares(queue.value):
        ctx.bag.error(
            "E026", f"unknown queue '{queue.value}'", queue.span,
            *suggest(queue.value, ctx.symbols.queues), f"declare it: queue {queue.value}",
        )  # fmt: skip
    return _new_manual(queue=queue.value, **f)


def _milestone(
    ctx: Context, item: ast.ItemDecl, c: dict[str, ast.Option], env: ExprEnv, f: dict[str, Any]
) -> ir.MilestoneItem:
    return _new_milestone(**f)


def _wait(
    ctx: Context, item: ast.ItemDecl, c: dict[str, ast.Option], env: ExprEnv, f: dict[str, Any]
) -> ir.WaitItem:
    if ("event" in c) == ("until" in c):
        ctx.bag.error(
            "E089",
            f"wait item '{item.name.value}' needs exactly one of 'event' or 'until'",
            item.name.span,
            'e.g. wait ported event "number.ported"',
        )
    until = ctx.exprs.condition(c["until"].value, env) if "until" in c else None
    event = c["event"].value if "event" in c else None
    if event == "":
        ctx.bag.error("E089", "an event name cannot be empty", c["event"].span)
    elif event is not None and len(event) > ir.MAX_EVENT_NAME and "{" not in event:
        ctx.bag.error(
            "E089", f"an event name is at most {ir.MAX_EVENT_NAME} characters", c["event"].span
        )
    event_expr = None
    if event is not None and ("{" in event or "}" in event):  # one event per line or value
        example = '"link.up.{line.circuit_id}"'
        event_expr = _template(ctx, event, c["event"].span, env, "event name", example)
    return _new_wait(event=event, event_expr=event_expr, until=until, **f)


def _callout(
    ctx: Context, item: ast.ItemDecl, c: dict[str, ast.Option], env: ExprEnv, f: dict[str, Any]
) -> ir.CalloutItem:
    head = item.callout
    assert head is not None  # the grammar gives every callout a head
    _callout_system(ctx, head.system)
    method = head.method.value.upper()
    if method not in METHODS:
        ctx.bag.error(
            "E084", f"'{head.method.value}' is not an HTTP method", head.method.span,
            "methods: " + ", ".join(METHODS),
        )  # fmt: skip
        method = "POST"
    request = ctx.exprs.object(c["request"].value, env) if "request" in c else None
    response = _response(ctx, c.get("response"), env)
    if "async" in c and "timeout" not in c:
        _async_without_timeout(ctx, item, head.system.value, c["async"].span)
    return _new_callout(
        system=head.system.value,
        method=method,
        path=head.path,
        path_expr=_path(ctx, head.path, head.path_span, env),
        request=request,
        response=response,
        is_async="async" in c,
        **f,
    )


def _async_without_timeout(ctx: Context, item: ast.ItemDecl, system: str, span: Span) -> None:
    """W012: an async callout waits for its system's callback; without a `timeout` a lost
    callback keeps it waiting for ever, and a cancel of its order too (a cancel lets work a
    system accepted settle before it decides what to undo)."""
    ctx.bag.warning(
        "W012",
        f"async callout '{item.name.value}' has no `timeout`: if {system} never calls back, "
        "it waits for ever, and so does a cancel of its order",
        span,
        "add a timeout, e.g. `timeout 1h`: without a callback by then the item fails (its "
        "retry policy applies, then fallout for an operator)",
    )


def _callout_system(ctx: Context, system: ast.Name) -> None:
    if system.value in ctx.symbols.systems or ctx.symbols.broken.declares(system.value):
        return
    kind = ctx.symbols.kind_of(system.value)
    if kind is not None:
        ctx.bag.error("E022", f"'{system.value}' is {a(kind)}, not a system", system.span)
        return
    ctx.bag.error(
        "E025",
        f"callout to undeclared system '{system.value}'",
        system.span,
        *suggest(system.value, ctx.symbols.systems),
        "callouts may only go to systems declared in the catalog",
    )


def _response(ctx: Context, opt: ast.Option | None, env: ExprEnv) -> list[ir.MappingIR]:
    if opt is None:
        return []
    body_env = replace(env, where="in a response mapping", roots={**env.roots, "body": None})
    out: list[ir.MappingIR] = []
    seen: set[str] = set()
    for m in opt.value:
        if m.target.value in seen:
            ctx.bag.error("E024", f"output '{m.target.value}' is mapped twice", m.target.span)
        seen.add(m.target.value)
        expr = ctx.exprs.check(m.expr, body_env)
        out.append(mapping(m.target.value, expr, ctx.span(m.span)))
    return out


def _path(ctx: Context, path: str, span: Span, env: ExprEnv) -> Any:
    """``/ports/{line.port_id}`` becomes concat("/ports/", line.port_id)."""
    dots = dot_segment(path)
    if not path.startswith("/"):
        ctx.bag.error("E083", "a callout path must start with '/'", span)
    elif dots is not None:
        ctx.bag.error(
            "E099",
            f"a callout path must not have a '{dots}' segment: HTTP clients resolve it, so the "
            "call could leave the path of the system's url",
            span,
            "write the path as it is under the system's url, or give the system the url the "
            "call needs",
        )
    return _template(ctx, path, span, env, "callout path", "/ports/{reserve_port.port_id}")


def _template(ctx: Context, text: str, span: Span, env: ExprEnv, what: str, example: str) -> Any:
    """Text with ``{reference}`` placeholders (a callout path, an event name) as a concat of
    its literal parts and references; the runtime renders it part by part
    (om_dsl/runtime/templates.py), so that a null reference is an error, not a hole."""
    parts: list[Any] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(text):
        if m.start() > pos:
            parts.append(lit("string", text[pos : m.start()]))
        where = _within_literal(span, text, m.start(), m.end())
        parts.append(_placeholder(ctx, m.group(1).strip(), where, env, example))
        pos = m.end()
    if pos < len(text) or not parts:
        parts.append(lit("string", text[pos:]))
    if "{" in text[pos:] or "}" in text[pos:]:
        ctx.bag.error("E083", f"unbalanced '{{' or '}}' in {what}", span, f"e.g. {example}")
    if len(parts) == 1:
        return parts[0]
    return new_call(type="string", fn="concat", args=parts)


def _within_literal(span: Span, text: str, start: int, end: int) -> Span:
    """The span of ``text[start:end]`` in the string literal that ends ``span`` (``event
    "a.{line.x}"``), so that an error in one placeholder points at it, not at the whole text.

    Only for a literal on one line whose text needs no escape, where each character of the
    text is one column of the source; otherwise ``span`` itself."""
    first = span.end_col - len(text) - 1  # the column of the text's first character
    if span.line != span.end_line or "\\" in text or '"' in text or first - 1 < span.col:
        return span
    return Span(span.file, span.line, first + start, span.line, first + end)


def _placeholder(ctx: Context, text: str, span: Span, env: ExprEnv, example: str) -> Any:
    if not _DOTTED.match(text):
        ctx.bag.error("E083", f"'{{{text}}}' is not a reference", span, f"e.g. {example}")
        return lit("string", "")
    names = text.split(".")
    node: Any = ast.NameRef(span, names[0])
    for name in names[1:]:
        node = ast.AttrRef(span, node, name)
    return ctx.exprs.check(node, env)


_KIND_BUILDERS: dict[str, Any] = {
    "auto": _auto,
    "manual": _manual,
    "milestone": _milestone,
    "wait": _wait,
    "callout": _callout,
}


# ---- graph checks -----------------------------------------------------------------------------


def _intra_cycles(ctx: Context, decl: ast.PlanDecl, items: list[Any]) -> None:
    """E061.  A plan whose items name no `after` (a third of them) has no edge to walk, and
    the spans are looked up only for a cycle found."""
    graph = {i.name: i.after for i in items}  # read only: find_cycles copies nothing
    if not any(graph.values()):
        return
    for cycle in ctx.cycles(graph):
        span = next(i.span for i in items if i.name == cycle[0])
        ctx.bag.error(
            "E061",
            f"plan of {decl.product.value} has a dependency cycle: " + " -> ".join(reversed(cycle)),
            back_span(span),
            "each arrow reads 'runs before'",
        )


def _unreachable(ctx: Context, items: list[Any], actions: list[str]) -> None:
    undone = {i.undo for i in items if i.undo}
    unchanging = bool(actions) and set(actions) <= _UNCHANGING
    for item in items:
        if item.compensation and item.name not in undone:
            ctx.bag.warning(
                "W003",
                f"compensation item '{item.name}' is never used by an undo, so it never runs",
                back_span(item.span),
            )
        elif isinstance(item.when, ir.Lit) and item.when.value is False:
            ctx.bag.warning(
                "W003", f"item '{item.name}' has `when false`, so it never runs",
                back_span(item.span),
            )  # fmt: skip
        elif unchanging and _needs_change(item.when):
            ctx.bag.warning(
                "W003",
                f"item '{item.name}' runs only when changed(...) holds, and a "
                f"{' or '.join(actions)} line changes no attribute, so it never runs",
                back_span(item.span),
                "changed() is true for the attributes an add sets or a modify changes",
            )


_UNCHANGING: Final = frozenset({"delete", "noChange"})


def _needs_change(when: Any) -> bool:
    """Whether a condition can hold only when ``changed(...)`` does: the call itself, or a
    conjunction with it."""
    if isinstance(when, ir.CallOp):
        return when.fn == "changed"
    if isinstance(when, ir.BinaryOp) and when.operator == "and":
        return _needs_change(when.left) or _needs_change(when.right)
    return False


# ---- cross-product dependencies -------------------------------------------------------------


def lower_dependencies(
    ctx: Context, plans: list[ir.Plan], rules: list[ir.DecompositionRule]
) -> list[ir.Dependency]:
    out = [d for d in (_dependency(ctx, decl) for decl in ctx.symbols.depends) if d is not None]
    chains = chain_waits(ctx, rules)  # once, for both checks
    check_cross_cycles(ctx, plans, out, chains)
    check_cross_outputs(ctx, plans, out, chains)
    check_teardown(ctx, plans, chains)
    return out


def _dep_end(ctx: Context, product: ast.Name, item: ast.Name) -> bool:
    if not _plan_product(ctx, ast.PlanDecl(product.span, product, [], [])):
        return False
    items = ctx.plan_items.get(product.value, {})
    if item.value not in items:
        if ctx.symbols.broken.completes(product.value):
            return False  # a plan of it has a syntax error
        ctx.bag.error(
            "E027", f"no plan of {product.value} has an item '{item.value}'", item.span,
            *suggest_or_list(item.value, items, f"the items of {product.value}'s plans"),
        )  # fmt: skip
        return False
    return True


def _dependency(ctx: Context, decl: ast.DependDecl) -> ir.Dependency | None:
    ok = _dep_end(ctx, decl.product, decl.item)
    ok = _dep_end(ctx, decl.after_product, decl.after_item) and ok
    within = "root"
    if decl.within is not None:
        within = decl.within.value
        if within not in WITHIN:
            ctx.bag.error(
                "E034", f"unknown dependency scope '{within}'", decl.within.span,
                *suggest(within, WITHIN), "use: within root | order | relies_on",
            )  # fmt: skip
            return None
    if not ok:
        return None
    if (decl.product.value, decl.item.value) == (decl.after_product.value, decl.after_item.value):
        ctx.bag.error("E062", "an item cannot depend on itself", decl.span)
        return None
    when = None
    if decl.when is not None:
        when = ctx.exprs.condition(decl.when.value, _depend_env(ctx, decl))
        if isinstance(when, ir.Lit) and when.value is False:  # not an error's placeholder
            ctx.bag.warning(
                "W003",
                f"`depend {decl.product.value}.{decl.item.value}` has `when false`, so it "
                "never links",
                decl.span,
                "remove the depend, or give the condition that should link the lines",
            )
    return _new_dependency(
        product=decl.product.value,
        item=decl.item.value,
        after_product=decl.after_product.value,
        after_item=decl.after_item.value,
        within=within,
        doc=decl.doc,
        span=ctx.span(decl.span),
        when=when,
    )


def _depend_env(ctx: Context, decl: ast.DependDecl) -> ExprEnv:
    """What a `depend`'s ``when`` reads: the waiting line (``line.x``, or ``x``), the line it
    would wait for (``other.x``) and the order; nothing that exists only once items have run,
    as the condition is decided when the plan is built."""
    attrs = {n: a.type for n, a in ctx.attributes.get(decl.product.value, {}).items()}
    other = {n: a.type for n, a in ctx.attributes.get(decl.after_product.value, {}).items()}
    not_yet = (
        "a `depend`'s condition is decided when the plan is built, before any item has run: "
        "it reads line.NAME (the waiting line), other.NAME (the line waited for) and order.NAME"
    )
    why_not = dict.fromkeys(ctx.plan_items, not_yet)
    for product in (decl.product.value, decl.after_product.value):
        why_not.update(dict.fromkeys(ctx.plan_items.get(product, {}), not_yet))
    for name in attrs:
        why_not.pop(name, None)
    return ExprEnv(
        where=f"in the condition of `depend {decl.product.value}.{decl.item.value}`",
        bare=attrs,
        bare_root="line",
        roots={"line": attrs, ir.OTHER_ROOT: other, "order": order_scope(ctx)},
        why_not=why_not,
    )
