"""``spinekb serve``: the engine as an HTTP service (FastAPI), and a CDS Service (CDS Hooks 2.0,
Da Vinci CRD STU2) for the EHR's order-select and order-sign hooks.

    >>> from fastapi.testclient import TestClient
    >>> with TestClient(create_app()) as client:                    # doctest: +SKIP
    ...     client.post("/evaluate", json=case).json()["studies"][0]["review_action"]
    'A1'

Endpoints (docs/fhir.md and the README show requests and answers):

- ``GET /cds-services``: discovery: one service per hook, with the prefetch it needs.
- ``POST /cds-services/{id}``: a hook call: a card per requested study and a ``systemActions``
  update of each ServiceRequest carrying the CRD coverage-information extension.
- ``POST /evaluate``: a case (JSON) or a FHIR R4 Bundle -> the decision record.
- ``POST /explain?study=CPT``: the same input -> the structured explanation (JSON), or the
  derivation graph (``Accept: image/svg+xml``) or its text (``Accept: text/plain``).
- ``GET /explanations/{coverage-assertion-id}``: the explanation a card links to (HTML for a
  browser; JSON, SVG or text by ``Accept``), kept for the last :data:`EXPLANATIONS_KEPT` cards.
- ``GET /schema/case``: the JSON Schema of a case; ``GET /health``: liveness and the KB version.

Every input goes through the same door as ``spinekb evaluate`` (``bridge.loading``: the same
limits, validation and messages) and the same engine, so a decision is identical whichever door
the case came in by. Errors are JSON (``{"error", "path"}``), 422 for input that is not a case,
413 above the size limit, never a stack trace.

Each web process feeds one engine process: concurrent requests queue for it and are decided
together, up to :data:`MAX_BATCH` per clingo grounding (grounding the KB costs the same for one
case as for dozens). The engine process loads the KB once and is replaced every
:data:`CHUNKS_PER_ENGINE` chunks, so memory stays flat. ``--workers N`` runs N web processes.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import hashlib
import html
import multiprocessing
import os
import queue
import threading
import time
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Optional

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from spinekb.bridge.engine import Engine
from spinekb.bridge.fhir import FhirCase, bundle_to_case, is_bundle
from spinekb.bridge.loading import Loaded, describe, validate_json
from spinekb.bridge.models import Case
from spinekb.bridge.records import CaseResult, Decided
from spinekb.explain.build import UnknownStudy, explain_result
from spinekb.explain.cards import CRD_COVERAGE_INFORMATION, coverage_information, missing_card, study_card
from spinekb.explain.output import PictureUnavailable, explanation_data, render_picture
from spinekb.explain.text import render_text
from spinekb.kb import kb_version
from spinekb.kb.static import static_kb

#: Default largest request body, in bytes (``--max-body-bytes``); a case is a few KB, a CDS
#: Hooks call with a patient's prefetch a few hundred.
MAX_BODY_BYTES = 2_000_000
#: Most cases decided in one clingo grounding.
MAX_BATCH = 64
#: Explanations a card can link to, per process (oldest forgotten first).
EXPLANATIONS_KEPT = 1000
JSON_TYPES = ("application/json", "application/fhir+json")

CDS_SERVICES = {
    "spinekb-order-select": "order-select",
    "spinekb-order-sign": "order-sign",
}
#: The FHIR data a hook call should carry (CDS Hooks prefetch templates).
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "encounters": "Encounter?patient={{context.patientId}}&_include=Encounter:participant",
    "medications": "MedicationStatement?patient={{context.patientId}}",
    "reports": "DiagnosticReport?patient={{context.patientId}}",
    "devices": "Device?patient={{context.patientId}}",
    "plans": "ServiceRequest?patient={{context.patientId}}&intent=plan",
    "coverage": "Coverage?patient={{context.patientId}}&status=active",
    "user": "{{context.userId}}",
}
#: Without these, a hook call cannot make a case at all.
PREFETCH_NEEDED = ("patient", "conditions")


class ServiceError(Exception):
    """An error the client caused: answered as JSON ``{"error", "path"}`` with ``status``."""

    def __init__(self, status: int, error: str, path: str = "") -> None:
        super().__init__(error)
        self.status, self.error, self.path = status, error, path


# ============================================================================================
# One engine thread per process: requests queue, and are decided a chunk at a time
# ============================================================================================

#: Chunks an engine process decides before a fresh one replaces it. clingo keeps every symbol it
#: has seen for the life of a process (every day number of every case), so the engine runs in a
#: child process that is recycled, as `spinekb evaluate`'s workers are: the service's memory
#: stays flat however long it runs.
CHUNKS_PER_ENGINE = 200

#: The engines of an engine process, built on first use (``decide`` and ``trace``).
_ENGINES: dict[str, Engine] = {}


def _engine_init(web_pid: int) -> None:
    """In the engine process: leave as soon as the web process that feeds it is gone (even if it
    was killed outright, and could not shut its engine down)."""

    def watch() -> None:
        while True:
            time.sleep(2)
            try:
                os.kill(web_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # a pid reused by another user's process: ours is gone
                os._exit(0)

    threading.Thread(target=watch, name="spinekb-parent-watch", daemon=True).start()


def _engine_chunk(kind: str, cases: list[Case]) -> list[Decided]:
    """Decide one chunk in the engine process (``kind`` ``trace``: every criterion's status)."""
    engine = _ENGINES.get(kind)
    if engine is None:
        engine = _ENGINES[kind] = Engine(trace=kind == "trace")
    return engine.evaluate_chunk(cases)


class Decider:
    """Decides cases in one engine process, batching whatever is queued into one grounding.

    clingo grounds the whole KB for each chunk (a fixed cost of a few hundred ms), so deciding
    the cases that arrived together in one chunk is what lets a busy service keep up. One thread
    of the web process feeds the engine process; the web process itself never runs clingo.
    """

    def __init__(self, max_batch: int = MAX_BATCH, chunks_per_engine: int = CHUNKS_PER_ENGINE) -> None:
        self.max_batch, self.chunks_per_engine = max_batch, chunks_per_engine
        self.queue: queue.Queue[tuple[str, Case, concurrent.futures.Future[Decided]] | None] = queue.Queue()
        self.pool = self._start()
        self.thread = threading.Thread(target=self._run, name="spinekb-engine", daemon=True)
        self.thread.start()
        self.batches = 0

    def _start(self) -> ProcessPoolExecutor:
        # forkserver: a replacement engine process is forked from a clean server that has the KB
        # loaded (bridge/warm.py), never from this multi-threaded web process
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["spinekb.bridge.warm", "spinekb.bridge.engine"])
        return ProcessPoolExecutor(1, mp_context=context, max_tasks_per_child=self.chunks_per_engine,
                                   initializer=_engine_init, initargs=(os.getpid(),))

    async def decide(self, case: Case, trace: bool = False) -> Decided:
        """Decide one case (``trace``: with every criterion's status, for explanations)."""
        future: concurrent.futures.Future[Decided] = concurrent.futures.Future()
        self.queue.put(("trace" if trace else "decide", case, future))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop the feeding thread and the engine process."""
        self.queue.put(None)
        self.thread.join(timeout=30)
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            for kind in ("decide", "trace"):
                items = [item for item in batch if item[0] == kind]
                if items:
                    self._decide(kind, items)

    def _decide(self, kind: str, items: list[tuple[str, Case, concurrent.futures.Future[Decided]]]) -> None:
        try:
            results = self.pool.submit(_engine_chunk, kind, [case for _, case, _ in items]).result()
        except Exception as problem:  # noqa: BLE001 - answered as a 500 to each waiting request
            if isinstance(problem, BrokenProcessPool):  # the engine process died: start another
                self.pool.shutdown(wait=True, cancel_futures=True)
                self.pool = self._start()
            for _, _, future in items:
                future.set_exception(problem)
            return
        self.batches += 1
        for (_, _, future), result in zip(items, results, strict=True):
            future.set_result(result)


class Explanations:
    """The cases behind the last cards, so a card's link can show the whole explanation."""

    def __init__(self, kept: int = EXPLANATIONS_KEPT) -> None:
        self.kept = kept
        self.items: OrderedDict[str, tuple[Case, str]] = OrderedDict()
        self.lock = threading.Lock()

    def keep(self, assertion_id: str, case: Case, cpt: str) -> None:
        with self.lock:
            self.items[assertion_id] = (case, cpt)
            self.items.move_to_end(assertion_id)
            while len(self.items) > self.kept:
                self.items.popitem(last=False)

    def get(self, assertion_id: str) -> tuple[Case, str] | None:
        with self.lock:
            return self.items.get(assertion_id)


