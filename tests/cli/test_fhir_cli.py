"""`spinekb fhir export` / `spinekb fhir import`, and `spinekb evaluate` on a Bundle."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from spinekb.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "examples" / "cases" / "denied-no-trial.json"


def test_export_writes_a_bundle_that_import_reads_back_to_the_case(tmp_path):
    runner = CliRunner()
    exported = runner.invoke(main, ["fhir", "export", str(CASE), "-o", str(tmp_path)])
    assert exported.exit_code == 0, exported.output
    bundle = tmp_path / "denied-no-trial.json"
    assert json.loads(bundle.read_text())["resourceType"] == "Bundle"
    imported = runner.invoke(main, ["fhir", "import", str(bundle)])
    assert imported.exit_code == 0 and imported.stderr == ""
    assert json.loads(imported.stdout) == json.loads(CASE.read_text())


def test_import_lists_what_did_not_map_and_fails_in_one_line(tmp_path):
    bundle = json.loads((ROOT / "examples" / "fhir" / "denied-no-trial.json").read_text())
    bundle["entry"].append({"resource": {"resourceType": "Organization", "id": "o"}})
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    result = CliRunner().invoke(main, ["fhir", "import", str(path)])
    assert result.exit_code == 0 and "unmapped: Organization/o: " in result.stderr
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection"}))
    result = CliRunner().invoke(main, ["fhir", "import", str(path)])
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {path}: request: no ServiceRequest")


def test_evaluate_reads_a_bundle_and_prints_what_did_not_map(tmp_path):
    bundle = json.loads((ROOT / "examples" / "fhir" / "denied-no-trial.json").read_text())
    bundle["entry"].append({"resource": {"resourceType": "Organization", "id": "o"}})
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    text = CliRunner().invoke(main, ["evaluate", str(path), "--jobs", "1"])
    assert text.exit_code == 0 and "X12 278 A4 (pended)" in text.stdout and "unmapped: Organization/o" in text.stdout
    record = json.loads(CliRunner().invoke(main, ["evaluate", str(path), "--format", "jsonl"]).stdout)
    assert record["studies"][0]["review_action"] == "A4" and record["unmapped"][0].startswith("Organization/o")
