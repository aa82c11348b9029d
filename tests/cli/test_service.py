"""The HTTP service in-process (FastAPI's TestClient): every endpoint, every error, and the CDS
Hooks answers a prior-authorization engineer checks (cards, CRD coverage-information, X12)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fhirpathpy import evaluate as fhirpath
from fhirpathpy.models import models

from spinekb.bridge.batch import evaluate_sources
from spinekb.bridge.models import Case
from spinekb.cli.service import create_app, hook_request
from spinekb.explain.cards import CRD_COVERAGE_INFORMATION
from spinekb.kb import kb_version

ROOT = Path(__file__).resolve().parents[2]
CASES, BUNDLES = ROOT / "examples" / "cases", ROOT / "examples" / "fhir"
FHIR_R4 = models["r4"]
A1, A3, A4 = "approved-coccydynia-mri-pelvis", "denied-mr-spectroscopy", "denied-no-trial"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(max_body_bytes=200_000), raise_server_exceptions=False) as client:
        yield client


def _case(name: str) -> dict:
    return json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))


def _bundle(name: str) -> dict:
    return json.loads((BUNDLES / f"{name}.json").read_text(encoding="utf-8"))


def _record(name: str) -> dict:
    return next(iter(evaluate_sources([str(CASES / f"{name}.json")]))).to_json()


# -- plain API ------------------------------------------------------------------------------------

def test_health_names_the_rules_in_force(client):
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok" and answer.json()["kb_version"] == kb_version()


def test_schema_case_is_the_models_schema(client):
    assert client.get("/schema/case").json() == Case.model_json_schema()


def test_openapi_is_generated_from_the_same_models(client):
    spec = client.get("/openapi.json").json()
    assert "/evaluate" in spec["paths"] and "/cds-services/{service_id}" in spec["paths"]
    assert {"Case", "CaseResult", "StudyDecision"} <= set(spec["components"]["schemas"])


@pytest.mark.parametrize("name", [A1, A3, A4, "mixed-mri-without-and-with-contrast"])
def test_evaluate_decides_a_case_and_its_bundle_exactly_like_the_command_line(client, name):
    expected = _record(name)
    assert client.post("/evaluate", json=_case(name)).json() == expected
    fhir_json = {"content-type": "application/fhir+json"}
    assert client.post("/evaluate", json=_bundle(name), headers=fhir_json).json() == expected


def test_evaluate_reports_what_a_bundle_could_not_map(client):
    bundle = _bundle(A4)
    bundle["entry"].append({"resource": {"resourceType": "Observation", "id": "bp", "status": "final",
                                         "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]}}})
    answer = client.post("/evaluate", json=bundle).json()
    assert answer["studies"][0]["review_action"] == "A4"
    assert any(line.startswith("Observation/bp: ") for line in answer["unmapped"])


@pytest.mark.parametrize("body, status, error, path", [
    (b"{broken", 422, "invalid JSON", ""),
    (b"", 422, "", ""),
    (json.dumps({**_case(A4), "treatments": [{"kind": "nsaids", "start": "2024-04-10", "end": "2024-04-01"}]}),
     422, "treatments[0].end: is before start", "treatments[0].end"),
    (json.dumps({**_case(A4), "weight": 80}), 422, "weight: unknown field", "weight"),
    (json.dumps({"resourceType": "Bundle", "type": "collection", "entry": []}), 422,
     "request: no ServiceRequest coded in CPT", "request"),
])
def test_evaluate_rejects_what_is_not_a_case_as_json_422_with_the_field_path(client, body, status, error, path):
    answer = client.post("/evaluate", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status
    assert set(answer.json()) == {"error", "path"} and error in answer.json()["error"]
    assert answer.json()["path"] == path


def test_evaluate_wants_json(client):
    answer = client.post("/evaluate", content=b"<case/>", headers={"content-type": "application/xml"})
    assert answer.status_code == 415 and "application/json" in answer.json()["error"]


def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(client):
    big = b'{"x": "' + b"a" * 300_000 + b'"}'
    declared = client.post("/evaluate", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and "larger than 200000 bytes" in declared.json()["error"]

    def chunks():  # no Content-Length: the limit holds while the body streams in
        for start in range(0, len(big), 50_000):
            yield big[start:start + 50_000]

    streamed = client.post("/evaluate", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_explain_answers_json_text_and_svg(client):
    data = client.post("/explain", json=_case(A4)).json()
    assert data["decision"] == "denied" and data["closest"] and "sp5_1_c3" in data["text"]
    assert data["needs"][0]["criterion"]["criterion"] == "sp5_1_c3"
    text = client.post("/explain", json=_case(A4), headers={"accept": "text/plain"})
    assert text.headers["content-type"].startswith("text/plain") and "DENIED" in text.text
    if shutil.which("dot"):
        svg = client.post("/explain", json=_bundle(A4), headers={"accept": "image/svg+xml"})
        assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
        assert b"<svg" in svg.content


def test_explain_needs_a_requested_study(client):
    several = client.post("/explain", json=_case("mixed-mri-without-and-with-contrast"))
    assert several.status_code == 422 and several.json()["path"] == "study"
    unknown = client.post("/explain?study=72131", json=_case(A4))
    assert unknown.status_code == 422 and "72131 is not requested" in unknown.json()["error"]
    chosen = client.post("/explain?study=72158", json=_case("mixed-mri-without-and-with-contrast"))
    assert chosen.status_code == 200 and chosen.json()["cpt"] == "72158"


def test_unknown_paths_and_internal_errors_are_json_without_a_stack_trace(client, monkeypatch):
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["error"]
    assert client.get("/explanations/0123").status_code == 404
    from spinekb.cli.service import Decider

    async def broken_engine(self, case, trace=False):
        return 1 / 0

    monkeypatch.setattr(Decider, "decide", broken_engine)
    broken = client.post("/evaluate", json=_case(A1))
    assert broken.status_code == 500 and broken.json()["error"].startswith("internal error: ZeroDivisionError")
    assert "Traceback" not in broken.text


# -- CDS Hooks ------------------------------------------------------------------------------------

def _values(resource: dict, part: str) -> list:
    """The values of one part of the CRD coverage-information extension, as a CRD client reads
    them (FHIRPath: extension.where(url=...).extension.where(url=part).value)."""
    found = fhirpath(resource, f"extension.where(url = '{CRD_COVERAGE_INFORMATION}')"
                               f".extension.where(url = '{part}').value", model=FHIR_R4)
    assert found == _plain_values(resource, part)
    return found


def _plain_values(resource: dict, part: str) -> list:
    for extension in resource.get("extension", []):
        if extension["url"] == CRD_COVERAGE_INFORMATION:
            return [next(v for k, v in e.items() if k.startswith("value")) for e in extension["extension"]
                    if e["url"] == part]
    return []


def test_discovery_lists_order_select_and_order_sign_with_their_prefetch(client):
    services = client.get("/cds-services").json()["services"]
    assert {s["hook"] for s in services} == {"order-select", "order-sign"}
    for service in services:
        assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        wanted = {"conditions", "observations", "procedures", "encounters", "medications", "reports"}
        assert wanted <= set(service["prefetch"])


@pytest.mark.parametrize("name, action, covered, pa, doc, indicator", [
    (A1, "A1", "covered", "satisfied", None, "info"),
    (A4, "A4", "conditional", "auth-needed", "clinical", "warning"),
    (A3, "A3", "not-covered", None, None, "critical"),
])
def test_order_sign_answers_a_card_and_a_crd_coverage_assertion_per_order(client, name, action, covered, pa, doc,
                                                                          indicator):
    answer = client.post("/cds-services/spinekb-order-sign", json=hook_request(_bundle(name)))
    assert answer.status_code == 200
    body = answer.json()
    (card,), (update,) = body["cards"], body["systemActions"]
    assert len(card["summary"]) <= 140 and card["indicator"] == indicator
    assert f"X12 278 {action}" in card["detail"] and kb_version() in card["source"]["label"]
    assert card["links"][0]["type"] == "absolute"
    assert update["type"] == "update" and update["resource"]["resourceType"] == "ServiceRequest"
    resource = update["resource"]
    assert _values(resource, "covered") == [covered]
    assert _values(resource, "pa-needed") == ([pa] if pa else [])
    assert _values(resource, "doc-needed") == ([doc] if doc else [])
    assert _values(resource, "coverage") == [{"reference": "Coverage/coverage-1"}]
    assert _values(resource, "info-needed") == []
    (assertion,) = _values(resource, "coverage-assertion-id")
    assert _values(resource, "reason")[0]["text"]
    # the card's link is the whole explanation of this very decision
    link = card["links"][0]["url"].replace("http://testserver", "")
    linked = client.get(link, headers={"accept": "application/json"})
    assert linked.status_code == 200 and linked.json()["decision"] == ("approved" if action == "A1" else "denied")
    assert assertion in card["links"][0]["url"]


def test_the_unmet_conditions_are_the_cards_words_and_the_assertions_reason(client):
    body = client.post("/cds-services/spinekb-order-sign", json=hook_request(_bundle(A4))).json()
    text = "Failure of recent (within 3 months) 6-week trial"
    assert text in body["cards"][0]["detail"] and "sp5\\_1\\_c3" not in body["cards"][0]["detail"]
    assert text in _values(body["systemActions"][0]["resource"], "reason")[0]["text"]


def test_the_same_request_gets_the_same_assertion_id(client):
    first = client.post("/cds-services/spinekb-order-sign", json=hook_request(_bundle(A4))).json()
    again = client.post("/cds-services/spinekb-order-sign", json=hook_request(_bundle(A4), hook_instance="x")).json()
    ids = [_values(b["systemActions"][0]["resource"], "coverage-assertion-id") for b in (first, again)]
    assert ids[0] == ids[1]


def test_order_select_answers_for_the_selected_orders_only(client):
    call = hook_request(_bundle("mixed-mri-without-and-with-contrast"), hook="order-select")
    call["context"]["selections"] = ["ServiceRequest/study-72158"]
    body = client.post("/cds-services/spinekb-order-select", json=call).json()
    assert [c["summary"][:9] for c in body["cards"]] == ["CPT 72158"]
    assert [a["resource"]["id"] for a in body["systemActions"]] == ["study-72158"]


def test_without_prefetch_the_answer_is_a_card_saying_what_is_missing(client):
    call = hook_request(_bundle(A4))
    call.pop("prefetch")
    answer = client.post("/cds-services/spinekb-order-sign", json=call)
    assert answer.status_code == 200
    (card,), (update,) = answer.json()["cards"], answer.json()["systemActions"]
    assert "missing" in card["summary"] and "`patient`" in card["detail"] and "`conditions`" in card["detail"]
    assert _values(update["resource"], "covered") == ["conditional"]
    assert _values(update["resource"], "doc-needed") == ["clinical"]


@pytest.mark.parametrize("prefetch", [
    {"patient": {"resourceType": "Patient", "id": "patient", "birthDate": "not a date"}},
    {"patient": {"resourceType": "Patient", "id": "patient"}, "conditions": {"resourceType": "Bundle", "entry": "x"}},
    {"patient": {"resourceType": "NoSuchType"}},
])
def test_odd_prefetch_data_gets_a_card_never_a_crash(client, prefetch):
    call = hook_request(_bundle(A4))
    call["prefetch"] = prefetch
    answer = client.post("/cds-services/spinekb-order-sign", json=call)
    assert answer.status_code == 200
    assert "missing" in answer.json()["cards"][0]["summary"]


def test_odd_draft_orders_are_no_crash(client):
    call = hook_request(_bundle(A4))
    call["context"]["draftOrders"]["entry"].append({"resource": {"resourceType": "ServiceRequest", "id": "x",
                                                                  "code": "72148"}})
    call["context"]["draftOrders"]["entry"].append("not an entry")
    answer = client.post("/cds-services/spinekb-order-sign", json=call)
    assert answer.status_code == 200 and len(answer.json()["cards"]) == 1
    assert "X12 278 A4" in answer.json()["cards"][0]["detail"]  # decided, the odd order left aside


def test_orders_outside_the_guideline_get_no_card(client):
    call = hook_request(_bundle(A4))
    call["context"]["draftOrders"]["entry"][0]["resource"]["code"] = {
        "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]}
    assert client.post("/cds-services/spinekb-order-sign", json=call).json() == {"cards": []}


@pytest.mark.parametrize("path, body, status, error", [
    ("/cds-services/nope", {}, 404, "no CDS service 'nope'"),
    ("/cds-services/spinekb-order-sign", {"hook": "order-sign"}, 422, "hookInstance: is required"),
    ("/cds-services/spinekb-order-select", None, 422, "hook: 'order-sign' sent to the order-select service"),
    ("/cds-services/spinekb-order-sign", {"hook": "order-sign", "hookInstance": "i",
                                         "context": {"userId": "u", "patientId": "p"}}, 422,
     "context.draftOrders: is required"),
])
def test_a_bad_hook_call_is_json_with_the_field_path(client, path, body, status, error):
    payload = hook_request(_bundle(A4)) if body is None else body
    answer = client.post(path, json=payload)
    assert answer.status_code == status and error in answer.json()["error"]


# -- the engine process ---------------------------------------------------------------------------

def test_the_engine_process_is_replaced_and_decides_alike_and_survives_a_crash():
    """Recycled every chunk here (CHUNKS_PER_ENGINE in service): same records each time; an engine
    process killed mid-service costs the requests it held, and the next one is decided again."""
    import asyncio
    import os
    import signal

    from spinekb.bridge.loading import load_case
    from spinekb.cli.service import Decider

    case = load_case(CASES / f"{A4}.json")
    decider = Decider(chunks_per_engine=1)
    try:
        async def decide() -> dict:
            return (await decider.decide(case)).record.to_json()

        records = [asyncio.run(decide()) for _ in range(3)]
        assert records[0] == records[1] == records[2] == _record(A4)
        for pid in list(decider.pool._processes or {}):  # CPython's executor keeps its processes by pid
            os.kill(pid, signal.SIGKILL)
        try:
            asyncio.run(decide())
        except Exception:  # noqa: BLE001 - the request the dead process held may fail
            pass
        assert asyncio.run(decide()) == records[0]
    finally:
        decider.close()


def test_the_readmes_cds_hooks_example_is_current_and_answered(client):
    """examples/cds-hooks/order-sign-denied-no-trial.json is hook_request() of its Bundle (the
    README quotes it and its answer)."""
    path = ROOT / "examples" / "cds-hooks" / "order-sign-denied-no-trial.json"
    call = json.loads(path.read_text(encoding="utf-8"))
    assert call == hook_request(_bundle(A4), hook_instance=call["hookInstance"])
    body = client.post("/cds-services/spinekb-order-sign", json=call).json()
    assert body["cards"][0]["summary"].startswith("CPT 72148 MRI Lumbar without contrast: guideline criteria not")
    assert _values(body["systemActions"][0]["resource"], "covered") == ["conditional"]


#: Da Vinci CRD STU2 invariants of ext-coverage-information, as the IG states them (FHIRPath).
CRD_INVARIANTS = {
    "crd-ci-q2": "extension.where(url = 'covered' and value != 'not-covered').exists() "
                 "implies extension.where(url = 'pa-needed').exists()",
    "crd-ci-q2 (2.1)": "extension.where(url = 'covered' and value = 'not-covered').exists() "
                       "implies extension.where(url = 'pa-needed').exists().not()",
    "crd-ci-q3": "extension.where(url = 'info-needed').exists() implies extension.where((url = 'covered' "
                 "or url = 'pa-needed' or url = 'doc-needed') and value = 'conditional').count() >= 1",
    "coverage, date and assertion id": "extension.where(url = 'coverage').exists() and "
                                       "extension.where(url = 'date').exists() and "
                                       "extension.where(url = 'coverage-assertion-id').exists()",
}


@pytest.mark.parametrize("name", [A1, A3, A4])
def test_the_system_action_is_a_valid_fhir_servicerequest_meeting_the_crd_invariants(client, name):
    from fhir.resources.R4B.servicerequest import ServiceRequest

    answer = client.post("/cds-services/spinekb-order-sign", json=hook_request(_bundle(name))).json()
    update = answer["systemActions"][0]
    ServiceRequest.model_validate(update["resource"])  # raises on invalid FHIR
    (extension,) = [e for e in update["resource"]["extension"] if e["url"] == CRD_COVERAGE_INFORMATION]
    for invariant, expression in CRD_INVARIANTS.items():
        assert fhirpath(extension, expression, model=FHIR_R4) == [True], invariant


def test_an_order_already_carrying_this_assertion_gets_no_second_update(client):
    """CRD: a service does not send a system action unless something is new. The assertion id is
    a digest of the rules, the case and the study, so an order the EHR updated is recognised."""
    first = client.post("/cds-services/spinekb-order-sign", json=hook_request(_bundle(A4))).json()
    updated = first["systemActions"][0]["resource"]
    again = hook_request(_bundle(A4))
    again["context"]["draftOrders"]["entry"][0]["resource"] = updated
    answer = client.post("/cds-services/spinekb-order-sign", json=again).json()
    assert len(answer["cards"]) == 1 and answer["systemActions"] == []
