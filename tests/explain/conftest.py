"""Every example explained once per test session (golden files, line and node budgets, what-ifs)."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from spinekb.bridge.engine import Engine

TOOL = Path(__file__).resolve().parents[2] / "tools" / "golden.py"


def golden_tool() -> ModuleType:
    """tools/golden.py as a module (``make golden`` runs it as a script)."""
    spec = importlib.util.spec_from_file_location("spinekb_golden_tool", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def golden() -> ModuleType:
    return golden_tool()


@pytest.fixture(scope="session")
def examples(golden: ModuleType) -> list[tuple[Any, str, Any]]:
    """(case, cpt, StudyExplanation) for every study of every example case."""
    return list(golden.explained())


@pytest.fixture(scope="session")
def plain_engine() -> Engine:
    """An engine as ``spinekb evaluate`` decides (no trace)."""
    return Engine()
