"""Criterion tests as data: every tests/kb/*.yaml file is a list of cases a guideline author
can read and extend (OpenFisca style). Each test names a case (a full case, or a patch on the
file's base case) and what must follow: decisions per CPT, criteria met, criteria unmet.

A final test holds the whole KB to account: every criterion must be shown met by some test
and unmet by some test.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import copy

import pytest
import yaml

from spinekb.bridge.kbinfo import static_kb
from spinekb.explain.reasons import reason_lines

HERE = Path(__file__).parent
SEEN_MET: set[str] = set()
SEEN_UNMET: set[str] = set()


def merge(base: Any, patch: Any) -> Any:
    """Deep-merge ``patch`` onto ``base``: dicts merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = copy.deepcopy(base)
        for key, value in patch.items():
            merged[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(patch)


def load_tests() -> list[Any]:
    params = []
    for path in sorted(HERE.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        base = spec.get("base", {})
        for test in spec["tests"]:
            case = merge(base, test.get("patch", {})) if "case" not in test else test["case"]
            params.append(pytest.param(case, test["expect"], id=f"{path.stem}: {test['name']}"))
    return params


def family(criterion: str) -> str:
    """A parametrised criterion such as sp1_0_simultaneous(lumbar) counts as its functor."""
    return criterion.split("(")[0]


@pytest.mark.parametrize("case, expect", load_tests())
def test_case(decide, case, expect):
    """The case decides as the YAML says, with the named criteria met and unmet."""
    result = decide(case)
    holds = result.atoms.holds
    SEEN_MET.update(family(c) for c in holds)
    universe = {family(c) for c in static_kb().criteria}
    SEEN_UNMET.update(universe - {family(c) for c in holds})
    decisions = {s.cpt: s.decision for s in result.studies}
    for cpt, decision in expect.get("decisions", {}).items():
        assert decisions[str(cpt)] == decision, f"{cpt}: {result.studies}"
    for criterion in expect.get("met", []):
        assert criterion in holds, f"expected {criterion} met"
    for criterion in expect.get("unmet", []):
        assert criterion not in holds, f"expected {criterion} unmet"
    lines = [line for s in result.studies for line in reason_lines(s.reasons)]
    for text in expect.get("reasons_contain", []):
        assert any(text in line for line in lines), f"no reason contains {text!r}: {lines}"


def test_every_criterion_is_shown_met_and_unmet():
    """Runs last in this module: each criterion of the KB was met in one test and unmet in another."""
    families = {family(c) for c in static_kb().criteria}
    never_met = sorted(families - SEEN_MET)
    never_unmet = sorted(families - SEEN_UNMET)
    assert not never_met, f"criteria no YAML test shows met: {never_met}"
    assert not never_unmet, f"criteria no YAML test shows unmet: {never_unmet}"
