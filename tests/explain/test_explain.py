"""spinekb.explain: the derivation graph (why / why not, condition by condition) as text and as a
picture, the structured explanation on top of it, and the CLI.

The cases are the SP-5.1 base case of tests/kb/sp5_1.yaml (approved for 72148) and variants of
it. Every assertion is about what the solver decided, as the explanation must report it.
"""
from __future__ import annotations

import html

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from spinekb.bridge.models import Case
from spinekb.cli.main import main
from spinekb.explain import (GraphvizMissing, UnknownStudy, render_dot,
                             render_text, write_explanation, write_graph)
from spinekb.explain.build import explain_study

BASE = yaml.safe_load((Path(__file__).parents[1] / "kb" / "sp5_1.yaml").read_text())["base"]
#: The face-to-face visit moved from day -60 to day -61: SP-5.1 c2 fails, nothing else does.
LATE_VISIT = {"evaluations": [
    {"date": "2024-03-01", "mode": "in_person", "kind": "initial"},
    {"date": "2024-04-20", "mode": "telephone", "kind": "reevaluation",
     "outcome": "no_significant_improvement"}]}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def merge(base: object, patch: object) -> object:
    """Deep-merge ``patch`` onto ``base`` as the YAML tests do: dicts merge, anything else replaces."""
    if isinstance(base, dict) and isinstance(patch, dict):
        return {**base, **{k: merge(base[k], v) if k in base else v for k, v in patch.items()}}
    return patch


def case_of(patch: dict | None = None) -> Case:
    return Case.model_validate(merge(BASE, patch or {}))


@pytest.fixture(scope="module")
def approval(engine):
    return explain_study(engine, case_of(), "72148")


@pytest.fixture(scope="module")
def denial(engine):
    return explain_study(engine, case_of(LATE_VISIT), "72148")


@pytest.fixture
def case_file(tmp_path):
    def write(patch: dict | None = None) -> str:
        path = tmp_path / "case.json"
        path.write_text(json.dumps(merge(BASE, patch or {})))
        return str(path)
    return write


def test_denial_names_unmet_criterion_words_section_and_what_would_change(denial):
    """Day -61: the text names sp5_1_c2 with its words and section, the closest pathway, 'would need'."""
    text = render_text(denial)
    assert denial.decision == "denied"
    assert "Case sp5-1: CPT 72148 MRI Lumbar without contrast: DENIED" in text
    assert denial.kb_version in text
    assert "sp5_1_p_mri" in denial.closest
    assert "under the closest pathway SP-5.1 sp5_1_p_mri (1 unmet condition(s))" in text
    assert "The case would need: SP-5.1 sp5_1_c2: A face-to-face evaluation within the last 60 days" in text
    assert [n.criterion.criterion for n in denial.needs if n.pathway == "sp5_1_p_mri"] == ["sp5_1_c2"]
    assert "✗ all of: SP-5.1 sp5_1_c2" in text


def test_denial_lists_every_candidate_pathway(engine, denial):
    """Why not: every pathway that names the study is in the graph, met or not."""
    pathways = {e.child for e in denial.below(denial.root) if e.relation == "candidate pathway"}
    assert pathways == {f"criterion:{p}" for p in engine.kb.pathways_for("72148")}
    assert all(denial.node(p).met is False for p in pathways)


def test_denial_shows_the_facts_a_leaf_read_with_dates(denial):
    """The face-to-face leaf shows its rule location and the evaluation on day -61 with its date."""
    text = render_text(denial)
    assert "rule kb/sp1_0_general.lp:" in text
    assert "evaluation(0, day -61 (2024-03-01), in_person, initial)" in text
    reads = {denial.node(e.child).text for e in denial.below("criterion:sp1_0_face_to_face_60d")}
    assert "evaluation(0, day -61 (2024-03-01), in_person, initial)" in reads
    assert "onset(day -112 (2024-01-10))" in reads


def test_unmet_any_of_is_stated_as_one_of(engine):
    """Improved at re-evaluation: c3 (an any-of) fails; 'would need' offers each branch with its words."""
    explanation = explain_study(engine, case_of({"evaluations": [
        {"date": "2024-03-02", "mode": "in_person", "kind": "initial"},
        {"date": "2024-04-20", "mode": "telephone", "kind": "reevaluation", "outcome": "improved"}]}),
        "72148")
    text = render_text(explanation)
    assert "sp5_1_p_mri" in explanation.closest
    needs = {n.criterion.criterion: n for n in explanation.needs if n.pathway == "sp5_1_p_mri"}
    assert set(needs) == {"sp5_1_c3"}
    assert needs["sp5_1_c3"].combine == "any"
    assert [o.criterion for o in needs["sp5_1_c3"].options] == [
        q for _, q in engine.kb.children("sp5_1_c3")]
    assert "one of:" in text
    assert "- SP-1.0 sp1_0_failed_recent_trial: Clinical re-evaluation is required" in text
    assert "✓ not indicated: SP-1.0 sp1_0_improving" in text


