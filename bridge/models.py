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

Every date is a calendar date (``"YYYY-MM-DD"``) and none may fall after the request date.
Types are strict: a number is never a boolean or a string, a date never a timestamp, a time
never carries a UTC offset. Every list has a maximum length (:data:`MAX_RECORDS`,
:data:`MAX_ITEMS`), and a message quotes at most :data:`QUOTE_CHARS` characters of a value.
The models only check that the record is well formed; what the record means for a decision is
the KB's job.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from enum import Enum
from functools import cache
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Strict,
                      Tag, field_validator, model_validator)

from spinekb.kb.vocabulary import vocabulary


#: Most entries of one list of the record (evaluations, findings, treatments, ...).
MAX_RECORDS = 10_000
#: Most entries of a list inside an entry (an exam's muscles, an imaging study's results, ...).
MAX_ITEMS = 100
#: Ages run 0..MAX_AGE, whether given or derived from a birth date.
MAX_AGE = 130
#: Most characters of an offending value that an error message quotes.
QUOTE_CHARS = 80


def shown(value: Any, limit: int = QUOTE_CHARS) -> str:
    """A value as an error message quotes it: its repr, cut to ``limit`` characters.

        >>> shown("x" * 500)[-26:]
        "xxxxxxx…' (500 characters)"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, (str, bytes)):
        cut = repr(value[:limit])
        return f"{cut[:-1]}…{cut[-1]} ({len(value)} characters)"
    return text[:limit] + "…"


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LOCAL_TIME = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?")


def _iso_date(value: Any) -> Any:
    """Dates are ``"YYYY-MM-DD"`` strings (or ``datetime.date`` from Python and unquoted YAML
    dates); never numbers, timestamps or date-times."""
    if isinstance(value, dt.datetime):
        raise ValueError(f"give a date as \"YYYY-MM-DD\", without a time (got {shown(str(value))})")
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError(f"give a date as a \"YYYY-MM-DD\" string (got {shown(value)})")


def _local_time(value: Any) -> Any:
    """Times are local ``"HH:MM"`` or ``"HH:MM:SS"`` strings (or naive ``datetime.time``)."""
    if isinstance(value, dt.time) or (isinstance(value, str) and _LOCAL_TIME.fullmatch(value)):
        return value
    if isinstance(value, str) and (start := _LOCAL_TIME.match(value)) and value[start.end():][:1] in "Zz+-":
        raise ValueError(f"give a local time without a UTC offset, the request's own clock (got {shown(value)})")
    hint = "; in YAML quote it: unquoted 17:00 is read as a number" if isinstance(value, int) else ""
    raise ValueError(f"give a local time as an \"HH:MM\" or \"HH:MM:SS\" string (got {shown(value)}{hint})")


def _printable(value: str) -> str:
    """Identifiers hold no control characters and no lone surrogates (they are printed)."""
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cs")), None)
    if bad is not None:
        raise ValueError(f"holds the control character {bad!r}; give printable text")
    return value


#: A calendar date, strictly ``"YYYY-MM-DD"``.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
#: A whole number given as a number (never a boolean, a float or a string).
Whole = Annotated[int, Strict()]
#: ``true`` or ``false`` (never 1, "yes" or "true").
Flag = Annotated[bool, Strict()]


class Model(BaseModel):
    """Frozen, strict about unknown fields: a typo is an error, never silently dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@cache
def _code_table() -> frozenset[str]:
    from spinekb.kb.static import static_kb

    return frozenset(static_kb().codes)


def _check_cpt(code: str) -> str:
    if code not in _code_table():
        raise ValueError(f"unknown CPT code {shown(code)} (not in the guideline's code table)")
    return code


def _check_term(term: str) -> str:
    if term not in vocabulary():
        raise ValueError(f"unknown term {shown(term)} (see `spinekb vocabulary`)")
    return term


CptCode = Annotated[str, AfterValidator(_check_cpt),
                   Field(description="A CPT code named by the guideline, e.g. \"72148\".")]
Region = Literal["cervical", "thoracic", "lumbar", "pelvis"]
Side = Literal["left", "right", "bilateral"]
Outcome = Literal["improved", "no_significant_improvement", "worse", "stable"]

_LEVEL = re.compile(r"^([CTLS])([0-9]{1,2})(?:-([CTLS])?([0-9]{1,2}))?$")


