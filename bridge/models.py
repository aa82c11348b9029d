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
import re
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag,
                      field_validator, model_validator)

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
Outcome = Literal["improved", "no_significant_improvement", "worse", "stable"]

_LEVEL = re.compile(r"^([CTLS])([0-9]{1,2})(?:-([CTLS])?([0-9]{1,2}))?$")


def _check_level(level: str) -> str:
    if not _LEVEL.match(level):
        raise ValueError(f"{level!r} is not a vertebral level such as L5, L4-5, L5-S1 or T9")
    return level


def level_constant(level: str) -> str:
    """A vertebral level as the KB names it: "L4-5" and "L4-L5" -> ``l4_l5``, "L5-S1" -> ``l5_s1``.

        >>> level_constant("L4-5"), level_constant("T9"), level_constant("L5-S1")
        ('l4_l5', 't9', 'l5_s1')
    """
    match = _LEVEL.match(level)
    assert match, level
    first, number, second, other = match.groups()
    name = f"{first}{number}".lower()
    return f"{name}_{(second or first)}{other}".lower() if other else name


Level = Annotated[str, AfterValidator(_check_level),
                  Field(description="A vertebral level or segment: \"L5\", \"L4-5\" (= \"L4-L5\"), \"L5-S1\", \"T9\".")]


def _naive_time(value: Optional[dt.time]) -> Optional[dt.time]:
    if value is not None and value.tzinfo is not None:
        raise ValueError("give a local time without a UTC offset (the request's own clock)")
    return value


LocalTime = Annotated[dt.time, AfterValidator(_naive_time)]


class Purpose(str, Enum):
    """Why the study is requested."""

    diagnosis = "diagnosis"
    preoperative_planning = "preoperative_planning"
    follow_up = "follow_up"
    surveillance = "surveillance"
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


class RequestedStudy(Model):
    """One requested study with the special techniques requested for it alone."""

    code: CptCode
    techniques: tuple[Technique, ...] = Field((), description="Special techniques of this study.")


def _study_kind(value: Any) -> str:
    return "study" if isinstance(value, (dict, RequestedStudy)) else "code"


StudyItem = Annotated[Union[Annotated[CptCode, Tag("code")], Annotated[RequestedStudy, Tag("study")]],
                      Discriminator(_study_kind)]


class Request(Model):
    """The imaging request."""

    id: str = Field(min_length=1, max_length=200, description="The request (case) identifier.")
    date: dt.date = Field(description="The request date; every other date is counted back from it.")
    time: Optional[LocalTime] = Field(None, description="Local time of the request, where hours matter (SP-16.4).")
    cpt: tuple[StudyItem, ...] = Field(
        min_length=1, description="The requested studies: a CPT code each, or {code, techniques} "
                                  "where a technique applies to that study alone.")
    purpose: Purpose = Field(description="Why the studies are requested.")
    requester: Optional[Requester] = Field(None, description="Who requests, where the text cares.")
    techniques: tuple[Technique, ...] = Field((), description="Special techniques requested for every study.")

    @field_validator("cpt")
    @classmethod
    def _distinct_codes(cls, items: tuple[Union[str, RequestedStudy], ...]) -> tuple[Union[str, RequestedStudy], ...]:
        codes = [item if isinstance(item, str) else item.code for item in items]
        if len(set(codes)) != len(codes):
            raise ValueError("a CPT code is requested twice")
        return items

    @property
    def codes(self) -> tuple[str, ...]:
        """The requested CPT codes, in request order."""
        return tuple(item if isinstance(item, str) else item.code for item in self.cpt)

    def study_techniques(self) -> list[tuple[str, Technique]]:
        """(code, technique) for every requested study: its own techniques and the request's."""
        pairs: list[tuple[str, Technique]] = []
        for item in self.cpt:
            code = item if isinstance(item, str) else item.code
            own = () if isinstance(item, str) else item.techniques
            for technique in dict.fromkeys((*self.techniques, *own)):
                pairs.append((code, technique))
        return pairs


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

    regions: tuple[Region, ...] = Field(min_length=1, description="Symptomatic (or imaged) spinal region(s).")
    condition: Condition = Field(description="The presenting condition.")
    onset: Optional[dt.date] = Field(None, description="When the current episode of symptoms started; "
                                     "absent where there is no current episode (surveillance, follow-up, "
                                     "preoperative planning, an asymptomatic finding).")
    changed: Optional[dt.date] = Field(None, description="When the symptoms last changed, if they did.")

    @model_validator(mode="after")
    def _changed_after_onset(self) -> "Episode":
        if self.changed is not None and self.onset is not None and self.changed < self.onset:
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

    distribution: Literal["dermatomal", "stocking_glove", "mixed", "perineal", "sensory_level", "dissociated"]
    modality: Optional[Literal["light_touch", "pressure", "pin_prick", "temperature", "pain"]] = None
    root: Optional[str] = Field(None, pattern=r"^[CTLS][0-9]{1,2}$", description="Named nerve root.")


