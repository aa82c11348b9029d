"""Decisions in the words of prior authorization: CDS Hooks cards, the Da Vinci CRD
coverage-information extension, and the X12 278 review action.

    >>> from spinekb.explain.cards import study_card, coverage_information
    >>> card = study_card(study, kb_version, link)              # doctest: +SKIP
    >>> extension = coverage_information(study, assertion_id, today, coverage_reference)  # doctest: +SKIP

Nothing here decides: a study's outcome is its :class:`~spinekb.bridge.records.StudyDecision`,
and its review action is :func:`spinekb.bridge.records.review_action` (A1 / A3 / A4). This module
only says them: the card a clinician reads (summary, Markdown detail quoting the guideline, a link
to the whole explanation) and the computable assertion the EHR stores on the order.

The extension follows Da Vinci CRD STU2 (``ext-coverage-information``, 2.0.1):

| review action | covered | pa-needed | doc-needed | reason |
|---|---|---|---|---|
| A1 certified in total | covered | satisfied (+ satisfied-pa-id) | - | the pathway that held |
| A4 pended | conditional | auth-needed | clinical | the unmet conditions |
| A3 not certified | not-covered | - (crd-ci-q2) | - | what rules the study out |
| (the hook lacked the data) | conditional | auth-needed | clinical | what is missing |

``info-needed`` is not sent: STU2's codes (performer, location, timeframe) name nothing a spine
imaging decision waits for; what it waits for is clinical documentation, which ``doc-needed``
says, and ``reason`` lists.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from spinekb.bridge.records import Reason, ReviewAction, StudyDecision, review_action
from spinekb.explain.reasons import reason_line, reason_lines

CRD_COVERAGE_INFORMATION = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
CRD_CARD_TYPES = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp"
#: X12 code list 306 (HCR01 action code), as Da Vinci PAS carries a review action.
X12_REVIEW_ACTION = "https://codesystem.x12.org/005010/306"
GUIDELINE = "Spine Imaging Guidelines V1.0.2023"

REVIEW_ACTION_WORDS: dict[ReviewAction, str] = {
    "A1": "certified in total",
    "A3": "not certified",
    "A4": "pended",
}
_INDICATOR: dict[ReviewAction, str] = {"A1": "info", "A4": "warning", "A3": "critical"}
_TOPIC: dict[ReviewAction, tuple[str, str]] = {
    "A1": ("coverage", "Coverage"), "A4": ("auth-req", "Prior Authorization Required?"), "A3": ("coverage", "Coverage")}
SUMMARY_CHARS = 140


def review_words(action: ReviewAction) -> str:
    """``A4`` -> ``X12 278 A4 (pended)``."""
    return f"X12 278 {action} ({REVIEW_ACTION_WORDS[action]})"


def _study_name(study: StudyDecision) -> str:
    return f"CPT {study.cpt} {study.description}".strip()


def summary(study: StudyDecision) -> str:
    """One line, at most 140 characters (CDS Hooks): the study and its outcome."""
    action = review_action(study)
    sections = ", ".join(study.sections)
    outcome = {
        "A1": f"meets the guideline ({sections}); prior authorization satisfied",
        "A4": f"guideline criteria not documented ({sections or 'no pathway'}); prior authorization needed",
        "A3": f"not supported by the guideline ({sections or 'no pathway'})",
    }[action]
    line = f"{_study_name(study)}: {outcome}"
    return line if len(line) <= SUMMARY_CHARS else line[:SUMMARY_CHARS - 1] + "…"


def _markdown(text: str) -> str:
    """Guideline words safe inside Markdown (no emphasis, links or HTML by accident)."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def detail(study: StudyDecision, kb_version: str) -> str:
    """The card's Markdown: the outcome, the deciding reasons in the guideline's words, and
    what documentation would decide a pended request."""
    action = review_action(study)
    lines = [f"**{_markdown(_study_name(study))}: {study.decision.upper()}** — {review_words(action)}", ""]
    unmet = [r for r in study.reasons if r.kind == "unmet"]
    if action == "A1":
        lines.append("Supported by:")
        lines += [f"- {_markdown(reason_line(r))}" for r in study.reasons if r.kind == "met"]
    elif action == "A4":
        lines.append("The record does not show these conditions of the closest pathway"
                     f"{'s' if len(study.pathways) > 1 else ''} ({', '.join(study.pathways)}):")
        lines += [f"- **{r.section} {r.criterion}**: {_markdown(r.text)}" for r in unmet]
        lines += ["", "Clinical documentation showing them would decide the request."]
    else:
        lines.append("Why the guideline does not support it:")
        lines += [f"- {_markdown(line)}" for line in reason_lines([r for r in study.reasons if r.kind != "unmet"])]
    others = [r for r in study.reasons if r.kind in ("not_indicated", "referral", "conflict", "alternative")
              and action != "A3"]
    if others:
        lines += ["", "Also:"] + [f"- {_markdown(reason_line(r))}" for r in others]
    lines += ["", f"Source: {GUIDELINE}, rules `{kb_version}`."]
    return "\n".join(lines)


