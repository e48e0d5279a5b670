"""The Powertools layer the functions run is the release Pipfile.lock locks, so the tests run what AWS runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from modules.powertools_layer import LockFileError, locked_version, parameter_name
from tools.policy.stack_json import StackJson

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def lock_version() -> str:
    """Read here without the module under test."""
    return json.loads((PROJECT_ROOT / "Pipfile.lock").read_text())["default"]["aws-lambda-powertools"]["version"][2:]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_layer_parameter_names_the_locked_powertools_version(pipeline_stacks: dict[str, StackJson],
                                                                 env: str) -> None:
    stack = pipeline_stacks[env]
    [parameter] = stack.data("aws_ssm_parameter")
    assert parameter.body["name"] == f"/aws/service/powertools/python/arm64/python3.13/{lock_version()}"
    for function in stack.resources("aws_lambda_function"):
        assert function.body["layers"] == [f"${{data.aws_ssm_parameter.{parameter.name}.insecure_value}}"]


def test_no_stack_names_a_layer_version_of_its_own(pipeline_stacks: dict[str, StackJson]) -> None:
    for env, stack in pipeline_stacks.items():
        text = json.dumps(stack.document)
        assert not re.search(r":layer:[^\"]*:\d+", text), f"{env} pins a layer version outside Pipfile.lock"


def test_local_has_no_layer(pipeline_stacks: dict[str, StackJson]) -> None:
    local = pipeline_stacks["local"]
    assert not local.data("aws_ssm_parameter")
    assert all("layers" not in f.body for f in local.resources("aws_lambda_function"))


def test_parameter_name_follows_aws_layout() -> None:
    assert parameter_name("3.37.0", "python3.12", "x86_64") == "/aws/service/powertools/python/x86_64/python3.12/3.37.0"


def test_locked_version_reads_the_default_packages(tmp_path: Path) -> None:
    lock = tmp_path / "Pipfile.lock"
    lock.write_text(json.dumps({"default": {"aws-lambda-powertools": {"version": "==3.1.2"}}}))
    assert locked_version(lock) == "3.1.2"


@pytest.mark.parametrize("package", [{}, {"aws-lambda-powertools": {"version": ">=3"}},
                                     {"aws-lambda-powertools": {}}])
def test_a_lock_without_an_exact_powertools_version_is_refused(tmp_path: Path, package: dict) -> None:
    lock = tmp_path / "Pipfile.lock"
    lock.write_text(json.dumps({"default": package}))
    with pytest.raises(LockFileError, match="locks no exact aws-lambda-powertools version.*run `pipenv lock`"):
        locked_version(lock)


def test_an_unreadable_lock_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LockFileError, match="cannot read .*missing.lock.*pipenv lock"):
        locked_version(tmp_path / "missing.lock")
