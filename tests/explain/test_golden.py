"""Every example's explanation, pinned: golden text and JSON, the answer's and the text's line
budgets, the picture's node budget, the published JSON Schema, evaluate and explain agreeing."""
from __future__ import annotations

import json

import jsonschema

from spinekb.explain import explanation_schema, render_text
from spinekb.explain.picture import EDGE_STYLES, MAX_NODES, NODE_STYLES, focused_picture, picture_dot
from spinekb.explain.text import ANSWER_LINES, answer_lines


def test_golden_files_match(golden, examples):
    """tests/explain/golden/ holds exactly what explain says now (`make golden` regenerates it)."""
    diff = golden.compare(write=False, items=examples)
    assert not diff, "explanations drifted from tests/explain/golden (run `make golden`):\n" + "".join(diff[:200])


def test_every_example_study_has_golden_files(golden, examples):
    """One .txt and one .json per study of every example (90 cases and more)."""
    names = {golden.golden_name(case.request.id, cpt) for case, cpt, _ in examples}
    assert len(names) >= 90
    for name in names:
        assert (golden.GOLDEN / f"{name}.txt").exists() and (golden.GOLDEN / f"{name}.json").exists()


def test_answer_first_within_twelve_lines_and_denials_within_forty(examples):
    """The answer (decision, reasons, reading, instead) fits 12 lines; a denial's default text 40."""
    for case, cpt, x in examples:
        assert len(answer_lines(x)) <= ANSWER_LINES, (case.request.id, cpt)
        if x.decision == "denied":
            lines = render_text(x).count("\n")
            assert lines <= 40, (case.request.id, cpt, lines)


def test_answer_opens_with_the_decision_and_quotes_the_case_dates(examples):
    """Line 1 is the decision and its kind; every deciding reason names its section; the record's
    own dates appear in the answer of every denial that reads dated facts."""
    for _case, _cpt, x in examples:
        text = render_text(x)
        first = text.splitlines()[0]
        assert first.startswith("DENIED" if x.decision == "denied" else "APPROVED"), first
        if x.decision == "denied":
            assert f"({x.denial_kind.replace('_', ' ')}" in first or "documentation needed" in first
        for reason in x.answer:
            if reason.kind in ("unmet", "excluded", "met", "not_indicated"):
                assert reason.section and reason.section in reason.says


def test_json_validates_against_the_published_schema(examples):
    """`spinekb explain --format json` output validates against `spinekb schema --explanation`."""
    validator = jsonschema.Draft202012Validator(explanation_schema())
    for case, cpt, x in examples:
        errors = list(validator.iter_errors(json.loads(json.dumps(x.to_json()))))
        assert not errors, (case.request.id, cpt, errors[0].message)


def test_explain_gives_the_deciding_reasons_evaluate_gives(examples, plain_engine):
    """The answer's reasons are the decision record's (the mixed cases included): same kinds,
    criteria and pathways as `spinekb evaluate`."""
    cases = {case.request.id: case for case, _, _ in examples}
    records = {d.case_id: d.record for d in plain_engine.evaluate_chunk(list(cases.values()))}
    for case, cpt, x in examples:
        record = next(s for s in records[case.request.id].studies if s.cpt == cpt)
        wanted = [(r.kind, r.criterion, r.pathway) for r in record.reasons
                  if r.kind in ("excluded", "no_pathway", "unmet", "met")]
        got = [(r.kind, r.criterion, r.pathway) for r in x.answer
               if r.kind in ("excluded", "no_pathway", "unmet", "met")]
        assert sorted(got, key=str) == sorted(wanted, key=str), (case.request.id, cpt)
        assert x.decision == record.decision


def test_picture_has_at_most_thirty_nodes_and_a_legend_for_every_style(examples):
    """The focused picture of every example: at most 30 nodes; the legend names exactly the node
    and edge styles it uses; every criterion node has the full text as tooltip."""
    for case, cpt, x in examples:
        picture = focused_picture(x)
        assert len(picture.nodes) <= MAX_NODES, (case.request.id, cpt, len(picture.nodes))
        dot = picture_dot(x).source
        for style in {n.style for n in picture.nodes.values()}:
            words = NODE_STYLES[style][1]
            assert not words or words.split(" (")[0] in dot, (style, case.request.id)
        for style in {e.style for e in picture.edges}:
            assert EDGE_STYLES[style][1].split(":")[0] in dot, (style, case.request.id)
        if x.decision == "denied" and x.what_if:
            assert any(n.style == "whatif" for n in picture.nodes.values())
            assert "would meet" in dot or "would lift" in dot
        if any(r.kind == "unmet" and r.leaves for r in x.answer):
            assert any(n.style == "decisive" for n in picture.nodes.values()), (case.request.id, cpt)


def test_svg_carries_full_text_tooltips_and_links_to_the_section(examples, tmp_path):
    """The SVG: every criterion node's tooltip is the guideline's whole text; nodes link to their
    section's heading in the guideline text."""
    import shutil

    from spinekb.explain import write_graph

    if not shutil.which("dot"):
        return
    case, cpt, x = next(e for e in examples if e[0].request.id == "denied-no-trial")
    svg = write_graph(x, "svg", tmp_path / "why.svg").read_text()
    words = "Failure of recent (within 3 months) 6-week trial of provider-directed treatment (unless presence"
    assert f'xlink:title="SP&#45;5.1 sp5_1_c3: {words.replace("-", "&#45;")}' in svg
    assert 'spine-imaging-guidelines-v1.0.2023.txt#L' in svg and 'xlink:href="file://' in svg
