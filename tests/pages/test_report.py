"""spinekb report: one self-contained HTML page over a results file, streamed."""
from __future__ import annotations

import json
import time
from collections import Counter
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from spinekb.bridge.batch import evaluate_sources
from spinekb.cli.main import main
from spinekb.explain.report import write_report
from spinekb.explain.report_data import read_results

from pagecheck import page_facts

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """The examples' decision records as JSON Lines, plus an error record."""
    path = tmp_path_factory.mktemp("report") / "results.jsonl"
    lines = [json.dumps(o.to_json()) for o in evaluate_sources([str(ROOT / "examples" / "cases")])]
    lines.append(json.dumps({"case_id": None, "source": "bad.json", "error": "request.date: missing"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def page(results, tmp_path_factory) -> str:
    output = tmp_path_factory.mktemp("page") / "report.html"
    with results.open(encoding="utf-8") as lines:
        write_report(lines, output, source="results.jsonl")
    return output.read_text(encoding="utf-8")


def test_figures_match_the_records(results):
    """Totals, per-CPT counts and the deciding criteria are counted from the records."""
    records = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    studies = [s for r in records if "studies" in r for s in r["studies"]]
    data = read_results(results.read_text(encoding="utf-8").splitlines())
    assert (data.cases, data.errors, data.studies) == (len(records) - 1, 1, len(studies))
    assert data.denied == sum(s["decision"] == "denied" for s in studies)
    assert data.denied + data.approved == data.studies
    assert data.by_cpt[("72148", "denied")] == sum(s["cpt"] == "72148" and s["decision"] == "denied" for s in studies)
    denied_unmet = sum(any(r["criterion"] == "sp5_1_c3" and r["kind"] == "unmet" for r in s["reasons"])
                       for s in studies if s["decision"] == "denied")
    assert data.deciding["sp5_1_c3"] == denied_unmet > 0
    kinds = Counter(s.get("denial_kind") for s in studies if s["decision"] == "denied")
    assert data.kinds == kinds and data.has_kinds == any(k is not None for k in kinds)


def test_denial_kind_and_whatif_are_read_when_present():
    """Records that carry denial_kind and a what-if are counted by kind and action."""
    study = {"cpt": "72148", "description": "MRI", "decision": "denied", "sections": ["SP-5.1"], "criteria": [],
             "reasons": [], "denial_kind": "not_yet",
             "what_if": {"sets": [{"edits": [{"action": "evaluate"}, {"action": "resubmit"}]}]}}
    data = read_results([json.dumps({"case_id": "a", "kb_version": "v", "studies": [study]}), "not json", "[]"])
    assert data.has_kinds and data.kinds == {"not_yet": 1}
    assert data.whatif == {"evaluate": 1, "resubmit": 1} and data.whatif_studies == 1 and data.unreadable == 2


def test_page_is_self_contained_with_charts_and_every_denial(page, results):
    """No outside reference; real SVG charts; a row per denial whose links all resolve."""
    facts = page_facts(page)
    assert facts.outside == [], "the page must open offline"
    assert facts.tags.get("svg", 0) >= 3 and "<script src" not in page
    data = read_results(results.read_text(encoding="utf-8").splitlines())
    assert sum(1 for i in facts.ids if i.startswith("d") and i[1:].isdigit()) == data.denied
    assert set(facts.anchors) <= facts.ids, sorted(set(facts.anchors) - facts.ids)[:5]
    assert "denied-no-trial" in page and "Failure of recent (within 3 months) 6-week trial" in page
    assert facts.headings[0] == "h1" and 'id="denial-kinds"' in page


def test_records_without_denial_kind_say_so(tmp_path):
    """Records written before denial_kind existed: the page says they carry none, and still counts."""
    study = {"cpt": "72148", "description": "MRI", "decision": "denied", "sections": ["SP-5.1"], "criteria": [],
             "reasons": [{"kind": "unmet", "section": "SP-5.1", "criterion": "sp5_1_c3", "text": "Failure"}]}
    output = tmp_path / "old.html"
    data = write_report([json.dumps({"case_id": "old", "kb_version": "v", "studies": [study]})], output, charts=False)
    html = output.read_text(encoding="utf-8")
    assert data.denied == 1 and "carry no <code>denial_kind</code>" in html and 'href="#c-sp5_1_c3"' in html


def test_diff_section(results, tmp_path):
    """--diff adds the impact of a KB revision, read from the JSON of spinekb diff."""
    diff = {"base": {"name": "installed", "version": "v1"}, "other": {"name": "kb90", "version": "v2"},
            "cases": 3, "studies": 3, "rejected": 0, "changed": 1, "flipped": 1, "denied_to_approved": 1,
            "approved_to_denied": 0, "reasons_only": 0, "unattributed": 0, "other_removed": [], "other_added": [],
            "criteria": [{"criterion": "sp1_0_face_to_face_60d", "section": "SP-1.0", "text": "A face-to-face",
                          "status": "changed", "studies": 1, "cases": 1, "flipped": 1, "denied_to_approved": 1,
                          "approved_to_denied": 0, "changes": ["c1 72148"],
                          "removed": [{"where": "kb/sp1_0_general.lp:21", "text": "window(face_to_face,60)."}],
                          "added": [{"where": "kb/sp1_0_general.lp:21", "text": "window(face_to_face,90)."}]}],
            "study_changes": [{"case_id": "c1", "cpt": "72148", "description": "MRI", "flipped": True,
                               "before": {"decision": "denied"}, "after": {"decision": "approved"}}]}
    (tmp_path / "diff.json").write_text(json.dumps(diff))
    output = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(results), "-o", str(output), "--diff", str(tmp_path / "diff.json"),
                                       "--no-charts"])
    assert result.exit_code == 0, result.output
    html = output.read_text(encoding="utf-8")
    assert 'id="diff"' in html and "window(face_to_face,90)." in html and "sp1_0_face_to_face_60d" in html
    (tmp_path / "bad.json").write_text("[1]")
    bad = CliRunner().invoke(main, ["report", str(results), "-o", str(output), "--diff", str(tmp_path / "bad.json")])
    assert bad.exit_code == 2 and "not the JSON of `spinekb diff" in bad.stderr


def test_streaming_keeps_memory_flat(results, tmp_path):
    """6,000 records: the report is written in seconds, and the peak of Python memory does not grow
    with the number of records (tables of figures only; the denial rows go through a file)."""
    lines = results.read_text(encoding="utf-8").splitlines()

    def run(n: int) -> tuple[int, float]:
        records = (lines[i % len(lines)] for i in range(n))
        tracemalloc.start()
        start = time.perf_counter()
        write_report(records, tmp_path / f"r{n}.html", charts=False)
        took = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak, took

    small, _ = run(1_000)
    large, took = run(6_000)
    assert large < small * 1.5 + 2_000_000, (small, large)
    assert took < 30
