"""terraform validate on every synthesized stack, against hashicorp/aws 5.100.0's real schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.shared_provider import shared_providers
from tools.policy import checks as policy_checks
from tools.policy.stack_json import StackJson
from tools.terraform_cli import run_terraform

pytestmark = pytest.mark.integration

STACK_NAMES = ["tap-pipeline-local", "tap-pipeline-dev", "tap-pipeline-staging", "tap-pipeline-prod",
               "tap-pipeline-pr42", "tap-pipeline-state", "tap-pipeline-ci"]


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_terraform_validate_passes(initialized: dict[str, Path], stack_name: str) -> None:
    result = shared_providers().run_terraform(["validate", "-json", "-no-color"], initialized[stack_name], check=False)
    report = json.loads(result.stdout)
    assert report["valid"] is True, f"{stack_name}: {report['diagnostics']}"
    assert report["error_count"] == 0


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_provider_installed_is_hashicorp_aws_5_100_0(initialized: dict[str, Path], stack_name: str) -> None:
    result = run_terraform(["version", "-json"], initialized[stack_name])
    versions = json.loads(result.stdout)["provider_selections"]
    assert versions == {"registry.terraform.io/hashicorp/aws": "5.100.0"}


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_every_taggable_resource_carries_component_and_the_five_default_tags(
        stacks: dict[str, StackJson], provider_schema: dict, stack_name: str) -> None:
    taggable = policy_checks.taggable_types_from_schema(provider_schema)
    assert "aws_lambda_function" in taggable and "aws_sqs_queue" in taggable, "schema parsing sanity"
    assert policy_checks.check_tags(stacks[stack_name], taggable) == []
