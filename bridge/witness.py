"""Witnesses for check findings: a case, found by clingo, in which the finding happens.

``spinekb check`` reports statements of one section against approvals of another (*conflict*,
*tension*, *overridden*) and criteria no case can meet (*never_satisfiable*, *leaf_unsatisfiable*).
For each, :func:`find_witness` grounds the decision program with a *generating program*: choice
rules that pick one case's facts within finite domains (the case format's own values, a few
dates around the KB's windows, one or two evaluations, a treatment, a prior study ...), and a
constraint that the finding holds::

    conflict    conflict(0, X, P, Q): pathway P approves requested X while Q advises against it
    tension     the same, Q's statement being hedged
    overridden  qualifies(0, X, P) and Q holds where Q excludes X
    never_satisfiable / leaf_unsatisfiable   holds(0, Q)

The first answer (fewest optional facts, within a time budget) is turned back into a case JSON
(:func:`case_from_facts`), validated by the case model, and decided again by the engine, so the
file reproduces the finding under ``spinekb explain``. When the search proves there is no answer,
the witness says so, naming the domains searched; when it runs out of time, it says that instead.

Only the case predicates the finding's criteria read (transitively) are generated; the others stay
empty, as in a case that does not mention them.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from functools import cache
from typing import Any, Literal

import clingo
from clingo import Number, Symbol, SymbolType

from spinekb.bridge.engine import Engine
from spinekb.bridge.models import Case
from spinekb.kb.inputs import CASE_PREDICATES
from spinekb.kb.knowledge import KnowledgeBase

#: The checks witnesses are searched for.
WITNESSED = ("conflict", "tension", "overridden", "never_satisfiable", "leaf_unsatisfiable")
REQUEST_DATE = dt.date(2024, 5, 1)
#: Days before the request a generated date may fall on: both sides of the KB's usual windows.
DAYS = (0, -1, -5, -7, -14, -30, -41, -50, -59, -61, -89, -91, -100, -179, -181, -200, -364, -366, -400, -800)
AGES = (8, 17, 18, 25, 45, 49, 51, 64, 66, 70, 71, 80)
SEARCH_SECONDS = 20.0

Status = Literal["found", "none", "timeout", "invalid"]


@dataclass
class Witness:
    """The outcome of one search: a case (as JSON data) that shows the finding, or why there is none."""

    status: Status
    case: dict[str, Any] | None = None
    note: str = ""
    seconds: float = 0.0
    facts: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Domains: the case format's values (its JSON Schema), numbers around the KB's thresholds


@cache
def _enums() -> dict[tuple[str, str], tuple[str, ...]]:
    """(model, field) -> the values the case format allows, read from its JSON Schema."""
    schema = Case.model_json_schema()
    defs = schema.get("$defs", {})
    found: dict[tuple[str, str], tuple[str, ...]] = {}

    def values(spec: dict[str, Any]) -> tuple[str, ...] | None:
        if "enum" in spec:
            return tuple(v for v in spec["enum"] if v is not None)
        if "$ref" in spec:
            return values(defs.get(spec["$ref"].rsplit("/", 1)[-1], {}))
        if "items" in spec:
            return values(spec["items"])
        for option in spec.get("anyOf", ()):
            got = values(option)
            if got:
                return got
        return None

    for name, definition in [*defs.items(), ("Case", schema)]:
        for prop, spec in definition.get("properties", {}).items():
            got = values(spec)
            if got:
                found[(name, prop)] = got
    return found


def _enum(model: str, prop: str) -> tuple[str, ...]:
    return _enums()[(model, prop)]


def _facts(name: str, rows: Iterable[tuple[Any, ...]]) -> str:
    return "".join(f"{name}({', '.join(_term(v) for v in row)}).\n" for row in rows)


def _term(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    return f'"{value}"' if not str(value).replace("_", "").isalnum() or str(value)[:1].isupper() or \
        str(value)[:1].isdigit() else str(value)


def generating_program(inputs: frozenset[str], terms: Iterable[str]) -> str:
    """Choice rules over one case's facts (case index 0), for the case predicates ``inputs``."""
    e = _enum
    parts = [
        "case(0).\n",
        _facts("w_day", [(d,) for d in DAYS]), _facts("w_age", [(a,) for a in AGES]),
        _facts("w_purpose", [(v,) for v in e("Request", "purpose")]),
        _facts("w_requester", [(v,) for v in e("Request", "requester")]),
        _facts("w_technique", [(v,) for v in e("Request", "techniques")]),
        _facts("w_sex", [(v,) for v in e("Patient", "sex")]),
        _facts("w_region", [(v,) for v in e("Episode", "regions")]),
        _facts("w_condition", [(v,) for v in e("Episode", "condition")]),
        _facts("w_mode", [(v,) for v in e("Evaluation", "mode")]),
        _facts("w_ekind", [(v,) for v in e("Evaluation", "kind")]),
        _facts("w_outcome", [(v,) for v in e("Evaluation", "outcome")]),
        _facts("w_muscle", [(v,) for v in e("MuscleGrade", "muscle")]),
        _facts("w_side", [(v,) for v in e("MuscleGrade", "side")]),
        _facts("w_reflex", [(v,) for v in e("ReflexGrade", "reflex")]),
        _facts("w_sensory", [(v,) for v in e("SensoryLoss", "distribution")]),
        _facts("w_sign", [(v,) for v in e("SignResult", "sign")]),
        _facts("w_signres", [(v,) for v in e("SignResult", "result")]),
        _facts("w_progression", [(v,) for v in e("Exam", "progression")]),
        _facts("w_term", [(t,) for t in terms]),
        _facts("w_mechanism", [(v,) for v in e("Trauma", "mechanism")]),
        _facts("w_tkind", [(v,) for v in e("Treatment", "kind")]),
        _facts("w_modality", [(v,) for v in e("PriorImaging", "modality")]),
        _facts("w_iregion", [(v,) for v in e("PriorImaging", "region")]),
        _facts("w_contrast", [(v,) for v in e("PriorImaging", "contrast")]),
        _facts("w_result", [(v,) for v in e("PriorImaging", "result")]),
        _facts("w_implant", [(v,) for v in e("Implant", "kind")]),
        _facts("w_pkind", [(v,) for v in e("Procedure", "kind")]),
        _facts("w_approach", [(v,) for v in e("Procedure", "approach")]),
        _facts("w_plan", [(v,) for v in e("Plan", "kind")]),
        # always there: the request's purpose, the patient, the episode
        "1 { purpose(0, P) : w_purpose(P) } 1.\n",
        "1 { age(0, A) : w_age(A) } 1.\n",
        "1 { sex(0, S) : w_sex(S) } 1.\n",
        "1 { region(0, R) : w_region(R) } 2.\n",
        "1 { condition(0, K) : w_condition(K) } 1.\n",
    ]
    rules = {
        "requester": "{ requester(0, R) : w_requester(R) } 1.\n",
        "technique": "{ technique(0, T) : w_technique(T) } 1.\n"
                     "study_technique(0, X, T) :- technique(0, T), requested(0, X).\n",
        "onset": "{ onset(0, D) : w_day(D), D < 0 } 1.\n",
        "changed": "{ changed(0, D) : w_day(D), D < 0 } 1.\n",
        "evaluation": "w_slot(0..1).\n{ evaluation(0, E, D, M, K) : w_day(D), w_mode(M), w_ekind(K) } 1 :- w_slot(E).\n"
                      ":- evaluation(0, 1, _, _, _), not evaluation(0, 0, _, _, _).\n",
        "evaluation_outcome": "{ evaluation_outcome(0, E, O) : w_outcome(O) } 1 :- evaluation(0, E, _, _, _).\n",
        "evaluation_by": "{ evaluation_by(0, E, R) : w_requester(R) } 1 :- evaluation(0, E, _, _, _).\n",
        "muscle_grade": "{ muscle_grade(0, 0, M, S, G) : w_muscle(M), w_side(S), G = (2; 3; 5) } 2 :- "
                        "evaluation(0, 0, _, _, _).\n",
        "reflex_grade": "{ reflex_grade(0, 0, R, S, G) : w_reflex(R), w_side(S), G = (0; 2; 4) } 2 :- "
                        "evaluation(0, 0, _, _, _).\n",
        "sensory_loss": "{ sensory_loss(0, 0, S) : w_sensory(S) } 1 :- evaluation(0, 0, _, _, _).\n",
        "sign": "{ sign(0, 0, S, R) : w_sign(S), w_signres(R) } 2 :- evaluation(0, 0, _, _, _).\n",
        "progression": "{ progression(0, 0, P) : w_progression(P) } 1 :- evaluation(0, 0, _, _, _).\n",
        "finding": "{ finding(0, T) : w_term(T) } 3.\n",
        "finding_day": "{ finding_day(0, T, D) : w_day(D) } 1 :- finding(0, T).\n",
        "finding_side": "{ finding_side(0, T, S) : w_side(S) } 1 :- finding(0, T).\n",
        "trauma": "{ trauma(0, 0, D) : w_day(D) } 1.\n",
        "trauma_factor": "1 { trauma_factor(0, 0, F) : w_mechanism(F) } 2 :- trauma(0, 0, _).\n",
        "trauma_region": "1 { trauma_region(0, 0, R) : w_region(R) } 1 :- trauma(0, 0, _).\n",
        "trauma_fall_feet": "{ trauma_fall_feet(0, 0, F) : F = (2; 3; 6) } 1 :- trauma(0, 0, _).\n",
        "trauma_fall_stairs": "{ trauma_fall_stairs(0, 0, N) : N = (4; 6) } 1 :- trauma(0, 0, _).\n",
        "treatment": "{ treatment(0, 0, K, S, E) : w_tkind(K), w_day(S), w_day(E), S < E, S < 0 } 1.\n",
        "treatment_ongoing": "{ treatment_ongoing(0, 0) } :- treatment(0, 0, _, _, 0).\n",
        "treatment_outcome": "{ treatment_outcome(0, 0, O) : w_outcome(O) } 1 :- treatment(0, 0, _, _, _).\n",
        "treatment_self_directed": "{ treatment_self_directed(0, 0) } :- treatment(0, 0, _, _, _).\n",
        "pain_score": "{ pain_score(0, D, V) : w_day(D), V = (5; 8; 9) } 1.\n",
        "imaging": "{ imaging(0, 0, M, R, D) : w_modality(M), w_iregion(R), w_day(D) } 1.\n"
                   "1 { imaging_contrast(0, 0, C) : w_contrast(C) } 1 :- imaging(0, 0, _, _, _).\n",
        "imaging_result": "1 { imaging_result(0, 0, R) : w_result(R) } 2 :- imaging(0, 0, _, _, _).\n",
        "imaging_available": "{ imaging_available(0, 0) } :- imaging(0, 0, _, _, _).\n",
        "imaging_grade": "{ imaging_grade(0, 0, G) : G = (1; 2; 3) } 1 :- imaging(0, 0, _, _, _).\n",
        "imaging_cobb": "{ imaging_cobb(0, 0, A) : A = (5; 10; 20; 40) } 1 :- imaging(0, 0, _, _, _).\n",
        "implant": "{ implant(0, 0, K) : w_implant(K) } 1.\n",
        "implant_mri_conditional": "{ implant_mri_conditional(0, 0) } :- implant(0, 0, _).\n",
        "procedure": "{ procedure(0, 0, K, D) : w_pkind(K), w_day(D) } 1.\n",
        "procedure_region": "{ procedure_region(0, 0, R) : w_region(R) } 1 :- procedure(0, 0, _, _).\n",
        "procedure_approach": "{ procedure_approach(0, 0, A) : w_approach(A) } 1 :- procedure(0, 0, _, _).\n"
                              "procedure_anterior(0, 0) :- procedure_approach(0, 0, anterior).\n",
        "procedure_revision": "{ procedure_revision(0, 0) } :- procedure(0, 0, _, _).\n",
        "procedure_hours": "{ procedure_hours(0, 0, H) : H = (2; 12; 30) } 1 :- procedure(0, 0, _, 0).\n",
        "plan": "{ plan(0, K) : w_plan(K) } 2.\n",
        "plan_region": "{ plan_region(0, K, R) : w_region(R) } 1 :- plan(0, K).\n",
        "plan_approved": "{ plan_approved(0, K) } :- plan(0, K).\n",
    }
    # a sub-fact needs its parent: generate the parent whenever a child is read
    parents = {"evaluation_outcome": "evaluation", "evaluation_by": "evaluation", "muscle_grade": "evaluation",
               "reflex_grade": "evaluation", "sensory_loss": "evaluation", "sign": "evaluation",
               "progression": "evaluation", "finding_day": "finding", "finding_side": "finding",
               "trauma_factor": "trauma", "trauma_region": "trauma", "trauma_fall_feet": "trauma",
               "trauma_fall_stairs": "trauma", "treatment_ongoing": "treatment", "treatment_outcome": "treatment",
               "treatment_self_directed": "treatment", "imaging_result": "imaging", "imaging_available": "imaging",
               "imaging_grade": "imaging", "imaging_cobb": "imaging", "imaging_contrast": "imaging",
               "implant_mri_conditional": "implant", "procedure_region": "procedure",
               "procedure_approach": "procedure", "procedure_anterior": "procedure", "procedure_revision": "procedure",
               "procedure_hours": "procedure", "plan_region": "plan", "plan_approved": "plan",
               "study_technique": "technique"}
    wanted = set(inputs) | {parents[i] for i in inputs if i in parents}
    if "procedure_anterior" in wanted:
        wanted.add("procedure_approach")
    # what the case format requires of an item: a trauma's mechanism and region, a study's result
    if "trauma" in wanted:
        wanted |= {"trauma_region", "trauma_factor"}
    if "imaging" in wanted:
        wanted.add("imaging_result")
    parts += [rules[name] for name in sorted(wanted) if name in rules]
    # fewest optional facts first: a witness a person can read
    parts.append("#minimize { 1@1, F : w_optional(F) }.\n")
    parts += [f"w_optional({name}(A, B)) :- {name}(0, A, B).\n" for name in ("finding_day", "finding_side",
                                                                             "evaluation_outcome", "plan_region")]
    parts += ["w_optional(finding(T)) :- finding(0, T).\n",
              "w_optional(evaluation(E)) :- evaluation(0, E, _, _, _).\n",
              "w_optional(treatment) :- treatment(0, 0, _, _, _).\n",
              "w_optional(imaging) :- imaging(0, 0, _, _, _).\n",
              "w_optional(trauma) :- trauma(0, 0, _).\n", "w_optional(procedure) :- procedure(0, 0, _, _).\n",
              "w_optional(plan(K)) :- plan(0, K).\n", "w_optional(implant) :- implant(0, 0, _).\n",
              "w_optional(region(R)) :- region(0, R).\n", "w_optional(pain(D)) :- pain_score(0, D, _).\n",
              "w_optional(onset) :- onset(0, _).\n", "w_optional(requester) :- requester(0, _).\n"]
    return "".join(parts)


