"""``spinekb fhir export`` and ``spinekb fhir import``: cases as FHIR R4 Bundles and back.

(``spinekb evaluate`` and ``spinekb serve`` read Bundles directly; these commands show the
translation itself.)
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import BinaryIO

import click

from spinekb.bridge.fhir import bundle_to_case, case_to_bundle, dumps_bundle
from spinekb.bridge.loading import read_sources


@click.group()
def fhir() -> None:
    """FHIR R4: write cases as Bundles, read Bundles as cases (docs/fhir.md has the mapping)."""


@fhir.command("export")
@click.argument("sources", nargs=-1, required=True)
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Folder to write one Bundle per case into (created if missing).")
def export(sources: tuple[str, ...], out_dir: str) -> None:
    """Write every case of SOURCES (files, folders, - for JSON Lines) as a FHIR R4 Bundle.

    A case file CASE.json becomes OUTPUT/CASE.json; a case of a JSON Lines input is named
    after its request id. `make fhir-examples` regenerates examples/fhir from examples/cases.
    Exits 2 if any input was rejected.
    """
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    rejected = 0
    for item in read_sources(sources, sys.stdin):
        if item.case is None:
            assert item.error is not None
            click.echo(item.error.line(), err=True)
            rejected += 1
            continue
        source = Path(item.source)
        name = source.stem if source.suffix in (".json", ".yaml", ".yml") else re.sub(
            r"[^A-Za-z0-9._-]", "-", item.case.request.id)
        path = target / f"{name}.json"
        path.write_text(dumps_bundle(case_to_bundle(item.case)), encoding="utf-8")
        click.echo(f"wrote {path}", err=True)
    sys.exit(2 if rejected else 0)


@fhir.command("import")
@click.argument("bundle", type=click.File("rb"))
def import_(bundle: BinaryIO) -> None:
    """Read the FHIR R4 Bundle in BUNDLE (- for stdin) and print it as a case (JSON).

    What did not map, and what was read by default, is listed on stderr (`unmapped:` and
    `assumed:` lines); a Bundle that cannot make a case prints one `error:` line and exits 2.
    """
    try:
        data = json.loads(bundle.read())
    except ValueError as error:
        click.echo(f"error: {bundle.name}: invalid JSON: {error}", err=True)
        sys.exit(2)
    read = bundle_to_case(data) if isinstance(data, dict) else None
    if read is None or read.case is None:
        click.echo(f"error: {bundle.name}: {read.error if read else 'not a FHIR Bundle'}", err=True)
        sys.exit(2)
    for line in read.unmapped:
        click.echo(f"unmapped: {line}", err=True)
    for line in read.assumed:
        click.echo(f"assumed: {line}", err=True)
    click.echo(json.dumps(read.case.model_dump(mode="json", exclude_defaults=True), indent=2, ensure_ascii=False))
