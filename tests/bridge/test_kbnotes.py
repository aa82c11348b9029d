"""`% reading:` and `% not encoded:` notes are collected with their section and location."""
from __future__ import annotations

import json

from click.testing import CliRunner

from spinekb.kb.notes import kb_notes, parse_notes
from spinekb.cli.main import main


def test_a_note_spans_its_continuation_lines(tmp_path):
    """A tagged comment and the plain comment lines after it are one note; a new tag starts another."""
    path = tmp_path / "sp6_2_lumbar_trauma.lp"
    path.write_text("% banner\n% reading: first line\n% and its second line.\nrule(a).\n"
                    "window(x, 1).  % reading: after code\n% not encoded: a table, because\n"
                    "% it has no codes.\n%*! doc *%\n")
    notes = parse_notes(path)
    assert [(n.kind, n.section, n.line, n.text) for n in notes] == [
        ("reading", "SP-6.2", 2, "first line and its second line."),
        ("reading", "SP-6.2", 5, "after code"),
        ("not encoded", "SP-6.2", 6, "a table, because it has no codes."),
    ]


def test_the_kb_pins_its_key_readings():
    """The 90-day reading of "3 months" is written down in SP-1.0, where the rule is."""
    assert any(n.section == "SP-1.0" and "90 days" in n.text for n in kb_notes())


def test_readings_command_filters_by_section_and_kind():
    """`spinekb readings --section SP-1.2 --kind 'not encoded'` lists only those."""
    result = CliRunner().invoke(main, ["readings", "--section", "SP-1.2", "--kind", "not encoded",
                                       "--format", "json"])
    assert result.exit_code == 0
    notes = json.loads(result.stdout)
    assert notes and all(n["section"] == "SP-1.2" and n["kind"] == "not encoded" for n in notes)
    assert any("bone scan" in n["text"] or "gallium" in n["text"].lower() for n in notes)
