"""Generate N varied, valid cases as JSON Lines, deterministically (same N and seed, same file).

    python bench/generate.py 10000 -o bench/out/cases-10000.jsonl
    python bench/generate.py 5 | spinekb evaluate - --format jsonl

The cases are made to exercise the KB, not to be clinically plausible: mostly the lumbar slice
(low back pain, coccydynia, radiculopathy, lumbar trauma), with treatments lasting 41/42/43
days and ending 89/90/91 days before the request, face-to-face evaluations 59/60/61 days back,
findings drawn from the vocabulary (red flags among them), trauma, prior imaging, implants,
procedures, plans and one to three CPT codes of the code table. Every allowed value comes from
the case models and the KB (never a copy), and every line is validated with
``spinekb.bridge.models.Case`` before it is written.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import types
import typing
from collections.abc import Iterator
from enum import Enum
from typing import Any, get_args, get_origin

from spinekb.bridge import models
from spinekb.kb.static import static_kb
from spinekb.bridge.models import Case
from spinekb.kb.vocabulary import vocabulary

DEFAULT_SEED = 20230101
LUMBAR_SLICE = ("low_back_pain", "coccydynia", "lower_extremity_pain_neuro", "low_back_trauma")
LUMBAR_CODES = ("72148", "72158", "72149", "72131", "72132", "72133", "72195", "72192")
CONDITION_REGIONS = {
    "low_back_pain": ("lumbar",), "coccydynia": ("pelvis",),
    "lower_extremity_pain_neuro": ("lumbar",), "low_back_trauma": ("lumbar",),
    "neck_pain": ("cervical",), "neck_trauma": ("cervical",),
    "upper_back_pain": ("thoracic",), "upper_back_trauma": ("thoracic",),
}
PROVIDER_DIRECTED = ("physical_therapy", "nsaids", "home_exercise", "analgesics", "chiropractic")
TRAUMA_CONDITIONS = ("low_back_trauma", "neck_trauma", "upper_back_trauma")
ROOTS = ("L3", "L4", "L5", "S1", "C5", "C6", "C7", "T10")


def values(annotation: Any) -> tuple[str, ...]:
    """The allowed values of a Literal or Enum annotation (Optional and tuples unwrapped)."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return tuple(member.value for member in annotation)
    if get_origin(annotation) is typing.Literal:
        return tuple(get_args(annotation))
    if get_origin(annotation) in (typing.Union, types.UnionType, tuple):
        found: tuple[str, ...] = ()
        for arg in get_args(annotation):
            if arg is not type(None) and arg is not Ellipsis:
                found += values(arg)
        return found
    if get_origin(annotation) is typing.Annotated:
        return values(get_args(annotation)[0])
    return ()


def field_values(model: type[models.Model], name: str) -> tuple[str, ...]:
    """The allowed values of one field of a case model."""
    return values(model.model_fields[name].annotation)


