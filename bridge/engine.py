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
import re
from itertools import islice
from typing import TypeVar

import clingo

from spinekb.bridge.facts import case_facts
from spinekb.bridge.kbast import kb_structure
from spinekb.bridge.kbinfo import StaticKB, static_kb
from spinekb.bridge.models import Case
from spinekb.bridge.records import CaseResult, SolverAtoms, StudyDecision
from spinekb.kb import kb_text

T = TypeVar("T")
DEFAULT_CHUNK = 1000
_NESTED = re.compile(r"\([^()]*\(")          # a parenthesis opened inside another
_TOP_COMMA = re.compile(r",(?![^()]*\))")      # a comma not inside a (one-level) argument
FILTER_FROM = 100  # chunks of at least this many cases emit only the facts the KB reads
TRACE_SHOW = "\n#show holds/2.\nranked(C, X, P) :- denied(C, X), pathway_study(P, X).\n"


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Engine:
    """Decides cases against the KB. Create one per process and reuse it."""

    def __init__(self, chunk_size: int = DEFAULT_CHUNK, trace: bool = False) -> None:
        """``trace=True`` reports every criterion's status (for explanations and tests); a batch
        needs only what its decision records cite, and reads a third of the atoms."""
        self.chunk_size = chunk_size
        self.trace = trace
        self.kb: StaticKB = static_kb()
        self._program = kb_text() + (TRACE_SHOW if trace else "")
        self._wanted: frozenset[str] | None = None
        self._filter_facts = True

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
        wanted = self._fact_filter(len(cases))
        with ctl.backend() as backend:
            for index, case in enumerate(cases):
                for symbol in case_facts(index, case, wanted):
                    backend.add_rule([backend.add_atom(symbol)])
        ctl.ground([("base", [])])
        atoms = [SolverAtoms() for _ in cases]
        with ctl.solve(yield_=True) as handle:
            model = handle.model()
            if model is None:  # the KB derives violations instead of constraints: cannot happen
                raise RuntimeError("the knowledge base has no answer set for this chunk")
            for symbol in model.symbols(shown=True):
                name, args = split_atom(str(symbol))
                _collect(atoms[int(args[0])], name, args[1:])
        return [self._result(case, found) for case, found in zip(cases, atoms)]

    def _fact_filter(self, cases: int) -> frozenset[str] | None:
        """The case predicates worth emitting: those the KB reads. Working that out parses the
        KB (a few hundred ms), which pays off only on chunks of many cases."""
        if not self._filter_facts or cases < FILTER_FROM:
            return None
        if self._wanted is None:
            self._wanted = kb_structure().case_inputs
        return self._wanted

    def _result(self, case: Case, atoms: SolverAtoms) -> CaseResult:
        atoms.traced = self.trace
        rank_pathways(self.kb, atoms)
        studies = [study_decision(self.kb, cpt, atoms) for cpt in case.request.codes]
        return CaseResult(case.request.id, self.kb.version, studies, atoms)


def rank_pathways(kb: StaticKB, atoms: SolverAtoms) -> None:
    """Fill ``gap`` and ``closest`` for each denied study from the solver's ``unmet`` atoms.

    A ranked pathway's gap is how many of its conditions the solver found unmet; the closest are
    those with the smallest gap (ties kept). Ranked are the candidates whose scope the case
    presents (``in_scope``); with ``trace`` (explanations) every candidate is ranked, the ones in
    scope first. A batch study with no candidate in scope has no closest pathway: its record
    names the presentations the candidates address instead.
    """
    for cpt, decision in atoms.decisions.items():
        if decision != "denied":
            continue
        candidates = kb.pathways_for(cpt)
        in_scope = atoms.in_scope.get(cpt, [])
        ranked = in_scope or (candidates if atoms.traced else [])
        if not ranked:
            continue
        gaps = {p: len(atoms.unmet.get((cpt, p), ())) for p in (candidates if atoms.traced else ranked)}
        atoms.gap[cpt] = gaps
        fewest = min(gaps[p] for p in ranked)
        atoms.closest[cpt] = sorted(p for p in ranked if gaps[p] == fewest)


def split_atom(text: str) -> tuple[str, list[str]]:
    """Split an atom's ASP text into its name and top-level arguments (strings unquoted).

    One ``str()`` per atom is several times faster than walking ``Symbol.arguments``:

    >>> split_atom('unmet(3,"72148",sp5_1_p_mri,sp1_0_simultaneous(lumbar))')
    ('unmet', ['3', '72148', 'sp5_1_p_mri', 'sp1_0_simultaneous(lumbar)'])
    >>> split_atom('v(1,f(g(a,b),c),"x")')
    ('v', ['1', 'f(g(a,b),c)', 'x'])
    """
    open_at = text.find("(")
    if open_at < 0:
        return text, []
    inner = text[open_at + 1:-1]
    if "\\" not in inner and not any("," in piece for piece in inner.split('"')[1::2]):
        # no escape and no comma inside a string: the common cases split without a scan
        if "(" not in inner:
            return text[:open_at], [_unquote(a) for a in inner.split(",")]
        if not _NESTED.search(inner):  # arguments nest at most one level: f(a), g(b,c)
            return text[:open_at], [_unquote(a) for a in _TOP_COMMA.split(inner)]
    args: list[str] = []
    depth, start, quoted, escaped = 0, open_at + 1, False, False
    for i in range(open_at + 1, len(text) - 1):
        ch = text[i]
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(text[start:i])
            start = i + 1
    args.append(text[start:len(text) - 1])
    return text[:open_at], [_unquote(a) for a in args]


def _unquote(arg: str) -> str:
    if len(arg) >= 2 and arg[0] == '"' and arg[-1] == '"':
        return arg[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return arg


def _collect(atoms: SolverAtoms, name: str, args: list[str]) -> None:
    """File one shown atom of a case (arguments after the case index) into its record."""
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
    elif name == "in_scope":
        atoms.in_scope.setdefault(args[0], []).append(args[1])
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


def _section_order(section: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"[0-9]+", section))


def met_criteria(kb: StaticKB, root: str, holds: set[str]) -> list[str]:
    """The criteria below a held ``root`` that carried it.

    Every child of a held all-of held, and no child of a held none-of did: that much follows
    from the KB's structure. Which branch of a held any-of held is read from ``holds``.
    """
    found: list[str] = []

    def walk(node: str) -> None:
        for how, child in kb.children(node):
            if how == "all" or (how == "any" and child in holds):
                if child not in found:
                    found.append(child)
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
        if not atoms.closest.get(cpt) and cpt not in atoms.no_pathway:
            scopes = sorted({(kb.section_of(p), q) for p in kb.pathways_for(cpt) for q in kb.scopes.get(p, [])},
                            key=lambda sq: (_section_order(sq[0]), sq[1]))
            reasons.append("no pathway for this study addresses the case's presentation; the case would "
                           "need to present one of: " + "; ".join(
                               f"{section} {q}: {kb.text_of(q)}" for section, q in scopes))
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
