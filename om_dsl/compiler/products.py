"""Enums, attributes, offers, bundles and technical products: checked and lowered."""

from __future__ import annotations

from typing import Any, Final

from om_dsl.compiler.build import builder
from om_dsl.compiler.context import Context
from om_dsl.compiler.exprs import ORDER_FIELDS, warn_if_backtracking
from om_dsl.compiler.names import a, suggest
from om_dsl.expr import patterns
from om_dsl.expr import types as T
from om_dsl.ir import models as ir
from om_dsl.ir.constraints import merge_problem, violation
from om_dsl.source import Span
from om_dsl.syntax import ast

SCOPES = ("line", "root", "order", "account", "relies_on")
BUILTIN_TYPES = frozenset({*T.SCALARS, "list", T.ANY})
MERGE_RULES: dict[str, str] = {
    "same": "values must agree; a disagreement is an error",
    "first": "the value of the first source item (order item order)",
    "last": "the value of the last source item (order item order)",
    "min": "the smallest value",
    "max": "the largest value",
    "sum": "the sum of the values",
    "union": "the union of list values",
    "any": "true when any value is true",
    "all": "true when every value is true",
}

# Products and attributes hold only checked values (a bad scope becomes "line", a bad merge
# rule or constraint is left out): built without validation (see om_dsl.compiler.build).
_new_enum: Final = builder(ir.EnumDef)
_new_attribute: Final = builder(ir.Attribute)
_new_commercial: Final = builder(ir.CommercialProduct)
_new_spec: Final = builder(ir.SpecRef)
_new_include: Final = builder(ir.Include)
_new_technical: Final = builder(ir.TechnicalProduct)


def lower_enums(ctx: Context) -> list[ir.EnumDef]:
    out = []
    for decl in ctx.symbols.enums.values():
        if decl.name.value in BUILTIN_TYPES:  # the built-in type would win wherever it is used
            ctx.bag.error(
                "E021",
                f"'{decl.name.value}' is a built-in type; an enum needs another name",
                decl.name.span,
            )
        seen: dict[str, ast.Name] = {}
        for member in decl.members:
            if member.value in seen:
                ctx.bag.error(
                    "E029",
                    f"enum {decl.name.value} lists '{member.value}' twice",
                    member.span,
                )
            seen[member.value] = member
            if member.value in _LITERAL_NAMES:
                _literal_member(ctx, decl.name.value, member)
        out.append(
            _new_enum(
                name=decl.name.value, members=list(seen), doc=decl.doc, span=ctx.span(decl.span)
            )
        )
    return out


_LITERAL_NAMES = ("true", "false", "null")


def _literal_member(ctx: Context, enum: str, member: ast.Name) -> None:
    """W015: a member named like a literal, which its bare name does not (always) mean."""
    name = member.value
    if name == "null":
        message = (
            f"enum {enum} has a member named 'null': a bare `null` is this member in a constant "
            "(a `default`, a map key) but no value in an expression (`x == null`)"
        )
    else:
        message = (
            f"enum {enum} has a member named '{name}': written bare, `{name}` is the bool, "
            "never this member"
        )
    ctx.bag.warning(
        "W015",
        message,
        member.span,
        f"write it `{enum}.{name}` everywhere (`default {enum}.{name}`, "
        f"`map x {{ {enum}.{name}: ... }}`, `x == {enum}.{name}`), or rename it",
    )


# ---- attributes -------------------------------------------------------------------------------


def resolve_type(ctx: Context, ref: ast.TypeRef) -> str:
    if ref.arg is not None:
        if ref.name != "list":
            hint = _INLINE_ENUM if ref.name == "enum" else "only list[T] takes a type"
            ctx.bag.error("E020", f"unknown type '{ref.name}[...]'", ref.span, hint)
            return T.ANY
        return T.list_type(_scalar_or_enum(ctx, ref.arg, ref))
    return _scalar_or_enum(ctx, ref.name, ref)


def _scalar_or_enum(ctx: Context, name: str, ref: ast.TypeRef) -> str:
    if name in T.SCALARS:
        return name
    if name in ctx.symbols.enums:
        return T.enum_type(name)
    kind = ctx.symbols.kind_of(name)
    if kind is not None:
        ctx.bag.error("E022", f"'{name}' is {a(kind)}, not a type", ref.span)
    elif not ctx.symbols.broken.declares(name):
        ctx.bag.error("E020", f"unknown type '{name}'", ref.span, *_unknown_type_hints(ctx, name))
    return T.ANY


