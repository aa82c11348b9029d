"""kb/structure.py: criterion families, the case facts their rules read, and where the rules are."""
from __future__ import annotations

from pathlib import Path

from spinekb.kb.structure import KbStructure, family_of, kb_structure, parse_structure
from spinekb.kb.syntax import parse_program

#: A toy KB of two files.
FILES = {
    "a.lp": """\
helper(C, T) :- treatment(C, T, _, _, _).
holds(C, (x; y(R))) :- helper(C, _), not finding(C, z), region(C, R).
holds(C, w) :- holds(C, x), age(C, A), A > 70.
holds(C, Q) :- case(C), composite(Q), holds(C, S) : all_of(Q, S).
""",
    "b.lp": """\
% a comment line
holds(C, v) :- -sex(C, f), N = #count{ D : pain_score(C, D, _) }, N > 1.
""",
}


def structure_of(folder: Path, extra: str = "") -> KbStructure:
    """The structure of the toy KB written to ``folder``, with ``extra`` at the end of b.lp."""
    files = {**FILES, "b.lp": FILES["b.lp"] + extra}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return parse_structure(parse_program([folder / name for name in files]))


def test_families_with_holds_rules_are_defined(tmp_path):
    """A pool in the head defines each family; the generic composite rule defines none."""
    structure = structure_of(tmp_path)
    assert structure.defined == {"x", "y", "w", "v"}


def test_inputs_follow_helpers_and_other_criteria(tmp_path):
    """Inputs reach through helper predicates, negation, aggregates and holds(C, other)."""
    structure = structure_of(tmp_path)
    assert structure.inputs["x"] == {"treatment", "finding", "region"}
    assert structure.inputs["w"] == {"treatment", "finding", "region", "age"}
    assert structure.inputs["v"] == {"pain_score"}          # -sex/2 is not the case predicate sex/2
    assert "helper/2" in structure.helpers["x"]


def test_rule_locations_are_per_file_lines(tmp_path):
    """Locations count lines within each file, not within the concatenated text."""
    structure = structure_of(tmp_path)
    assert [r.where() for r in structure.rules_of("x")] == ["kb/a.lp:2"]
    assert [r.where() for r in structure.rules_of("v")] == ["kb/b.lp:2"]
    assert structure.rules_of("nothing") == ()


def test_installed_kb_recent_trial_reads_treatment():
    """holds(C, sp1_0_recent_trial) reads recent_trial -> trial -> treatment."""
    structure = kb_structure()
    assert structure.inputs_of("sp1_0_recent_trial") == {"treatment", "treatment_self_directed"}
    assert "sp5_1_c3" not in structure.defined          # composite: any_of facts only
    location = structure.rules_of("sp1_0_recent_trial")[0]
    from spinekb.kb import kb_dir
    line = (kb_dir() / location.file).read_text().splitlines()[location.line - 1]
    assert line.startswith("holds(C, sp1_0_recent_trial)")


def test_family_of_parametrised_criterion():
    """A rendered parametrised id maps to its functor."""
    assert family_of("sp1_0_simultaneous(lumbar)") == "sp1_0_simultaneous"


def test_rules_outside_the_base_block_are_ignored(tmp_path):
    """Rules under another #program block (e.g. kb/checks/checks.lp) define no criterion."""
    structure = structure_of(tmp_path, "#program other.\nholds(C, u) :- age(C, _).\n#program base.\n")
    assert "u" not in structure.defined
