"""``module``: write the Terraform module (``dist/terraform-aws-tap-pipeline``), or print the module inputs that
build one environment of the environments file.

``python -m tools module`` (``make module``) writes the folder: main.tf.json, versions.tf, the archives, the
README and examples/complete. ``python -m tools module --inputs prod`` prints prod's settings as the module's
inputs (a terraform.tfvars.json), and names on stderr the settings the module keeps at the library's defaults
where prod differs (exit 1 then, so that a script notices).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _arguments(parser: argparse.ArgumentParser) -> None:
    from tools.module.build import DEFAULT_TARGET

    parser.add_argument("--out", type=Path, default=DEFAULT_TARGET, help="the module folder (default: %(default)s)")
    parser.add_argument("--inputs", metavar="ENV",
                        help="print the module inputs that build this environment of the environments file "
                             "(TAP_AWS_ACCOUNT_ID and the other variables apply as for main.py)")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("module", help="write the Terraform module for HCL teams (make module)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _arguments(parser)
    parser.set_defaults(handler=_handle)


def print_inputs(name: str) -> int:
    from main import environments_file
    from modules.settings import SettingsError
    from tools.module.variables import fixed_differences, module_inputs

    try:
        environments = environments_file()
        settings = environments.environment(name, os.environ)
    except (SettingsError, KeyError) as error:
        print(f"module: {error}", file=sys.stderr)
        return 2
    print(json.dumps(module_inputs(settings), indent=2))
    differences = fixed_differences(settings)
    for path, (fixed, wanted) in differences.items():
        print(f"module: {name} sets {path} = {wanted!r}, which the module keeps at {fixed!r}", file=sys.stderr)
    return 1 if differences else 0


def _handle(args: argparse.Namespace) -> int:
    if args.inputs:
        return print_inputs(args.inputs)
    from tools.module.build import ModuleBuildError, write_module

    try:
        target = write_module(args.out)
    except ModuleBuildError as error:
        print(f"module: {error}", file=sys.stderr)
        return 2
    print(f"module written to {target}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.module", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _arguments(parser)
    return _handle(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
