"""Evaluate cases with clingo: the KB is parsed once per process, grounded once per chunk.

    >>> from spinekb.bridge.engine import Engine
    >>> engine = Engine()                      # doctest: +SKIP
    >>> [r.studies[0].decision for r in engine.evaluate(cases)]  # doctest: +SKIP

A chunk of cases (default 1,000) is grounded together in one ``clingo.Control``: every case
fact carries the case's index in the chunk, so cases never see each other and the per-case
cost is a few dozen facts, not a program. A fresh ``Control`` per chunk keeps memory flat
however long the batch: case facts use numbers and constants from a closed vocabulary, so
clingo's symbol table does not grow with the batch.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

import clingo

from spinekb.bridge.facts import case_facts
from spinekb.bridge.kbinfo import StaticKB, render, static_kb
from spinekb.bridge.models import Case
from spinekb.bridge.records import CaseResult, SolverAtoms, StudyDecision
from spinekb.kb import kb_text

T = TypeVar("T")
DEFAULT_CHUNK = 1000


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Engine:
    """Decides cases against the KB. Create one per process and reuse it."""

    def __init__(self, chunk_size: int = DEFAULT_CHUNK) -> None:
        self.chunk_size = chunk_size
        self.kb: StaticKB = static_kb()
        self._program = kb_text()

    def evaluate(self, cases: Iterable[Case]) -> Iterator[CaseResult]:
        """Decide every case, in input order, ``chunk_size`` cases per grounding."""
        for chunk in chunked(cases, self.chunk_size):
            yield from self.evaluate_chunk(chunk)

    def evaluate_one(self, case: Case) -> CaseResult:
        """Decide one case."""
        return self.evaluate_chunk([case])[0]

    def evaluate_chunk(self, cases: list[Case]) -> list[CaseResult]:
        """Ground and solve one chunk of cases together; one result per case, in order."""
        ctl = clingo.Control(["--warn=none"])
        ctl.add("base", [], self._program)
        with ctl.backend() as backend:
            for index, case in enumerate(cases):
                for symbol in case_facts(index, case):
                    backend.add_rule([backend.add_atom(symbol)])
        ctl.ground([("base", [])])
        atoms = [SolverAtoms() for _ in cases]
        with ctl.solve(yield_=True) as handle:
            model = handle.model()
            if model is None:  # the KB derives violations instead of constraints: cannot happen
                raise RuntimeError("the knowledge base has no answer set for this chunk")
            for symbol in model.symbols(shown=True):
                _collect(atoms[symbol.arguments[0].number], symbol)
        return [self._result(case, found) for case, found in zip(cases, atoms)]

    def _result(self, case: Case, atoms: SolverAtoms) -> CaseResult:
        studies = [study_decision(self.kb, cpt, atoms) for cpt in case.request.cpt]
        return CaseResult(case.request.id, self.kb.version, studies, atoms)


def _collect(atoms: SolverAtoms, symbol: clingo.Symbol) -> None:
    """File one shown atom of a case into its record."""
    name = symbol.name
    args = [render(a) for a in symbol.arguments[1:]]
    if name == "holds":
        atoms.holds.add(args[0])
    elif name == "decision":
        atoms.decisions[args[0]] = args[1]
    elif name == "supported":
        atoms.supported.setdefault(args[0], []).append(args[1])
    elif name == "excluded":
        atoms.excluded.setdefault(args[0], []).append(args[1])
    elif name == "unmet":
        atoms.unmet.setdefault((args[0], args[1]), []).append(args[2])
    elif name == "gap":
        atoms.gap.setdefault(args[0], {})[args[1]] = int(args[2])
    elif name == "closest":
        atoms.closest.setdefault(args[0], []).append(args[1])
    elif name == "alternative":
        atoms.alternatives.setdefault(args[0], []).append((args[1], args[2]))
    elif name == "advised_against":
        atoms.advised_against.setdefault(args[0], []).append(args[1])
    elif name == "redirected":
        atoms.redirected.append((args[0], args[1]))
    elif name == "conflict":
        atoms.conflicts.append((args[0], args[1], args[2]))
    elif name == "no_pathway":
        atoms.no_pathway.add(args[0])
    elif name == "violation":
        atoms.violations.append(args[0])


def met_criteria(kb: StaticKB, root: str, holds: set[str]) -> list[str]:
    """The criteria below ``root`` that held and carried it (which branch of an any-of held)."""
    found: list[str] = []

    def walk(node: str) -> None:
        for how, child in kb.children(node):
            if (child in holds) != (how == "none"):
                if child not in found:
                    found.append(child)
                if how != "none":
                    walk(child)

    walk(root)
    return found


def study_decision(kb: StaticKB, cpt: str, atoms: SolverAtoms) -> StudyDecision:
    """The typed record of one study, read off the solver's atoms."""
    decision = atoms.decisions.get(cpt, "denied")
    code = kb.codes.get(cpt)
    description = code.description if code else ""
    reasons: list[str] = []
    criteria: list[str] = []
    pathways: list[str] = []
    sections: list[str] = []

    def cite(criterion: str) -> None:
        section = kb.section_of(criterion)
        if section not in sections:
            sections.append(section)

    if decision == "approved":
        pathways = sorted(atoms.supported.get(cpt, []))
        for pathway in pathways:
            cite(pathway)
            criteria.append(pathway)
            criteria.extend(c for c in met_criteria(kb, pathway, atoms.holds) if c not in criteria)
            reasons.append(f"{kb.section_of(pathway)} {pathway}: every condition is met: "
                           f"{kb.text_of(pathway)}")
    else:
        for criterion in atoms.excluded.get(cpt, []):
            cite(criterion)
            criteria.append(criterion)
            reasons.append(f"{kb.section_of(criterion)} {criterion}: rules this study out: "
                           f"{kb.text_of(criterion)}")
        if cpt in atoms.no_pathway:
            reasons.append("no pathway of the encoded sections supports this study")
        for pathway in sorted(atoms.closest.get(cpt, [])):
            cite(pathway)
            pathways.append(pathway)
            for condition in atoms.unmet.get((cpt, pathway), []):
                if condition not in criteria:
                    criteria.append(condition)
                reasons.append(f"{kb.section_of(pathway)} {pathway}: not met: {condition}: "
                               f"{kb.text_of(condition)}")
        for alternative, pathway in sorted(atoms.alternatives.get(cpt, [])):
            reasons.append(f"instead, CPT {alternative} would be supported by {pathway} "
                           f"({kb.section_of(pathway)})")
    for criterion in atoms.advised_against.get(cpt, []):
        cite(criterion)
        reasons.append(f"{kb.section_of(criterion)} {criterion}: not indicated: {kb.text_of(criterion)}")
    for criterion, target in atoms.redirected:
        cite(criterion)
        reasons.append(f"{kb.section_of(criterion)} {criterion}: see {target}: {kb.text_of(criterion)}")
    return StudyDecision(cpt, description, decision, sections, criteria, reasons, pathways)
