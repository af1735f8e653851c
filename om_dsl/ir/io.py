"""Load and dump the IR: the contract a host service reads without re-parsing any DSL."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from om_dsl.errors import IRLoadError
from om_dsl.ir.models import SCHEMA_VERSION, Catalog


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
    return ir_from_data(data)


def ir_from_data(data: Any) -> Catalog:
    if not isinstance(data, dict):
        raise IRLoadError("IR must be a JSON object")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise IRLoadError(
            f"IR has schema_version {version!r}, this om_dsl reads {SCHEMA_VERSION}; "
            "recompile the catalog with `om compile`"
        )
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:10]
        )
        raise IRLoadError(f"IR does not match schema {SCHEMA_VERSION}: {problems}") from None
    _check_hash(catalog)
    return catalog


def content_hash(catalog: Catalog) -> str:
    """sha256 of the canonical JSON with an empty hash field: the catalog's identity."""
    body = catalog.model_copy(update={"content_hash": ""}).model_dump_json()
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


def with_hash(catalog: Catalog) -> Catalog:
    return catalog.model_copy(update={"content_hash": content_hash(catalog)})


def _check_hash(catalog: Catalog) -> None:
    if catalog.content_hash != content_hash(catalog):
        raise IRLoadError(
            "IR content_hash does not match its content (edited by hand?); recompile it"
        )


def _read(source: str | Path | bytes) -> str:
    if isinstance(source, bytes):
        return source.decode("utf-8", errors="replace")
    if isinstance(source, Path) or not source.lstrip().startswith(("{", "[")):
        try:
            return Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise IRLoadError(f"cannot read IR file {source}: {exc.strerror}") from None
    return source


def ir_json_schema() -> dict[str, Any]:
    return Catalog.model_json_schema()
