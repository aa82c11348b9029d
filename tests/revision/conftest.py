"""Fixtures: a KB copy where one threshold moved (SP-1.0's 60-day face-to-face window -> 90 days),
and cases on both sides of both boundaries (kbcopies.py)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kbcopies import BASE_CASE, DAYS, copy_kb


@pytest.fixture(scope="session")
def kb90(tmp_path_factory) -> Path:
    """The KB with window(face_to_face, 90) instead of 60."""
    return copy_kb(tmp_path_factory.mktemp("kb90"),
                   {"sp1_0_general.lp": ("window(face_to_face, 60).", "window(face_to_face, 90).")})


@pytest.fixture(scope="session")
def f2f_cases(tmp_path_factory) -> Path:
    """One low-back-pain case per entry of DAYS: initial in-person evaluation that many days before."""
    folder = tmp_path_factory.mktemp("f2f")
    base = json.loads(BASE_CASE.read_text(encoding="utf-8"))
    request = dt.date.fromisoformat(base["request"]["date"])
    for days in DAYS:
        case = json.loads(json.dumps(base))
        case["request"]["id"] = f"lbp-initial-eval-{days}-days"
        case["episode"]["onset"] = "2024-01-10"
        case["evaluations"][0]["date"] = (request - dt.timedelta(days=days)).isoformat()
        (folder / f"lbp-{days}.json").write_text(json.dumps(case), encoding="utf-8")
    return folder
