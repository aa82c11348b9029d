"""kb/syntax.py: a KB's files parsed in one pass, each statement with its file, line and block."""
from __future__ import annotations

from pathlib import Path

import pytest
from clingo import ast

from spinekb.kb import kb_files
from spinekb.kb.syntax import base_block, kb_statements, parse_program


def _write(folder: Path, files: dict[str, str]) -> list[Path]:
    """Write ``files`` ({name relative to ``folder``: text}); their paths, in order."""
    paths = []
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def test_statements_come_file_by_file_in_the_order_given(tmp_path):
    """clingo reads the files in an order of its own; the statements follow the list."""
    paths = _write(tmp_path, {"b.lp": "b.\n", "a.lp": "% note\na1.\n\na2.\n", "c.lp": "c."})
    rules = [(str(s.node), s.location.where()) for s in parse_program(paths) if s.node.ast_type == ast.ASTType.Rule]
    assert rules == [("b.", "kb/b.lp:1"), ("a1.", "kb/a.lp:2"), ("a2.", "kb/a.lp:4"), ("c.", "kb/c.lp:1")]


def test_files_below_the_root_are_named_from_it(tmp_path):
    """A companion in a subfolder keeps its folder (kb/checks/checks.lp), others their name."""
    paths = _write(tmp_path / "kb", {"decide.lp": "d.", "checks/checks.lp": "k."})
    other = _write(tmp_path, {"elsewhere.lp": "e."})
    files = {s.location.file for s in parse_program([*paths, *other], tmp_path / "kb")}
    assert files == {"decide.lp", "checks/checks.lp", "elsewhere.lp"}


def test_each_file_starts_in_the_base_block(tmp_path):
    """A #program block ends with its file, as when clingo loads the files one by one."""
    paths = _write(tmp_path, {"a.lp": "a.\n#program other.\nb.\n", "c.lp": "c.\n"})
    assert [(str(s.node), s.block) for s in parse_program(paths) if s.node.ast_type == ast.ASTType.Rule] == [
        ("a.", "base"), ("b.", "other"), ("c.", "base")]
    assert [str(s.node) for s in base_block(parse_program(paths))] == ["a.", "c."]


def test_a_syntax_error_raises_clingos_message_on_one_line(tmp_path):
    """The message names the file and line, as clingo reports them."""
    [path] = _write(tmp_path, {"bad.lp": "ok.\nholds(C, x) :- a(.\n"})
    with pytest.raises(RuntimeError, match=r"bad\.lp:2:.*syntax error") as raised:
        parse_program([path])
    assert "\n" not in str(raised.value)


def test_the_installed_kb_is_parsed_once_and_named_by_file():
    """kb_statements() is cached, and names the installed KB's files as kb_files() lists them."""
    assert kb_statements() is kb_statements()
    assert {s.location.file for s in kb_statements()} == {p.name for p in kb_files()}
