"""Golden files of the explanations: every example case, every requested study, its default text
(``spinekb explain CASE --study CPT``) and its JSON (``--format json``).

    python tools/golden.py           # regenerate tests/explain/golden/ and print what changed (make golden)
    python tools/golden.py --check   # print the drift and exit 1 if there is any (tests/explain/test_golden.py)

The files are stored normalised so that only a change in what an explanation says shows up: the KB
digest is ``kb.<digest>`` and a rule or note location is ``kb/<file>.lp:<line>`` (section authors
edit the KB all the time; a digest or a line number moving is not a change of explanation).
"""
from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "examples" / "cases"
GOLDEN = ROOT / "tests" / "explain" / "golden"
_DIGEST = re.compile(r"kb\.[0-9a-f]{12}")
_LOCATION = re.compile(r"(kb/[A-Za-z0-9_/]+\.lp):[0-9]+")


def normalise(text: str) -> str:
    """The text with the KB digest and rule/note line numbers masked."""
    return _LOCATION.sub(r"\1:<line>", _DIGEST.sub("kb.<digest>", text))


def golden_name(case_id: str, cpt: str) -> str:
    return f"{case_id}.{cpt}"


def explained() -> Iterator[tuple[Any, str, Any]]:
    """(case, cpt, explanation) for every study of every example case, in file order."""
    from spinekb.bridge.loading import load_case
    from spinekb.explain import explain_decided, tracing_engine, whatif_solver

    engine = tracing_engine()
    cases = [load_case(path) for path in sorted(CASES.glob("*.json"))]
    solver = whatif_solver(engine)
    for case, decided in zip(cases, engine.evaluate_chunk(cases), strict=True):  # one grounding decides all
        for cpt in case.request.codes:
            yield case, cpt, explain_decided(engine.knowledge, case, decided, cpt, solver=solver)


def renderings(items: Iterable[tuple[Any, str, Any]]) -> Iterator[tuple[str, str, str]]:
    """(golden name, text, json) of explanations, normalised."""
    from spinekb.explain import render_text
    from spinekb.explain.output import render_json

    for case, cpt, x in items:
        yield golden_name(case.request.id, cpt), normalise(render_text(x)), normalise(render_json(x))


def compare(write: bool, items: Iterable[tuple[Any, str, Any]] | None = None) -> list[str]:
    """The unified diff between the stored golden files and the explanations now (``items``, or
    every example explained afresh), writing the new ones if ``write``; stale golden files are
    reported (and removed when writing)."""
    diff: list[str] = []
    seen: set[str] = set()
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, text, data in renderings(explained() if items is None else items):
        for suffix, now in ((".txt", text), (".json", data)):
            path = GOLDEN / (name + suffix)
            seen.add(path.name)
            before = path.read_text(encoding="utf-8") if path.exists() else ""
            if before != now:
                diff += difflib.unified_diff(before.splitlines(keepends=True), now.splitlines(keepends=True),
                                             f"a/{path.relative_to(ROOT)}", f"b/{path.relative_to(ROOT)}")
                if write:
                    path.write_text(now, encoding="utf-8")
    for path in sorted(GOLDEN.glob("*")):
        if path.name not in seen:
            diff.append(f"stale golden file (no example explains it): {path.relative_to(ROOT)}\n")
            if write:
                path.unlink()
    return diff


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report the drift; exit 1 if there is any")
    args = parser.parse_args(argv)
    diff = compare(write=not args.check)
    sys.stdout.writelines(diff)
    if args.check:
        return 1 if diff else 0
    changed = sum(1 for line in diff if line.startswith("+++ "))
    print(f"golden files: {changed} changed" if diff else "golden files: unchanged", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
