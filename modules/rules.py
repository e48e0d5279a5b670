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


def in_range(field: str, low: float, high: float) -> Rule:
    """``low <= field <= high``."""
    return Rule(field, lambda v: low <= v[field] <= high,
                f"{{{field}}} >= {_literal(low)} && {{{field}}} <= {_literal(high)}", f"{low}..{high}")


def at_least(field: str, low: float) -> Rule:
    """``field >= low``."""
    return Rule(field, lambda v: v[field] >= low, f"{{{field}}} >= {_literal(low)}", f">= {low}")


def one_of(field: str, options: Sequence[Any], allowed: str) -> Rule:
    """``field`` is one of ``options`` (numbers or strings)."""
    listed = ", ".join(json.dumps(option) for option in options)
    return Rule(field, lambda v: v[field] in options, f"contains([{listed}], {{{field}}})", allowed)


def matches(field: str, pattern: str, allowed: str, *, optional: bool = False) -> Rule:
    """The whole of ``field`` matches ``pattern`` (a regular expression that Python and Terraform's RE2 read
    alike); with ``optional``, None (null) passes too."""
    regex = f"can(regex({hcl_string(f'^(?:{pattern})$')}, {{{field}}}))"

    def check(values: Values) -> bool:
        value = values[field]
        return (optional and value is None) or (isinstance(value, str) and re.fullmatch(pattern, value) is not None)

    condition = f"{{{field}}} == null ? true : {regex}" if optional else regex
    return Rule(field, check, condition, allowed)


def required_tag(tag: str) -> Rule:
    """The ``tags`` map holds ``tag`` with a value that is not blank."""
    return Rule(
        "tags", lambda v: bool(str(v["tags"].get(tag, "")).strip()),
        f'trimspace(lookup({{tags}}, "{tag}", "")) != ""', "a non-empty string",
        label=f"tags.{tag}", show=lambda v: v["tags"].get(tag, ""), shown=f'lookup({{tags}}, "{tag}", "")',
    )
