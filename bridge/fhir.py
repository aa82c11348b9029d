"""FHIR R4 Bundles <-> cases: translation only, both ways, driven by the code table.

    >>> from spinekb.bridge.fhir import bundle_to_case, case_to_bundle
    >>> bundle = case_to_bundle(case)                       # doctest: +SKIP
    >>> imported = bundle_to_case(bundle)                   # doctest: +SKIP
    >>> imported.case == case, imported.unmapped            # doctest: +SKIP
    (True, ())

A Bundle is validated with ``fhir.resources`` (its R4B models read R4 content), then read
resource by resource into the case format, which validates it again: the decision is made on
the same :class:`~spinekb.bridge.models.Case` whichever door the request came in by. Every
resource, and every code, that maps to no case field is reported (``unmapped``), never
silently dropped; a fact the Bundle does not state stays "not documented". Where the case
format needs a value the Bundle does not state and a reading supplies it (the purpose of a
CDS Hooks draft order), the reading is reported too (``assumed``). The element each case
field comes from is docs/fhir.md; the codes are ``bridge/fhir_codes.yaml``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Callable

from pydantic import ValidationError

from spinekb.bridge.fhir_map import FhirMap, fhir_map
from spinekb.bridge.models import Case

CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
IMAGING_CATEGORY = {"system": "http://snomed.info/sct", "code": "363679005", "display": "Imaging"}


# ============================================================================================
# case -> Bundle
# ============================================================================================

def _fhir_id(text: str) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}) from a readable name."""
    return re.sub(r"[^A-Za-z0-9.-]", "-", text)[:64]


class _Writer:
    """Builds one Bundle; resource ids are readable and stable (``evaluation-0``)."""

    def __init__(self, case: Case) -> None:
        self.case, self.codes = case, fhir_map()
        self.entries: list[dict[str, Any]] = []
        self.patient = "Patient/patient"

    def add(self, resource: dict[str, Any]) -> str:
        reference = f"{resource['resourceType']}/{resource['id']}"
        self.entries.append({"fullUrl": f"{self.codes.local_base}/{reference}", "resource": resource})
        return reference

    def concept(self, vocabulary: str, value: Any) -> dict[str, Any]:
        return self.codes.concept_of(vocabulary, _plain(value))

    def ext(self, name: str, **value: Any) -> dict[str, Any]:
        return {"url": self.codes.extension_url(name), **value}

    def laterality(self, side: str) -> dict[str, Any]:
        return {"code": {"coding": [self.codes.fixed("laterality")]},
                "valueCodeableConcept": self.concept("side", side)}

    def component(self, code: str, vocabulary: str, value: str) -> dict[str, Any]:
        return {"code": self.concept("exam", code), "valueCodeableConcept": self.concept(vocabulary, value)}

    def role(self, value: Any) -> str:
        """The PractitionerRole standing for a requester value (one per value)."""
        value = _plain(value)
        reference = f"PractitionerRole/role-{_fhir_id(value)}"
        if not any(f"{e['resource']['resourceType']}/{e['resource']['id']}" == reference for e in self.entries):
            self.add({"resourceType": "PractitionerRole", "id": reference.split("/")[1],
                      "code": [self.concept("requester", value)]})
        return reference


