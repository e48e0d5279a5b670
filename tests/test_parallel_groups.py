"""How `make test` spreads the suite over pytest-xdist workers (tests/conftest.py, XDIST_GROUPS)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import XDIST_GROUPS, xdist_group_of

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted(XDIST_GROUPS))
def test_every_group_names_an_existing_test_file_or_folder(path: str) -> None:
    # A renamed file would silently leave its group and rebuild the shared fixture on every worker.
    target = PROJECT_ROOT / path
    assert target.is_dir() if path.endswith("/") else target.is_file(), f"{path} does not exist"


def test_each_e2e_module_deploys_on_a_worker_of_its_own() -> None:
    e2e_modules = sorted(p.relative_to(PROJECT_ROOT).as_posix() for p in (PROJECT_ROOT / "tests/e2e").glob("test_*.py"))
    groups = [xdist_group_of(module) for module in e2e_modules]
    assert None not in groups and len(set(groups)) == len(e2e_modules) == 2, dict(zip(e2e_modules, groups, strict=True))


@pytest.mark.parametrize(("path", "group"), [
    ("tests/integration/test_checkov.py", "terraform-init"),
    ("tests/integration_extra/test_x.py", None),  # a folder prefix matches whole folder names only
    ("tests/tools/plans/test_reviewed_plans.py", "prod-offline-plans"),
    ("tests/tools/plans/test_reviewed_plans_more.py", None),  # a file entry matches that file only
    ("tests/unit/test_settings.py", None),
])
def test_a_test_file_is_grouped_by_exact_file_or_folder_prefix(path: str, group: str | None) -> None:
    assert xdist_group_of(path) == group


def test_make_test_runs_the_suite_on_xdist_workers_by_group() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    result = subprocess.run(["make", "-n", "--no-print-directory", "test"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, check=True)
    pytest_line = result.stdout.strip().splitlines()[-1]
    assert "-m pytest tests -n 4 --dist loadgroup" in pytest_line, result.stdout
