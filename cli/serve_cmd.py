"""``spinekb serve``: the HTTP service and CDS Service (cli/service.py)."""
from __future__ import annotations

import click

from spinekb.cli.service import MAX_BODY_BYTES, run


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Web processes, each feeding its own engine process (the KB is loaded once per engine).")
@click.option("--max-body-bytes", type=click.IntRange(1_000, 100_000_000), default=MAX_BODY_BYTES,
              show_default=True, help="Largest request body accepted (413 above).")
@click.option("--public-url", default=None,
              help="The service's URL as clients reach it, for the links in cards [default: the request's].")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              default="warning", show_default=True, help="uvicorn's log level (info logs each request).")
def serve(host: str, port: int, workers: int, max_body_bytes: int, public_url: str | None, log_level: str) -> None:
    """Serve the engine over HTTP: POST /evaluate, POST /explain, GET /schema/case, GET /health,
    and CDS Hooks (GET /cds-services, POST /cds-services/{id}) for order-select and order-sign.

    Stops on Ctrl-C or SIGTERM. The README's "FHIR R4, CDS Hooks and the HTTP service" section
    shows every endpoint; docs/fhir.md the CDS Hooks and Da Vinci CRD answers.
    """
    run(host, port, workers, max_body_bytes, public_url, log_level)