def _unknown_type_hints(ctx: Context, name: str) -> tuple[str, ...]:
    if name == "enum":
        return (_INLINE_ENUM,)
    near = suggest(name, [*T.SCALARS, "list", *ctx.symbols.enums])
    synonym = _TYPE_SYNONYMS.get(name.lower())
    return near if near or synonym is None else (synonym,)


# Other languages' names for the scalar types, where no spelling is close (`float`, `text`).
_TYPE_SYNONYMS = {
    **dict.fromkeys(
        ("float", "double", "real"), "the type of a number with a fraction is 'decimal'"
    ),
    **dict.fromkeys(
        ("number", "numeric"), "numbers are 'int' (whole) or 'decimal' (with a fraction)"
    ),
    **dict.fromkeys(("long", "short", "bigint", "smallint"), "the type of a whole number is 'int'"),
    **dict.fromkeys(("text", "varchar", "char"), "the type of text is 'string'"),
    "timestamp": "the type of a calendar date is 'date'",
}


_INLINE_ENUM = (
    "an enum is declared at the top level, 'enum Tier { gold, silver }', and an attribute "
    "names it as its type: 'attribute tier: Tier'"
)


def lower_attributes(
    ctx: Context, decls: list[ast.AttributeDecl], owner: str
) -> list[ir.Attribute]:
    seen: dict[str, ast.AttributeDecl] = {}
    aliases: dict[str, ast.AttributeDecl] = {}
    out = []
    for decl in decls:
        name = decl.name.value
        if name in seen:
            ctx.bag.error(
                "E024",
                f"{owner} declares attribute '{name}' twice",
                decl.name.span,
                f"first declared at {seen[name].name.span}",
            )
            continue
        seen[name] = decl
        attr = lower_attribute(ctx, decl)
        if attr.alias is not None:
            if attr.alias in aliases:
                ctx.bag.error("E024", f"alias '{attr.alias}' is used twice in {owner}", decl.span)
            aliases[attr.alias] = decl
        out.append(attr)
    for alias, decl in aliases.items():
        if alias in seen and seen[alias] is not decl:  # an order's value would go to one only
            ctx.bag.error(
                "E024",
                f"alias '{alias}' of '{decl.name.value}' is the name of another attribute of "
                f"{owner}",
                decl.span,
                f"'{alias}' is declared at {seen[alias].name.span}",
            )
    return out


def lower_attribute(ctx: Context, decl: ast.AttributeDecl) -> ir.Attribute:
    type_ = resolve_type(ctx, decl.type)
    opts: dict[str, ast.AttrOption] = {}
    for opt in decl.options:
        if opt.key in opts:
            ctx.bag.error("E024", f"'{opt.key}' is given twice for '{decl.name.value}'", opt.span)
        opts[opt.key] = opt
    fields: dict[str, Any] = {"name": decl.name.value, "type": type_, "doc": decl.doc}
    fields["required"] = "required" in opts
    for key in ("unit", "description", "alias"):
        if key in opts:
            fields[key] = opts[key].value
    _range(ctx, opts.get("range"), type_, fields)
    _pattern(ctx, opts.get("pattern"), type_, fields)
    _values(ctx, opts.get("values"), type_, fields)
    _merge(ctx, opts.get("merge"), type_, fields)
    _default(ctx, opts.get("default"), type_, fields)
    return _new_attribute(span=ctx.span(decl.span), **fields)


def _range(ctx: Context, opt: ast.AttrOption | None, type_: str, fields: dict[str, Any]) -> None:
    if opt is None or type_ == T.ANY:  # any: the type is unknown, and already reported
        return
    if not T.is_numeric(type_):
        ctx.bag.error("E042", f"a range needs a number type, not {T.describe(type_)}", opt.span)
        return
    low, high = (ctx.exprs.const(c, type_) for c in opt.value)
    if low is not None and high is not None and low > high:
        ctx.bag.error("E042", f"empty range: {low} is greater than {high}", opt.span)
        return  # no value is inside it: checking the default against it would only echo this
    fields["min"], fields["max"] = low, high


def _pattern(ctx: Context, opt: ast.AttrOption | None, type_: str, fields: dict[str, Any]) -> None:
    if opt is None or type_ == T.ANY:  # any: the type is unknown, and already reported
        return
    text, span = opt.value
    if type_ != "string":
        ctx.bag.error("E042", f"a pattern needs a string type, not {T.describe(type_)}", opt.span)
        return
    problem = patterns.compile_error(text)
    if problem is not None:
        ctx.bag.error("E047", problem, span)
        return
    warn_if_backtracking(ctx.bag, text, span)
    fields["pattern"] = text