# ============================================================================================
# Request bodies: the same door as the command line
# ============================================================================================

def _loaded(body: bytes, source: str) -> Loaded:
    """A request body as a case or a Bundle, through ``bridge.loading`` (limits, messages)."""
    return validate_json(source, body)


def _case_of(item: Loaded) -> Case:
    if item.case is None:
        assert item.error is not None
        message = item.error.error
        raise ServiceError(422, message, _path_of(message))
    return item.case


def _path_of(message: str) -> str:
    """The field path a one-line message starts with (``treatments[1].end``), if any."""
    head, sep, _ = message.partition(": ")
    head = head.split(" (")[0]
    if sep and head and " " not in head and not head.startswith(("FHIR", "invalid")):
        return head
    return ""


async def _body(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise ServiceError(415, f"send JSON (Content-Type: application/json or application/fhir+json), "
                                f"not {content_type}")
    return await request.body()


def _assertion_id(kb: str, case: Case, cpt: str) -> str:
    """A coverage assertion id that names exactly what was decided: the rules, the case, the study."""
    digest = hashlib.sha256(f"{kb}\n{cpt}\n{case.model_dump_json()}".encode())
    return digest.hexdigest()[:32]


# ============================================================================================
# CDS Hooks
# ============================================================================================

class HookContext(BaseModel):
    """``context`` of an order-select or order-sign call."""

    model_config = ConfigDict(extra="allow")
    userId: str = Field(description="Who is ordering, e.g. PractitionerRole/123.")
    patientId: str = Field(description="The FHIR id of the patient.")
    encounterId: Optional[str] = None
    selections: list[str] = Field(default_factory=list, description="order-select: the orders just selected.")
    draftOrders: dict[str, Any] = Field(description="A Bundle of the draft orders (ServiceRequests coded in CPT).")


class HookRequest(BaseModel):
    """A CDS Hooks call, as an EHR sends it (unknown members are kept, as CDS Hooks extensions allow)."""

    model_config = ConfigDict(extra="allow")
    hook: str
    hookInstance: str
    fhirServer: Optional[str] = None
    fhirAuthorization: Optional[dict[str, Any]] = None
    context: HookContext
    prefetch: Optional[dict[str, Optional[dict[str, Any]]]] = None


def discovery() -> dict[str, Any]:
    """The discovery document: one CDS Service per hook, each asking for the same prefetch."""
    services = []
    for service_id, hook in CDS_SERVICES.items():
        services.append({
            "hook": hook, "id": service_id,
            "title": f"Spine imaging coverage requirements ({hook})",
            "description": ("Decides each requested spine imaging study (CPT) against the Spine Imaging Guidelines "
                            "V1.0.2023 and returns a card with the deciding criteria and a Da Vinci CRD "
                            "coverage-information system action on the order."),
            "prefetch": dict(PREFETCH),
            "usageRequirements": "Send the prefetch: this service does not query the FHIR server itself.",
        })
    return {"services": services}


def _prefetch_resources(prefetch: dict[str, Any] | None) -> tuple[list[dict[str, Any]], list[str]]:
    """Every resource of the prefetch (searchset Bundles unpacked) and the keys it lacked."""
    resources: list[dict[str, Any]] = []
    missing = []
    for key in PREFETCH:
        value = (prefetch or {}).get(key)
        if value is None:
            missing.append(key)
            continue
        if value.get("resourceType") == "Bundle":
            entries = value.get("entry") if isinstance(value.get("entry"), list) else []
            resources += [e["resource"] for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
        elif value.get("resourceType"):
            resources.append(value)
    return resources, missing


def _draft_orders(context: HookContext) -> list[dict[str, Any]]:
    entries = context.draftOrders.get("entry")
    return [e["resource"] for e in (entries if isinstance(entries, list) else [])
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)]


def _coverage_reference(resources: list[dict[str, Any]], order: dict[str, Any]) -> dict[str, Any]:
    for insurance in order.get("insurance") or []:
        if insurance.get("reference"):
            return {"reference": insurance["reference"]}
    for resource in resources:
        if resource.get("resourceType") == "Coverage" and resource.get("id"):
            return {"reference": f"Coverage/{resource['id']}"}
    return {"display": "the patient's coverage (none in the hook's prefetch)"}


def _cpt_codes(order: dict[str, Any]) -> list[str]:
    from spinekb.bridge.fhir import CPT_SYSTEM
    from spinekb.kb.static import static_kb

    table = static_kb().codes
    code = order.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    return [c["code"] for c in (codings if isinstance(codings, list) else [])
            if isinstance(c, dict) and c.get("system") == CPT_SYSTEM and c.get("code") in table]


class BodyLimit:
    """ASGI middleware: a request body larger than ``limit`` bytes is answered 413 (JSON), checked
    on the declared Content-Length and again while the body streams in (chunked uploads)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _error(413, f"request body larger than {self.limit} bytes")(scope, receive, send)
            return
        received = 0

        async def limited() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise ServiceError(413, f"request body larger than {self.limit} bytes")
            return message

        await self.app(scope, limited, send)


# ============================================================================================
# The application
# ============================================================================================

def create_app(max_body_bytes: int | None = None, public_url: str | None = None,
               max_batch: int = MAX_BATCH) -> FastAPI:
    """The FastAPI application (``spinekb serve`` runs it with uvicorn). Settings default to the
    environment (``SPINEKB_MAX_BODY_BYTES``, ``SPINEKB_PUBLIC_URL``) so every worker shares them."""
    limit = max_body_bytes or int(os.environ.get("SPINEKB_MAX_BODY_BYTES", MAX_BODY_BYTES))
    public = public_url or os.environ.get("SPINEKB_PUBLIC_URL") or None
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state["decider"] = Decider(max_batch)
        state["explanations"] = Explanations()
        yield
        state.pop("decider").close()

    try:
        package_version = version("spinekb")
    except PackageNotFoundError:
        package_version = "0"
    app = FastAPI(title="spinekb", version=package_version, lifespan=lifespan,
                  description="Spine Imaging Guidelines V1.0.2023 as a decision service and a CDS Service "
                              "(CDS Hooks, Da Vinci CRD). See docs/fhir.md.")

    def decider() -> Decider:
        if "decider" not in state:  # lifespan not run (an ASGI server without lifespan support)
            state["decider"], state["explanations"] = Decider(max_batch), Explanations()
        return state["decider"]

    # -- limits and errors ---------------------------------------------------------------------
    app.add_middleware(BodyLimit, limit=limit)

    @app.exception_handler(ServiceError)
    async def service_error(_: Request, problem: ServiceError) -> JSONResponse:
        return _error(problem.status, problem.error, problem.path)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, problem: RequestValidationError) -> JSONResponse:
        first = problem.errors()[0]
        location = [part for part in first.get("loc", ()) if part not in ("body", "query", "path")]
        path = ".".join(str(p) for p in location)
        message = "is required" if first.get("type") == "missing" else first.get("msg", "invalid")
        return _error(422, f"{path}: {message}" if path else message, path)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, problem: StarletteHTTPException) -> JSONResponse:
        return _error(problem.status_code, str(problem.detail))

    @app.exception_handler(Exception)
    async def internal(_: Request, problem: Exception) -> JSONResponse:
        return _error(500, f"internal error: {type(problem).__name__} (the service log has the details)")

    # -- plain API -------------------------------------------------------------------------------
    @app.get("/health", summary="Liveness and the rules in force")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "kb_version": kb_version(), "guideline": "Spine Imaging Guidelines V1.0.2023",
                "version": package_version}

    @app.get("/schema/case", summary="The JSON Schema of a case")
    async def case_schema() -> dict[str, Any]:
        return Case.model_json_schema()

    body_schema = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "oneOf": [{"$ref": "#/components/schemas/Case"},
                  {"type": "object", "description": "A FHIR R4 Bundle (docs/fhir.md)",
                   "properties": {"resourceType": {"const": "Bundle"}}, "required": ["resourceType"]}]}}}}}

    @app.post("/evaluate", summary="Decide a case (JSON) or a FHIR R4 Bundle",
              response_model=CaseResult, response_model_exclude_defaults=False, openapi_extra=body_schema,
              responses={413: {"description": "Body too large"}, 422: {"description": "Not a valid case"}})
    async def evaluate(request: Request) -> JSONResponse:
        item = _loaded(await _body(request), "request")
        case = _case_of(item)
        decided = await decider().decide(case)
        record = decided.record
        if item.unmapped or item.assumed:
            record = record.model_copy(update={"unmapped": item.unmapped, "assumed": item.assumed})
        return JSONResponse(record.to_json())

    @app.post("/explain", summary="Explain one study's decision: JSON, SVG (Accept: image/svg+xml) or text",
              openapi_extra=body_schema, responses={200: {"content": {"image/svg+xml": {}, "text/plain": {}}}})
    async def explain(request: Request, study: Optional[str] = None) -> Response:
        case = _case_of(_loaded(await _body(request), "request"))
        return await _explanation(request, case, study)

    async def _explanation(request: Request, case: Case, study: str | None) -> Response:
        codes = case.request.codes
        if study is None and len(codes) == 1:
            study = codes[0]
        if study not in codes:
            raise ServiceError(422, f"study: name one of the requested studies ({', '.join(codes)})"
                               if study is None else f"study: {study} is not requested by this case "
                               f"(it requests {', '.join(codes)})", "study")
        decided = await decider().decide(case, trace=True)
        try:
            explanation = explain_result(static_kb(), case, decided, study)
        except UnknownStudy as problem:
            raise ServiceError(422, str(problem), "study") from None
        accept = request.headers.get("accept", "application/json")
        if "image/svg+xml" in accept:
            try:
                picture = await asyncio.get_running_loop().run_in_executor(None, render_picture, explanation, "svg")
            except PictureUnavailable as problem:
                raise ServiceError(503, str(problem)) from None
            return Response(picture, media_type="image/svg+xml")
        if "text/plain" in accept:
            return Response(render_text(explanation), media_type="text/plain; charset=utf-8")
        if "text/html" in accept:
            try:
                svg = (await asyncio.get_running_loop().run_in_executor(
                    None, render_picture, explanation, "svg")).decode("utf-8")
                svg = svg[svg.find("<svg"):]
            except PictureUnavailable:
                svg = ""
            page = (f"<!doctype html><meta charset=utf-8><title>CPT {html.escape(study)}: "
                    f"{explanation.decision}</title><body>{svg}<pre>{html.escape(render_text(explanation))}</pre>")
            return HTMLResponse(page)
        return JSONResponse(explanation_data(explanation))

    @app.get("/explanations/{assertion_id}", summary="The explanation a card links to")
    async def linked_explanation(request: Request, assertion_id: str) -> Response:
        decider()
        found = state["explanations"].get(assertion_id)
        if found is None:
            raise ServiceError(404, "no such explanation here (this process keeps the last "
                                    f"{EXPLANATIONS_KEPT}); POST the case to /explain instead")
        case, cpt = found
        return await _explanation(request, case, cpt)

    # -- CDS Hooks -------------------------------------------------------------------------------
    @app.get("/cds-services", summary="CDS Hooks discovery")
    async def cds_discovery() -> dict[str, Any]:
        return discovery()

    @app.post("/cds-services/{service_id}", summary="A CDS Hooks call (order-select, order-sign)",
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                  "schema": {"$ref": "#/components/schemas/HookRequest"}}}}})
    async def cds_call(request: Request, service_id: str) -> JSONResponse:
        if service_id not in CDS_SERVICES:
            raise ServiceError(404, f"no CDS service {service_id!r} (GET /cds-services lists them)")
        raw = await _body(request)
        try:
            hook = HookRequest.model_validate_json(raw)
        except ValidationError as problem:
            message = describe(problem)
            raise ServiceError(422, message, _path_of(message)) from None
        if hook.hook != CDS_SERVICES[service_id]:
            raise ServiceError(422, f"hook: {hook.hook!r} sent to the {CDS_SERVICES[service_id]} service", "hook")
        base = (public or str(request.base_url)).rstrip("/")
        return JSONResponse(await _answer_hook(hook, base))

    async def _answer_hook(hook: HookRequest, base: str) -> dict[str, Any]:
        orders = [o for o in _draft_orders(hook.context) if o.get("resourceType") == "ServiceRequest"]
        today = dt.date.today().isoformat()
        prepared = []
        for order in orders:  # a draft order is requested today unless it says otherwise
            prepared.append({**order, "authoredOn": order.get("authoredOn") or today})
        ours = [o for o in prepared if _cpt_codes(o)]
        if hook.hook == "order-select" and hook.context.selections:
            chosen = {s.split("/")[-1] for s in hook.context.selections}
            answer_for = [o for o in ours if o.get("id") in chosen]
        else:
            answer_for = ours
        if not answer_for:
            return {"cards": []}  # no spine imaging study among the orders: nothing to say
        resources, missing = _prefetch_resources(hook.prefetch)
        # only the spine imaging orders make the case: another order (or a malformed one) is not ours to read
        seen = {f"{o.get('resourceType')}/{o.get('id')}" for o in prepared}
        entries = [{"resource": o} for o in ours]
        for resource in resources:
            name = f"{resource.get('resourceType')}/{resource.get('id')}"
            if name not in seen or not resource.get("id"):
                seen.add(name)
                entries.append({"resource": resource})
        bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "collection", "entry": entries}
        if hook.hookInstance:
            bundle["identifier"] = {"value": hook.hookInstance}
        try:
            read = bundle_to_case(bundle) if is_bundle(bundle) else None
        except Exception as unreadable:  # noqa: BLE001 - an EHR's odd data gets a card, never a crash
            read = FhirCase(error=f"the hook's FHIR data could not be read ({type(unreadable).__name__})")
        names = [f"CPT {_cpt_codes(o)[0]}" for o in answer_for]
        if read is None or read.case is None:
            problem = read.error if read and read.error else "the hook sent no data to decide on"
            needed = [key for key in missing if key in PREFETCH_NEEDED] or missing
            actions = [_update(order, coverage_information(
                None, _fallback_id(hook, order), today, _coverage_reference(resources, order),
                reason=f"clinical information missing: {problem}")) for order in answer_for]
            return {"cards": [missing_card(names, problem, needed, uuid=_card_uuid(hook, "missing"))],
                    "systemActions": actions}
        case = read.case
        decided = await decider().decide(case)
        studies = {s.cpt: s for s in decided.record.studies}
        cards, actions = [], []
        for order in answer_for:
            study = studies[_cpt_codes(order)[0]]
            assertion = _assertion_id(decided.record.kb_version, case, study.cpt)
            state["explanations"].keep(assertion, case, study.cpt)
            card = study_card(study, decided.record.kb_version, f"{base}/explanations/{assertion}",
                              uuid=_card_uuid(hook, study.cpt))
            cards.append(card)
            if assertion not in _assertions_on(order):  # CRD: no update unless something is new
                actions.append(_update(order, coverage_information(
                    study, assertion, today, _coverage_reference(resources, order))))
        answer: dict[str, Any] = {"cards": cards, "systemActions": actions}
        return answer

    generated = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's schema, plus the request models the endpoints validate themselves."""
        if app.openapi_schema is None:
            from pydantic.json_schema import models_json_schema

            schema = generated()
            _, defs = models_json_schema([(Case, "validation"), (HookRequest, "validation")],
                                         ref_template="#/components/schemas/{model}")
            schema.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    from spinekb.cli.explorer import explorer_router  # the web explorer at / (issue 12)

    app.include_router(explorer_router())
    return app


_PREFETCH_OF_TYPE = {"Patient": "patient", "Condition": "conditions", "Observation": "observations",
                     "Procedure": "procedures", "Encounter": "encounters", "PractitionerRole": "encounters",
                     "MedicationStatement": "medications", "DiagnosticReport": "reports", "Device": "devices",
                     "Coverage": "coverage"}


def hook_request(bundle: dict[str, Any], hook: str = "order-sign", hook_instance: str = "example-hook",
                 coverage: bool = True) -> dict[str, Any]:
    """A CDS Hooks call as an EHR would send it, built from a case Bundle (``examples/fhir``): its
    requested studies as ``draftOrders`` and everything else as the discovery's prefetch
    (searchset Bundles), with a Coverage. For tests, the load test and the README."""
    resources = [e["resource"] for e in bundle.get("entry") or []]
    orders = [r for r in resources if r["resourceType"] == "ServiceRequest" and r.get("intent") != "plan"]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    searches: dict[str, list[dict[str, Any]]] = {key: [] for key in PREFETCH if key not in ("patient", "user")}
    for resource in resources:
        key = _PREFETCH_OF_TYPE.get(resource["resourceType"])
        if resource["resourceType"] == "ServiceRequest" and resource.get("intent") == "plan":
            key = "plans"
        if key and key != "patient":
            searches[key].append(resource)
    if coverage:
        searches["coverage"].append({"resourceType": "Coverage", "id": "coverage-1", "status": "active",
                                     "beneficiary": {"reference": f"Patient/{patient['id']}"},
                                     "payor": [{"display": "Example Health Plan"}]})
    prefetch: dict[str, Any] = {"patient": patient}
    for key, found in searches.items():
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "total": len(found),
                         "entry": [{"fullUrl": f"https://ehr.example/fhir/{r['resourceType']}/{r['id']}",
                                    "resource": r, "search": {"mode": "match"}} for r in found]}
    requester = (orders[0].get("requester") or {}).get("reference") if orders else None
    user = next((r for r in resources if requester == f"{r['resourceType']}/{r.get('id')}"), None)
    prefetch["user"] = user
    return {
        "hook": hook, "hookInstance": hook_instance, "fhirServer": "https://ehr.example/fhir",
        "context": {"userId": requester or "Practitioner/example", "patientId": patient["id"],
                    "selections": [f"ServiceRequest/{o['id']}" for o in orders] if hook == "order-select" else [],
                    "draftOrders": {"resourceType": "Bundle", "type": "collection",
                                    "entry": [{"resource": o} for o in orders]}},
        "prefetch": prefetch,
    }