def case_to_bundle(case: Case) -> dict[str, Any]:
    """The case as a FHIR R4 Bundle (type collection) that :func:`bundle_to_case` reads back."""
    w, c = _Writer(case), case
    codes, ext = w.codes, w.ext
    patient: dict[str, Any] = {"resourceType": "Patient", "id": "patient", "gender": c.patient.sex}
    if c.patient.birth_date:
        patient["birthDate"] = c.patient.birth_date.isoformat()
    w.add(patient)
    subject = {"reference": w.patient}
    if c.patient.age is not None:
        w.add({"resourceType": "Observation", "id": "age", "status": "final", "code": {"coding": [codes.fixed("age")]},
               "subject": subject, "effectiveDateTime": c.request.date.isoformat(),
               "valueQuantity": {"value": c.patient.age, "unit": "a", "system": codes.systems["ucum"], "code": "a"}})
    # -- the episode --------------------------------------------------------------------------
    episode: dict[str, Any] = {
        "resourceType": "Condition", "id": "episode",
        "clinicalStatus": {"coding": [codes.fixed("active")]},
        "category": [{"coding": [codes.fixed("encounter_diagnosis")]}],
        "code": w.concept("condition", c.episode.condition),
        "bodySite": [w.concept("region", region) for region in c.episode.regions],
        "subject": subject}
    if c.episode.onset:
        episode["onsetDateTime"] = c.episode.onset.isoformat()
    if c.episode.changed:
        episode["extension"] = [ext("symptoms-changed", valueDate=c.episode.changed.isoformat())]
    episode_ref = w.add(episode)
    # -- the requested studies ------------------------------------------------------------------
    shared = list(c.request.techniques)
    for item in c.request.cpt:
        code = item if isinstance(item, str) else item.code
        own = [] if isinstance(item, str) else list(item.techniques)
        from spinekb.kb.static import static_kb

        description = static_kb().codes[code].description
        request: dict[str, Any] = {
            "resourceType": "ServiceRequest", "id": f"study-{code}", "status": "draft", "intent": "order",
            "category": [{"coding": [IMAGING_CATEGORY]}],
            "code": {"coding": [{"system": CPT_SYSTEM, "code": code, "display": description}]},
            "orderDetail": [w.concept("purpose", c.request.purpose)]
            + [w.concept("technique", t) for t in dict.fromkeys([*shared, *own])],
            "subject": subject, "authoredOn": c.request.date.isoformat(),
            "requisition": {"system": codes.local_system("request_id"), "value": c.request.id},
            "reasonCode": [w.concept("condition", c.episode.condition)],
            "reasonReference": [{"reference": episode_ref}]}
        if c.request.requester:
            request["requester"] = {"reference": w.role(c.request.requester)}
        if c.request.time:
            request["extension"] = [ext("request-time", valueTime=c.request.time.isoformat())]
        w.add(request)
    # -- evaluations and their examinations -------------------------------------------------------
    for i, ev in enumerate(c.evaluations):
        mode_class = codes.mode_encounter_class["in_person" if ev.mode == "in_person" else "other"]
        encounter: dict[str, Any] = {
            "resourceType": "Encounter", "id": f"evaluation-{i}", "status": "finished",
            "class": {"system": mode_class.system, "code": mode_class.code, "display": mode_class.display},
            "type": [w.concept("evaluation_kind", ev.kind), w.concept("evaluation_mode", ev.mode)],
            "subject": subject, "period": {"start": ev.date.isoformat(), "end": ev.date.isoformat()}}
        if ev.by:
            encounter["participant"] = [{"individual": {"reference": w.role(ev.by)}}]
        enc = w.add(encounter)

        def exam(name: str, body: dict[str, Any], _i: int = i, _ev: Any = ev, _enc: str = enc) -> None:
            w.add({"resourceType": "Observation", "id": f"evaluation-{_i}-{name}", "status": "final",
                   "category": [{"coding": [{"system": codes.systems["observation-category"], "code": "exam"}]}],
                   "subject": subject, "encounter": {"reference": _enc},
                   "effectiveDateTime": _ev.date.isoformat(), **body})

        if ev.outcome:
            exam("response", {"code": w.concept("exam", "treatment-response"),
                              "valueCodeableConcept": w.concept("outcome", ev.outcome)})
        for j, muscle in enumerate(ev.exam.muscles):
            parts = [w.component("muscle", "muscle", muscle.muscle), w.laterality(muscle.side)]
            if muscle.root:
                parts.append({"code": w.concept("exam", "nerve-root"), "valueString": muscle.root})
            exam(f"muscle-{j}", {"code": w.concept("exam", "muscle-strength"), "component": parts,
                                 "valueInteger": muscle.grade})
        for j, reflex in enumerate(ev.exam.reflexes):
            exam(f"reflex-{j}", {"code": w.concept("exam", "reflex-grade"), "valueInteger": reflex.grade,
                                 "component": [w.component("reflex", "reflex", reflex.reflex),
                                               w.laterality(reflex.side)]})
        for j, sensory in enumerate(ev.exam.sensory):
            parts = []
            if sensory.modality:
                parts.append(w.component("sensory-modality", "sensory_modality", sensory.modality))
            if sensory.root:
                parts.append({"code": w.concept("exam", "nerve-root"), "valueString": sensory.root})
            body: dict[str, Any] = {"code": w.concept("exam", "sensory-loss"),
                                    "valueCodeableConcept": w.concept("sensory_distribution", sensory.distribution)}
            if parts:
                body["component"] = parts
            exam(f"sensory-{j}", body)
        for j, sign in enumerate(ev.exam.signs):
            exam(f"sign-{j}", {"code": w.concept("sign", sign.sign),
                               "valueCodeableConcept": w.concept("sign_result", sign.result)})
        for j, deficit in enumerate(ev.exam.progression):
            exam(f"progression-{j}", {"code": w.concept("exam", "deficit-progression"),
                                      "valueCodeableConcept": w.concept("progression", deficit)})
    # -- findings -----------------------------------------------------------------------------
    for i, finding in enumerate(c.findings):
        observation: dict[str, Any] = {
            "resourceType": "Observation", "id": f"finding-{i}", "status": "final",
            "category": [{"coding": [{"system": codes.systems["observation-category"], "code": "exam"}]}],
            "code": w.concept("finding", finding.term), "subject": subject}
        if finding.date:
            observation["effectiveDateTime"] = finding.date.isoformat()
        if finding.level:
            observation["extension"] = [ext("vertebral-level", valueString=finding.level)]
        if finding.side:
            observation["component"] = [w.laterality(finding.side)]
        w.add(observation)
    # -- trauma ---------------------------------------------------------------------------------
    for i, trauma in enumerate(c.trauma):
        condition: dict[str, Any] = {
            "resourceType": "Condition", "id": f"trauma-{i}", "code": w.concept("exam", "trauma-event"),
            "subject": subject, "onsetDateTime": trauma.date.isoformat(),
            "evidence": [{"code": [w.concept("trauma_factor", f)]} for f in trauma.mechanism]}
        if trauma.regions:
            condition["bodySite"] = [w.concept("region", r) for r in trauma.regions]
        extensions = []
        if trauma.fall_height_feet is not None:
            extensions.append(ext("fall-height", valueQuantity={
                "value": trauma.fall_height_feet, "unit": "ft", "system": codes.systems["ucum"], "code": "[ft_i]"}))
        if trauma.fall_stairs is not None:
            extensions.append(ext("fall-stairs", valueInteger=trauma.fall_stairs))
        if extensions:
            condition["extension"] = extensions
        w.add(condition)
    # -- treatments -----------------------------------------------------------------------------
    for i, treatment in enumerate(c.treatments):
        period = {"start": treatment.start.isoformat(), **({"end": treatment.end.isoformat()} if treatment.end else {})}
        if treatment.kind in codes.medication_kinds:
            statement: dict[str, Any] = {
                "resourceType": "MedicationStatement", "id": f"treatment-{i}",
                "status": "completed" if treatment.end else "active",
                "medicationCodeableConcept": w.concept("treatment", treatment.kind),
                "subject": subject, "effectivePeriod": period}
            if treatment.directed_by == "self":
                statement["category"] = {"coding": [codes.fixed("patient_specified")]}
            ref = w.add(statement)
            if treatment.outcome:
                w.add({"resourceType": "Observation", "id": f"treatment-{i}-response", "status": "final",
                       "code": w.concept("exam", "treatment-response"), "subject": subject,
                       "focus": [{"reference": ref}], "valueCodeableConcept": w.concept("outcome", treatment.outcome)})
        else:
            procedure: dict[str, Any] = {
                "resourceType": "Procedure", "id": f"treatment-{i}",
                "status": "completed" if treatment.end else "in-progress",
                "code": w.concept("treatment", treatment.kind), "subject": subject, "performedPeriod": period}
            if treatment.outcome:
                procedure["outcome"] = w.concept("outcome", treatment.outcome)
            if treatment.directed_by == "self":
                procedure["performer"] = [{"actor": {"reference": w.patient}}]
            w.add(procedure)
    # -- pain scores ----------------------------------------------------------------------------
    for i, score in enumerate(c.pain_scores):
        w.add({"resourceType": "Observation", "id": f"pain-{i}", "status": "final",
               "category": [{"coding": [{"system": codes.systems["observation-category"], "code": "survey"}]}],
               "code": {"coding": [codes.fixed("pain_score")]}, "subject": subject,
               "effectiveDateTime": score.date.isoformat(), "valueInteger": score.vas})
    # -- prior imaging --------------------------------------------------------------------------
    for i, study in enumerate(c.prior_imaging):
        extensions = [ext("imaging-region", valueCodeableConcept=w.concept("imaging_region", study.region))]
        if study.contrast != "none":
            contrast = w.concept("imaging_contrast", study.contrast)
            extensions.append(ext("imaging-contrast", valueCodeableConcept=contrast))
        if not study.available:
            extensions.append(ext("results-available", valueBoolean=False))
        if study.level:
            extensions.append(ext("vertebral-level", valueString=study.level))
        if study.grade is not None:
            extensions.append(ext("imaging-grade", valueInteger=study.grade))
        if study.cobb_angle is not None:
            extensions.append(ext("cobb-angle", valueQuantity={
                "value": study.cobb_angle, "unit": "deg", "system": codes.systems["ucum"], "code": "deg"}))
        w.add({"resourceType": "DiagnosticReport", "id": f"imaging-{i}", "extension": extensions,
               "status": "final", "category": [{"coding": [codes.fixed("radiology")]}],
               "code": w.concept("imaging_modality", study.modality), "subject": subject,
               "effectiveDateTime": study.date.isoformat(),
               "conclusionCode": [w.concept("imaging_result", r) for r in study.result]})
    # -- implants -------------------------------------------------------------------------------
    for i, implant in enumerate(c.implants):
        device: dict[str, Any] = {"resourceType": "Device", "id": f"implant-{i}", "status": "active",
                                  "type": w.concept("implant", implant.kind), "patient": subject}
        if implant.mri_conditional:
            device["safety"] = [{"coding": [{"system": codes.local_system("mri_safety"), "code": "mr-conditional"}]}]
        w.add(device)
    # -- procedures done --------------------------------------------------------------------------
    for i, done in enumerate(c.procedures):
        procedure = {"resourceType": "Procedure", "id": f"procedure-{i}", "status": "completed",
                     "code": w.concept("procedure", done.kind), "subject": subject,
                     "performedDateTime": done.date.isoformat()}
        extensions = []
        if done.time:
            extensions.append(ext("procedure-time", valueTime=done.time.isoformat()))
        if done.level:
            extensions.append(ext("vertebral-level", valueString=done.level))
        if done.anterior:
            extensions.append(ext("anterior-approach", valueBoolean=True))
        if done.approach:
            extensions.append(ext("surgical-approach", valueCodeableConcept=w.concept("approach", done.approach)))
        if done.revision:
            extensions.append(ext("revision", valueBoolean=True))
        if extensions:
            procedure["extension"] = extensions
        if done.region:
            procedure["bodySite"] = [w.concept("region", done.region)]
        w.add(procedure)
    # -- plans ----------------------------------------------------------------------------------
    for i, plan in enumerate(c.plans):
        planned: dict[str, Any] = {"resourceType": "ServiceRequest", "id": f"plan-{i}", "status": "active",
                                   "intent": "plan", "code": w.concept("plan", plan.kind), "subject": subject}
        extensions = []
        if plan.level:
            extensions.append(ext("vertebral-level", valueString=plan.level))
        if plan.approved:
            extensions.append(ext("already-approved", valueBoolean=True))
        if extensions:
            planned["extension"] = extensions
        if plan.region:
            planned["bodySite"] = [w.concept("region", plan.region)]
        w.add(planned)
    return {"resourceType": "Bundle", "type": "collection", "entry": w.entries}