def domains_text(inputs: frozenset[str]) -> str:
    """The domains a search covered, in words (for the statement that no witness exists)."""
    generated = sorted(i for i in inputs if i != "case")
    return ("one case requesting one or two of the finding's studies and at most one other; purpose, "
            f"age ({', '.join(map(str, AGES))}), sex, "
            f"one or two regions and a condition from the case format's values; dates {min(DAYS)} to 0 days "
            f"before the request ({len(DAYS)} values); up to 2 evaluations, 1 treatment, 1 prior study, 1 trauma, "
            f"1 procedure, 3 findings, 2 plans; the case predicates generated: {', '.join(generated)}")


# ---------------------------------------------------------------------------------------------
# The goal of each finding


def goal_program(check: str, criteria: tuple[str, ...], codes: tuple[str, ...]) -> str:
    """The constraint that the finding holds for case 0, as ASP."""
    q = criteria[0]
    lines = [f"w_q({q}).\n"]
    if check in ("conflict", "tension", "overridden"):
        lines += [f"w_p({p}).\n" for p in criteria[1:]]
        lines += [f'w_x("{x}").\n' for x in codes]
        lines.append("1 { requested(0, X) : w_x(X) } 2.\n")  # one of the finding's studies, or two
        lines.append("{ requested(0, Y) : cpt(Y, _, _, _, _), not w_x(Y) } 1.\n")  # a study requested beside it
        lines.append("w_optional(study(Y)) :- requested(0, Y).\n")
        if check == "overridden":
            lines.append("w_goal :- requested(0, X), qualifies(0, X, P), w_p(P), w_q(Q), holds(0, Q), "
                         "excludes(Q, X).\n")
        else:
            lines.append("w_goal :- conflict(0, X, P, Q), w_p(P), w_q(Q).\n")
    else:
        lines.append('1 { requested(0, X) : cpt(X, _, _, _, _) } 2.\n')
        lines.append("w_goal :- w_q(Q), holds(0, Q).\n")
    lines.append(":- not w_goal.\n")
    return "".join(lines)


