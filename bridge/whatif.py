"""What would change a denial: minimal case edits found by clingo, and the denial's kind.

The what-if program (``kb/whatif/whatif.lp``) is loaded beside the decision program for one
denied study: it adds a choice over typed case edits (document a finding, see the patient in
person, continue a treatment, resubmit later ...), requires the study's approval through a
pathway that addressed the case as recorded, and minimises the number of edits, then the wait.
Every date an edit carries comes out of the solver, from the KB's own windows::

    >>> from spinekb.bridge.whatif import WhatIfSolver
    >>> solver = WhatIfSolver()                                   # doctest: +SKIP
    >>> found = solver.solve(case, decided, "72148")              # doctest: +SKIP
    >>> found.denial_kind, [e.action for e in found.sets[0].edits]  # doctest: +SKIP
    ('not_yet', ['continue_treatment', 'evaluate', 'resubmit'])

:func:`denial_kind` is the one place that says what kind a denial is (``documentation``,
``not_yet``, ``not_supported``); :func:`apply_edits` applies an edit set to a case (tests hold
every reported set to: applied, the study is approved; any one edit left out, it is not).
Nothing here is English: ``spinekb.explain`` words the edits.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, Optional, cast

import clingo
from clingo import Function, Number, String, Symbol, SymbolType
from pydantic import Field

from spinekb.bridge.facts import case_facts
from spinekb.bridge.models import Case
from spinekb.bridge.records import Decided, DenialKind, Record
from spinekb.kb import kb_dir
from spinekb.kb.inputs import CASE_TABLE
from spinekb.kb.knowledge import KnowledgeBase

#: The case predicates the what-if program takes as ``given(F)``: those with days or hours (a
#: resubmission shifts them) and the request's own facts that an edit may change.
GIVEN: frozenset[str] = frozenset(
    {p.name for p in CASE_TABLE if p.days or p.hours}
    | {"requested", "requester", "purpose", "treatment_ongoing", "imaging_available"})
#: Most optimal edit sets reported per denied study.
MAX_SETS = 3
#: Most optimal edit sets enumerated per denied study, of which the first MAX_SETS in a canonical
#: order are reported.
MAX_CANDIDATES = 50
#: Denied studies whose kinds one grounding decides (:meth:`WhatIfSolver.kinds`): measured on the
#: 45 denials of the examples, CPU per study was 176 ms one at a time, 70 ms by 5, 63 ms by 10,
#: 77 ms by 20 and 112 ms by 45 (each solve then searches a larger program).
KINDS_PER_GROUNDING = 10

EditAction = Literal["document_finding", "document_exam", "make_available", "obtain_imaging", "state_purpose",
                     "evaluate", "continue_treatment", "start_treatment", "request_by", "withdraw", "resubmit"]
#: The case predicates each kind of edit adds or changes (which criteria an edit helps meet).
EDIT_INPUTS: dict[str, frozenset[str]] = {
    "document_finding": frozenset({"finding"}),
    "document_exam": frozenset({"sign", "sensory_loss", "progression", "muscle_grade", "reflex_grade"}),
    "make_available": frozenset({"imaging_available"}),
    "obtain_imaging": frozenset({"imaging", "imaging_result", "imaging_available"}),
    "state_purpose": frozenset({"purpose"}),
    "evaluate": frozenset({"evaluation", "evaluation_outcome"}),
    "continue_treatment": frozenset({"treatment"}),
    "start_treatment": frozenset({"treatment"}),
    "request_by": frozenset({"requester"}),
    "withdraw": frozenset({"requested"}),
    "resubmit": frozenset(p.name for p in CASE_TABLE if p.days or p.hours),
}


class Edit(Record):
    """One action of a what-if: what to do, with its date where time matters, and the
    conditions of the approving pathway it helps meet."""

    action: EditAction = Field(description=(
        "document_finding: document a finding (term); document_exam: document an exam result at an "
        "evaluation on record (evaluation, exam); make_available: make the report of a study on record "
        "available to the requesting provider (imaging); obtain_imaging: have a study of the episode with "
        "its result available (modality, region, result, date: on or after); state_purpose: document the "
        "purpose (purpose); evaluate: see the patient in person (kind, date: on or after); "
        "continue_treatment: continue a provider-directed treatment on record (treatment, date: until); "
        "start_treatment: start one (kind, date: until); request_by: have the study requested by another "
        "provider (requester); withdraw: withdraw another requested study (cpt); resubmit: resubmit the "
        "request (date: on or after)."))
    documentation: bool = Field(description="The edit only documents what may already exist.")
    date: Optional[dt.date] = Field(None, description="evaluate, obtain_imaging, resubmit: the earliest date it "
                                                      "may carry; continue_treatment, start_treatment: the last day.")
    term: Optional[str] = Field(None, description="document_finding: the vocabulary term.")
    exam: Optional[str] = Field(None, description="document_exam: the result, e.g. sign(hoffmann), muscle(4).")
    evaluation: Optional[int] = Field(None, description="document_exam: index of the evaluation in the case.")
    imaging: Optional[int] = Field(None, description="make_available: index of the study in prior_imaging.")
    modality: Optional[str] = Field(None, description="obtain_imaging: the modality.")
    region: Optional[str] = Field(None, description="obtain_imaging: the region.")
    result: Optional[str] = Field(None, description="obtain_imaging: the (plainest) result that would do.")
    kind: Optional[str] = Field(None, description="evaluate: initial or reevaluation; start_treatment: the treatment.")
    treatment: Optional[int] = Field(None, description="continue_treatment: index of the treatment in the case.")
    requester: Optional[str] = Field(None, description="request_by: who should request the study.")
    cpt: Optional[str] = Field(None, description="withdraw: the study to withdraw.")
    purpose: Optional[str] = Field(None, description="state_purpose: the purpose.")
    criteria: tuple[str, ...] = Field((), description="The criteria the edit helps meet (conditions of the pathway, "
                                                      "or a rule-out it lifts), most specific last.")


class EditSet(Record):
    """Edits that, together, make the study approvable; none of them can be left out."""

    edits: tuple[Edit, ...]
    pathway: str = Field(description="The pathway that approves the study once the edits are made.")
    resubmit: Optional[dt.date] = Field(None, description="The earliest resubmission date, if the request must wait.")
    documentation: bool = Field(description="Every edit only documents what may already exist.")
    newly_met: tuple[str, ...] = Field((), description="Criteria under the pathway (or a lifted rule-out) that hold "
                                                       "once the edits are made and did not as recorded.")


class WhatIf(Record):
    """What would change the denial of one study."""

    cpt: str
    denial_kind: DenialKind
    sets: tuple[EditSet, ...] = Field((), description="The smallest edit sets (fewest edits, then the earliest "
                                                      "resubmission), at most three.")
    documentation: Optional[EditSet] = Field(None, description="When no smallest set only documents: the smallest "
                                                               "set that does (denial_kind documentation).")
    routes: tuple[str, ...] = Field((), description="The pathways that address the case as recorded.")


def denial_kind(routes: Sequence[str], sets: Sequence[EditSet], documentation: EditSet | None) -> DenialKind:
    """The kind of a denial, from what the what-if program found.

    - ``documentation``: some edit set only documents what may already exist (a finding, an exam
      result, a report, the purpose).
    - ``not_yet``: the study can be approved, but only after something is done: the patient seen,
      treatment continued, time passed, the right provider requesting it.
    - ``not_supported``: no edit helps: no pathway addresses the case, or every one that does is
      ruled out or needs what did not happen.
    """
    if not routes or not sets:
        return "not_supported"
    if documentation is not None or any(s.documentation for s in sets):
        return "documentation"
    return "not_yet"


@cache
def whatif_text() -> str:
    """The what-if program (``kb/whatif/whatif.lp``)."""
    return (kb_dir() / "whatif" / "whatif.lp").read_text(encoding="utf-8")


def _symbol(text: str) -> Symbol:
    return clingo.parse_term(text)


def _plain(symbol: Symbol) -> Any:
    if symbol.type == SymbolType.Number:
        return symbol.number
    if symbol.type == SymbolType.String:
        return symbol.string
    return str(symbol)


@dataclass
class _Found:
    """One model of the what-if program: its edits, shift, dated details and what held."""

    edits: frozenset[Symbol]
    shift: int
    evaluated: dict[str, Any]
    obtained: dict[tuple[str, str], tuple[str, int]]
    holds: set[str]


class WhatIfSolver:
    """Solves the what-if program for denied studies. Create one per process and reuse it."""

    def __init__(self, knowledge: KnowledgeBase | None = None) -> None:
        """``knowledge``: the KB the decisions were made under (default: the installed one)."""
        self.knowledge = knowledge or KnowledgeBase.installed()
        self.kb = self.knowledge.static
        self._program = self.knowledge.text + "\n%% file: whatif/whatif.lp\n" + whatif_text()

    def solve(self, case: Case, decided: Decided, cpt: str, held: Iterable[str] | None = None,
              max_sets: int = MAX_SETS) -> WhatIf | None:
        """What would approve denied study ``cpt`` of ``case`` (``decided``: its decision): the
        smallest edit sets, each with its dates and the criteria its edits help meet.

        ``held``: the criteria that held as recorded (default: the decision's ``holds`` atoms,
        complete when the engine traces); only the citations read it. ``None`` for an approved study.
        """
        if decided.atoms.decisions.get(cpt) != "denied":
            return None
        routes = _routes(decided, cpt)
        if not routes:
            return WhatIf(cpt=cpt, denial_kind="not_supported")
        held = set(decided.atoms.holds if held is None else held)
        ctl = self._ground(case, cpt, routes)
        edit_atoms = [a.literal for a in ctl.symbolic_atoms.by_signature("edit", 2)]
        edit_symbols = {a.literal: a.symbol for a in ctl.symbolic_atoms.by_signature("edit", 2)}
        detail = Function("detail", [Number(0)])
        doc_only = Function("doc_only", [Number(0)])

        # every optimal set (up to a bound), then the first in a canonical order: which sets are
        # reported must not hang on the order the solver happens to find them in
        optimal = sorted(self._optimal(ctl, MAX_CANDIDATES), key=_canonical)[:max_sets]
        sets = tuple(sorted((self._detailed(ctl, case, decided, cpt, routes, held, found, edit_atoms, edit_symbols,
                                            detail) for found in optimal),
                            key=lambda s: [e.model_dump_json() for e in s.edits]))
        documentation: EditSet | None = None
        if sets and not any(s.documentation for s in sets):
            ctl.assign_external(doc_only, True)
            docs = self._optimal(ctl, 1)
            ctl.assign_external(doc_only, False)
            if docs:
                documentation = self._detailed(ctl, case, decided, cpt, routes, held, docs[0], edit_atoms,
                                               edit_symbols, detail)
        return WhatIf(cpt=cpt, denial_kind=denial_kind(routes, sets, documentation), sets=sets,
                      documentation=documentation, routes=routes)

    def kind(self, case: Case, decided: Decided, cpt: str) -> DenialKind | None:
        """The denial kind of study ``cpt`` alone (``None`` if approved): one grounding, at most two
        satisfiability checks (is there a set that only documents? is there any?)."""
        if decided.atoms.decisions.get(cpt) != "denied":
            return None
        routes = _routes(decided, cpt)
        if not routes:
            return "not_supported"
        ctl = self._ground(case, cpt, routes)
        _solving(ctl).opt_mode = "ignore"
        ctl.assign_external(Function("doc_only", [Number(0)]), True)
        if ctl.solve().satisfiable:
            return "documentation"
        ctl.assign_external(Function("doc_only", [Number(0)]), False)
        return "not_yet" if ctl.solve().satisfiable else "not_supported"

    def kinds(self, items: Sequence[tuple[Case, Decided, str]]) -> list[DenialKind | None]:
        """The denial kind of each (case, decision, study), as :meth:`kind` gives it, with one
        grounding for them all: each denied study is a copy of its case under its own index, and
        each is asked about in turn with the other copies set aside (``set_aside/1``)."""
        kinds: list[DenialKind | None] = [None] * len(items)
        asked: list[tuple[int, Case, str, tuple[str, ...]]] = []
        for i, (case, decided, cpt) in enumerate(items):
            if decided.atoms.decisions.get(cpt) != "denied":
                continue
            routes = _routes(decided, cpt)
            if routes:
                asked.append((i, case, cpt, routes))
            else:
                kinds[i] = "not_supported"
        if not asked:
            return kinds
        ctl = self._ground_all([(case, cpt, routes) for _, case, cpt, routes in asked])
        _solving(ctl).opt_mode = "ignore"
        aside = [_literal(ctl, "set_aside", k) for k in range(len(asked))]
        doc_only = [_literal(ctl, "doc_only", k) for k in range(len(asked))]
        for literal in (*aside, *doc_only):  # free, so that each solve's assumptions decide them
            ctl.assign_external(literal, None)
        for k, (i, *_) in enumerate(asked):
            others = [lit if j != k else -lit for j, lit in enumerate(aside)]
            if ctl.solve(assumptions=[*others, doc_only[k]]).satisfiable:
                kinds[i] = "documentation"
            elif ctl.solve(assumptions=[*others, -doc_only[k]]).satisfiable:
                kinds[i] = "not_yet"
            else:
                kinds[i] = "not_supported"
        return kinds

    def feasible(self, case: Case, decided: Decided, cpt: str, edits: int) -> tuple[bool, bool]:
        """Whether some set of at most ``edits`` edits (1 to 9) makes denied study ``cpt`` approvable,
        and whether some set of fewer does: plain satisfiability checks on one grounding, apart from
        the optimisation :meth:`solve` runs."""
        routes = _routes(decided, cpt)
        if not routes:
            return False, False
        ctl = self._ground(case, cpt, routes)
        _solving(ctl).opt_mode = "ignore"
        found = []
        for bound in (edits, edits - 1):
            atom = Function("at_most", [Number(0), Number(bound)])
            ctl.assign_external(atom, True)
            found.append(bool(ctl.solve().satisfiable))
            ctl.assign_external(atom, False)
        return found[0], found[1]

    def _ground(self, case: Case, cpt: str, routes: tuple[str, ...]) -> clingo.Control:
        """The what-if program grounded for one denied study (case index 0)."""
        return self._ground_all([(case, cpt, routes)])

    def _ground_all(self, studies: Sequence[tuple[Case, str, tuple[str, ...]]]) -> clingo.Control:
        """The what-if program grounded for denied studies, the k-th as case index k."""
        ctl = clingo.Control(["--warn=none"])
        ctl.add("base", [], self._program)
        with ctl.backend() as backend:
            def fact(symbol: Symbol) -> None:
                backend.add_rule([backend.add_atom(symbol)])
            for k, (case, cpt, routes) in enumerate(studies):
                for symbol in case_facts(k, case):
                    fact(Function("given", [symbol]) if symbol.name in GIVEN else symbol)
                fact(Function("whatif", [Number(k), String(cpt)]))
                for pathway in routes:
                    fact(Function("route", [Number(k), String(cpt), _symbol(pathway)]))
        ctl.ground([("base", [])])
        return ctl

    # -- solving -----------------------------------------------------------------------------
    @staticmethod
    def _optimal(ctl: clingo.Control, max_sets: int) -> list[_Found]:
        """The optimal models, one per distinct edit set (projected on edit/2)."""
        _solving(ctl).opt_mode = "optN"
        _solving(ctl).project = "project"
        _solving(ctl).models = 0
        found: list[_Found] = []
        with ctl.solve(yield_=True) as handle:
            for model in handle:
                if model.optimality_proven:
                    found.append(_read(model))
                    if len(found) >= max_sets:
                        break
        return found

    def _detailed(self, ctl: clingo.Control, case: Case, decided: Decided, cpt: str, routes: tuple[str, ...],
                  held: set[str], found: _Found, edit_atoms: list[int], edit_symbols: dict[int, Symbol],
                  detail: Symbol) -> EditSet:
        """The edit set with its dates and results: the second pass with the edits fixed."""
        ctl.assign_external(detail, True)
        _solving(ctl).opt_mode = "opt"
        _solving(ctl).project = "no"
        assumptions = [(lit if edit_symbols[lit] in found.edits else -lit) for lit in edit_atoms]
        best: list[_Found] = []
        with ctl.solve(yield_=True, assumptions=assumptions) as handle:
            for model in handle:
                best[:] = [_read(model)]
        ctl.assign_external(detail, False)
        chosen = best[0] if best else found
        return self._edit_set(case, decided, cpt, routes, held, chosen)

    # -- records -----------------------------------------------------------------------------
    def _edit_set(self, case: Case, decided: Decided, cpt: str, routes: tuple[str, ...], held: set[str],
                  found: _Found) -> EditSet:
        origin = case.request.date
        resubmit = origin + dt.timedelta(days=found.shift) if found.shift else None
        pathway = next((p for p in routes if p in found.holds), routes[0])
        newly = found.holds - held
        unmet = [q for _, q in self.kb.children(pathway) if q not in held]
        lifted = [q for q in decided.atoms.excluded.get(cpt, []) if q not in found.holds]
        edits: list[Edit] = []
        for symbol in sorted(found.edits, key=_edit_order):
            edit = _edit(symbol, origin, found)
            cited = self._cited(edit.action, unmet, lifted, newly)
            edits.append(edit.model_copy(update={"criteria": tuple(cited)}))
        under = {q for top in [pathway, *lifted] for q in self._below(top)}
        return EditSet(edits=tuple(edits), pathway=pathway, resubmit=resubmit,
                       documentation=all(e.documentation for e in edits),
                       newly_met=tuple(sorted(q for q in newly if q in under)))

    def _cited(self, action: str, unmet: list[str], lifted: list[str], newly: set[str]) -> list[str]:
        """The unmet conditions (or lifted rule-outs) an edit helps meet: those with a newly held
        criterion below them whose rules read what the edit adds."""
        reads = EDIT_INPUTS[action]
        structure = self.knowledge.structure
        cited: list[str] = []
        for top in [*unmet, *lifted]:
            for criterion in self._below(top):
                if (criterion in newly or criterion == top) and structure.inputs_of(criterion) & reads:
                    cited.append(top)
                    break
        return cited or [*unmet, *lifted]

    def _below(self, criterion: str) -> list[str]:
        found = [criterion]
        for _, child in self.kb.children(criterion):
            found.extend(q for q in self._below(child) if q not in found)
        return found


def with_denial_kinds(solver: WhatIfSolver, cases: Sequence[Case], decided: Sequence[Decided]) -> None:
    """Put ``denial_kind`` on every denied study of ``decided`` (the records of ``cases``, in
    order), where the record has none yet; the studies that need the what-if program are asked
    about :data:`KINDS_PER_GROUNDING` at a time (:meth:`WhatIfSolver.kinds`)."""
    asked = [(n, study.cpt) for n, one in enumerate(decided) for study in one.record.studies
             if study.decision == "denied" and study.denial_kind is None]
    found: dict[tuple[int, str], DenialKind | None] = {}
    for start in range(0, len(asked), KINDS_PER_GROUNDING):
        group = asked[start:start + KINDS_PER_GROUNDING]
        kinds = solver.kinds([(cases[n], decided[n], cpt) for n, cpt in group])
        found.update(zip(group, kinds, strict=True))
    for n, one in enumerate(decided):
        studies = tuple(study.model_copy(update={"denial_kind": found[(n, study.cpt)]}) if (n, study.cpt) in found
                        else study for study in one.record.studies)
        one.record = one.record.model_copy(update={"studies": studies})


def _literal(ctl: clingo.Control, name: str, index: int) -> int:
    """The program literal of external ``name(index)`` of the what-if program."""
    atom = ctl.symbolic_atoms[Function(name, [Number(index)])]
    if atom is None:
        raise RuntimeError(f"the what-if program declares no external {name}({index})")
    return atom.literal


def _solving(ctl: clingo.Control) -> Any:
    """The control's solve configuration (``opt_mode``, ``project``, ``models``)."""
    return cast(Any, ctl.configuration).solve