def _values(ctx: Context, opt: ast.AttrOption | None, type_: str, fields: dict[str, Any]) -> None:
    if opt is None or _unknown_type(type_):
        return
    item = T.list_item(type_) if T.is_list(type_) else type_
    fields["allowed"] = [ctx.exprs.const(c, item) for c in opt.value]


def _merge(ctx: Context, opt: ast.AttrOption | None, type_: str, fields: dict[str, Any]) -> None:
    if opt is None:
        return
    rule = opt.value.value
    if rule not in MERGE_RULES:
        ctx.bag.error(
            "E071", f"unknown merge rule '{rule}'", opt.value.span,
            *suggest(rule, MERGE_RULES), "merge rules: " + ", ".join(MERGE_RULES),
        )  # fmt: skip
        return
    problem = merge_problem(rule, type_)
    if problem:
        ctx.bag.error("E071", f"merge {rule} {problem}, not {T.describe(type_)}", opt.span)
        return
    fields["merge"] = rule


def _unknown_type(type_: str) -> bool:
    """An unresolved type (already reported): checking values against it would only add noise."""
    return type_ == T.ANY or type_ == T.list_type(T.ANY)


def _default(ctx: Context, opt: ast.AttrOption | None, type_: str, fields: dict[str, Any]) -> None:
    if opt is None or _unknown_type(type_):
        return
    allowed = fields.get("allowed")
    among = [a for a in allowed if isinstance(a, str)] if allowed is not None else None
    reported = len(ctx.bag.items)
    value = ctx.exprs.const(opt.value, type_, among)
    fields["default"], fields["has_default"] = value, True
    if len(ctx.bag.items) > reported:
        return  # not a value of the type (E028, E041): whether it is allowed would be noise
    problem = violation(value, fields)
    if problem:
        ctx.bag.error("E048", f"default {problem}", opt.value.span)


# ---- products ---------------------------------------------------------------------------------


def lower_order_attributes(ctx: Context) -> list[ir.Attribute]:
    decls: list[ast.AttributeDecl] = []
    for order in ctx.symbols.orders:
        for span in order.misplaced:
            ctx.bag.error("E022", "an order block holds only attributes", span)
        decls.extend(order.attributes)
    for decl in decls:
        if decl.name.value in ORDER_FIELDS:  # order.x would be ambiguous at run time
            ctx.bag.error(
                "E024",
                f"'{decl.name.value}' is a built-in field of every order (order.{decl.name.value})",
                decl.name.span,
                "choose another name for the attribute; built-in fields: "
                + ", ".join(ORDER_FIELDS),
            )
    return lower_attributes(ctx, decls, "the order block")


def lower_products(ctx: Context) -> tuple[list[ir.CommercialProduct], list[ir.TechnicalProduct]]:
    offers: list[ir.CommercialProduct] = []
    technical: list[ir.TechnicalProduct] = []
    for decl in ctx.symbols.products.values():
        attrs = lower_attributes(ctx, decl.attributes, f"{decl.kind} {decl.name.value}")
        ctx.attributes[decl.name.value] = {a.name: a for a in attrs}
        _repeated_members(ctx, decl)
        _idle_merges(ctx, decl)
        if decl.kind in ("offer", "bundle"):
            offers.append(_commercial(ctx, decl, attrs))
        else:
            technical.append(_technical(ctx, decl, attrs))
    _unique_refs(ctx)
    _bundle_cycles(ctx)
    return offers, technical


def _idle_merges(ctx: Context, decl: ast.ProductDecl) -> None:
    """``merge`` says how the values of several sources of one shared line combine; on a
    product whose lines are never shared it does nothing, which its designer would want to
    know rather than believe the rule applies."""
    if decl.kind in ("offer", "bundle"):
        why = f"{decl.kind} attributes come from the order, one value each"
    elif decl.scope is None or decl.scope.value == "line":
        why = f"{decl.kind} {decl.name.value} has line scope: each of its lines has one source"
    else:
        return
    for attr in decl.attributes:
        for opt in attr.options:
            if opt.key == "merge":
                ctx.bag.warning(
                    "W007", f"merge has no effect on '{attr.name.value}': {why}", opt.span,
                    "merge applies to the shared lines of root, order, relies_on and account scope",
                )  # fmt: skip


def _repeated_members(ctx: Context, decl: ast.ProductDecl) -> None:
    """A second ``includes X``, ``family F`` or ``spec "ID"`` is a mistake, never a no-op.

    Two ``includes`` of one child would give it two cardinalities, and a product listed twice
    in a family would have the family's rules applied to it twice.
    """
    members = [
        *_included(decl),
        *((f"family {f.value}", f.span) for f in decl.families),
        *((f'spec "{sid}"', span) for sid, _name, span in decl.specs),
    ]
    seen: dict[str, Span] = {}
    for text, span in members:
        if text in seen:
            ctx.bag.error(
                "E024", f"{decl.name.value} has `{text}` twice", span, f"first at {seen[text]}"
            )
        seen.setdefault(text, span)


