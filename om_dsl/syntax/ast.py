"""AST nodes: plain slotted dataclasses, each carrying the span the designer wrote.

The AST mirrors the text; meaning (name resolution, types, defaults) is the compiler's job,
so nodes keep raw names and let later passes report what is wrong with them.

Each class writes its ``__init__`` out (the dataclass keeps it, and still makes ``__repr__``
and ``__eq__``): compiled (:mod:`om_dsl.accel`), an explicit ``__init__`` is a C constructor,
while the one a dataclass generates runs as Python behind an argument tuple and dict, eight
times the cost (a 100k-line catalog makes about half a million nodes).  As Python both cost the
same.  ``tests/compiler/test_native_inits.py`` checks each ``__init__`` against the class's fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from om_dsl.source import Span


@dataclass(slots=True)
class Name:
    """An identifier together with where it was written (for "unknown name" diagnostics)."""

    value: str
    span: Span

    def __init__(self, value: str, span: Span) -> None:
        self.value = value
        self.span = span


# ---- expressions ----------------------------------------------------------------------------
#
# Every expression node has a ``depth``: how deeply its IR will nest, counted as pydantic counts
# when it serialises (one level per model and per list).  The builder sets it bottom-up while
# parsing (O(1) per node), so the checker can refuse an expression nested deeper than
# :data:`om_dsl.expr.depth.MAX_DEPTH` before it recurses into it.


@dataclass(slots=True)
class Literal:
    span: Span
    kind: str  # int | decimal | string | bool | null
    value: Any
    depth: int = 1  # a Lit

    def __init__(self, span: Span, kind: str, value: Any, depth: int = 1) -> None:
        self.span = span
        self.kind = kind
        self.value = value
        self.depth = depth


@dataclass(slots=True)
class NameRef:
    span: Span
    name: str
    depth: int = 2  # a Ref (a model and its path list)

    def __init__(self, span: Span, name: str, depth: int = 2) -> None:
        self.span = span
        self.name = name
        self.depth = depth


@dataclass(slots=True)
class AttrRef:
    span: Span
    obj: Expr
    name: str
    depth: int = 2  # a Ref (`a.b.c` is one path); a field of anything else is an error

    def __init__(self, span: Span, obj: Expr, name: str, depth: int = 2) -> None:
        self.span = span
        self.obj = obj
        self.name = name
        self.depth = depth


@dataclass(slots=True)
class Index:
    """``subject[key]``: an item of a list (``body.ips[0]``), or a field of an output by a
    name that is not an identifier (``body["max-speed"]``)."""

    span: Span
    subject: Expr
    key: Expr
    depth: int = 2

    def __init__(self, span: Span, subject: Expr, key: Expr, depth: int = 2) -> None:
        self.span = span
        self.subject = subject
        self.key = key
        self.depth = depth


@dataclass(slots=True)
class Call:
    span: Span
    fn: str
    args: list[Expr]
    depth: int = 1

    def __init__(self, span: Span, fn: str, args: list[Expr], depth: int = 1) -> None:
        self.span = span
        self.fn = fn
        self.args = args
        self.depth = depth


@dataclass(slots=True)
class ListLit:
    span: Span
    items: list[Expr] | list[ObjectLit]  # objects only in a request: `[{ a: 1 }, { a: 2 }]`
    depth: int = 1

    def __init__(self, span: Span, items: list[Expr] | list[ObjectLit], depth: int = 1) -> None:
        self.span = span
        self.items = items
        self.depth = depth


@dataclass(slots=True)
class Unary:
    span: Span
    op: str  # neg | not
    arg: Expr
    depth: int = 1

    def __init__(self, span: Span, op: str, arg: Expr, depth: int = 1) -> None:
        self.span = span
        self.op = op
        self.arg = arg
        self.depth = depth


@dataclass(slots=True)
class Binary:
    span: Span
    op: str  # + - * / % == != < <= > >= and or in not_in
    left: Expr
    right: Expr
    depth: int = 1

    def __init__(self, span: Span, op: str, left: Expr, right: Expr, depth: int = 1) -> None:
        self.span = span
        self.op = op
        self.left = left
        self.right = right
        self.depth = depth


@dataclass(slots=True)
class IfExpr:
    span: Span
    cond: Expr
    then: Expr
    otherwise: Expr
    depth: int = 1

    def __init__(self, span: Span, cond: Expr, then: Expr, otherwise: Expr, depth: int = 1) -> None:
        self.span = span
        self.cond = cond
        self.then = then
        self.otherwise = otherwise
        self.depth = depth


@dataclass(slots=True)
class MapCase:
    span: Span
    key: Const | None  # None: the default case
    value: Expr

    def __init__(self, span: Span, key: Const | None, value: Expr) -> None:
        self.span = span
        self.key = key
        self.value = value


@dataclass(slots=True)
class MapExpr:
    span: Span
    subject: Expr
    cases: list[MapCase]
    depth: int = 1

    def __init__(self, span: Span, subject: Expr, cases: list[MapCase], depth: int = 1) -> None:
        self.span = span
        self.subject = subject
        self.cases = cases
        self.depth = depth


@dataclass(slots=True)
class MapTable:
    """``map SUBJECT TABLE``: a lookup in a named table (a ``table`` declaration)."""

    span: Span
    subject: Expr
    table: Name
    depth: int = 1  # the subject's side only: the table's cases are known once it is resolved

    def __init__(self, span: Span, subject: Expr, table: Name, depth: int = 1) -> None:
        self.span = span
        self.subject = subject
        self.table = table
        self.depth = depth


@dataclass(slots=True)
class ObjectField:
    span: Span
    key: str
    value: Expr | ObjectLit

    def __init__(self, span: Span, key: str, value: Expr | ObjectLit) -> None:
        self.span = span
        self.key = key
        self.value = value


@dataclass(slots=True)
class ObjectLit:
    span: Span
    fields: list[ObjectField]
    depth: int = 1

    def __init__(self, span: Span, fields: list[ObjectField], depth: int = 1) -> None:
        self.span = span
        self.fields = fields
        self.depth = depth


Expr = (
    Literal | NameRef | AttrRef | Index | Call | ListLit | Unary | Binary | IfExpr | MapExpr
) | MapTable


# ---- constants (defaults, allowed values, map keys) ------------------------------------------


@dataclass(slots=True)
class Const:
    span: Span
    kind: str  # int | decimal | string | bool | name | list
    value: Any  # for list: list[Const]
    depth: int = 0  # the nesting of a list constant (a JSON value): 0 for a scalar
    enum: Name | None = None  # for name: the enum of a qualified member (`Technology.FTTH`)

    def __init__(
        self,
        span: Span,
        kind: str,
        value: Any,
        depth: int = 0,
        enum: Name | None = None,
    ) -> None:
        self.span = span
        self.kind = kind
        self.value = value
        self.depth = depth
        self.enum = enum


# ---- declarations ---------------------------------------------------------------------------


@dataclass(slots=True)
class CatalogDecl:
    span: Span
    name: str
    version: str
    doc: str | None = None

    def __init__(self, span: Span, name: str, version: str, doc: str | None = None) -> None:
        self.span = span
        self.name = name
        self.version = version
        self.doc = doc


@dataclass(slots=True)
class ImportDecl:
    span: Span
    path: str
    path_span: Span
    doc: str | None = None

    def __init__(self, span: Span, path: str, path_span: Span, doc: str | None = None) -> None:
        self.span = span
        self.path = path
        self.path_span = path_span
        self.doc = doc


@dataclass(slots=True)
class EnumDecl:
    span: Span
    name: Name
    members: list[Name]
    doc: str | None = None

    def __init__(self, span: Span, name: Name, members: list[Name], doc: str | None = None) -> None:
        self.span = span
        self.name = name
        self.members = members
        self.doc = doc


@dataclass(slots=True)
class TableDecl:
    """``table NAME: KEY -> VALUE { KEY: VALUE, ..., default: VALUE }``: a map declared once,
    used by name (``map speed NAME``)."""

    span: Span
    name: Name
    key: TypeRef
    value: TypeRef
    cases: list[MapCase]
    doc: str | None = None

    def __init__(
        self,
        span: Span,
        name: Name,
        key: TypeRef,
        value: TypeRef,
        cases: list[MapCase],
        doc: str | None = None,
    ) -> None:
        self.span = span
        self.name = name
        self.key = key
        self.value = value
        self.cases = cases
        self.doc = doc


@dataclass(slots=True)
class TypeRef:
    span: Span
    name: str
    arg: str | None = None  # list[arg]

    def __init__(self, span: Span, name: str, arg: str | None = None) -> None:
        self.span = span
        self.name = name
        self.arg = arg


@dataclass(slots=True)
class AttrOption:
    """One modifier after an attribute's type; kept as a list so duplicates can be reported."""

    span: Span
    key: str  # required | range | default | unit | description | pattern | values | merge | alias
    value: Any

    def __init__(self, span: Span, key: str, value: Any) -> None:
        self.span = span
        self.key = key
        self.value = value


