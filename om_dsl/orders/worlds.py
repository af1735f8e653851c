"""Decomposing one *world* of an order: the state before it, or the state after it.

An order item exists after the order unless it is deleted, and existed before unless it is
added; a ``modify`` item exists in both, with its ``previous`` values before.  Running the same
rules over each world and comparing the two gives every line's action (see
:mod:`om_dsl.orders.diff`): a line of the after world only is ``add``, of the before world only
``delete``, of both ``modify`` or ``noChange``.  This module builds one world's lines.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Final, Literal

from om_dsl.errors import OrderIssue
from om_dsl.ir.constraints import fitting_merges
from om_dsl.ir.models import Action, Scope
from om_dsl.orders.installed_base import InstalledBase, NoInstalledBase
from om_dsl.orders.issues import show
from om_dsl.orders.limits import DEFAULT_LIMITS
from om_dsl.orders.merge import Contribution, MergeConflict, merge_values
from om_dsl.orders.models import Order, OrderItem
from om_dsl.orders.structure import ItemInfo
from om_dsl.rules.engine import Fact, RuleEngine, RuleFailed
from om_dsl.rules.program import CompiledRule, MappingFailed, RuleProgram

World = Literal["before", "after"]
RequestKey = tuple[str, str]
"""``("root", item id)`` for a root item's request, ``(scope, key)`` for a shared one."""

# Final: compiled (om_dsl.accel), a plain module global is a dict look-up on every use.
_BY_SORT: Final = attrgetter("sort")

_EXISTS: Final[dict[World, frozenset[str]]] = {
    "after": frozenset({"add", "modify", "noChange"}),
    "before": frozenset({"modify", "delete", "noChange"}),
}


@dataclass(slots=True)
class Built:
    """A line of one world; comparing the worlds then settles its action in place."""

    id: str
    product: str
    scope: Scope
    attributes: dict[str, Any]
    items: tuple[int, ...]
    rules: tuple[int, ...]
    parent_line: str | None
    wait: str
    sort: tuple[int, ...]
    request: RequestKey
    action: Action = "add"
    changed: list[str] | None = None
    """None for none (the output gets a fresh empty list: no list is shared between lines)."""
    previous: dict[str, Any] | None = None

    # Written out (the dataclass keeps it): a C constructor when compiled, see om_dsl.syntax.ast.
    def __init__(
        self,
        id: str,
        product: str,
        scope: Scope,
        attributes: dict[str, Any],
        items: tuple[int, ...],
        rules: tuple[int, ...],
        parent_line: str | None,
        wait: str,
        sort: tuple[int, ...],
        request: RequestKey,
        action: Action = "add",
        changed: list[str] | None = None,
        previous: dict[str, Any] | None = None,
    ) -> None:
        self.id = id
        self.product = product
        self.scope = scope
        self.attributes = attributes
        self.items = items
        self.rules = rules
        self.parent_line = parent_line
        self.wait = wait
        self.sort = sort
        self.request = request
        self.action = action
        self.changed = changed
        self.previous = previous


@dataclass(slots=True)
class Origin:
    """Where a fact comes from: what its lines inherit (ids, order, request, group)."""

    base: str
    sort: tuple[int, ...]
    items: tuple[int, ...]
    request: RequestKey
    info: ItemInfo
    line: str | None = None

    # Written out (the dataclass keeps it): a C constructor when compiled, see om_dsl.syntax.ast.
    def __init__(
        self,
        base: str,
        sort: tuple[int, ...],
        items: tuple[int, ...],
        request: RequestKey,
        info: ItemInfo,
        line: str | None = None,
    ) -> None:
        self.base = base
        self.sort = sort
        self.items = items
        self.request = request
        self.info = info
        self.line = line


@dataclass(slots=True)
class Setting:
    """Everything both worlds of one decomposition share."""

    program: RuleProgram
    engine: RuleEngine
    order: Order
    infos: list[ItemInfo]
    installed: InstalledBase
    max_lines: int = DEFAULT_LIMITS.max_lines
    found: dict[tuple[int, str, str], OrderIssue] = field(default_factory=dict)
    full: bool = False
    """A world reached ``max_lines`` (reported once, D005)."""

    def issue(self, code: str, pos: int, message: str) -> None:
        path = self.infos[pos].item.path or "$"
        self.found.setdefault((pos, code, message), OrderIssue(code, path, message))

    @property
    def issues(self) -> list[OrderIssue]:
        """Sorted (item order, then code and message), once each: the same list on either
        engine, whatever order the rules fired in, and once although both worlds see it."""
        return [self.found[k] for k in sorted(self.found)]


