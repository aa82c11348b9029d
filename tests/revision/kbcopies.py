"""Helpers: a KB copy where one threshold moved (SP-1.0's 60-day face-to-face window -> 90 days), and cases
on both sides of both boundaries."""
from __future__ import annotations

import shutil
from pathlib import Path

from spinekb.kb import kb_dir

ROOT = Path(__file__).resolve().parents[2]
BASE_CASE = ROOT / "examples" / "cases" / "approved-low-back-pain-mri-after-failed-trial.json"
#: days between the initial in-person evaluation and the request, for each test case
DAYS = (59, 60, 61, 75, 90, 91)
#: the cases that flip when the window is 90 days instead of 60: denied -> approved
FLIPS = {"lbp-initial-eval-61-days", "lbp-initial-eval-75-days", "lbp-initial-eval-90-days"}


def copy_kb(target: Path, replace: dict[str, tuple[str, str]] | None = None) -> Path:
    """kb/*.lp copied to ``target`` with ``{file: (old, new)}`` replaced (each exactly once)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in kb_dir().glob("*.lp"):
        shutil.copy(path, target / path.name)
    for name, (old, new) in (replace or {}).items():
        text = (target / name).read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{name}: {old!r}"
        (target / name).write_text(text.replace(old, new), encoding="utf-8")
    return target


