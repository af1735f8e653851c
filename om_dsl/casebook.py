"""Regression cases for a catalog (``om test``): orders, and what each must decompose and plan
into, recorded once and compared on every change of the catalog.

A catalog designer who changes a rule wants to know which reference orders it changes, before
the catalog ships.  A *case* is an order file (TMF622 or native JSON); its *expectation* is a
JSON file that records its outcome: the fulfillment requests and lines, and the plan's items
with what each waits for and its flags; or, for an order the catalog must refuse, the codes
and JSON paths of the issues.  ``om test --update`` records the expectations; ``om test``
compares and shows each difference as a diff of that JSON.

The outcome leaves out what changes with every edit of the catalog without changing what an
order does: the catalog's hash and the source spans of rules and plan items (a line added at
the top of a file moved them all).  Issue messages are left out too: their wording may
improve between versions of om_dsl, their codes and paths do not change.
"""

from __future__ import annotations

import contextlib
import difflib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from om_dsl.errors import DecompositionError, OmError, OrderValidationError, PlanError
from om_dsl.orders.decompose import Decomposer
from om_dsl.orders.installed_base import InstalledBase
from om_dsl.orders.models import Decomposition
from om_dsl.runtime.builder import build_plan
from om_dsl.runtime.plan import OrderPlan, PlanItemInstance

EXPECTED_SUFFIX = ".expected.json"
DIFF_LINES = 80
"""Lines of one case's diff shown before the rest is counted: a catalog change that moves
every line must not bury the other cases."""
Status = Literal["passed", "failed", "missing", "updated", "error"]
NOT_AN_ORDER = frozenset({"O001", "O002"})
"""Issues that say the file is no order at all (not JSON, too large): a truncated or corrupt
file recorded as "refused" would pass ever after."""


class NotAnOrder(OmError):
    """The case's file is not an order a catalog could be tested with."""


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    order: Path
    expected: Path


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    status: Status
    detail: str = ""
    """The diff (failed), or what went wrong (error, missing)."""


def find_cases(paths: Iterable[Path], expectations: Path | None = None) -> list[Case]:
    """The cases under ``paths``: each order file given, and every ``*.json`` in each folder
    given (recursively, by name), expectation files excepted (a shell glob ``DIR/*.json``
    names them too).  A case is named by its path below the folder given (``b2c/home``), and
    its expectation is ``NAME.expected.json`` next to the order, or in ``expectations`` when
    given (keeping the orders' folder as it is: other tools read every JSON file in it), in
    the same sub-folders: two orders ``a.json`` of two folders got one expectation file,
    each run overwriting the other's.

    Raises:
        FileNotFoundError: a path does not exist.
        CaseClash: two orders would share one expectation file (two folders given, each with
            an ``a.json``, and one ``--expectations``).
    """
    found: dict[Path, Case] = {}
    owners: dict[Path, Path] = {}
    for path in paths:
        for order, name in _orders(path):
            folder = order.parent if expectations is None else expectations / Path(name).parent
            expected = folder / f"{Path(name).name}{EXPECTED_SUFFIX}"
            owner = owners.setdefault(expected, order)
            if owner != order:
                raise CaseClash(f"{owner} and {order} would both be checked against {expected}")
            found.setdefault(order, Case(name, order, expected))
    return list(found.values())


class CaseClash(ValueError):
    """Two orders would share one expectation file."""


def _is_expectation(path: Path) -> bool:
    return path.name.endswith(EXPECTED_SUFFIX)


def _orders(path: Path) -> Iterator[tuple[Path, str]]:
    """(order file, case name) under ``path``."""
    if path.is_dir():
        for order in sorted(p for p in path.rglob("*.json") if p.is_file()):
            if not _is_expectation(order):
                yield order, order.relative_to(path).as_posix().removesuffix(".json")
    elif path.is_file():
        if not _is_expectation(path):
            yield path, path.name.removesuffix(".json")
    else:
        raise FileNotFoundError(f"{path}: no such file or folder")


