"""kb.revision.rule_diff: which criteria's rules differ between two KBs."""
from __future__ import annotations

import pytest

from spinekb.kb import kb_files
from spinekb.kb.revision import rule_diff
from spinekb.kb.syntax import Statement, kb_statements, parse_program

#: A toy KB of two files.
TOY = {
    "sp1_0_toy.lp": """\
window(face_to_face, 60).
window(recent, 90).
criterion(sp1_0_f2f, "SP-1.0", "A face-to-face evaluation within the last 60 days.").
holds(C, sp1_0_f2f) :- evaluation(C, _, D, in_person, _), window(face_to_face, W), D >= -W.
criterion(sp1_0_recent, "SP-1.0", "recent (within 3 months)").
holds(C, sp1_0_recent) :- treatment(C, _, _, _, E), window(recent, W), E >= -W.
criterion(sp1_0_both, "SP-1.0", "both").
all_of(sp1_0_both, (sp1_0_f2f; sp1_0_recent)).
""",
    "decide.lp": """\
holds(C, Q) :- any_of(Q, S), holds(C, S).
""",
}


@pytest.fixture
def kb(tmp_path):
    """Parse a KB given as {file name: text}, its files written to a folder of their own."""
    def parse(files: dict[str, str]) -> tuple[Statement, ...]:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        return parse_program([folder / name for name in files])
    return parse


def edited(files: dict[str, str], old: str, new: str) -> dict[str, str]:
    """The files with ``old`` replaced by ``new`` wherever it stands."""
    return {name: text.replace(old, new) for name, text in files.items()}


def test_a_moved_window_names_only_the_criterion_reading_it(kb):
    """window(face_to_face, W) reads the face_to_face fact, not window(recent, 90)."""
    diff = rule_diff(kb(TOY), kb(edited(TOY, "window(face_to_face, 60).", "window(face_to_face, 90).")))
    assert [c.family for c in diff.criteria] == ["sp1_0_f2f"]
    change = diff.criteria[0]
    assert change.status == "changed"
    assert [(r.where(), r.text) for r in change.removed] == [("kb/sp1_0_toy.lp:1", "window(face_to_face,60).")]
    assert [r.text for r in change.added] == ["window(face_to_face,90)."]
    assert not diff.other_removed and not diff.other_added


def test_the_composite_above_is_not_itself_changed(kb):
    """sp1_0_both's own rules (its all_of) are the same: the change belongs to its child."""
    diff = rule_diff(kb(TOY), kb(edited(TOY, "window(recent, 90).", "window(recent, 91).")))
    assert diff.families == {"sp1_0_recent"}


def test_comments_spacing_and_line_numbers_do_not_count(kb):
    """Only what clingo reads counts: a note and blank lines change nothing."""
    other = edited(TOY, "window(recent, 90).", "% reading: a note\n\nwindow( recent ,  90 ).")
    assert rule_diff(kb(TOY), kb(other)).empty


def test_a_new_quote_a_new_criterion_and_a_rule_of_no_criterion(kb):
    """Declarations belong to their criterion; decide.lp's generic rules to no criterion."""
    other = edited(TOY, '"both"', '"both of them"')
    other["decide.lp"] += ('criterion(sp1_0_new, "SP-1.0", "new").\nholds(C, sp1_0_new) :- case(C).\n'
                           "holds(C, Q) :- case(C), none_of(Q, S), not holds(C, S).\n")
    diff = rule_diff(kb(TOY), kb(other))
    assert {(c.family, c.status) for c in diff.criteria} == {("sp1_0_both", "changed"), ("sp1_0_new", "added")}
    assert [r.text for r in diff.other_added] == ["holds(C,Q) :- case(C); none_of(Q,S); not holds(C,S)."]


def test_the_real_kb_with_the_60_day_window_moved(kb):
    """On the whole KB, moving SP-1.0's 60-day window changes sp1_0_face_to_face_60d alone."""
    files = {path.name: path.read_text(encoding="utf-8") for path in kb_files()}
    diff = rule_diff(kb_statements(), kb(edited(files, "window(face_to_face, 60).", "window(face_to_face, 90).")))
    assert diff.families == {"sp1_0_face_to_face_60d"}
    assert diff.criteria[0].removed[0].where().startswith("kb/sp1_0_general.lp:")
    assert rule_diff(kb_statements(), kb_statements()).empty
    assert rule_diff(kb_statements(), parse_program(kb_files())).empty


def test_locations_name_the_file_and_its_line(kb):
    """A rule's location is its own file's line, whatever files come before it."""
    diff = rule_diff(kb(TOY), kb(edited(TOY, "holds(C, Q) :- any_of", "holds(C, Q) :- all_of")))
    assert [r.where() for r in diff.other_removed] == [r.where() for r in diff.other_added] == ["kb/decide.lp:1"]