def _included(decl: ast.ProductDecl) -> list[tuple[str, Span]]:
    """``includes X`` for each product of each ``includes``: a product in two of them (single
    or choice group, or twice in one group) would be counted against two cardinalities.  A
    group's products are pointed at one by one."""
    return [
        (f"includes {name.value}", inc.span if not inc.alternatives else name.span)
        for inc in decl.includes
        for name in inc.products
    ]


def _commercial(
    ctx: Context, decl: ast.ProductDecl, attrs: list[ir.Attribute]
) -> ir.CommercialProduct:
    if decl.kind == "offer" and decl.includes:
        ctx.bag.error(
            "E022",
            f"offer {decl.name.value} includes products; only a bundle can",
            decl.includes[0].span,
            f"declare it as: bundle {decl.name.value} ...",
        )
    includes = [inc for inc in (_include(ctx, i) for i in decl.includes) if inc is not None]
    return _new_commercial(
        requires=_requires(ctx, decl),
        kind=decl.kind,
        name=decl.name.value,
        display_name=decl.display_name,
        external_id=decl.external_id,
        specs=[_new_spec(id=sid, name=sname) for sid, sname, _ in decl.specs],
        families=[f.value for f in decl.families],
        attributes=attrs,
        includes=includes,
        doc=decl.doc,
        span=ctx.span(decl.span),
    )


def _include(ctx: Context, inc: ast.Include) -> ir.Include | None:
    """The include, or None when one of its products is no offer or bundle (said) or its
    cardinality is too large to hold."""
    names = [_part(ctx, ref) for ref in inc.products]
    if None in names or ctx.too_large(max(inc.min, inc.max or 0), inc.span, "a cardinality"):
        return None
    if inc.max is not None and inc.min > inc.max:
        ctx.bag.error("E095", f"cardinality [{inc.min}..{inc.max}] is empty", inc.span)
    elif inc.max == 0:
        ctx.bag.warning(
            "W008", f"a cardinality of at most 0 admits {_none_of(inc)}: an order with one is "
            "refused", inc.span, "allow at least one ([0..1]), or remove the include",
        )  # fmt: skip
    return _new_include(
        product=inc.product.value,
        min=inc.min,
        max=inc.max,
        span=ctx.span(inc.span),
        alternatives=[n.value for n in inc.alternatives],
    )


def _none_of(inc: ast.Include) -> str:
    if not inc.alternatives:
        return f"no '{inc.product.value}'"
    return "none of " + ", ".join(n.value for n in inc.products)


def _part(ctx: Context, ref: ast.Name) -> str | None:
    """``ref`` when it names an offer or a bundle, which a bundle may include; else None, with
    the error said."""
    name = ref.value
    target = ctx.symbols.products.get(name)
    if target is None:
        kind = ctx.symbols.kind_of(name)
        offers = [p.name.value for p in ctx.symbols.commercial()]
        if kind is not None:  # an enum, a system, a queue
            ctx.bag.error(
                "E022", f"'{name}' is {a(kind)}, not a product", ref.span,
                *suggest(name, offers), "a bundle includes offers and bundles",
            )  # fmt: skip
        elif not ctx.symbols.broken.declares(name):
            ctx.bag.error("E020", f"unknown product '{name}'", ref.span, *suggest(name, offers))
        return None
    if target.kind not in ("offer", "bundle"):
        ctx.bag.error(
            "E022",
            f"a bundle includes offers and bundles; '{name}' is {a(target.kind)}",
            ref.span,
            "technical products are produced by decompose rules",
        )
        return None
    return name


def _requires(ctx: Context, decl: ast.ProductDecl) -> list[list[str]]:
    """Each ``requires`` as the list of its alternatives, in the order written.

    A name that is no offer or bundle is left out of its group (and a group left empty is
    dropped): it is reported, and the catalog does not compile anyway.  A group written twice
    (in any order of its alternatives) is E024, as a repeated ``includes`` is: a designer who
    wrote it twice meant something else by one of them.
    """
    groups: list[list[str]] = []
    seen: dict[frozenset[str], Span] = {}
    for req in decl.requires:
        _repeated_alternatives(ctx, req)
        names = [name for name in (_required(ctx, decl, n) for n in req.products) if name]
        key = frozenset(n.value for n in req.products)
        if key in seen:
            ctx.bag.error(
                "E024", f"{decl.name.value} has `requires {_alternatives(req)}` twice",
                req.span, f"first at {seen[key]}",
            )  # fmt: skip
            continue
        seen[key] = req.span
        unique = list(dict.fromkeys(names))
        if unique:
            groups.append(unique)
    return groups


