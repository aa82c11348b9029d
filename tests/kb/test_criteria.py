"""Criterion tests as data: every tests/kb/*.yaml file is a list of cases a guideline author
can read and extend (OpenFisca style). Each test names a case (a full case, or a patch on the
file's base case) and what must follow: decisions per CPT, criteria met, criteria unmet, words
the reasons contain.

A final test holds the whole KB to account: every criterion must be shown met by some test
and unmet by some test. It decides every YAML case itself (all in one grounding), so it passes
or fails the same when run alone (`pytest tests/kb -k coverage`).

The YAML is checked as strictly as a case file: an unknown key anywhere (``unmett:``) and a
criterion id the KB does not have are errors, not silently ignored expectations.
"""
from __future__ import annotations

import copy
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from spinekb.bridge.engine import Engine
from spinekb.kb.static import static_kb
from spinekb.bridge.models import Case
from spinekb.explain.reasons import reason_lines

HERE = Path(__file__).parent
FILE_KEYS = {"section", "base", "tests"}     # and keys starting with "_": YAML anchors to reuse
TEST_KEYS = {"name", "patch", "case", "expect", "note"}
EXPECT_KEYS = {"decisions", "met", "unmet", "reasons_contain"}


class BadTestFile(ValueError):
    """A YAML test file that does not follow the format."""


def merge(base: Any, patch: Any) -> Any:
    """Deep-merge ``patch`` onto ``base``: dicts merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = copy.deepcopy(base)
        for key, value in patch.items():
            merged[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(patch)


def family(criterion: str) -> str:
    """A parametrised criterion such as sp1_0_simultaneous(lumbar) counts as its functor."""
    return criterion.split("(")[0]


def _check_keys(where: str, found: dict[str, Any], allowed: set[str], extra_prefix: str | None = None) -> None:
    unknown = sorted(k for k in found if k not in allowed and not (extra_prefix and str(k).startswith(extra_prefix)))
    if unknown:
        raise BadTestFile(f"{where}: unknown key(s) {unknown} (allowed: {sorted(allowed)})")


def _check_ids(where: str, ids: list[str]) -> None:
    known = static_kb().criteria
    families = {family(c) for c in known}
    missing = [c for c in ids if c not in known and not ("(" not in c and c in families)]
    if missing:
        raise BadTestFile(f"{where}: no criterion {missing} in the KB")


@cache
def load_tests() -> tuple[tuple[str, dict[str, Any], dict[str, Any]], ...]:
    """Every YAML test as (id, case, expect), validated against the format and the KB."""
    found = []
    for path in sorted(HERE.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        _check_keys(path.name, spec, FILE_KEYS, extra_prefix="_")
        base = spec.get("base", {})
        for test in spec["tests"]:
            where = f"{path.name}: {test.get('name', '?')}"
            _check_keys(where, test, TEST_KEYS)
            expect = test["expect"]
            _check_keys(f"{where}: expect", expect, EXPECT_KEYS)
            _check_ids(where, list(expect.get("met", [])) + list(expect.get("unmet", [])))
            case = merge(base, test.get("patch", {})) if "case" not in test else test["case"]
            found.append((f"{path.stem}: {test['name']}", case, expect))
    return tuple(found)


def _params() -> list[Any]:
    try:
        return [pytest.param(case, expect, id=name) for name, case, expect in load_tests()]
    except BadTestFile as problem:  # one failing test naming the problem, not a collection crash
        return [pytest.param(None, {"bad_file": str(problem)}, id="yaml-format")]


@pytest.mark.parametrize("case, expect", _params())
def test_case(decide, case, expect):
    """The case decides as the YAML says, with the named criteria met and unmet."""
    assert "bad_file" not in expect, expect.get("bad_file")
    result = decide(case)
    holds = result.atoms.holds
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
    """Each criterion of the KB is met in one YAML test and unmet in another (decided here, in
    one grounding, so the test does not depend on the others having run)."""
    cases = [Case.model_validate(case) for _, case, _ in load_tests()]
    seen_met: set[str] = set()
    seen_unmet: set[str] = set()
    universe = {family(c) for c in static_kb().criteria}
    for result in Engine(trace=True).evaluate(cases):
        held = {family(c) for c in result.atoms.holds}
        seen_met |= held
        seen_unmet |= universe - held
    never_met = sorted(universe - seen_met)
    never_unmet = sorted(universe - seen_unmet)
    assert not never_met, f"criteria no YAML test shows met: {never_met}"
    assert not never_unmet, f"criteria no YAML test shows unmet: {never_unmet}"


@pytest.mark.parametrize("text, problem", [
    ("tests: [{name: t, patch: {}, expect: {unmett: [sp5_1_c1]}}]", "unknown key(s) ['unmett']"),
    ("tests: [{name: t, patch: {}, expect: {unmet: [sp5_1_no_such]}}]", "no criterion ['sp5_1_no_such']"),
    ("tests: [{name: t, pach: {}, expect: {}}]", "unknown key(s) ['pach']"),
    ("bsae: {}\ntests: []", "unknown key(s) ['bsae']"),
])
def test_a_misspelt_yaml_test_is_an_error(tmp_path, monkeypatch, text, problem):
    """A typo in a YAML test is reported, never silently ignored."""
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    module = sys.modules[__name__]
    monkeypatch.setattr(module, "HERE", tmp_path)
    module.load_tests.cache_clear()
    try:
        with pytest.raises(BadTestFile, match=re.escape(problem)):
            module.load_tests()
    finally:
        module.load_tests.cache_clear()
