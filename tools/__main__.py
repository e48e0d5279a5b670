"""The operator's command line for tap-pipeline: python -m tools <command>.

Each command lives in its own tool package and registers itself with one
``add_parser(subparsers)`` call; adding a command is one line in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tools import preflight, redrive, release
from tools.benchmarks import coldstart as bench_coldstart
from tools.benchmarks import deploy as bench_deploy
from tools.benchmarks import first_run as bench_first_run
from tools.benchmarks import memory as bench_memory
from tools.benchmarks import plan_review as bench_plan
from tools.benchmarks import synth as bench_synth
from tools.benchmarks import throughput as bench_throughput
from tools.cost import cli as cost_cli
from tools.docs import cli as docs_cli
from tools.help_text import plain_parser
from tools.local import cli as local_cli
from tools.module import cli as module_cli
from tools.plans import apply as plans_apply
from tools.plans import plan as plans_plan
from tools.plans import review as plans_review
from tools.policy import cli as policy_cli

COMMANDS = (
    local_cli,
    plans_plan,
    plans_review,
    plans_apply,
    policy_cli,
    redrive,
    release,
    preflight,
    module_cli,
    cost_cli,
    docs_cli,
    bench_synth,
    bench_memory,
    bench_coldstart,
    bench_throughput,
    bench_deploy,
    bench_plan,
    bench_first_run,
)


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="python -m tools", description=__doc__.split("\n\n")[0])
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return plain_parser(main_parser)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
