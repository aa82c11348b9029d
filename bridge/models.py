"""The case format: one imaging request and the clinical record behind it.

A case is validated by these pydantic v2 models; the JSON Schema that ``spinekb schema``
prints is generated from them, so every field carries its description here::

    >>> case = Case.model_validate({
    ...     "request": {"id": "r1", "date": "2024-05-01", "cpt": ["72148"], "purpose": "diagnosis"},
    ...     "patient": {"age": 54, "sex": "female"},
    ...     "episode": {"regions": ["lumbar"], "condition": "low_back_pain", "onset": "2024-01-10"},
    ... })
    >>> case.request.cpt
    ('72148',)

Every date is a calendar date and none may fall after the request date. The models only
check that the record is well formed; what the record means for a decision is the KB's job.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum
from functools import cache
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from spinekb.bridge.vocabulary import vocabulary


class Model(BaseModel):
    """Frozen, strict about unknown fields: a typo is an error, never silently dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@cache
def _code_table() -> frozenset[str]:
    from spinekb.bridge.kbinfo import static_kb

    return frozenset(static_kb().codes)


def _check_cpt(code: str) -> str:
    if code not in _code_table():
        raise ValueError(f"unknown CPT code {code!r} (not in the guideline's code table)")
    return code


def _check_term(term: str) -> str:
    if term not in vocabulary():
        raise ValueError(f"unknown term {term!r} (see `spinekb vocabulary`)")
    return term


CptCode = Annotated[str, AfterValidator(_check_cpt),
                   Field(description="A CPT code named by the guideline, e.g. \"72148\".")]
Region = Literal["cervical", "thoracic", "lumbar", "pelvis"]
Side = Literal["left", "right", "bilateral"]
Outcome = Literal["improved", "no_significant_improvement", "worse"]


class Purpose(str, Enum):
    """Why the study is requested."""

    diagnosis = "diagnosis"
    preoperative_planning = "preoperative_planning"
    follow_up = "follow_up"
    pre_injection = "pre_injection"
    pre_stimulator = "pre_stimulator"
    post_procedure = "post_procedure"
    post_discography = "post_discography"
    complete_study = "complete_study"


class Requester(str, Enum):
    """Who requests the study, where the guideline cares."""

    operating_surgeon = "operating_surgeon"
    spine_specialist = "spine_specialist"
    interventional_pain = "interventional_pain"
    radiologist = "radiologist"
    primary_care = "primary_care"
    other = "other"


class Technique(str, Enum):
    """A special technique of the requested study that the guideline names."""

    positional_mri = "positional_mri"
    cone_beam_ct = "cone_beam_ct"
    pet_ct = "pet_ct"
    intraoperative = "intraoperative"


class Request(Model):
    """The imaging request."""

    id: str = Field(min_length=1, max_length=200, description="The request (case) identifier.")
    date: dt.date = Field(description="The request date; every other date is counted back from it.")
    time: Optional[dt.time] = Field(None, description="Time of the request, where hours matter (SP-16.4).")
    cpt: tuple[CptCode, ...] = Field(min_length=1, description="The requested studies, one CPT code each.")
    purpose: Purpose = Field(description="Why the studies are requested.")
    requester: Optional[Requester] = Field(None, description="Who requests, where the text cares.")
    techniques: tuple[Technique, ...] = Field((), description="Special techniques requested.")

    @field_validator("cpt")
    @classmethod
    def _distinct_codes(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(codes)) != len(codes):
            raise ValueError("a CPT code is requested twice")
        return codes


class Patient(Model):
    """The individual: age (or birth date) and sex."""

    age: Optional[int] = Field(None, ge=0, le=130, description="Age in whole years at the request date.")
    birth_date: Optional[dt.date] = Field(None, description="Birth date; the age is computed from it.")
    sex: Literal["female", "male", "other", "unknown"] = Field("unknown", description="Sex.")

    @model_validator(mode="after")
    def _age_or_birth_date(self) -> "Patient":
        if self.age is None and self.birth_date is None:
            raise ValueError("give age or birth_date")
        return self


