"""How the cost of deciding ONE case grows with its size, list by list, and what would make it linear.

    python tools/case_cost.py                          # every list kind, 1,000 to 8,000 entries
    python tools/case_cost.py --kinds evaluations --sizes 2500,5000,10000
    python tools/case_cost.py --proposed               # the same with the KB rewrites below applied
    python tools/case_cost.py --check-proposed         # the rewrites keep every YAML test and decision

Each kind fills one list of an otherwise small case with N entries (the evaluations carry an
exam; treatments, pain scores, procedures, imaging, trauma and findings are spread over four
years), decides it with ``Engine()`` as a batch does, and prints the seconds and the growth
exponent between the two largest sizes (1 = linear, 2 = quadratic). Validation and fact
building are linear; what is not is grounding, in the KB rules listed in :data:`PROPOSED`:
an aggregate ``D = #max{...}`` whose bound D is a body variable is grounded once per body
match (N aggregates of N elements), and "some X on or after some Y" joins every X with every Y.

:data:`PROPOSED` holds, for each such rule, the rule as it is in ``kb/`` and a linear rewrite
of it with the same meaning: the aggregate computed once per case, and "some X >= some Y"
read as "the latest X >= the earliest Y". The KB's files belong to their sections' authors, so
the rewrites are not applied to ``kb/``; ``--proposed`` applies them in memory, and
``--check-proposed`` shows that they change no YAML test's outcome and no decision of the
examples and of generated cases.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

from spinekb.bridge.engine import Engine
from spinekb.bridge.models import Case
from spinekb.kb import kb_files
from spinekb.kb.vocabulary import vocabulary

ROOT = Path(__file__).resolve().parents[1]
REQUEST = dt.date(2024, 5, 1)

#: (file, the rule as it is, a linear rewrite with the same meaning)
PROPOSED: list[tuple[str, str, str]] = [
    ("sp1_0_general.lp",
     """latest_reevaluation(C, E) :- evaluation(C, E, D, _, reevaluation),
                             D = #max{ D2 : evaluation(C, _, D2, _, reevaluation) }.""",
     """sp1_0_has_reevaluation(C) :- evaluation(C, _, _, _, reevaluation).
%*! sp1_0_last_reevaluation(C, D): the latest re-evaluation of case C is on day D. *%
sp1_0_last_reevaluation(C, M) :- sp1_0_has_reevaluation(C), M = #max{ D : evaluation(C, _, D, _, reevaluation) }.
latest_reevaluation(C, E) :- sp1_0_last_reevaluation(C, D), evaluation(C, E, D, _, reevaluation)."""),
    ("sp1_0_general.lp",
     """reevaluated_after(C, T, Ev, D) :- sp1_0_provider_treatment(C, T, _, _, End),
    evaluation(C, Ev, D, _, reevaluation), D >= End.
reevaluated_after(C, T, Ev, D) :- sp1_0_provider_treatment(C, T, _, S, _), window(trial, W),
    evaluation(C, Ev, D, _, reevaluation), D >= S + W.""",
     """%*! sp1_0_after_from(C, T, Day): a re-evaluation on day Day or later is after treatment T. *%
sp1_0_after_from(C, T, End) :- sp1_0_provider_treatment(C, T, _, _, End).
sp1_0_after_from(C, T, S + W) :- sp1_0_provider_treatment(C, T, _, S, _), window(trial, W).
sp1_0_treated(C) :- sp1_0_provider_treatment(C, _, _, _, _).
sp1_0_first_after(C, F) :- sp1_0_treated(C), F = #min{ X : sp1_0_after_from(C, _, X) }.
sp1_0_tried_recently(C) :- recent_trial(C, _, _, _).
sp1_0_first_after_recent_trial(C, F) :- sp1_0_tried_recently(C),
    F = #min{ X : recent_trial(C, T, _, _), sp1_0_after_from(C, T, X) }.
%*! sp1_0_last_failed_reevaluation(C, D): the latest re-evaluation of case C that found no
    significant improvement is on day D. *%
sp1_0_failed_reevaluation(C) :- evaluation(C, E, _, _, reevaluation), not_improved(C, E).
sp1_0_last_failed_reevaluation(C, M) :- sp1_0_failed_reevaluation(C),
    M = #max{ D : evaluation(C, E, D, _, reevaluation), not_improved(C, E) }."""),
    ("sp1_0_general.lp",
     """holds(C, sp1_0_failed_recent_trial) :- recent_trial(C, T, _, _), reevaluated_after(C, T, E, _),
                                       not_improved(C, E).""",
     """holds(C, sp1_0_failed_recent_trial) :- sp1_0_first_after_recent_trial(C, F),
                                       sp1_0_last_failed_reevaluation(C, M), M >= F."""),
    ("sp1_0_general.lp",
     """holds(C, sp1_0_reevaluated) :- reevaluated_after(C, _, _, _).""",
     """holds(C, sp1_0_reevaluated) :- sp1_0_first_after(C, F), sp1_0_last_reevaluation(C, M), M >= F."""),
    ("sp1_2_red_flags.lp",
     """sp1_2_latest_pain(C, V) :- pain_score(C, D, V), D = #max{ D2 : pain_score(C, D2, _) }.""",
     """sp1_2_scored(C) :- pain_score(C, _, _).
sp1_2_last_scored(C, M) :- sp1_2_scored(C), M = #max{ D : pain_score(C, D, _) }.
sp1_2_latest_pain(C, V) :- sp1_2_last_scored(C, D), pain_score(C, D, V)."""),
    ("sp1_2_red_flags.lp",
     """holds(C, sp1_2_mw_progressive) :- muscle_grade(C, E1, M, S, G1), muscle_grade(C, E2, M, S, G2), G2 < G1,
                                  evaluation(C, E1, D1, _, _), sp1_2_recent_evaluation(C, E2, D2), D2 > D1.""",
     """holds(C, sp1_2_mw_progressive) :- muscle_grade(C, E2, M, S, G2), sp1_2_recent_evaluation(C, E2, D2),
                                  sp1_2_first_graded(C, M, S, G1, D1), G2 < G1, D2 > D1.
%*! sp1_2_first_graded(C, Muscle, Side, Grade, Day): Day is the first day case C graded Muscle (Side) Grade. *%
sp1_2_graded(C, M, S, G, D) :- muscle_grade(C, E, M, S, G), evaluation(C, E, D, _, _).
sp1_2_grade_seen(C, M, S, G) :- sp1_2_graded(C, M, S, G, _).
sp1_2_first_graded(C, M, S, G, F) :- sp1_2_grade_seen(C, M, S, G), F = #min{ D : sp1_2_graded(C, M, S, G, D) }."""),
    ("sp1_2_red_flags.lp",
     """holds(C, sp1_2_worsening_despite_trial) :- finding(C, severe_worsening_spinal_pain),
    sp1_2_week_of_treatment(C, S), window(sp1_2_treatment_week, W),
    evaluation(C, E, D, _, reevaluation), D >= S + W, not_improved(C, E).""",
     """holds(C, sp1_2_worsening_despite_trial) :- finding(C, severe_worsening_spinal_pain),
    sp1_2_first_week(C, S), window(sp1_2_treatment_week, W),
    sp1_0_last_failed_reevaluation(C, D), D >= S + W.
%*! sp1_2_first_week(C, Start): the earliest start of a week of provider-directed treatment of case C. *%
sp1_2_treated_a_week(C) :- sp1_2_week_of_treatment(C, _).
sp1_2_first_week(C, F) :- sp1_2_treated_a_week(C), F = #min{ S : sp1_2_week_of_treatment(C, S) }."""),
    ("sp1_2_red_flags.lp",
     """holds(C, sp1_2_srp_unresponsive) :- sp1_2_week_of_treatment(C, S), window(sp1_2_treatment_week, W),
                                    pain_score(C, D, V), D >= S + W, V >= 9.""",
     """holds(C, sp1_2_srp_unresponsive) :- sp1_2_first_week(C, S), window(sp1_2_treatment_week, W),
                                    sp1_2_last_severe_score(C, D), D >= S + W.
sp1_2_severe_score(C, D) :- pain_score(C, D, V), V >= 9.
sp1_2_severely_scored(C) :- sp1_2_severe_score(C, _).
sp1_2_last_severe_score(C, M) :- sp1_2_severely_scored(C), M = #max{ D : sp1_2_severe_score(C, D) }."""),
    ("sp15_1_post_op_over_six_months.lp",
     """sp15_last_surgery(C, D) :- procedure(C, _, K, _), sp15_spinal_surgery(K),
                           D = #max{ D2 : procedure(C, _, K2, D2), sp15_spinal_surgery(K2) }.""",
     """sp15_operated(C) :- procedure(C, _, K, _), sp15_spinal_surgery(K).
sp15_last_surgery(C, D) :- sp15_operated(C), D = #max{ D2 : procedure(C, _, K2, D2), sp15_spinal_surgery(K2) }."""),
    ("sp16_2_before_injections.lp",
     """holds(C, sp16_2_failed_conservative) :- sp16_2_four_weeks(C, _, S), sp16_2_window(conservative, W),
    evaluation(C, E, D, _, reevaluation), D >= S + W, not_improved(C, E).""",
     """holds(C, sp16_2_failed_conservative) :- sp16_2_first_course(C, S), sp16_2_window(conservative, W),
    sp1_0_last_failed_reevaluation(C, D), D >= S + W.
sp16_2_conservative_course(C) :- sp16_2_four_weeks(C, _, _).
sp16_2_first_course(C, F) :- sp16_2_conservative_course(C), F = #min{ S : sp16_2_four_weeks(C, _, S) }."""),
    ("sp8_1_spondylolysis.lp",
     """sp8_1_reevaluated_after(C, T, Ev) :- sp8_1_immobilized(C, T, _, E), evaluation(C, Ev, D, _, reevaluation), D >= E.
sp8_1_reevaluated_after(C, T, Ev) :- sp8_1_immobilized(C, T, S, _), sp8_1_window(immobilization, W),
                                     evaluation(C, Ev, D, _, reevaluation), D >= S + W.""",  # noqa: E501
     """% (on or after the last day is implied: an immobilization lasted at least six weeks, so its
% last day is on or after its 42nd day)
sp8_1_was_immobilized(C) :- sp8_1_immobilized(C, _, _, _).
sp8_1_first_immobilization(C, F) :- sp8_1_was_immobilized(C), F = #min{ S : sp8_1_immobilized(C, _, S, _) }."""),
    ("sp8_1_spondylolysis.lp",
     """holds(C, sp8_1_immobilization_failed_ct) :- sp8_1_reevaluated_after(C, _, Ev), not_improved(C, Ev).""",
     """holds(C, sp8_1_immobilization_failed_ct) :- sp8_1_first_immobilization(C, S), sp8_1_window(immobilization, W),
                                             sp1_0_last_failed_reevaluation(C, D), D >= S + W."""),
    ("sp2_3_ct.lp",
     """holds(C, sp2_3_xrays_sufficient(R)) :- procedure(C, P, fusion, F), sp2_2_surgery_region(C, P, R),
    imaging(C, I, xray, R, D), D >= F, imaging_result(C, I, (normal; negative; no_progression)),
    not sp2_3_xray_unsettled(C, I).""",
     """holds(C, sp2_3_xrays_sufficient(R)) :- sp2_3_first_fusion(C, R, F), sp2_3_last_settled_xray(C, R, D), D >= F.
sp2_3_fused(C, R) :- procedure(C, P, fusion, _), sp2_2_surgery_region(C, P, R).
sp2_3_first_fusion(C, R, F) :- sp2_3_fused(C, R),
    F = #min{ D : procedure(C, P, fusion, D), sp2_2_surgery_region(C, P, R) }.
sp2_3_settled_xray(C, R, D) :- imaging(C, I, xray, R, D), imaging_result(C, I, (normal; negative; no_progression)),
    not sp2_3_xray_unsettled(C, I).
sp2_3_has_settled_xray(C, R) :- sp2_3_settled_xray(C, R, _).
sp2_3_last_settled_xray(C, R, M) :- sp2_3_has_settled_xray(C, R), M = #max{ D : sp2_3_settled_xray(C, R, D) }."""),
    ("sp13_2_syringomyelia_follow_up.lp",
     """sp13_2_mri_after(C, D) :- procedure(C, _, _, D), sp13_2_mri(C, _, M), M > D.""",
     """sp13_2_mri_after(C, D) :- procedure(C, _, _, D), sp13_2_last_mri(C, M), M > D."""),
    ("sp10_2_inflammatory_spondylitis.lp",
     """sp10_2_progression_since(C, D) :- sp10_2_si_xray(C, _, D), imaging(C, J, xray, _, D2), D2 >= D,
                                  imaging_result(C, J, progression).""",
     """sp10_2_progression_since(C, D) :- sp10_2_si_xray(C, _, D), sp10_2_last_progression(C, M), M >= D.
sp10_2_progression_on(C, D) :- imaging(C, J, xray, _, D), imaging_result(C, J, progression).
sp10_2_progressed(C) :- sp10_2_progression_on(C, _).
sp10_2_last_progression(C, M) :- sp10_2_progressed(C), M = #max{ D : sp10_2_progression_on(C, D) }."""),
    ("sp16_4_after_augmentation.lp",
     """sp16_4_deficit_before(C, D) :- finding_day(C, new_neurologic_deficit, F), procedure(C, _, _, D), F < D.""",
     """sp16_4_deficit_before(C, D) :- sp16_4_first_deficit(C, F), procedure(C, _, _, D), F < D.
sp16_4_deficit_dated(C) :- finding_day(C, new_neurologic_deficit, _).
sp16_4_first_deficit(C, F) :- sp16_4_deficit_dated(C), F = #min{ D : finding_day(C, new_neurologic_deficit, D) }."""),
]