def _check_level(level: str) -> str:
    if not _LEVEL.match(level):
        raise ValueError(f"{shown(level)} is not a vertebral level such as L5, L4-5, L5-S1 or T9")
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


#: A local time without UTC offset: ``"HH:MM"`` or ``"HH:MM:SS"``.
LocalTime = Annotated[dt.time, BeforeValidator(_local_time), AfterValidator(_naive_time)]


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
    techniques: tuple[Technique, ...] = Field((), max_length=MAX_ITEMS, description="Special techniques of this study.")


def _study_kind(value: Any) -> str:
    return "study" if isinstance(value, (dict, RequestedStudy)) else "code"


StudyItem = Annotated[Union[Annotated[CptCode, Tag("code")], Annotated[RequestedStudy, Tag("study")]],
                      Discriminator(_study_kind)]


class Request(Model):
    """The imaging request."""

    id: Annotated[str, AfterValidator(_printable)] = Field(
        min_length=1, max_length=200, description="The request (case) identifier.")
    date: IsoDate = Field(description="The request date; every other date is counted back from it.")
    time: Optional[LocalTime] = Field(None, description="Local time of the request, where hours matter (SP-16.4).")
    cpt: tuple[StudyItem, ...] = Field(
        min_length=1, max_length=MAX_ITEMS, description="The requested studies: a CPT code each, or {code, techniques} "
                                  "where a technique applies to that study alone.")
    purpose: Purpose = Field(description="Why the studies are requested.")
    requester: Optional[Requester] = Field(None, description="Who requests, where the text cares.")
    techniques: tuple[Technique, ...] = Field((), max_length=MAX_ITEMS,
                                              description="Special techniques requested for every study.")

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

    age: Optional[Whole] = Field(None, ge=0, le=MAX_AGE, description="Age in whole years at the request date.")
    birth_date: Optional[IsoDate] = Field(None, description="Birth date; the age is computed from it "
                                          "(and must be 0-130 too).")
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

    regions: tuple[Region, ...] = Field(min_length=1, max_length=MAX_ITEMS,
                                        description="Symptomatic (or imaged) spinal region(s).")
    condition: Condition = Field(description="The presenting condition.")
    onset: Optional[IsoDate] = Field(None, description="When the current episode of symptoms started; "
                                     "absent where there is no current episode (surveillance, follow-up, "
                                     "preoperative planning, an asymptomatic finding).")
    changed: Optional[IsoDate] = Field(None, description="When the symptoms last changed, if they did.")

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
    grade: Whole = Field(ge=0, le=5, description="0 no activation ... 5 against full resistance.")
    root: Optional[str] = Field(None, pattern=r"^[CTLS][0-9]{1,2}$", description="Named nerve root, e.g. L5.")


class ReflexGrade(Model):
    """A deep tendon reflex, graded 0-4 (0, 1+, 2+, 3+, 4+ clonus; SP-1.0)."""

    reflex: Reflex = Field(description="The reflex tested.")
    side: Side = Field(description="Side tested.")
    grade: Whole = Field(ge=0, le=4, description="0 none, 1 slight, 2 brisk, 3 very brisk, 4 clonus.")


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

    muscles: tuple[MuscleGrade, ...] = Field((), max_length=MAX_ITEMS)
    reflexes: tuple[ReflexGrade, ...] = Field((), max_length=MAX_ITEMS)
    sensory: tuple[SensoryLoss, ...] = Field((), max_length=MAX_ITEMS)
    signs: tuple[SignResult, ...] = Field((), max_length=MAX_ITEMS)
    progression: tuple[Literal["motor", "sensory", "reflex"], ...] = Field(
        (), max_length=MAX_ITEMS, description="Objective deficits that progressed since the previous exam.")


class Evaluation(Model):
    """A clinical evaluation or re-evaluation (SP-1.0)."""

    date: IsoDate
    mode: Literal["in_person", "telephone", "email", "web", "telemedicine", "messaging"] = Field(
        description="How the contact took place; only in_person counts as face-to-face.")
    kind: Literal["initial", "reevaluation", "other"] = Field(description="Initial evaluation or re-evaluation.")
    outcome: Optional[Outcome] = Field(None, description="At a re-evaluation: how the condition responded.")
    by: Optional[Requester] = Field(None, description="Who evaluated.")
    exam: Exam = Field(default_factory=Exam, description="Examination findings.")


