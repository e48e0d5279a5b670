"""docs/configuration-reference.md is the schema the dataclasses define: generated from them, every key the reader
takes, and every range it states the range the validation applies (accepted at both ends, refused one step outside)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path

import pytest

from modules.ci_settings import CiIdentitiesSettings
from modules.environments_file import VARIABLES, ci_shape, environment_shape
from modules.environments_schema import schema_markdown
from modules.settings import (
    AutoscalingSettings,
    BackendSettings,
    EnvironmentSettings,
    FunctionSettings,
    MonitoringSettings,
    ReleaseSettings,
    SettingsError,
    TableSettings,
)
from tests.support.environments import load_environment

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = PROJECT_ROOT / "docs" / "configuration-reference.md"
ACCOUNT = {"TAP_AWS_ACCOUNT_ID": "111122223333", "TAP_ALARM_EMAIL": "oncall@example.com"}


def documented_rows() -> dict[str, list[str]]:
    """Every row of the committed file's key tables: key -> [type, default, allowed, what it is]."""
    rows = re.findall(r"^\| `([^`]+)` \| (.+) \|$", SCHEMA.read_text(), flags=re.MULTILINE)
    cells = {key: [cell.strip() for cell in rest.split(" | ")] for key, rest in rows}
    return {key: row for key, row in cells.items() if len(row) == 4}


def documented_variables() -> set[str]:
    return set(re.findall(r"^\| `([A-Z_]+)` \| [^|]+ \|$", SCHEMA.read_text(), flags=re.MULTILINE))


def test_the_committed_schema_is_the_one_the_dataclasses_generate() -> None:
    assert SCHEMA.read_text() == schema_markdown(), (
        "docs/configuration-reference.md is stale: run `make docs` (or `.venv/bin/python -m "
        "modules.environments_schema > docs/configuration-reference.md`)")


def leaf_keys(shape: dict, path: str = "") -> set[str]:
    keys: set[str] = set()
    for name, child in shape.items():
        key = f"{path}.{name}" if path else name
        if name == "functions":
            keys |= {f"functions.<stage>.{k}" for k in child["validator"]}
        elif isinstance(child, dict):
            keys |= leaf_keys(child, key)
        elif child == "table of strings":
            keys.add(f"{key}.<Tag>")
        else:
            keys.add(key)
    return keys


def test_every_key_an_environment_takes_has_a_row() -> None:
    documented = documented_rows()
    assert leaf_keys(environment_shape()) <= set(documented)
    assert {"project", "preview_from", "state.bucket", "state.region", "state.account_id"} <= set(documented)
    assert leaf_keys(ci_shape(), "ci") <= set(documented)
    assert documented_variables() == set(VARIABLES), "every environment variable is documented"


# Each documented key, and how to build settings with one value of it (the rest valid).
Build = Callable[[object], object]
BUILDERS: dict[str, tuple[str, Build]] = {}
for _f in fields(FunctionSettings):
    BUILDERS[f"functions.<stage>.{_f.name}"] = (
        f"functions.processor.{_f.name}",
        lambda v, n=_f.name: FunctionSettings(**{"name": "processor", "reserved_concurrency": None,
                                                 "batching_window_s": 5, n: v}))
for _f in fields(AutoscalingSettings):
    for _kind in ("read", "write"):
        BUILDERS[f"table.{_kind}_autoscaling.{_f.name}"] = (
            f"table.{_kind}_autoscaling.{_f.name}", lambda v, n=_f.name, k=_kind: TableSettings(
                **{f"{k}_autoscaling": AutoscalingSettings(**{n: v})}))
for _f in fields(MonitoringSettings):
    BUILDERS[f"monitoring.{_f.name}"] = (f"monitoring.{_f.name}", lambda v, n=_f.name: MonitoringSettings(**{n: v}))
for _f in fields(ReleaseSettings):
    BUILDERS[f"release.{_f.name}"] = (f"release.{_f.name}", lambda v, n=_f.name: ReleaseSettings(**{n: v}))
BUILDERS["table.billing_mode"] = ("table.billing_mode", lambda v: TableSettings(billing_mode=v))
BUILDERS["backend.kind"] = ("backend.kind", lambda v: BackendSettings(kind=v))
for _f in fields(EnvironmentSettings):  # the others are tables, built above
    if _f.name not in ("functions", "table", "monitoring", "backend"):
        # queue_retention_s must stay below dlq_retention_s: the DLQ keeps the longest SQS allows.
        BUILDERS[_f.name] = (_f.name, lambda v, n=_f.name: replace(
            load_environment("dev", ACCOUNT), **{"dlq_retention_s": 1209600, n: v}))


for _f in fields(CiIdentitiesSettings):
    BUILDERS[f"ci.{_f.name}"] = (f"ci.{_f.name}", lambda v, n=_f.name: CiIdentitiesSettings(
        **{"repository": "acme/tap-pipeline", n: v}))


def problems_naming(setting: str, build: Build, value: object) -> list[str]:
    try:
        build(value)
    except SettingsError as error:
        return [p for p in error.problems if p.startswith(f"{setting}=")]
    return []


def documented(pattern: str) -> list[tuple[str, str]]:
    """(key, allowed) of every documented row whose allowed cell matches ``pattern`` exactly."""
    return [(key, cells[2]) for key, cells in documented_rows().items() if re.fullmatch(pattern, cells[2])]


RANGES = documented(r"-?[\d.]+\.\.[\d.]+")
CHOICES = documented(r"[\w.]+(?:, [\w.]+)* or [\w.]+")


def test_the_ranges_and_choices_found_are_the_ones_expected() -> None:
    # So that a changed table layout cannot make the two tests below check nothing.
    assert {key for key, _ in RANGES} >= {"functions.<stage>.memory_mb", "kms_deletion_window_days",
                                          "monitoring.duration_alarm_fraction", "table.read_autoscaling."
                                          "target_utilization", "queue_retention_s"}
    assert {key for key, _ in CHOICES} >= {"architecture", "python_runtime", "log_level", "table.billing_mode"}


@pytest.mark.parametrize(("key", "allowed"), RANGES, ids=[key for key, _ in RANGES])
def test_each_documented_range_is_the_validated_range(key: str, allowed: str) -> None:
    setting, build = BUILDERS[key]
    low, high = (float(x) if "." in x else int(x) for x in allowed.split(".."))
    step = 0.05 if isinstance(low, float) else 1
    for value in (low, high):
        assert problems_naming(setting, build, value) == [], (key, value)
    for value in (low - step, high + step):
        assert problems_naming(setting, build, value) != [], (key, value)


@pytest.mark.parametrize(("key", "allowed"), CHOICES, ids=[key for key, _ in CHOICES])
def test_each_documented_choice_is_accepted_and_nothing_else(key: str, allowed: str) -> None:
    setting, build = BUILDERS[key]
    choices = re.split(r", | or ", allowed)
    for choice in choices:
        assert problems_naming(setting, build, choice) == [], (key, choice)
    assert problems_naming(setting, build, "none-of-these") != [], key
