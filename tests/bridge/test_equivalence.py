"""Speed-ups must not change a decision: the same generated cases decide identically whether the
bridge emits every fact or only those the KB reads, in one chunk or case by case, and whether the
KB is grounded as written or stratified (bridge/program.py)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import clingo
import pytest

from spinekb.bridge.batch import as_json_line
from spinekb.bridge.engine import TRACE_SHOW, Engine
from spinekb.bridge.facts import case_facts
from spinekb.bridge.models import Case
from spinekb.bridge.program import stratified_program, stratify
from spinekb.kb import kb_files, kb_text
from spinekb.kb.knowledge import KnowledgeBase

GENERATOR = Path(__file__).parents[2] / "bench" / "generate.py"


@pytest.fixture(scope="module")
def generated() -> list[Case]:
    spec = importlib.util.spec_from_file_location("bench_generate", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return [Case.model_validate(data) for data in module.generate(300, seed=7)]


def records(results) -> list[dict]:
    return [r.to_json() for r in results]


def test_emitting_only_the_facts_the_kb_reads_changes_nothing(generated):
    """Filtered facts (the default) and every fact decide the 300 cases identically."""
    filtered = Engine()
    everything = Engine()
    everything._filter_facts = False  # emit every fact of the case format
    assert records(filtered.evaluate(generated)) == records(everything.evaluate(generated))


def test_chunk_size_changes_nothing(generated):
    """300 cases in one grounding decide as in chunks of 7."""
    assert records(Engine(chunk_size=1000).evaluate(generated)) == records(Engine(chunk_size=7).evaluate(generated))


def test_the_generated_cases_cover_both_decisions(generated):
    """The comparison means something: approvals and denials both occur."""
    decisions = {s["decision"] for r in records(Engine().evaluate(generated)) for s in r["studies"]}
    assert decisions == {"approved", "denied"}


# -- the stratified program (bridge/program.py) and the straightforward engine -------------------

def _shown(program: str, cases: list[Case]) -> set[str]:
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], program)
    with ctl.backend() as backend:
        for index, case in enumerate(cases):
            for symbol in case_facts(index, case):
                backend.add_rule([backend.add_atom(symbol)])
    ctl.ground([("base", [])])
    with ctl.solve(yield_=True) as handle:
        return {str(s) for s in next(iter(handle)).symbols(shown=True)}


def test_the_installed_kb_is_stratified():
    """The rewrite applies to the KB as it stands (otherwise batches ground it as written)."""
    program = stratified_program()
    assert program.stratified, program.reason
    assert "holds(C, Q) :- case(C), none_of(Q, S), not holds(C, S)." not in program.text


def test_the_stratified_program_shows_what_the_kb_as_written_shows(generated):
    """Grounded with the same 300 cases (every fact), both programs show the same atoms, in batch
    and in trace mode."""
    for show in ("", TRACE_SHOW):
        stratified = stratified_program(trace=bool(show)).text + show
        assert _shown(stratified, generated) == _shown(kb_text() + show, generated)


def test_the_stratified_program_leaves_no_open_atom(generated):
    """gringo evaluates every criterion while grounding: no holds atom is left to the solver but
    those of the simultaneous-studies rule (it reads decisions: recursion through negation)."""
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], stratified_program().text)
    with ctl.backend() as backend:
        for index, case in enumerate(generated):
            for symbol in case_facts(index, case):
                backend.add_rule([backend.add_atom(symbol)])
    ctl.ground([("base", [])])
    open_atoms = {a.symbol.arguments[1].name for a in ctl.symbolic_atoms.by_signature("holds", 2) if not a.is_fact}
    assert open_atoms <= {"sp1_0_simultaneous", "sp1_0_simultaneous_pair", "sp1_0_simultaneous_section",
                          "sp1_0_simultaneous_documented", "sp1_0_simultaneous_undocumented"}


def test_a_batch_decides_as_the_straightforward_engine(generated):
    """A sample of the 300 cases: the fast engine's records (one grounding of all 300, the
    stratified program, only the facts the KB reads) are byte for byte the straightforward
    engine's (the KB as written, every fact, one grounding per case). bench/equivalence.py runs
    the same comparison on the benchmark's 10,000 cases."""
    fast = [as_json_line(r).text for r in Engine().evaluate(generated)]
    sample = list(range(0, len(generated), 10))
    reference = Engine(chunk_size=1, straightforward=True)
    assert [as_json_line(reference.evaluate_one(generated[i])).text for i in sample] == [fast[i] for i in sample]


def _kb_with(folder: Path, rule: str) -> KnowledgeBase:
    """The installed KB's files copied to ``folder``, with ``rule`` as the file sp99_test.lp."""
    for path in kb_files():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "sp99_test.lp").write_text(rule + "\n", encoding="utf-8")
    return KnowledgeBase.at(folder)


def test_a_rule_deriving_holds_for_any_criterion_is_grounded_as_written(tmp_path):
    """A section rule `holds(C, Q) :- ...` with a variable criterion: the rewrite cannot keep its
    meaning, so the KB is grounded as written and the reason names the rule."""
    knowledge = _kb_with(tmp_path, "holds(C, Q) :- case(C), criterion(Q, \"SP-99\", _).")
    program = stratify(knowledge)
    assert not program.stratified and program.text == knowledge.text
    assert "holds(C, Q) :- case(C), criterion(Q, \"SP-99\", _)." in program.text
    assert "sp99_test.lp:1 derives holds/2 for a variable criterion" in program.reason


def test_composites_that_depend_on_a_case_are_grounded_as_written(tmp_path):
    """An any_of fact derived from case facts differs from case to case: not compiled."""
    program = stratify(_kb_with(tmp_path, "any_of(sp5_1_c3, sp1_0_initial_eval) :- age(_, 99)."))
    assert not program.stratified and "any_of depends on case facts" in program.reason
