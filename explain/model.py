"""The structured explanation of one study's decision: the one object that ``spinekb explain``
renders as text, as a graph (DOT, SVG, PNG) and as JSON (its schema: ``spinekb schema --explanation``).

    >>> from spinekb.explain import explain_study, tracing_engine
    >>> x = explain_study(tracing_engine(), case, "72148")          # doctest: +SKIP
    >>> x.denial_kind, x.answer[0].says                              # doctest: +SKIP
    ('not_yet', 'SP-5.1 requires ...')
    >>> x.to_json()["what_if"][0]["edits"][0]["action"]             # doctest: +SKIP
    'continue_treatment'

Everything here is already decided (by the solver, the KB's static structure and the what-if
program); the ``says`` fields are its words, made in :mod:`spinekb.explain.words`. The derivation
graph the picture draws is kept beside it (:attr:`StudyExplanation.graph`), built from the same atoms.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Optional

from pydantic import Field, PrivateAttr

from spinekb.bridge.records import DenialKind, ReasonKind, Record, ReviewAction
from spinekb.bridge.whatif import Edit
from spinekb.explain.graph import Explanation

#: The version of the explanation's JSON shape (``schema_version`` in every document).
SCHEMA_VERSION = "1"


class FactRead(Record):
    """A thing on record that a criterion's rules read (an evaluation, a treatment, a study ...), in
    words, with the facts the solver read for it (days shown with their dates)."""

    predicate: str
    says: str = Field(description="The thing in words, with its dates and day counts.")
    facts: tuple[str, ...] = Field((), description="The case facts behind it, as the solver read them; "
                                                   "none when the case has nothing of the kind.")


class Reading(Record):
    """A ``% reading:`` of the KB (how it reads an ambiguous passage) that a criterion rests on."""

    criterion: str
    text: str
    where: str = Field(description="kb/<file>.lp:<line> of the note.")


class AnswerReason(Record):
    """One deciding reason, in the guideline's words and with the case's own values."""

    kind: ReasonKind
    section: Optional[str] = None
    criterion: Optional[str] = None
    pathway: Optional[str] = Field(None, description="unmet, met: the pathway the condition belongs to.")
    text: str = Field("", description="The guideline's words the criterion encodes.")
    label: bool = Field(False, description="The words are the KB's own (a heading, a joined list), not a quote.")
    target: Optional[str] = Field(None, description="referral: the section sent to; alternative: the CPT code.")
    says: str = Field(description="The reason in one plain sentence.")
    leaves: tuple[str, ...] = Field((), description="The decisive leaf criteria below it: those an edit set would "
                                                    "make hold, or else those that failed.")
    facts: tuple[FactRead, ...] = Field((), description="The case facts the decisive leaves read.")
    readings: tuple[Reading, ...] = Field((), description="Readings of the KB the decisive leaves rest on.")


class EditWords(Record):
    """One edit of a what-if, as data (``edit``) and in words."""

    action: str = Field(description="The edit's action (see ``edit.action``).")
    date: Optional[dt.date] = Field(None, description="The date the action carries, if time matters.")
    criterion: Optional[str] = Field(None, description="The condition the edit helps meet (the first, if several).")
    section: Optional[str] = None
    text: str = Field("", description="The guideline's words of that condition.")
    says: str = Field(description="The action, in words a provider acts on.")
    edit: Edit


class EditSetWords(Record):
    """A smallest set of edits that makes the study approvable, and the pathway that then approves it."""

    pathway: str
    section: str
    resubmit: Optional[dt.date] = None
    documentation: bool = Field(description="Every edit only documents what may already exist.")
    edits: tuple[EditWords, ...]
    newly_met: tuple[str, ...] = Field((), description="Criteria that hold once the edits are made and did not before.")
    says: str = Field(description="The whole set as one sentence.")


class Question(Record):
    """Documentation that would decide the request, as a question a clinician can answer."""

    question: str
    criterion: Optional[str] = None
    section: Optional[str] = None
    text: str = Field("", description="The guideline's words the answer would meet.")
    action: str = Field(description="The edit a yes would stand for (document_finding, obtain_imaging ...).")


class ConditionStatus(Record):
    """A condition of a candidate pathway, met or not, with what it read (leaves) or its conditions."""

    criterion: str
    section: str
    text: str
    met: bool
    how: Literal["all of", "any of", "none of"] = Field(description="How it bears on its parent.")
    facts: tuple[str, ...] = Field((), description="Leaves: the case facts the rules read, days as dates.")
    conditions: tuple[ConditionStatus, ...] = Field((), description="Composites: their own conditions.")


class PathwayStatus(Record):
    """A candidate pathway of the study: met or not, and each of its conditions."""

    pathway: str
    section: str
    text: str
    met: bool
    addresses_case: bool = Field(description="The pathway addresses the case's presentation (in scope).")
    closest: bool = Field(False, description="Among the closest pathways of a denial.")
    unmet: int = Field(0, description="How many of its conditions do not hold.")
    conditions: tuple[ConditionStatus, ...] = ()


class Instead(Record):
    """Something the guideline supports instead: another study, or another guideline's section."""

    kind: Literal["study", "referral"]
    target: str = Field(description="The CPT code, or the section sent to (PVD-6, ONC-31.5 ...).")
    description: str = ""
    section: Optional[str] = None
    criterion: Optional[str] = None
    says: str


class StudyExplanation(Record):
    """Why one requested study was approved or denied, what would change it, and the evidence."""

    schema_version: str = SCHEMA_VERSION
    case_id: str
    kb_version: str
    request_date: dt.date
    cpt: str
    description: str
    decision: Literal["approved", "denied"]
    denial_kind: Optional[DenialKind] = Field(None, description=(
        "documentation: documenting what may already exist would approve it; not_yet: it can be approved "
        "once something is done (care, a visit, time, the right requester); not_supported: no edit helps."))
    review_action: ReviewAction
    headline: str = Field(description="The decision in one line of words.")
    answer: tuple[AnswerReason, ...] = Field(description="The deciding reasons, as evaluate's record gives them.")
    readings: tuple[Reading, ...] = Field((), description="Readings of the KB the answer rests on.")
    what_if: tuple[EditSetWords, ...] = Field((), description="The smallest edit sets that would approve it "
                                                              "(computed by clingo), at most three.")
    documentation_needed: tuple[Question, ...] = Field((), description="Questions whose answers would decide it "
                                                                      "(denial_kind documentation).")
    instead: tuple[Instead, ...] = ()
    statements: tuple[AnswerReason, ...] = Field((), description="Other statements of the guideline that applied "
                                                                 "(not indicated, conflicts).")
    pathways: tuple[PathwayStatus, ...] = Field(description="Every candidate pathway, condition by condition.")
    _graph: Explanation | None = PrivateAttr(default=None)

    @property
    def graph(self) -> Explanation:
        """The derivation graph (built from the same solver atoms) the pictures draw."""
        assert self._graph is not None, "an explanation built by explain_study has its graph"
        return self._graph

    def to_json(self) -> dict[str, Any]:
        """The explanation as JSON data (the shape of :func:`explanation_schema`; absent fields are null)."""
        return self.model_dump(mode="json", exclude_none=True)


def explanation_schema() -> dict[str, Any]:
    """The JSON Schema of ``spinekb explain --format json`` (one object per study)."""
    schema = StudyExplanation.model_json_schema(mode="serialization")
    schema["title"] = "spinekb explanation"
    schema["$id"] = f"https://spinekb.example/schema/explanation/{SCHEMA_VERSION}"
    return schema