class WorldRun:
    def __init__(self, setting: Setting, world: World) -> None:
        self.s = setting
        self.world = world
        self.order_env = setting.order.order_fields()
        self.lines: dict[str, Built] = {}
        self.pending: dict[tuple[str, str, str], list[Contribution]] = {}
        self._keys = itertools.count()
        self.max_lines = setting.max_lines

    def run(self) -> dict[str, Built]:
        """The world's lines by id (problems go to the setting's issues)."""
        self.s.engine.run(self._item_facts(), self)
        stratum = self.s.program.stratum
        while self.pending:
            level = min(stratum.get(k[2], 0) for k in self.pending)
            ready = sorted(k for k in self.pending if stratum.get(k[2], 0) == level)
            facts = [self._merged(k, self.pending.pop(k)) for k in ready]
            self.s.engine.run([f for f in facts if f is not None], self)
        return self.lines

    # ---- sources -----------------------------------------------------------------------------

    def _item_facts(self) -> list[Fact]:
        exists = _EXISTS[self.world]
        before = self.world == "before"
        order_env, keys = self.order_env, self._keys
        facts: list[Fact] = []
        by_product = self.s.program.by_product
        bundles = (
            bundle_values(self.s.order.items, self.world) if self.s.program.reads_bundle else None
        )
        for info in self.s.infos:
            item = info.item
            product = item.product
            if item.action not in exists or product not in by_product:
                continue
            attrs = item.attributes
            if before and item.previous:
                attrs = item.values_before()
            env: dict[str, Any]
            if bundles is None:  # no rule reads bundle.NAME (most catalogs)
                env = {"source": attrs, "order": order_env}
            else:
                parent = item.parent
                bundle = None if parent is None else bundles.get(parent)
                env = {"source": attrs, "order": order_env, "bundle": bundle}
            pos, quantity = info.pos, item.quantity
            for unit in range(quantity):
                base = item.id if quantity == 1 else f"{item.id}[{unit + 1}]"
                origin = Origin(base, (pos, unit), (pos,), ("root", info.root), info)
                facts.append(Fact(next(keys), product, env, origin))
        return facts

    def _fact(self, line: Built, origin: Origin) -> Fact:
        """The fact of a line that rules take as their source (as :meth:`produce` builds
        inline)."""
        env = {"source": line.attributes, "order": self.order_env}
        chained = Origin(line.id, line.sort, line.items, line.request, origin.info, line.id)
        return Fact(next(self._keys), line.product, env, chained)

    # ---- producing ---------------------------------------------------------------------------

    def produce(self, fact: Fact, rule: CompiledRule) -> Sequence[Fact]:
        """The engine's callback: one rule fired for one fact (the hot path: kept flat, a
        shared line's contribution and the chained fact built inline, no helper calls)."""
        origin: Origin = fact.origin
        if len(self.lines) >= self.max_lines:  # nothing more is made (D005)
            self._too_many(origin.items[0])
            return ()
        scope = rule.scope
        if scope != "line":  # a shared line's source: its values wait for the others
            try:
                values = rule.mapped(fact.env)
            except MappingFailed as exc:
                self._mapping_failed(fact, rule, exc)
                return ()
            if scope == "relies_on":
                group = origin.info.group
            elif scope == "account":
                group = origin.info.account or ""
            elif scope == "root":
                group = origin.info.root
            else:
                group = ""
            key = (scope, group, rule.target_name)
            contribution = Contribution(
                origin.sort + rule.indices, origin.items, rule, values, origin.line
            )
            waiting = self.pending.get(key)
            if waiting is None:
                self.pending[key] = [contribution]
            else:
                waiting.append(contribution)
            return ()
        try:
            attrs = rule.line_attributes(fact.env)
        except MappingFailed as exc:
            self._mapping_failed(fact, rule, exc)
            return ()
        line_id = origin.base + rule.id_tails[fact.product]
        sort = origin.sort + rule.indices  # (*sort, index) is a list made into a tuple, compiled
        line = Built(
            line_id, rule.target_name, "line", attrs, origin.items, rule.indices, origin.line,
            rule.wait, sort, origin.request,
        )  # fmt: skip
        spec = rule.spec
        lines = self.lines
        if line_id in lines or (spec.checked and spec.problem(attrs) is not None):
            self._register(line, spec.problem(attrs))  # reports why it cannot be
            return ()
        lines[line_id] = line
        if not rule.chains:
            return ()
        env = {"source": attrs, "order": self.order_env}
        chained = Origin(line_id, sort, origin.items, origin.request, origin.info, line_id)
        return (Fact(next(self._keys), rule.target_name, env, chained),)

    def _merged(self, key: tuple[str, str, str], contributions: list[Contribution]) -> Fact | None:
        scope, group, product = key
        if len(self.lines) >= self.max_lines:
            self._too_many(contributions[0].items[0])
            return None
        program = self.s.program
        spec = program.targets[product]
        if len(contributions) > 1:
            contributions.sort(key=_BY_SORT)
        if scope == "account":
            installed = self.s.installed.account_line(group or None, product)
            if installed is not None:
                contributions.insert(0, Contribution((), (), None, dict(installed)))
        line_id, request = shared_place(scope, group, product)
        first = contributions[0]
        rule = first.rule
        rules: tuple[int, ...]
        if len(contributions) == 1 and rule is not None:  # the common case: no merging
            # the values are this line's alone: no copy when they are complete already
            values = first.values
            attrs = (
                values if rule.mapped_complete and type(values) is dict else spec.complete(values)
            )
            items, rules = first.items, rule.indices
        else:
            try:
                attrs = merge_values(contributions, spec.names, spec.merge, spec.defaults)
            except MergeConflict as conflict:
                self._conflict(line_id, scope, product, conflict)
                return None
            real = [c for c in contributions if c.rule is not None]
            first = real[0]
            rule = first.rule
            items = tuple(sorted({i for c in real for i in c.items}))
            rules = tuple(dict.fromkeys(c.rule.index for c in real if c.rule is not None))
        assert rule is not None
        line = Built(
            line_id, product, scope, attrs, items, rules,  # type: ignore[arg-type]
            first.parent_line, rule.wait, first.sort, request,
        )  # fmt: skip
        problem = spec.problem(attrs) if spec.checked else None
        if problem is None and line_id not in self.lines:  # _register's common case, inline
            self.lines[line_id] = line
        elif not self._register(line, problem):
            return None
        if product not in program.by_product:
            return None
        info = self.s.infos[items[0]]
        return self._fact(line, Origin(line_id, line.sort, items, line.request, info))

    def _register(self, line: Built, problem: str | None) -> bool:
        if line.id in self.lines:
            self.s.issue(
                "D004", line.items[0],
                f"two lines would get the id {line.id!r}; item ids must not look like line ids",
            )  # fmt: skip
            return False
        if problem is not None:
            rule_ids = ", ".join(self.s.program.rules[r].id for r in line.rules)
            when = self._when(line.items)
            self.s.issue(
                "D003", line.items[0], f"line {line.id} (rule {rule_ids}){when}: {problem}"
            )
            return False
        self.lines[line.id] = line
        return True

    # ---- errors ------------------------------------------------------------------------------

    def _too_many(self, pos: int) -> None:
        """The world has ``max_lines`` lines: the order fails (once, at the item whose line
        would pass the limit), and nothing more is made, so one order's cost stays bounded."""
        if self.s.full:
            return
        self.s.full = True
        self.s.issue(
            "D005", pos,
            f"the order makes more than {self.max_lines:,} technical lines (the limit), the "
            "next one for this item; split the order, or raise the limit (Limits.max_lines) "
            "where the host can afford it",
        )  # fmt: skip

    def _mapping_failed(self, fact: Fact, rule: CompiledRule, exc: MappingFailed) -> None:
        self.failed(RuleFailed(fact, rule, f"the mapping of '{exc.name}'", exc.cause))

    def failed(self, failure: RuleFailed) -> None:
        """The engine's (and the mappings') callback for a failed expression."""
        origin: Origin = failure.fact.origin
        when = self._when(origin.items)
        self.s.issue("D002", origin.items[0], describe_failure(failure, self.s.infos, when))

    def _conflict(self, line_id: str, scope: str, product: str, c: MergeConflict) -> None:
        def who(contribution: Contribution) -> str:
            if contribution.rule is None:
                return "the installed base"
            item = self.s.infos[contribution.items[0]].item.id
            return f"item {item!r} (rule {contribution.rule.id} at {contribution.rule.rule.span})"

        types = {a.name: a.type for a in self.s.program.technical[product].attributes}
        merges = fitting_merges(types.get(c.attribute, ""))
        self.s.issue(
            "D001", c.second.items[0] if c.second.items else 0,
            f"{product}.{c.attribute} ({scope} scope, line {line_id}) is {show(c.first_value)} "
            f"from {who(c.first)} but {show(c.second_value)} from {who(c.second)}"
            f"{self._when((*c.first.items, *c.second.items))}; make them agree or declare a "
            "merge rule on the attribute "
            f"(merge {merges})",
        )  # fmt: skip

    def _when(self, positions: Sequence[int]) -> str:
        """What a problem of the world before the order says of its world, when the world
        after it does not repeat the problem as is: an item behind it (``positions``) is
        deleted, or gives a modify's previous values, where the reader looks for the values
        the item gives now."""
        if self.world != "before":
            return ""
        items = (self.s.infos[n].item for n in positions)
        if any(i.action == "delete" or (i.action == "modify" and i.previous) for i in items):
            return ", before the order"
        return ""


