"""Typed decision records: what the solver decided for one case, study by study.

Records are pydantic models, so the JSON output has a schema (``spinekb schema --output``).
A reason is data, not words: its kind, the section and criterion behind it, the guideline's own
words, and the case facts its rules read (days as calendar dates). ``spinekb.explain`` words
reasons for people; nothing here is English beyond the guideline's quotes::

    >>> Reason(kind="unmet", section="SP-5.1", criterion="sp5_1_c3", pathway="sp5_1_p_mri").kind
    'unmet'
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, computed_field

ReasonKind = Literal["met", "unmet", "excluded", "not_indicated", "referral", "alternative",
                     "conflict", "no_pathway", "out_of_scope"]
#: The X12 278 review action (X12 code list 306, as Da Vinci PAS carries it): A1 certified in
#: total, A3 not certified, A4 pended.
ReviewAction = Literal["A1", "A3", "A4"]
#: What a denial needs (``spinekb.bridge.whatif.denial_kind``): documentation of what may already
#: exist, something done first (care, a visit, time, the right requester), or nothing helps.
DenialKind = Literal["documentation", "not_yet", "not_supported"]


class Record(BaseModel):
    """Frozen output record; unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Reason(Record):
    """One reason behind a study's decision."""

    kind: ReasonKind = Field(description=(
        "met: the pathway that approved the study; unmet: a condition of the closest pathway that "
        "does not hold; excluded: a criterion that rules the study out; not_indicated: the text says "
        "the study is not indicated here; referral: the text sends the case to another guideline or "
        "section; alternative: another study of the same region the case qualifies for; conflict: a "
        "pathway approves what another section advises against; no_pathway: no pathway supports the "
        "study at all; out_of_scope: a presentation the study's pathways address and the case does not present."))
    section: Optional[str] = Field(None, description="The guideline section of the criterion, e.g. SP-5.1.")
    criterion: Optional[str] = Field(None, description="The criterion id (kb/), e.g. sp5_1_c3.")
    pathway: Optional[str] = Field(
        None, description="The pathway the criterion belongs to (met, unmet, alternative, conflict).")
    text: str = Field("", description="The guideline's words the criterion encodes (verbatim, unless `label`).")
    label: bool = Field(False, description="The text is words of our own (a heading, a joined list), not a quote.")
    target: Optional[str] = Field(None, description="referral: the section or guideline sent to; "
                                                    "alternative: the CPT code that would be supported.")
    facts: tuple[str, ...] = Field((), description="The case facts the criterion's rules read, days as dates.")


class StudyDecision(Record):
    """The decision for one requested study, with the criteria and reasons behind it."""

    cpt: str = Field(description="The requested CPT code.")
    description: str = Field(description="The code table's description of the study.")
    decision: Literal["approved", "denied"]
    sections: tuple[str, ...] = Field(description="Sections of the criteria cited, in guideline order.")
    criteria: tuple[str, ...] = Field(description="Criteria behind the decision: for an approval the "
                                                  "pathway and what carried it; for a denial what ruled it "
                                                  "out and the unmet conditions of the closest pathways.")
    pathways: tuple[str, ...] = Field((), description="Approved: the supporting pathways; denied: the closest.")
    reasons: tuple[Reason, ...] = Field(description="The reasons, in canonical order (kind, section, criterion).")
    denial_kind: Optional[DenialKind] = Field(None, description=(
        "Denied studies only: documentation (some set of edits that only document what may already exist, "
        "an exam finding, a report, an x-ray result, would approve it), not_yet (it can be approved once "
        "something is done: the patient seen, treatment continued, time passed, the right provider "
        "requesting), not_supported (no edit helps: ruled out, no pathway for the presentation, sent "
        "elsewhere). Computed by clingo over the what-if program (spinekb.bridge.whatif)."))

    @computed_field(  # type: ignore[prop-decorator]  # pydantic's documented form
        description="The X12 278 review action of this outcome (code list 306, as Da Vinci PAS "
                                "carries it): A1 certified in total (approved), A3 not certified (nothing in "
                                "the guideline supports the study for this case), A4 pended (documentation "
                                "of the unmet conditions would decide it). See review_action().")
    @property
    def review_action(self) -> ReviewAction:
        return review_action(self)


#: Denial reasons that no further documentation can change: the guideline rules the study out,
#: supports it under no pathway, or addresses other presentations than the case's.
_NOT_CERTIFIABLE = frozenset({"excluded", "no_pathway", "out_of_scope"})