def _plain(value: Any) -> str:
    return str(getattr(value, "value", value))


# ============================================================================================
# Bundle -> case
# ============================================================================================

@dataclass
class FhirCase:
    """A Bundle read into the case format: the case (or the error that stopped it), what did
    not map, and the readings that filled a value the Bundle did not state."""

    case: Case | None = None
    error: str | None = None
    unmapped: tuple[str, ...] = ()
    assumed: tuple[str, ...] = ()
    case_id: str | None = None
    #: which resource each list item of the case came from, e.g. ("evaluations", 1) -> "Encounter/e1"
    origins: dict[tuple[str, int], str] = field(default_factory=dict)


def is_bundle(data: Any) -> bool:
    """A parsed JSON document that is a FHIR Bundle (rather than a case)."""
    return isinstance(data, dict) and data.get("resourceType") == "Bundle"


def looks_like_bundle(text: str | bytes) -> bool:
    """Cheap test before parsing: could this JSON text be a FHIR resource?"""
    if isinstance(text, bytes):
        return b'"resourceType"' in text
    return '"resourceType"' in text


@cache
def _bundle_model() -> Any:
    from fhir.resources.R4B.bundle import Bundle  # R4B models read R4 content; imported on first use

    return Bundle


def validate_bundle(data: dict[str, Any]) -> str | None:
    """Validate a Bundle with fhir.resources; the first problem as ``entry[2].resource.status: ...``."""
    from spinekb.bridge.loading import describe  # describe() words pydantic errors for every input

    try:
        _bundle_model().model_validate(data)
    except ValidationError as error:
        return "FHIR: " + describe(error)
    except KeyError as error:  # fhir.resources: an unknown resourceType
        name = str(error).strip("'\"").removeprefix("R4.").removesuffix("Type")
        return f"FHIR: unknown FHIR R4 resource type {name!r}"
    except (TypeError, ValueError) as error:
        return f"FHIR: {error}"
    return None