class Condition(str, Enum):
    """The presenting condition of the episode, named as the guideline's sections name them."""

    neck_pain = "neck_pain"                                  # SP-3.1
    neck_trauma = "neck_trauma"                              # SP-3.2
    upper_back_pain = "upper_back_pain"                      # SP-4.1
    upper_back_trauma = "upper_back_trauma"                  # SP-4.2
    low_back_pain = "low_back_pain"                          # SP-5.1
    coccydynia = "coccydynia"                                # SP-5.2
    lower_extremity_pain_neuro = "lower_extremity_pain_neuro"  # SP-6.1
    low_back_trauma = "low_back_trauma"                      # SP-6.2
    myelopathy = "myelopathy"                                # SP-7
    spondylolysis = "spondylolysis"                          # SP-8.1
    spondylolisthesis = "spondylolisthesis"                  # SP-8.2
    lumbar_stenosis = "lumbar_stenosis"                      # SP-9
    si_joint_pain = "si_joint_pain"                          # SP-10.1
    inflammatory_spondylitis = "inflammatory_spondylitis"    # SP-10.2
    fibromyalgia = "fibromyalgia"                            # SP-10.3
    compression_fracture = "compression_fracture"            # SP-11
    cancer_spinal_pain = "cancer_spinal_pain"                # SP-12
    syringomyelia = "syringomyelia"                          # SP-13
    spinal_deformity = "spinal_deformity"                    # SP-14
    post_operative = "post_operative"                        # SP-15
    spinal_lesion = "spinal_lesion"                          # SP-2.8
    vascular = "vascular"                                    # SP-2.9
    other = "other"


class Episode(Model):
    """The current episode: where, what, and since when."""

    regions: tuple[Region, ...] = Field(min_length=1, description="Symptomatic spinal region(s).")
    condition: Condition = Field(description="The presenting condition.")
    onset: dt.date = Field(description="When the current episode of symptoms started.")
    changed: Optional[dt.date] = Field(None, description="When the symptoms last changed, if they did.")

    @model_validator(mode="after")
    def _changed_after_onset(self) -> "Episode":
        if self.changed is not None and self.changed < self.onset:
            raise ValueError(f"changed: is before onset ({self.changed} < {self.onset})")
        return self


Muscle = Literal[
    "toe_flexion", "toe_extension", "great_toe_extension", "ankle_dorsiflexion",
    "ankle_plantar_flexion", "knee_flexion", "knee_extension", "hip_flexion", "hip_abduction",
    "wrist_dorsiflexion", "wrist_palmar_flexion", "elbow_flexion", "elbow_extension",
    "shoulder_abduction", "finger_flexion", "finger_abduction", "other",
]
Reflex = Literal["biceps", "triceps", "brachioradialis", "patellar", "achilles", "other"]


class MuscleGrade(Model):
    """Manual muscle testing of one named muscle or myotome, graded 0-5 (SP-1.0)."""

    muscle: Muscle = Field(description="The muscle or myotomal movement tested.")
    side: Side = Field(description="Side tested.")
    grade: int = Field(ge=0, le=5, description="0 no activation ... 5 against full resistance.")
    root: Optional[str] = Field(None, pattern=r"^[CTLS][0-9]{1,2}$", description="Named nerve root, e.g. L5.")


class ReflexGrade(Model):
    """A deep tendon reflex, graded 0-4 (0, 1+, 2+, 3+, 4+ clonus; SP-1.0)."""

    reflex: Reflex = Field(description="The reflex tested.")
    side: Side = Field(description="Side tested.")
    grade: int = Field(ge=0, le=4, description="0 none, 1 slight, 2 brisk, 3 very brisk, 4 clonus.")


class SensoryLoss(Model):
    """Altered sensation and its anatomic distribution (SP-1.0, SP-1.3)."""

    distribution: Literal["dermatomal", "stocking_glove", "mixed", "perineal"]
    modality: Optional[Literal["light_touch", "pressure", "pin_prick", "temperature", "pain"]] = None
    root: Optional[str] = Field(None, pattern=r"^[CTLS][0-9]{1,2}$", description="Named nerve root.")