def test_approval_names_pathway_leaves_and_branch(approval):
    """Approved: the supported pathway, its conditions, the any-of branch that held, leaf rules and facts."""
    text = render_text(approval)
    assert approval.decision == "approved"
    assert "Why approved: every condition of pathway SP-5.1 sp5_1_p_mri holds" in text
    for leaf in ("sp1_0_initial_eval", "sp1_0_face_to_face_60d", "sp1_0_failed_recent_trial",
                 "sp1_0_reevaluated", "sp5_1_low_back_pain"):
        assert f"✓ all of: SP-1.0 {leaf}" in text or f"✓ any of: SP-1.0 {leaf}" in text \
            or f"✓ all of: SP-5.1 {leaf}" in text
    assert "any of (not needed: another branch held): SP-1.2 sp1_2_red_flag" in text
    assert "treatment(0, physical_therapy, day -57 (2024-03-05), day -15 (2024-04-16))" in text
    assert not approval.needs


def test_exclusion_is_reported_and_would_need_its_absence(engine):
    """MRI and CT of the lumbar spine together: sp1_0_simultaneous rules 72148 out."""
    explanation = explain_study(engine, case_of({"request": {"cpt": ["72148", "72131"]},
                                                 "implants": [{"kind": "pacemaker"}]}), "72148")
    text = render_text(explanation)
    assert explanation.decision == "denied"
    assert "✓ rules out: SP-1.0 sp1_0_simultaneous(lumbar)" in text
    assert "The case would need NOT to meet: SP-1.0 sp1_0_simultaneous(lumbar)" in text


def test_alternative_study_is_offered(engine):
    """CT lumbar without a contraindication to MRI is denied; MRI 72148 is offered instead."""
    explanation = explain_study(engine, case_of({"request": {"cpt": ["72131"]}}), "72131")
    assert ("72148", "sp5_1_p_mri") in {(a.cpt, a.pathway) for a in explanation.alternatives}
    assert "CPT 72148 MRI Lumbar without contrast: supported by SP-5.1 sp5_1_p_mri" in render_text(explanation)


def test_unknown_study_is_refused(engine):
    """A study the case does not request is an error naming it and the requested ones."""
    with pytest.raises(UnknownStudy, match="72131.*it requests 72148"):
        explain_study(engine, case_of(), "72131")


def test_dot_has_met_and_unmet_styles_and_legend(denial):
    """DOT: green solid ✓ and red dashed ✗ criteria, the legend, the decision node."""
    dot = render_dot(denial)
    assert "Legend" in dot
    assert "#2e7d32" in dot and "#c62828" in dot and "dashed" in dot
    assert "✓ SP-5.1 sp5_1_c1" in dot and "✗ SP-5.1 sp5_1_c2" in dot
    assert "DENIED" in dot and "evaluation(0, day -61 (2024-03-01)" in dot


def test_picture_and_text_come_from_one_graph(denial):
    """Every criterion the focused picture draws is in the text, with the same mark."""
    text = render_text(denial)
    dot = render_dot(denial, full=True)
    for node in denial.nodes.values():
        if node.kind in ("criterion", "pathway"):
            mark = "✓" if node.met else "✗"
            assert html.escape(f"{mark} {node.title}") in dot  # DOT labels are HTML-like: quotes escaped
            assert node.title in text


def test_svg_and_png_are_written(approval, tmp_path):
    """SVG and PNG files are written and look like what they claim to be."""
    svg = write_graph(approval, "svg", tmp_path / "why.svg")
    png = write_graph(approval, "png", tmp_path / "why.png")
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg")) and "sp5_1_p_mri" in svg.read_text()
    assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 10_000