def goal_inputs(knowledge: KnowledgeBase, criteria: Iterable[str]) -> frozenset[str]:
    """The case predicates the criteria's rules read, theirs and their sub-criteria's, and the
    scopes of the pathways among them."""
    kb, structure = knowledge.static, knowledge.structure
    seen: set[str] = set()
    stack = [c for c in criteria]
    for c in list(stack):
        stack.extend(kb.scopes.get(c, ()))
    names: set[str] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        names |= structure.inputs_of(node)
        stack.extend(child for _, child in kb.children(node))
    return frozenset(n for n in names if (n, _arity(n)) in CASE_PREDICATES)


def _arity(name: str) -> int:
    return next(a for n, a in CASE_PREDICATES if n == name)


def find_witness(check: str, criteria: tuple[str, ...], codes: tuple[str, ...],
                 knowledge: KnowledgeBase | None = None, seconds: float = SEARCH_SECONDS,
                 case_id: str = "witness") -> Witness:
    """Search a case in which the finding (``check`` over ``criteria`` and ``codes``) holds."""
    knowledge = knowledge or KnowledgeBase.installed()
    started = time.perf_counter()
    narrow = goal_inputs(knowledge, criteria)
    found = _search(check, criteria, codes, knowledge, narrow, seconds / 2, case_id)
    if found.status in ("none", "timeout"):
        # the facts another study's pathways read may matter too: search every case predicate
        wide = frozenset(name for name, _ in CASE_PREDICATES)
        left = max(1.0, seconds - (time.perf_counter() - started))
        found = _search(check, criteria, codes, knowledge, wide, left, case_id)
    found.seconds = time.perf_counter() - started
    return found