@dataclass(slots=True)
class AttributeDecl:
    span: Span
    name: Name
    type: TypeRef
    options: list[AttrOption]
    doc: str | None = None

    def __init__(
        self,
        span: Span,
        name: Name,
        type: TypeRef,
        options: list[AttrOption],
        doc: str | None = None,
    ) -> None:
        self.span = span
        self.name = name
        self.type = type
        self.options = options
        self.doc = doc


@dataclass(slots=True)
class Include:
    """``includes A [c]``, or a choice group ``includes A or B [c]``: ``c`` counts the parts of
    all of ``products`` together (``alternatives`` are those after the first)."""

    span: Span
    product: Name
    min: int
    max: int | None
    alternatives: list[Name] = field(default_factory=list)

    def __init__(
        self,
        span: Span,
        product: Name,
        min: int,
        max: int | None,
        alternatives: list[Name] | None = None,
    ) -> None:
        self.span = span
        self.product = product
        self.min = min
        self.max = max
        self.alternatives = [] if alternatives is None else alternatives

    @property
    def products(self) -> list[Name]:
        """Every product of the include, the first one first."""
        return [self.product, *self.alternatives]


@dataclass(slots=True)
class Require:
    """``requires A or B``: one prerequisite, met by an order item of any of ``products``."""

    span: Span
    products: list[Name]

    def __init__(self, span: Span, products: list[Name]) -> None:
        self.span = span
        self.products = products


