"""The FHIR code mapping as data: ``bridge/fhir_codes.yaml`` read once, with lookups both ways.

    >>> codes = fhir_map()
    >>> [c["code"] for c in codes.codings("condition", "low_back_pain")]
    ['low_back_pain', 'M54.50', '279039007']
    >>> codes.concept("condition", {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.59"}]})
    'low_back_pain'

Every enumerated value of the case format is a code of a local code system named after its
vocabulary (``<local_base>/CodeSystem/condition``), so every value round-trips; the table adds
the standard codings (ICD-10-CM, SNOMED CT, LOINC, CPT) a value has. Which model field each
vocabulary's values come from is :data:`VOCABULARY_FIELDS`, so the table can be held to the models.
"""
from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from importlib import resources
from typing import Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel

from spinekb.bridge import models as m

#: Which model fields take their values from each vocabulary (``finding`` is the KB's vocabulary).
VOCABULARY_FIELDS: dict[str, tuple[tuple[type[BaseModel], str], ...]] = {
    "condition": ((m.Episode, "condition"),),
    "region": ((m.Episode, "regions"), (m.Trauma, "regions"), (m.Procedure, "region"), (m.Plan, "region")),
    "imaging_region": ((m.PriorImaging, "region"),),
    "side": ((m.MuscleGrade, "side"), (m.ReflexGrade, "side"), (m.Finding, "side")),
    "sign_result": ((m.SignResult, "result"),),
    "treatment": ((m.Treatment, "kind"),),
    "plan": ((m.Plan, "kind"),),
    "purpose": ((m.Request, "purpose"),),
    "technique": ((m.Request, "techniques"), (m.RequestedStudy, "techniques")),
    "requester": ((m.Request, "requester"), (m.Evaluation, "by")),
    "evaluation_mode": ((m.Evaluation, "mode"),),
    "evaluation_kind": ((m.Evaluation, "kind"),),
    "outcome": ((m.Evaluation, "outcome"), (m.Treatment, "outcome")),
    "muscle": ((m.MuscleGrade, "muscle"),),
    "reflex": ((m.ReflexGrade, "reflex"),),
    "sensory_distribution": ((m.SensoryLoss, "distribution"),),
    "sensory_modality": ((m.SensoryLoss, "modality"),),
    "sign": ((m.SignResult, "sign"),),
    "progression": ((m.Exam, "progression"),),
    "trauma_factor": ((m.Trauma, "mechanism"),),
    "directed_by": ((m.Treatment, "directed_by"),),
    "imaging_modality": ((m.PriorImaging, "modality"),),
    "imaging_contrast": ((m.PriorImaging, "contrast"),),
    "imaging_result": ((m.PriorImaging, "result"),),
    "implant": ((m.Implant, "kind"),),
    "procedure": ((m.Procedure, "kind"),),
    "approach": ((m.Procedure, "approach"),),
}

#: Local codes of the translation's own observations and conditions (vocabulary ``exam``).
EXAM_CODES = ("muscle-strength", "reflex-grade", "sensory-loss", "deficit-progression",
              "treatment-response", "trauma-event", "muscle", "reflex", "nerve-root", "sensory-modality")


