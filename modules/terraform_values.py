"""Values that are Python values in the repository's stacks and Terraform expressions in the generated module.

The constructs take each setting that a module consumer sets per environment either as a Python value (a stack
for one environment: decided in Python, synthesized as a literal) or as a Terraform expression of the module's
variables (a cdktf token: decided by Terraform at plan time). Every place where a construct computes with a
setting (arithmetic, a choice, a resource that exists only sometimes, text) goes through these helpers, so that
one body of code serves both and a Python value always gives exactly what it gave before tokens were possible.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# cdktf is imported where an expression is built, never for Python values: the settings use these helpers,
# and validating settings must not start jsii (main.py validates everything before it imports cdktf).

# cdktf encodes a number token as a double near -1.8881545897087626e+289 (no setting comes near it), a string
# token as "${TfToken[...]}", a list's as "#{TfToken[...]}" and a map's key as "&{TfToken[...]}".
_PLAIN_FLOAT_LIMIT = 1e280


def is_expression(value: object) -> bool:
    """Whether ``value`` is (or holds) a Terraform expression that only Terraform can evaluate."""
    if value is None or isinstance(value, (bool, int)):
        return False
    if isinstance(value, float) and abs(value) < _PLAIN_FLOAT_LIMIT:
        return False
    if isinstance(value, str):
        if "TfToken[" in value:
            return True
        if "${" not in value:
            return False
    if isinstance(value, Mapping):
        return any(is_expression(k) or is_expression(v) for k, v in value.items())
    from cdktf import Token

    return bool(Token.is_unresolved(value))


def _null_if_none(value: Any) -> Any:
    from cdktf import Token

    return Token.null_value() if value is None else value


def _typed(value: Any, like: Any) -> Any:
    """``value`` (an expression) typed as ``like`` is, so that typed bindings accept it."""
    from cdktf import Token

    if isinstance(like, str):
        return Token.as_string(value)
    if isinstance(like, (int, float)) and not isinstance(like, bool):
        return Token.as_number(value)
    if isinstance(like, (list, tuple)):
        return Token.as_list(value)
    return value


def choose(condition: Any, if_true: Any, if_false: Any) -> Any:
    """``if_true if condition else if_false``; a Terraform conditional (``c ? a : b``) when ``condition`` is an
    expression, with None as ``null`` and the result typed like the branch that is not None."""
    if not is_expression(condition):
        return if_true if condition else if_false
    from cdktf import Fn

    like = if_true if if_true is not None else if_false
    return _typed(Fn.conditional(condition, _null_if_none(if_true), _null_if_none(if_false)), like)


def is_set(value: Any) -> Any:
    """``value is not None``, or ``value != null``."""
    if not is_expression(value):
        return value is not None
    from cdktf import Op

    return Op.neq(value, _null_if_none(None))


def is_positive(value: Any) -> Any:
    """``value > 0``."""
    if not is_expression(value):
        return value > 0
    from cdktf import Op

    # Written 0 < value: cdktf 0.21 renders a right-hand operand 0 as "undefined" (`var.x > undefined`).
    return Op.lt(0, value)


def equals(value: Any, literal: Any) -> Any:
    """``value == literal``."""
    if not is_expression(value):
        return value == literal
    from cdktf import Op

    return Op.eq(value, literal)


def plus(left: Any, right: Any) -> Any:
    """``left + right``."""
    if not (is_expression(left) or is_expression(right)):
        return left + right
    from cdktf import Op, Token

    return Token.as_number(Op.add(left, right))


def times(left: Any, right: Any) -> Any:
    """``left * right``."""
    if not (is_expression(left) or is_expression(right)):
        return left * right
    from cdktf import Op, Token

    return Token.as_number(Op.mul(left, right))


def text(value: Any) -> str:
    """``str(value)``; an interpolation of the expression inside a string (``"... ${var.x} ..."``)."""
    if not is_expression(value):
        return str(value)
    from cdktf import Token

    return Token.as_string(value)


def merged(base: Mapping[str, str], overrides: Mapping[str, str]) -> dict[str, str]:
    """``{**base, **overrides}``; ``merge(base, overrides)`` when either holds an expression."""
    if not (is_expression(base) or is_expression(overrides)):
        return {**base, **overrides}
    from cdktf import Fn, Token

    return Token.as_string_map(Fn.merge([base, overrides]))


def instances(condition: Any) -> tuple[bool, Any]:
    """Whether to create a resource that exists only when ``condition`` holds, and the ``count`` to give it.

    A Python condition decides in Python: create it (no count) or not at all. An expression creates it with
    ``count = condition ? 1 : 0``, so that Terraform decides.
    """
    if not is_expression(condition):
        return bool(condition), None
    from cdktf import Fn, Token

    return True, Token.as_number(Fn.conditional(condition, 1, 0))