class Finding(Model):
    """A documented symptom, finding or history item from the controlled vocabulary."""

    term: str = Field(description="A term of `spinekb vocabulary`.")
    date: Optional[IsoDate] = Field(None, description="When it was documented or began.")
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

    date: IsoDate
    mechanism: tuple[TraumaFactor, ...] = Field(min_length=1, max_length=MAX_ITEMS)
    regions: tuple[Region, ...] = Field((), max_length=MAX_ITEMS, description="Regions injured, if documented.")
    fall_height_feet: Optional[Whole] = Field(None, ge=0, le=1000, description="Height of a fall, in whole feet.")
    fall_stairs: Optional[Whole] = Field(None, ge=0, le=1000, description="Stairs fallen down, if counted.")


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
    start: IsoDate
    end: Optional[IsoDate] = Field(None, description="Last day; absent while ongoing at the request.")
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

    date: IsoDate
    vas: Whole = Field(ge=0, le=10)


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
    date: IsoDate
    contrast: Literal["without", "with", "without_and_with", "none"] = "none"
    result: tuple[ImagingResult, ...] = Field(min_length=1, max_length=MAX_ITEMS)
    available: Flag = Field(True, description="Results are available to the requesting provider.")
    level: Optional[Level] = Field(None, description="The vertebral level a result concerns (e.g. L4-5).")
    grade: Optional[Whole] = Field(None, ge=1, le=5, description="Grade of a graded result (spondylolisthesis 1-5).")
    cobb_angle: Optional[Whole] = Field(None, ge=0, le=180, description="Cobb angle of a curve, in degrees.")


class Implant(Model):
    """An implant or device, with its MRI safety as the manufacturer states it (SP-2.3)."""

    kind: Literal["ferromagnetic", "pacemaker", "defibrillator", "neurostimulator",
                  "cochlear_implant", "pump", "spinal_hardware", "other"]
    mri_conditional: Flag = Field(False, description="Determined by the manufacturer as MRI compatible/conditional.")


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
    date: IsoDate
    time: Optional[LocalTime] = None
    region: Optional[Region] = None
    level: Optional[Level] = Field(None, description="The vertebral level(s) operated or treated.")
    anterior: Flag = Field(False, description="An anterior approach (SP-14.2, SP-15.4); same as approach anterior.")
    approach: Optional[Literal["anterior", "posterior", "lateral", "combined"]] = Field(
        None, description="The surgical approach.")
    revision: Flag = Field(False, description="A revision of an earlier surgery (not the first).")


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
    approved: Flag = Field(False, description="Already approved (e.g. a discography, SP-2.5).")


class Case(Model):
    """One imaging request and the clinical record behind it."""

    request: Request
    patient: Patient
    episode: Episode
    evaluations: tuple[Evaluation, ...] = Field((), max_length=MAX_RECORDS)
    findings: tuple[Finding, ...] = Field((), max_length=MAX_RECORDS)
    trauma: tuple[Trauma, ...] = Field((), max_length=MAX_RECORDS)
    treatments: tuple[Treatment, ...] = Field((), max_length=MAX_RECORDS)
    pain_scores: tuple[PainScore, ...] = Field((), max_length=MAX_RECORDS)
    prior_imaging: tuple[PriorImaging, ...] = Field((), max_length=MAX_RECORDS)
    implants: tuple[Implant, ...] = Field((), max_length=MAX_RECORDS)
    procedures: tuple[Procedure, ...] = Field((), max_length=MAX_RECORDS)
    plans: tuple[Plan, ...] = Field((), max_length=MAX_RECORDS)

    @model_validator(mode="after")
    def _nothing_after_request(self) -> "Case":
        """Every date of the record lies on or before the request date."""
        request = self.request.date
        for path, when in self.dated_fields():
            if when > request:
                raise ValueError(f"{path}: is after the request date ({when} > {request})")
        born = self.patient.birth_date
        if born is not None:
            derived = self.years_since(born)
            if derived > MAX_AGE:
                raise ValueError(f"patient.birth_date: gives an age of {derived} at the request date "
                                 f"(ages run 0-{MAX_AGE})")
            if self.patient.age is not None and self.patient.age != derived:
                raise ValueError(f"patient.age: disagrees with birth_date ({self.patient.age} given, "
                                 f"{derived} at the request date)")
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
        assert self.patient.birth_date is not None
        return self.years_since(self.patient.birth_date)

    def years_since(self, born: dt.date) -> int:
        """Whole years from ``born`` to the request date."""
        on = self.request.date
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
