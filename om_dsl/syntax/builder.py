"""Lark callbacks that build AST nodes directly while parsing (no parse tree in between).

One method per grammar rule or alias, as python-hcl2 does.  Children are what the grammar
lists: Lark tokens for terminals and AST values for sub-rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from om_dsl.source import Span
from om_dsl.syntax import ast
from om_dsl.syntax.lexer import NATIVE, Tok, duration_ms

Children = list[Any]


@dataclass(slots=True)
class MappingBlock:
    """A `{ a = x  b = y }` block: kept with its span so the enclosing node can end at `}`."""

    span: Span
    items: list[ast.Mapping]


# As Python, spans and names are made without calling their class: Python 3.11 runs a
# dataclass's __init__ in a frame of its own, behind the type call (slot lookup, argument
# binding), and the builder makes a span for nearly every node and token it keeps (33k at 10k
# lines, with 10k names); ``object.__new__`` and the slot stores are a third cheaper.  Neither
# class has a ``__post_init__`` or a default, so the objects are the same as their
# constructors make.  Compiled (om_dsl.accel), both are native classes: the constructor is a
# C call, and object.__new__ is refused.
_new = object.__new__
_NATIVE: Final = NATIVE


def _tok_span(file: str, tok: Tok) -> Span:
    if _NATIVE:
        return Span(file, tok.line, tok.column, tok.line, tok.end_column)
    span: Span = _new(Span)
    span.file = file
    span.line = span.end_line = tok.line
    span.col = tok.column
    span.end_col = tok.end_column
    return span


class AstBuilder:
    """Builds the AST of one file; ``docs`` maps a line to the doc comment just above it."""

    def __init__(self, file: str, docs: dict[int, str]) -> None:
        self.file = file
        self.docs = docs

    # ---- helpers -----------------------------------------------------------------------------

    def span(self, first: Any, last: Any) -> Span:
        """From the start of ``first`` to the end of ``last`` (tokens, nodes, lists or spans).

        Token edges are read directly: building a Span per edge only to take two numbers
        from it was a third of the parser's allocations.  Two tokens, the commonest case (half
        of all calls), are tested first.
        """
        if type(first) is Tok:
            line, col = first.line, first.column
        else:
            a = first if type(first) is Span else self._edge(first, True)
            line, col = a.line, a.col
        if type(last) is Tok:
            end_line, end_col = last.line, last.end_column
        else:
            b = last if type(last) is Span else self._edge(last, False)
            end_line, end_col = b.end_line, b.end_col
        if _NATIVE:
            return Span(self.file, line, col, end_line, end_col)
        span: Span = _new(Span)
        span.file = self.file
        span.line = line
        span.col = col
        span.end_line = end_line
        span.end_col = end_col
        return span

    def _edge(self, node: Any, first: bool) -> Span:
        kind = type(node)
        if kind is list:
            return self._edge(node[0] if first else node[-1], first)
        if kind is tuple:  # (tag, value, span) values of helper rules
            return node[-1]  # type: ignore[no-any-return]
        if kind is Tok:
            return _tok_span(self.file, node)
        return node.span  # type: ignore[no-any-return]  # an AST node (most edges)

    def ident(self, tok: Tok) -> ast.Name:
        span = _tok_span(self.file, tok)
        if _NATIVE:
            return ast.Name(tok.value, span)
        name: ast.Name = _new(ast.Name)
        name.value = tok.value
        name.span = span
        return name

    def doc(self, span: Span) -> str | None:
        return self.docs.get(span.line)

    # ---- top level ---------------------------------------------------------------------------

    def start(self, c: Children) -> list[Any]:
        return c

    def catalog_decl(self, c: Children) -> ast.CatalogDecl:
        span = self.span(c[0], c[-1])
        return ast.CatalogDecl(span, c[1].value, c[3].value, self.doc(span))

    def import_decl(self, c: Children) -> ast.ImportDecl:
        span = self.span(c[0], c[-1])
        return ast.ImportDecl(span, c[1].value, _tok_span(self.file, c[1]), self.doc(span))

    def enum_decl(self, c: Children) -> ast.EnumDecl:
        span = self.span(c[0], c[-1])
        members = [self.ident(t) for t in c[3:-1] if t.type == "NAME"]
        return ast.EnumDecl(span, self.ident(c[1]), members, self.doc(span))

    def table_decl(self, c: Children) -> ast.TableDecl:
        span = self.span(c[0], c[-1])
        cases = [x for x in c[7:-1] if isinstance(x, ast.MapCase)]
        return ast.TableDecl(span, self.ident(c[1]), c[3], c[5], cases, self.doc(span))

    def offer_decl(self, c: Children) -> ast.ProductDecl:
        return self._product(c, None)

    def tech_decl(self, c: Children) -> ast.ProductDecl:
        scope = next((x for x in c if isinstance(x, tuple) and x[0] == "scope"), None)
        return self._product(c, scope[1] if scope else None)

    def _product(self, c: Children, scope: ast.Name | None) -> ast.ProductDecl:
        span = self.span(c[0], c[-1])
        display = c[2].value if isinstance(c[2], Tok) and c[2].type == "STRING" else None
        ext = next((x[1] for x in c if isinstance(x, tuple) and x[0] == "id"), None)
        body = c[c.index(next(t for t in c if isinstance(t, Tok) and t.type == "LBRACE")) + 1 : -1]
        decl = ast.ProductDecl(
            span, c[0].value, self.ident(c[1]), display, ext, scope, [], [], [], [], self.doc(span)
        )
        self._members(decl, body)
        return decl

    def _members(self, decl: ast.ProductDecl, body: Children) -> None:
        for m in body:
            if isinstance(m, ast.AttributeDecl):
                decl.attributes.append(m)
            elif isinstance(m, ast.Include):
                decl.includes.append(m)
            elif isinstance(m, ast.Require):
                decl.requires.append(m)
            elif isinstance(m, ast.Name):
                decl.families.append(m)
            else:
                decl.specs.append(m)

    def order_decl(self, c: Children) -> ast.OrderDecl:
        span = self.span(c[0], c[-1])
        attrs = [m for m in c[2:-1] if isinstance(m, ast.AttributeDecl)]
        misplaced = [self._edge(m, True) for m in c[2:-1] if not isinstance(m, ast.AttributeDecl)]
        return ast.OrderDecl(span, attrs, misplaced, self.doc(span))

    def external_id(self, c: Children) -> tuple[str, str, Span]:
        return ("id", c[1].value, self.span(c[0], c[1]))

    def scope_clause(self, c: Children) -> tuple[str, ast.Name, Span]:
        return ("scope", self.ident(c[1]), self.span(c[0], c[1]))

    def member(self, c: Children) -> Any:
        return c[0]

    def spec_decl(self, c: Children) -> tuple[str, str | None, Span]:
        name = c[2].value if len(c) > 2 else None
        return (c[1].value, name, self.span(c[0], c[-1]))

    def family_decl(self, c: Children) -> ast.Name:
        return self.ident(c[1])

    def includes_decl(self, c: Children) -> ast.Include:
        names = [self.ident(t) for t in c[1:] if isinstance(t, Tok) and t.type == "NAME"]
        if isinstance(c[-1], tuple):
            low, high, end = c[-1]
        else:
            low, high, end = 1, 1, self.span(c[-1], c[-1])
        return ast.Include(self.span(c[0], end), names[0], low, high, names[1:])

    def requires_decl(self, c: Children) -> ast.Require:
        names = [self.ident(t) for t in c[1:] if t.type == "NAME"]
        return ast.Require(self.span(c[0], c[-1]), names)

    def cardinality(self, c: Children) -> tuple[int, int | None, Span]:
        low = int(c[1].value)
        end = self.span(c[-1], c[-1])
        if len(c) == 3:
            return (low, low, end)
        return (low, None if c[3].type == "STAR" else int(c[3].value), end)

    # ---- attributes --------------------------------------------------------------------------

    def attribute_decl(self, c: Children) -> ast.AttributeDecl:
        span = self.span(c[0], c[-1])
        return ast.AttributeDecl(span, self.ident(c[1]), c[3], list(c[4:]), self.doc(span))

    def type_ref(self, c: Children) -> ast.TypeRef:
        arg = c[2].value if len(c) > 1 else None
        return ast.TypeRef(self.span(c[0], c[-1]), c[0].value, arg)

    def table_type(self, c: Children) -> ast.TypeRef:
        return self.type_ref(c)

    def _opt(self, c: Children, key: str, value: Any) -> ast.AttrOption:
        return ast.AttrOption(self.span(c[0], c[-1]), key, value)

    def opt_required(self, c: Children) -> ast.AttrOption:
        return self._opt(c, "required", True)

    def opt_range(self, c: Children) -> ast.AttrOption:
        return self._opt(c, "range", (c[1], c[3]))

    def opt_default(self, c: Children) -> ast.AttrOption:
        return self._opt(c, "default", c[1])

    def opt_unit(self, c: Children) -> ast.AttrOption:
        return self._opt(c, "unit", c[1].value)

    def opt_description(self, c: Children) -> ast.AttrOption:
        return self._opt(c, "description", c[1].value)

    def opt_pattern(self, c: Children) -> ast.AttrOption:
        return self._opt(c, "pattern", (c[1].value, _tok_span(self.file, c[1])))

    def opt_values(self, c: Children) -> ast.AttrOption:
        return self._opt(c, "values", c[2])

    def opt_merge(self, c: Children) -> ast.AttrOption:
        return self._opt(c, "merge", self.ident(c[1]))

    def opt_alias(self, c: Children) -> ast.AttrOption:
        return self._opt(c, "alias", c[1].value)

    def const(self, c: Children) -> ast.Const:
        first = c[0]
        if isinstance(first, ast.Const):
            return first
        span = self.span(c[0], c[-1])
        if first.type == "LBRACKET":
            items = c[1] if len(c) == 3 else []
            return ast.Const(span, "list", items, 1 + _deepest(items, 0))
        if len(c) == 3:  # Technology.FTTH: the member, and the enum it is said to be of
            return ast.Const(span, "name", c[2].value, enum=self.ident(first))
        kinds = {"STRING": "string", "TRUE": "bool", "FALSE": "bool", "NAME": "name"}
        kind = kinds[first.type]
        value: Any = first.type == "TRUE" if kind == "bool" else first.value
        return ast.Const(span, kind, value)

    def const_list(self, c: Children) -> list[ast.Const]:
        return [x for x in c if isinstance(x, ast.Const)]

    def number(self, c: Children) -> ast.Const:
        tok = c[-1]
        sign = -1 if len(c) == 2 else 1
        if tok.type == "INT":
            return ast.Const(self.span(c[0], tok), "int", sign * int(tok.value))
        return ast.Const(
            self.span(c[0], tok), "decimal", tok.value if sign > 0 else "-" + tok.value
        )

    # ---- decomposition -----------------------------------------------------------------------

    def decompose_decl(self, c: Children) -> ast.DecomposeDecl:
        span = self.span(c[0], c[-1])
        source, family = c[1]
        rules = [r for r in c[2:] if isinstance(r, ast.RuleDecl)]
        return ast.DecomposeDecl(span, source, family, rules, self.doc(span))

    def source_ref(self, c: Children) -> tuple[ast.Name, bool]:
        return (self.ident(c[-1]), len(c) == 2)

    def rule(self, c: Children) -> ast.RuleDecl:
        span = self.span(c[0], c[-1])
        rule = ast.RuleDecl(span, self.ident(c[1]), None, None, [], [], [], self.doc(span))
        for opt in c[2:]:
            if isinstance(opt, MappingBlock):
                rule.mappings = opt.items
                continue
            key, value, opt_span = opt
            rule.option_spans.append((key, opt_span))
            if key == "as":
                rule.name = value
            elif key == "when":
                rule.when = value
            else:
                rule.waits.append(value)
        return rule

    def rule_name(self, c: Children) -> tuple[str, Any, Span]:
        return ("as", self.ident(c[1]), self.span(c[0], c[-1]))

    def rule_when(self, c: Children) -> tuple[str, Any, Span]:
        return ("when", c[1], self.span(c[0], c[-1]))

    def rule_after_parent(self, c: Children) -> tuple[str, Any, Span]:
        return self._rule_wait("after_parent", c)

    def rule_before_parent(self, c: Children) -> tuple[str, Any, Span]:
        return self._rule_wait("before_parent", c)

    def _rule_wait(self, how: str, c: Children) -> tuple[str, Any, Span]:
        """``c``: the two keywords, then ``(names, span)`` of an ``on`` list if there is one
        (``on *`` has no names, so its span comes along)."""
        if len(c) > 2:
            actions, end = c[2]
            span = self.span(c[0], end)
            return ("wait", ast.RuleWait(how, actions, span), span)
        span = self.span(c[0], c[1])
        return ("wait", ast.RuleWait(how, None, span), span)

    def wait_actions(self, c: Children) -> tuple[list[ast.Name], Span]:
        return (list(c[1]), self.span(c[0], c[1] if c[1] else c[0]))

    def mappings(self, c: Children) -> MappingBlock:
        items = [m for m in c if isinstance(m, ast.Mapping)]
        return MappingBlock(self.span(c[0], c[-1]), items)

    def mapping(self, c: Children) -> ast.Mapping:
        return ast.Mapping(self.span(c[0], c[2]), self.ident(c[0]), c[2])

    # ---- systems and queues ------------------------------------------------------------------

    def system_decl(self, c: Children) -> ast.SystemDecl:
        span = self.span(c[0], c[-1])
        display = c[2].value if c[2].type == "STRING" else None
        options = [o for o in c if isinstance(o, ast.Option)]
        return ast.SystemDecl(span, self.ident(c[1]), display, options, self.doc(span))

    def _option(self, c: Children, key: str, value: Any) -> ast.Option:
        return ast.Option(self.span(c[0], c[-1]), key, value)

    def sys_url(self, c: Children) -> ast.Option:
        return self._option(c, "url", c[1])

    def sys_timeout(self, c: Children) -> ast.Option:
        return self._option(c, "timeout", duration_ms(c[1].value))

    def sys_auth(self, c: Children) -> ast.Option:
        return self._option(c, "auth", c[1])

    def sys_retry(self, c: Children) -> ast.Option:
        return self._option(c, "retry", c[1])

    def sys_offline(self, c: Children) -> ast.Option:
        return self._option(c, "offline", True)

    def sys_permanent(self, c: Children) -> ast.Option:
        return self._option(c, "permanent", [int(t.value) for t in c[1]])

    def url_value(self, c: Children) -> Any:
        first = c[0]
        if isinstance(first, Tok):
            return ast.EnvRef(_tok_span(self.file, first), "", first.value)
        return first

    def env_ref(self, c: Children) -> ast.EnvRef:
        default = c[4].value if len(c) > 4 else None
        return ast.EnvRef(self.span(c[0], c[-1]), c[2].value, default)

    def auth_bearer(self, c: Children) -> ast.AuthDecl:
        return ast.AuthDecl(self.span(c[0], c[-1]), "bearer", None, [c[1]])

    def auth_basic(self, c: Children) -> ast.AuthDecl:
        return ast.AuthDecl(self.span(c[0], c[-1]), "basic", None, [c[1], c[2]])

    def auth_header(self, c: Children) -> ast.AuthDecl:
        return ast.AuthDecl(self.span(c[0], c[-1]), "header", c[1].value, [c[2]])

    def int_list(self, c: Children) -> list[Tok]:
        return [t for t in c if t.type == "INT"]

    def _retry(self, c: Children, kind: str, **kw: Any) -> ast.RetryDecl:
        delays = [duration_ms(t.value) for t in c if isinstance(t, Tok) and t.type == "DURATION"]
        retry = ast.RetryDecl(self.span(c[0], c[-1]), kind, delays, None, None, False)
        for key, value in kw.items():
            setattr(retry, key, value)
        return retry

    def retry_none(self, c: Children) -> ast.RetryDecl:
        return self._retry(c, "none")

    def retry_fixed(self, c: Children) -> ast.RetryDecl:
        return self._retry(c, "fixed", max_retries=_tagged(c, "max"))

    def retry_staggered(self, c: Children) -> ast.RetryDecl:
        return self._retry(c, "staggered")

    def retry_exponential(self, c: Children) -> ast.RetryDecl:
        jitter = any(isinstance(t, Tok) and t.type == "JITTER" for t in c)
        return self._retry(
            c[:2],
            "exponential",
            max_retries=_tagged(c, "max"),
            cap_ms=_tagged(c, "cap"),
            jitter=jitter,
        )

    def retry_max(self, c: Children) -> tuple[str, int, Span]:
        return ("max", int(c[1].value), self.span(c[0], c[1]))

    def retry_cap(self, c: Children) -> tuple[str, int, Span]:
        return ("cap", duration_ms(c[1].value), self.span(c[0], c[1]))

    def queue_decl(self, c: Children) -> ast.QueueDecl:
        span = self.span(c[0], c[-1])
        display = c[2].value if len(c) > 2 else None
        return ast.QueueDecl(span, self.ident(c[1]), display, self.doc(span))

    # ---- plans -------------------------------------------------------------------------------

    def plan_decl(self, c: Children) -> ast.PlanDecl:
        span = self.span(c[0], c[-1])
        items = [i for i in c[5:-1] if isinstance(i, ast.ItemDecl)]
        records = [r for r in c[5:-1] if isinstance(r, ast.RecordDecl)]
        product, family = c[1]
        return ast.PlanDecl(span, product, c[3], items, self.doc(span), family, records)

    def record_decl(self, c: Children) -> ast.RecordDecl:
        span = self.span(c[0], c[-1])
        return ast.RecordDecl(span, self.ident(c[1]), c[3], self.doc(span))

    def action_list(self, c: Children) -> list[ast.Name]:
        first = c[0]
        return [] if isinstance(first, Tok) and first.type == "STAR" else list(first)

    def name_list(self, c: Children) -> list[ast.Name]:
        return [self.ident(t) for t in c if t.type == "NAME"]

    def plan_item(self, c: Children) -> ast.ItemDecl:
        compensation = isinstance(c[0], Tok)
        head = c[1] if compensation else c[0]
        span = self.span(c[0], c[-1])
        head.span = span
        head.compensation = compensation
        head.clauses = [x for x in c if isinstance(x, ast.Option)]
        head.doc = self.doc(span)
        return head  # type: ignore[no-any-return]

    def _head(self, c: Children, kind: str, callout: ast.CalloutHead | None = None) -> ast.ItemDecl:
        return ast.ItemDecl(self.span(c[0], c[-1]), kind, self.ident(c[1]), False, callout, [])

    def head_auto(self, c: Children) -> ast.ItemDecl:
        return self._head(c, "auto")

    def head_manual(self, c: Children) -> ast.ItemDecl:
        return self._head(c, "manual")

    def head_milestone(self, c: Children) -> ast.ItemDecl:
        return self._head(c, "milestone")

    def head_wait(self, c: Children) -> ast.ItemDecl:
        return self._head(c, "wait")

    def head_callout(self, c: Children) -> ast.ItemDecl:
        head = ast.CalloutHead(
            self.ident(c[3]), self.ident(c[4]), c[5].value, _tok_span(self.file, c[5])
        )
        return self._head(c, "callout", head)

    def cl_after(self, c: Children) -> ast.Option:
        return self._option(c, "after", c[1])

    def cl_when(self, c: Children) -> ast.Option:
        return self._option(c, "when", c[1])

    def cl_retry(self, c: Children) -> ast.Option:
        return self._option(c, "retry", c[1])

    def cl_timeout(self, c: Children) -> ast.Option:
        return self._option(c, "timeout", duration_ms(c[1].value))

    def cl_expect(self, c: Children) -> ast.Option:
        return self._option(c, "expect", duration_ms(c[1].value))

    def cl_ponr(self, c: Children) -> ast.Option:
        return self._option(c, "point_of_no_return", True)

    def cl_undo(self, c: Children) -> ast.Option:
        return self._option(c, "undo", self.ident(c[1]))

    def cl_handler(self, c: Children) -> ast.Option:
        return self._option(c, "handler", c[1].value)

    def cl_queue(self, c: Children) -> ast.Option:
        return self._option(c, "queue", self.ident(c[1]))

    def cl_async(self, c: Children) -> ast.Option:
        return self._option(c, "async", True)

    def cl_event(self, c: Children) -> ast.Option:
        return self._option(c, "event", c[1].value)

    def cl_until(self, c: Children) -> ast.Option:
        return self._option(c, "until", c[1])

    def cl_request(self, c: Children) -> ast.Option:
        return self._option(c, "request", c[1])

    def cl_response(self, c: Children) -> ast.Option:
        return self._option(c, "response", c[1].items)

    def depend_decl(self, c: Children) -> ast.DependDecl:
        span = self.span(c[0], c[-1])
        tail = c[8:]
        when = tail.pop() if tail and type(tail[-1]) is ast.Option else None
        within = tail[0] if tail else None
        return ast.DependDecl(
            span, self.ident(c[1]), self.ident(c[3]), self.ident(c[5]), self.ident(c[7]), within,
            self.doc(span), when,
        )  # fmt: skip

    def within(self, c: Children) -> ast.Name:
        return self.ident(c[1])

    def depend_when(self, c: Children) -> ast.Option:
        return self._option(c, "when", c[1])

    # ---- expressions -------------------------------------------------------------------------

    def if_expr(self, c: Children) -> ast.IfExpr:
        depth = 1 + max(c[1].depth, c[3].depth, c[5].depth)
        return ast.IfExpr(self.span(c[0], c[-1]), c[1], c[3], c[5], depth)

    def _bin(self, c: Children, op: str) -> ast.Binary:
        left, right = c[0], c[-1]
        depth = 1 + (left.depth if left.depth > right.depth else right.depth)
        return ast.Binary(self.span(left, right), op, left, right, depth)

    def or_op(self, c: Children) -> ast.Binary:
        return self._bin(c, "or")

    def and_op(self, c: Children) -> ast.Binary:
        return self._bin(c, "and")

    def not_op(self, c: Children) -> ast.Unary:
        return ast.Unary(self.span(c[0], c[-1]), "not", c[1], 1 + c[1].depth)

    def compare(self, c: Children) -> ast.Binary:
        return self._bin(c, c[1])

    def comp_op(self, c: Children) -> str:
        op: str = c[0].value
        return op

    def in_op(self, c: Children) -> ast.Binary:
        return self._bin(c, "in")

    def not_in_op(self, c: Children) -> ast.Binary:
        return self._bin(c, "not in")

    def add(self, c: Children) -> ast.Binary:
        return self._bin(c, "+")

    def sub(self, c: Children) -> ast.Binary:
        return self._bin(c, "-")

    def mul(self, c: Children) -> ast.Binary:
        return self._bin(c, "*")

    def div(self, c: Children) -> ast.Binary:
        return self._bin(c, "/")

    def mod(self, c: Children) -> ast.Binary:
        return self._bin(c, "%")

    def neg(self, c: Children) -> ast.Unary:
        return ast.Unary(self.span(c[0], c[-1]), "neg", c[1], 1 + c[1].depth)

    def attr(self, c: Children) -> ast.AttrRef:
        obj = c[0]
        # `a.b.c` is one Ref whatever its length; a field of an item (`body.ips[0].id`) is one
        # more level above it
        depth = 1 + obj.depth if ast.has_index(obj) else 2
        return ast.AttrRef(self.span(c[0], c[-1]), obj, c[2].value, depth)

    def index(self, c: Children) -> ast.Index:
        subject, key = c[0], c[2]
        return ast.Index(self.span(c[0], c[-1]), subject, key, 1 + max(subject.depth, key.depth))

    def call(self, c: Children) -> ast.Call:
        args = c[2] if len(c) == 4 else []
        return ast.Call(self.span(c[0], c[-1]), c[0].value, args, 2 + _deepest(args, 0))

    def name(self, c: Children) -> ast.NameRef:
        return ast.NameRef(_tok_span(self.file, c[0]), c[0].value)

    def atom(self, c: Children) -> Any:
        return c[1]

    def _lit(self, c: Children, kind: str, value: Any) -> ast.Literal:
        return ast.Literal(_tok_span(self.file, c[0]), kind, value)

    def int_lit(self, c: Children) -> ast.Literal:
        return self._lit(c, "int", int(c[0].value))

    def dec_lit(self, c: Children) -> ast.Literal:
        return self._lit(c, "decimal", c[0].value)

    def str_lit(self, c: Children) -> ast.Literal:
        return self._lit(c, "string", c[0].value)

    def true_lit(self, c: Children) -> ast.Literal:
        return self._lit(c, "bool", True)

    def false_lit(self, c: Children) -> ast.Literal:
        return self._lit(c, "bool", False)

    def null_lit(self, c: Children) -> ast.Literal:
        return self._lit(c, "null", None)

    def list_lit(self, c: Children) -> ast.ListLit:
        items = c[1] if len(c) == 3 else []
        return ast.ListLit(self.span(c[0], c[-1]), items, 2 + _deepest(items, 0))

    def map_expr(self, c: Children) -> ast.MapExpr:
        cases = [x for x in c[3:-1] if isinstance(x, ast.MapCase)]
        keys = [x.key for x in cases if x.key is not None]
        # A case's value and key sit in the cases list, in a MapCaseIR.
        inner = max(_deepest([x.value for x in cases], 0), _deepest(keys, 0))
        depth = max(1 + c[1].depth, 3 + inner if cases else 0)
        return ast.MapExpr(self.span(c[0], c[-1]), c[1], cases, depth)

    def map_table(self, c: Children) -> ast.MapTable:
        # Lowered as the map the table spells out (see the checker), whose depth is only known
        # once the table is: 4 is that of cases with scalar values (a value in a MapCaseIR in
        # the cases list), which the checker corrects when a table's values are deeper.
        return ast.MapTable(self.span(c[0], c[-1]), c[1], self.ident(c[2]), max(1 + c[1].depth, 4))

    def args(self, c: Children) -> list[Any]:
        return [x for x in c if not isinstance(x, Tok) or x.type != "COMMA"]

    def map_case(self, c: Children) -> ast.MapCase:
        key, key_span = c[0]
        return ast.MapCase(self.span(key_span, c[2]), key, c[2])

    def case_key(self, c: Children) -> tuple[ast.Const, Span]:
        return (c[0], c[0].span)

    def default_key(self, c: Children) -> tuple[None, Span]:
        return (None, _tok_span(self.file, c[0]))

    def object(self, c: Children) -> ast.ObjectLit:
        fields = [f for f in c if isinstance(f, ast.ObjectField)]
        depth = 3 + _deepest([f.value for f in fields], -1)  # in its fields list, in a field
        return ast.ObjectLit(self.span(c[0], c[-1]), fields, depth)

    def object_list(self, c: Children) -> ast.ListLit:
        """``[{...}, {...}]`` in a request: a list whose items are objects."""
        items = [x for x in c if isinstance(x, ast.ObjectLit)]
        return ast.ListLit(self.span(c[0], c[-1]), items, 2 + _deepest(items, 0))

    def field(self, c: Children) -> ast.ObjectField:
        return ast.ObjectField(self.span(c[0], c[-1]), c[0].value, c[2])


def _deepest(nodes: list[Any], empty: int) -> int:
    """The largest ``depth`` among ``nodes`` (``empty`` when there are none)."""
    return max((n.depth for n in nodes), default=empty)


def _tagged(c: Children, tag: str) -> Any:
    return next((x[1] for x in c if isinstance(x, tuple) and x[0] == tag), None)