def _assertions_on(order: dict[str, Any]) -> set[str]:
    """The coverage-assertion ids of the CRD coverage-information extensions an order carries."""
    found = set()
    for extension in order.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == CRD_COVERAGE_INFORMATION:
            for part in extension.get("extension") or []:
                if isinstance(part, dict) and part.get("url") == "coverage-assertion-id":
                    found.add(str(part.get("valueString")))
    return found


def _update(order: dict[str, Any], extension: dict[str, Any]) -> dict[str, Any]:
    """A systemAction updating a draft order with its coverage-information extension (any
    earlier one of this extension is replaced)."""
    resource = dict(order)
    kept = [e for e in resource.get("extension") or [] if e.get("url") != extension["url"]]
    resource["extension"] = [*kept, extension]
    return {"type": "update", "description": "Coverage information for this order (Da Vinci CRD)",
            "resource": resource}


def _card_uuid(hook: HookRequest, what: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"spinekb:{hook.hookInstance}:{what}"))


def _fallback_id(hook: HookRequest, order: dict[str, Any]) -> str:
    return hashlib.sha256(f"{hook.hookInstance}:{order.get('id')}".encode()).hexdigest()[:32]


def _error(status: int, error: str, path: str = "") -> JSONResponse:
    return JSONResponse({"error": error, "path": path}, status_code=status)


def run(host: str, port: int, workers: int = 1, max_body_bytes: int = MAX_BODY_BYTES,
        public_url: str | None = None, log_level: str = "warning") -> None:
    """Serve with uvicorn (``workers`` processes, each with its own engine)."""
    import uvicorn

    os.environ["SPINEKB_MAX_BODY_BYTES"] = str(max_body_bytes)
    if public_url:
        os.environ["SPINEKB_PUBLIC_URL"] = public_url
    uvicorn.run("spinekb.cli.service:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, access_log=log_level in ("info", "debug"))


__all__ = ["Decider", "create_app", "discovery", "hook_request", "run"]
