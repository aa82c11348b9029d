"""One room per job, and data flows one way: kb/ knows nothing of cases' sources, bridge/ knows
kb/ but not explain/, explain/ knows both, cli/ knows them all (STYLE.md). Checked on the
imports of every module, so a cycle cannot creep back in."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: what each package may import from spinekb
ALLOWED = {
    "kb": {"kb"},
    "bridge": {"kb", "bridge"},
    "explain": {"kb", "bridge", "explain"},
    "cli": {"kb", "bridge", "explain", "cli"},
}


def _spinekb_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
        for name in names:
            parts = name.split(".")
            if parts[0] == "spinekb" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_packages_import_only_downstream(package: str):
    """kb <- bridge <- explain <- cli, never the other way."""
    offenders = {str(p.relative_to(ROOT)): sorted(_spinekb_imports(p) - ALLOWED[package])
                 for p in (ROOT / package).rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_bridge_holds_no_kb_analysis_and_no_wording():
    """The KB's self-analysis lives in kb/, the wording of reasons in explain/."""
    names = {p.stem for p in (ROOT / "bridge").glob("*.py")}
    assert not names & {"kbinfo", "kbast", "kbnotes", "vocabulary", "checks", "guidetext", "summary", "reasons"}
    assert (ROOT / "kb" / "checks" / "checks.lp").is_file() and not (ROOT / "kb" / "checks.lp").exists()