def _search(check: str, criteria: tuple[str, ...], codes: tuple[str, ...], knowledge: KnowledgeBase,
            inputs: frozenset[str], seconds: float, case_id: str) -> Witness:
    """One search over the case predicates ``inputs``."""
    from spinekb.kb.vocabulary import vocabulary

    program = (knowledge.text + "\n" + generating_program(inputs, sorted(vocabulary()))
               + goal_program(check, criteria, codes))
    started = time.perf_counter()
    ctl = clingo.Control(["--warn=none", "--opt-mode=opt", "--models=0"])
    ctl.add("base", [], program)
    ctl.ground([("base", [])])
    best: list[Symbol] = []

    def on_model(model: clingo.Model) -> None:
        best[:] = [s for s in model.symbols(atoms=True) if (s.name, len(s.arguments)) in CASE_PREDICATES
                   and s.arguments and s.arguments[0] == Number(0)]

    left = max(1.0, seconds - (time.perf_counter() - started))
    with ctl.solve(on_model=on_model, async_=True) as handle:
        finished = handle.wait(left)
        if not finished:
            handle.cancel()
        result = handle.get()
    took = time.perf_counter() - started
    if not best:
        if result.unsatisfiable and finished:
            return Witness("none", note="no case exists within the domains searched: " + domains_text(inputs),
                           seconds=took)
        return Witness("timeout", note=f"the search found no case within {seconds:.0f} s (domains: "
                       + domains_text(inputs) + ")", seconds=took)
    data = case_from_facts(best, case_id)
    try:
        case = Case.model_validate(data)
    except ValueError as error:
        return Witness("invalid", data, note=f"the facts found make no valid case: {error}", seconds=took,
                       facts=[str(s) for s in best])
    if not _reproduces(check, criteria, case, knowledge):
        return Witness("invalid", data, note="the case built from the facts found does not reproduce the finding",
                       seconds=took, facts=[str(s) for s in best])
    return Witness("found", data, seconds=took, facts=[str(s) for s in best])


