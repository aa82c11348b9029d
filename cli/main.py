"""The ``spinekb`` command: a thin click layer over bridge/, explain/ and kb/."""
from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spinekb")
def main() -> None:
    """Decide, explain and check spine imaging requests against the Spine Imaging
    Guidelines V1.0.2023, encoded as Answer Set Programming (clingo)."""


# commands registered below (one import and one add_command per command module)
from spinekb.cli.evaluate_cmd import evaluate  # noqa: E402
from spinekb.cli.reference_cmd import readings, schema, vocabulary  # noqa: E402
from spinekb.cli.check_cmd import check, findings  # noqa: E402
from spinekb.cli.explain_cmd import explain  # noqa: E402

main.add_command(evaluate)
main.add_command(schema)
main.add_command(vocabulary)
main.add_command(readings)
main.add_command(check)
main.add_command(findings)
main.add_command(explain)

from spinekb.cli.fhir_cmd import fhir  # noqa: E402

main.add_command(fhir)
from spinekb.cli.serve_cmd import serve  # noqa: E402

main.add_command(serve)
from spinekb.cli.diff_cmd import diff  # noqa: E402

main.add_command(diff)
from spinekb.cli.report_cmd import report  # noqa: E402

main.add_command(report)
from spinekb.cli.book_cmd import book  # noqa: E402

main.add_command(book)


if __name__ == "__main__":
    main()
