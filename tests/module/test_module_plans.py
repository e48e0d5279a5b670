"""The module as an HCL team uses it: `terraform validate` of the complete example, offline plans that build
what the dev and prod stacks build, the values the stacks compute in Python computed by Terraform, and the
reviewed-plan path on the example's plan."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.support.module_plans import ModulePlan
from tools.plans.review import taggable_types
from tools.policy.checks import run_all
from tools.policy.stack_json import module_plan_stack
from tools.terraform_cli import run_terraform

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_the_complete_example_validates(module_plans: dict[str, ModulePlan]) -> None:
    # Initialized from the provider mirror by the plan fixture.
    result = run_terraform(["validate", "-no-color"], module_plans["example"].root, check=False)
    assert result.returncode == 0 and "The configuration is valid" in result.stdout, result.stdout + result.stderr


def test_the_example_plan_creates_what_the_dev_stack_has(module_plans: dict[str, ModulePlan],
                                                         shipped_counts: dict[str, Counter]) -> None:
    plan = module_plans["example"]
    assert plan.returncode == 0, plan.errors
    assert plan.managed_counts() == shipped_counts["dev"]


#: What prod's gradual releases add (modules/release.py): the CodeDeploy application, a deployment group per stage,
#: the service role and its policy.
RELEASES = Counter({"aws_codedeploy_app": 1, "aws_codedeploy_deployment_group": 3, "aws_iam_role": 1,
                    "aws_iam_role_policy": 1})


def test_prods_settings_as_inputs_plan_what_the_prod_stack_has(module_plans: dict[str, ModulePlan],
                                                             shipped_counts: dict[str, Counter]) -> None:
    plan = module_plans["prod"]
    assert plan.returncode == 0, plan.errors
    counts = plan.managed_counts()
    # But gradual releases, which the module cannot offer (the alias's ignore_changes is a literal).
    assert counts == shipped_counts["prod"] - RELEASES
    # What only prod has: warm processor instances and table autoscaling.
    assert counts["aws_lambda_provisioned_concurrency_config"] == 1 and counts["aws_appautoscaling_target"] == 2


def _planned(plan: ModulePlan, type_: str) -> list[dict]:
    return [change["change"]["after"] for change in plan.plan["resource_changes"]
            if change["type"] == type_ and change["change"]["actions"] == ["create"]]


def _by_name(plan: ModulePlan, type_: str, attribute: str) -> dict[str, dict]:
    return {after[attribute]: after for after in _planned(plan, type_)}


def test_terraform_derives_each_visibility_timeout_from_its_functions_timeout_and_window(
        module_plans: dict[str, ModulePlan]) -> None:
    # 6 x timeout + batching window: the example's defaults (30 s, processor 60 s, no window) and prod's 10 s
    # window, worked out here by hand.
    example = _by_name(module_plans["example"], "aws_sqs_queue", "name")
    assert [example[f"orders-{q}-dev"]["visibility_timeout_seconds"] for q in ("ingest", "enrich", "process")] == [
        180, 180, 360]
    prod = _by_name(module_plans["prod"], "aws_sqs_queue", "name")
    assert [prod[f"tap-{q}-prod"]["visibility_timeout_seconds"] for q in ("ingest", "enrich", "process")] == [
        190, 190, 370]


def test_terraform_derives_each_duration_alarm_from_the_timeout(module_plans: dict[str, ModulePlan]) -> None:
    alarms = _by_name(module_plans["good-high"], "aws_cloudwatch_metric_alarm", "alarm_name")
    alarm = next(a for name, a in alarms.items() if name.endswith("-validator-aaaaaaaaaaaaaaaaaaaa-p99-duration"))
    assert alarm["threshold"] == 900 * 1000 * 0.8
    assert "above 80% of its 900 s timeout" in alarm["alarm_description"]


def _policy(after: dict, attribute: str = "policy") -> dict:
    return json.loads(after[attribute])


def test_encryption_turns_on_the_key_for_the_data_its_policy_and_the_roles_grants(
        module_plans: dict[str, ModulePlan]) -> None:
    prod, example = module_plans["prod"], module_plans["example"]
    [prod_key], [example_key] = _planned(prod, "aws_kms_key"), _planned(example, "aws_kms_key")
    assert "CloudWatchLogsEncryptsTheLogGroups" in {s["Sid"] for s in _policy(prod_key)["Statement"]}
    assert "CloudWatchLogsEncryptsTheLogGroups" not in {s["Sid"] for s in _policy(example_key)["Statement"]}
    # Prod's queues are encrypted with the key (its ARN known after apply), the example's with SQS's own keys.
    prod_queues = [c["change"] for c in prod.plan["resource_changes"] if c["type"] == "aws_sqs_queue"]
    assert len(prod_queues) == 7
    assert all(q["after_unknown"].get("kms_master_key_id") is True and q["after"].get("sqs_managed_sse_enabled")
               is not True for q in prod_queues)
    assert all(q["sqs_managed_sse_enabled"] is True and q.get("kms_master_key_id") is None
               for q in _planned(example, "aws_sqs_queue"))
    # The roles may use the key only where it encrypts their data: UseDataKey comes from its own document,
    # which the role's document merges only with encryption on.
    def role_documents(plan: ModulePlan) -> list[dict]:
        return [c["change"] for c in plan.plan["resource_changes"]
                if c["type"] == "aws_iam_policy_document" and "_policy-document_" in c["address"]]

    assert len(role_documents(prod)) == len(role_documents(example)) == 3
    assert all(d["after"]["source_policy_documents"] == [] for d in role_documents(example))
    assert all(d["after_unknown"]["source_policy_documents"] == [True] for d in role_documents(prod))


def test_the_reviewed_plan_path_passes_the_example_plan(module_dir: Path, review_folder: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "tools", "review", "--env", "example", "--plans-dir",
                             str(module_dir)], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads((review_folder / "review.json").read_text())
    assert record["passed"] and record["counts"] == {"create": 55}, record


def test_the_reviews_project_checks_read_the_module_with_the_plans_values(
        module_plans: dict[str, ModulePlan], review_folder: Path) -> None:
    workdir = review_folder / "work"
    stack = module_plan_stack(workdir, module_plans["example"].plan)
    taggable = taggable_types(workdir)
    assert len(stack.resources()) == 55 and run_all(stack, taggable) == []
    queue = next(q for q in stack.resources("aws_sqs_queue") if q.body["name"] == "orders-ingest-dev")
    assert queue.body["visibility_timeout_seconds"] == 180
    queue.body["visibility_timeout_seconds"] = 179
    [function] = [f for f in stack.resources("aws_lambda_function") if f.body["function_name"] == "orders-enricher-dev"]
    del function.body["tags"]["Owner"]
    assert run_all(stack, taggable) == [
        "orders-ingest-dev: visibility timeout 179 s < 6 x orders-validator-dev timeout + window = 180 s",
        "provider aws: default_tags lack ['Owner']",
    ]