class SignResult(Model):
    """A pathological reflex or nerve-tension sign, positive or negative."""

    sign: Literal[
        "hoffmann", "babinski", "chaddock", "lhermitte", "clonus",
        "straight_leg_raise", "slump", "femoral_nerve_tension",
        "crossed_radial_reflex", "inverted_radial_reflex", "finger_escape",
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
    level: Optional[Level] = Field(None, description="The vertebral level it concerns, if one.")
    side: Optional[Side] = Field(None, description="The side it concerns, if one.")

    @field_validator("term")
    @classmethod
    def _known_term(cls, term: str) -> str:
        return _check_term(term)


TraumaFactor = Literal[
    "pedestrian_struck", "fall_from_elevation", "diving_accident", "head_on_collision",
    "rollover_collision", "ejection_from_vehicle", "high_speed_collision", "no_seatbelt",
    "head_or_maxillofacial_trauma", "minor_trauma", "motor_vehicle_collision", "fall", "sports",
    "airbag_deployed", "other",
]


class Trauma(Model):
    """A trauma event and its mechanism (SP-3.2 high-risk factors among them)."""

    date: dt.date
    mechanism: tuple[TraumaFactor, ...] = Field(min_length=1)
    regions: tuple[Region, ...] = Field((), description="Regions injured, if documented.")
    fall_height_feet: Optional[int] = Field(None, ge=0, le=1000, description="Height of a fall, in whole feet.")
    fall_stairs: Optional[int] = Field(None, ge=0, le=1000, description="Stairs fallen down, if counted.")


TreatmentKind = Literal[
    "education", "activity_modification", "nsaids", "analgesics", "narcotic_analgesics",
    "muscle_relaxants", "corticosteroids", "home_exercise", "cross_training",
    "physical_therapy", "occupational_therapy", "spinal_manipulation", "chiropractic",
    "interventional_pain_procedure", "pain_management", "spinal_orthosis", "otc_medication",
    "yoga", "self_directed_exercise", "immobilization", "other",
]


class Treatment(Model):
    """A treatment with its dates and outcome; provider-directed (SP-1.0) unless the patient directs it alone."""

    kind: TreatmentKind
    start: dt.date
    end: Optional[dt.date] = Field(None, description="Last day; absent while ongoing at the request.")
    outcome: Optional[Outcome] = None
    directed_by: Literal["provider", "self"] = Field(
        "provider", description="Who directs it: a provider, or the patient alone (over-the-counter drugs, "
                                "yoga on their own); self-directed care is not provider-directed treatment.")

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
    "degenerative_findings", "stress_reaction", "not_diagnostic", "spondylolisthesis", "scoliosis",
    "kyphosis", "pars_defect", "sclerotic_pars_defect", "hardware_loosening", "hardware_lucency",
    "expected_postoperative_changes", "postoperative_changes", "healing", "not_healing",
    "pseudoarthrosis", "skip_lesion", "syringobulbia", "compression_fracture",
]


