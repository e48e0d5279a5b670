"""Monthly cost report per environment, from the synthesized stacks, a usage file and a dated price table."""

from tools.cost.cli import add_parser, main

__all__ = ["add_parser", "main"]
