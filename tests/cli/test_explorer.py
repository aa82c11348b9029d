"""The web explorer's routes (cli/explorer.py), as `spinekb serve` includes them in the service."""
from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from spinekb.cli.service import create_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client():
    app = create_app()
    with TestClient(app) as client:
        yield client


def test_page_lists_the_examples(client):
    """GET / is the form, with every example case to pick."""
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'value="denied-no-trial"' in page.text and 'id="case"' in page.text
    assert client.get("/explorer/examples/denied-no-trial").json()["request"]["id"] == "denied-no-trial"
    assert client.get("/explorer/examples/../../etc/passwd").status_code == 404


def test_decide_a_case_and_a_fhir_bundle(client):
    """A case JSON and a FHIR Bundle are decided; each study has its answer and graph."""
    case = (ROOT / "examples" / "cases" / "denied-no-trial.json").read_text(encoding="utf-8")
    page = client.post("/explorer/decide", data={"case": case})
    assert page.status_code == 200
    assert 'id="study-72148"' in page.text and "sp5_1_c3" in page.text and "What would change it" in page.text
    assert "<svg" in page.text and "denied-no-trial" in page.text  # the case stays in the form
    bundles = sorted((ROOT / "examples" / "fhir").glob("*.json"))
    if bundles:
        fhir = client.post("/explorer/decide", data={"case": bundles[0].read_text(encoding="utf-8")})
        assert fhir.status_code == 200 and 'class="study"' in fhir.text


def test_bad_input_is_one_line(client):
    """Invalid JSON, an invalid case and an empty form: 422 with one line; the text is kept."""
    bad = client.post("/explorer/decide", data={"case": "{broken"})
    assert bad.status_code == 422 and "error: invalid JSON" in bad.text and "{broken" in bad.text
    invalid = client.post("/explorer/decide", data={"case": '{"request": {}}'})
    assert invalid.status_code == 422 and 'id="error"' in invalid.text
    empty = client.post("/explorer/decide", data={"case": ""})
    assert empty.status_code == 422 and "choose an example" in empty.text
    picked = client.post("/explorer/decide", data={"case": "", "example": "denied-no-trial"})
    assert picked.status_code == 200 and 'id="study-72148"' in picked.text
