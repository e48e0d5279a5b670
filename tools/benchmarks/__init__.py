"""Benchmarks: scripts that print measured figures and their ratios from one run."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

Run = Callable[[argparse.ArgumentParser, argparse.Namespace], int]


def summary(module_doc: str | None) -> str:
    """A benchmark's description: the first paragraph of its module docstring."""
    return (module_doc or "").split("\n\n")[0]


def register(subparsers: argparse._SubParsersAction, name: str, help_: str, module_doc: str | None,
             configure: Callable[[argparse.ArgumentParser], object], run: Run) -> argparse.ArgumentParser:
    """Add ``name`` to the operator CLI (``python -m tools``): its options from ``configure``, then ``run``."""
    parser = subparsers.add_parser(name, help=help_, description=summary(module_doc))
    configure(parser)
    parser.set_defaults(handler=lambda args: run(parser, args))
    return parser


def run_alone(configure: Callable[[argparse.ArgumentParser], argparse.ArgumentParser], prog: str,
              module_doc: str | None, argv: Sequence[str] | None) -> int:
    """``python -m <prog>``: parse ``argv`` with the options ``configure`` adds, then run the handler it set."""
    parser = configure(argparse.ArgumentParser(prog=prog, description=summary(module_doc)))
    args = parser.parse_args(argv)
    return int(args.handler(args))
