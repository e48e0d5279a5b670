"""The environments the library's tests build on."""

from __future__ import annotations

from modules.settings import load_environment, preview_environment, selected_environments

__all__ = ["load_environment", "preview_environment", "selected_environments"]
