"""The ``spinekb`` command: a thin click layer over bridge/, explain/ and kb/.

Each command's module is imported only when that command runs (or when ``--help`` lists them
all): ``spinekb evaluate`` does not pay for the HTTP service's, the report's or FHIR's imports.
"""
from __future__ import annotations

import importlib
from typing import Any

import click

#: Every command: its name and where it is defined (``module:attribute``, under ``spinekb.cli``).
COMMANDS: dict[str, str] = {
    "evaluate": "evaluate_cmd:evaluate",
    "schema": "reference_cmd:schema",
    "vocabulary": "reference_cmd:vocabulary",
    "readings": "reference_cmd:readings",
    "check": "check_cmd:check",
    "findings": "check_cmd:findings",
    "explain": "explain_cmd:explain",
    "fhir": "fhir_cmd:fhir",
    "serve": "serve_cmd:serve",
    "diff": "diff_cmd:diff",
    "report": "report_cmd:report",
    "book": "book_cmd:book",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, from :data:`COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module, attribute = where.split(":")
        command: Any = getattr(importlib.import_module(f"spinekb.cli.{module}"), attribute)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spinekb")
def main() -> None:
    """Decide, explain and check spine imaging requests against the Spine Imaging
    Guidelines V1.0.2023, encoded as Answer Set Programming (clingo)."""


if __name__ == "__main__":
    main()