def proposed_program() -> tuple[str, list[str]]:
    """The decision program with every proposed rewrite applied; and the rewrites that no longer
    match ``kb/`` (the rule changed since), which are left out."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in kb_files()}
    stale = []
    for file, old, new in PROPOSED:
        if old in texts.get(file, ""):
            texts[file] = texts[file].replace(old, new)
        else:
            stale.append(f"kb/{file}: {old.splitlines()[0][:80]}")
    return "\n".join(f"%% file: {name}\n{text}" for name, text in texts.items()), stale


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


def measure(kinds: list[str], sizes: list[int], program: str | None) -> list[dict[str, Any]]:
    """Seconds to decide one case of each kind and size (after one warm-up decision)."""
    engine = Engine()
    if program is not None:
        engine._program = program  # the proposed rewrites, in memory only
    engine.evaluate_one(Case.model_validate(grown_case("evaluations", 1)))
    rows = []
    for kind in kinds:
        times = []
        for n in sizes:
            case = Case.model_validate(grown_case(kind, n))
            start = time.perf_counter()
            engine.evaluate_one(case)
            times.append(time.perf_counter() - start)
            print(f"  {kind:14} {n:>7,} entries: {times[-1]:7.2f} s", file=sys.stderr, flush=True)
        a, b = times[-2], times[-1]
        exponent = math.log(b / a) / math.log(sizes[-1] / sizes[-2]) if a > 0 and len(sizes) > 1 else float("nan")
        rows.append({"kind": kind, "sizes": sizes, "seconds": [round(t, 3) for t in times],
                     "growth_exponent": round(exponent, 2)})
    return rows


def check_proposed() -> int:
    """The proposed rewrites change no YAML test's outcome, and no decision or criterion held of
    the examples and of 300 generated cases."""
    program, stale = proposed_program()
    for line in stale:
        print(f"stale rewrite, left out: {line}")
    spec = importlib.util.spec_from_file_location("spinekb_mutation_tool", ROOT / "tools" / "mutation.py")
    assert spec is not None and spec.loader is not None
    mutation = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mutation
    spec.loader.exec_module(mutation)
    suite = mutation.load_suite()
    everything = list(range(len(suite.names)))
    before = set(mutation.failing_full(mutation.apply(None, kb_files()), suite, everything))
    after = set(mutation.failing_full(program, suite, everything))
    print(f"YAML tests failing: {len(before)} with kb/ as it is, {len(after)} with the rewrites")
    generator = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    assert generator is not None and generator.loader is not None
    module = importlib.util.module_from_spec(generator)
    generator.loader.exec_module(module)
    cases = [Case.model_validate(data) for data in module.generate(300, seed=7)]
    examples = sorted((ROOT / "examples" / "cases").glob("*.json"))
    cases += [Case.model_validate(json.loads(p.read_text())) for p in examples]
    plain, rewritten = Engine(trace=True), Engine(trace=True)
    rewritten._program = program + "\n#show holds/2.\n"
    differ = [a.case_id for a, b in zip(plain.evaluate(cases), rewritten.evaluate(cases), strict=True)
              if a.to_json()["studies"] != b.to_json()["studies"] or a.atoms.holds != b.atoms.holds]
    print(f"{len(cases)} generated and example cases: {len(differ)} decided differently {differ[:5]}")
    return 0 if after <= before and not differ and not stale else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--sizes", default="1000,4000,8000")
    parser.add_argument("--proposed", action="store_true", help="apply the proposed KB rewrites (in memory)")
    parser.add_argument("--check-proposed", action="store_true", help="show the rewrites change no outcome")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.check_proposed:
        return check_proposed()
    program = None
    if args.proposed:
        program, stale = proposed_program()
        for line in stale:
            print(f"stale rewrite, left out: {line}", file=sys.stderr)
    rows = measure(args.kinds.split(","), [int(s) for s in args.sizes.split(",")], program)
    for row in rows:
        timings = "  ".join(f"{n:>6,}: {t:6.2f} s" for n, t in zip(row["sizes"], row["seconds"], strict=True))
        print(f"{row['kind']:14} {timings}   growth exponent {row['growth_exponent']}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