def outcome(
    decomposer: Decomposer, raw: bytes, installed: InstalledBase | None = None
) -> dict[str, Any]:
    """What an order comes to with this catalog, as a case records it."""
    try:
        order = decomposer.read(raw)
    except OrderValidationError as exc:
        if any(issue.code in NOT_AN_ORDER for issue in exc.issues):
            raise NotAnOrder("; ".join(str(issue) for issue in exc.issues)) from None
        return {"refused": "validation", "issues": _issues(exc.issues)}
    try:
        work = decomposer.decompose(order, installed)
    except DecompositionError as exc:
        return {"refused": "decomposition", "issues": _issues(exc.issues)}
    result: dict[str, Any] = {"order": order.id, "requests": _requests(work)}
    try:
        result["plan"] = _plan(build_plan(decomposer.catalog, work, order))
    except PlanError as exc:
        result["plan_error"] = str(exc)
    return result


def _issues(issues: Iterable[Any]) -> list[dict[str, str]]:
    return [{"code": issue.code, "path": issue.path} for issue in issues]


def _requests(work: Decomposition) -> list[dict[str, Any]]:
    requests = work.model_dump(mode="json")["requests"]
    for request in requests:
        for line in request["lines"]:
            line.pop("rule_spans", None)
    return list(requests)


def _plan(plan: OrderPlan) -> list[dict[str, Any]]:
    return [_plan_item(item) for item in plan.items]


def _plan_item(item: PlanItemInstance) -> dict[str, Any]:
    found: dict[str, Any] = {"id": item.id, "kind": item.kind, "waits_for": list(item.deps)}
    flags = {
        "point_of_no_return": item.ponr,
        "skipped": item.initial == "skipped",
        "decided_at_run_time": item.when == "ready",
    }
    found.update({name: True for name, on in flags.items() if on})
    if item.compensation_of:
        found["undoes"] = list(item.compensation_of)
    return found


def run_case(
    case: Case, decomposer: Decomposer, installed: InstalledBase | None, update: bool
) -> CaseResult:
    """Compare the case's outcome with its expectation (or record it, with ``update``)."""
    try:
        now = _text(outcome(decomposer, case.order.read_bytes(), installed))
    except OSError as exc:
        return CaseResult(case, "error", f"cannot read {case.order}: {exc.strerror or exc}")
    except NotAnOrder as exc:
        return CaseResult(case, "error", f"{case.order} is not an order: {exc}")
    except OmError as exc:  # e.g. the durable engine failed: not the case's doing
        return CaseResult(case, "error", f"{type(exc).__name__}: {exc}")
    try:
        before = case.expected.read_text(encoding="utf-8")
    except FileNotFoundError:
        before = None
    except (OSError, UnicodeDecodeError) as exc:
        return CaseResult(case, "error", f"cannot read {case.expected}: {exc}")
    if before == now:
        return CaseResult(case, "passed")
    if update:
        try:
            _write(case.expected, now)
        except OSError as exc:
            return CaseResult(case, "error", f"cannot write {case.expected}: {exc.strerror or exc}")
        return CaseResult(case, "updated")
    if before is None:
        return CaseResult(case, "missing", f"no {case.expected}; record it with --update")
    return CaseResult(case, "failed", _diff(case, before, now))


def _text(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _write(path: Path, text: str) -> None:
    """Whole or not at all: a file half-written by an interrupted update would fail every
    later run for no reason a designer could see."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.part")
    try:
        part.write_text(text, encoding="utf-8")
        part.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
        raise


def _diff(case: Case, before: str, now: str) -> str:
    lines = list(
        difflib.unified_diff(
            before.splitlines(),
            now.splitlines(),
            fromfile=f"{case.expected} (expected)",
            tofile="what the catalog does now",
            lineterm="",
        )
    )
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], f"... {len(lines) - DIFF_LINES} more line(s) of diff"]
    return "\n".join(lines)
