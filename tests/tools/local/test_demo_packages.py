"""The demo's packages (scripts/demo-packages.txt): the closure of moto[server] in Pipfile.lock, kept current."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tools.local import demo_packages

REQUIRES = {
    "moto": ["boto3>=1.9", "werkzeug>=0.5", "flask; extra == 'server'", "docker>=3; extra == 'docker'"],
    "flask": ["werkzeug>=3", "blinker", "colorama; platform_system == 'Windows'"],
    "werkzeug": ["markupsafe"],
    "boto3": ["botocore"],
    "botocore": [],
    "markupsafe": [],
    "blinker": [],
    "docker": [],
    "colorama": [],
}


def requires(name: str) -> list[str]:
    return REQUIRES[name]


def test_the_closure_follows_requested_extras_and_markers_only() -> None:
    assert demo_packages.closure(["moto[server]"], requires) == {
        "moto", "boto3", "botocore", "werkzeug", "markupsafe", "flask", "blinker"}
    assert "flask" not in demo_packages.closure(["moto"], requires), "an extra nobody asked for was followed"


def test_an_extra_asked_for_later_is_still_followed() -> None:
    assert "flask" in demo_packages.closure(["werkzeug", "moto", "moto[server]"], requires)


def test_the_demo_list_leaves_out_the_runtime_packages_it_always_gets() -> None:
    lock = {"default": {"boto3": {}, "botocore": {}},
            "develop": {n: {} for n in ("moto", "flask", "werkzeug", "markupsafe", "blinker", "checkov")}}
    assert demo_packages.demo_names(lock, requires) == ["blinker", "flask", "markupsafe", "moto", "werkzeug"]


def test_a_needed_package_missing_from_the_lock_says_to_lock_again() -> None:
    lock = {"default": {"boto3": {}, "botocore": {}}, "develop": {"moto": {}, "flask": {}}}
    message = "blinker, markupsafe, werkzeug needed by moto\\[server\\] but not in Pipfile.lock: run `pipenv lock`"
    with pytest.raises(SystemExit, match=message):
        demo_packages.demo_names(lock, requires)


def test_the_shipped_list_is_the_closure_of_the_installed_lock() -> None:
    """Run in the full environment `make test` installs: a lock change that moto[server] feels shows here."""
    result = subprocess.run([sys.executable, "-m", "tools.local.demo_packages", "--check"], capture_output=True,
                            text=True, cwd=demo_packages.PROJECT_ROOT, check=False)
    assert result.returncode == 0, result.stderr


def test_every_listed_package_is_locked_for_development() -> None:
    lock = json.loads(demo_packages.LOCK_FILE.read_text())
    listed = demo_packages.listed()
    assert "moto" in listed and "checkov" not in listed and "ruff" not in listed
    assert set(listed) <= set(lock["develop"])