def _routes(decided: Decided, cpt: str) -> tuple[str, ...]:
    """The pathways of ``cpt`` that addressed the case as recorded (the decision's in_scope/3)."""
    return tuple(sorted(set(decided.atoms.in_scope.get(cpt, []))))


def _edit_order(symbol: Symbol) -> tuple[int, str]:
    """Edits in the order a provider would do them: document, see, treat, request, resubmit."""
    order = ["document_finding", "document_exam", "make_available", "obtain_imaging", "state_purpose",
             "request_by", "withdraw", "continue_treatment", "start_treatment", "evaluate", "resubmit"]
    name = symbol.arguments[1].name
    return order.index(name) if name in order else len(order), str(symbol)


def _canonical(found: _Found) -> list[tuple[int, str]]:
    """An edit set's place among equally small ones: by its edits, in the order a provider would
    do them, then by their text."""
    return sorted(_edit_order(edit) for edit in found.edits)


def _read(model: clingo.Model) -> _Found:
    edits: set[Symbol] = set()
    shift = 0
    evaluated: dict[str, Any] = {}
    obtained: dict[tuple[str, str], tuple[str, int]] = {}
    holds: set[str] = set()
    for symbol in model.symbols(shown=True):
        name, args = symbol.name, symbol.arguments
        if name == "edit":
            edits.add(symbol)
        elif name == "shift":
            shift = args[1].number
        elif name == "evaluated":
            evaluated[str(args[1])] = _plain(args[2])
        elif name == "obtained":
            obtained[(str(args[1]), str(args[2]))] = (str(args[3]), args[4].number)
        elif name == "holds":
            holds.add(_plain(args[1]))
    return _Found(frozenset(edits), shift, evaluated, obtained, holds)


