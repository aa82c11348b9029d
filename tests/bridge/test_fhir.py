"""FHIR R4 in: the code table is held to the models and the code sets, every example Bundle is
generated from its case and reads back to exactly that case and decision, and what maps to
nothing is reported, never dropped."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from spinekb.bridge.batch import evaluate_sources
from spinekb.bridge.fhir import bundle_to_case, case_to_bundle, dumps_bundle
from spinekb.bridge.fhir_map import VOCABULARY_FIELDS, fhir_map, vocabulary_values
from spinekb.bridge.loading import load_case, validate_json
from spinekb.bridge.models import Case

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "examples" / "cases"
BUNDLES = ROOT / "examples" / "fhir"
EXAMPLES = sorted(CASES.glob("*.json"))


def _case_fields(model: type, prefix: str = "") -> set[str]:
    """Every field path of the case format: request.date, evaluations[].exam.muscles[].grade ..."""
    import typing

    from pydantic import BaseModel

    paths: set[str] = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        nested = [a for a in _flatten(info.annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        is_list = typing.get_origin(info.annotation) is tuple
        if nested:
            for sub in nested:
                paths |= _case_fields(sub, f"{path}{'[]' if is_list else ''}.")
            if not is_list and name != "exam":
                continue
        paths.add(path + ("[]" if is_list else ""))
    return paths


def _flatten(annotation: object) -> list[object]:
    import typing

    found = [annotation]
    for argument in typing.get_args(annotation):
        found += _flatten(argument)
    return found


# -- the table ----------------------------------------------------------------------------------

def test_every_value_of_the_table_is_a_value_of_the_case_format():
    """No stale entry: a vocabulary of the table lists only values the models (or the KB's
    vocabulary, for findings) define."""
    table = fhir_map()
    for vocabulary, values in table.vocabularies.items():
        known = set(vocabulary_values(vocabulary))
        if vocabulary in ("nerve_root", "mri_safety", "request_id"):
            continue  # free codes (a root like L5), a fixed code, an identifier system
        assert known, f"vocabulary {vocabulary} names no model field (fhir_map.VOCABULARY_FIELDS)"
        assert set(values) <= known, f"{vocabulary}: {sorted(set(values) - known)} are not case values"
    assert set(VOCABULARY_FIELDS) <= set(table.vocabularies)


def test_no_standard_code_stands_for_two_values_of_one_vocabulary():
    """Import is unambiguous: within a vocabulary a code maps to one value (categories aside,
    where the longest one wins)."""
    for vocabulary, values in fhir_map().vocabularies.items():
        seen: dict[tuple[str, str], str] = {}
        for value, entries in values.items():
            for entry in entries:
                key = (entry.system, entry.code)
                assert key not in seen, f"{vocabulary}: {key} stands for {seen[key]} and {value}"
                seen[key] = value


def test_every_icd10cm_code_of_the_table_is_in_the_icd10cm_code_set():
    """Codes emitted are billable codes; import-only entries are categories or codes of the set."""
    icd = pytest.importorskip("simple_icd_10_cm")
    system = fhir_map().systems["icd10cm"]
    checked = 0
    for values in fhir_map().vocabularies.values():
        for entries in values.values():
            for entry in (e for e in entries if e.system == system):
                assert icd.is_valid_item(entry.code), entry.code
                if not entry.import_only:
                    assert icd.is_leaf(entry.code), f"{entry.code} is emitted but not a billable code"
                checked += 1
    assert checked > 60


def test_docs_fhir_names_every_field_of_the_case_format():
    """The documented mapping is total: docs/fhir.md has a row for every case field."""
    text = (ROOT / "docs" / "fhir.md").read_text(encoding="utf-8")
    missing = sorted(p for p in _case_fields(Case) if f"`{p}`" not in text)
    assert not missing, f"docs/fhir.md does not map {missing}"


def test_import_reads_icd10_categories_snomed_and_local_codes():
    """One value, three ways in: the local code, SNOMED CT, and any ICD-10-CM code below M54.5."""
    table = fhir_map()
    for coding in ({"system": table.local_system("condition"), "code": "low_back_pain"},
                   {"system": "http://snomed.info/sct", "code": "279039007"},
                   {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.59"}):
        assert table.concept("condition", {"coding": [coding]}) == "low_back_pain"
    assert table.concept("condition", {"coding": [{"system": "http://snomed.info/sct", "code": "1"}]}) is None


# -- examples/fhir: generated from examples/cases, reading back exactly ---------------------------

def test_every_example_case_has_its_generated_bundle():
    """examples/fhir is `spinekb fhir export examples/cases -o examples/fhir` (make fhir-examples),
    byte for byte: a case changed or added without regenerating fails here."""
    assert [p.name for p in sorted(BUNDLES.glob("*.json"))] == [p.name for p in EXAMPLES]
    stale = [p.name for p in EXAMPLES if (BUNDLES / p.name).read_text(encoding="utf-8")
             != dumps_bundle(case_to_bundle(load_case(p)))]
    assert not stale, f"regenerate with `make fhir-examples`: {stale}"


def test_every_bundle_reads_back_to_exactly_its_case_with_nothing_unmapped():
    for path in EXAMPLES:
        read = bundle_to_case(json.loads((BUNDLES / path.name).read_text(encoding="utf-8")))
        assert read.error is None, (path.name, read.error)
        assert read.case == load_case(path), path.name
        assert read.unmapped == () and read.assumed == (), (path.name, read.unmapped, read.assumed)


def test_every_bundle_decides_exactly_like_its_case():
    """The same records (decision, criteria, reasons, review action, KB version) by either door."""
    by_case = [o.to_json() for o in evaluate_sources([str(CASES)])]
    by_bundle = [o.to_json() for o in evaluate_sources([str(BUNDLES)])]
    assert len(by_case) == len(EXAMPLES)
    assert by_bundle == by_case


# -- what does not map is reported ----------------------------------------------------------------

def _example(name: str = "denied-no-trial") -> dict:
    return json.loads((BUNDLES / f"{name}.json").read_text(encoding="utf-8"))


def test_unmapped_resources_and_codes_are_reported_per_case_and_change_nothing(engine):
    bundle = _example()
    bundle["entry"] += [
        {"resource": {"resourceType": "Observation", "id": "bp", "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
                      "subject": {"reference": "Patient/patient"}}},
        {"resource": {"resourceType": "Condition", "id": "c12", "subject": {"reference": "Patient/patient"},
                      "code": {"coding": [{"system": "http://snomed.info/sct", "code": "12345"}]}}},
        {"resource": {"resourceType": "Organization", "id": "org", "name": "Clinic"}}]
    loaded = validate_json("bundle.json", json.dumps(bundle))
    assert loaded.case == load_case(CASES / "denied-no-trial.json")
    assert any(n.startswith("Observation/bp: ") for n in loaded.unmapped)
    assert any(n.startswith("Condition/c12: ") for n in loaded.unmapped)
    assert any(n.startswith("Organization/org: ") for n in loaded.unmapped)
    record = next(iter(evaluate_sources(["-"], stdin=_lines(json.dumps(bundle))))).to_json()
    assert any(n.startswith("Observation/bp") for n in record["unmapped"])
    assert record["studies"][0]["decision"] == "denied"


def _lines(text: str):
    import io

    return io.StringIO(text + "\n")


def test_an_ehr_bundle_without_local_codes_is_read_from_standard_codes_and_readings_are_reported():
    """ICD-10-CM, an ambulatory Encounter without our types, CPT without orderDetail: the case is
    made, and each reading the Bundle did not state is listed under `assumed`."""
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "1970-02-01"}},
        {"resource": {"resourceType": "Condition", "id": "lbp", "subject": {"reference": "Patient/p"},
                      "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.59"}]},
                      "onsetDateTime": "2024-01-10T09:00:00-05:00"}},
        {"resource": {"resourceType": "Encounter", "id": "e1", "status": "finished",
                      "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                      "period": {"start": "2024-03-02T10:00:00-05:00"}}},
        {"resource": {"resourceType": "ServiceRequest", "id": "sr", "status": "draft", "intent": "order",
                      "subject": {"reference": "Patient/p"}, "authoredOn": "2024-05-01",
                      "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "72148"}]}}}]}
    read = bundle_to_case(bundle)
    assert read.error is None, read.error
    case = read.case
    assert case.episode.condition.value == "low_back_pain" and case.episode.regions == ("lumbar",)
    assert case.request.purpose.value == "diagnosis" and case.age_years() == 54
    assert case.evaluations[0].mode == "in_person" and case.evaluations[0].kind == "other"
    assumed = " | ".join(read.assumed)
    assert "purpose" in assumed and "regions read from the requested studies" in assumed and "Encounter/e1" in assumed


@pytest.mark.parametrize("change, message", [
    (lambda b: b["entry"].__setitem__(0, {"resource": {"resourceType": "Patient", "id": "patient",
                                                       "birthDate": "1970-13-01"}}),
     "FHIR: entry[0].resource.birthDate"),
    (lambda b: b["entry"].append({"resource": {"resourceType": "Foo"}}), "unknown FHIR R4 resource type 'Foo'"),
    (lambda b: b.__setitem__("entry", [e for e in b["entry"] if e["resource"]["resourceType"] != "ServiceRequest"]),
     "request: no ServiceRequest coded in CPT"),
    (lambda b: [b.__setitem__("entry", [e for e in b["entry"] if e["resource"]["resourceType"] != "Condition"]),
                [e["resource"].pop("reasonCode", None) for e in b["entry"]]],
     "episode.condition: is required"),
])
def test_a_bundle_that_cannot_make_a_case_is_one_line_naming_what_is_wrong(change, message):
    bundle = copy.deepcopy(_example())
    change(bundle)
    loaded = validate_json("b.json", json.dumps(bundle))
    assert loaded.case is None and loaded.error is not None
    assert message in loaded.error.error, loaded.error.error


def test_a_case_error_names_the_resource_it_came_from():
    """`evaluations[0].date (Encounter/evaluation-0): is after the request date`."""
    bundle = _example()
    for entry in bundle["entry"]:
        if entry["resource"]["id"] == "evaluation-0":
            entry["resource"]["period"] = {"start": "2024-06-01", "end": "2024-06-01"}
    read = bundle_to_case(bundle)
    assert read.error is not None and read.error.startswith("evaluations[0].date (Encounter/evaluation-0): is after")
