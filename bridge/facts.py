"""Case models -> ASP facts, built as clingo symbols (never as program text).

Every fact carries the case's batch index as its first argument, so thousands of cases
ground together in one program and no case sees another's facts. Dates become day
numbers relative to the request date (the request is day 0, a week before it is -7).
Only numbers, strings of the closed CPT table, and constants taken from validated enum
values reach clingo: free text (ids, notes) never does, so no case text can become a rule::

    >>> from spinekb.bridge.models import Case
    >>> case = Case.model_validate({
    ...     "request": {"id": "x", "date": "2024-05-01", "cpt": ["72148"], "purpose": "diagnosis"},
    ...     "patient": {"age": 54}, "episode": {"regions": ["lumbar"],
    ...     "condition": "low_back_pain", "onset": "2024-04-01"}})
    >>> [str(s) for s in case_facts(7, case)][:3]
    ['case(7)', 'requested(7,"72148")', 'purpose(7,diagnosis)']

This module is the one place that maps model fields to predicates (documented in
docs/case-format.md); adding a fact kind is one edit here.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum
from functools import cache

from dataclasses import dataclass

from collections.abc import Callable
from typing import Any, TypeVar

from clingo import Function, Number, String, Symbol

from spinekb.bridge.models import Case, level_constant
from spinekb.kb.inputs import CASE_PREDICATES, CASE_TABLE, CasePredicate  # noqa: F401  (re-exported)

T = TypeVar("T")


@cache
def _const(value: str | Enum) -> Symbol:
    """A constant from a validated enum/literal value (lower-case identifiers only)."""
    name = value.value if isinstance(value, Enum) else value
    return Function(name)


@cache
def _number(value: int) -> Symbol:
    return Number(value)


@cache
def _string(value: str) -> Symbol:
    return String(value)


def case_facts(index: int, case: Case, wanted: frozenset[str] | None = None) -> list[Symbol]:
    """The facts of one case, each with ``index`` as first argument.

    ``wanted`` limits them to the predicates the KB reads (``kbast.kb_structure().case_inputs``):
    a fact no rule reads changes no decision, and a batch need not build it. ``None``: all.
    """
    c = _number(index)
    return _emit(case, wanted, lambda name, args: Function(name, [c, *args]), _const, _number, _string)


def _plain(value: str | Enum) -> str:
    return value.value if isinstance(value, Enum) else value


def _quoted(value: str) -> str:
    return f'"{value}"'


def fact_rows(case: Case) -> list[tuple[str, tuple[Any, ...]]]:
    """The same facts as :func:`case_facts`, without the case index, as (name, arguments) with
    Python values: numbers as ``int``, constants and quoted strings as ``str`` (cheap to read)."""
    return _emit(case, None, lambda name, args: (name, args), _plain, int, _quoted)


def row_symbols(index: int, rows: list[tuple[str, tuple[Any, ...]]],
                wanted: frozenset[str] | None = None) -> list[Symbol]:
    """:func:`case_facts` made from the rows of :func:`fact_rows` (a batch builds the rows once:
    the records' evidence reads them too)::

        >>> case = Case.model_validate({
        ...     "request": {"id": "x", "date": "2024-05-01", "cpt": ["72148"], "purpose": "diagnosis"},
        ...     "patient": {"age": 54}, "episode": {"regions": ["lumbar"],
        ...     "condition": "low_back_pain", "onset": "2024-04-01"}})
        >>> row_symbols(7, fact_rows(case)) == case_facts(7, case)
        True
    """
    c = _number(index)
    return [Function(name, [c, *map(_row_value, args)]) for name, args in rows if wanted is None or name in wanted]


@cache
def _row_value(value: int | str) -> Symbol:
    """A row's value as a symbol: the inverse of ``_plain``, ``int`` and ``_quoted``."""
    if isinstance(value, int):
        return Number(value)
    return String(value[1:-1]) if value[:1] == '"' else Function(value)


def _emit(case: Case, wanted: frozenset[str] | None, make: Callable[[str, tuple[Any, ...]], T],
          const: Callable[[Any], Any], number: Callable[[int], Any], string: Callable[[str], Any]) -> list[T]:
    """The one mapping of case fields to facts; ``make``, ``const``, ``number`` and ``string``
    build them (as clingo symbols, or as plain rows)."""
    origin = case.request.date
    facts: list[T] = []
    append = facts.append

    def fact(name: str, *args: Any) -> None:
        if wanted is None or name in wanted:
            append(make(name, args))

    def day(when: dt.date) -> Any:
        return number((when - origin).days)

    def level(text: str) -> Any:
        return const(level_constant(text))

    request = case.request
    fact("case")
    for code in request.codes:
        fact("requested", string(code))
    fact("purpose", const(request.purpose))
    if request.requester:
        fact("requester", const(request.requester))
    for code, technique in request.study_techniques():
        fact("study_technique", string(code), const(technique))
    for technique in dict.fromkeys(t for _, t in request.study_techniques()):
        fact("technique", const(technique))

    fact("age", number(case.age_years()))
    fact("sex", const(case.patient.sex))

    episode = case.episode
    for region in episode.regions:
        fact("region", const(region))
    fact("condition", const(episode.condition))
    if episode.onset:
        fact("onset", day(episode.onset))
    if episode.changed:
        fact("changed", day(episode.changed))

    for e, evaluation in enumerate(case.evaluations):
        E = number(e)
        fact("evaluation", E, day(evaluation.date), const(evaluation.mode), const(evaluation.kind))
        if evaluation.outcome:
            fact("evaluation_outcome", E, const(evaluation.outcome))
        if evaluation.by:
            fact("evaluation_by", E, const(evaluation.by))
        exam = evaluation.exam
        for m in exam.muscles:
            fact("muscle_grade", E, const(m.muscle), const(m.side), number(m.grade))
        for r in exam.reflexes:
            fact("reflex_grade", E, const(r.reflex), const(r.side), number(r.grade))
        for s in exam.sensory:
            fact("sensory_loss", E, const(s.distribution))
        for sign in exam.signs:
            fact("sign", E, const(sign.sign), const(sign.result))
        for kind in exam.progression:
            fact("progression", E, const(kind))

    for finding in case.findings:
        fact("finding", const(finding.term))
        if finding.date:
            fact("finding_day", const(finding.term), day(finding.date))
        if finding.level:
            fact("finding_level", const(finding.term), level(finding.level))
        if finding.side:
            fact("finding_side", const(finding.term), const(finding.side))

    for t, trauma in enumerate(case.trauma):
        T = number(t)
        fact("trauma", T, day(trauma.date))
        for factor in trauma.mechanism:
            fact("trauma_factor", T, const(factor))
        for region in trauma.regions:
            fact("trauma_region", T, const(region))
        if trauma.fall_height_feet is not None:
            fact("trauma_fall_feet", T, number(trauma.fall_height_feet))
        if trauma.fall_stairs is not None:
            fact("trauma_fall_stairs", T, number(trauma.fall_stairs))

    for t, treatment in enumerate(case.treatments):
        T = number(t)
        # reading: a treatment with no end is ongoing at the request, so it runs to day 0.
        end = day(treatment.end) if treatment.end else number(0)
        fact("treatment", T, const(treatment.kind), day(treatment.start), end)
        if treatment.end is None:
            fact("treatment_ongoing", T)
        if treatment.outcome:
            fact("treatment_outcome", T, const(treatment.outcome))
        if treatment.directed_by == "self":
            fact("treatment_self_directed", T)

    for score in case.pain_scores:
        fact("pain_score", day(score.date), number(score.vas))

    for i, study in enumerate(case.prior_imaging):
        img = number(i)
        fact("imaging", img, const(study.modality), const(study.region), day(study.date))
        fact("imaging_contrast", img, const(study.contrast))
        for result in study.result:
            fact("imaging_result", img, const(result))
        if study.available:
            fact("imaging_available", img)
        if study.level:
            fact("imaging_level", img, level(study.level))
        if study.grade is not None:
            fact("imaging_grade", img, number(study.grade))
        if study.cobb_angle is not None:
            fact("imaging_cobb", img, number(study.cobb_angle))

    for i, implant in enumerate(case.implants):
        imp = number(i)
        fact("implant", imp, const(implant.kind))
        if implant.mri_conditional:
            fact("implant_mri_conditional", imp)

    requested_at = dt.datetime.combine(origin, request.time) if request.time else None
    for p, procedure in enumerate(case.procedures):
        P = number(p)
        fact("procedure", P, const(procedure.kind), day(procedure.date))
        if procedure.region:
            fact("procedure_region", P, const(procedure.region))
        if procedure.anterior or procedure.approach == "anterior":
            fact("procedure_anterior", P)
        if procedure.approach:
            fact("procedure_approach", P, const(procedure.approach))
        if procedure.revision:
            fact("procedure_revision", P)
        if procedure.level:
            fact("procedure_level", P, level(procedure.level))
        if requested_at and procedure.time:
            elapsed = requested_at - dt.datetime.combine(procedure.date, procedure.time)
            fact("procedure_hours", P, number(int(elapsed.total_seconds() // 3600)))

    for plan in case.plans:
        fact("plan", const(plan.kind))
        if plan.region:
            fact("plan_region", const(plan.kind), const(plan.region))
        if plan.level:
            fact("plan_level", const(plan.kind), level(plan.level))
        if plan.approved:
            fact("plan_approved", const(plan.kind))
    return facts


_BY_NAME: dict[str, CasePredicate] = {p.name: p for p in CASE_TABLE}


@dataclass(frozen=True)
class CaseFact:
    """One input fact of a case without its case index: predicate, ASP text, and the text with
    day arguments with their calendar dates (``onset(day -30 (2024-04-01))``)."""

    predicate: str
    asp: str
    text: str


def readable_facts(case: Case) -> list[CaseFact]:
    """Every input fact of ``case`` in emission order, days shown as dates (from CASE_TABLE)::

        >>> case = Case.model_validate({
        ...     "request": {"id": "x", "date": "2024-05-01", "cpt": ["72148"], "purpose": "diagnosis"},
        ...     "patient": {"age": 54}, "episode": {"regions": ["lumbar"],
        ...     "condition": "low_back_pain", "onset": "2024-04-01"}})
        >>> [f.text for f in readable_facts(case) if f.predicate == "onset"]
        ['onset(day -30 (2024-04-01))']
    """
    origin = case.request.date
    return [readable(origin, name, arguments) for name, arguments in fact_rows(case)]


def readable(origin: dt.date, name: str, arguments: tuple[Any, ...]) -> CaseFact:
    """One fact row as a reader sees it, days counted from ``origin`` (the request date)."""
    row = _BY_NAME[name]
    asp = [str(a) for a in arguments]
    shown = [f"day {a} ({origin + dt.timedelta(days=a)})" if i + 1 in row.days
             else (f"{a} h" if i + 1 in row.hours else text)
             for i, (a, text) in enumerate(zip(arguments, asp, strict=True))]
    return CaseFact(name, f"{name}({', '.join(asp)})" if asp else name,
                    f"{name}({', '.join(shown)})" if shown else name)
