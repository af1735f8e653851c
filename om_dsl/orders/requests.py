"""Fulfillment requests: one per root order item, plus one per group of shared lines.

A root item (a bundle with everything below it, or a stand-alone item) gets a request even when
all of its lines are shared, so that every root can be tracked.  Lines of ``order``,
``relies_on`` and ``account`` scope serve several roots, so they live in a shared request of
their own (one per scope group: ``fr:order``, ``fr:relies_on:<first item>``,
``fr:account:<account>``), which each root's request lists in ``uses``.  A line-scope line
chained from a shared line belongs to its parent's shared request.  A ``root``-scope line is
merged too, but from one root's items only, so it belongs to that root's request (as do the
lines chained from it): a shared request would name one root and share nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from operator import attrgetter
from typing import Any, Final

from om_dsl.orders.models import FulfillmentLine, FulfillmentRequest
from om_dsl.orders.structure import ItemInfo
from om_dsl.orders.trusted import blank_maker, maker
from om_dsl.orders.worlds import Built, RequestKey
from om_dsl.rules.program import RuleProgram

# Final: compiled (om_dsl.accel), a plain module global is a dict look-up on every use.
_SCOPE_RANK: Final = {"order": 0, "relies_on": 1, "account": 2}


def request_id(key: RequestKey) -> str:
    kind, value = key
    if kind == "root":
        return f"fr:{value}"
    return "fr:order" if kind == "order" else f"fr:{kind}:{value or '-'}"


def assemble(
    lines: list[Built], infos: list[ItemInfo], program: RuleProgram
) -> list[FulfillmentRequest]:
    """The requests: root ones in item order, then the shared ones (by scope, then by their
    first line).  Lines are sorted once; each request's lines come out in that order.

    One flat loop over the lines with its lookup tables in locals: it runs once per line of
    the order (tens of thousands), where a helper call and a few attribute reads per line
    cost as much as the line's own work.
    """
    lines.sort(key=_BY_SORT)
    item_ids = [info.item.id for info in infos]
    roots = [info.root for info in infos]
    rule_ids, rule_spans, kinds = program.rule_ids, program.rule_spans, program.kinds
    rule_waits = program.rule_waits
    new_line = _new_line
    groups: dict[RequestKey, tuple[list[FulfillmentLine], str]] = {}
    for line in lines:
        key = line.request
        found = groups.get(key)
        if found is None:
            found = groups[key] = ([], request_id(key))
        group, request = found
        items, rules = line.items, line.rules
        if len(items) == 1:
            source_items, root_items = [item_ids[items[0]]], [roots[items[0]]]
        else:
            source_items = [item_ids[i] for i in items]
            root_items = list(dict.fromkeys([roots[i] for i in items]))
        if len(rules) == 1:
            rule_list, spans = [rule_ids[rules[0]]], [rule_spans[rules[0]]]
        else:
            rule_list = [rule_ids[r] for r in rules]
            spans = [rule_spans[r] for r in rules]
        changed, previous = line.changed, line.previous
        made, fields = new_line()  # every field, in declaration order (see blank_maker)
        fields["id"] = line.id
        fields["product"] = line.product
        fields["kind"] = kinds[line.product]
        fields["scope"] = line.scope
        fields["action"] = line.action
        fields["attributes"] = line.attributes
        fields["changed"] = [] if changed is None else changed
        fields["previous"] = {} if previous is None else previous
        fields["source_items"] = source_items
        fields["root_items"] = root_items
        fields["rules"] = rule_list
        fields["rule_spans"] = spans
        fields["parent_line"] = line.parent_line
        waits = rule_waits[rules[0]]  # a per-action wait reads the line's own action
        fields["wait"] = line.wait if waits is None else waits.get(line.action, "none")
        fields["request"] = request
        group.append(made)
    return _requests(groups, infos)


def _requests(
    groups: dict[RequestKey, tuple[list[FulfillmentLine], str]], infos: list[ItemInfo]
) -> list[FulfillmentRequest]:
    """The requests of the grouped lines: root ones in item order, then the shared ones."""
    # groups keeps first-line order, so a stable sort by scope rank alone is enough
    shared_keys = sorted((k for k in groups if k[0] != "root"), key=_scope_rank)
    shared: list[FulfillmentRequest] = []
    for k in shared_keys:  # unpacked here: a star call is a generic call when compiled
        group, request = groups[k]
        shared.append(_shared(k, group, request))
    uses = _uses(shared)
    requests = []
    for info in infos:
        item = info.item
        if item.parent is None:
            found = groups.get(("root", item.id))
            lines_of = [] if found is None else found[0]
            requests.append(_root(item.id, lines_of, uses.get(item.id)))
    requests.extend(shared)
    return requests


_BY_SORT: Final = attrgetter("sort")
_new_line: Final = blank_maker(FulfillmentLine)
_new_request: Final = maker(FulfillmentRequest)


def _scope_rank(key: RequestKey) -> int:
    return _SCOPE_RANK[key[0]]


def _uses(shared: list[FulfillmentRequest]) -> defaultdict[str, list[str]]:
    """Root item id -> the shared requests its lines are in (in shared-request order).

    A request's roots are deduplicated first (at C speed: the order request alone lists every
    root of the order once per line), so each (root, request) pair is appended once.
    """
    uses: defaultdict[str, list[str]] = defaultdict(list)
    for request in shared:
        request_id_ = request.id
        lines = request.lines
        if len(lines) == 1:
            roots: Iterable[str] = lines[0].root_items  # unique already
        else:
            roots = dict.fromkeys([root for line in lines for root in line.root_items])
        for root in roots:
            uses[root].append(request_id_)
    return uses


def _root(root: str, lines: list[FulfillmentLine], uses: list[str] | None) -> FulfillmentRequest:
    return _request(f"fr:{root}", root, False, "line", None, lines, [] if uses is None else uses)


def _shared(key: RequestKey, lines: list[FulfillmentLine], id_: str) -> FulfillmentRequest:
    return _request(id_, None, True, key[0], key[1] or None, lines, [])


def _request(
    id_: str,
    root: str | None,
    shared: bool,
    scope: str,
    key: str | None,
    lines: list[FulfillmentLine],
    uses: list[str],
) -> FulfillmentRequest:
    fields: dict[str, Any] = {
        "id": id_,
        "root_item": root,
        "shared": shared,
        "scope": scope,
        "key": key,
        "lines": lines,
        "uses": uses,
    }
    return _new_request(fields)