def _reproduces(check: str, criteria: tuple[str, ...], case: Case, knowledge: KnowledgeBase) -> bool:
    """Decide the witness again, as `spinekb explain` will: does the finding happen?"""
    decided = Engine(trace=True, knowledge=knowledge).evaluate_one(case)
    q, pathways = criteria[0], set(criteria[1:])
    if check in ("conflict", "tension"):
        return any(p in pathways and c == q for _, p, c in decided.atoms.conflicts)
    if check == "overridden":
        return q in decided.atoms.holds and any(p in decided.atoms.holds for p in pathways)
    return q in decided.atoms.holds


# ---------------------------------------------------------------------------------------------
# Facts back into a case


def _value(symbol: Symbol) -> Any:
    if symbol.type == SymbolType.Number:
        return symbol.number
    if symbol.type == SymbolType.String:
        return symbol.string
    return str(symbol)


def _date(days: int) -> str:
    return (REQUEST_DATE + dt.timedelta(days=days)).isoformat()


def case_from_facts(facts: Iterable[Symbol], case_id: str = "witness") -> dict[str, Any]:
    """The case JSON whose facts are ``facts`` (case index 0): the inverse of the bridge's mapping
    for the predicates a witness search generates."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for fact in facts:
        rows.setdefault(fact.name, []).append(tuple(_value(a) for a in fact.arguments[1:]))

    def one(name: str, default: Any = None) -> Any:
        found = rows.get(name)
        return found[0][0] if found else default

    techniques = sorted({t for (t,) in rows.get("technique", [])})
    request: dict[str, Any] = {"id": case_id, "date": REQUEST_DATE.isoformat(),
                               "cpt": sorted(x for (x,) in rows.get("requested", [])),
                               "purpose": one("purpose", "diagnosis")}
    if one("requester"):
        request["requester"] = one("requester")
    if techniques:
        request["techniques"] = techniques
    episode: dict[str, Any] = {"regions": sorted(r for (r,) in rows.get("region", [])) or ["lumbar"],
                               "condition": one("condition", "low_back_pain")}
    if one("onset") is not None:
        episode["onset"] = _date(one("onset"))
    if one("changed") is not None:
        episode["changed"] = _date(one("changed"))
    case: dict[str, Any] = {"request": request, "patient": {"age": one("age", 50), "sex": one("sex", "female")},
                            "episode": episode}
    evaluations = []
    for e, day, mode, kind in sorted(rows.get("evaluation", [])):
        evaluation: dict[str, Any] = {"date": _date(day), "mode": mode, "kind": kind}
        outcome = [o for i, o in rows.get("evaluation_outcome", []) if i == e]
        by = [b for i, b in rows.get("evaluation_by", []) if i == e]
        if outcome:
            evaluation["outcome"] = outcome[0]
        if by:
            evaluation["by"] = by[0]
        exam = {
            "muscles": [{"muscle": m, "side": s, "grade": g} for i, m, s, g in rows.get("muscle_grade", []) if i == e],
            "reflexes": [{"reflex": r, "side": s, "grade": g} for i, r, s, g in rows.get("reflex_grade", []) if i == e],
            "sensory": [{"distribution": d} for i, d in rows.get("sensory_loss", []) if i == e],
            "signs": [{"sign": s, "result": r} for i, s, r in rows.get("sign", []) if i == e],
            "progression": [p for i, p in rows.get("progression", []) if i == e],
        }
        exam = {k: v for k, v in exam.items() if v}
        if exam:
            evaluation["exam"] = exam
        evaluations.append(evaluation)
    if evaluations:
        case["evaluations"] = evaluations
    findings = []
    for (term,) in sorted(rows.get("finding", [])):
        finding: dict[str, Any] = {"term": term}
        for t, day in rows.get("finding_day", []):
            if t == term:
                finding["date"] = _date(day)
        for t, side in rows.get("finding_side", []):
            if t == term:
                finding["side"] = side
        findings.append(finding)
    if findings:
        case["findings"] = findings
    def of(name: str, index: Any) -> list[tuple[Any, ...]]:
        """The rows of ``name`` about item ``index``, without the index."""
        return [row[1:] for row in rows.get(name, []) if row[0] == index]

    traumas = []
    for t, day in sorted(rows.get("trauma", [])):
        trauma: dict[str, Any] = {"date": _date(day), "mechanism": sorted(f for (f,) in of("trauma_factor", t)),
                                  "regions": sorted(r for (r,) in of("trauma_region", t))}
        for name, key in (("trauma_fall_feet", "fall_height_feet"), ("trauma_fall_stairs", "fall_stairs")):
            if of(name, t):
                trauma[key] = of(name, t)[0][0]
        traumas.append({k: v for k, v in trauma.items() if v != []})
    if traumas:
        case["trauma"] = traumas
    treatments = []
    for t, kind, start, end in sorted(rows.get("treatment", [])):
        treatment: dict[str, Any] = {"kind": kind, "start": _date(start)}
        if not of("treatment_ongoing", t):
            treatment["end"] = _date(end)
        if of("treatment_outcome", t):
            treatment["outcome"] = of("treatment_outcome", t)[0][0]
        if of("treatment_self_directed", t):
            treatment["directed_by"] = "self"
        treatments.append(treatment)
    if treatments:
        case["treatments"] = treatments
    if rows.get("pain_score"):
        case["pain_scores"] = [{"date": _date(d), "vas": v} for d, v in sorted(rows["pain_score"])]
    studies = []
    for i, modality, region, day in sorted(rows.get("imaging", [])):
        contrast = of("imaging_contrast", i)
        study: dict[str, Any] = {"modality": modality, "region": region, "date": _date(day),
                                 "contrast": contrast[0][0] if contrast else "none",
                                 "result": sorted(r for (r,) in of("imaging_result", i)),
                                 "available": bool(of("imaging_available", i))}
        for name, key in (("imaging_grade", "grade"), ("imaging_cobb", "cobb_angle")):
            if of(name, i):
                study[key] = of(name, i)[0][0]
        studies.append(study)
    if studies:
        case["prior_imaging"] = studies
    implants = [{"kind": kind, "mri_conditional": bool(of("implant_mri_conditional", i))}
                for i, kind in sorted(rows.get("implant", []))]
    if implants:
        case["implants"] = implants
    procedures = []
    for i, kind, day in sorted(rows.get("procedure", [])):
        procedure: dict[str, Any] = {"kind": kind, "date": _date(day)}
        if of("procedure_region", i):
            procedure["region"] = of("procedure_region", i)[0][0]
        if of("procedure_approach", i):
            procedure["approach"] = of("procedure_approach", i)[0][0]
        elif of("procedure_anterior", i):
            procedure["anterior"] = True
        if of("procedure_revision", i):
            procedure["revision"] = True
        procedures.append(procedure)
    if procedures:
        case["procedures"] = procedures
    plans = []
    for (kind,) in sorted(rows.get("plan", [])):
        plan: dict[str, Any] = {"kind": kind}
        for k, region in rows.get("plan_region", []):
            if k == kind:
                plan["region"] = region
        if (kind,) in rows.get("plan_approved", []):
            plan["approved"] = True
        plans.append(plan)
    if plans:
        case["plans"] = plans
    return case


def witness_json(witness: Witness) -> str:
    """A witness case as the file `spinekb explain` reads."""
    return json.dumps(witness.case, indent=2) + "\n"



def witness_file(number: int, check: str, criterion: str) -> str:
    """The file name of a finding's witness: ``07-conflict-sp1_2_aortic.json``."""
    safe = "".join(ch if ch.isalnum() or ch in "_-" else "-" for ch in criterion).strip("-")
    return f"{number:02d}-{check}-{safe}.json"


