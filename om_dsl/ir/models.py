"""The intermediate representation: the compiled catalog that every later stage reads.

Frozen pydantic v2 models with tagged unions.  The IR is a design-time *spec* (like
SpiffWorkflow's WorkflowSpec): it never holds runtime state.  Lists keep declaration order
(imports first, depth-first), which makes the JSON byte-identical across runs and hash seeds.

Types are written as strings: ``int``, ``decimal``, ``string``, ``bool``, ``date``, ``any``,
``enum:Technology`` and ``list[int]`` (see :mod:`om_dsl.expr.types`).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

SCHEMA_VERSION = 1

JsonValue = Any
Action = Literal["add", "modify", "delete", "noChange"]
ACTIONS: tuple[Action, ...] = ("add", "modify", "delete", "noChange")
Scope = Literal["line", "order", "account", "relies_on", "root"]
"""``root`` came after schema 1: a new value, so IR without it keeps its bytes and its hash."""
ParentWait = Literal["none", "after_parent", "before_parent"]
"""How a chained rule's line and its parent line order their plans."""
MergeRule = Literal["same", "first", "last", "min", "max", "sum", "union", "any", "all"]


class IRModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


KEEP_LATER_NULLS = "keep_later_nulls"
"""Serialization context key: the names of :class:`LaterFields` fields to write even when
null, as some om_dsl versions did (:data:`LATER_ERAS`), to check the content hash of their IR."""

LATER_ERAS: tuple[frozenset[str], ...] = (
    frozenset({"doc"}),  # Dependency.doc, written even when null from 2b1ba47
    frozenset({"doc", "event_expr"}),  # and WaitItem.event_expr, from 0d0bd5c to f35cac0+
)
"""The fields added after schema 1 that the om_dsl of some commits wrote even when null.
Their IR, and the catalogs stores pinned by its hash, must still load."""


