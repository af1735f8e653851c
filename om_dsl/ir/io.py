"""Load and dump the IR: the contract a host service reads without re-parsing any DSL."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from om_dsl.errors import IRLoadError
from om_dsl.ir import integrity
from om_dsl.ir.models import KEEP_LATER_NULLS, LATER_ERAS, SCHEMA_VERSION, Catalog


def require_catalog(value: object, name: str) -> Catalog:
    """``value`` as the IR an API was given for argument ``name``, or a ``TypeError`` that says
    what to give.  The commonest slip, the ``CompileResult`` of ``compile_catalog``, used to
    fail far from the call (``'CompileResult' object has no attribute 'content_hash'``)."""
    if isinstance(value, Catalog):
        return value
    if hasattr(value, "raise_on_error"):  # a CompileResult
        raise TypeError(
            f"{name} must be a Catalog, not the CompileResult of compile_catalog: give "
            "compile_catalog(...).raise_on_error(), which raises for a catalog with errors"
        )
    shown = f"{type(value).__name__} {value!r}"[:120]
    raise TypeError(
        f"{name} must be a Catalog (compile_catalog(...).raise_on_error(), or load_ir(path)), "
        f"not {shown}"
    )


def dump_ir(catalog: Catalog) -> str:
    """Canonical JSON: byte-identical for the same catalog, whatever the hash seed."""
    return catalog.model_dump_json(indent=2) + "\n"


def load_ir(source: str | Path | bytes) -> Catalog:
    """Parse and validate IR JSON (a path, or the JSON text itself)."""
    text = _read(source)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise IRLoadError(f"IR is not valid JSON: {exc}") from None
    except RecursionError:  # '[' * 100000: no IR nests anywhere near that deep
        raise IRLoadError("IR is not valid JSON: it is nested too deeply") from None
    return ir_from_data(data)


def ir_from_data(data: Any) -> Catalog:
    if not isinstance(data, dict):
        raise IRLoadError("IR must be a JSON object (a compiled catalog, from `om compile`)")
    _check_version(data)
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:10]
        )
        raise IRLoadError(f"IR does not match schema {SCHEMA_VERSION}: {problems}") from None
    _check_hash(catalog)
    _check_integrity(catalog)
    return catalog


def _check_integrity(catalog: Catalog) -> None:
    found = integrity.problems(catalog)
    if found:
        more = f"; and {len(found) - 5} more" if len(found) > 5 else ""
        raise IRLoadError(
            "IR is inconsistent (not written by `om compile`?): " + "; ".join(found[:5]) + more
            + "; recompile the catalog"
        )  # fmt: skip


def _check_version(data: dict[str, Any]) -> None:
    """Say what the document is when it is not IR of this schema: an order passed where a
    catalog is expected is the common slip, and deserves better than 'recompile'."""
    if "schema_version" not in data:
        looks = (
            "; it looks like an order (it has 'productOrderItem' or 'items')"
            if "productOrderItem" in data or "items" in data
            else ""
        )
        raise IRLoadError(
            "this JSON is not a compiled catalog: it has no schema_version" + looks
            + "; give a .om catalog or the IR that `om compile` writes"
        )  # fmt: skip
    version = data["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise IRLoadError(
            f"IR schema_version must be an integer, not {json.dumps(version)[:40]}; "
            "recompile the catalog with `om compile`"
        )
    if version != SCHEMA_VERSION:
        raise IRLoadError(
            f"IR has schema_version {version}, this om_dsl reads {SCHEMA_VERSION}; "
            "recompile the catalog with `om compile`"
        )


def content_hash(catalog: Catalog, *, later_nulls: frozenset[str] = frozenset()) -> str:
    """sha256 of the canonical JSON with an empty hash field: the catalog's identity.

    ``later_nulls``: those fields added after schema 1 that are written even when null, as
    some versions wrote them (see :data:`~om_dsl.ir.models.LATER_ERAS`)."""
    # The serializer's UTF-8 bytes, which model_dump_json would decode to a str (16 MB at 100k
    # lines) for this to encode again.
    blank = catalog.model_copy(update={"content_hash": ""})
    serializer = blank.__pydantic_serializer__
    context = {KEEP_LATER_NULLS: later_nulls} if later_nulls else None
    try:
        # Each model written by its own class's serializer, without first checking it against
        # the declared union (Expr, PlanItem) it sits in: a quarter of the time, the same bytes
        # (every IR value is exactly of a declared class: extra="forbid", no other subclasses).
        body = serializer.to_json(blank, serialize_as_any=True, context=context)
    except PydanticSerializationError:
        # That way counts two levels per model against pydantic's depth limit of 255, so an
        # expression near MAX_DEPTH (om_dsl.expr.depth) needs the declared-type serializer.
        body = serializer.to_json(blank, context=context)
    return "sha256:" + hashlib.sha256(body).hexdigest()


def with_hash(catalog: Catalog) -> Catalog:
    return catalog.model_copy(update={"content_hash": content_hash(catalog)})


def _check_hash(catalog: Catalog) -> None:
    if catalog.content_hash == content_hash(catalog):
        return
    if not any(catalog.content_hash == content_hash(catalog, later_nulls=era)
               for era in LATER_ERAS):  # fmt: skip
        raise IRLoadError(
            "IR content_hash does not match its content (edited by hand?); recompile it"
        )


def _read(source: str | Path | bytes) -> str:
    if isinstance(source, bytes):
        return _decode(source)
    if isinstance(source, Path) or not source.lstrip().startswith(("{", "[")):
        try:
            return _decode(Path(source).read_bytes(), f" file {source}")
        except OSError as exc:
            raise IRLoadError(f"cannot read IR file {source}: {exc.strerror}") from None
    return source


def _decode(raw: bytes, where: str = "") -> str:
    """IR is written as UTF-8 (and JSON-escapes everything else): other bytes mean the file is
    not IR, or is damaged; say where."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IRLoadError(
            f"IR{where} is not UTF-8 text: byte 0x{raw[exc.start]:02X} at offset {exc.start}"
        ) from None


def ir_json_schema() -> dict[str, Any]:
    return Catalog.model_json_schema()