class _Reader:
    """Reads one Bundle's resources into case fields, keeping account of what it used."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.codes: FhirMap = fhir_map()
        self.data = data
        self.resources: list[dict[str, Any]] = []
        self.by_reference: dict[str, dict[str, Any]] = {}
        for entry in data.get("entry") or []:
            resource = entry.get("resource")
            if not isinstance(resource, dict):
                continue
            self.resources.append(resource)
            name = _name(resource)
            self.by_reference[name] = resource
            if entry.get("fullUrl"):
                self.by_reference[entry["fullUrl"]] = resource
        self.used: set[int] = set()
        self.unmapped: list[str] = []
        self.assumed: list[str] = []
        self.origins: dict[tuple[str, int], str] = {}

    # -- bookkeeping --------------------------------------------------------------------------
    def use(self, resource: dict[str, Any]) -> None:
        self.used.add(id(resource))

    def skip(self, resource: dict[str, Any], why: str) -> None:
        self.use(resource)
        self.unmapped.append(f"{_name(resource)}: {why}")

    def resolve(self, reference: dict[str, Any] | None) -> dict[str, Any] | None:
        if not reference or not reference.get("reference"):
            return None
        return self.by_reference.get(reference["reference"])

    def of_type(self, *types: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r.get("resourceType") in types and id(r) not in self.used]

    def codes_text(self, concept: dict[str, Any] | None) -> str:
        """The codings of a concept as a reader names them: ``SNOMED CT 12345``."""
        codings = (concept or {}).get("coding") or []
        text = ", ".join(f"{self.codes.system_name(c.get('system', ''))} {c.get('code', '?')}" for c in codings)
        return text or f"text {(concept or {}).get('text', '')!r}" if concept else "no code"

    def value(self, vocabulary: str, concept: dict[str, Any] | None, resource: dict[str, Any], what: str) -> str | None:
        found = self.codes.concept(vocabulary, concept)
        if found is None and concept:
            self.unmapped.append(f"{_name(resource)}: {what} {self.codes_text(concept)} maps to no "
                                 f"{vocabulary.replace('_', ' ')} value")
        return found

    def extension(self, resource: dict[str, Any], name: str) -> Any:
        return _fp("extension.where(url = %url).value", resource, url=self.codes.extension_url(name), first=True)

    # -- the case -----------------------------------------------------------------------------
    def read(self) -> dict[str, Any]:
        case: dict[str, Any] = {}
        studies = self.studies()
        case["request"] = self.request(studies)
        case["patient"] = self.patient(case["request"].get("date"))
        case["episode"] = self.episode(studies)
        case["evaluations"] = self.evaluations()
        case["trauma"] = self.trauma()
        case["treatments"] = self.treatments()
        case["prior_imaging"] = self.imaging()
        case["implants"] = self.implants()
        case["procedures"] = self.procedures()
        case["plans"] = self.plans()
        case["pain_scores"] = self.pain_scores()
        case["findings"] = self.findings()
        for resource in self.resources:
            if id(resource) not in self.used:
                self.unmapped.append(f"{_name(resource)}: {resource.get('resourceType')} is not read "
                                     "(no case field comes from it)")
        return case

    def studies(self) -> list[dict[str, Any]]:
        """The requested studies: ServiceRequests coded in CPT from the guideline's code table."""
        from spinekb.kb.static import static_kb

        table = static_kb().codes
        found = []
        for request in self.of_type("ServiceRequest"):
            if request.get("intent") == "plan" or self.codes.concept("plan", request.get("code")):
                continue
            cpt = [c.get("code") for c in (request.get("code") or {}).get("coding", [])
                   if c.get("system") == CPT_SYSTEM]
            if any(code in table for code in cpt):
                found.append(request)
                self.use(request)
            elif request.get("status") not in ("entered-in-error", "revoked"):
                self.skip(request, f"ServiceRequest {self.codes_text(request.get('code'))} is not a study of "
                                   "the guideline's CPT code table")
        return found

    def request(self, studies: list[dict[str, Any]]) -> dict[str, Any]:
        from spinekb.kb.static import static_kb

        table = static_kb().codes
        request: dict[str, Any] = {}
        if not studies:
            return request
        first = studies[0]
        identifier = (first.get("requisition") or {}).get("value") or _identifier(self.data) or _name(first)
        request["id"] = identifier
        authored = first.get("authoredOn")
        if authored:
            request["date"] = authored[:10]
            if len(authored) > 10 and "T" in authored:
                request["time"] = authored[11:19]
        time = self.extension(first, "request-time")
        if time:
            request["time"] = time
        purposes, techniques_by_study, cpt = [], [], []
        for study in studies:
            codes = [c["code"] for c in study["code"]["coding"]
                     if c.get("system") == CPT_SYSTEM and c.get("code") in table]
            cpt.append(codes[0])
            own = []
            for detail in study.get("orderDetail") or []:
                purpose = self.codes.concept("purpose", detail)
                technique = self.codes.concept("technique", detail)
                if purpose:
                    purposes.append(purpose)
                elif technique:
                    own.append(technique)
                else:
                    self.unmapped.append(f"{_name(study)}: orderDetail {self.codes_text(detail)} maps to no "
                                         "purpose or technique")
            techniques_by_study.append(own)
        if purposes:
            request["purpose"] = purposes[0]
            if len(set(purposes)) > 1:
                self.unmapped.append(f"{_name(first)}: the studies state different purposes; read {purposes[0]}")
        else:
            request["purpose"] = "diagnosis"
            self.assumed.append(f"{_name(first)}: no purpose in ServiceRequest.orderDetail; read as diagnosis")
        shared = [t for t in techniques_by_study[0] if all(t in own for own in techniques_by_study)]
        if shared:
            request["techniques"] = shared
        request["cpt"] = []
        for code, own in zip(cpt, techniques_by_study, strict=True):
            alone = [t for t in own if t not in shared]
            request["cpt"].append({"code": code, "techniques": alone} if alone else code)
        role = self.resolve(first.get("requester"))
        if role is not None and role.get("resourceType") == "PractitionerRole":
            self.use(role)
            requester = self.role_value(role)
            if requester:
                request["requester"] = requester
        elif first.get("requester"):
            self.unmapped.append(f"{_name(first)}: requester {first['requester'].get('reference')} is not a "
                                 "PractitionerRole of the Bundle")
        return request

    def role_value(self, role: dict[str, Any]) -> str | None:
        for concept in role.get("code") or []:
            found = self.codes.concept("requester", concept)
            if found:
                return found
        self.unmapped.append(f"{_name(role)}: PractitionerRole.code maps to no requester value")
        return None

    def patient(self, request_date: str | None) -> dict[str, Any]:
        patient: dict[str, Any] = {}
        patients = self.of_type("Patient")
        if patients:
            first = patients[0]
            self.use(first)
            if first.get("gender") in ("female", "male", "other", "unknown"):
                patient["sex"] = first["gender"]
            if first.get("birthDate"):
                if len(first["birthDate"]) == 10:
                    patient["birth_date"] = first["birthDate"]
                else:
                    self.unmapped.append(f"{_name(first)}: birthDate {first['birthDate']} is not a full date")
            for other in patients[1:]:
                self.skip(other, "a second Patient (the case is the first one's)")
        age_code = self.codes.fixed("age")
        for observation in self.of_type("Observation"):
            if _has_coding(observation.get("code"), age_code):
                self.use(observation)
                value = (observation.get("valueQuantity") or {}).get("value")
                if isinstance(value, (int, float)) and float(value).is_integer():
                    patient["age"] = int(value)
        return patient

    def episode(self, studies: list[dict[str, Any]]) -> dict[str, Any]:
        episode: dict[str, Any] = {}
        condition = None
        for study in studies:
            for reference in study.get("reasonReference") or []:
                target = self.resolve(reference)
                if target is not None and target.get("resourceType") == "Condition" and condition is None:
                    condition = target
        if condition is None:
            for candidate in self.of_type("Condition"):
                if self.codes.concept("condition", candidate.get("code")):
                    condition = candidate
                    break
        if condition is not None:
            self.use(condition)
            value = self.value("condition", condition.get("code"), condition, "code")
            if value:
                episode["condition"] = value
            sites = [self.value("region", site, condition, "bodySite") for site in condition.get("bodySite") or []]
            if any(sites):
                episode["regions"] = [r for r in dict.fromkeys(sites) if r]
            onset = condition.get("onsetDateTime") or (condition.get("onsetPeriod") or {}).get("start")
            if onset:
                episode["onset"] = onset[:10]
            changed = self.extension(condition, "symptoms-changed")
            if changed:
                episode["changed"] = changed[:10]
        if "condition" not in episode:
            for study in studies:
                for reason in study.get("reasonCode") or []:
                    found = self.codes.concept("condition", reason)
                    if found and "condition" not in episode:
                        episode["condition"] = found
        if "regions" not in episode and studies:
            from spinekb.kb.static import static_kb

            table = static_kb().codes
            regions: list[str] = []
            for study in studies:
                for coding in study["code"]["coding"]:
                    entry = table.get(coding.get("code", "")) if coding.get("system") == CPT_SYSTEM else None
                    region = getattr(entry, "region", None)
                    if region in ("cervical", "thoracic", "lumbar", "pelvis") and region not in regions:
                        regions.append(region)
            if regions:
                episode["regions"] = regions
                where = _name(condition) if condition is not None else "the Bundle"
                self.assumed.append(f"{where}: no Condition.bodySite; regions read from the requested studies: "
                                    + ", ".join(regions))
        return episode

    def evaluations(self) -> list[dict[str, Any]]:
        evaluations: list[dict[str, Any]] = []
        self.encounter_index: dict[str, int] = {}
        for encounter in self.of_type("Encounter"):
            self.use(encounter)
            start = (encounter.get("period") or {}).get("start")
            if not start:
                self.unmapped.append(f"{_name(encounter)}: no period.start (the evaluation date); not read")
                continue
            mode = kind = None
            for concept in encounter.get("type") or []:
                mode = mode or self.codes.concept("evaluation_mode", concept)
                kind = kind or self.codes.concept("evaluation_kind", concept)
            if mode is None:
                mode = self.codes.encounter_class_mode.get((encounter.get("class") or {}).get("code", ""))
            if mode is None:
                self.unmapped.append(f"{_name(encounter)}: class {(encounter.get('class') or {}).get('code')} "
                                     "says neither in person nor virtual; not read")
                continue
            if kind is None:
                kind = "other"
                self.assumed.append(f"{_name(encounter)}: Encounter.type states no initial evaluation or "
                                    "re-evaluation; read as another visit")
            evaluation: dict[str, Any] = {"date": start[:10], "mode": mode, "kind": kind,
                                          "exam": {"muscles": [], "reflexes": [], "sensory": [], "signs": [],
                                                   "progression": []}}
            for participant in encounter.get("participant") or []:
                role = self.resolve(participant.get("individual"))
                if role is not None and role.get("resourceType") == "PractitionerRole":
                    self.use(role)
                    evaluation["by"] = self.role_value(role)
                    break
            if evaluation.get("by") is None:
                evaluation.pop("by", None)
            index = len(evaluations)
            self.origins[("evaluations", index)] = _name(encounter)
            for key in _names_of(encounter, self.data):
                self.encounter_index[key] = index
            evaluations.append(evaluation)
        self.exams(evaluations)
        for evaluation in evaluations:
            evaluation["exam"] = {k: v for k, v in evaluation["exam"].items() if v}
            if not evaluation["exam"]:
                del evaluation["exam"]
        return evaluations

    def exams(self, evaluations: list[dict[str, Any]]) -> None:
        """Examination and response Observations, each attached to its Encounter."""
        exam_codes = self.codes.local_system("exam")
        for observation in self.of_type("Observation"):
            code = observation.get("code")
            local = next((c.get("code") for c in (code or {}).get("coding", []) if c.get("system") == exam_codes), None)
            sign = self.codes.concept("sign", code)
            if local not in ("muscle-strength", "reflex-grade", "sensory-loss", "deficit-progression",
                             "treatment-response") and sign is None:
                continue
            if local == "treatment-response" and observation.get("focus"):
                continue  # a treatment's response: read with the treatments
            encounter = (observation.get("encounter") or {}).get("reference")
            index = self.encounter_index.get(encounter or "")
            if index is None:
                self.skip(observation, "an examination finding without the Encounter (evaluation) it belongs to")
                continue
            self.use(observation)
            ev = evaluations[index]
            exam = ev["exam"]
            if local == "treatment-response":
                outcome = self.value("outcome", observation.get("valueCodeableConcept"), observation, "value")
                if outcome:
                    ev["outcome"] = outcome
            elif local == "muscle-strength":
                item = {"muscle": self.component(observation, "muscle", "muscle"), "side": self.side(observation),
                        "grade": observation.get("valueInteger")}
                root = self.component_string(observation, "nerve-root")
                if root:
                    item["root"] = root
                exam["muscles"].append(item)
            elif local == "reflex-grade":
                exam["reflexes"].append({"reflex": self.component(observation, "reflex", "reflex"),
                                         "side": self.side(observation), "grade": observation.get("valueInteger")})
            elif local == "sensory-loss":
                item = {"distribution": self.value("sensory_distribution", observation.get("valueCodeableConcept"),
                                                   observation, "value")}
                modality = self.component(observation, "sensory-modality", "sensory_modality")
                if modality:
                    item["modality"] = modality
                root = self.component_string(observation, "nerve-root")
                if root:
                    item["root"] = root
                exam["sensory"].append(item)
            elif local == "deficit-progression":
                value = self.value("progression", observation.get("valueCodeableConcept"), observation, "value")
                if value:
                    exam["progression"].append(value)
            else:
                result = self.value("sign_result", observation.get("valueCodeableConcept"), observation, "value")
                exam["signs"].append({"sign": sign, "result": result})

    def component(self, observation: dict[str, Any], code: str, vocabulary: str) -> str | None:
        for part in observation.get("component") or []:
            if self.codes.concept("exam", part.get("code")) == code:
                return self.value(vocabulary, part.get("valueCodeableConcept"), observation, code)
        return None

    def component_string(self, observation: dict[str, Any], code: str) -> str | None:
        for part in observation.get("component") or []:
            if self.codes.concept("exam", part.get("code")) == code:
                return part.get("valueString")
        return None

    def side(self, resource: dict[str, Any]) -> str | None:
        laterality = self.codes.fixed("laterality")
        for part in resource.get("component") or []:
            if _has_coding(part.get("code"), laterality):
                return self.value("side", part.get("valueCodeableConcept"), resource, "laterality")
        return None

    def findings(self) -> list[dict[str, Any]]:
        findings: list[dict[str, Any]] = []
        for resource in self.of_type("Observation", "Condition"):
            term = self.codes.concept("finding", resource.get("code"))
            if term is None:
                continue
            self.use(resource)
            if _negated(resource):
                self.unmapped.append(f"{_name(resource)}: states {term} is absent or refuted; not a finding")
                continue
            finding: dict[str, Any] = {"term": term}
            when = (resource.get("effectiveDateTime") or resource.get("onsetDateTime")
                    or (resource.get("effectivePeriod") or {}).get("start") or resource.get("recordedDate"))
            if when:
                finding["date"] = when[:10]
            level = self.extension(resource, "vertebral-level")
            if level:
                finding["level"] = level
            side = self.side(resource)
            if side:
                finding["side"] = side
            self.origins[("findings", len(findings))] = _name(resource)
            findings.append(finding)
        return findings

    def trauma(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for condition in self.of_type("Condition"):
            if self.codes.concept("exam", condition.get("code")) != "trauma-event":
                continue
            self.use(condition)
            event: dict[str, Any] = {"date": (condition.get("onsetDateTime") or "")[:10] or None, "mechanism": []}
            for evidence in condition.get("evidence") or []:
                for concept in evidence.get("code") or []:
                    factor = self.value("trauma_factor", concept, condition, "evidence.code")
                    if factor:
                        event["mechanism"].append(factor)
            regions = [self.value("region", site, condition, "bodySite") for site in condition.get("bodySite") or []]
            if any(regions):
                event["regions"] = [r for r in regions if r]
            height = self.extension(condition, "fall-height")
            if isinstance(height, dict) and height.get("value") is not None:
                event["fall_height_feet"] = height["value"]
            stairs = self.extension(condition, "fall-stairs")
            if stairs is not None:
                event["fall_stairs"] = stairs
            self.origins[("trauma", len(events))] = _name(condition)
            events.append(event)
        return events

    def treatments(self) -> list[dict[str, Any]]:
        treatments: list[dict[str, Any]] = []
        responses = {}
        response_code = {"system": self.codes.local_system("exam"), "code": "treatment-response"}
        for observation in self.of_type("Observation"):
            if _has_coding(observation.get("code"), response_code) and observation.get("focus"):
                for focus in observation["focus"]:
                    responses[focus.get("reference")] = observation
        for resource in self.of_type("MedicationStatement", "MedicationRequest", "Procedure"):
            kind = self.codes.concept("treatment", resource.get("medicationCodeableConcept") or resource.get("code"))
            if kind is None:
                if resource.get("resourceType") != "Procedure":
                    self.skip(resource, f"medication {self.codes_text(resource.get('medicationCodeableConcept'))} "
                                        "maps to no treatment kind")
                continue
            self.use(resource)
            if resource.get("status") in ("entered-in-error", "not-taken", "not-done", "cancelled"):
                self.unmapped.append(f"{_name(resource)}: status {resource['status']}; not a treatment given")
                continue
            period = resource.get("effectivePeriod") or resource.get("performedPeriod") or {}
            start = period.get("start") or resource.get("performedDateTime") or resource.get("authoredOn")
            if resource.get("resourceType") == "MedicationRequest":
                period = (resource.get("dispenseRequest") or {}).get("validityPeriod") or {}
                start = period.get("start") or resource.get("authoredOn")
            if not start:
                self.unmapped.append(f"{_name(resource)}: no start date; not read")
                continue
            treatment: dict[str, Any] = {"kind": kind, "start": start[:10]}
            end = period.get("end") or (resource.get("performedDateTime") if not period else None)
            if end:
                treatment["end"] = end[:10]
            outcome_concept = resource.get("outcome")
            response = None
            for key in _names_of(resource, self.data):
                response = response or responses.get(key)
            if response is not None:
                self.use(response)
                outcome_concept = response.get("valueCodeableConcept")
            if outcome_concept:
                outcome = self.value("outcome", outcome_concept, resource, "outcome")
                if outcome:
                    treatment["outcome"] = outcome
            category = resource.get("category") or {}
            by_patient = any((p.get("actor") or {}).get("reference", "").startswith("Patient/")
                             for p in resource.get("performer") or [])
            if by_patient or _has_coding(category, self.codes.fixed("patient_specified")):
                treatment["directed_by"] = "self"
            self.origins[("treatments", len(treatments))] = _name(resource)
            treatments.append(treatment)
        return treatments

    def pain_scores(self) -> list[dict[str, Any]]:
        scores: list[dict[str, Any]] = []
        wanted = [self.codes.fixed("pain_score")] + [
            {"system": self.codes.systems[s], "code": c} for s, c, _ in self.codes.codes["pain_score_alternatives"]]
        for observation in self.of_type("Observation"):
            if not any(_has_coding(observation.get("code"), w) for w in wanted):
                continue
            self.use(observation)
            value = observation.get("valueInteger", (observation.get("valueQuantity") or {}).get("value"))
            when = observation.get("effectiveDateTime") or (observation.get("effectivePeriod") or {}).get("start")
            if value is None or not when or not float(value).is_integer():
                self.unmapped.append(f"{_name(observation)}: a pain score without a whole 0-10 value or a date")
                continue
            self.origins[("pain_scores", len(scores))] = _name(observation)
            scores.append({"date": when[:10], "vas": int(value)})
        return scores

    def imaging(self) -> list[dict[str, Any]]:
        studies: list[dict[str, Any]] = []
        for report in self.of_type("DiagnosticReport"):
            self.use(report)
            imaging_study = None
            for reference in report.get("imagingStudy") or []:
                imaging_study = imaging_study or self.resolve(reference)
            if imaging_study is not None:
                self.use(imaging_study)
            modality = self.codes.concept("imaging_modality", report.get("code"))
            if modality is None and imaging_study is not None:
                for coding in imaging_study.get("modality") or []:
                    modality = modality or self.codes.dicom_modality.get(coding.get("code", ""))
            if modality is None:
                self.unmapped.append(f"{_name(report)}: code {self.codes_text(report.get('code'))} names no "
                                     "imaging modality; not read")
                continue
            region = self.codes.concept("imaging_region", self.extension(report, "imaging-region"))
            if region is None and imaging_study is not None:
                for series in imaging_study.get("series") or []:
                    region = region or self.codes.concept("imaging_region", series.get("bodySite"))
            results = []
            for concept in report.get("conclusionCode") or []:
                result = self.value("imaging_result", concept, report, "conclusionCode")
                if result:
                    results.append(result)
            when = (report.get("effectiveDateTime") or (report.get("effectivePeriod") or {}).get("start")
                    or report.get("issued"))
            if region is None or not results or not when:
                missing = [n for n, v in (("region", region), ("a result (conclusionCode)", results), ("date", when))
                           if not v]
                self.unmapped.append(f"{_name(report)}: no {' or '.join(missing)}; not read")
                continue
            study: dict[str, Any] = {"modality": modality, "region": region, "date": when[:10], "result": results}
            contrast = self.codes.concept("imaging_contrast", self.extension(report, "imaging-contrast"))
            if contrast:
                study["contrast"] = contrast
            if self.extension(report, "results-available") is False:
                study["available"] = False
            for name, key in (("vertebral-level", "level"), ("imaging-grade", "grade")):
                found = self.extension(report, name)
                if found is not None:
                    study[key] = found
            cobb = self.extension(report, "cobb-angle")
            if isinstance(cobb, dict) and cobb.get("value") is not None:
                study["cobb_angle"] = cobb["value"]
            self.origins[("prior_imaging", len(studies))] = _name(report)
            studies.append(study)
        for orphan in self.of_type("ImagingStudy"):
            self.skip(orphan, "an ImagingStudy without a DiagnosticReport stating its result")
        return studies

    def implants(self) -> list[dict[str, Any]]:
        implants = []
        for device in self.of_type("Device"):
            kind = self.value("implant", device.get("type"), device, "type")
            self.use(device)
            if kind is None:
                continue
            implant: dict[str, Any] = {"kind": kind}
            safety = {"system": self.codes.local_system("mri_safety"), "code": "mr-conditional"}
            if any(_has_coding(concept, safety) for concept in device.get("safety") or []):
                implant["mri_conditional"] = True
            implants.append(implant)
        return implants

    def procedures(self) -> list[dict[str, Any]]:
        done: list[dict[str, Any]] = []
        for procedure in self.of_type("Procedure"):
            kind = self.codes.concept("procedure", procedure.get("code"))
            if kind is None:
                self.skip(procedure, f"Procedure {self.codes_text(procedure.get('code'))} maps to no procedure "
                                     "or treatment kind")
                continue
            self.use(procedure)
            when = procedure.get("performedDateTime") or (procedure.get("performedPeriod") or {}).get("start")
            if not when:
                self.unmapped.append(f"{_name(procedure)}: no performed date; not read")
                continue
            item: dict[str, Any] = {"kind": kind, "date": when[:10]}
            time = self.extension(procedure, "procedure-time") or (when[11:19] if "T" in when else None)
            if time:
                item["time"] = time  # the wall-clock time as written (the case's clock is local)
            for site in procedure.get("bodySite") or []:
                region = self.value("region", site, procedure, "bodySite")
                if region:
                    item["region"] = region
            level = self.extension(procedure, "vertebral-level")
            if level:
                item["level"] = level
            if self.extension(procedure, "anterior-approach") is True:
                item["anterior"] = True
            approach = self.codes.concept("approach", self.extension(procedure, "surgical-approach"))
            if approach:
                item["approach"] = approach
            if self.extension(procedure, "revision") is True:
                item["revision"] = True
            self.origins[("procedures", len(done))] = _name(procedure)
            done.append(item)
        return done

    def plans(self) -> list[dict[str, Any]]:
        plans: list[dict[str, Any]] = []
        for request in self.of_type("ServiceRequest"):
            self.use(request)
            kind = self.value("plan", request.get("code"), request, "code")
            if kind is None:
                continue
            plan: dict[str, Any] = {"kind": kind}
            for site in request.get("bodySite") or []:
                region = self.value("region", site, request, "bodySite")
                if region:
                    plan["region"] = region
            level = self.extension(request, "vertebral-level")
            if level:
                plan["level"] = level
            if self.extension(request, "already-approved") is True:
                plan["approved"] = True
            self.origins[("plans", len(plans))] = _name(request)
            plans.append(plan)
        return plans


def _name(resource: dict[str, Any]) -> str:
    return f"{resource.get('resourceType', '?')}/{resource.get('id', '?')}"


def _names_of(resource: dict[str, Any], bundle: dict[str, Any]) -> list[str]:
    """Every way a reference may name ``resource``: Type/id and its entry's fullUrl."""
    names = [_name(resource)]
    for entry in bundle.get("entry") or []:
        if entry.get("resource") is resource and entry.get("fullUrl"):
            names.append(entry["fullUrl"])
    return names


def _identifier(bundle: dict[str, Any]) -> str | None:
    return (bundle.get("identifier") or {}).get("value") or bundle.get("id")


def _has_coding(concept: dict[str, Any] | None, wanted: dict[str, str]) -> bool:
    return any(c.get("system") == wanted["system"] and c.get("code") == wanted["code"]
               for c in (concept or {}).get("coding") or [])


def _negated(resource: dict[str, Any]) -> bool:
    """An Observation or Condition that states the absence of what it codes."""
    if resource.get("valueBoolean") is False:
        return True
    status = (resource.get("verificationStatus") or {}).get("coding") or []
    if any(c.get("code") in ("refuted", "entered-in-error") for c in status):
        return True
    return resource.get("status") in ("entered-in-error", "cancelled")


@cache
def _compiled(expression: str) -> Callable[..., list[Any]]:
    from fhirpathpy import compile as fhirpath
    from fhirpathpy.models import models

    return fhirpath(expression, models["r4"])


def _fp(expression: str, resource: dict[str, Any], first: bool = False, **variables: Any) -> Any:
    """Evaluate a FHIRPath expression on a resource (compiled once): the list of values, or with
    ``first`` the first value or ``None``."""
    values = _compiled(expression)(resource, variables)
    return (values[0] if values else None) if first else values


def _with_origin(message: str, origins: dict[tuple[str, int], str]) -> str:
    """``evaluations[1].date: ...`` -> ``evaluations[1].date (Encounter/e1): ...``."""
    match = re.match(r"^([a-z_]+)\[(\d+)\]([^:]*):", message)
    if match:
        origin = origins.get((match.group(1), int(match.group(2))))
        if origin:
            head = message[:match.end() - 1]
            return f"{head} ({origin}):{message[match.end():]}"
    return message


def bundle_to_case(data: dict[str, Any]) -> FhirCase:
    """Read a FHIR R4 Bundle into a case: validated with fhir.resources, then field by field.

    The result carries the case or the one-line error that stopped it (``field.path (Resource/id):
    problem``), and what did not map or was read by default.
    """
    from spinekb.bridge.loading import describe

    problem = validate_bundle(data)
    if problem:
        return FhirCase(error=problem, case_id=_identifier(data))
    reader = _Reader(data)
    raw = reader.read()
    result = FhirCase(unmapped=tuple(reader.unmapped), assumed=tuple(reader.assumed),
                      case_id=raw["request"].get("id"), origins=reader.origins)
    missing = _missing(raw)
    if missing:
        result.error = missing
        return result
    try:
        result.case = Case.model_validate(raw)
    except ValidationError as error:
        result.error = _with_origin(describe(error), reader.origins)
    return result


def loaded_from_bundle(source: str, data: dict[str, Any]) -> Any:
    """A Bundle as one input of a batch (:class:`spinekb.bridge.loading.Loaded`)."""
    from spinekb.bridge.loading import Loaded
    from spinekb.bridge.records import CaseError

    read = bundle_to_case(data)
    if read.case is None:
        return Loaded(source, error=CaseError(source=source, error=read.error or "not a case", case_id=read.case_id),
                      unmapped=read.unmapped, assumed=read.assumed)
    return Loaded(source, case=read.case, unmapped=read.unmapped, assumed=read.assumed)


def _missing(raw: dict[str, Any]) -> str | None:
    """The first part of the case the Bundle does not state at all, in FHIR's words."""
    if not raw["request"]:
        return ("request: no ServiceRequest coded in CPT (http://www.ama-assn.org/go/cpt) with a study of "
                "the guideline's code table")
    if "date" not in raw["request"]:
        return "request.date: is required (ServiceRequest.authoredOn of the requested study)"
    if not raw["patient"]:
        return "patient: is required (a Patient with birthDate, or an Observation LOINC 30525-0 Age)"
    if "condition" not in raw["episode"]:
        return ("episode.condition: is required (a Condition, or a ServiceRequest.reasonCode, coded as one of "
                "the presentations of docs/fhir.md)")
    return None


def parse_bundle(text: str | bytes) -> dict[str, Any] | None:
    """JSON text parsed, if it is a FHIR Bundle; ``None`` otherwise (a case, or invalid JSON:
    the case reader words that)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if is_bundle(data) else None


def dumps_bundle(bundle: dict[str, Any]) -> str:
    """A Bundle as the JSON text examples/fhir holds (indented, stable)."""
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