@dataclass(slots=True)
class ProductDecl:
    """Commercial (offer, bundle) and technical (cfs, rfs, resource) products alike."""

    span: Span
    kind: str
    name: Name
    display_name: str | None
    external_id: str | None
    scope: Name | None
    attributes: list[AttributeDecl]
    includes: list[Include]
    specs: list[tuple[str, str | None, Span]]
    families: list[Name]
    doc: str | None = None
    requires: list[Require] = field(default_factory=list)

    def __init__(
        self,
        span: Span,
        kind: str,
        name: Name,
        display_name: str | None,
        external_id: str | None,
        scope: Name | None,
        attributes: list[AttributeDecl],
        includes: list[Include],
        specs: list[tuple[str, str | None, Span]],
        families: list[Name],
        doc: str | None = None,
        requires: list[Require] | None = None,
    ) -> None:
        self.span = span
        self.kind = kind
        self.name = name
        self.display_name = display_name
        self.external_id = external_id
        self.scope = scope
        self.attributes = attributes
        self.includes = includes
        self.specs = specs
        self.families = families
        self.doc = doc
        self.requires = [] if requires is None else requires


@dataclass(slots=True)
class OrderDecl:
    span: Span
    attributes: list[AttributeDecl]
    misplaced: list[Span] = field(default_factory=list)
    doc: str | None = None


@dataclass(slots=True)
class Mapping:
    span: Span
    target: Name
    expr: Expr

    def __init__(self, span: Span, target: Name, expr: Expr) -> None:
        self.span = span
        self.target = target
        self.expr = expr


