"""The `navigator-bot` command: validate, schema, and (in later modules) ask, chat, run, chart."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .catalog import CatalogInvalid, load_catalog
from .config import Settings
from .schema import catalog_json_schema_text


def _validate(args: argparse.Namespace) -> int:
    try:
        catalog = load_catalog(args.directory or Settings().catalog_dir)
    except CatalogInvalid as error:
        print(f"catalog has {len(error.issues)} problem(s):", file=sys.stderr)
        for issue in error.issues:
            print(f"  {issue}", file=sys.stderr)
        return 1
    print(catalog.summary())
    return 0


def _schema(_: argparse.Namespace) -> int:
    print(catalog_json_schema_text())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the `navigator-bot` command."""
    parser = argparse.ArgumentParser(prog="navigator-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check a catalog folder and print its counts")
    validate.add_argument("directory", nargs="?", type=Path, default=None,
                          help="catalog folder (default: NAVIGATOR_CATALOG_DIR or the shipped catalog)")
    validate.set_defaults(handler=_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of the catalog files")
    schema.set_defaults(handler=_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args))
