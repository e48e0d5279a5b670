"""Reading the function's settings from its environment, at call time."""

from __future__ import annotations

import os

from handlers.shared.errors import ConfigurationError


def require_env(name: str) -> str:
    """The value of environment variable ``name``; ConfigurationError naming it if unset or empty."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"required environment variable {name} is not set")
    return value
