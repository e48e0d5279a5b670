"""The CI identities stack: terraform validate against hashicorp/aws 5.100.0, and checkov with no failed check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.ci_stack import synth_ci_stack
from tools.policy.stack_json import StackJson
from tools.terraform_cli import run_terraform

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ci(tmp_path_factory: pytest.TempPathFactory) -> StackJson:
    stack = synth_ci_stack(tmp_path_factory.mktemp("ci"))
    run_terraform(["init", "-backend=false", "-input=false", "-no-color"], stack.directory)
    return stack


def test_terraform_validate_passes(ci: StackJson) -> None:
    report = json.loads(run_terraform(["validate", "-json", "-no-color"], ci.directory, check=False).stdout)
    assert report["valid"] is True and report["error_count"] == 0, report["diagnostics"]


def test_checkov_finds_nothing_in_the_ci_identities(ci: StackJson) -> None:
    """The IAM checks (wildcards, "*" resources for restrictable actions, privilege escalation, GitHub OIDC
    trust) see the statements, since every policy is an aws_iam_policy_document."""
    result = subprocess.run(
        [sys.executable, "-m", "checkov.main", "-f", str(ci.directory / "cdk.tf.json"), "--config-file",
         str(PROJECT_ROOT / ".checkov.yaml"), "-o", "json"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=False)
    report = json.loads(result.stdout)
    assert report["summary"]["parsing_errors"] == 0
    assert [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]] == []
    ran = {c["check_id"] for c in report["results"]["passed_checks"]}
    assert {"CKV_AWS_356", "CKV_AWS_111", "CKV_AWS_110", "CKV_AWS_358"} <= ran, sorted(ran)
