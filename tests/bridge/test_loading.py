"""Bad input of each kind is rejected with one line naming the field path and the problem."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from spinekb.bridge.loading import CaseInputError, load_case, read_sources

GOOD = {
    "request": {"id": "ok", "date": "2024-05-01", "cpt": ["72148"], "purpose": "diagnosis"},
    "patient": {"age": 54, "sex": "female"},
    "episode": {"regions": ["lumbar"], "condition": "low_back_pain", "onset": "2024-01-10"},
    "treatments": [{"kind": "physical_therapy", "start": "2024-03-05", "end": "2024-04-16"}],
    "evaluations": [{"date": "2024-03-02", "mode": "in_person", "kind": "initial",
                     "exam": {"muscles": [{"muscle": "ankle_dorsiflexion", "side": "left", "grade": 4}]}}],
}


def write(tmp_path: Path, data: object, name: str = "case.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def error_of(tmp_path: Path, data: object, name: str = "case.json") -> str:
    with pytest.raises(CaseInputError) as caught:
        load_case(write(tmp_path, data, name))
    message = str(caught.value)
    assert "\n" not in message, "an error is one line"
    return message


def patched(path: list, value: object) -> dict:
    data = json.loads(json.dumps(GOOD))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def test_good_case_loads(tmp_path):
    """The reference case is valid (so each failure below is caused by its one change)."""
    assert load_case(write(tmp_path, GOOD)).request.id == "ok"


def test_bad_json(tmp_path):
    """Malformed JSON names the file and says invalid JSON."""
    message = error_of(tmp_path, '{"request": ')
    assert message.startswith(f"error: {tmp_path / 'case.json'}: invalid JSON")


def test_unknown_field(tmp_path):
    """A misspelt field is an error, never silently ignored."""
    assert "request.purpse: unknown field" in error_of(tmp_path, patched(["request", "purpse"], "x"))


def test_unknown_term(tmp_path):
    """A finding outside the vocabulary names its path and the term."""
    message = error_of(tmp_path, patched(["findings"], [{"term": "saddle_anaesthesia"}]))
    assert "findings[0].term: unknown term 'saddle_anaesthesia'" in message


def test_unknown_cpt(tmp_path):
    """A CPT code outside the guideline's table names its index."""
    message = error_of(tmp_path, patched(["request", "cpt"], ["72148", "99999"]))
    assert "request.cpt[1]: unknown CPT code '99999'" in message


def test_end_before_start(tmp_path):
    """A treatment ending before it starts is rejected at its end field."""
    message = error_of(tmp_path, patched(["treatments"], [
        {"kind": "nsaids", "start": "2024-04-01", "end": "2024-03-01"}]))
    assert "treatments[0].end: is before start (2024-03-01 < 2024-04-01)" in message


def test_grade_out_of_range(tmp_path):
    """Muscle grades run 0-5."""
    data = patched(["evaluations"], [{"date": "2024-03-02", "mode": "in_person", "kind": "initial",
                                      "exam": {"muscles": [{"muscle": "knee_extension", "side": "left", "grade": 6}]}}])
    assert "evaluations[0].exam.muscles[0].grade: Input should be less than or equal to 5" in error_of(tmp_path, data)


def test_date_after_request(tmp_path):
    """No date of the record may fall after the request date."""
    message = error_of(tmp_path, patched(["episode", "onset"], "2024-06-01"))
    assert "episode.onset: is after the request date (2024-06-01 > 2024-05-01)" in message


def test_missing_field(tmp_path):
    """A required field that is absent is named."""
    data = json.loads(json.dumps(GOOD))
    del data["request"]["purpose"]
    assert "request.purpose: is required" in error_of(tmp_path, data)


def test_bad_enum_value(tmp_path):
    """An evaluation mode outside the list names the value given."""
    data = patched(["evaluations"], [{"date": "2024-03-02", "mode": "carrier_pigeon", "kind": "initial"}])
    message = error_of(tmp_path, data)
    assert "evaluations[0].mode:" in message and "carrier_pigeon" in message


def test_yaml_case_and_bad_yaml(tmp_path):
    """YAML cases load like JSON ones; broken YAML is one line."""
    import yaml
    assert load_case(write(tmp_path, yaml.safe_dump(GOOD), "c.yaml")).request.id == "ok"
    assert "invalid YAML" in error_of(tmp_path, "request: [unclosed", "bad.yaml")


def test_every_input_gets_an_outcome(tmp_path):
    """A folder with good, bad and JSON Lines inputs yields one item per case, none dropped."""
    write(tmp_path, GOOD, "a.json")
    write(tmp_path, "{oops", "b.json")
    lines = [json.dumps(patched(["request", "id"], f"l{i}")) for i in range(3)] + ["", "not json"]
    write(tmp_path, "\n".join(lines), "c.jsonl")
    items = list(read_sources([str(tmp_path), str(tmp_path / "missing.json")]))
    assert [bool(i.case) for i in items] == [True, False, True, True, True, False, False]
    assert items[-1].error.message == "no such file or folder"
    assert items[-2].source.endswith("c.jsonl:5")
