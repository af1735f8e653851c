"""One "did you mean" for catalogs, orders and the CLI (om_dsl/suggest.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from om_dsl.suggest import closest


@pytest.mark.parametrize(
    ("name", "candidates", "meant"),
    [
        ("Technolgy", ["Technology", "Tier"], "Technology"),  # a typo
        ("aws", ["AWS", "Azure", "GCP"], "AWS"),  # another case
        ("aws", ["AWS", "abs"], "AWS"),  # before a closer spelling
        ("gold", ["Gold", "golf"], "Gold"),
        ("UTM", ["standard", "utm"], "utm"),
        ("lte", ["lte_backup", "site_id"], "lte_backup"),  # cut short
        ("static", ["static_ip", "speed"], "static_ip"),
        ("st", ["static_ip"], None),  # too short to say
        ("lt", ["lte_backup", "lte_primary"], None),
        ("lte", ["lte_backup", "lte_primary"], None),  # which one?
        ("speed", ["speed", "sped"], "sped"),  # never the name itself
        ("zzz", ["speed"], None),
    ],
)
def test_closest(name: str, candidates: list[str], meant: str | None) -> None:
    assert closest(name, candidates) == meant


NAMES = st.text(alphabet="abcAB_", min_size=0, max_size=6)


@given(NAMES, st.lists(NAMES, max_size=6))
def test_a_suggestion_is_a_candidate_and_never_the_name(name: str, candidates: list[str]) -> None:
    meant = closest(name, candidates)
    assert meant is None or (meant in candidates and meant != name)
    assert meant == closest(name, list(reversed(candidates)))  # whatever the order
