"""The parse table: built by Lark from ``om.lark`` once, then read from a generated file.

Building the LALR(1) table with Lark costs 0.16 s in every process that parses (0.55 s where
the ``interegular`` package is installed, which makes Lark check its terminals for
collisions): more than compiling a 1,000-line catalog, and paid by every ``om check``.  The
table only changes with the grammar, so ``python -m om_dsl.syntax.tables`` writes it to
``om_dsl/grammar/om.tables.json`` with the sha256 of the grammar it came from, and
:func:`load_tables` reads that (about 5 ms).  A file whose hash does not match the packaged
grammar (or that cannot be read) is ignored and Lark builds the table as before: a stale file
costs time, never a wrong parse.  ``tests/compiler/test_tables.py`` fails while the file is
stale, and names the command.

Lark numbers the states in an order that depends on the process's hash seed; the file
renumbers them breadth first from the start state (symbols in sorted order), so that the same
grammar always gives the same file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from collections import deque
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from om_dsl.syntax.lalr import RuleShape, Tables

if TYPE_CHECKING:
    from lark import Lark

TABLES_FILE = "om.tables.json"
FORMAT = 1


def grammar_text() -> str:
    return resources.files("om_dsl.grammar").joinpath("om.lark").read_text(encoding="utf-8")


def grammar_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def load_tables() -> Tables:
    """The table for the packaged grammar: from the generated file when it is current."""
    grammar = grammar_text()
    try:
        raw = resources.files("om_dsl.grammar").joinpath(TABLES_FILE).read_text(encoding="utf-8")
        return from_json(raw, grammar_digest(grammar))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # missing, stale, damaged
        return build_tables(grammar)


def build_tables(grammar: str) -> Tables:
    """Lark's LALR(1) table for ``grammar``, re-packed as plain dicts in canonical numbering."""
    return _canonical(_from_lark(lark_parser(grammar)))


def lark_parser(grammar: str) -> Lark:
    """``grammar`` as a Lark LALR parser (what the table is taken from)."""
    from lark import Lark  # noqa: PLC0415 - reading the generated file needs no Lark at all

    return Lark(grammar, parser="lalr", lexer="contextual", start="start")


def _from_lark(lark: Any) -> Tables:
    from lark.parsers.lalr_analysis import Shift  # noqa: PLC0415 - as above

    table = lark.parser.parser.parser.parse_table
    index = {rule: i for i, rule in enumerate(lark.rules)}
    actions: dict[int, dict[str, int]] = {}
    gotos: dict[str, dict[int, int]] = {}
    for state, entries in table.states.items():
        acts = actions[state] = {}
        for key, (action, arg) in entries.items():
            name = str(key)
            if action is not Shift:
                acts[name] = ~index[arg]
            elif name.isupper():  # a terminal (including $END): rules are lower case
                acts[name] = arg
            else:
                gotos.setdefault(name, {})[state] = arg
    rules = tuple(_shape(rule) for rule in lark.rules)
    return Tables(actions, gotos, rules, table.start_states["start"], table.end_states["start"])


def _shape(rule: Any) -> RuleShape:
    expansion = rule.expansion
    # Every terminal of om.lark is named, so Lark filters none out of the children.
    assert not any(sym.is_term and sym.filter_out for sym in expansion), rule
    origin = str(rule.origin.name)
    return RuleShape(
        size=len(expansion),
        origin=origin,
        callback=str(rule.alias or rule.options.template_source or origin),
        helper=origin.startswith("_"),
        expand1=bool(rule.options.expand1) and not rule.alias,
        splice=tuple(not sym.is_term and str(sym.name).startswith("_") for sym in expansion),
    )


def _canonical(tables: Tables) -> Tables:
    """The same table with its states numbered breadth first from the start state."""
    successors: dict[int, list[int]] = {}
    for state, acts in tables.actions.items():
        successors[state] = [acts[k] for k in sorted(acts) if acts[k] >= 0]
    for name in sorted(tables.gotos):
        for below, after in sorted(tables.gotos[name].items()):
            successors.setdefault(below, []).append(after)
    number: dict[int, int] = {tables.start_state: 0}
    queue = deque([tables.start_state])
    while queue:
        for nxt in successors.get(queue.popleft(), []):
            if nxt not in number:
                number[nxt] = len(number)
                queue.append(nxt)
    for state in sorted(tables.actions):  # unreachable states (none expected) keep a number
        number.setdefault(state, len(number))
    actions = {
        number[s]: {k: (v if v < 0 else number[v]) for k, v in sorted(acts.items())}
        for s, acts in sorted(tables.actions.items(), key=lambda item: number[item[0]])
    }
    gotos = {
        name: dict(sorted((number[b], number[a]) for b, a in table.items()))
        for name, table in sorted(tables.gotos.items())
    }
    return Tables(
        actions, gotos, tables.rules, number[tables.start_state], number[tables.end_state]
    )


def to_json(tables: Tables, digest: str) -> str:
    """The file's text: deterministic for a canonical table."""
    data = {
        "format": FORMAT,
        "grammar_sha256": digest,
        "start_state": tables.start_state,
        "end_state": tables.end_state,
        "rules": [
            [r.size, r.origin, r.callback, r.helper, r.expand1, list(r.splice)]
            for r in tables.rules
        ],
        "actions": {str(s): acts for s, acts in tables.actions.items()},
        "gotos": {name: {str(b): a for b, a in t.items()} for name, t in tables.gotos.items()},
    }
    return json.dumps(data, separators=(",", ":")) + "\n"


def from_json(text: str, digest: str) -> Tables:
    """The table in ``text``; ValueError when it was generated from another grammar."""
    data = json.loads(text)
    if data.get("format") != FORMAT or data.get("grammar_sha256") != digest:
        raise ValueError("the parse table file was generated from another grammar")
    rules = tuple(
        RuleShape(size, origin, callback, helper, expand1, tuple(splice))
        for size, origin, callback, helper, expand1, splice in data["rules"]
    )
    actions = {int(s): dict(acts) for s, acts in data["actions"].items()}
    gotos = {name: {int(b): a for b, a in t.items()} for name, t in data["gotos"].items()}
    return Tables(actions, gotos, rules, data["start_state"], data["end_state"])


def generated_text() -> str:
    """What the file must hold for the packaged grammar."""
    grammar = grammar_text()
    return to_json(build_tables(grammar), grammar_digest(grammar))


def main() -> int:
    """Regenerate ``om_dsl/grammar/om.tables.json`` after a change to ``om.lark``."""
    target = Path(__file__).resolve().parent.parent / "grammar" / TABLES_FILE
    target.write_text(generated_text(), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
