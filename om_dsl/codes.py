# ruff: noqa: E501 - the rows are prose, one string per table cell
"""Every diagnostic and issue code, what it means and how to fix it: `om explain CODE`.

One table per family, the single source of the code tables in ``docs/diagnostics.md`` (the
catalog compiler), ``docs/decomposition.md`` (orders) and ``docs/service.md`` (service
requests): ``python -m om_dsl.codes`` writes them there, and ``tests/docs`` fails while a page
differs.  rustc (``--explain``) and ruff (``ruff rule``) taught designers to look a code up
from the terminal; the docs' examples stay in the docs.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class CodeDoc:
    """One row of a code table: the codes it covers (some rows explain a few together)."""

    codes: tuple[str, ...]
    meaning: str
    fix: str = ""


# Catalog compiler (docs/diagnostics.md): E codes are errors, W codes warnings.
CATALOG: tuple[CodeDoc, ...] = (
    CodeDoc(
        ("E001",),
        "Syntax error: a token where the grammar expects something else (the message says what).",
        'Write what the message expects. A hint suggests a keyword you may have misspelt, or what to write for a habit from another language or tool: `==` for `=` in a condition; `a <= x and x <= b` for a chained comparison; `!=` for `<>`; `when` for the `if` of a rule; `x == null` for the `x is null` of SQL; at least one value in a `values` list (`values []` is an E001); `5s` for `5 s`, and a unit for a bare number (`timeout 30` is `30s`); a kind for `retry 3` (`retry fixed 10s max 3`); `env("NAME")` for a secret written inline; `//` for `/* */`; a top-level `enum` declaration for a type written in place (`attribute tier: enum { gold, silver }`); attribute options as schema languages write them (`int = 100` is `default 100`, `range 1..10` is `in 1..10`, `required=true` is `required`, `optional` is the default); `=` for the `:` of a mapping or a response (`speed = speed`); no `:` or `=` between a keyword and its value (`url "..."`, `timeout 5s`); `depend B.y after A.x` for `depend A.x before B.y`; one `includes` per product (`includes Web, Voice` is two of them); `requires A or B` for either of two offers, a `requires` line each for both (`requires A, B` or `requires A and B`); and quotes for text written bare (`handler "net.go"`, `POST "/ports"`, `id "14301"`; a bare URL is cut short, since its `//` starts a comment); a point for the decimal comma of many languages (`default 1,5` is `1.5`); and one level of list (`list[list[int]]` is no type). An error on the first token of a line after a bracket left open names the bracket; an error right after a `when` that ends a line names the `when` (its condition is missing).',
    ),
    CodeDoc(
        ("E002",),
        "A character that is not part of the language (`#`, `@`, `$`, a control character), or a name with letters beyond ASCII (`Café`, `日本`), reported once for the whole name. An invisible character (a zero-width space or joiner, a soft hyphen, a direction mark), pasted in from a web page or a document, is named with its code point; inside a name it is reported once, and the name then reads as it looks, so its uses still find it. Another language's `&&`, `||` and `!` are reported with the word to write (`and`, `or`, `not`) and read as it, so the rest of the line is checked, and so are typeset operators pasted from a document (`\u2192` `\u21d2` `\u2265` `\u2264` `\u2260` `\u2212` `\u00d7`, read as `->` `->` `>=` `<=` `!=` `-` `*`); a `#` comment is skipped to the end of its line. Another stray character is skipped, and the token right after it is not also reported as E001 (`speed ^ 2` is one error, not a second one for `2`).",
        "Remove it; comments start with `//`. Names are ASCII letters, digits and `_`: the hint spells the name in ASCII (`Café` is `Cafe`, German `Größe` is `Groesse`, with `ss`, `ae`, `oe`, `ue`); a display name in quotes may hold any text. A `?` gets a hint: an attribute is optional unless it is `required` (`int?` is no type), and a conditional value is `if C then A else B`.",
    ),
    CodeDoc(
        ("E003",),
        "A string is not closed on its line, has an invalid escape (including a `\\uD800`-`\\uDFFF` escape that is not half of a surrogate pair: it is no character), or holds a raw control character (U+0000-U+001F but tab, and U+007F), invisible in an editor; or is written in single quotes (`'x'`) or curly ones (`\u201cx\u201d`, `\u2018x\u2019`, as word processors and chat apps write them): it is then read as the string, to check the rest.",
        'Close it with `"` on the same line; escapes are `\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX`; write a character outside the BMP itself or as a pair (`\\ud83d\\ude00`).',
    ),
    CodeDoc(
        ("E004",),
        "A declaration ends too early (end of file or of the declaration); the message names an unclosed `{`, `(` or `[`. Brackets pair by position; when a closing bracket starts a line left of where the line of the bracket it pairs with starts, the indentation shows that inner bracket is the one left open, so it is named, at the end of its line.",
        "Close the bracket or finish the declaration.",
    ),
    CodeDoc(
        ("E005",),
        "An invalid or too large number: `12abc`, `1e3`, a duration like `5x` or `1.5h`, a number above 2^53.",
        "Numbers are digits with an optional decimal part (`9.99`, no exponent); durations are a whole number and a unit (`90m`, not `1.5h`); keep numbers below 2^53.",
    ),
    CodeDoc(
        ("E009",),
        "A file has more than 100 syntax errors (E001-E005): it is read no further, and the catalog is not checked. Deterministic: the first 100 errors, then this one at the 101st.",
        "Fix the errors shown (a flood of them usually means the file is not a `.om` file at all), then check again.",
    ),
    CodeDoc(
        ("E010",),
        "The root file or an imported file cannot be read: missing, a folder, not a regular file (a named pipe, a device such as `/dev/zero`, a socket), a symbolic link loop, too large (16 MiB), or not UTF-8 (the hint says where the first bad byte is); or the root file's name is not UTF-8; or the catalog is given as a folder (`om decompose examples/catalog ...`, or a folder given to `compile_catalog`) that holds no root file (a `.om` file that starts with a `catalog` header) or several. It points at the `import`, or at line 1 of the root file (or of the folder).",
        "Fix the path (relative to the importing file) or the file; save it as UTF-8; rename the file. For a missing file the hint names the `.om` file of the same folder it most likely meant (`types.om` for `types`, `Types.om` or `type.om`). Name the root file of a folder of several catalogs.",
    ),
    CodeDoc(
        ("E011",),
        "An import path is absolute, leaves the catalog root, or holds a NUL character (`\\u0000`).",
        "Use a relative path inside the root file's folder.",
    ),
    CodeDoc(
        ("E012",),
        "Files import each other in a cycle (the cycle is printed).",
        "Move the shared declarations into a file that both import.",
    ),
    CodeDoc(
        ("E013",),
        "The catalog header is missing, given twice, or in an imported file. A file without a header that a catalog root imports, checked on its own (as an editor checks the file it saved), is this error alone, naming that root (found in the file's folder or above it): the file's other problems would only be names its root brings in.",
        'Put one `catalog "Name" version "V"` in the root file only; check a part of a catalog from its root (`om check ../telco.om`, as the hint says).',
    ),
    CodeDoc(
        ("E020",),
        "An unknown name: a type, a product (in `includes`, `requires`, `decompose`, `plan`, `depend`), a name in an expression, a constant that is no enum member, a table (`map speed Profil`); or a bare enum member that belongs to two enums.",
        'Fix the spelling (see the "did you mean" hint), declare it, or qualify the member (`Technology.FTTH`). `enum` itself is no type: declare `enum Tier { gold, silver }` and write `attribute tier: Tier`. Another language\'s type name gets the type to write (`float` is `decimal`, `text` is `string`).',
    ),
    CodeDoc(
        ("E021",),
        "A name declared twice (enums, products, systems, queues and tables share one namespace; rule names are unique too).",
        "Rename one of them.",
    ),
    CodeDoc(
        ("E022",),
        "The wrong kind of thing: a plan on an offer (or on a family of offers only), a bundle including a cfs, an `includes` in an offer, an offer requiring a cfs (or an enum, system or queue), a `requires` on a technical product, a `spec` on a technical product, a callout to a queue, a manual item whose `queue` names a system, a bundle including an enum, `after parent` on an offer, a rule targeting an offer, `map x NAME` where NAME is not a table, a table look-up among a table's values (they are constants)...",
        "Use the kind the message asks for (the hint says which).",
    ),
    CodeDoc(
        ("E023",),
        "A product or reference has no attribute of that name (`source.x`, `line.x`, `order.x`, a mapping target).",
        "Fix the name, or declare the attribute.",
    ),
    CodeDoc(
        ("E024",),
        "Something given twice: an attribute, an attribute option, an alias (or an alias that is another attribute's name), an `includes`, `family` or `spec` of one product (a product in two `includes` of a bundle, or twice in one choice group: `includes Fibre or Dsl` then `includes Dsl`), a `requires` (the same alternatives in any order) or one alternative of a `requires` (`requires Fibre or Fibre`), a mapping target, a request field, a response output, an attribute a plan records.",
        "Keep one.",
    ),
    CodeDoc(
        ("E025",),
        "A callout to a system the catalog does not declare.",
        "Declare the `system`, or fix its name.",
    ),
    CodeDoc(
        ("E026",),
        "A manual item names an undeclared queue.",
        "Declare the `queue`, or fix its name.",
    ),
    CodeDoc(
        ("E027",),
        "An unknown plan item: in `after`, `undo`, `depend`, or an output reference `PRODUCT.ITEM.x`.",
        "Fix the item name (the hint names a close one, or lists the items when none is close); items of another product are reached with `depend`.",
    ),
    CodeDoc(
        ("E028",),
        "A value is not a member of the enum. For the `default` of an attribute with `values`, it is the only error (no E048 follows).",
        "Use one of the enum's members (see the hint; for a `default` under `values`, the hint names one of the allowed values, or lists them).",
    ),
    CodeDoc(("E029",), "An enum lists a member twice.", "Remove the duplicate."),
    CodeDoc(("E030",), "A plan declares two items with the same name.", "Rename one."),
    CodeDoc(
        ("E031",), "An unknown scope.", "Use `line`, `root`, `order`, `account` or `relies_on`."
    ),
    CodeDoc(
        ("E032",),
        "`decompose family F` or `plan family F` names a family that no product declares.",
        "Add `family F` to the products, or fix the name.",
    ),
    CodeDoc(
        ("E033",),
        "An unknown action, in a plan or a rule's `on` list.",
        "Use `add`, `modify`, `delete`, `noChange` or `*`.",
    ),
    CodeDoc(
        ("E034",), "An unknown `within` scope in a `depend`.", "Use `root`, `order` or `relies_on`."
    ),
    CodeDoc(
        ("E035",),
        "An offer or bundle requires itself (`offer Tv { requires Tv }`, or as one of the alternatives: `requires Tv or HomeInternet`): an item can never be its own prerequisite.",
        "Name the other offers an order must hold with it (`requires HomeInternet`); an offer that needs nothing has no `requires`.",
    ),
    CodeDoc(
        ("E040",),
        'An operator applied to types it does not take (`speed + "x"`, `not speed`), a list mixing types, `if` branches of different types, or an index that does not fit (`name[0]` on text, `tags["a"]` on a list).',
        'Convert (`str(speed)`; `str(zone)` gives an enum member\'s name as text, as the hint says for `"ROAM-" + zone`), compare (`speed > 0`), or make the types agree; index lists by an `int` position (`tags[0]`, `tags[-1]`), and text with `substr`.',
    ),
    CodeDoc(
        ("E041",),
        "A constant of the wrong type (a `default`, a `values` entry, a key of a `map` or a `table`), or a text that is not a date.",
        'Write a constant of the attribute\'s type; dates are `"YYYY-MM-DD"`.',
    ),
    CodeDoc(
        ("E042",),
        "An option that does not fit the type (`in` on a string, `pattern` on an int), or an empty range.",
        "Remove the option, or fix the type or the bounds.",
    ),
    CodeDoc(
        ("E043",),
        "An expression's type does not fit where it goes (a mapping target, the offer attribute a `record` sets, a `table`'s value type, or, for `map SUBJECT TABLE`, the table's key type).",
        'Convert, or change the attribute\'s type. The hint writes the call out with your expression: `int(speed / 2)` drops the fraction and `int(round(speed / 2))` rounds it, `str(speed)` makes text, `int(name)`, `decimal(name)` and `date(name)` read text; a number in quotes (`"10"`) is written without them.',
    ),
    CodeDoc(
        ("E044",),
        "A decomposition rule does not map a `required` attribute of its target. A misspelt mapping target (`bandwith = ...`) is only E023: the attribute its did-you-mean names counts as mapped.",
        "Add `name = ...` to the rule, or give the attribute a `default`.",
    ),
    CodeDoc(
        ("E045",),
        "A condition (`when`, `until`) is not a `bool`.",
        "Compare it: `speed > 0`, `name != null`.",
    ),
    CodeDoc(
        ("E046",),
        "An unknown function, a wrong number of arguments, or arguments of the wrong type; or `changed()`/`previous()` outside a plan, or given something other than one line attribute.",
        "See the function table in the reference; the hint shows the signature, a close name, or the function another language's name stands for (`strip` is `trim`, `toUpperCase` is `upper`, `format` is `concat`, `sum(a, b)` is `a + b`, `DATEADD` is `add_days`). `env(\"NAME\")` is no function of expressions: a system's `url` and `auth` name environment variables, and its callouts send them.",
    ),
    CodeDoc(
        ("E047",),
        "An invalid regular expression (`pattern`, or the pattern given to `matches`), or a `matches` pattern that is not a text literal (patterns are written by the catalog's designers, never computed from order data).",
        'Fix the regular expression (Python syntax); write the pattern as a literal: `matches(code, "^[A-Z]{3}$")`.',
    ),
    CodeDoc(
        ("E048",),
        'A `default` that breaks its own attribute\'s range, values or pattern, or that the pattern cannot be checked against in time (it backtracks catastrophically; see "Regular expressions" in the language reference).',
        "Change the default or the constraint.",
    ),
    CodeDoc(
        ("E049",),
        "A `map` (or a `table`) with two cases for one key, two `default`s, or values of different types.",
        "Remove the duplicate, or make the values agree.",
    ),
    CodeDoc(
        ("E050",),
        "A reference of the wrong shape: `order` alone, a plan item or a product alone (`reserve` where `reserve.port_id` is meant), `source.a.b`, a field read from a value that has none.",
        "Write `order.NAME`, `source.NAME`, `line.NAME`: one attribute after the root; an item's outputs are read as `ITEM.NAME` (the hint lists a callout's). A property or a method of another language is a function here: `len(name)` for `name.length`, `upper(name)` for `name.upper()`.",
    ),
    CodeDoc(
        ("E051",),
        "A plan item reads outputs of another item of its plan (`reserve_port.port_id`) that does not run before it, or its own outputs (in its path, request, condition or a later response mapping), so the value would be null.",
        "Add `after ITEM` to the reading item (a compensation item may read what the item it undoes produced); an item never reads its own outputs: its response maps `body`.",
    ),
    CodeDoc(
        ("E052",),
        "An expression nests more than 128 levels deep: each operator of a chain (`a or b or c ...`, `x + y + z ...`) adds a level, calls, lists, `map`s and request objects add more ([how many](language.md#operators)). Deeper, the compiled catalog could not be saved or evaluated.",
        'Test many values at once with `code in ["C1", "C2", ...]`, or split the expression over several attributes.',
    ),
    CodeDoc(
        ("E053",),
        "`bundle.NAME` in a rule whose source has no bundle: an offer that no bundle includes (a family rule: any member), where it would always be null; or a technical product, since a chained rule's source is a line, which no bundle includes.",
        "Add the `includes` meant, or read an order attribute (`order.NAME`). In a chained rule, map the value onto the line in the rule from the bundle's part (`term = bundle.term`) and read `source.term`.",
    ),
    CodeDoc(
        ("E054",),
        "`bundle.NAME` names an attribute that a bundle including the rule's source does not declare (the message names the bundle; a part of several bundles reads only what all of them declare).",
        'Fix the name (see the "did you mean" hint), or declare the attribute in every bundle that includes the source.',
    ),
    CodeDoc(
        ("E055",),
        "`bundle.NAME` names an attribute that the bundles including the rule's source declare with different types (both are named).",
        "Declare it with one type in all of them.",
    ),
    CodeDoc(
        ("E060",),
        "Decomposition rules form a cycle (printed).",
        "Break the chain: a product must not decompose, directly or not, into itself.",
    ),
    CodeDoc(
        ("E061",),
        'The `after`s of a plan form a cycle (printed; each arrow reads "runs before").',
        "Remove one `after`.",
    ),
    CodeDoc(
        ("E062",),
        "Dependencies across products form a cycle (with `after`s and chained rules' waits), or an item depends on itself (printed).",
        "Remove or reverse one `depend`, `after`, or a chained rule's `after parent` / `before parent`.",
    ),
    CodeDoc(
        ("E070",),
        "Several sources feed a shared line (scope `root`, `order`, `account`, `relies_on`) and map an attribute differently, without a merge rule.",
        "Add `merge first`, `last`, `min`, `max`, `sum`, `union`, `any` or `all` to the attribute, or map it identically.",
    ),
    CodeDoc(
        ("E071",),
        "An unknown merge rule, or one that does not fit the type (`sum` on a string).",
        "Use a rule from the merge table that fits the type.",
    ),
    CodeDoc(
        ("E080",),
        "A product (or a family) has two plans for one action, a plan (or a rule's wait) lists an action twice, or a product is in two families whose plans both have the action.",
        "Merge the plans, or split the actions between them; for two families, give the product a plan of its own for the action (it replaces the families').",
    ),
    CodeDoc(
        ("E081",),
        "`undo` names a normal item, or a normal item comes `after` a compensation item.",
        "`undo` names a `compensation` item; normal items do not wait for compensations.",
    ),
    CodeDoc(
        ("E082",), "A compensation item has `point_of_no_return` or `undo`.", "Remove the clause."
    ),
    CodeDoc(
        ("E083",),
        "A callout path that does not start with `/`; a callout path or a wait's event name with unbalanced braces, or a placeholder that is not a reference.",
        'Write `"/ports/{reserve.port_id}"`: one reference per `{...}`.',
    ),
    CodeDoc(("E084",), "Not an HTTP method.", "Use `GET`, `POST`, `PUT`, `PATCH` or `DELETE`."),
    CodeDoc(
        ("E085",),
        "A `record` that could never record: its name is an attribute of no offer or bundle whose rules make the plan's product (directly or through chained rules), or no offer makes the product at all; or its value reads an item of another product (`Sim.assign.iccid`) or a compensation item (it runs only when the order is cancelled, and a cancelled order records nothing).",
        "Record an attribute that the offers declare (the hint names them, and a close name): declare `attribute NAME: TYPE` in the offers whose inventory products keep the value. Read the outputs of this plan's own normal items; record another product's output in that product's plan.",
    ),
    CodeDoc(
        ("E086",),
        "A `timeout` or `expect` of 0, a retry `max` below 1, or a retry `cap` shorter than the first delay.",
        "Use a positive duration; `retry none` for no retries; a cap at least the first delay.",
    ),
    CodeDoc(
        ("E087",),
        "A plan item clause, or a rule's `as` or `when`, given twice; or two waits (`after|before parent`) of a rule for one action (a wait without `on` holds for all four).",
        "Keep one; join two conditions with `and`; give each wait its own actions with `on`.",
    ),
    CodeDoc(
        ("E088",),
        "A clause that does not apply to the item's kind (`queue` on an `auto` item).",
        "Remove it, or change the item's kind; the hint says which kind takes it.",
    ),
    CodeDoc(
        ("E089",),
        "An item misses what its kind needs: `auto` a `handler`, `manual` a `queue`, `wait` exactly one of `event` or `until` (and a non-empty event name).",
        "Add the clause.",
    ),
    CodeDoc(
        ("E090",),
        "A system without `url`, or a URL the runtime could not call: not `http(s)://host...`, not a valid URL (`http://[::1`), a port that is not a number from 1 to 65535, or a space or control character in it. The compiler and the runtime check a URL with one check, so a URL that compiles is one every callout can use.",
        'Add `url env("NAME_URL", "http://127.0.0.1:8080")`.',
    ),
    CodeDoc(
        ("E091",),
        "An environment variable name that is not a name (`inventory-url`).",
        "Use letters, digits and `_`: `INVENTORY_URL`.",
    ),
    CodeDoc(("E092",), "A system option given twice.", "Keep one."),
    CodeDoc(
        ("E093",),
        "A secret in the catalog: a URL with a user or password, or an `env()` default in `auth`.",
        "Remove it; secrets come only from environment variables named in `auth`.",
    ),
    CodeDoc(("E094",), "A `permanent` status outside 400-499.", "List only 4xx statuses."),
    CodeDoc(("E095",), "An empty cardinality (`[3..1]`).", "Put the minimum first."),
    CodeDoc(
        ("E096",),
        "A bundle includes itself, directly or through other bundles (printed).",
        "Remove one `includes`.",
    ),
    CodeDoc(
        ("E097",),
        "Two offers share an offering `id` or a `spec` id, so a TMF order could not tell them apart.",
        "Give each its own id.",
    ),
    CodeDoc(
        ("E098",),
        "A read of a callout output that the callout does not have (`reserve.prt` where its response maps `port`): a callout's outputs are exactly its response mappings, so the value would always be null.",
        'Fix the name (see the "did you mean" hint), or add the output to the callout\'s `response`.',
    ),
    CodeDoc(
        ("E099",),
        'A callout path with a `.` or `..` segment (`%2e` is a dot too): HTTP clients resolve them before sending, so `POST "/../../admin"` on a system at `http://h/api/v1` would call `http://h/admin` with the system\'s credentials, and `"/{line.site}/../x"` would call `/api/v1/x`. A dot within a segment (`/v1.2`, `/{name}.{ext}`) is fine; a placeholder whose value is `.` or `..` fails the item at run time. `load_ir` refuses such a path in IR too.',
        "Write the path as it is under the system's url, or give the system the url the call needs.",
    ),
    CodeDoc(
        ("W001",),
        "An offer that no decomposition rule applies to: ordering it produces no work.",
        "Add `decompose Offer { -> ... }` (or a family rule). Bundles are exempt: their children carry the work.",
    ),
    CodeDoc(
        ("W002",),
        "A technical product that no rule produces.",
        "Add a rule that targets it, or remove it.",
    ),
    CodeDoc(
        ("W003",),
        "A plan item that can never run: `when false`, a `when changed(...)` in a plan only for `delete` or `noChange` (which change no attribute), or a compensation item that no `undo` names; or a `depend` that never links: `when false`.",
        "Remove it, or name it in an `undo`; test what a delete removes with `line.x`, not `changed()`; give a `depend` the condition that should link its lines.",
    ),
    CodeDoc(
        ("W004",),
        "A technical product that is produced but has no plan, so its lines carry no work.",
        "Add `plan Product on add { ... }` (fine for pure data lines).",
    ),
    CodeDoc(
        ("W005",),
        "A `map` without `default`, whose keys do not cover every value: unmatched values give `null`. For a named `table`, the warning is at the table's declaration, once, not at its uses.",
        "Add `default: ...`, or cover every enum member (or both `true` and `false`).",
    ),
    CodeDoc(
        ("W006",),
        "A plan item reads outputs of another product's item (`Sim.assign_sim.iccid`) but neither a `depend` nor a chained rule's wait (`before parent`, `after parent`) makes it wait for that item.",
        "Add `depend Product.item after Other.item` (with the right `within`), or, when a rule chains the two products, `before parent` / `after parent` on it: each line then waits for its own child or parent.",
    ),
    CodeDoc(
        ("W007",),
        "A `merge` rule where lines are never shared: on an offer or bundle attribute, or on a technical product of `line` scope.",
        "Remove it, or give the product the scope whose lines it should merge (`scope root`, `order`, `relies_on`, `account`).",
    ),
    CodeDoc(
        ("W008",),
        "A bundle includes a product, or a choice group, at most zero times (`includes Voice [0]`, `includes Tv or Voice [0]`): every order with one in the bundle is refused (O062).",
        "Allow at least one (`[0..1]`), or remove the include.",
    ),
    CodeDoc(
        ("W009",),
        "An `// allow CODE` comment accepts nothing: no warning with that code points at its line (it was fixed, or the comment sits on the wrong line), or the code is an error's, and errors cannot be allowed. Not reported while the catalog has errors.",
        "Remove the code from the comment (or the comment). `// allow` goes at the end of the line a warning points at, or alone on the line above it; see [accepting a warning](language.md#accepting-a-warning--allow).",
    ),
    CodeDoc(
        ("W010",),
        "A decomposition rule or family plan that never applies: a rule with `when false`, or a `plan family` action that every member replaces with a plan of its own (the more specific plan wins).",
        "Remove the rule, or the family plan's action; or drop the members' own plans that replace it.",
    ),
    CodeDoc(
        ("W011",),
        "A chained rule's `before parent` or `after parent` without `on`, between two products that both have work on delete: deletes run in the same order as adds (under `before parent`, the child line, a SIM, is released before its parent, the service, is deactivated).",
        "Say which order deletes take: `before parent on add, modify, noChange after parent on delete` to delete in reverse, or `before parent on *` to keep one order for every action.",
    ),
    CodeDoc(
        ("W012",),
        "An `async` callout without `timeout`: if its system never calls back, the item waits for ever, and so does a cancel of its order (a cancel lets work a system accepted settle first).",
        "Add a `timeout` (`timeout 1h`): without a callback by then the item fails, its retry policy applies, then fallout for an operator.",
    ),
    CodeDoc(
        ("W013",),
        "A regular expression (an attribute's `pattern`, or `matches`) that can backtrack catastrophically: a group repeated a variable number of times (`*`, `+`, `{m,}`) whose alternatives can start with the same character (`a` or `aa`, `[A-Z]` or `[A-Z0-9]`, repeated), so that it can match the same text in several ways. On a long value that almost matches, the work doubles with each character: the value then fails its check after 0.25 s, and an order's checks stop after 1 s in all. A heuristic (see [regular expressions](language.md#built-in-functions)): it stays silent on alternatives of plain text that split any text in one way only (`cat` or `car`, `ab` or `a`, repeated), and on nested quantifiers (`(a+)+`), which the `regex` engine om uses fails fast.",
        "Make each repetition match in one way only: `a` or `aa` repeated is `a+`, `[A-Z]` or `[A-Z0-9]` repeated is `[A-Z0-9]+`. Or accept it with `// allow W013` when the values it checks are short.",
    ),
    CodeDoc(
        ("W014",),
        "A `depend` `within root` (the default) that links nothing in some orders or in all: its two lines are linked only when they serve the same root order item (an offer ordered on its own, or a bundle with its parts), and no offer or bundle makes both products (it never links), or, when one of them is shared (`scope order`, `account` or `relies_on`), some offers make the waiting product without the other, so their lines wait for nothing even when another item of the order has the shared line. A plan item that reads the other's outputs through it then reads null.",
        "Say the scope the two lines share: `within order` for a line shared by the order (an access line), `within relies_on` for items linked by `reliesOn`. Keep `within root` when only lines of one order item must wait for each other, and accept the warning with `// allow W014`.",
    ),
    CodeDoc(
        ("W015",),
        "An enum member named `true`, `false` or `null`. A bare `true` or `false` is always the bool, so `default true` on such an enum is E041 and `f == true` is E040; a bare `null` is the member in a constant (`default null`, a `null:` map key) but no value in an expression (`f == null`).",
        "Write the member qualified everywhere (`Flag.true`, `Flag.null`), or rename it (`yes`, `no`, `unset`); accept the warning with `// allow W015` once every use is qualified.",
    ),
    CodeDoc(
        ("W016",),
        "Two rules from the same source to the same `line`-scoped target, neither with a `when` nor an `as` name: every source item gets two lines of the target (`tv/TvService` and `tv/TvService#2`), usually a rule copied or left behind. A shared target (`scope order`, ...) gets one line whatever the rules, so it is not reported.",
        "Remove the copy, or give the rules `when` conditions; when two lines are meant, name the rules with `as`.",
    ),
    CodeDoc(
        ("W017",),
        "A family that no `decompose family` or `plan family` names: only family rules and plans read a family, so putting products in it changes nothing (a misspelt family, or one kept as a label).",
        "Add the family rule or plan it was meant for, fix the name, or remove `family NAME` from the products.",
    ),
)

# Order validation (docs/decomposition.md).
ORDER: tuple[CodeDoc, ...] = (
    CodeDoc(
        ("O000",),
        "more problems in the JSON text (O001-O007, O014) than are reported: the first 100 are, then this one (at `$`); problems against the catalog are all reported",
    ),
    CodeDoc(("O001",), "not JSON, not UTF-8, or empty"),
    CodeDoc(("O002",), "larger than the size limit"),
    CodeDoc(("O003",), "nested deeper than the depth limit"),
    CodeDoc(("O004",), "a number with too many digits, `NaN` or `Infinity`"),
    CodeDoc(("O005",), "a string longer than the limit"),
    CodeDoc(("O006",), "a lone UTF-16 surrogate or a control character in a string or key"),
    CodeDoc(("O007",), "a key that is not text (parsed data only)"),
    CodeDoc(("O008",), "the document is not a JSON object"),
    CodeDoc(("O009",), "neither a TMF622 ProductOrder nor a native order"),
    CodeDoc(
        ("O010", "O011", "O012"),
        "a required field is missing; an unknown field (native only, with a suggestion); a field of the wrong type or shape, or a requested date (`requestedStartDate`, `requested_start_date`, ...) that is not an ISO 8601 date or date-time",
    ),
    CodeDoc(
        ("O013",),
        "an unknown action (with a suggestion, which knows other systems' words: `change` is `modify`, `remove` is `delete`)",
    ),
    CodeDoc(
        ("O014",),
        'a key given twice in one JSON object (`{"speed": 100, "speed": 5000}`), anywhere in the document: JSON readers disagree on which value counts, so neither is guessed; the path is the repeated key\'s (text only: parsed data has lost the repeat)',
    ),
    CodeDoc(("O020",), "an item id used twice"),
    CodeDoc(
        ("O021",),
        "an item id or an account that shared ids would collide with: an item id `order`, or one starting with `relies_on:` or `account:` (the ids of shared requests and lines); an account `-` (what shared ids say for no account)",
    ),
    CodeDoc(
        ("O030", "O031", "O032", "O033"),
        "an unknown product (with a suggestion); a reference that matches several products; two references of one item that disagree; a technical product ordered directly",
    ),
    CodeDoc(
        ("O034", "O035"),
        "an unknown attribute or characteristic, even with a null value (with a suggestion); an attribute given twice (e.g. by name and by alias)",
    ),
    CodeDoc(
        ("O036",),
        "a wrong type, or a value outside the attribute's range, allowed values, pattern or enum; a number or boolean sent as text gets what to write, when JSON reads it as written (the string 100 for an int: `write 100, without quotes`; 100.0: `write 100`)",
    ),
    CodeDoc(
        ("O037",),
        "a required attribute missing (after defaults), at the null given for it if there is one; not reported when a misspelt name (O034) suggests it",
    ),
    CodeDoc(("O038", "O039"), "a quantity outside 1..1,000; more items than the limit"),
    CodeDoc(
        ("O040",),
        "more units than the limit: the quantities of all the items, nested ones included, added up (100,000 by default; at the item that passes it)",
    ),
    CodeDoc(("O041",), "`previous` on an action other than `modify`"),
    CodeDoc(
        ("O042",),
        "an action that contradicts the bundle's: the parts of an `add` bundle must be `add`, the parts of a `delete` bundle `delete`",
    ),
    CodeDoc(
        ("O043",),
        "an item that stays (`add`, `modify`, `noChange`) relies on an item the order deletes",
    ),
    CodeDoc(
        ("O044",),
        "an item that adds an offer whose catalog says `requires X` (or `requires X or Y`), in an order with no item of X (nor Y) that stays (`add`, `modify` or `noChange`; a part of a bundle counts too): add one, or send the customer's existing one as a `noChange` item (docs/decomposition.md, Prerequisites)",
    ),
    CodeDoc(
        ("O045",),
        "an item that stays (`add`, `modify`, `noChange`) of an offer that `requires X`, in an order that deletes an X and keeps no other X (nor another alternative): keep it, or delete the requiring item too",
    ),
    CodeDoc(
        ("O050", "O051", "O052"),
        "an unknown relationship type; a relationship to an item not in the order; to itself",
    ),
    CodeDoc(("O053",), "an item that is a part of two bundles"),
    CodeDoc(("O054",), "a cycle of `bundles` or of `reliesOn` relationships"),
    CodeDoc(
        ("O060", "O061", "O062"),
        "a part of an item that is not a bundle; a part the bundle does not include; too few or too many parts for the bundle's cardinality (of a choice group `includes A or B`: its parts of every alternative together) (not checked while a part or a link to one is in error itself)",
    ),
    CodeDoc(
        ("O070",),
        "a listener URL in the order's `notify` that cannot be used: not an http(s) URL with a host, with credentials, with a port outside 1-65535, or pointing at a link-local or metadata address; checked when the order is submitted to the runtime (decomposition alone does not read `notify`; see docs/downstream.md)",
    ),
    CodeDoc(
        ("O071",),
        "an amendment whose revised order has another id than the order it amends (see docs/runtime.md, Amending an order)",
    ),
    CodeDoc(
        ("O072",),
        "a `modify`, `delete` or `noChange` item whose TMF `product.id` the product inventory has as `terminated`: an order deleted it before (see docs/runtime.md, Product inventory)",
    ),
    CodeDoc(
        ("O073",),
        "a `modify`, `delete` or `noChange` item whose TMF `product.id` the product inventory records under another offer than the item's (`productOffering`): the item names the wrong product, or the wrong offer",
    ),
    CodeDoc(
        ("O074",),
        "an `add` item whose TMF `product.id` the product inventory has already, active or terminated: installing it again would make a second product (a second line, a second billing subscription) and overwrite the record, as a CRM's retry of an order with a fresh `Idempotency-Key` did (see docs/runtime.md, Product inventory)",
        "Send a `modify` of the product to change it; a new product needs a new id. A retry of a create should reuse its `Idempotency-Key` (or the order's own `id`).",
    ),
    CodeDoc(
        ("O075",),
        "an item whose TMF `product.id` an unfinished order of the store (not `completed`, `cancelled`, `failed`, `partial` or `rejected`: `held` counts) records already: each order compares with the product as recorded when it is submitted, so the second of two orders in flight for one product compared with a stale record and its change was lost when the first completed. Checked where the order is stored, in the same transaction (see docs/runtime.md, Product inventory)",
        "Wait for that order to complete, or amend it (an amendment of that order does not trip over its own product).",
    ),
    CodeDoc(
        ("O076",),
        "a `modify`, `delete` or `noChange` item whose TMF `product.id` the product inventory records under another billing account or customer than the order's (the item's `billingAccount.id`, else the order's; the order's `Customer` party): accepted, it moved the product to the order's customer. The message names both ids, and nothing else of the product. An order or a product without an account (or a customer) is not compared on it (see docs/runtime.md, Product inventory)",
        "Check the product id (it is another customer's product). om_dsl has no transfer of ownership: delete the product under its owner, and add a new one under the new owner.",
    ),
    CodeDoc(
        ("O080",),
        "an installed base given as data (`--installed-base FILE` of `om decompose`, `plan`, `render plan`, `render decomposition`, `run`, `amend` and `serve`; `read_installed_lines`) that is not an object of accounts, each an object of account-scoped technical products, each an object of that line's attributes; or that names a product the catalog lacks or that is not account-scoped. Its attribute values are checked like an order's (O034 to O037, with JSON paths into the data)",
    ),
)

# Decomposition of a valid order (docs/decomposition.md): a DecompositionError lists them.
DECOMPOSITION: tuple[CodeDoc, ...] = (
    CodeDoc(
        ("D001",),
        "a merge conflict: two sources give a `merge same` attribute of a shared line different values",
    ),
    CodeDoc(
        ("D002",), "a rule's condition or mapping failed at run time (e.g. a division by zero)"
    ),
    CodeDoc(
        ("D003",),
        "a produced line breaks its product's declaration (a required attribute is null, a value is out of range); one issue per line, listing every such problem of it",
    ),
    CodeDoc(
        ("D004",),
        "two lines would get the same id (item ids that look like line ids, e.g. `a/Port`)",
    ),
    CodeDoc(
        ("D005",),
        "the order makes more technical lines than the limit (`Limits.max_lines`, 500,000 by default): nothing more is made, at the item whose line would pass it",
    ),
)

# Service requests (docs/service.md).
SERVICE: tuple[CodeDoc, ...] = (
    CodeDoc(("S001",), "an order id that cannot be a path segment (path `id`)"),
    CodeDoc(
        ("S002",),
        "an unknown order state in `state=` (path `query.state`; the message lists the states), or notification state in `GET /notifications?state=`",
    ),
    CodeDoc(
        ("S003", "S004"),
        "a hub callback URL or query that cannot be used or can never match (`body.callback`, `body.query`)",
    ),
    CodeDoc(
        ("S010",),
        'the body is not JSON: `not valid JSON: Expecting value at line 1 column 12`, not UTF-8 text, or nested too deeply (path `body`); a downstream callback that is not UTF-8 text gets it too, in the callback\'s own answer (`{"error", "code"}`, docs/downstream.md)',
    ),
    CodeDoc(
        ("S011",),
        "a required field is missing (`required field 'itemId' is missing`), or the whole body",
    ),
    CodeDoc(
        ("S012",),
        "an unknown field of an operations body, with a suggestion when one is close, or why the route does not take it (`vacuum` of `POST /prune`: `om prune --vacuum` only)",
    ),
    CodeDoc(
        ("S013",),
        "a value of the wrong JSON type: `expected an object, got an array` (the body itself too)",
    ),
    CodeDoc(
        ("S014",),
        "a value out of its bounds: too long or empty text (`state=`, `fields=`, `externalId=`), a number too small or too large",
    ),
    CodeDoc(
        ("S015",),
        "a value in the wrong form: `requestedCancellationDate` that is not an RFC 3339 date-time, or `olderThan` of `POST /prune` that is not a duration (`90d`, `12h`: the message suggests one for `90days` or `1.5d`)",
    ),
    CodeDoc(
        ("S016",),
        "a query parameter the route does not read (`GET /productOrder?customer=...`: the list filters by `state` and `externalId` only; `GET /tasks?queu=...`; path `query`): the message names those it reads",
    ),
    CodeDoc(
        ("S017",),
        "`fields` names an attribute the resource does not have (`fields=productOrderItem.state`; path `query.fields`): it selects first-level attributes, listed in the message, with a suggestion when one is close",
    ),
    CodeDoc(
        ("S018",),
        "a `PATCH /productOrder/{id}` body with no items (a JSON merge patch of the changed fields alone; path `body`): PATCH takes the whole revised order, as it would be POSTed",
    ),
    CodeDoc(
        ("S019",),
        "a query parameter given more than once (`state=completed&state=held`; path `query.state`): give it once, several values as one comma-separated list (`state=completed,held`)",
    ),
    CodeDoc(
        ("S020",),
        'a `PATCH /productOrder/{id}` body whose `state` is one the order has never had (`"cancelled"`, `"held"`, ...; path `state`): the state is the service\'s to set, so it would be ignored; leave it out or send one the order had (a GET -> PATCH round trip), and cancel with `POST /cancelProductOrder`',
    ),
    CodeDoc(
        ("S021",),
        "a queue no catalog declares in `GET /tasks?queue=...` (path `query.queue`), or a system in the filter of `/fallout` (path `query.system` or `body.system`): the message suggests a close name, or lists the declared ones",
    ),
    CodeDoc(
        ("S022",),
        "a `requestedCancellationDate` more than 5 minutes ahead (path `body.requestedCancellationDate`): a cancel is carried out when the request comes and cannot be scheduled; leave the date out, or send the request at that time",
    ),
    CodeDoc(
        ("S023",),
        "an `Idempotency-Key` header that is empty, longer than 255 characters, or holds blanks, controls or non-ASCII (path `header.Idempotency-Key`)",
    ),
    CodeDoc(
        ("S024",),
        "an unknown product status in `status=` of `GET /productInventory/v4/product` (path `query.status`; the message lists TMF637's statuses)",
    ),
    CodeDoc(
        ("S025",),
        'a bulk action (`POST /fallout/retry`, `POST /notifications/retry`) whose body names no filter (path `body`): name what to act on, or send `"all": true`; an empty body must not act on everything by accident',
    ),
    CodeDoc(
        ("S026",),
        'a key given twice in one object of a request body (`{"reason": "a", "reason": "b"}`; path the key\'s, `body.reason`): JSON readers disagree on which value counts, so neither is guessed (an order\'s is O014); a downstream callback\'s too, in the callback\'s own answer (`{"error", "code"}`, docs/downstream.md)',
    ),
)


@dataclass(frozen=True, slots=True)
class Family:
    """A code table: where its codes come from and the page that shows it."""

    name: str
    about: str
    page: str
    header: tuple[str, ...]
    rows: tuple[CodeDoc, ...]


FAMILIES = (
    Family(
        "catalog",
        "catalog compiler (`om check`, `om compile`)",
        "docs/diagnostics.md",
        ("Code", "Meaning", "Fix"),
        CATALOG,
    ),
    Family(
        "order",
        "order validation (`om decompose`, `om run`, `POST /productOrder`)",
        "docs/decomposition.md",
        ("code", "problem"),
        ORDER,
    ),
    Family(
        "decomposition",
        "decomposition (`om decompose`, `om run`, `POST /productOrder`)",
        "docs/decomposition.md",
        ("code", "problem"),
        DECOMPOSITION,
    ),
    Family(
        "service",
        "service request (`om serve`)",
        "docs/service.md",
        ("Issue code", "Problem"),
        SERVICE,
    ),
)


@dataclass(frozen=True, slots=True)
class Explained:
    code: str
    severity: str  # error | warning
    family: Family
    doc: CodeDoc


def _index() -> dict[str, Explained]:
    out: dict[str, Explained] = {}
    for family in FAMILIES:
        for doc in family.rows:
            for code in doc.codes:
                severity = "warning" if code.startswith("W") else "error"
                out[code] = Explained(code, severity, family, doc)
    return out


INDEX = _index()

_CODE = re.compile(r"([A-Za-z])0*([0-9]{1,3})")  # ASCII: `\d` also takes other scripts' digits


def normalize(text: str) -> str | None:
    """``e44``, ``E044`` and ``error[E044]`` all name E044; None for text that is no code."""
    found = _CODE.fullmatch(
        text.strip().removeprefix("error[").removeprefix("warning[").rstrip("]")
    )
    if found is None:
        return None
    return f"{found.group(1).upper()}{int(found.group(2)):03d}"


def explain(text: str) -> Explained | None:
    code = normalize(text)
    return INDEX.get(code) if code is not None else None


# ---- the docs' tables ------------------------------------------------------------------------


def table(family: Family) -> str:
    """The Markdown table of ``family``, as its page shows it."""
    widths = "|".join("-" * (len(h) + 2) for h in family.header)
    lines = ["| " + " | ".join(family.header) + " |", f"|{widths}|"]
    for doc in family.rows:
        cells = [", ".join(doc.codes), doc.meaning, doc.fix][: len(family.header)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def synced(page_text: str, family: Family) -> str:
    """``page_text`` with its table of ``family`` replaced by :func:`table`.

    The table is found by its first row's codes (a page may hold two tables of one header)."""
    first = "\n| " + ", ".join(family.rows[0].codes) + " |"
    row = page_text.index(first) + 1
    start = page_text.rindex("\n", 0, page_text.rindex("\n", 0, row - 1)) + 1
    end = page_text.index("\n\n", row) + 1
    return page_text[:start] + table(family) + page_text[end:]


def main() -> int:
    """Rewrite the code tables of the docs from this module (run from a checkout)."""
    root = Path(__file__).resolve().parents[1]
    for family in FAMILIES:
        page = root / family.page
        text = page.read_text(encoding="utf-8")
        new = synced(text, family)
        if new != text:
            page.write_text(new, encoding="utf-8")
            print(f"updated {page}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
