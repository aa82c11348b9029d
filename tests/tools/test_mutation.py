"""tools/mutation.py (issue 8): it finds every threshold, rewrites exactly one rule per mutant,
and its one shared grounding gives the same verdicts as one grounding per mutant."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from spinekb.kb import kb_dir, kb_files

TOOL = Path(__file__).parents[2] / "tools" / "mutation.py"


@pytest.fixture(scope="module")
def mutation():
    spec = importlib.util.spec_from_file_location("spinekb_mutation_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses and worker processes look the module up by name
    spec.loader.exec_module(module)
    return module


def test_the_thresholds_issue_8_named_are_mutated(mutation):
    """V >= 9 (severe radicular pain), D >= S + W (worsening despite a trial) and, in SP-1.0,
    M >= F (the latest re-evaluation on or after the first day one is after a trial: the linear
    form of "re-evaluated after the trial", in sp1_0_reevaluated and sp1_0_failed_recent_trial):
    each is flipped on its boundary, and each number moved by one both ways."""
    red_flags = mutation.mutants_of(kb_dir() / "sp1_2_red_flags.lp")
    general = mutation.mutants_of(kb_dir() / "sp1_0_general.lp")
    pairs = {(m.original, m.mutated) for m in red_flags}
    assert {("V >= 9", "V > 9"), ("9", "8"), ("9", "10"), ("D >= (S+W)", "D > (S+W)")} <= pairs
    assert [(m.original, m.mutated) for m in general].count(("M >= F", "M > F")) == 2
    assert {("60", "61"), ("60", "59"), ("42", "43"), ("42", "41")} <= {(m.original, m.mutated) for m in general}


def test_a_mutant_rewrites_its_rule_and_nothing_else(mutation):
    """The mutated program differs from the KB in the mutated rule only, and still parses."""
    import clingo

    files = kb_files()
    original = mutation.apply(None, files)
    for mutant in mutation.mutants_of(kb_dir() / "sp1_0_general.lp")[:6]:
        mutated = mutation.apply(mutant, files)
        assert mutated != original
        assert original.replace(_source_text(mutant), "", 1) == mutated.replace(mutant.rule, "", 1)
        clingo.Control(["--warn=none"]).add("base", [], mutated)


def _source_text(mutant) -> str:
    data = (kb_dir() / mutant.file).read_bytes()
    return data[mutant.start:mutant.end].decode("utf-8")


def test_one_shared_grounding_gives_the_verdicts_of_one_grounding_per_mutant(mutation):
    """The fast mode (every mutant behind an external, one grounding) agrees with grounding each
    mutant alone, mutant by mutant and test by test, on SP-1.0's mutants and tests."""
    shared, figures = mutation.run(["sp1_0_general"], 1, False, per_mutant=False, tests=["sp1_0"])
    alone, _ = mutation.run(["sp1_0_general"], 1, False, per_mutant=True, tests=["sp1_0"])
    assert figures["mutants"] == len(shared) == len(alone) > 10
    assert [(f.mutant, sorted(f.killed_by)) for f in shared] == [(f.mutant, sorted(f.killed_by)) for f in alone]
    assert any(f.killed_by for f in shared)
