"""Help texts as a terminal shows them: the docstrings they come from use reStructuredText, ``--help`` does not.

``plain`` turns a role (:func:`name`) into the name in backticks and a literal (double backticks) into single
ones; ``plain_parser`` applies it to every description, epilog and help text of a parser and its subcommands,
so that each command's module docstring can serve as its help.
"""

from __future__ import annotations

import argparse
import re

ROLE = re.compile(r":(?:py:)?[a-z]+:`~?([^`]+)`")
LITERAL = re.compile(r"``([^`]+)``")


def plain(text: str | None) -> str | None:
    """``text`` without reStructuredText roles and double backticks."""
    if text is None:
        return None
    return LITERAL.sub(r"`\1`", ROLE.sub(r"`\1`", text))


def plain_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``parser`` and every subcommand's parser, each text passed through :func:`plain`; the same parser."""
    parser.description = plain(parser.description)
    parser.epilog = plain(parser.epilog)
    for action in parser._actions:
        if action.help is not argparse.SUPPRESS:
            action.help = plain(action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                choice.help = plain(choice.help)
            for subparser in dict.fromkeys(action.choices.values()):
                plain_parser(subparser)
    return parser
