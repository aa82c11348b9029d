"""The words of explanations: case facts, edits, questions and reasons, as a person reads them.

Every English sentence an explanation says is made here, from data that is already decided (the
solver's atoms, the typed records, the what-if's edits). Dates are the case's own, with day counts
where time matters::

    >>> days_between(dt.date(2024, 4, 4), dt.date(2024, 4, 25))
    21
    >>> shorten("Failure of recent (within 3 months) 6-week trial", 30)
    'Failure of recent (within 3 …'
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

from spinekb.bridge.facts import fact_rows
from spinekb.bridge.models import Case
from spinekb.bridge.records import DenialKind, Reason
from spinekb.bridge.whatif import Edit
from spinekb.kb.vocabulary import vocabulary

#: The denial kinds in a word or two, and what each means for the requester.
DENIAL_WORDS: dict[DenialKind, str] = {
    "documentation": "documentation needed",
    "not_yet": "not yet",
    "not_supported": "not supported",
}
DENIAL_MEANING: dict[DenialKind, str] = {
    "documentation": "documenting what the record may lack would approve it",
    "not_yet": "it can be approved once something is done first",
    "not_supported": "no change to the record would approve it",
}
#: How long a quotation of the guideline may run in the answer (the whole text is in --detail and JSON).
QUOTE_CHARS = 120

MODALITY = {"xray": "x-rays", "mri": "MRI", "ct": "CT", "ct_myelogram": "CT myelogram", "myelogram": "myelogram",
            "bone_scan": "bone scan", "spect": "SPECT", "spect_ct": "SPECT/CT", "pet_ct": "PET/CT", "cta": "CTA",
            "mra": "MRA", "emg_ncv": "EMG/NCV", "other": "imaging"}
REGION = {"cervical": "cervical spine", "thoracic": "thoracic spine", "lumbar": "lumbar spine", "pelvis": "pelvis",
          "sacrum_coccyx": "sacrum/coccyx", "sacroiliac": "sacroiliac joints", "whole_spine": "whole spine",
          "brain": "brain", "abdomen": "abdomen"}
REQUESTER = {"operating_surgeon": "operating surgeon", "spine_specialist": "spine specialist",
             "interventional_pain": "interventional pain physician", "radiologist": "radiologist",
             "primary_care": "primary care provider", "other": "other provider"}
MODE = {"in_person": "in-person", "telephone": "telephone", "email": "email", "web": "web",
        "telemedicine": "telemedicine", "messaging": "messaging"}
KIND = {"initial": "initial evaluation", "reevaluation": "re-evaluation", "other": "visit"}
TREATMENT = {"nsaids": "NSAIDs", "otc_medication": "over-the-counter medication", "home_exercise": "home exercise",
             "physical_therapy": "physical therapy", "occupational_therapy": "occupational therapy",
             "muscle_relaxants": "muscle relaxants", "narcotic_analgesics": "narcotic analgesics",
             "interventional_pain_procedure": "interventional pain procedure", "spinal_orthosis": "spinal orthosis",
             "self_directed_exercise": "self-directed exercise"}
SIGN = {"hoffmann": "Hoffmann sign", "babinski": "Babinski sign", "chaddock": "Chaddock sign",
        "lhermitte": "Lhermitte sign", "clonus": "clonus", "straight_leg_raise": "straight leg raise",
        "slump": "slump test", "femoral_nerve_tension": "femoral nerve tension sign",
        "crossed_radial_reflex": "crossed radial reflex", "inverted_radial_reflex": "inverted radial reflex",
        "finger_escape": "finger escape sign"}
PURPOSE = {"preoperative_planning": "preoperative surgical planning", "pre_injection": "planning an injection",
           "pre_stimulator": "planning a stimulator", "post_procedure": "after a procedure",
           "post_discography": "after discography", "complete_study": "completing a study",
           "follow_up": "follow-up", "surveillance": "surveillance", "diagnosis": "diagnosis"}


def words(value: str, table: dict[str, str] | None = None) -> str:
    """A constant in words: from ``table`` if it has it, else with underscores as spaces."""
    return (table or {}).get(value, value.replace("_", " "))


def days_between(start: dt.date, end: dt.date) -> int:
    """Whole days from ``start`` to ``end``."""
    return (end - start).days


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 2].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"


def quote(text: str, label: bool = False, limit: int = QUOTE_CHARS) -> str:
    """Guideline words in quotation marks (a label of the KB's own is not quoted)."""
    short = shorten(text, limit)
    return short if label else f"\u201c{short}\u201d"


def term_words(term: str) -> str:
    """A vocabulary term in words: its definition, without the final full stop."""
    found = vocabulary().get(term)
    text = found.definition if found else term.replace("_", " ")
    return text.rstrip(".")


def finding_words(term: str) -> str:
    """A term as the object of "document": ``severe symptoms of ...``, or ``that the location of
    the pain is concordant ...`` for a definition that is a sentence."""
    text = lower_first(term_words(term))
    if re.search(r"\b(is|are|has|have|was|were|recommends|requires|rules|needs)\b", text):
        return "that " + text
    return text


def lower_first(text: str) -> str:
    """``text`` with a lower-case first letter (unless it starts with an acronym)."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def and_list(items: Sequence[str], conjunction: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def date_ago(day: dt.date, request: dt.date) -> str:
    """``2024-04-04 (27 days before the request)``."""
    n = days_between(day, request)
    if n == 0:
        return f"{day} (the request date)"
    return f"{day} ({n} day{'s' if n != 1 else ''} before the request)"


# -- case facts ---------------------------------------------------------------------------------
class CaseWords:
    """The facts of one case in words, grouped the way a record reads (an evaluation with its
    outcome and exam, a treatment with its dates and duration)."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.request = case.request.date
        self.rows: dict[str, list[tuple[Any, ...]]] = {}
        for name, arguments in fact_rows(case):
            self.rows.setdefault(name, []).append(arguments)

    def day(self, offset: int) -> dt.date:
        return self.request + dt.timedelta(days=offset)

    def of(self, predicates: Iterable[str]) -> list[tuple[str, int | None, str]]:
        """(predicate, index, words) for the case's facts of ``predicates``: one per thing on record
        (``index``: its position in the case's list, for evaluations, treatments, studies, trauma,
        procedures and implants), and a "none on record" line for a kind of thing the case lacks."""
        wanted = set(predicates) - {"case"}
        said: list[tuple[str, int | None, str]] = []
        if wanted & {"treatment", "treatment_outcome", "treatment_self_directed", "treatment_ongoing"}:
            for t in range(len(self.case.treatments)):
                said.append(("treatment", t, self.treatment(t)))
            if not self.case.treatments:
                said.append(("treatment", None, "no treatment on record"))
        if wanted & {"evaluation", "evaluation_outcome", "evaluation_by", "muscle_grade", "reflex_grade",
                     "sensory_loss", "sign", "progression"}:
            exam = bool(wanted & {"muscle_grade", "reflex_grade", "sensory_loss", "sign", "progression"})
            evaluations = self.case.evaluations
            for e in range(len(evaluations)):
                said.append(("evaluation", e, self.evaluation(e, exam)))
            if not evaluations:
                said.append(("evaluation", None, "no evaluation on record"))
        if wanted & {"imaging", "imaging_result", "imaging_available", "imaging_level", "imaging_grade",
                     "imaging_cobb", "imaging_contrast"}:
            for i in range(len(self.case.prior_imaging)):
                said.append(("imaging", i, self.imaging(i)))
            if not self.case.prior_imaging:
                said.append(("imaging", None, "no imaging on record"))
        if wanted & {"finding", "finding_day", "finding_level", "finding_side"}:
            findings = self.case.findings
            if findings:
                said.append(("finding", None, "documented: " + "; ".join(
                    lower_first(term_words(f.term)) + (f" ({f.date})" if f.date else "") for f in findings)))
            else:
                said.append(("finding", None, "no finding documented"))
        if "pain_score" in wanted:
            scores = self.case.pain_scores
            said.append(("pain_score", None, "pain " + ", ".join(f"VAS {s.vas}/10 on {s.date}" for s in scores)
                         if scores else "no pain score on record"))
        if "age" in wanted:
            said.append(("age", None, f"age {self.case.age_years()}"))
        if "sex" in wanted:
            said.append(("sex", None, f"sex {self.case.patient.sex}"))
        if wanted & {"onset", "changed"}:
            episode = self.case.episode
            parts = [f"onset {date_ago(episode.onset, self.request)}" if episode.onset else "no onset on record"]
            if episode.changed:
                parts.append(f"changed {episode.changed}")
            said.append(("onset", None, "episode " + ", ".join(parts)))
        if wanted & {"condition", "region"}:
            episode = self.case.episode
            said.append(("condition", None, f"presenting with {words(episode.condition.value)} "
                                      f"({and_list([words(r, REGION) for r in episode.regions])})"))
        if wanted & {"trauma", "trauma_factor", "trauma_region", "trauma_fall_feet", "trauma_fall_stairs"}:
            for t, trauma in enumerate(self.case.trauma):
                extra = [f"{trauma.fall_height_feet} ft" if trauma.fall_height_feet is not None else "",
                         f"{trauma.fall_stairs} stairs" if trauma.fall_stairs is not None else ""]
                said.append(("trauma", t, f"trauma {trauma.date}: {and_list([words(m) for m in trauma.mechanism])}"
                             + "".join(f", {e}" for e in extra if e)))
            if not self.case.trauma:
                said.append(("trauma", None, "no trauma on record"))
        if wanted & {"procedure", "procedure_region", "procedure_anterior", "procedure_approach",
                     "procedure_revision", "procedure_level", "procedure_hours"}:
            for n, procedure in enumerate(self.case.procedures):
                what = words(procedure.kind) + (" (revision)" if procedure.revision else "")
                where = f" {words(procedure.region, REGION)}" if procedure.region else ""
                said.append(("procedure", n, f"{what}{where} on {date_ago(procedure.date, self.request)}"))
            if not self.case.procedures:
                said.append(("procedure", None, "no procedure on record"))
        if wanted & {"implant", "implant_mri_conditional"}:
            for n, implant in enumerate(self.case.implants):
                said.append(("implant", n, f"{words(implant.kind)}"
                             + (" (MRI conditional)" if implant.mri_conditional else " (not MRI conditional)")))
            if not self.case.implants:
                said.append(("implant", None, "no implant on record"))
        if wanted & {"plan", "plan_region", "plan_level", "plan_approved"}:
            for plan in self.case.plans:
                said.append(("plan", None, f"planned {words(plan.kind)}"
                             + (f" ({words(plan.region, REGION)}{' ' + plan.level if plan.level else ''})"
                                if plan.region else "")))
            if not self.case.plans:
                said.append(("plan", None, "no planned procedure on record"))
        if "requester" in wanted:
            requester = self.case.request.requester
            said.append(("requester", None, f"requested by the {words(requester.value, REQUESTER)}"
                         if requester else "requester not stated"))
        if "purpose" in wanted:
            said.append(("purpose", None, f"purpose: {words(self.case.request.purpose.value, PURPOSE)}"))
        if wanted & {"technique", "study_technique"}:
            techniques = sorted({t.value for _, t in self.case.request.study_techniques()})
            if techniques:
                said.append(("technique", None, "technique: " + and_list([words(t) for t in techniques])))
        if "requested" in wanted:
            said.append(("requested", None, "requested: " + ", ".join(self.case.request.codes)))
        return said

    def evaluation(self, e: int, exam: bool = False) -> str:
        """``in-person initial evaluation 2024-04-04 (27 days before the request)[: outcome][; exam]``."""
        evaluation = self.case.evaluations[e]
        when = date_ago(evaluation.date, self.request)
        text = f"{words(evaluation.mode, MODE)} {words(evaluation.kind, KIND)} {when}"
        if evaluation.outcome:
            text += f": {words(evaluation.outcome)}"
        if exam:
            findings = self.exam(e)
            text += f"; exam: {findings}" if findings else "; no exam findings recorded"
        return text

    def exam(self, e: int) -> str:
        """An evaluation's exam findings in words."""
        exam = self.case.evaluations[e].exam
        parts = [f"{words(m.muscle)} {m.grade}/5 ({m.side})" for m in exam.muscles]
        parts += [f"{words(r.reflex)} reflex {r.grade} ({r.side})" for r in exam.reflexes]
        parts += [f"{words(s.distribution)} sensory loss" for s in exam.sensory]
        parts += [f"{words(s.sign, SIGN)} {s.result}" for s in exam.signs]
        parts += [f"{p} progression" for p in exam.progression]
        return ", ".join(parts)

    def treatment(self, t: int) -> str:
        """``NSAIDs 2024-04-04 to 2024-04-25 (21 days)[, ongoing][: outcome]``."""
        treatment = self.case.treatments[t]
        end = treatment.end or self.request
        text = (f"{words(treatment.kind, TREATMENT)} {treatment.start} to "
                f"{treatment.end if treatment.end else 'the request (ongoing)'} "
                f"({days_between(treatment.start, end)} days)")
        if treatment.directed_by == "self":
            text += ", self-directed"
        if treatment.outcome:
            text += f": {words(treatment.outcome)}"
        return text

    def imaging(self, i: int) -> str:
        """``x-rays lumbar spine 2024-03-11: no fracture[, not available to the requester]``."""
        study = self.case.prior_imaging[i]
        text = (f"{words(study.modality, MODALITY)} of the {words(study.region, REGION)} "
                f"{date_ago(study.date, self.request)}: {and_list([words(r) for r in study.result])}")
        extra = [f"level {study.level}" if study.level else "", f"grade {study.grade}" if study.grade else "",
                 f"Cobb angle {study.cobb_angle}°" if study.cobb_angle is not None else ""]
        text += "".join(f", {e}" for e in extra if e)
        if not study.available:
            text += " (results not available to the requesting provider)"
        return text


# -- edits and questions --------------------------------------------------------------------------
def edit_words(edit: Edit, case: Case) -> str:
    """One edit as an action a provider takes, with its date where time matters."""
    request = case.request.date
    if edit.action == "document_finding":
        return f"document {finding_words(edit.term or '')}"
    if edit.action == "document_exam":
        when = case.evaluations[edit.evaluation or 0].date
        return f"document the exam finding of {when}: {exam_words(edit.exam or '')}"
    if edit.action == "make_available":
        study = case.prior_imaging[edit.imaging or 0]
        return (f"make the report of the {words(study.modality, MODALITY)} of the {words(study.region, REGION)} "
                f"of {study.date} available to the requesting provider")
    if edit.action == "obtain_imaging":
        contrast = " without and with contrast" if edit.modality == "mri" else ""
        article = "an " if edit.modality == "mri" else ""
        named = f"{article}{words(edit.modality or '', MODALITY)} of the {words(edit.region or '', REGION)}{contrast}"
        return (f"have {named} "
                f"taken on or after {edit.date}, results available to the requesting provider"
                f" ({words(edit.result or '')} would do)")
    if edit.action == "state_purpose":
        return f"document that the studies are needed for {words(edit.purpose or '', PURPOSE)}"
    if edit.action == "evaluate":
        what = "re-evaluate the patient in person" if edit.kind == "reevaluation" else \
            "see the patient in person for an initial evaluation"
        assert edit.date is not None
        if edit.date < request:
            return (f"see the patient in person on or after {edit.date} (a visit on record from then on would "
                    f"count)" if edit.kind == "reevaluation" else f"{what} on or after {edit.date}")
        return f"{what} on or after {edit.date}" + (
            " (a re-evaluation documenting no significant improvement)" if edit.kind == "reevaluation" else "")
    if edit.action == "continue_treatment":
        treatment = case.treatments[edit.treatment or 0]
        assert edit.date is not None
        last = treatment.end or request
        return (f"continue {words(treatment.kind, TREATMENT)} (started {treatment.start}) until {edit.date} "
                f"({days_between(last, edit.date)} more days)")
    if edit.action == "start_treatment":
        assert edit.date is not None
        return (f"start provider-directed {words(edit.kind or '', TREATMENT)} on {request} and continue it until "
                f"{edit.date} ({days_between(request, edit.date)} days)")
    if edit.action == "request_by":
        return f"have the {words(edit.requester or '', REQUESTER)} request the study"
    if edit.action == "withdraw":
        return f"withdraw the simultaneous request for CPT {edit.cpt}"
    if edit.action == "resubmit":
        assert edit.date is not None
        return f"resubmit on or after {edit.date} ({days_between(request, edit.date)} days after the request)"
    return edit.action


def exam_words(result: str) -> str:
    """``sign(hoffmann)`` -> ``a positive Hoffmann sign``; ``muscle(4)`` -> ``a muscle graded 4/5``."""
    name, _, argument = result.partition("(")
    argument = argument.rstrip(")")
    if name == "sign":
        return f"a positive {words(argument, SIGN)}"
    if name == "sensory":
        return f"{words(argument)} sensory loss"
    if name == "muscle":
        return f"a muscle graded {argument}/5"
    if name == "reflex":
        return f"a reflex graded {argument}" + (" (diminished)" if argument in ("0", "1") else " (brisk)")
    return result


def set_words(edits: Sequence[str]) -> str:
    """Actions joined into one instruction."""
    return and_list(list(edits))[:1].upper() + and_list(list(edits))[1:] + "."


def question_words(edit: Edit, case: Case) -> str:
    """A documentation edit as a question a clinician can answer (a Da Vinci DTR question)."""
    if edit.action == "document_finding":
        return f"Does the record document {finding_words(edit.term or '')}?"
    if edit.action == "document_exam":
        when = case.evaluations[edit.evaluation or 0].date
        return f"Did the examination of {when} find {exam_words(edit.exam or '')}?"
    if edit.action == "make_available":
        study = case.prior_imaging[edit.imaging or 0]
        return (f"Is the report of the {words(study.modality, MODALITY)} of the {words(study.region, REGION)} "
                f"of {study.date} available to the requesting provider?")
    if edit.action == "obtain_imaging":
        named = f"{words(edit.modality or '', MODALITY)} of the {words(edit.region or '', REGION)}"
        if edit.modality == "xray":
            return (f"Are {named}, taken on or after {edit.date}, available to the requesting provider, and what "
                    f"do they show ({words(edit.result or '')} would do)?")
        return (f"Is an {named} without and with contrast, taken on or after {edit.date}, available to the "
                f"requesting provider, and does it show {words(edit.result or '')}?")
    if edit.action == "state_purpose":
        return f"Are the studies needed together for {words(edit.purpose or '', PURPOSE)}?"
    return edit_words(edit, case)[:1].upper() + edit_words(edit, case)[1:] + "?"


# -- reasons ------------------------------------------------------------------------------------
def reason_says(reason: Reason, section_of_pathway: str, description: str = "") -> str:
    """One deciding reason as a sentence, quoting the guideline (shortened; whole in --detail)."""
    return _reason_says(reason, section_of_pathway, description).replace(".\u201d.", ".\u201d")


def _reason_says(reason: Reason, section_of_pathway: str, description: str = "") -> str:
    words_ = quote(reason.text, reason.label)
    if reason.kind == "met":
        return f"{reason.section} supports it: {words_} ({reason.criterion}); every condition holds."
    if reason.kind == "unmet":
        return f"{section_of_pathway} requires {words_} ({reason.criterion}): not met."
    if reason.kind == "excluded":
        return f"{reason.section} rules the study out: {words_} ({reason.criterion})."
    if reason.kind == "not_indicated":
        return f"{reason.section} says it is not indicated here: {words_}."
    if reason.kind == "referral":
        return f"{reason.section} sends the case to {reason.target}: {words_}."
    if reason.kind == "alternative":
        return f"CPT {reason.target} {description} would be supported instead ({reason.section} {reason.pathway})."
    if reason.kind == "conflict":
        return f"{reason.section} advises against what {reason.pathway} approves: {words_}."
    if reason.kind == "no_pathway":
        return "No section of the guideline names this study among those it supports."
    return f"{reason.section} {reason.criterion}: {words_}"


def unmet_leaf_says(reason: Reason, section_of_pathway: str, leaf: str, leaf_section: str, leaf_text: str,
                    leaf_label: bool) -> str:
    """An unmet condition decided by one leaf below it: the condition, then the leaf that fails."""
    if leaf_text[:30] and leaf_text[:30] in reason.text:  # the condition says it already
        words_ = quote(reason.text, reason.label, 150)
        return f"{section_of_pathway} requires {words_} ({reason.criterion}; {leaf}): not met."
    return (f"{section_of_pathway} requires {quote(reason.text, reason.label, 80)} ({reason.criterion}); "
            f"not met: {leaf_section} {quote(leaf_text, leaf_label, 110)} ({leaf}).").replace(".\u201d.", ".\u201d")


def out_of_scope_says(scopes: Sequence[Reason], presenting: str) -> str:
    """The presentations a denied study's pathways address, none of them the case's."""
    sections = list(dict.fromkeys(r.section or "?" for r in scopes))
    return (f"No pathway for this study addresses the case ({presenting}): its {len(scopes)} pathway "
            f"presentation{'s' if len(scopes) != 1 else ''} belong to {and_list(sections)}.")


def headline(decision: str, kind: DenialKind | None, cpt: str, description: str) -> str:
    """``DENIED (not yet): CPT 72148 MRI Lumbar without contrast``."""
    if decision == "approved":
        return f"APPROVED: CPT {cpt} {description}".strip()
    extra = f" ({DENIAL_WORDS[kind]})" if kind else ""
    return f"DENIED{extra}: CPT {cpt} {description}".strip()
