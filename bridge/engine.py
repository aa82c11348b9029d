"""Evaluate cases with clingo: the KB is parsed once per process, grounded once per chunk.

    >>> from spinekb.bridge.engine import Engine
    >>> engine = Engine()                      # doctest: +SKIP
    >>> [r.studies[0].decision for r in engine.evaluate(cases)]  # doctest: +SKIP

A chunk of cases (default 1,000) is grounded together in one ``clingo.Control``: every case
fact carries the case's index in the chunk, so cases never see each other and the per-case
cost is a few dozen facts, not a program. clingo keeps every symbol it has seen for the life of
a process, so long batches run in recycled worker processes (``spinekb.bridge.batch``).

The shown atoms are filed by a table of handlers keyed by (name, arity) and read through the
Symbol API; the records are built from them in canonical order (section, then criterion), so a
case gives the same bytes alone or in a chunk, and under a KB that only grew.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
import re
from functools import cache
from itertools import islice
from typing import Any, Literal, TypeVar

import clingo
from clingo import Symbol, SymbolType

from spinekb.bridge.facts import case_facts, fact_rows, readable, row_symbols
from spinekb.kb.knowledge import KnowledgeBase
from spinekb.kb.static import StaticKB
from spinekb.bridge.models import Case
from spinekb.bridge.program import stratified_program, stratify
from spinekb.bridge.records import CaseResult, Decided, Reason, ReasonKind, SolverAtoms, StudyDecision

T = TypeVar("T")
DEFAULT_CHUNK = 1000
FILTER_FROM = 100  # chunks of at least this many cases emit only the facts the KB reads
STRATIFY_FROM = 100  # ... and ground the stratified program (bridge/program.py)
TRACE_SHOW = "\n#show holds/2.\nranked(C, X, P) :- denied(C, X), pathway_study(P, X).\n"


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Engine:
    """Decides cases against the KB. Create one per process and reuse it."""

    def __init__(self, chunk_size: int = DEFAULT_CHUNK, trace: bool = False,
                 knowledge: KnowledgeBase | None = None, straightforward: bool = False,
                 kinds: bool = False) -> None:
        """``trace=True`` reports every criterion's status (for explanations and tests); a batch
        needs only what its decision records cite, and reads a third of the atoms.
        ``knowledge``: another KB to decide under (default: the installed one).
        ``straightforward=True`` is the reference the speed-ups are held to: the KB exactly as
        written, every case fact, one grounding per case (slow; for equivalence checks).
        ``kinds=True`` gives every denied study its ``denial_kind`` (``spinekb evaluate`` does):
        a denial no pathway of the case's presentation addresses is ``not_supported`` at no cost;
        any other is decided by the what-if program (:mod:`spinekb.bridge.whatif`), one clingo
        grounding per ten such studies of a chunk."""
        self.chunk_size = chunk_size
        self.trace = trace
        self.straightforward = straightforward
        self.knowledge = knowledge or KnowledgeBase.installed()
        self.kb: StaticKB = self.knowledge.static
        self._show = TRACE_SHOW if trace else ""
        self._program = self.knowledge.text + self._show
        self._stratified: str | None = None
        self._wanted: frozenset[str] | None = None
        self._filter_facts = not straightforward
        self._inputs_cache: dict[str, frozenset[str]] = {}
        self._keys: dict[str, tuple[tuple[int, ...], str]] = {}
        self.kinds = kinds
        self._whatif: Any = None

    def evaluate(self, cases: Iterable[Case]) -> Iterator[Decided]:
        """Decide every case, in input order, ``chunk_size`` cases per grounding."""
        for chunk in chunked(cases, self.chunk_size):
            yield from self.evaluate_chunk(chunk)

    def evaluate_one(self, case: Case) -> Decided:
        """Decide one case."""
        return self.evaluate_chunk([case])[0]

    def evaluate_chunk(self, cases: list[Case]) -> list[Decided]:
        """Ground and solve one chunk of cases together; one result per case, in order."""
        if self.straightforward and len(cases) > 1:
            return [decided for case in cases for decided in self.evaluate_chunk([case])]
        ctl = clingo.Control(["--warn=none"])
        ctl.add("base", [], self._program_for(len(cases)))
        wanted = self._fact_filter(len(cases))
        # the rows are built once: the facts are made of them, and so are the records' evidence
        rows = [fact_rows(case) for case in cases]
        with ctl.backend() as backend:
            for index, (case, case_rows) in enumerate(zip(cases, rows, strict=True)):
                symbols = case_facts(index, case) if self.straightforward else row_symbols(index, case_rows, wanted)
                for symbol in symbols:
                    backend.add_rule([backend.add_atom(symbol)])
        ctl.ground([("base", [])])
        atoms = [SolverAtoms() for _ in cases]
        with ctl.solve(yield_=True) as handle:
            model = handle.model()
            if model is None:  # the KB derives violations instead of constraints: cannot happen
                raise RuntimeError("the knowledge base has no answer set for this chunk")
            file = _file_by_symbol if self.straightforward else _file
            for symbol in model.symbols(shown=True):
                file(atoms, symbol)
        results = [self._result(case, found, case_rows)
                   for case, found, case_rows in zip(cases, atoms, rows, strict=True)]
        if self.kinds:
            from spinekb.bridge.whatif import WhatIfSolver, with_denial_kinds
            self._whatif = self._whatif or WhatIfSolver(self.knowledge)
            with_denial_kinds(self._whatif, cases, results)
        return results

    def _program_for(self, cases: int) -> str:
        """The KB as written for a few cases; for a large chunk, its stratified form
        (:mod:`spinekb.bridge.program`), which grounds faster but costs a rewrite once per process."""
        if self.straightforward or cases < STRATIFY_FROM:
            return self._program
        if self._stratified is None:
            program = (stratified_program(self.trace) if self.knowledge.is_installed
                       else stratify(self.knowledge, self.trace))
            self._stratified = program.text + self._show
        return self._stratified

    def _fact_filter(self, cases: int) -> frozenset[str] | None:
        """The case predicates worth emitting: those the KB reads. Working that out parses the
        KB (a few hundred ms), which pays off only on chunks of many cases."""
        if not self._filter_facts or cases < FILTER_FROM:
            return None
        if self._wanted is None:
            self._wanted = self.knowledge.structure.case_inputs
        return self._wanted

    def _result(self, case: Case, atoms: SolverAtoms, rows: list[tuple[str, tuple[Any, ...]]] | None = None) -> Decided:
        atoms.traced = self.trace
        evidence = _Evidence(case, self._inputs_below, None if self.straightforward else rows)
        studies = tuple(study_decision(self.kb, cpt, atoms, evidence, self._key) for cpt in case.request.codes)
        record = CaseResult(case_id=case.request.id, kb_version=self.kb.version, studies=studies,
                            violations=tuple(sorted(atoms.violations)))
        return Decided(record, atoms)

    def _key(self, criterion: str) -> tuple[tuple[int, ...], str]:
        """:func:`criterion_key`, remembered per criterion."""
        found = self._keys.get(criterion)
        if found is None:
            found = self._keys[criterion] = criterion_key(self.kb, criterion)
        return found

    def _inputs_below(self, criterion: str) -> frozenset[str]:
        """The case predicates read by the rules of ``criterion`` and of every criterion below it."""
        found = self._inputs_cache.get(criterion)
        if found is None:
            structure = self.knowledge.structure
            names: set[str] = set(structure.inputs_of(criterion))
            for _, child in self.kb.children(criterion):
                names |= self._inputs_below(child)
            found = self._inputs_cache[criterion] = frozenset(names - {"case"})
        return found


def _text(symbol: Symbol) -> str:
    """An argument as the records name it: strings unquoted, every other term as ASP text."""
    return symbol.string if symbol.type == SymbolType.String else str(symbol)


def _file(atoms: list[SolverAtoms], symbol: Symbol) -> None:
    """File one shown atom with its case's atoms.

    Read from the atom's text (one call into clingo) where its arguments split plainly on commas:
    a case index, quoted codes and sections, constant criteria. Anything else (a criterion with
    arguments, a string with a comma or an escape) is read through the Symbol API.
    """
    text = str(symbol)
    name, _, rest = text.partition("(")
    inner = rest[:-1]
    if "(" not in inner and "\\" not in inner:
        parts = inner.split(",")
        if all(p and p.count('"') in (0, 2) and (p[0] == '"') == (p[-1] == '"') for p in parts):
            handler = _HANDLERS.get((name, len(parts)))
            if handler is not None:
                handler(atoms[int(parts[0])], [p[1:-1] if p[0] == '"' else p for p in parts[1:]])
            return
    _file_by_symbol(atoms, symbol)


def _file_by_symbol(atoms: list[SolverAtoms], symbol: Symbol) -> None:
    """File one shown atom, read through the Symbol API."""
    arguments = symbol.arguments
    handler = _HANDLERS.get((symbol.name, len(arguments)))
    if handler is not None:
        handler(atoms[arguments[0].number], [_text(a) for a in arguments[1:]])


def _append(table: dict[Any, list[Any]], key: Any, value: Any) -> None:
    table.setdefault(key, []).append(value)


def _set_gap(atoms: SolverAtoms, a: list[str]) -> None:
    atoms.gap.setdefault(a[0], {})[a[1]] = int(a[2])


#: How each shown atom (name, arity) is filed; the case index is argument 0 and is not passed.
_HANDLERS: dict[tuple[str, int], Callable[[SolverAtoms, list[str]], None]] = {
    ("holds", 2): lambda atoms, a: atoms.holds.add(a[0]),
    ("decision", 3): lambda atoms, a: atoms.decisions.__setitem__(a[0], a[1]),
    ("supported", 3): lambda atoms, a: _append(atoms.supported, a[0], a[1]),
    ("excluded", 3): lambda atoms, a: _append(atoms.excluded, a[0], a[1]),
    ("unmet", 4): lambda atoms, a: _append(atoms.unmet, (a[0], a[1]), a[2]),
    ("gap", 4): _set_gap,
    ("closest", 3): lambda atoms, a: _append(atoms.closest, a[0], a[1]),
    ("in_scope", 3): lambda atoms, a: _append(atoms.in_scope, a[0], a[1]),
    ("alternative", 4): lambda atoms, a: _append(atoms.alternatives, a[0], (a[1], a[2])),
    ("advised_against", 3): lambda atoms, a: _append(atoms.advised_against, a[0], a[1]),
    ("redirected", 3): lambda atoms, a: atoms.redirected.append((a[0], a[1])),
    ("conflict", 4): lambda atoms, a: atoms.conflicts.append((a[0], a[1], a[2])),
    ("no_pathway", 2): lambda atoms, a: atoms.no_pathway.add(a[0]),
    ("violation", 2): lambda atoms, a: atoms.violations.append(a[0]),
}


class _Evidence:
    """The case facts a criterion's rules read, days as calendar dates (built only if asked,
    and only for the predicates asked about)."""

    def __init__(self, case: Case, inputs_below: Callable[[str], frozenset[str]],
                 rows: list[tuple[str, tuple[Any, ...]]] | None = None) -> None:
        self.case, self.inputs_below = case, inputs_below
        self._fact_rows = rows
        self._rows: dict[str, list[tuple[Any, ...]]] | None = None
        self._texts: dict[str, tuple[str, ...]] = {}

    def _of_predicate(self, name: str) -> tuple[str, ...]:
        texts = self._texts.get(name)
        if texts is None:
            if self._rows is None:
                self._rows = {}
                for row_name, arguments in self._fact_rows if self._fact_rows is not None else fact_rows(self.case):
                    self._rows.setdefault(row_name, []).append(arguments)
            origin = self.case.request.date
            texts = self._texts[name] = tuple(readable(origin, name, a).text for a in self._rows.get(name, ()))
        return texts

    def of(self, criterion: str) -> tuple[str, ...]:
        return tuple(text for name in sorted(self.inputs_below(criterion)) for text in self._of_predicate(name))


@cache
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


def criterion_key(kb: StaticKB, criterion: str) -> tuple[tuple[int, ...], str]:
    """Canonical order of criteria: by section (SP-2.10 after SP-2.9), then by id."""
    return _section_order(kb.section_of(criterion)), criterion


def study_decision(kb: StaticKB, cpt: str, atoms: SolverAtoms, evidence: _Evidence | None = None,
                   key: Callable[[str], tuple[tuple[int, ...], str]] | None = None) -> StudyDecision:
    """The typed record of one study, read off the solver's atoms, in canonical order.

    ``key``: :func:`criterion_key` of ``kb`` (an engine passes one that remembers it)."""
    decision: Literal["approved", "denied"] = "approved" if atoms.decisions.get(cpt) == "approved" else "denied"
    code = kb.codes.get(cpt)
    if key is None:
        key = lambda criterion: criterion_key(kb, criterion)  # noqa: E731
    reasons: list[Reason] = []
    criteria: list[str] = []
    pathways: list[str] = []

    def reason(kind: ReasonKind, criterion: str, pathway: str | None = None, target: str | None = None,
               facts: bool = False) -> Reason:
        return Reason(kind=kind, section=kb.section_of(criterion), criterion=criterion, pathway=pathway,
                      text=kb.text_of(criterion), label=kb.is_label(criterion), target=target,
                      facts=evidence.of(criterion) if facts and evidence else ())

    if decision == "approved":
        pathways = sorted(atoms.supported.get(cpt, []), key=key)
        for pathway in pathways:
            criteria.append(pathway)
            criteria.extend(c for c in met_criteria(kb, pathway, atoms.holds) if c not in criteria)
            reasons.append(reason("met", pathway, pathway=pathway))
    else:
        for criterion in sorted(set(atoms.excluded.get(cpt, [])), key=key):
            criteria.append(criterion)
            reasons.append(reason("excluded", criterion, facts=True))
        if cpt in atoms.no_pathway:
            reasons.append(Reason(kind="no_pathway"))
        # closest among the pathways that address the case (a tracing engine ranks every candidate:
        # its record must say what a batch's says)
        pathways = sorted(atoms.closest.get(cpt, []), key=key) if atoms.in_scope.get(cpt) else []
        for pathway in pathways:
            for condition in sorted(set(atoms.unmet.get((cpt, pathway), [])), key=key):
                if condition not in criteria:
                    criteria.append(condition)
                reasons.append(reason("unmet", condition, pathway=pathway, facts=True))
        if not pathways and cpt not in atoms.no_pathway:
            scopes = {(q, p) for p in kb.pathways_for(cpt) for q in kb.scopes.get(p, [])}
            for scope in sorted({q for q, _ in scopes}, key=key):
                reasons.append(reason("out_of_scope", scope))
        for alternative, pathway in sorted(set(atoms.alternatives.get(cpt, []))):
            reasons.append(reason("alternative", pathway, pathway=pathway, target=alternative))
    for criterion in sorted(set(atoms.advised_against.get(cpt, [])), key=key):
        reasons.append(reason("not_indicated", criterion, facts=True))
    for criterion, target in sorted(set(atoms.redirected), key=lambda ct: (key(ct[0]), ct[1])):
        reasons.append(reason("referral", criterion, target=target))
    for study, pathway, criterion in sorted(set(atoms.conflicts)):
        if study == cpt:
            reasons.append(reason("conflict", criterion, pathway=pathway))
    cited = [kb.section_of(p) for p in pathways] + [
        r.section for r in reasons if r.section and r.kind not in ("met", "unmet", "out_of_scope", "alternative")]
    sections = tuple(sorted(set(cited), key=_section_order))
    # no pathway addresses the presentation: no edit of the case can help (bridge.whatif.denial_kind)
    kind = "not_supported" if decision == "denied" and not atoms.in_scope.get(cpt) else None
    return StudyDecision(cpt=cpt, description=code.description if code else "", decision=decision,
                         sections=sections, criteria=tuple(criteria), pathways=tuple(pathways),
                         reasons=tuple(reasons), denial_kind=kind)
