"""The KB's input vocabulary: the case predicates its rules may read.

One table: each predicate's name and arity, the case field the bridge builds it from, and which
arguments are day numbers (relative to the request date) or hours. The bridge emits exactly these
facts (``spinekb.bridge.facts``); the KB's analysis (``spinekb.kb.structure``, the checks) and the
explanations (days shown as dates) read the same table::

    >>> ("requested", 2) in CASE_PREDICATES
    True
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CasePredicate:
    """One case predicate: its name and arity, the case field it comes from, and which of its
    arguments (0-based, the case index being argument 0) are day numbers or hours elapsed
    before the request."""

    name: str
    arity: int
    field: str
    days: tuple[int, ...] = ()
    hours: tuple[int, ...] = ()


#: Every case predicate the bridge emits: the KB's input vocabulary (docs/kb-conventions.md).
#: ``spinekb.bridge.facts.case_facts`` emits nothing else (tests/bridge/test_facts.py holds it
#: to this table), and the KB's analysis (structure, checks) knows its inputs from it.
CASE_TABLE: tuple[CasePredicate, ...] = (
    CasePredicate("case", 1, "(the case)"),
    CasePredicate("requested", 2, "request.cpt"),
    CasePredicate("study_technique", 3, "request.cpt[].techniques, request.techniques"),
    CasePredicate("technique", 2, "request.techniques, request.cpt[].techniques"),
    CasePredicate("purpose", 2, "request.purpose"),
    CasePredicate("requester", 2, "request.requester"),
    CasePredicate("age", 2, "patient.age, patient.birth_date"),
    CasePredicate("sex", 2, "patient.sex"),
    CasePredicate("region", 2, "episode.regions"),
    CasePredicate("condition", 2, "episode.condition"),
    CasePredicate("onset", 2, "episode.onset", (1,)),
    CasePredicate("changed", 2, "episode.changed", (1,)),
    CasePredicate("evaluation", 5, "evaluations[]", (2,)),
    CasePredicate("evaluation_outcome", 3, "evaluations[].outcome"),
    CasePredicate("evaluation_by", 3, "evaluations[].by"),
    CasePredicate("muscle_grade", 5, "evaluations[].exam.muscles"),
    CasePredicate("reflex_grade", 5, "evaluations[].exam.reflexes"),
    CasePredicate("sensory_loss", 3, "evaluations[].exam.sensory"),
    CasePredicate("sign", 4, "evaluations[].exam.signs"),
    CasePredicate("progression", 3, "evaluations[].exam.progression"),
    CasePredicate("finding", 2, "findings[].term"),
    CasePredicate("finding_day", 3, "findings[].date", (2,)),
    CasePredicate("finding_level", 3, "findings[].level"),
    CasePredicate("finding_side", 3, "findings[].side"),
    CasePredicate("trauma", 3, "trauma[]", (2,)),
    CasePredicate("trauma_factor", 3, "trauma[].mechanism"),
    CasePredicate("trauma_region", 3, "trauma[].regions"),
    CasePredicate("trauma_fall_feet", 3, "trauma[].fall_height_feet"),
    CasePredicate("trauma_fall_stairs", 3, "trauma[].fall_stairs"),
    CasePredicate("treatment", 5, "treatments[]", (3, 4)),
    CasePredicate("treatment_ongoing", 2, "treatments[].end (absent)"),
    CasePredicate("treatment_outcome", 3, "treatments[].outcome"),
    CasePredicate("treatment_self_directed", 2, "treatments[].directed_by"),
    CasePredicate("pain_score", 3, "pain_scores[]", (1,)),
    CasePredicate("imaging", 5, "prior_imaging[]", (4,)),
    CasePredicate("imaging_contrast", 3, "prior_imaging[].contrast"),
    CasePredicate("imaging_result", 3, "prior_imaging[].result"),
    CasePredicate("imaging_available", 2, "prior_imaging[].available"),
    CasePredicate("imaging_level", 3, "prior_imaging[].level"),
    CasePredicate("imaging_grade", 3, "prior_imaging[].grade"),
    CasePredicate("imaging_cobb", 3, "prior_imaging[].cobb_angle"),
    CasePredicate("implant", 3, "implants[]"),
    CasePredicate("implant_mri_conditional", 2, "implants[].mri_conditional"),
    CasePredicate("procedure", 4, "procedures[]", (3,)),
    CasePredicate("procedure_region", 3, "procedures[].region"),
    CasePredicate("procedure_anterior", 2, "procedures[].anterior, procedures[].approach"),
    CasePredicate("procedure_approach", 3, "procedures[].approach"),
    CasePredicate("procedure_revision", 2, "procedures[].revision"),
    CasePredicate("procedure_level", 3, "procedures[].level"),
    CasePredicate("procedure_hours", 3, "procedures[].time, request.time", hours=(2,)),
    CasePredicate("plan", 2, "plans[].kind"),
    CasePredicate("plan_region", 3, "plans[].region"),
    CasePredicate("plan_level", 3, "plans[].level"),
    CasePredicate("plan_approved", 2, "plans[].approved"),
)

#: The case predicates (name, arity): derived from :data:`CASE_TABLE`.
CASE_PREDICATES: frozenset[tuple[str, int]] = frozenset((p.name, p.arity) for p in CASE_TABLE)