def bundle_values(items: Sequence[OrderItem], world: World) -> dict[str, dict[str, Any]]:
    """Bundle item id -> its values in ``world`` (what ``bundle.NAME`` reads in the rules of
    the items it includes): its values before the order in the world before it, as an item's
    own are; an item the world does not hold (an added bundle, before the order) is left out,
    so its parts read null there."""
    parents = {item.parent for item in items if item.parent is not None}
    exists = _EXISTS[world]
    before = world == "before"
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        if item.id in parents and item.action in exists:
            out[item.id] = item.values_before() if before and item.previous else item.attributes
    return out


def unknown_bundles(items: Sequence[OrderItem], readers: frozenset[str]) -> frozenset[int]:
    """Positions of the items whose rules read the values of a bundle that is a ``modify``
    without ``previous`` values (``readers``: the products whose rules read ``bundle.NAME``):
    what those were before is unknown, as the bundle's own are, so the lines of these items
    count as changed too (:func:`om_dsl.orders.diff.compare`)."""
    unknown = {i.id for i in items if i.action == "modify" and i.previous is None}
    if not unknown:
        return frozenset()
    return frozenset(n for n, i in enumerate(items) if i.parent in unknown and i.product in readers)


def shared_place(scope: str, group: str, product: str) -> tuple[str, RequestKey]:
    """The id of the shared line of ``product`` for ``group``, and the request it goes in.

    ``order/<product>`` and ``<scope>:<group or ->/<product>`` serve several roots, so they
    go in a shared request of their own (``(scope, group)``).  A ``root`` line serves one root
    only: it is named like that root's own lines (``<root>/<product>``, a product of root scope
    has no line-scope lines to collide with) and goes in the root's request.
    """
    if scope == "root":
        return f"{group}/{product}", ("root", group)
    line_id = f"order/{product}" if scope == "order" else f"{scope}:{group or '-'}/{product}"
    return line_id, (scope, group)


