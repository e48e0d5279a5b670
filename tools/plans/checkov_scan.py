"""checkov on a plan JSON (``--framework terraform_plan``) with the project's ``.checkov.yaml`` skips."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tools.plans.layout import PROJECT_ROOT

CONFIG = PROJECT_ROOT / ".checkov.yaml"
#: Checks that fail on plans only, each with its reason; added to the skips of ``.checkov.yaml``.
PLAN_ONLY_SKIPS = {
    # CKV2_AWS_16 (DynamoDB autoscaling): a false positive on terraform_plan, whose graph does not link the
    # aws_appautoscaling_target (resource_id "table/<name>") to the table; on the synthesized JSON
    # (terraform_json) the same check passes, and the prod table's read and write targets are in the plan.
    "CKV2_AWS_16",
}


class CheckovError(RuntimeError):
    """checkov crashed, parsed nothing or ran no check: its silence would look like a pass."""


@dataclass(frozen=True)
class CheckovResult:
    passed: int
    failed: tuple[tuple[str, str, str], ...]  # (check id, resource address, check name)


def skipped_checks(config: Path = CONFIG) -> list[str]:
    """The project's skips (``.checkov.yaml``) and the plan-only ones: a command-line --skip-check replaces
    the config file's list, so the union is passed."""
    import yaml  # checkov's own dependency

    listed = yaml.safe_load(config.read_text()).get("skip-check", []) if config.is_file() else []
    return sorted({*listed, *PLAN_ONLY_SKIPS})


def scan(plan_json: Path) -> CheckovResult:
    result = subprocess.run(
        [sys.executable, "-m", "checkov.main", "-f", str(plan_json), "--framework", "terraform_plan",
         "--config-file", str(CONFIG), "--skip-check", ",".join(skipped_checks()), "-o", "json", "--quiet",
         "--compact"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
    )
    if result.returncode not in (0, 1):
        raise CheckovError(f"checkov crashed (exit {result.returncode}): {result.stderr[-2000:]}")
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    if isinstance(report, list):
        report = next((r for r in report if r.get("check_type") == "terraform_plan"), {})
    summary = report.get("summary", {})
    if report.get("check_type") != "terraform_plan" or summary.get("parsing_errors", 1) != 0:
        raise CheckovError(f"checkov did not parse {plan_json} as a terraform plan: {result.stdout[-1000:]}")
    failed = tuple(sorted((c["check_id"], c["resource"], c["check_name"])
                          for c in report.get("results", {}).get("failed_checks", [])))
    if int(summary.get("passed", 0)) + len(failed) == 0:
        raise CheckovError(f"checkov ran no check on {plan_json}: is it a plan with resources?")
    return CheckovResult(int(summary.get("passed", 0)), failed)
