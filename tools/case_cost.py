"""How the cost of deciding ONE case grows with its size, list by list.

    python tools/case_cost.py                          # every list kind, 1,000 to 8,000 entries
    python tools/case_cost.py --kinds evaluations --sizes 2500,5000,10000
    python tools/case_cost.py --repeat 3 --json out.json   # the median of 3 decisions; the figures, for a record

Each kind fills one list of an otherwise small case with N entries (the evaluations carry an
exam; treatments, pain scores, procedures, imaging, trauma and findings are spread over four
years; ``mixed`` spreads N over every list), decides it with ``Engine()`` as a batch does, and
prints the seconds and the growth exponent between the two largest sizes (1 = linear, 2 =
quadratic). It measures the KB as it is in ``kb/``.

Validation and fact building are linear; grounding is linear too since the KB's rules were
rewritten so (issue "trust": a 10,000-evaluation case decided in about a second). This tool
once held those rewrites as proposals (``PROPOSED``, ``--proposed``, ``--check-proposed``); they
are now applied to ``kb/`` itself and the proposals are gone: each "some X on or after some Y"
that joined every X with every Y compares the latest X with the earliest Y (a ``#min``/``#max``
computed once per case), and each ``D = #max{...}`` whose bound D was a body variable (an
aggregate grounded once per body match) is computed once per case. The rules so rewritten:
``sp1_0_failed_recent_trial``, ``sp1_0_reevaluated``, ``latest_reevaluation`` (SP-1.0);
``sp1_2_mw_progressive``, ``sp1_2_worsening_despite_trial``, ``sp1_2_srp_unresponsive``,
``sp1_2_latest_pain`` (SP-1.2); ``sp2_3_xrays_sufficient`` (SP-2.3); ``sp7_syrinx_after_trauma``
(SP-7); ``sp8_1_immobilization_failed_ct`` (SP-8.1); ``sp10_2_progression_since`` (SP-10.2);
``sp13_2_mri_after`` (SP-13.2); ``sp16_2_failed_conservative`` (SP-16.2);
``sp16_4_deficit_before`` (SP-16.4); and ``sp15_last_surgery`` (SP-15.1), whose old form
gringo already grounded linearly (it projects the anonymous variables), given the same shape.
``tests/bridge/test_case_size.py`` keeps every list's cost linear by counting what clingo
grounds (no timing); speed itself is measured here and in bench/.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from spinekb.bridge.engine import Engine
from spinekb.bridge.models import Case
from spinekb.kb.vocabulary import vocabulary

REQUEST = dt.date(2024, 5, 1)


def _day(n: int) -> str:
    return (REQUEST - dt.timedelta(days=n)).isoformat()


def grown_case(kind: str, n: int, seed: int = 1) -> dict[str, Any]:
    """A valid case whose list ``kind`` holds ``n`` entries (``mixed``: n spread over every list)."""
    rng = random.Random(seed)
    case: dict[str, Any] = {
        "request": {"id": f"{kind}-{n}", "date": REQUEST.isoformat(), "cpt": ["72148", "72141", "72146"],
                    "purpose": "diagnosis"},
        "patient": {"age": 54}, "episode": {"regions": ["lumbar"], "condition": "low_back_pain", "onset": _day(1500)}}
    if kind == "mixed":
        for part in KINDS[:-1]:
            case.update({k: v for k, v in grown_case(part, n // (len(KINDS) - 1), seed).items()
                         if k not in ("request", "patient", "episode")})
        return case
    days = [rng.randrange(0, 1460) for _ in range(n)]
    if kind == "evaluations":
        case["evaluations"] = [{
            "date": _day(d), "mode": rng.choice(["in_person", "telephone"]),
            "kind": rng.choice(["initial", "reevaluation", "other"]), "outcome": "no_significant_improvement",
            "exam": {"muscles": [{"muscle": "knee_extension", "side": "left", "grade": rng.randrange(3, 6)}],
                     "reflexes": [{"reflex": "achilles", "side": "left", "grade": rng.randrange(0, 5)}]}}
            for d in days]
    elif kind == "treatments":
        case["treatments"] = [{"kind": "physical_therapy", "start": _day(d + 60), "end": _day(d)} for d in days]
    elif kind == "pain_scores":
        case["pain_scores"] = [{"date": _day(d), "vas": rng.randrange(0, 11)} for d in days]
    elif kind == "procedures":
        case["procedures"] = [{"kind": rng.choice(["fusion", "laminectomy", "epidural_injection"]), "date": _day(d),
                               "region": "lumbar"} for d in days]
    elif kind == "prior_imaging":
        case["prior_imaging"] = [{"modality": rng.choice(["xray", "mri", "ct"]), "region": "lumbar", "date": _day(d),
                                  "result": [rng.choice(["normal", "equivocal", "progression", "syrinx"])]}
                                 for d in days]
    elif kind == "trauma":
        case["trauma"] = [{"date": _day(d), "mechanism": ["fall"]} for d in days]
    elif kind == "findings":
        terms = sorted(vocabulary())
        case["findings"] = [{"term": rng.choice(terms), "date": _day(d)} for d in days]
    return case


KINDS = ("evaluations", "treatments", "pain_scores", "procedures", "prior_imaging", "trauma", "findings", "mixed")


def measure(kinds: list[str], sizes: list[int], repeat: int = 1) -> list[dict[str, Any]]:
    """Seconds to decide one case of each kind and size, the median of ``repeat`` decisions (after
    one warm-up decision)."""
    engine = Engine()
    engine.evaluate_one(Case.model_validate(grown_case("evaluations", 1)))
    rows = []
    for kind in kinds:
        times = []
        for n in sizes:
            case = Case.model_validate(grown_case(kind, n))
            runs = []
            for _ in range(repeat):
                start = time.perf_counter()
                engine.evaluate_one(case)
                runs.append(time.perf_counter() - start)
            times.append(statistics.median(runs))
            print(f"  {kind:14} {n:>7,} entries: {times[-1]:7.2f} s" + (f" (median of {repeat})" if repeat > 1 else ""),
                  file=sys.stderr, flush=True)
        a, b = times[-2:] if len(times) > 1 else (0.0, 0.0)
        exponent = math.log(b / a) / math.log(sizes[-1] / sizes[-2]) if a > 0 and len(sizes) > 1 else float("nan")
        rows.append({"kind": kind, "sizes": sizes, "seconds": [round(t, 3) for t in times],
                     "growth_exponent": round(exponent, 2), "repeat": repeat})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--sizes", default="1000,4000,8000")
    parser.add_argument("--repeat", type=int, default=1, help="decide each case this many times; report the median")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows = measure(args.kinds.split(","), [int(s) for s in args.sizes.split(",")], max(1, args.repeat))
    for row in rows:
        timings = "  ".join(f"{n:>6,}: {t:6.2f} s" for n, t in zip(row["sizes"], row["seconds"], strict=True))
        print(f"{row['kind']:14} {timings}   growth exponent {row['growth_exponent']}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
