"""Downstream systems, queues and retry policies."""

from __future__ import annotations

import re
from typing import Any, Final

from om_dsl.base_urls import BaseUrlError, CredentialsInUrl, checked_base_url
from om_dsl.compiler.build import builder
from om_dsl.compiler.context import Context
from om_dsl.ir import models as ir
from om_dsl.source import Span
from om_dsl.syntax import ast

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT_FIXED_RETRIES = 3
DEFAULT_EXPONENTIAL_RETRIES = 5
# Retry policies (one per item that overrides its system's) hold only checked values: built
# without validation (see om_dsl.compiler.build).  Systems, auth and queues are few: validated.
_new_retry: Final = builder(ir.RetryPolicy)


def lower_retry(ctx: Context, decl: ast.RetryDecl) -> ir.RetryPolicy:
    """Retry policies are shared by systems (the default) and plan items (overrides)."""
    kind = decl.kind
    if kind == "none":
        return _new_retry(kind="none")
    if decl.max_retries is not None and decl.max_retries < 1:
        ctx.bag.error(
            "E086", "retry max must be at least 1", decl.span, "use `retry none` for no retries"
        )
    for value in [*decl.delays_ms, decl.cap_ms or 0, decl.max_retries or 0]:
        if ctx.too_large(value, decl.span, "a retry delay or count"):
            break
    if kind == "staggered":
        return _new_retry(
            kind="staggered", delays_ms=list(decl.delays_ms), max_retries=len(decl.delays_ms)
        )
    default = DEFAULT_FIXED_RETRIES if kind == "fixed" else DEFAULT_EXPONENTIAL_RETRIES
    base = decl.delays_ms[0]
    if decl.cap_ms is not None and decl.cap_ms < base:
        ctx.bag.error("E086", "retry cap is shorter than the first delay", decl.span)
    return _new_retry(
        kind=kind,
        delays_ms=[base],
        max_retries=decl.max_retries or default,
        cap_ms=decl.cap_ms,
        jitter=decl.jitter,
    )


def lower_queues(ctx: Context) -> list[ir.Queue]:
    return [
        ir.Queue(name=q.name.value, display_name=q.display_name, doc=q.doc, span=ctx.span(q.span))
        for q in ctx.symbols.queues.values()
    ]


def lower_systems(ctx: Context) -> list[ir.System]:
    return [_system(ctx, decl) for decl in ctx.symbols.systems.values()]


def _system(ctx: Context, decl: ast.SystemDecl) -> ir.System:
    opts: dict[str, ast.Option] = {}
    for opt in decl.options:
        if opt.key in opts:
            ctx.bag.error(
                "E092", f"'{opt.key}' is given twice for system {decl.name.value}", opt.span
            )
        opts[opt.key] = opt
    fields: dict[str, Any] = {"name": decl.name.value, "display_name": decl.display_name}
    _url(ctx, decl, opts.get("url"), fields)
    if "timeout" in opts:
        fields["timeout_ms"] = _positive(ctx, opts["timeout"], "timeout")
    if "auth" in opts:
        fields["auth"] = _auth(ctx, opts["auth"].value)
    if "retry" in opts:
        fields["retry"] = lower_retry(ctx, opts["retry"].value)
    fields["offline"] = "offline" in opts
    if "permanent" in opts:
        fields["permanent_statuses"] = _statuses(ctx, opts["permanent"])
    return ir.System(doc=decl.doc, span=ctx.span(decl.span), **fields)


def _positive(ctx: Context, opt: ast.Option, what: str) -> int:
    value = int(opt.value)
    if value <= 0:
        ctx.bag.error("E086", f"{what} must be longer than 0", opt.span)
    ctx.too_large(value, opt.span, what)
    return value


def _url(
    ctx: Context, decl: ast.SystemDecl, opt: ast.Option | None, fields: dict[str, Any]
) -> None:
    if opt is None:
        ctx.bag.error(
            "E090", f"system {decl.name.value} has no url", decl.name.span,
            'add: url env("NAME_URL", "http://127.0.0.1:8080")',
        )  # fmt: skip
        return
    env: ast.EnvRef = opt.value
    if env.var or env.default is None:  # a literal url has no variable; env("") has neither
        _env_name(ctx, env)
        fields["url_env"] = env.var
    if env.default is not None:
        fields["base_url"] = _check_url(ctx, env.default, env.span)


def _check_url(ctx: Context, url: str, span: Span) -> str:
    """The URL as the runtime will use it, after the runtime's own check (one check: a URL
    that compiles is one every callout can use)."""
    try:
        return checked_base_url(url)
    except CredentialsInUrl:
        ctx.bag.error(
            "E093", "a URL must not carry credentials", span, 'use `auth bearer env("NAME")`'
        )
    except BaseUrlError as exc:
        shown = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in url)
        ctx.bag.error("E090", f"'{shown}' {exc}", span, "e.g. http://127.0.0.1:8101")
    return url.rstrip("/")


def _env_name(ctx: Context, env: ast.EnvRef) -> None:
    if not ENV_NAME.match(env.var):
        ctx.bag.error("E091", f"'{env.var}' is not a valid environment variable name", env.span)


def _auth(ctx: Context, decl: ast.AuthDecl) -> ir.Auth:
    for env in decl.envs:
        _env_name(ctx, env)
        if env.default is not None:
            ctx.bag.error(
                "E093",
                "a secret must come from the environment: remove the default value",
                env.span,
                "the catalog and its IR must never hold credentials",
            )
    return ir.Auth(
        scheme=decl.scheme,
        header=decl.header,
        env=[e.var for e in decl.envs],
    )


def _statuses(ctx: Context, opt: ast.Option) -> list[int]:
    statuses: list[int] = opt.value
    for status in statuses:
        if not 400 <= status <= 499:
            ctx.bag.error(
                "E094", f"permanent statuses are 4xx client errors; {status} is not", opt.span
            )
    return sorted(set(statuses))