class PriorImaging(Model):
    """A study already performed, and whether the requester has its results."""

    modality: Literal["xray", "mri", "ct", "ct_myelogram", "myelogram", "bone_scan", "spect", "spect_ct",
                      "pet_ct", "cta", "mra", "emg_ncv", "other"]
    region: Literal["cervical", "thoracic", "lumbar", "pelvis", "sacrum_coccyx", "sacroiliac",
                    "whole_spine", "brain", "abdomen"]
    date: dt.date
    contrast: Literal["without", "with", "without_and_with", "none"] = "none"
    result: tuple[ImagingResult, ...] = Field(min_length=1)
    available: bool = Field(True, description="Results are available to the requesting provider.")
    level: Optional[Level] = Field(None, description="The vertebral level a result concerns (e.g. L4-5).")
    grade: Optional[int] = Field(None, ge=1, le=5, description="Grade of a graded result (spondylolisthesis 1-5).")
    cobb_angle: Optional[int] = Field(None, ge=0, le=180, description="Cobb angle of a curve, in degrees.")


class Implant(Model):
    """An implant or device, with its MRI safety as the manufacturer states it (SP-2.3)."""

    kind: Literal["ferromagnetic", "pacemaker", "defibrillator", "neurostimulator",
                  "cochlear_implant", "pump", "spinal_hardware", "other"]
    mri_conditional: bool = Field(False, description="Determined by the manufacturer as MRI compatible/conditional.")


ProcedureKind = Literal[
    "laminectomy", "discectomy", "decompression", "fusion", "spine_surgery_other",
    "vertebroplasty", "kyphoplasty", "discography", "myelography", "epidural_injection",
    "facet_injection", "stimulator_implantation", "stimulator_removal", "posterior_fossa_decompression",
    "stimulator_trial", "radiofrequency_ablation", "medial_branch_block", "si_joint_injection",
    "deformity_correction", "arthroplasty", "bone_growth_stimulation", "vascular_graft",
    "non_spine_surgery",
]


class Procedure(Model):
    """A surgery or procedure already done, with its date (and local time, where hours count)."""

    kind: ProcedureKind
    date: dt.date
    time: Optional[LocalTime] = None
    region: Optional[Region] = None
    level: Optional[Level] = Field(None, description="The vertebral level(s) operated or treated.")
    anterior: bool = Field(False, description="An anterior approach (SP-14.2, SP-15.4); same as approach anterior.")
    approach: Optional[Literal["anterior", "posterior", "lateral", "combined"]] = Field(
        None, description="The surgical approach.")
    revision: bool = Field(False, description="A revision of an earlier surgery (not the first).")


PlanKind = Literal[
    "tfesi", "ilesi", "caudal_esi", "facet_injection", "medial_branch_block",
    "radiofrequency_ablation", "urgent_surgery", "urgent_specialist_referral", "spine_surgery",
    "revision_anterior_surgery", "stimulator_placement", "stimulator_removal", "kyphoplasty",
    "vertebroplasty", "discography", "myelography", "stimulator_trial", "deformity_surgery",
    "revision_fusion", "revision_deformity_surgery", "anterior_spine_surgery",
    "posterior_fossa_decompression", "bone_growth_stimulation", "interlaminar_esi",
]


class Plan(Model):
    """A planned treatment or procedure (epidural injection by type and level, surgery, ...)."""

    kind: PlanKind
    region: Optional[Region] = Field(None, description="Spinal region of a planned injection or surgery.")
    level: Optional[Level] = Field(None, description="The vertebral level to be treated (e.g. L4-5).")
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
        found: list[tuple[str, dt.date]] = []
        if self.episode.onset:
            found.append(("episode.onset", self.episode.onset))
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
