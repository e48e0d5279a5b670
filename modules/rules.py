"""Validation rules of the settings that a module consumer sets, each declared once for both of its checks.

A :class:`Rule` holds the Python check that the settings dataclasses run (:mod:`.settings`) and the Terraform
condition that the generated module's ``validation`` block evaluates, side by side, with one text of what is
allowed; the common kinds (:func:`in_range`, :func:`one_of`, :func:`matches`, :func:`at_least`) write both from
the same numbers or pattern, so that the two cannot drift. Templates name settings as ``{name}``: Python fills
in values, the module generator Terraform references (a variable, or a literal where the module fixes the
setting). A rule over a value that is a Terraform expression is left to Terraform (:meth:`Rule.verdict`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from .terraform_values import is_expression

Values = Mapping[str, Any]
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def fill(template: str, replacements: Mapping[str, str]) -> str:
    """``template`` with each ``{name}`` replaced (HCL's own braces, ``{1,9}`` or ``{ a = 1 }``, stay)."""
    return _PLACEHOLDER.sub(lambda match: replacements[match.group(1)], template)


def hcl_string(text: str) -> str:
    """A quoted HCL string literal of ``text``: JSON's escapes, with ``${`` and ``%{`` kept literal."""
    return json.dumps(text).replace("${", "$${").replace("%{", "%%{")


@dataclass(frozen=True)
class Verdict:
    """A rule checked in Python: whether it holds, the value it names and what is allowed."""

    holds: bool
    value: object
    allowed: str


@dataclass(frozen=True)
class Rule:
    """One rule on the setting ``field``, reading ``reads`` too.

    ``check`` is the Python check of the values by name; ``condition`` the same in Terraform, over ``{name}``
    placeholders; ``allowed`` says what is allowed (its ``{name}`` placeholders show other settings' values).
    The problem names ``label`` (default ``field``) and shows ``show(values)`` (default the field's value;
    ``shown`` is its Terraform template).
    """

    field: str
    check: Callable[[Values], bool]
    condition: str
    allowed: str
    reads: tuple[str, ...] = ()
    label: str | None = None
    show: Callable[[Values], object] | None = None
    shown: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.field, *self.reads)

    def verdict(self, values: Values) -> Verdict | None:
        """The rule checked on ``values``; None when one of them is a Terraform expression, which the module's
        validation block checks instead."""
        if any(is_expression(values[name]) for name in self.names):
            return None
        shown = self.show(values) if self.show else values[self.field]
        return Verdict(bool(self.check(values)), shown,
                       fill(self.allowed, {name: str(values[name]) for name in self.reads}))

    def terraform_condition(self, references: Mapping[str, str]) -> str:
        """The condition with every setting replaced by its Terraform reference (``var.x``) or literal."""
        return fill(self.condition, {name: f"({references[name]})" if " " in references[name] else references[name]
                                     for name in self.names})

    def terraform_message(self, label: str, references: Mapping[str, str]) -> str:
        """``<label>=<value> is invalid: allowed <what>``, the settings' problem format, as a Terraform template."""
        shown = fill(self.shown or "{" + self.field + "}", references)
        allowed = fill(self.allowed.replace("${", "$${").replace("%{", "%%{"),
                       {name: "${" + references[name] + "}" for name in self.reads})
        return f"{label}=${{jsonencode({shown})}} is invalid: allowed {allowed}"


def _literal(value: float) -> str:
    return json.dumps(value)


# The Python checks of the rule kinds are module-level functions bound with partial, not closures: the tables
# are built at import, and a function called when a rule is checked is one that mutation testing can change.
def _in_range(field: str, low: float, high: float, values: Values) -> bool:
    return low <= values[field] <= high


def _at_least(field: str, low: float, values: Values) -> bool:
    return values[field] >= low


def _one_of(field: str, options: Sequence[Any], values: Values) -> bool:
    return values[field] in options


def _matches(field: str, pattern: str, optional: bool, values: Values) -> bool:
    value = values[field]
    return (optional and value is None) or (isinstance(value, str) and re.fullmatch(pattern, value) is not None)


def _tag_value(tag: str, values: Values) -> object:
    return values["tags"].get(tag, "")


def _tag_present(tag: str, values: Values) -> bool:
    return bool(str(_tag_value(tag, values)).strip())


def in_range(field: str, low: float, high: float) -> Rule:
    """``low <= field <= high``."""
    return Rule(field, partial(_in_range, field, low, high),
                f"{{{field}}} >= {_literal(low)} && {{{field}}} <= {_literal(high)}", f"{low}..{high}")


def at_least(field: str, low: float, allowed: str | None = None) -> Rule:
    """``field >= low`` (``allowed``: what the problem says is allowed, by default ``>= low``)."""
    return Rule(field, partial(_at_least, field, low), f"{{{field}}} >= {_literal(low)}", allowed or f">= {low}")


def one_of(field: str, options: Sequence[Any], allowed: str) -> Rule:
    """``field`` is one of ``options`` (numbers or strings)."""
    listed = ", ".join(json.dumps(option) for option in options)
    return Rule(field, partial(_one_of, field, tuple(options)), f"contains([{listed}], {{{field}}})", allowed)


def matches(field: str, pattern: str, allowed: str, *, optional: bool = False) -> Rule:
    """The whole of ``field`` matches ``pattern`` (a regular expression that Python and Terraform's RE2 read
    alike: no backreferences, lookarounds or possessive quantifiers); with ``optional``, None (null) passes."""
    regex = f"can(regex({hcl_string(f'^(?:{pattern})$')}, {{{field}}}))"
    condition = f"{{{field}}} == null ? true : {regex}" if optional else regex
    return Rule(field, partial(_matches, field, pattern, optional), condition, allowed)


def required_tag(tag: str) -> Rule:
    """The ``tags`` map holds ``tag`` with a value that is not blank."""
    return Rule(
        "tags", partial(_tag_present, tag), f'trimspace(lookup({{tags}}, "{tag}", "")) != ""', "a non-empty string",
        label=f"tags.{tag}", show=partial(_tag_value, tag), shown=f'lookup({{tags}}, "{tag}", "")',
    )
