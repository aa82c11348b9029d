"""The web explorer at ``/`` of ``spinekb serve``: routes the service includes with one line,

    app.include_router(explorer_router())

kept apart from cli/service.py (the HTTP and CDS Hooks API). Server-rendered HTML with a little
plain JavaScript (example picker, upload, zoom and pan); no build chain, no network.

- ``GET /``: the page: pick an example case, upload or paste a case JSON or FHIR R4 Bundle.
- ``POST /explorer/decide`` (form field ``case``): the same page with every requested study's
  decision, the answer in words, what would change it, and the focused derivation graph.
- ``GET /explorer/examples/{name}``: an example case (``examples/cases/<name>.json``).
"""
from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from spinekb.bridge.engine import Engine
from spinekb.bridge.loading import validate_json
from spinekb.explain import explain_decided, whatif_solver
from spinekb.explain.explorer import explorer_page, study_view
from spinekb.kb import kb_dir

MAX_CASE_BYTES = 1_000_000


def examples_folder() -> Path:
    """The repository's example cases (absent from an installed package: the picker is then empty)."""
    return kb_dir().parent / "examples" / "cases"


def explorer_router(examples: Path | None = None) -> APIRouter:
    """The explorer's routes, with one tracing engine for the process (decisions are serialised)."""
    folder = examples or examples_folder()
    router = APIRouter()
    state: dict[str, Any] = {}
    lock = threading.Lock()

    def names() -> list[str]:
        return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []

    def decide(text: str) -> tuple[list[Any], str]:
        item = validate_json("the case", text.encode("utf-8"))
        if item.case is None:
            return [], item.error.error if item.error else "not a case"
        with lock:
            engine = state.setdefault("engine", Engine(trace=True))
            decided = engine.evaluate_one(item.case)
            solver = whatif_solver
            views = [study_view(explain_decided(engine.knowledge, item.case, decided, cpt, solver=solver(engine)))
                     for cpt in item.case.request.codes]
        return views, ""

    def version() -> str:
        from spinekb.kb import kb_version
        return kb_version()

    @router.get("/", response_class=HTMLResponse, summary="The web explorer")
    async def page() -> HTMLResponse:
        return HTMLResponse(explorer_page(names(), "", [], version=version()))

    @router.get("/explorer/examples/{name}", summary="An example case")
    async def example(name: str) -> Response:
        if name not in names():
            return JSONResponse({"error": f"no example {name!r}", "path": "name"}, status_code=404)
        return Response((folder / f"{name}.json").read_text(encoding="utf-8"), media_type="application/json")

    @router.post("/explorer/decide", response_class=HTMLResponse, summary="Decide the case of the form")
    async def decide_form(request: Request) -> HTMLResponse:
        # the form is urlencoded: read it with the standard library (no multipart parser needed)
        body = await request.body()
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        case, example = form.get("case", [""])[0], form.get("example", [""])[0]
        text = case
        if not text.strip() and example in names():
            text = (folder / f"{example}.json").read_text(encoding="utf-8")
        if len(text.encode("utf-8")) > MAX_CASE_BYTES:
            return HTMLResponse(explorer_page(names(), "", [], f"the case is larger than {MAX_CASE_BYTES} bytes",
                                              version=version()), status_code=413)
        if not text.strip():
            return HTMLResponse(explorer_page(names(), "", [], "choose an example, upload or paste a case",
                                              version=version()), status_code=422)
        views, error = await asyncio.get_running_loop().run_in_executor(None, decide, text)
        return HTMLResponse(explorer_page(names(), text, views, error, example, version()),
                            status_code=422 if error else 200)

    return router