class SignResult(Model):
    """A pathological reflex or nerve-tension sign, positive or negative."""

    sign: Literal[
        "hoffmann", "babinski", "chaddock", "lhermitte", "clonus",
        "straight_leg_raise", "slump", "femoral_nerve_tension",
    ]
    result: Literal["positive", "negative"]


class Exam(Model):
    """Physical examination findings of one evaluation."""

    muscles: tuple[MuscleGrade, ...] = ()
    reflexes: tuple[ReflexGrade, ...] = ()
    sensory: tuple[SensoryLoss, ...] = ()
    signs: tuple[SignResult, ...] = ()
    progression: tuple[Literal["motor", "sensory", "reflex"], ...] = Field(
        (), description="Objective deficits that progressed since the previous exam.")


class Evaluation(Model):
    """A clinical evaluation or re-evaluation (SP-1.0)."""

    date: dt.date
    mode: Literal["in_person", "telephone", "email", "web", "telemedicine", "messaging"] = Field(
        description="How the contact took place; only in_person counts as face-to-face.")
    kind: Literal["initial", "reevaluation", "other"] = Field(description="Initial evaluation or re-evaluation.")
    outcome: Optional[Outcome] = Field(None, description="At a re-evaluation: how the condition responded.")
    by: Optional[Requester] = Field(None, description="Who evaluated.")
    exam: Exam = Field(default_factory=Exam, description="Examination findings.")


class Finding(Model):
    """A documented symptom, finding or history item from the controlled vocabulary."""

    term: str = Field(description="A term of `spinekb vocabulary`.")
    date: Optional[dt.date] = Field(None, description="When it was documented or began.")

    @field_validator("term")
    @classmethod
    def _known_term(cls, term: str) -> str:
        return _check_term(term)


TraumaFactor = Literal[
    "pedestrian_struck", "fall_from_elevation", "diving_accident", "head_on_collision",
    "rollover_collision", "ejection_from_vehicle", "high_speed_collision", "no_seatbelt",
    "head_or_maxillofacial_trauma", "minor_trauma", "motor_vehicle_collision", "fall", "sports",
    "other",
]


class Trauma(Model):
    """A trauma event and its mechanism (SP-3.2 high-risk factors among them)."""

    date: dt.date
    mechanism: tuple[TraumaFactor, ...] = Field(min_length=1)
    regions: tuple[Region, ...] = Field((), description="Regions injured, if documented.")


TreatmentKind = Literal[
    "education", "activity_modification", "nsaids", "analgesics", "narcotic_analgesics",
    "muscle_relaxants", "corticosteroids", "home_exercise", "cross_training",
    "physical_therapy", "occupational_therapy", "spinal_manipulation", "chiropractic",
    "interventional_pain_procedure", "pain_management", "spinal_orthosis", "other",
]


class Treatment(Model):
    """A provider-directed treatment (SP-1.0) with its dates and outcome."""

    kind: TreatmentKind
    start: dt.date
    end: Optional[dt.date] = Field(None, description="Last day; absent while ongoing at the request.")
    outcome: Optional[Outcome] = None

    @model_validator(mode="after")
    def _end_after_start(self) -> "Treatment":
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end: is before start ({self.end} < {self.start})")
        return self


class PainScore(Model):
    """A pain score on the visual analog scale (VAS 0-10)."""

    date: dt.date
    vas: int = Field(ge=0, le=10)


ImagingResult = Literal[
    "negative", "normal", "positive", "abnormal", "equivocal", "indeterminate", "non_diagnostic",
    "insufficient", "incomplete", "new_fracture", "fracture", "no_fracture",
    "fracture_acuity_indeterminate", "suspicious_for_infection", "root_compression",
    "foraminal_stenosis", "severe_stenosis", "lesion", "typical_hemangioma", "atypical_hemangioma",
    "avm_suspected", "syrinx", "non_sclerotic_pars_defect", "no_progression", "progression",
    "degenerative_findings", "stress_reaction",
]