def _edit(symbol: Symbol, origin: dt.date, found: _Found) -> Edit:
    """The typed record of one edit atom ``edit(0, E)``."""
    term = symbol.arguments[1]
    action = term.name
    args = term.arguments
    day = lambda d: origin + dt.timedelta(days=d)  # noqa: E731
    documentation = action in ("document_finding", "document_exam", "make_available", "obtain_imaging",
                               "state_purpose")
    fields: dict[str, Any] = {}
    if action == "document_finding":
        fields["term"] = str(args[0])
    elif action == "document_exam":
        fields["evaluation"], fields["exam"] = args[0].number, str(args[1])
    elif action == "make_available":
        fields["imaging"] = args[0].number
    elif action == "obtain_imaging":
        modality, region = str(args[0]), str(args[1])
        result, when = found.obtained.get((modality, region), ("", 0))
        fields.update(modality=modality, region=region, result=result or None, date=day(when))
    elif action == "state_purpose":
        fields["purpose"] = str(args[0])
    elif action == "evaluate":
        kind = str(args[0])
        when = found.evaluated.get(kind, "now")
        fields.update(kind=kind, date=day(found.shift if when == "now" else int(when)))
    elif action == "continue_treatment":
        fields.update(treatment=args[0].number, date=day(found.shift))
    elif action == "start_treatment":
        fields.update(kind=str(args[0]), date=day(found.shift))
    elif action == "request_by":
        fields["requester"] = str(args[0])
    elif action == "withdraw":
        fields["cpt"] = args[0].string
    elif action == "resubmit":
        fields["date"] = day(found.shift)
    return Edit(action=action, documentation=documentation, **fields)