def study_card(study: StudyDecision, kb_version: str, link: str | None = None,
               uuid: str | None = None) -> dict[str, Any]:
    """The CDS Hooks card of one requested study."""
    action = review_action(study)
    code, display = _TOPIC[action]
    card: dict[str, Any] = {
        "summary": summary(study), "indicator": _INDICATOR[action], "detail": detail(study, kb_version),
        "source": {"label": f"{GUIDELINE} (spinekb {kb_version})",
                   "topic": {"system": CRD_CARD_TYPES, "code": code, "display": display}}}
    if uuid:
        card["uuid"] = uuid
    if link:
        card["links"] = [{"label": "Why / why not: the full explanation", "url": link, "type": "absolute"}]
    return card


def missing_card(studies: Sequence[str], problem: str, missing: Sequence[str],
                 uuid: str | None = None) -> dict[str, Any]:
    """The card of a hook call that lacked the data to decide: which information is missing."""
    names = ", ".join(studies) or "the requested spine imaging"
    text = [f"spinekb cannot assess {_markdown(names)} against the {GUIDELINE} from what the hook sent:", "",
            f"- {_markdown(problem)}"]
    if missing:
        text += ["", "Prefetch not supplied: " + ", ".join(f"`{m}`" for m in missing) + ". This service "
                 "does not query the FHIR server itself; send the prefetch its discovery document asks for."]
    text += ["", "Prior authorization will need the clinical documentation."]
    line = f"Spine imaging {names}: clinical information missing to assess the request"
    card: dict[str, Any] = {
        "summary": line if len(line) <= SUMMARY_CHARS else line[:SUMMARY_CHARS - 1] + "…",
        "indicator": "warning", "detail": "\n".join(text),
        "source": {"label": GUIDELINE, "topic": {"system": CRD_CARD_TYPES, "code": "auth-req",
                                                "display": "Prior Authorization Required?"}}}
    if uuid:
        card["uuid"] = uuid
    return card


def _reason_text(study: StudyDecision) -> str:
    """The coverage assertion's reason, in one line."""
    action = review_action(study)
    if action == "A1":
        held = [r for r in study.reasons if r.kind == "met"]
        return "Meets " + "; ".join(f"{r.section} {r.criterion}" for r in held) + f" ({GUIDELINE})"
    if action == "A4":
        unmet: list[Reason] = [r for r in study.reasons if r.kind == "unmet"]
        return ("Not documented: " + "; ".join(f"{r.section} {r.criterion}: {r.text}" for r in unmet))[:1000]
    return ("Not supported: " + "; ".join(reason_lines(study.reasons)))[:1000]


def coverage_information(study: StudyDecision | None, assertion_id: str, date: str,
                         coverage: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
    """The Da Vinci CRD ``ext-coverage-information`` extension of one order (STU2): from a
    decided study, or (``study=None``) for an order the hook sent too little to decide."""
    action = review_action(study) if study is not None else None
    parts: list[dict[str, Any]] = [{"url": "coverage", "valueReference": coverage}]
    if action == "A1":
        parts += [{"url": "covered", "valueCode": "covered"}, {"url": "pa-needed", "valueCode": "satisfied"}]
    elif action == "A3":
        parts += [{"url": "covered", "valueCode": "not-covered"}]
    else:  # A4, or not decided for want of data
        parts += [{"url": "covered", "valueCode": "conditional"}, {"url": "pa-needed", "valueCode": "auth-needed"},
                  {"url": "doc-needed", "valueCode": "clinical"}]
    text = _reason_text(study) if study is not None else (reason or "clinical information missing")
    parts.append({"url": "reason", "valueCodeableConcept": {"text": text}})
    parts += [{"url": "date", "valueDate": date}, {"url": "coverage-assertion-id", "valueString": assertion_id}]
    if action == "A1":
        parts.append({"url": "satisfied-pa-id", "valueString": assertion_id})
    return {"url": CRD_COVERAGE_INFORMATION, "extension": parts}


def review_action_coding(action: ReviewAction) -> dict[str, str]:
    """The review action as an X12 306 coding (as PAS's reviewActionCode carries it)."""
    return {"system": X12_REVIEW_ACTION, "code": action, "display": REVIEW_ACTION_WORDS[action]}
