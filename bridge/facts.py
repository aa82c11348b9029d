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

from clingo import Function, Number, String, Symbol

from spinekb.bridge.models import Case


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
    origin = case.request.date
    facts: list[Symbol] = []
    append = facts.append

    def fact(name: str, *args: Symbol) -> None:
        if wanted is None or name in wanted:
            append(Function(name, [c, *args]))

    def day(when: dt.date) -> Symbol:
        return _number((when - origin).days)

    request = case.request
    fact("case")
    for code in request.cpt:
        fact("requested", _string(code))
    fact("purpose", _const(request.purpose))
    if request.requester:
        fact("requester", _const(request.requester))
    for technique in request.techniques:
        fact("technique", _const(technique))

    fact("age", _number(case.age_years()))
    fact("sex", _const(case.patient.sex))

    episode = case.episode
    for region in episode.regions:
        fact("region", _const(region))
    fact("condition", _const(episode.condition))
    fact("onset", day(episode.onset))
    if episode.changed:
        fact("changed", day(episode.changed))

    for e, evaluation in enumerate(case.evaluations):
        E = _number(e)
        fact("evaluation", E, day(evaluation.date), _const(evaluation.mode), _const(evaluation.kind))
        if evaluation.outcome:
            fact("evaluation_outcome", E, _const(evaluation.outcome))
        if evaluation.by:
            fact("evaluation_by", E, _const(evaluation.by))
        exam = evaluation.exam
        for m in exam.muscles:
            fact("muscle_grade", E, _const(m.muscle), _const(m.side), _number(m.grade))
        for r in exam.reflexes:
            fact("reflex_grade", E, _const(r.reflex), _const(r.side), _number(r.grade))
        for s in exam.sensory:
            fact("sensory_loss", E, _const(s.distribution))
        for s in exam.signs:
            fact("sign", E, _const(s.sign), _const(s.result))
        for kind in exam.progression:
            fact("progression", E, _const(kind))

    for finding in case.findings:
        fact("finding", _const(finding.term))
        if finding.date:
            fact("finding_day", _const(finding.term), day(finding.date))

    for t, trauma in enumerate(case.trauma):
        T = _number(t)
        fact("trauma", T, day(trauma.date))
        for factor in trauma.mechanism:
            fact("trauma_factor", T, _const(factor))
        for region in trauma.regions:
            fact("trauma_region", T, _const(region))

    for t, treatment in enumerate(case.treatments):
        T = _number(t)
        # reading: a treatment with no end is ongoing at the request, so it runs to day 0.
        end = day(treatment.end) if treatment.end else _number(0)
        fact("treatment", T, _const(treatment.kind), day(treatment.start), end)
        if treatment.end is None:
            fact("treatment_ongoing", T)
        if treatment.outcome:
            fact("treatment_outcome", T, _const(treatment.outcome))

    for score in case.pain_scores:
        fact("pain_score", day(score.date), _number(score.vas))

    for i, study in enumerate(case.prior_imaging):
        I = _number(i)
        fact("imaging", I, _const(study.modality), _const(study.region), day(study.date))
        fact("imaging_contrast", I, _const(study.contrast))
        for result in study.result:
            fact("imaging_result", I, _const(result))
        if study.available:
            fact("imaging_available", I)

    for i, implant in enumerate(case.implants):
        I = _number(i)
        fact("implant", I, _const(implant.kind))
        if implant.mri_conditional:
            fact("implant_mri_conditional", I)

    requested_at = dt.datetime.combine(origin, request.time) if request.time else None
    for p, procedure in enumerate(case.procedures):
        P = _number(p)
        fact("procedure", P, _const(procedure.kind), day(procedure.date))
        if procedure.region:
            fact("procedure_region", P, _const(procedure.region))
        if procedure.anterior:
            fact("procedure_anterior", P)
        if requested_at and procedure.time:
            elapsed = requested_at - dt.datetime.combine(procedure.date, procedure.time)
            fact("procedure_hours", P, _number(int(elapsed.total_seconds() // 3600)))

    for plan in case.plans:
        fact("plan", _const(plan.kind))
        if plan.region:
            fact("plan_region", _const(plan.kind), _const(plan.region))
        if plan.approved:
            fact("plan_approved", _const(plan.kind))
    return facts


#: The case predicates the bridge emits (name, arity): the KB's input vocabulary.
CASE_PREDICATES: frozenset[tuple[str, int]] = frozenset({
    ("case", 1), ("requested", 2), ("purpose", 2), ("requester", 2), ("technique", 2),
    ("age", 2), ("sex", 2), ("region", 2), ("condition", 2), ("onset", 2), ("changed", 2),
    ("evaluation", 5), ("evaluation_outcome", 3), ("evaluation_by", 3), ("muscle_grade", 5),
    ("reflex_grade", 5), ("sensory_loss", 3), ("sign", 4), ("progression", 3),
    ("finding", 2), ("finding_day", 3), ("trauma", 3), ("trauma_factor", 3), ("trauma_region", 3),
    ("treatment", 5), ("treatment_ongoing", 2), ("treatment_outcome", 3), ("pain_score", 3),
    ("imaging", 5), ("imaging_contrast", 3), ("imaging_result", 3), ("imaging_available", 2),
    ("implant", 3), ("implant_mri_conditional", 2), ("procedure", 4), ("procedure_region", 3),
    ("procedure_anterior", 2), ("procedure_hours", 3), ("plan", 2), ("plan_region", 3),
    ("plan_approved", 2),
})