def review_action(study: StudyDecision) -> ReviewAction:
    """The X12 278 review action of one study's outcome: the one place that decides it.

    - ``A1`` (certified in total): the study is approved.
    - ``A3`` (not certified): denied, and nothing in the guideline supports it for this case: a
      criterion rules it out (``excluded``: experimental, contraindicated), no pathway supports the
      study at all (``no_pathway``), its pathways address presentations the case does not have
      (``out_of_scope``), or the guideline only refers the case elsewhere (``referral`` with no
      unmet condition to document).
    - ``A4`` (pended): denied on the unmet conditions of a pathway that addresses the case
      (``unmet``): documenting them would decide the request.

    Issue 9's ``StudyDecision.denial_kind`` (documentation / not_yet / not_supported), once the
    engine fills it, takes precedence over the reason kinds: not_supported -> A3, documentation
    and not_yet -> A4. Until then (``denial_kind`` is None) the reason kinds above decide. Every
    output (records, cards, the CRD coverage-information extension) follows this one function.

        >>> study = StudyDecision(cpt="72148", description="", decision="denied", sections=(), criteria=(),
        ...                       reasons=(Reason(kind="unmet", criterion="sp5_1_c3"),))
        >>> review_action(study)
        'A4'
    """
    if study.decision == "approved":
        return "A1"
    kind = getattr(study, "denial_kind", None)
    if kind is not None:
        return "A3" if kind == "not_supported" else "A4"
    kinds = {reason.kind for reason in study.reasons}
    if kinds & _NOT_CERTIFIABLE:
        return "A3"
    if "unmet" in kinds:
        return "A4"
    return "A3"  # referral-only, not-indicated-only, or no reason at all: nothing to document


class CaseResult(Record):
    """Everything decided for one case."""

    case_id: str
    kb_version: str = Field(description="The guideline version and a digest of the decision program.")
    studies: tuple[StudyDecision, ...]
    violations: tuple[str, ...] = Field((), description="Record problems the KB derived (rarely any).")
    unmapped: tuple[str, ...] = Field((), description=(
        "FHIR input only: resources and codes of the Bundle that map to no case field "
        "(e.g. \"Condition/12: SNOMED CT 12345 maps to no presentation or finding\"); they did not "
        "reach the decision. Absent when every resource mapped, and for case JSON."))
    assumed: tuple[str, ...] = Field((), description=(
        "FHIR input only: values the case format needs that the Bundle does not state, and how they "
        "were read (e.g. a draft order without a purpose is read as diagnosis)."))

    def to_json(self) -> dict[str, Any]:
        """The JSON record of the case (``violations``, ``unmapped``, ``assumed`` only when there are some)."""
        empty = {name for name in ("violations", "unmapped", "assumed") if not getattr(self, name)}
        return self.model_dump(mode="json", exclude_defaults=False, exclude=empty)


class CaseError(Record):
    """An input that could not be evaluated: where it came from and why, in one line."""

    case_id: Optional[str] = None
    source: str
    error: str = Field(description="field.path: problem")

    @property
    def message(self) -> str:
        return self.error

    def to_json(self) -> dict[str, Any]:
        """The JSON error record of the input."""
        return self.model_dump(mode="json")

    def line(self) -> str:
        """The one-line message a user sees."""
        return f"error: {self.source}: {self.error}"


@dataclass
class SolverAtoms:
    """The solver's per-case atoms, as shown, filed by kind (built once, never changed after)."""

    holds: set[str] = field(default_factory=set)
    supported: dict[str, list[str]] = field(default_factory=dict)      # cpt -> pathways
    excluded: dict[str, list[str]] = field(default_factory=dict)       # cpt -> criteria
    unmet: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (cpt, pathway) -> criteria
    gap: dict[str, dict[str, int]] = field(default_factory=dict)       # cpt -> pathway -> count
    closest: dict[str, list[str]] = field(default_factory=dict)        # cpt -> pathways
    in_scope: dict[str, list[str]] = field(default_factory=dict)       # cpt -> pathways
    alternatives: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # cpt -> (alt, pathway)
    advised_against: dict[str, list[str]] = field(default_factory=dict)  # cpt -> criteria
    redirected: list[tuple[str, str]] = field(default_factory=list)    # (criterion, target)
    conflicts: list[tuple[str, str, str]] = field(default_factory=list)  # (cpt, pathway, criterion)
    no_pathway: set[str] = field(default_factory=set)
    decisions: dict[str, str] = field(default_factory=dict)            # cpt -> approved/denied
    violations: list[str] = field(default_factory=list)
    traced: bool = False  # every criterion and every candidate pathway reported (Engine(trace=True))


@dataclass
class Decided:
    """A decided case: the record, the solver's atoms behind it (for explanations), and the
    input's source. ``to_json`` is the record's."""

    record: CaseResult
    atoms: SolverAtoms
    source: str = ""

    @property
    def case_id(self) -> str:
        return self.record.case_id

    @property
    def kb_version(self) -> str:
        return self.record.kb_version

    @property
    def studies(self) -> tuple[StudyDecision, ...]:
        return self.record.studies

    def to_json(self) -> dict[str, Any]:
        return self.record.to_json()


def output_schema() -> dict[str, Any]:
    """The JSON Schema of one output record: a decided case or an error record."""
    from pydantic import TypeAdapter

    # serialization mode: computed fields (a study's review_action) are part of the output
    schema = TypeAdapter(Union[CaseResult, CaseError]).json_schema(mode="serialization")
    schema["title"] = "spinekb decision record"
    return schema
