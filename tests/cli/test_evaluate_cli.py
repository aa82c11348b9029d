"""The evaluate/schema/vocabulary commands: output shapes and exit codes."""
from __future__ import annotations

import json

from click.testing import CliRunner

from spinekb.cli.main import main

CASE = {
    "request": {"id": "cli-1", "date": "2024-05-01", "cpt": ["72148", "76390"], "purpose": "diagnosis"},
    "patient": {"age": 54},
    "episode": {"regions": ["lumbar"], "condition": "low_back_pain", "onset": "2024-01-10"},
    "evaluations": [
        {"date": "2024-03-02", "mode": "in_person", "kind": "initial"},
        {"date": "2024-04-20", "mode": "telephone", "kind": "reevaluation", "outcome": "no_significant_improvement"}],
    "treatments": [{"kind": "physical_therapy", "start": "2024-03-05", "end": "2024-04-16"}],
}


def test_jsonl_batch_with_a_bad_line_exits_2_and_keeps_every_record():
    """Two good lines and a bad one: three records in order, an error line on stderr, exit 2."""
    lines = [json.dumps(CASE), "{broken", json.dumps({**CASE, "request": {**CASE["request"], "id": "cli-2"}})]
    result = CliRunner().invoke(main, ["evaluate", "-", "--format", "jsonl"], input="\n".join(lines))
    assert result.exit_code == 2
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r.get("case_id") for r in records] == ["cli-1", None, "cli-2"]
    assert records[1]["error"].startswith("invalid JSON") and records[1]["source"] == "<stdin>:2"
    assert "error: <stdin>:2: invalid JSON" in result.stderr
    study = records[0]["studies"][0]
    assert set(study) >= {"cpt", "decision", "sections", "criteria", "reasons"}
    assert records[0]["kb_version"].startswith("spine-imaging-V1.0.2023+kb.")
    assert study["cpt"] == "72148" and study["decision"] == "approved" and "SP-5.1" in study["sections"]


def test_json_format_is_an_array_and_exit_0(tmp_path):
    """--format json prints a JSON array of case records; all valid -> exit 0."""
    path = tmp_path / "c.json"
    path.write_text(json.dumps(CASE))
    result = CliRunner().invoke(main, ["evaluate", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [s["decision"] for s in records[0]["studies"]] == ["approved", "denied"]


def test_text_format_names_decisions_and_criteria(tmp_path):
    """The default text output names each study's decision, sections and criteria."""
    path = tmp_path / "c.json"
    path.write_text(json.dumps(CASE))
    result = CliRunner().invoke(main, ["evaluate", str(path)])
    assert result.exit_code == 0
    assert "72148 MRI Lumbar without contrast: APPROVED  [SP-5.1]" in result.stdout
    assert "sp5_1_p_mri" in result.stdout


def test_missing_file_is_one_line_exit_2():
    """A path that does not exist: one error line, no traceback."""
    result = CliRunner().invoke(main, ["evaluate", "/nonexistent/case.json"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: /nonexistent/case.json: no such file or folder"


def test_schema_and_vocabulary():
    """schema prints the JSON Schema; vocabulary lists terms with sections."""
    schema = json.loads(CliRunner().invoke(main, ["schema"]).stdout)
    assert schema["title"] == "Case" and "request" in schema["properties"]
    vocab = json.loads(CliRunner().invoke(main, ["vocabulary", "--format", "json"]).stdout)
    saddle = next(t for t in vocab if t["term"] == "saddle_anesthesia")
    assert saddle["sections"] == ["SP-1.2"] and "saddle" in saddle["definition"]


def test_output_bytes_do_not_depend_on_jobs_or_chunk_size():
    """Byte-identical records for one in-process chunk, and for many chunks over two workers."""
    import subprocess
    import sys
    from pathlib import Path

    examples = str(Path(__file__).resolve().parents[2] / "examples" / "cases")
    command = [sys.executable, "-m", "spinekb.cli.main", "evaluate", examples, "--format", "jsonl"]
    one = subprocess.run(command + ["--jobs", "1", "--chunk-size", "1000"], capture_output=True, check=False)
    many = subprocess.run(command + ["--jobs", "2", "--chunk-size", "9"], capture_output=True, check=False)
    assert one.returncode == many.returncode == 0, many.stderr.decode()[-500:]
    assert one.stdout == many.stdout and one.stdout.count(b"\n") == len(list(Path(examples).glob("*.json")))
