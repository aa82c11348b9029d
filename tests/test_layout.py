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


@pytest.mark.parametrize("package", ["bridge", "explain"])
def test_public_names_are_imported_on_first_use(package: str):
    """A package's public names (``__all__``) are each found where its lazy table says, and
    importing the package imports none of them (a command pays only for what it uses)."""
    import importlib
    import subprocess
    import sys

    module = importlib.import_module(f"spinekb.{package}")
    assert sorted(module.__all__) == sorted(module._HOME)
    for name in module.__all__:
        assert getattr(module, name) is getattr(importlib.import_module(module._HOME[name]), name)
    loaded = subprocess.run([sys.executable, "-c", f"import sys, spinekb.{package}; "
                             "print(sorted(m for m in sys.modules if m.startswith('spinekb.')))"],
                            capture_output=True, text=True, check=True).stdout
    assert set(module._HOME.values()).isdisjoint(eval(loaded)), loaded


def test_evaluate_imports_neither_the_service_nor_graphviz():
    """`spinekb evaluate` loads its own command only: no FastAPI, no graphviz, no FHIR models."""
    import subprocess
    import sys

    code = ("import sys; from spinekb.cli.main import main; main.get_command(None, 'evaluate'); "
            "print(sorted(m.split('.')[0] for m in sys.modules))")
    loaded = set(eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                     check=True).stdout))
    assert not loaded & {"fastapi", "graphviz", "fhir", "uvicorn", "altair"}, loaded & {"fastapi", "graphviz"}