@dataclass(slots=True)
class RuleWait:
    """One ``after parent`` or ``before parent`` clause of a rule, with its ``on`` actions:
    None when it has no ``on`` (every action), ``[]`` for ``on *``."""

    how: str  # after_parent | before_parent
    actions: list[Name] | None
    span: Span

    def __init__(self, how: str, actions: list[Name] | None, span: Span) -> None:
        self.how = how
        self.actions = actions
        self.span = span


@dataclass(slots=True)
class RuleDecl:
    span: Span
    target: Name
    name: Name | None
    when: Expr | None
    waits: list[RuleWait]
    mappings: list[Mapping]
    option_spans: list[tuple[str, Span]]
    doc: str | None = None

    def __init__(
        self,
        span: Span,
        target: Name,
        name: Name | None,
        when: Expr | None,
        waits: list[RuleWait],
        mappings: list[Mapping],
        option_spans: list[tuple[str, Span]],
        doc: str | None = None,
    ) -> None:
        self.span = span
        self.target = target
        self.name = name
        self.when = when
        self.waits = waits
        self.mappings = mappings
        self.option_spans = option_spans
        self.doc = doc


@dataclass(slots=True)
class DecomposeDecl:
    span: Span
    source: Name
    family: bool
    rules: list[RuleDecl]
    doc: str | None = None

    def __init__(
        self,
        span: Span,
        source: Name,
        family: bool,
        rules: list[RuleDecl],
        doc: str | None = None,
    ) -> None:
        self.span = span
        self.source = source
        self.family = family
        self.rules = rules
        self.doc = doc


@dataclass(slots=True)
class EnvRef:
    span: Span
    var: str
    default: str | None

    def __init__(self, span: Span, var: str, default: str | None) -> None:
        self.span = span
        self.var = var
        self.default = default


@dataclass(slots=True)
class AuthDecl:
    span: Span
    scheme: str  # bearer | basic | header
    header: str | None
    envs: list[EnvRef]

    def __init__(self, span: Span, scheme: str, header: str | None, envs: list[EnvRef]) -> None:
        self.span = span
        self.scheme = scheme
        self.header = header
        self.envs = envs


@dataclass(slots=True)
class RetryDecl:
    span: Span
    kind: str  # none | fixed | staggered | exponential
    delays_ms: list[int]
    max_retries: int | None
    cap_ms: int | None
    jitter: bool

    def __init__(
        self,
        span: Span,
        kind: str,
        delays_ms: list[int],
        max_retries: int | None,
        cap_ms: int | None,
        jitter: bool,
    ) -> None:
        self.span = span
        self.kind = kind
        self.delays_ms = delays_ms
        self.max_retries = max_retries
        self.cap_ms = cap_ms
        self.jitter = jitter


@dataclass(slots=True)
class Option:
    """A keyword clause (system option or plan-item clause) with its parsed value."""

    span: Span
    key: str
    value: Any

    def __init__(self, span: Span, key: str, value: Any) -> None:
        self.span = span
        self.key = key
        self.value = value


@dataclass(slots=True)
class SystemDecl:
    span: Span
    name: Name
    display_name: str | None
    options: list[Option]
    doc: str | None = None

    def __init__(
        self,
        span: Span,
        name: Name,
        display_name: str | None,
        options: list[Option],
        doc: str | None = None,
    ) -> None:
        self.span = span
        self.name = name
        self.display_name = display_name
        self.options = options
        self.doc = doc


@dataclass(slots=True)
class QueueDecl:
    span: Span
    name: Name
    display_name: str | None
    doc: str | None = None

    def __init__(
        self,
        span: Span,
        name: Name,
        display_name: str | None,
        doc: str | None = None,
    ) -> None:
        self.span = span
        self.name = name
        self.display_name = display_name
        self.doc = doc


@dataclass(slots=True)
class CalloutHead:
    system: Name
    method: Name
    path: str
    path_span: Span

    def __init__(self, system: Name, method: Name, path: str, path_span: Span) -> None:
        self.system = system
        self.method = method
        self.path = path
        self.path_span = path_span