def write_witnesses(findings: Iterable[tuple[int, str, tuple[str, ...], tuple[str, ...]]], folder: str | Path,
                    knowledge: KnowledgeBase | None = None, seconds: float = SEARCH_SECONDS) -> list[dict[str, Any]]:
    """Search a witness for each finding (number, check, criteria, codes) and write it to ``folder``:
    a case file per witness found, and ``index.json`` with every finding's outcome."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    index = []
    for number, check, criteria, codes in findings:
        name = witness_file(number, check, criteria[0])
        witness = find_witness(check, criteria, codes, knowledge, seconds, case_id=name.removesuffix(".json"))
        entry: dict[str, Any] = {"finding": number, "check": check, "criteria": list(criteria),
                                 "codes": list(codes), "status": witness.status, "seconds": round(witness.seconds, 1)}
        if witness.status == "found":
            (out / name).write_text(witness_json(witness), encoding="utf-8")
            entry["file"] = name
            entry["explain"] = f"spinekb explain {out / name}"
        else:
            entry["note"] = witness.note
            if witness.case is not None:  # facts found, but no valid or reproducing case: kept for a look
                (out / ("unverified-" + name)).write_text(witness_json(witness), encoding="utf-8")
                entry["facts"] = witness.facts
        index.append(entry)
    (out / "index.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    return index
