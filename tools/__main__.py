"""``python -m tools <command>``: the operator's command line for tap-pipeline.

Each command lives in its own tool package and registers itself with one
``add_parser(subparsers)`` call; adding a command is one line in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tools.local import cli as local_cli
from tools.policy import cli as policy_cli

COMMANDS = (
    local_cli,
    policy_cli,
)


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="python -m tools", description=__doc__.split("\n\n")[0])
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
