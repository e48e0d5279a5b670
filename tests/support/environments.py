"""The environments the library's tests build on: their own file, ``tests/fixtures/environments.toml``.

The shipped ``environments.toml`` is the users' to edit: tests of the library (constructs, settings rules, the
file reader) read this fixture instead, so that no edit there breaks them. Tests of the shipped file itself
(the draft's defects, the tables of docs/) read that file (``SHIPPED``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from modules.environments_file import EnvironmentsFile
from modules.settings import EnvironmentSettings, StateBootstrapSettings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_FILE = PROJECT_ROOT / "tests" / "fixtures" / "environments.toml"
SHIPPED_FILE = PROJECT_ROOT / "environments.toml"
FIXTURE = EnvironmentsFile.read(FIXTURE_FILE)


def shipped() -> EnvironmentsFile:
    """The shipped environments file, read anew (for the tests of that file only)."""
    return EnvironmentsFile.read(SHIPPED_FILE)


def load_environment(name: str, env: Mapping[str, str] | None = None) -> EnvironmentSettings:
    return FIXTURE.environment(name, env)


def preview_environment(suffix: str, env: Mapping[str, str] | None = None) -> EnvironmentSettings:
    return FIXTURE.preview(suffix, env)


def selected_environments(env: Mapping[str, str] | None = None) -> list[EnvironmentSettings]:
    return FIXTURE.selected(env)


def state_backend_settings(env: Mapping[str, str] | None = None) -> StateBootstrapSettings:
    return FIXTURE.state(env)
