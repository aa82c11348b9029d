"""Hold a batch's output to the straightforward engine's, byte for byte.

    python bench/equivalence.py bench/out/cases-10000-seed20230101.jsonl bench/out/decisions-10000-j2.jsonl
    python bench/equivalence.py CASES.jsonl DECISIONS.jsonl --sample 500 --jobs 2

DECISIONS is what ``spinekb evaluate - --format jsonl < CASES`` wrote (the fast engine: chunks of
1,000 cases in one grounding, the stratified program, only the facts the KB reads). The
straightforward engine (``Engine(straightforward=True)``) decides every case of CASES again with
the KB exactly as written, every case fact and one grounding per case, and renders each record
as ``spinekb evaluate`` does; every line must be identical. It is slow (one grounding per case,
a few hundred ms each on a loaded 2-core machine): ``--jobs`` spreads it over processes.
"""
from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

_ENGINE: Any = None


def _straightforward_lines(numbered: list[tuple[int, str]]) -> list[str]:
    """The records of some input lines, as the straightforward engine decides and renders them."""
    global _ENGINE  # one engine per worker process
    from spinekb.bridge.batch import as_json_line, decide_loaded
    from spinekb.bridge.engine import Engine
    from spinekb.bridge.loading import RawInput, validate_raw

    if _ENGINE is None:
        _ENGINE = Engine(chunk_size=1, straightforward=True)
    items = [validate_raw(RawInput(f"<stdin>:{number}", text=text)) for number, text in numbered]
    return [as_json_line(outcome).text for outcome in decide_loaded(_ENGINE, items)]


def compare_with_straightforward(cases: Path, decisions: Path, sample: int | None = None,
                                 jobs: int = 1, slice_size: int = 50) -> dict[str, Any]:
    """Compare the first ``sample`` records (default: all) of ``decisions`` with the
    straightforward engine's for the same lines of ``cases``; the figures as a dict."""
    start = time.perf_counter()
    with cases.open(encoding="utf-8") as lines:
        numbered = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    if sample is not None:
        numbered = numbered[:sample]
    with decisions.open(encoding="utf-8") as lines:
        fast = [line.rstrip("\n") for line in islice(lines, len(numbered))]
    slices = [numbered[i:i + slice_size] for i in range(0, len(numbered), slice_size)]
    reference: list[str] = []
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            for lines_out in pool.map(_straightforward_lines, slices):
                reference.extend(lines_out)
    else:
        for part in slices:
            reference.extend(_straightforward_lines(part))
    first = next((i + 1 for i, (a, b) in enumerate(zip(fast, reference, strict=False)) if a != b), None)
    if first is None and len(fast) != len(reference):
        first = min(len(fast), len(reference)) + 1
    return {"cases": len(numbered), "identical": first is None, "first_difference": first,
            "seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", type=Path, help="the JSON Lines input of the batch")
    parser.add_argument("decisions", type=Path, help="what spinekb evaluate --format jsonl wrote for it")
    parser.add_argument("--sample", type=int, default=None, help="compare only the first N records")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes for the straightforward engine")
    args = parser.parse_args(argv)
    found = compare_with_straightforward(args.cases, args.decisions, args.sample, args.jobs)
    verdict = "identical" if found["identical"] else f"DIFFERENT from line {found['first_difference']}"
    print(f"{found['cases']:,} records: {verdict} ({found['seconds']:.0f} s)")
    sys.exit(0 if found["identical"] else 1)


if __name__ == "__main__":
    main()
