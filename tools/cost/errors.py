"""The one error the cost tool raises for bad input: its message names the file, the field and the fix."""


class CostInputError(ValueError):
    """A price or usage file, or a synthesized stack, that the cost model cannot use."""