class LaterFields(IRModel):
    """A model that gained optional fields after schema version 1 (listed in ``LATER``).

    They are left out of the JSON while null (a list: while empty), so IR written before they
    existed, and the catalogs that stores pin by content hash, keep their bytes and their
    hash: adding a field must not make every stored order's catalog "edited by hand"."""

    LATER: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _without_later_nulls(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            keep = (info.context or {}).get(KEEP_LATER_NULLS, ())
            for name in self.LATER:
                if name not in keep and data.get(name, 0) in (None, []):
                    del data[name]
        return data


class SourceSpan(IRModel):
    """Where a declaration was written: file relative to the catalog root, 1-based."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


# ---- expressions ----------------------------------------------------------------------------


class Lit(IRModel):
    op: Literal["lit"] = "lit"
    type: str
    value: JsonValue


class Ref(IRModel):
    """A path into the evaluation context.

    ``root`` is one of: ``source`` (the source item's or line's attributes), ``line`` (the
    line a plan item runs for), ``order`` (order-level fields and attributes), ``parent``
    (the parent line of a technical->technical rule), ``body`` (a callout's response body),
    ``item`` (outputs of an earlier item of the same line: path[0] is the item name) and
    ``product`` (outputs of an item of another line in scope: path[0] product, path[1] item)
    and ``bundle`` (in a decomposition rule, the attributes of the bundle item that includes
    the source item; absent, so null, for an item no bundle includes), and ``other`` (in a
    ``depend``'s condition: the line waited for).
    """

    op: Literal["ref"] = "ref"
    type: str
    root: Literal["source", "line", "order", "parent", "body", "item", "product", "bundle", "other"]
    path: list[str]


OTHER_ROOT = "other"
"""The root a ``depend``'s condition reads the line waited for by (``line``: the waiting one)."""


class UnaryOp(IRModel):
    op: Literal["neg", "not"]
    type: str
    arg: Expr


class BinaryOp(IRModel):
    op: Literal["bin"] = "bin"
    type: str
    operator: Literal[
        "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or", "in", "not in"
    ]
    left: Expr
    right: Expr


class CallOp(IRModel):
    op: Literal["call"] = "call"
    type: str
    fn: str
    args: list[Expr]


class IndexOp(IRModel):
    """``subject[key]``: an item of a list by position (an int key, negative from the end),
    or a field of an ``any`` value by name (a text key: ``body.ports[0].id`` is a field
    ``"id"`` of an item).  A key that is not there reads as null."""

    op: Literal["index"] = "index"
    type: str
    subject: Expr
    key: Expr


class ListOp(IRModel):
    op: Literal["list"] = "list"
    type: str
    items: list[Expr]


class MapCaseIR(IRModel):
    key: JsonValue
    value: Expr


class MapOp(IRModel):
    op: Literal["map"] = "map"
    type: str
    subject: Expr
    cases: list[MapCaseIR]
    default: Expr | None = None
    table: str | None = Field(default=None, exclude_if=lambda value: value is None)
    """The ``table`` this map was written as (``map SUBJECT NAME``), for readers only:
    ``--explain``, diagrams and tooltips print ``map tech Speeds`` instead of every case of a
    big table.  Engines read the cases.  Left out of the JSON while None (``exclude_if``, not
    :class:`LaterFields`' wrap serializer, which is slower), so an inline map's IR keeps its
    bytes."""


class IfOp(IRModel):
    op: Literal["if"] = "if"
    type: str
    cond: Expr
    then: Expr
    otherwise: Expr


class ObjField(IRModel):
    key: str
    value: Expr


class ObjectOp(IRModel):
    """A JSON object template, e.g. a callout request body."""

    op: Literal["object"] = "object"
    type: str = "any"
    fields: list[ObjField]


Expr = Annotated[
    Lit | Ref | UnaryOp | BinaryOp | CallOp | IndexOp | ListOp | MapOp | IfOp | ObjectOp,
    Field(discriminator="op"),
]


# ---- catalog structure ----------------------------------------------------------------------


class EnumDef(IRModel):
    name: str
    members: list[str]
    doc: str | None = None
    span: SourceSpan


class Attribute(IRModel):
    name: str
    type: str
    required: bool = False
    default: JsonValue = None
    has_default: bool = False
    min: int | float | None = None
    max: int | float | None = None
    pattern: str | None = None
    allowed: list[JsonValue] | None = None
    unit: str | None = None
    description: str | None = None
    merge: MergeRule = "same"
    alias: str | None = None
    doc: str | None = None
    span: SourceSpan


class Include(LaterFields):
    """``includes product [min..max]``, or a choice group ``includes A or B [min..max]``:
    ``product`` is A and ``alternatives`` the others, and the cardinality counts the parts of
    all of them together.  A single include has no alternatives (left out of the JSON, so the
    IR of a catalog without groups keeps its bytes and its hash)."""

    LATER = ("alternatives",)

    product: str
    min: int
    max: int | None
    span: SourceSpan
    alternatives: list[str] = []

    @property
    def products(self) -> tuple[str, ...]:
        """Every product the include counts: ``product`` then its alternatives."""
        return (self.product, *self.alternatives)


class SpecRef(IRModel):
    id: str
    name: str | None = None


class CommercialProduct(LaterFields):
    """An offer or bundle: what an order item refers to (by TMF id or name)."""

    LATER = ("requires",)

    kind: Literal["offer", "bundle"]
    name: str
    display_name: str | None = None
    external_id: str | None = None
    specs: list[SpecRef] = []
    families: list[str] = []
    attributes: list[Attribute] = []
    includes: list[Include] = []
    doc: str | None = None
    span: SourceSpan
    requires: list[list[str]] = []
    """``requires A or B``, one list per ``requires`` (its alternatives), in declaration order:
    an order item that adds this offer needs an item of one offer of each list in its order."""


class TechnicalProduct(IRModel):
    """A CFS, RFS or resource: what decomposition produces and plans run for."""

    kind: Literal["cfs", "rfs", "resource"]
    name: str
    display_name: str | None = None
    scope: Scope = "line"
    families: list[str] = []
    attributes: list[Attribute] = []
    doc: str | None = None
    span: SourceSpan


class MappingIR(IRModel):
    target: str
    expr: Expr
    span: SourceSpan


class DecompositionRule(LaterFields):
    """``source -> target``: one rule, applied per matching source item or line."""

    LATER = ("waits",)

    id: str
    source: str
    source_is_family: bool = False
    target: str
    when: Expr | None = None
    mappings: list[MappingIR] = []
    wait: ParentWait = "none"
    """The wait of every action, unless ``waits`` is given."""
    doc: str | None = None
    span: SourceSpan
    waits: dict[Action, ParentWait] | None = None
    """Per action of the produced line (``before parent on add, modify``), in ``ACTIONS``
    order; an action it lacks has no wait.  None when the rule's wait has no ``on``."""

    def wait_for(self, action: str) -> ParentWait:
        """The wait of a line this rule produced, by the line's own action."""
        if self.waits is None:
            return self.wait
        found: ParentWait = self.waits.get(action, "none")  # type: ignore[call-overload]
        return found


# ---- systems ---------------------------------------------------------------------------------


class RetryPolicy(IRModel):
    """``delays_ms`` holds every delay for staggered, the base for fixed and exponential."""

    kind: Literal["none", "fixed", "staggered", "exponential"]
    delays_ms: list[int] = []
    max_retries: int = 0
    cap_ms: int | None = None
    jitter: bool = False


class Auth(IRModel):
    """Credentials are never in the IR: only the *names* of environment variables."""

    scheme: Literal["bearer", "basic", "header"]
    header: str | None = None
    env: list[str]


class System(IRModel):
    name: str
    display_name: str | None = None
    base_url: str | None = None
    url_env: str | None = None
    timeout_ms: int = 10_000
    auth: Auth | None = None
    retry: RetryPolicy | None = None
    offline: bool = False
    permanent_statuses: list[int] = []
    doc: str | None = None
    span: SourceSpan


class Queue(IRModel):
    name: str
    display_name: str | None = None
    doc: str | None = None
    span: SourceSpan


# ---- plans -----------------------------------------------------------------------------------


class ItemBase(IRModel):
    name: str
    after: list[str] = []
    when: Expr | None = None
    retry: RetryPolicy | None = None
    timeout_ms: int | None = None
    expect_ms: int | None = None
    point_of_no_return: bool = False
    undo: str | None = None
    compensation: bool = False
    doc: str | None = None
    span: SourceSpan


class AutoItem(ItemBase):
    kind: Literal["auto"] = "auto"
    handler: str


class CalloutItem(ItemBase):
    kind: Literal["callout"] = "callout"
    system: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    path_expr: Expr
    request: Expr | None = None
    response: list[MappingIR] = []
    is_async: bool = False


class ManualItem(ItemBase):
    kind: Literal["manual"] = "manual"
    queue: str


class MilestoneItem(ItemBase):
    kind: Literal["milestone"] = "milestone"


MAX_EVENT_NAME = 200
"""The longest event name: what `POST /productOrder/{id}/signal` takes (S014 past it), so an
item never waits for an event that nobody could send."""


class WaitItem(ItemBase, LaterFields):
    LATER = ("event_expr",)
    kind: Literal["wait"] = "wait"
    event: str | None = None
    """The event name as written; with ``{placeholders}``, ``event_expr`` renders it."""
    event_expr: Expr | None = None
    """For an event name with placeholders (``"link.up.{line.circuit_id}"``): its parts, as a
    callout's ``path_expr``; each wait item then waits for the name its line renders."""
    until: Expr | None = None


PlanItem = Annotated[
    AutoItem | CalloutItem | ManualItem | MilestoneItem | WaitItem, Field(discriminator="kind")
]


class Record(IRModel):
    """``record name = value`` in a plan: when the order completes, ``value`` (read as the
    plan's requests read: the line, the order, the outputs of the plan's items) is recorded as
    the attribute ``name`` of the inventory products of the line's order items, for those of
    offers that declare it."""

    name: str
    value: Expr
    doc: str | None = None
    span: SourceSpan


class Plan(LaterFields):
    LATER = ("records",)

    product: str
    actions: list[Action]
    items: list[PlanItem]
    doc: str | None = None
    span: SourceSpan
    records: list[Record] = []
    """The plan's ``record`` statements, in declaration order (left out of the JSON when
    there are none, so the IR of a catalog without them keeps its bytes and its hash)."""


class Dependency(LaterFields):
    """``depend product.item after after_product.after_item within ... [when ...]``."""

    LATER = ("doc", "when")

    product: str
    item: str
    after_product: str
    after_item: str
    within: Literal["root", "order", "relies_on"] = "root"
    doc: str | None = None
    """Its ``///`` comment: why the order is needed, shown on the diagrams' edges."""
    span: SourceSpan
    when: Expr | None = None
    """``when CONDITION``: decided when the plan is built, for each pair of lines the
    dependency would link (``line``: the waiting line, ``other``: the line waited for,
    ``order``); the pair is linked only when it is true.  None (left out of the JSON): every
    pair is linked, so the IR of a catalog without conditions keeps its bytes and hash."""


class Catalog(IRModel):
    schema_version: int = SCHEMA_VERSION
    name: str
    version: str
    content_hash: str = ""
    doc: str | None = None
    files: list[str] = []
    enums: list[EnumDef] = []
    order_attributes: list[Attribute] = []
    offers: list[CommercialProduct] = []
    technical: list[TechnicalProduct] = []
    rules: list[DecompositionRule] = []
    systems: list[System] = []
    queues: list[Queue] = []
    plans: list[Plan] = []
    dependencies: list[Dependency] = []


for _model in (
    UnaryOp,
    BinaryOp,
    CallOp,
    IndexOp,
    ListOp,
    MapCaseIR,
    MapOp,
    IfOp,
    ObjField,
    ObjectOp,
):
    _model.model_rebuild()