def _repeated_alternatives(ctx: Context, req: ast.Require) -> None:
    first: dict[str, ast.Name] = {}
    for ref in req.products:
        if first.setdefault(ref.value, ref) is not ref:
            ctx.bag.error(
                "E024", f"`requires {_alternatives(req)}` lists '{ref.value}' twice", ref.span,
                f"first at {first[ref.value].span}",
            )  # fmt: skip


def _alternatives(req: ast.Require) -> str:
    return " or ".join(n.value for n in req.products)


def _required(ctx: Context, decl: ast.ProductDecl, ref: ast.Name) -> str | None:
    """``ref`` when it names another offer or bundle; else None, with the error said."""
    name, owner = ref.value, decl.name.value
    offers = [p.name.value for p in ctx.symbols.commercial() if p.name.value != owner]
    target = ctx.symbols.products.get(name)
    if name == owner:
        ctx.bag.error(
            "E035", f"{owner} requires itself", ref.span,
            "requires names another offer or bundle, one that an order must hold with this one",
        )  # fmt: skip
        return None
    if target is not None and target.kind in ("offer", "bundle"):
        return name
    kind = ctx.symbols.kind_of(name)
    if kind is not None:  # a technical product, an enum, a system, a queue
        ctx.bag.error(
            "E022", f"an offer requires offers and bundles; '{name}' is {a(kind)}", ref.span,
            *suggest(name, offers), _REQUIRE_KINDS.get(kind, "name an offer or a bundle"),
        )  # fmt: skip
    elif not ctx.symbols.broken.declares(name):
        ctx.bag.error("E020", f"unknown product '{name}'", ref.span, *suggest(name, offers))
    return None


_REQUIRE_KINDS = dict.fromkeys(
    ("cfs", "rfs", "resource"),
    "technical products are produced by decompose rules; an order's work waits for another's "
    "with 'depend'",
)


def _technical(
    ctx: Context, decl: ast.ProductDecl, attrs: list[ir.Attribute]
) -> ir.TechnicalProduct:
    scope = "line"
    if decl.scope is not None:
        scope = decl.scope.value
        if scope not in SCOPES:
            ctx.bag.error(
                "E031", f"unknown scope '{scope}'", decl.scope.span,
                *suggest(scope, SCOPES), "scopes: " + ", ".join(SCOPES),
            )  # fmt: skip
            scope = "line"
    for sid, _name, span in decl.specs:
        ctx.bag.error("E022", f"spec '{sid}' belongs on an offer, not on a {decl.kind}", span)
    if decl.includes:
        ctx.bag.error(
            "E022",
            f"{decl.kind} {decl.name.value} cannot include products",
            decl.includes[0].span,
            "technical products are produced by decompose rules",
        )
    if decl.requires:
        ctx.bag.error(
            "E022",
            f"{decl.kind} {decl.name.value} cannot require offers; only an offer or a bundle can",
            decl.requires[0].span,
            "an order item is an offer or a bundle: say what it needs on the offer; the order "
            "of technical work is a 'depend'",
        )
    return _new_technical(
        kind=decl.kind,
        name=decl.name.value,
        display_name=decl.display_name,
        scope=scope,
        families=[f.value for f in decl.families],
        attributes=attrs,
        doc=decl.doc,
        span=ctx.span(decl.span),
    )


def _unique_refs(ctx: Context) -> None:
    """External offering ids and spec ids must each name one offer, or TMF matching is ambiguous."""
    seen: dict[tuple[str, str], ast.ProductDecl] = {}
    for decl in ctx.symbols.commercial():
        keys = [("offering id", decl.external_id)] if decl.external_id else []
        keys += [("spec id", sid) for sid, _n, _s in decl.specs]
        for key in keys:
            first = seen.setdefault(key, decl)
            if first is not decl:
                ctx.bag.error(
                    "E097",
                    f"{key[0]} '{key[1]}' is used by both {first.name.value} and {decl.name.value}",
                    decl.name.span,
                )


def _bundle_cycles(ctx: Context) -> None:
    graph = {
        d.name.value: [n.value for i in d.includes for n in i.products]
        for d in ctx.symbols.commercial()
    }
    for cycle in ctx.cycles(graph):
        decl = ctx.symbols.products[cycle[0]]
        ctx.bag.error("E096", "bundle includes itself: " + " -> ".join(cycle), decl.name.span)