@dataclass(slots=True)
class ItemDecl:
    span: Span
    kind: str  # auto | manual | milestone | wait | callout
    name: Name
    compensation: bool
    callout: CalloutHead | None
    clauses: list[Option]
    doc: str | None = None

    def __init__(
        self,
        span: Span,
        kind: str,
        name: Name,
        compensation: bool,
        callout: CalloutHead | None,
        clauses: list[Option],
        doc: str | None = None,
    ) -> None:
        self.span = span
        self.kind = kind
        self.name = name
        self.compensation = compensation
        self.callout = callout
        self.clauses = clauses
        self.doc = doc


@dataclass(slots=True)
class RecordDecl:
    """``record NAME = EXPR`` in a plan: a value to keep on the inventory products of the
    line's order items when the order completes."""

    span: Span
    name: Name
    value: Any
    doc: str | None = None

    def __init__(self, span: Span, name: Name, value: Any, doc: str | None = None) -> None:
        self.span = span
        self.name = name
        self.value = value
        self.doc = doc


@dataclass(slots=True)
class PlanDecl:
    span: Span
    product: Name  # or the family, for `plan family NAME`
    actions: list[Name]  # empty: `*`, every action
    items: list[ItemDecl]
    doc: str | None = None
    family: bool = False
    records: list[RecordDecl] = field(default_factory=list)

    def __init__(
        self,
        span: Span,
        product: Name,
        actions: list[Name],
        items: list[ItemDecl],
        doc: str | None = None,
        family: bool = False,
        records: list[RecordDecl] | None = None,
    ) -> None:
        self.span = span
        self.product = product
        self.actions = actions
        self.items = items
        self.doc = doc
        self.family = family
        self.records = [] if records is None else records


@dataclass(slots=True)
class DependDecl:
    span: Span
    product: Name
    item: Name
    after_product: Name
    after_item: Name
    within: Name | None
    doc: str | None = None
    when: Option | None = None
    """``when CONDITION``: the pairs of lines it links (None: every pair in the scope)."""

    def __init__(
        self,
        span: Span,
        product: Name,
        item: Name,
        after_product: Name,
        after_item: Name,
        within: Name | None,
        doc: str | None = None,
        when: Option | None = None,
    ) -> None:
        self.span = span
        self.product = product
        self.item = item
        self.after_product = after_product
        self.after_item = after_item
        self.within = within
        self.doc = doc
        self.when = when


Decl = (
    CatalogDecl
    | ImportDecl
    | EnumDecl
    | ProductDecl
    | OrderDecl
    | DecomposeDecl
    | SystemDecl
    | QueueDecl
    | PlanDecl
    | DependDecl
    | TableDecl
)


@dataclass(frozen=True, slots=True)
class BrokenDecl:
    """A declaration dropped for a syntax error, and the names it would have provided.

    ``declared``: what it declares (an enum and its members, a product and its families, a
    system, a queue).  ``completed``: products whose decomposition, plan or dependencies it
    would have completed.  The compiler keeps quiet about these names (they look unknown or
    incomplete only because of the syntax error, which is reported).
    """

    kind: str | None  # the declaration's keyword, or the one a misspelt keyword stands for
    declared: tuple[str, ...] = ()
    completed: tuple[str, ...] = ()


@dataclass(slots=True)
class Module:
    """One parsed .om file."""

    file: str
    decls: list[Decl]
    broken: list[BrokenDecl] = field(default_factory=list)
    bad_numbers: list[Span] = field(default_factory=list)
    """Where the file has a bad number (E005): the parser put a stand-in value there so that
    the declaration parses on, and checks must not quote it (`default 1 is outside ...`)."""


def has_index(node: Any) -> bool:
    """Whether a chain of fields (``a.b[0].c``) reads through an index: then it is not one
    reference (a root and a path) but field reads of a value."""
    while isinstance(node, AttrRef):
        node = node.obj
    return isinstance(node, Index)
