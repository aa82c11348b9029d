"""Output records are typed: every record `spinekb evaluate` prints validates against the
published output schema (`spinekb schema --output`), and reasons carry kind, section, criterion,
the guideline's words and the case facts read."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from spinekb.bridge.records import output_schema
from spinekb.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cases"


def _records(*args: str, stdin: str | None = None) -> list[dict]:
    result = CliRunner().invoke(main, ["evaluate", *args, "--format", "jsonl", "--jobs", "1"], input=stdin)
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_every_example_record_validates_against_the_output_schema():
    """Decided cases and error records alike."""
    validator = jsonschema.Draft202012Validator(output_schema())
    records = _records(str(EXAMPLES), "-", stdin='{"request": {"id": "bad"}}\nnot json\n')
    assert len(records) == len(list(EXAMPLES.glob("*.json"))) + 2
    for record in records:
        validator.validate(record)
    assert [r["error"] for r in records if "error" in r][0].startswith("request.date")


def test_the_schema_rejects_a_record_of_another_shape():
    """The schema can fail: a reason without a kind is not a record."""
    record = _records(str(EXAMPLES / "denied-no-trial.json"))[0]
    del record["studies"][0]["reasons"][0]["kind"]
    errors = list(jsonschema.Draft202012Validator(output_schema()).iter_errors(record))
    assert errors


def test_a_denial_reason_carries_kind_section_criterion_words_and_facts_with_dates():
    record = _records(str(EXAMPLES / "denied-no-trial.json"))[0]
    reason = record["studies"][0]["reasons"][0]
    assert reason["kind"] == "unmet" and reason["section"] == "SP-5.1" and reason["criterion"] == "sp5_1_c3"
    assert reason["text"].startswith("Failure of recent (within 3 months) 6-week trial")
    assert "treatment(0, nsaids, day -27 (2024-04-04), day -6 (2024-04-25))" in reason["facts"]


def test_schema_command_prints_both_schemas():
    runner = CliRunner()
    case = json.loads(runner.invoke(main, ["schema"]).output)
    out = json.loads(runner.invoke(main, ["schema", "--output"]).output)
    assert case["title"] == "Case" and "request" in case["properties"]
    assert out["title"] == "spinekb decision record" and "Reason" in out["$defs"]