class PriorImaging(Model):
    """A study already performed, and whether the requester has its results."""

    modality: Literal["xray", "mri", "ct", "ct_myelogram", "bone_scan", "spect", "emg_ncv", "other"]
    region: Literal["cervical", "thoracic", "lumbar", "pelvis", "sacrum_coccyx", "whole_spine", "brain"]
    date: dt.date
    contrast: Literal["without", "with", "without_and_with", "none"] = "none"
    result: tuple[ImagingResult, ...] = Field(min_length=1)
    available: bool = Field(True, description="Results are available to the requesting provider.")


class Implant(Model):
    """An implant or device, with its MRI safety as the manufacturer states it (SP-2.3)."""

    kind: Literal["ferromagnetic", "pacemaker", "defibrillator", "neurostimulator",
                  "cochlear_implant", "pump", "spinal_hardware", "other"]
    mri_conditional: bool = Field(False, description="Determined by the manufacturer as MRI compatible/conditional.")


ProcedureKind = Literal[
    "laminectomy", "discectomy", "decompression", "fusion", "spine_surgery_other",
    "vertebroplasty", "kyphoplasty", "discography", "myelography", "epidural_injection",
    "facet_injection", "stimulator_implantation", "stimulator_removal", "posterior_fossa_decompression",
]


class Procedure(Model):
    """A surgery or procedure already done, with its date (and time, where hours count)."""

    kind: ProcedureKind
    date: dt.date
    time: Optional[dt.time] = None
    region: Optional[Region] = None
    anterior: bool = Field(False, description="An anterior approach (SP-14.2, SP-15.4).")


PlanKind = Literal[
    "tfesi", "ilesi", "caudal_esi", "facet_injection", "medial_branch_block",
    "radiofrequency_ablation", "urgent_surgery", "urgent_specialist_referral", "spine_surgery",
    "revision_anterior_surgery", "stimulator_placement", "stimulator_removal", "kyphoplasty",
    "vertebroplasty", "discography", "myelography",
]


class Plan(Model):
    """A planned treatment or procedure (epidural injection by type and level, surgery, ...)."""

    kind: PlanKind
    region: Optional[Region] = Field(None, description="Spinal level of a planned injection or surgery.")
    approved: bool = Field(False, description="Already approved (e.g. a discography, SP-2.5).")


class Case(Model):
    """One imaging request and the clinical record behind it."""

    request: Request
    patient: Patient
    episode: Episode
    evaluations: tuple[Evaluation, ...] = ()
    findings: tuple[Finding, ...] = ()
    trauma: tuple[Trauma, ...] = ()
    treatments: tuple[Treatment, ...] = ()
    pain_scores: tuple[PainScore, ...] = ()
    prior_imaging: tuple[PriorImaging, ...] = ()
    implants: tuple[Implant, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    plans: tuple[Plan, ...] = ()

    @model_validator(mode="after")
    def _nothing_after_request(self) -> "Case":
        """Every date of the record lies on or before the request date."""
        request = self.request.date
        for path, when in self.dated_fields():
            if when > request:
                raise ValueError(f"{path}: is after the request date ({when} > {request})")
        return self

    def dated_fields(self) -> list[tuple[str, dt.date]]:
        """Every (field path, date) of the record, for the request-date check."""
        found: list[tuple[str, dt.date]] = [("episode.onset", self.episode.onset)]
        if self.episode.changed:
            found.append(("episode.changed", self.episode.changed))
        if self.patient.birth_date:
            found.append(("patient.birth_date", self.patient.birth_date))
        for name in ("evaluations", "findings", "trauma", "pain_scores", "prior_imaging", "procedures"):
            for i, item in enumerate(getattr(self, name)):
                if getattr(item, "date", None):
                    found.append((f"{name}[{i}].date", item.date))
        for i, treatment in enumerate(self.treatments):
            found.append((f"treatments[{i}].start", treatment.start))
            if treatment.end:
                found.append((f"treatments[{i}].end", treatment.end))
        return found

    def age_years(self) -> int:
        """Age in whole years at the request date."""
        if self.patient.age is not None:
            return self.patient.age
        born, on = self.patient.birth_date, self.request.date
        assert born is not None
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
