"""checkov (terraform_json) on every synthesized stack: checks ran, nothing failed, nothing unparsed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tools.policy.stack_json import StackJson

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STACK_NAMES = ["tap-pipeline-local", "tap-pipeline-dev", "tap-pipeline-staging", "tap-pipeline-prod",
               "tap-pipeline-pr42", "tap-pipeline-state", "tap-pipeline-ci"]


# checkov's customer-managed-key checks (DynamoDB, log groups, Lambda environment), which prod must pass
# on its own, the three skips in .checkov.yaml notwithstanding.
CUSTOMER_KEY_CHECKS = ("CKV_AWS_119", "CKV_AWS_158", "CKV_AWS_173")


def run_checkov(stacks: list[StackJson], config: Path) -> dict:
    files = [arg for stack in stacks for arg in ("-f", str(stack.directory / "cdk.tf.json"))]
    result = subprocess.run(
        [sys.executable, "-m", "checkov.main", *files, "--config-file", str(config), "-o", "json"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
    )
    assert result.returncode in (0, 1), f"checkov crashed (exit {result.returncode}): {result.stderr[-2000:]}"
    report = json.loads(result.stdout)
    assert isinstance(report, dict), f"expected one terraform_json report, got {type(report)}"
    return report


@pytest.fixture(scope="session")
def checkov_report(stacks: dict[str, StackJson]) -> dict:
    """One checkov run over every stack's cdk.tf.json (its start-up costs seconds)."""
    return run_checkov(list(stacks.values()), PROJECT_ROOT / ".checkov.yaml")


@pytest.fixture(scope="session")
def prod_report_without_key_skips(stacks: dict[str, StackJson], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """checkov on prod with the project's settings minus the customer-key skips."""
    lines = (PROJECT_ROOT / ".checkov.yaml").read_text().splitlines()
    skips = {line.strip().removeprefix("- ") for line in lines if line.strip().startswith("- CKV")}
    assert set(CUSTOMER_KEY_CHECKS) <= skips, "the other stacks rely on these skips"
    kept = [line for line in lines if line.strip().removeprefix("- ") not in CUSTOMER_KEY_CHECKS]
    config = tmp_path_factory.mktemp("checkov") / "prod.checkov.yaml"
    config.write_text("\n".join(kept) + "\n")
    return run_checkov([stacks["tap-pipeline-prod"]], config)


def test_prod_passes_the_customer_key_checks_without_their_skips(prod_report_without_key_skips: dict) -> None:
    report = prod_report_without_key_skips
    assert report["summary"]["parsing_errors"] == 0
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    passed = Counter(c["check_id"] for c in report["results"]["passed_checks"])
    # One table, three log groups, three functions.
    assert {check: passed[check] for check in CUSTOMER_KEY_CHECKS} == {
        "CKV_AWS_119": 1, "CKV_AWS_158": 3, "CKV_AWS_173": 3}


def per_file(report: dict, outcome: str) -> Counter:
    return Counter(Path(c["file_path"]).parent.name for c in report["results"][outcome])


def test_checkov_parsed_every_stack(checkov_report: dict) -> None:
    assert checkov_report["summary"]["parsing_errors"] == 0
    assert checkov_report["check_type"] == "terraform_json"


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_checkov_ran_checks_on_stack(checkov_report: dict, stack_name: str) -> None:
    assert per_file(checkov_report, "passed_checks")[stack_name] > 10, f"checkov ran no checks on {stack_name}"


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_checkov_finds_no_failed_check(checkov_report: dict, stack_name: str) -> None:
    failed = [(c["check_id"], c["resource"]) for c in checkov_report["results"]["failed_checks"]
              if Path(c["file_path"]).parent.name == stack_name]
    assert failed == [], f"{stack_name}: {failed}"


def test_checkov_judged_the_ci_identities_policies(checkov_report: dict) -> None:
    """The IAM checks (wildcards, "*" resources for restrictable actions, privilege escalation, GitHub OIDC
    trust) see the CI roles' statements, since every policy is an aws_iam_policy_document."""
    ran = {c["check_id"] for c in checkov_report["results"]["passed_checks"]
           if Path(c["file_path"]).parent.name == "tap-pipeline-ci"}
    assert {"CKV_AWS_356", "CKV_AWS_111", "CKV_AWS_110", "CKV_AWS_358"} <= ran, sorted(ran)


def test_every_skip_in_checkov_config_has_a_reason() -> None:
    lines = (PROJECT_ROOT / ".checkov.yaml").read_text().splitlines()
    for number, line in enumerate(lines):
        if line.strip().startswith("- CKV"):
            assert lines[number - 1].strip().startswith("#"), f"{line.strip()} has no reason comment above it"