def apply_edits(case: Case, edits: EditSet | Iterable[Edit]) -> Case:
    """The case as it would be once ``edits`` are made (and the request resubmitted, if one of
    them says so): what the what-if program assumed, as a case file states it."""
    items = list(edits.edits if isinstance(edits, EditSet) else edits)
    data = case.model_dump(mode="json", exclude_none=True)
    origin = case.request.date
    resubmit = next((e.date for e in items if e.action == "resubmit" and e.date), None)
    request_date = resubmit or origin
    for edit in items:  # a treatment continued or started runs until the resubmission: none, no edit
        if edit.action in ("continue_treatment", "start_treatment") and (resubmit is None or edit.date != resubmit):
            raise ValueError(f"{edit.action} runs until the resubmission day; the edits resubmit "
                             f"{resubmit or 'never'}")
    continued = {e.treatment for e in items if e.action == "continue_treatment"}
    if resubmit:
        data["request"]["date"] = resubmit.isoformat()
        for i, treatment in enumerate(data.get("treatments", [])):
            if "end" not in treatment and i not in continued:
                treatment["end"] = origin.isoformat()  # stopped at the original request: as recorded
    for edit in items:
        if edit.action == "document_finding":
            data.setdefault("findings", []).append({"term": edit.term})
        elif edit.action == "document_exam":
            exam = data["evaluations"][edit.evaluation].setdefault("exam", {})
            _add_exam(exam, edit.exam or "")
        elif edit.action == "make_available":
            data["prior_imaging"][edit.imaging]["available"] = True
        elif edit.action == "obtain_imaging":
            data.setdefault("prior_imaging", []).append({
                "modality": edit.modality, "region": edit.region, "date": _iso(edit.date),
                "result": [edit.result], "available": True,
                "contrast": "without_and_with" if edit.modality == "mri" else "none"})
        elif edit.action == "state_purpose":
            data["request"]["purpose"] = edit.purpose
        elif edit.action == "evaluate":
            evaluation: dict[str, Any] = {"date": _iso(edit.date), "mode": "in_person", "kind": edit.kind}
            if edit.kind == "reevaluation":
                evaluation["outcome"] = "no_significant_improvement"
            data.setdefault("evaluations", []).append(evaluation)
        elif edit.action == "continue_treatment":
            treatment = data["treatments"][edit.treatment]
            if "end" in treatment:
                treatment["end"] = request_date.isoformat()
        elif edit.action == "start_treatment":
            data.setdefault("treatments", []).append(
                {"kind": edit.kind, "start": origin.isoformat(), "end": _iso(edit.date)})
        elif edit.action == "request_by":
            data["request"]["requester"] = edit.requester
        elif edit.action == "withdraw":
            data["request"]["cpt"] = [item for item in data["request"]["cpt"]
                                      if (item if isinstance(item, str) else item["code"]) != edit.cpt]
    return Case.model_validate(data)


def _iso(day: dt.date | None) -> str:
    assert day is not None
    return day.isoformat()


def _add_exam(exam: dict[str, Any], result: str) -> None:
    """One exam result as the case format states it (``sign(hoffmann)``, ``muscle(4)`` ...)."""
    name, _, argument = result.partition("(")
    argument = argument.rstrip(")")
    if name == "sign":
        exam.setdefault("signs", []).append({"sign": argument, "result": "positive"})
    elif name == "sensory":
        exam.setdefault("sensory", []).append({"distribution": argument})
    elif name == "progression":
        exam.setdefault("progression", []).append(argument)
    elif name == "muscle":
        exam.setdefault("muscles", []).append({"muscle": "other", "side": "left", "grade": int(argument)})
    elif name == "reflex":
        exam.setdefault("reflexes", []).append({"reflex": "other", "side": "left", "grade": int(argument)})
