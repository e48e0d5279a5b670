"""`python -m tools.cost`: the monthly bill per environment, and the draft's beside it."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from modules.environments_file import with_account_for_reading
from tools.cost.compare import compare
from tools.cost.config import PipelineConfig, load_stacks
from tools.cost.draft import DRAFT_NAME, draft_config
from tools.cost.errors import CostInputError
from tools.cost.model import estimate
from tools.cost.prices import DEFAULT_PRICES, load_prices
from tools.cost.render import render, render_comparison
from tools.cost.usage import DEFAULT_USAGE, load_usage

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTION = ("Monthly AWS cost (us-east-1 list prices, no free tier) of each synthesized environment, "
               "and of the first draft, at several numbers of events a month.")


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options, shared by ``python -m tools.cost`` and the ``cost`` subcommand."""
    parser.add_argument("--stacks", type=Path, default=ROOT / "cdktf.out" / "stacks",
                        help="folder of synthesized stacks (default: cdktf.out/stacks)")
    parser.add_argument("--synth", action="store_true", help="synthesize the stacks first, into a temporary folder")
    parser.add_argument("--env", action="append", dest="environments", metavar="ENV",
                        help="only this environment (repeatable; default: every pipeline stack)")
    parser.add_argument("--events", type=float, nargs="+", metavar="N",
                        help="events a month (default: the usage file's events_per_month)")
    parser.add_argument("--usage", type=Path, default=DEFAULT_USAGE, help="usage file (default: %(default)s)")
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES, help="price table (default: %(default)s)")
    parser.add_argument("--no-draft", action="store_true", help="leave out the draft's column")
    parser.add_argument("--versus-draft", metavar="ENV", default="prod",
                        help="break this environment's bill and the draft's down by what they pay for, side by "
                             "side (default: prod; 'none' to leave it out)")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.set_defaults(handler=run)
    return parser


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``cost`` as a subcommand of an operator CLI."""
    configure(subparsers.add_parser("cost", help=DESCRIPTION, description=DESCRIPTION))


def _synthesized(environments: list[str] | None) -> list[PipelineConfig]:
    from main import build_app

    with tempfile.TemporaryDirectory() as outdir:
        build_app(outdir=outdir, env=with_account_for_reading(os.environ)).synth()
        return load_stacks(Path(outdir) / "stacks", environments)


def run(args: argparse.Namespace) -> int:
    """Print the report; 2 with a message on bad input."""
    try:
        usage = load_usage(args.usage)
        prices = load_prices(args.prices)
        configs = _synthesized(args.environments) if args.synth else load_stacks(args.stacks, args.environments)
        if args.events and any(n <= 0 for n in args.events):
            raise CostInputError(f"--events must be positive numbers, not {args.events}")
    except CostInputError as error:
        print(f"cost: {error}", file=sys.stderr)
        return 2
    if not args.no_draft:
        configs.append(draft_config())
    scales = args.events or list(usage.events_per_month)
    report = {c.name: [estimate(c, usage, prices, n) for n in scales] for c in configs}
    markdown = args.format == "markdown"
    print(f"Prices: {prices.region}, checked {prices.checked}; month {usage.months_in_operation:g} of operation; "
          f"{usage.average_record_bytes:g}-byte records, {usage.malformed_share:.0%} malformed.\n")
    print(render(report, markdown=markdown), end="")
    draft = report.get(DRAFT_NAME)
    if draft is not None and args.versus_draft in report and args.versus_draft != DRAFT_NAME:
        for ours, theirs in zip(report[args.versus_draft], draft, strict=True):
            print("\n" + render_comparison(compare(ours, theirs), markdown=markdown), end="")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    args = configure(argparse.ArgumentParser(prog="python -m tools.cost", description=DESCRIPTION)).parse_args(argv)
    return args.handler(args)