def describe_failure(failure: RuleFailed, infos: list[ItemInfo], when: str = "") -> str:
    """``when``: ``, before the order`` for a failure on the values before it."""
    origin: Origin = failure.fact.origin
    item = infos[origin.items[0]].item.id
    source = f"line {origin.line}" if origin.line else f"item {item!r}"
    rule = failure.rule
    return (
        f"rule {rule.id} ({rule.rule.span}) on {source}{when}: {failure.what} failed: "
        f"{failure.cause}"
    )


def add_installed(before: dict[str, Built], after: dict[str, Built], setting: Setting) -> None:
    """An installed account line exists in both worlds, even where the order does not feed it.

    Without this, a line that only this order's added items feed would look new (``add``)
    although the installed base already has it.  Its lines in the world the order does not
    touch carry the installed values and have no chained lines of their own.
    """
    if type(setting.installed) is NoInstalledBase:  # the default: nothing to look up for any
        return  # line (this would walk every line of both worlds to ask)
    for world, other in ((after, before), (before, after)):
        for line in list(world.values()):
            if line.scope != "account" or line.id in other:
                continue
            installed = setting.installed.account_line(line.request[1] or None, line.product)
            if installed is not None:
                spec = setting.program.targets[line.product]
                attrs = spec.complete(dict(installed))
                other[line.id] = Built(
                    line.id, line.product, line.scope, attrs, line.items, line.rules,
                    line.parent_line, line.wait, line.sort, line.request,
                )  # fmt: skip