def test_missing_dot_writes_dot_file_and_says_how_to_install(approval, tmp_path, monkeypatch):
    """Without graphviz's dot on PATH: the .dot file is written and the error names the package."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GraphvizMissing, match="apt-get install graphviz") as raised:
        write_explanation(approval, "png", tmp_path / "why.png")
    assert raised.value.dot_path == tmp_path / "why.dot"
    assert "digraph" in (tmp_path / "why.dot").read_text()
    assert not (tmp_path / "why.png").exists()


def test_cli_denial_text(case_file):
    """spinekb explain CASE --study CPT prints the answer first: the decision and its kind, the
    unmet condition with its section and words, and what would change it with a date; exit 0."""
    result = CliRunner().invoke(main, ["explain", case_file(LATE_VISIT), "--study", "72148"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "DENIED (not yet): CPT 72148 MRI Lumbar without contrast"
    assert "SP-5.1 requires" in result.output and "(sp5_1_c2; sp1_0_face_to_face_60d)" in result.output
    assert "in-person initial evaluation 2024-03-01 (61 days before the request)" in result.output
    assert "see the patient in person on or after 2024-03-02" in result.output.lower()


def test_cli_what_if_detail_and_json(case_file):
    """--what-if names the criterion each edit meets; --detail adds every candidate pathway;
    --format json is one object with the explanation's fields."""
    path = case_file(LATE_VISIT)
    what_if = CliRunner().invoke(main, ["explain", path, "--what-if"])
    assert what_if.exit_code == 0 and "\u2192 meets SP-5.1 sp5_1_c2:" in what_if.output
    assert "\u2192 approved under SP-5.1 sp5_1_p_mri" in what_if.output
    detail = CliRunner().invoke(main, ["explain", path, "--detail"])
    assert detail.exit_code == 0 and "Every candidate pathway, condition by condition" in detail.output
    data = json.loads(CliRunner().invoke(main, ["explain", path, "--format", "json"]).output)
    assert data["denial_kind"] == "not_yet" and data["what_if"][0]["edits"][0]["action"] == "evaluate"
    assert data["what_if"][0]["edits"][0]["date"] == "2024-03-02"
    assert data["answer"][0]["criterion"] == "sp5_1_c2"


def test_cli_json_of_every_requested_study_is_an_array(case_file):
    """--format json without --study on a case requesting two studies: an array, one per study."""
    result = CliRunner().invoke(main, ["explain", case_file({"request": {"cpt": ["72148", "72131"]}}),
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [x["cpt"] for x in json.loads(result.output)] == ["72148", "72131"]


def test_cli_schema_explanation():
    """spinekb schema --explanation prints the JSON Schema of an explanation."""
    result = CliRunner().invoke(main, ["schema", "--explanation"])
    schema = json.loads(result.output)
    assert result.exit_code == 0 and schema["title"] == "spinekb explanation"
    assert {"answer", "what_if", "documentation_needed", "denial_kind", "pathways"} <= set(schema["properties"])


def test_cli_png(case_file, tmp_path):
    """--format png -o FILE writes a PNG, exit 0."""
    out = tmp_path / "why.png"
    result = CliRunner().invoke(main, ["explain", case_file(), "--format", "png", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_cli_missing_dot_exits_3(case_file, tmp_path, monkeypatch):
    """No dot program: one line with the install hint, the .dot file written, exit 3."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = tmp_path / "why.svg"
    result = CliRunner().invoke(main, ["explain", case_file(), "--format", "svg", "-o", str(out)])
    assert result.exit_code == 3
    assert result.output.count("\n") == 1 and "apt-get install graphviz" in result.output
    assert (tmp_path / "why.dot").exists() and not out.exists()


def test_cli_unknown_study_exits_2(case_file):
    """A study the case does not request: one error line naming both, exit 2."""
    result = CliRunner().invoke(main, ["explain", case_file(), "--study", "72131"])
    assert result.exit_code == 2
    assert result.output == "error: study 72131 is not requested by case sp5-1 (it requests 72148)\n"


def test_cli_bad_case_exits_2_without_traceback(case_file):
    """An invalid case file: one line naming the field path, exit 2."""
    result = CliRunner().invoke(main, ["explain", case_file({"treatments": [
        {"kind": "physical_therapy", "start": "2024-04-16", "end": "2024-03-05"}]})])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "treatments[0].end" in result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1


def test_redirect_is_reported(engine):
    """A suspected aortic dissection: SP-1.2 sends the case to PVD-6, and the text says so."""
    explanation = explain_study(engine, case_of({"findings": [{"term": "suspected_aortic_dissection"}]}),
                                "72148")
    text = render_text(explanation)
    assert "✓ sends to PVD-6: SP-1.2 sp1_2_aortic" in text
    assert "suspected_aortic_dissection" in text   # the fact the leaf read


def test_study_without_pathway_says_so(engine):
    """A study no encoded pathway names: denied, and the explanation says no pathway supports it."""
    cpt = next(c for c, code in engine.kb.codes.items()
               if not engine.kb.pathways_for(c) and code.region == "lumbar")
    explanation = explain_study(engine, case_of({"request": {"cpt": [cpt]}}), cpt)
    text = render_text(explanation)
    assert explanation.decision == "denied"
    assert "no pathway of the encoded sections supports this study" in text
    assert f"Why denied: 0 pathway(s) could approve CPT {cpt}" in text
