"""``python -m tools policy-check``: the project's policy checks on synthesized stacks, before a deploy."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tools.policy.checks import run_all, taggable_types_from_schema
from tools.policy.stack_json import StackJson


def check(stack_dirs: list[Path], schema: Path | None = None) -> int:
    """Print each stack's violations (or that it passes); 1 if any stack has one, else 0."""
    taggable = taggable_types_from_schema(json.loads(schema.read_text())) if schema else None
    failed = False
    for directory in stack_dirs:
        if not (directory / "cdk.tf.json").is_file():
            print(f"{directory}: no cdk.tf.json here; pass cdktf.out/stacks/<stack> folders (run `make synth`)")
            failed = True
            continue
        violations = run_all(StackJson.load(directory), taggable)
        for violation in violations:
            print(f"{directory.name}: {violation}")
        failed = failed or bool(violations)
        if not violations:
            print(f"{directory.name}: all project checks pass")
    return 1 if failed else 0


def _run(args: argparse.Namespace) -> int:
    return check(args.stack_dirs, args.schema)


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``policy-check`` on the operator CLI (``python -m tools``)."""
    parser = commands.add_parser(
        "policy-check",
        help="the project's policy checks on synthesized stacks (exit 1 on any violation)",
        description=__doc__,
    )
    parser.add_argument("stack_dirs", nargs="+", type=Path, metavar="STACK_DIR",
                        help="cdktf.out/stacks/<name> folders (`make synth` writes them)")
    parser.add_argument("--schema", type=Path,
                        help="output of `terraform providers schema -json`, to check tags on every taggable type")
    parser.set_defaults(handler=_run)
