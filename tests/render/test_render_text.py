"""Escaping, shortening and durations: what keeps labels valid and inside their boxes."""

from __future__ import annotations

import graphviz
import pytest

from om_dsl.render.text import duration, esc, plain, shorten, table


def test_html_labels_escape_markup_and_quotes() -> None:
    assert esc('<b> & "x"') == "&lt;b&gt; &amp; &quot;x&quot;"


def test_plain_text_keeps_backslashes_and_angle_brackets_literal() -> None:
    graph = graphviz.Digraph()
    graph.node("n", tooltip=plain('a\\lb "q" <x>\nnext'))
    line = graph.source.splitlines()[1]
    assert line == '\tn [tooltip="a\\\\lb \\"q\\" <x>\\nnext"]'


@pytest.mark.parametrize(
    "text",
    ["<<TABLE>>", "ends with backslash \\", 'quote " inside', "tab\there", "emoji ⛔ ok"],
)
def test_hostile_labels_give_dot_that_graphviz_accepts(text: str) -> None:
    graph = graphviz.Digraph()
    graph.node("n", label=table([f"<TR><TD>{esc(text)}</TD></TR>"]), tooltip=plain(text))
    graph.edge("n", "m", label=plain(text))
    graph.pipe(format="svg")  # raises CalledProcessError on a syntax error


def test_shorten_cuts_with_an_ellipsis_and_flattens_whitespace() -> None:
    assert shorten("short") == "short"
    assert shorten("a   b\n c") == "a b c"
    cut = shorten("x" * 100, 20)
    assert len(cut) == 20
    assert cut.endswith("…")


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0s"),
        (-5, "0s"),
        (250, "250ms"),
        (1_000, "1s"),
        (60_000, "1m"),
        (3_600_000, "1h"),
        (2 * 86_400_000 + 600_000, "2d 10m"),
        (90_061_001, "1d 1h 1m 1s 1ms"),
    ],
)
def test_durations_read_like_the_dsl(ms: int, text: str) -> None:
    assert duration(ms) == text