class CaseGenerator:
    """Draws cases from one seeded random source."""

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.rng = random.Random(seed)
        self.terms = sorted(vocabulary())
        self.codes = sorted(static_kb().codes)
        self.lumbar_codes = [c for c in LUMBAR_CODES if c in static_kb().codes]
        self.conditions = values(models.Condition)
        self.choices = {
            "purpose": values(models.Purpose), "requester": values(models.Requester),
            "technique": values(models.Technique), "sex": field_values(models.Patient, "sex"),
            "mode": field_values(models.Evaluation, "mode"),
            "kind": field_values(models.Evaluation, "kind"),
            "outcome": values(models.Outcome), "muscle": values(models.Muscle),
            "side": values(models.Side), "reflex": values(models.Reflex),
            "distribution": field_values(models.SensoryLoss, "distribution"),
            "sensory_modality": field_values(models.SensoryLoss, "modality"),
            "sign": field_values(models.SignResult, "sign"),
            "progression": field_values(models.Exam, "progression"),
            "factor": values(models.TraumaFactor), "treatment": values(models.TreatmentKind),
            "imaging_modality": field_values(models.PriorImaging, "modality"),
            "imaging_region": field_values(models.PriorImaging, "region"),
            "contrast": field_values(models.PriorImaging, "contrast"),
            "result": values(models.ImagingResult),
            "implant": field_values(models.Implant, "kind"),
            "procedure": values(models.ProcedureKind), "plan": values(models.PlanKind),
            "region": values(models.Region),
        }

    # --- small draws -------------------------------------------------------------------
    def pick(self, name: str) -> str:
        return self.rng.choice(self.choices[name])

    def some(self, name: str, most: int) -> list[str]:
        pool = self.choices[name]
        return self.rng.sample(pool, self.rng.randint(1, min(most, len(pool))))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def boundary(self, edges: tuple[int, ...], low: int, high: int) -> int:
        """Half the time one of the boundary values, otherwise anywhere in [low, high]."""
        return self.rng.choice(edges) if self.chance(0.5) else self.rng.randint(low, high)

    # --- one case ----------------------------------------------------------------------
    def case(self, number: int) -> dict[str, Any]:
        """One case as a JSON-ready dict; days are drawn relative to the request (day 0)."""
        rng = self.rng
        request = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 730))

        def date(day: int) -> str:
            return (request + dt.timedelta(days=min(day, 0))).isoformat()

        condition = rng.choice(LUMBAR_SLICE) if self.chance(0.75) else rng.choice(self.conditions)
        regions = list(CONDITION_REGIONS.get(condition, (self.pick("region"),)))
        if self.chance(0.15):
            regions = sorted(set(regions) | {self.pick("region")})

        # half the cases follow the usual course (evaluation, one six-week-ish trial, re-evaluation),
        # so approvals and both sides of each time boundary are common; the rest are anything
        typical = self.chance(0.5)
        treatments, latest_end = self.treatments(typical)
        evaluations = self.evaluations(latest_end, typical)
        trauma = self.trauma(condition)
        earliest = min([e["day"] for e in evaluations] + [t["start"] for t in treatments]
                       + [t["day"] for t in trauma] + [0])
        onset = earliest - rng.randint(0, 40)

        case: dict[str, Any] = {
            "request": {"id": f"bench-{number:07d}", "date": request.isoformat(),
                        "cpt": self.cpt_codes(),
                        "purpose": "diagnosis" if self.chance(0.7) else self.pick("purpose")},
            "patient": {"sex": self.pick("sex")},
            "episode": {"regions": regions, "condition": condition, "onset": date(onset)},
        }
        if self.chance(0.6):
            case["request"]["requester"] = self.pick("requester")
        if self.chance(0.04):
            case["request"]["techniques"] = self.some("technique", 1)
        if self.chance(0.9):
            case["patient"]["age"] = self.boundary((17, 18, 70, 71, 72), 0, 95)
        else:
            case["patient"]["birth_date"] = date(-rng.randint(365, 95 * 365))
        if self.chance(0.1):
            case["episode"]["changed"] = date(rng.randint(onset, 0))

        if evaluations:
            case["evaluations"] = [{"date": date(e["day"]), **{k: v for k, v in e.items() if k != "day"}}
                                   for e in evaluations]
        findings = [] if typical and self.chance(0.7) else self.findings(onset, date)
        if findings:
            case["findings"] = findings
        if trauma:
            case["trauma"] = [{"date": date(t["day"]), **{k: v for k, v in t.items() if k != "day"}}
                              for t in trauma]
        if treatments:
            case["treatments"] = [self.treatment_record(t, date) for t in treatments]
        if self.chance(0.5):
            case["pain_scores"] = [{"date": date(rng.randint(onset, 0)), "vas": self.boundary((8, 9), 0, 10)}
                                   for _ in range(rng.randint(1, 3))]
        if self.chance(0.35):
            case["prior_imaging"] = [self.imaging(onset, date) for _ in range(rng.randint(1, 2))]
        if self.chance(0.07):
            case["implants"] = [{"kind": self.pick("implant"), "mri_conditional": self.chance(0.4)}]
        if self.chance(0.06):
            case["procedures"] = [self.procedure(date)]
        if self.chance(0.12):
            case["plans"] = [self.plan() for _ in range(rng.randint(1, 2))]
        return case

    def cpt_codes(self) -> list[str]:
        count = self.rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
        codes: list[str] = []
        while len(codes) < count:
            pool = self.lumbar_codes if self.chance(0.7) else self.codes
            code = self.rng.choice(pool)
            if code not in codes:
                codes.append(code)
        return codes

    def treatments(self, typical: bool) -> tuple[list[dict[str, Any]], int | None]:
        """0-3 treatments: lengths around 41/42/43 days, ends around 89/90/91 days back."""
        found: list[dict[str, Any]] = []
        if typical:
            end = -self.boundary((89, 90, 91), 3, 60)
            start = end - self.boundary((41, 42, 43), 30, 70)
            found.append({"kind": self.rng.choice(PROVIDER_DIRECTED), "start": start, "end": end})
            return found, end
        for _ in range(self.rng.choices((0, 1, 2, 3), weights=(20, 45, 25, 10))[0]):
            length = self.boundary((6, 7, 41, 42, 43), 1, 120)
            if self.chance(0.1):
                found.append({"kind": self.pick("treatment"), "start": -length, "end": None})
                continue
            end = -self.boundary((89, 90, 91), 0, 150)
            found.append({"kind": self.pick("treatment"), "start": end - length, "end": end})
        ends = [t["end"] if t["end"] is not None else 0 for t in found]
        return found, (max(ends) if ends else None)

    def treatment_record(self, t: dict[str, Any], date) -> dict[str, Any]:
        record = {"kind": t["kind"], "start": date(t["start"])}
        if t["end"] is not None:
            record["end"] = date(t["end"])
        if self.chance(0.6):
            record["outcome"] = self.pick("outcome")
        return record

    def evaluations(self, latest_end: int | None, typical: bool) -> list[dict[str, Any]]:
        """An initial evaluation 59/60/61 days back (or anywhere), and maybe re-evaluations."""
        rng = self.rng
        found: list[dict[str, Any]] = []
        if typical:
            initial = self.evaluation(-self.boundary((59, 60, 61), 10, 90), "initial", "in_person")
            after = self.evaluation(rng.randint(latest_end or 0, 0), "reevaluation")
            if self.chance(0.8):
                after["outcome"] = "no_significant_improvement"
            for evaluation in (initial, after):
                if self.chance(0.8):
                    evaluation.pop("exam", None)
            return [initial, after]
        if self.chance(0.92):
            found.append(self.evaluation(-self.boundary((59, 60, 61), 0, 200), "initial"))
        for _ in range(rng.choices((0, 1, 2), weights=(30, 55, 15))[0]):
            low = latest_end if latest_end is not None and self.chance(0.8) else -200
            found.append(self.evaluation(rng.randint(min(low, 0), 0), "reevaluation"))
        if self.chance(0.1):
            found.append(self.evaluation(-rng.randint(0, 100), "other"))
        return found

    def evaluation(self, day: int, kind: str, mode: str | None = None) -> dict[str, Any]:
        rng = self.rng
        mode = mode or ("in_person" if self.chance(0.7) else self.pick("mode"))
        evaluation: dict[str, Any] = {"day": day, "mode": mode, "kind": kind}
        if kind == "reevaluation" and self.chance(0.85):
            evaluation["outcome"] = self.pick("outcome")
        if self.chance(0.5):
            evaluation["by"] = self.pick("requester")
        exam: dict[str, Any] = {}
        if self.chance(0.5):
            exam["muscles"] = [self.muscle() for _ in range(rng.randint(1, 3))]
        if self.chance(0.3):
            exam["reflexes"] = [{"reflex": self.pick("reflex"), "side": self.pick("side"),
                                 "grade": rng.randint(0, 4)} for _ in range(rng.randint(1, 2))]
        if self.chance(0.25):
            sensory: dict[str, Any] = {"distribution": self.pick("distribution")}
            if self.chance(0.7):
                sensory["modality"] = self.pick("sensory_modality")
            if self.chance(0.6):
                sensory["root"] = rng.choice(ROOTS)
            exam["sensory"] = [sensory]
        if self.chance(0.3):
            exam["signs"] = [{"sign": s, "result": rng.choice(("positive", "negative"))}
                             for s in self.some("sign", 2)]
        if self.chance(0.05):
            exam["progression"] = self.some("progression", 2)
        if exam:
            evaluation["exam"] = exam
        return evaluation

    def muscle(self) -> dict[str, Any]:
        muscle: dict[str, Any] = {"muscle": self.pick("muscle"), "side": self.pick("side"),
                                  "grade": self.boundary((3, 4), 0, 5)}
        if self.chance(0.5):
            muscle["root"] = self.rng.choice(ROOTS)
        return muscle

    def findings(self, onset: int, date) -> list[dict[str, Any]]:
        found = []
        for term in self.rng.sample(self.terms, self.rng.choices((0, 1, 2, 3, 4), weights=(35, 30, 20, 10, 5))[0]):
            finding: dict[str, Any] = {"term": term}
            if self.chance(0.7):
                finding["date"] = date(self.rng.randint(onset, 0))
            found.append(finding)
        return found

    def trauma(self, condition: str) -> list[dict[str, Any]]:
        if condition not in TRAUMA_CONDITIONS and not self.chance(0.05):
            return []
        event: dict[str, Any] = {"day": -self.rng.randint(0, 120), "mechanism": self.some("factor", 3)}
        if self.chance(0.7):
            event["regions"] = self.some("region", 2)
        return [event]

    def imaging(self, onset: int, date) -> dict[str, Any]:
        study: dict[str, Any] = {
            "modality": "xray" if self.chance(0.5) else self.pick("imaging_modality"),
            "region": self.pick("imaging_region"),
            "date": date(self.rng.randint(onset - 60, 0)),
            "result": self.some("result", 2),
        }
        if self.chance(0.3):
            study["contrast"] = self.pick("contrast")
        if self.chance(0.15):
            study["available"] = False
        return study

    def procedure(self, date) -> dict[str, Any]:
        procedure: dict[str, Any] = {"kind": self.pick("procedure"),
                                     "date": date(-self.rng.randint(0, 400))}
        if self.chance(0.5):
            procedure["region"] = self.pick("region")
        if self.chance(0.2):
            procedure["anterior"] = True
        return procedure

    def plan(self) -> dict[str, Any]:
        plan: dict[str, Any] = {"kind": self.pick("plan")}
        if self.chance(0.6):
            plan["region"] = self.pick("region")
        if self.chance(0.2):
            plan["approved"] = True
        return plan


def generate(n: int, seed: int = DEFAULT_SEED, validate: bool = True) -> Iterator[dict[str, Any]]:
    """``n`` cases as JSON-ready dicts; each validated with :class:`Case` unless told not to."""
    generator = CaseGenerator(seed)
    for number in range(n):
        case = generator.case(number)
        if validate:
            Case.model_validate(case)
        yield case


def write_jsonl(n: int, out: typing.TextIO, seed: int = DEFAULT_SEED, validate: bool = True) -> None:
    """Write ``n`` cases to ``out``, one compact JSON object a line."""
    for case in generate(n, seed, validate):
        out.write(json.dumps(case, separators=(",", ":")) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="how many cases")
    parser.add_argument("-o", "--output", help="JSON Lines file to write (default: standard output)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    parser.add_argument("--no-validate", action="store_true", help="skip validating each case")
    args = parser.parse_args(argv)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            write_jsonl(args.n, out, args.seed, not args.no_validate)
    else:
        write_jsonl(args.n, sys.stdout, args.seed, not args.no_validate)


if __name__ == "__main__":
    main()
