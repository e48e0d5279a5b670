"""``python -m tools.plans <plan|review|apply> ...``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tools.plans import apply, plan, review


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plans", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in (plan, review, apply):
        module.add_parser(subparsers)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