def allowed_values(annotation: Any) -> tuple[str, ...]:
    """The string values a model annotation admits: the members of a Literal or an Enum,
    looked for through Optional, tuple[...] and Annotated."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return tuple(str(member.value) for member in annotation)
    if origin in (Union, Optional, tuple, typing.Annotated) or isinstance(annotation, types.UnionType):
        found: list[str] = []
        for argument in typing.get_args(annotation):
            if argument is not Ellipsis:
                found.extend(v for v in allowed_values(argument) if v not in found)
        return tuple(found)
    return ()


@cache
def vocabulary_values(vocabulary: str) -> tuple[str, ...]:
    """Every value of a vocabulary, as the models (or, for findings, the KB) define them."""
    if vocabulary == "finding":
        from spinekb.kb.vocabulary import vocabulary as terms

        return tuple(terms())
    if vocabulary == "exam":
        return EXAM_CODES
    found: list[str] = []
    for model, name in VOCABULARY_FIELDS.get(vocabulary, ()):
        found.extend(v for v in allowed_values(model.model_fields[name].annotation) if v not in found)
    return tuple(found)


@cache
def _value_set(vocabulary: str) -> frozenset[str]:
    return frozenset(vocabulary_values(vocabulary))


@dataclass(frozen=True)
class Entry:
    """One standard coding of a value: emitted on export unless ``import_only``."""

    system: str
    code: str
    display: str
    import_only: bool = False

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


@dataclass
class FhirMap:
    """The mapping table, with lookups from case values to codings and back."""

    local_base: str
    systems: dict[str, str]
    codes: dict[str, Any]
    extensions: dict[str, str]
    medication_kinds: frozenset[str]
    encounter_class_mode: dict[str, str]
    mode_encounter_class: dict[str, Entry]
    dicom_modality: dict[str, str]
    vocabularies: dict[str, dict[str, tuple[Entry, ...]]]
    _reverse: dict[str, dict[tuple[str, str], str]] = field(default_factory=dict)
    _prefixes: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for vocabulary, values in self.vocabularies.items():
            exact: dict[tuple[str, str], str] = {}
            prefixes: list[tuple[str, str, str]] = []
            for value, entries in values.items():
                for entry in entries:
                    exact[(entry.system, entry.code)] = value
                    if entry.import_only:
                        prefixes.append((entry.system, entry.code, value))
            prefixes.sort(key=lambda p: -len(p[1]))  # longest match first
            self._reverse[vocabulary], self._prefixes[vocabulary] = exact, prefixes

    # -- names ------------------------------------------------------------------------------
    def local_system(self, vocabulary: str) -> str:
        """The URL of the local code system of a vocabulary."""
        return f"{self.local_base}/CodeSystem/{vocabulary.replace('_', '-')}"

    def extension_url(self, name: str) -> str:
        """The URL of a local extension (``extensions`` in the table)."""
        assert name in self.extensions, name
        return f"{self.local_base}/StructureDefinition/{name}"

    def fixed(self, name: str) -> dict[str, str]:
        """A fixed standard coding of the table's ``codes`` (e.g. ``age``: LOINC 30525-0)."""
        system, code, display = self.codes[name]
        return {"system": self.systems[system], "code": code, "display": display}

    # -- case value -> FHIR -----------------------------------------------------------------
    def codings(self, vocabulary: str, value: str) -> list[dict[str, str]]:
        """The codings of a value: its local coding first, then the standard ones to emit."""
        local = {"system": self.local_system(vocabulary), "code": value}
        return [local, *(e.coding() for e in self.vocabularies.get(vocabulary, {}).get(value, ())
                         if not e.import_only)]

    def concept_of(self, vocabulary: str, value: str, text: str | None = None) -> dict[str, Any]:
        """A CodeableConcept of a value."""
        concept: dict[str, Any] = {"coding": self.codings(vocabulary, value)}
        if text:
            concept["text"] = text
        return concept

    # -- FHIR -> case value -----------------------------------------------------------------
    def concept(self, vocabulary: str, concept: dict[str, Any] | None) -> str | None:
        """The value a CodeableConcept (or a Coding) stands for, or ``None``: the local coding
        first, then an exact standard code, then the longest import-only category."""
        if not concept:
            return None
        codings = concept.get("coding", [concept] if "code" in concept else [])
        local, allowed = self.local_system(vocabulary), None
        for coding in codings:
            if coding.get("system") == local and coding.get("code"):
                allowed = allowed or _value_set(vocabulary)
                if coding["code"] in allowed:
                    return str(coding["code"])
        exact = self._reverse.get(vocabulary, {})
        for coding in codings:
            found = exact.get((coding.get("system", ""), coding.get("code", "")))
            if found:
                return found
        for coding in codings:
            system, code = coding.get("system", ""), coding.get("code", "")
            for prefix_system, prefix, value in self._prefixes.get(vocabulary, ()):
                if system == prefix_system and code.startswith(prefix):
                    return value
        return None

    def system_name(self, url: str) -> str:
        """A code system URL as people name it (``ICD-10-CM``, ``SNOMED CT``), for messages."""
        names = {"icd10cm": "ICD-10-CM", "snomed": "SNOMED CT", "loinc": "LOINC", "cpt": "CPT",
                 "dicom": "DICOM", "actcode": "v3 ActCode"}
        for key, system in self.systems.items():
            if system == url:
                return names.get(key, url)
        if url.startswith(self.local_base):
            return "spinekb " + url.rsplit("/", 1)[-1]
        return url or "(no system)"


def _entry(systems: dict[str, str], row: list[Any]) -> Entry:
    system, code, display, *flags = row
    return Entry(systems[system], str(code), str(display), "import" in flags)


@cache
def fhir_map() -> FhirMap:
    """The mapping table of the package (``bridge/fhir_codes.yaml``), read once per process."""
    text = resources.files("spinekb.bridge").joinpath("fhir_codes.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    systems = data["systems"]
    vocabularies = {
        name: {value: tuple(_entry(systems, row) for row in rows) for value, rows in (values or {}).items()}
        for name, values in data["vocabularies"].items()
    }
    mode_class = {mode: _entry(systems, row) for mode, row in data["mode_encounter_class"].items()}
    return FhirMap(data["local_base"], systems, data["codes"], data["extensions"],
                   frozenset(data["medication_kinds"]), data["encounter_class_mode"], mode_class,
                   data["dicom_modality"], vocabularies)
