"""The module as an HCL team uses it: `terraform validate` of the complete example, offline plans that build
what the dev and prod stacks build, the values the stacks compute in Python computed by Terraform, and the
reviewed-plan path on the example's plan: its policies judged inside the module call, its cost priced as the
stacks' are, its changes named by construct."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.support.module_plans import ModulePlan
from tests.support.shared_provider import shared_providers
from tools.cost.config import read_stack
from tools.cost.model import estimate
from tools.cost.plan_values import pipeline_from_values
from tools.cost.prices import load_prices
from tools.cost.usage import load_usage
from tools.plans.policies import evaluate
from tools.plans.review import taggable_types
from tools.policy.checks import run_all
from tools.policy.stack_json import module_plan_stack

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_the_complete_example_validates(module_plans: dict[str, ModulePlan]) -> None:
    # Initialized from the provider mirror by the plan fixture.
    result = shared_providers().run_terraform(["validate", "-no-color"], module_plans["example"].root, check=False)
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
    assert record["blocking"] == [] and record["cost"]["estimated"] and record["cost"]["after_usd"] > 0, record
    # Every change is named by the construct it comes from in the module, none as gone from the code.
    assert "(not in the code any more)" not in result.stdout
    queue = "module.tap_pipeline.aws_sqs_queue.ingest-queue_CE7EB37C"
    assert f"+ {queue}  [terraform-aws-tap-pipeline/Default/ingest-queue/queue]" in result.stdout


def test_the_example_plans_policies_known_only_after_apply_are_reviewed_inside_the_module(
        module_plans: dict[str, ModulePlan]) -> None:
    plan = module_plans["example"].plan
    # Each role's policy waits for the queue, log group and table ARNs the plan creates; the topic's and the
    # roles' inline policies are left to AWS: all known only after apply, none blocks.
    unknown = sorted(c["address"].rsplit(".", 1)[0] for c in plan["resource_changes"]
                     if c["mode"] == "managed" and True in (c["change"]["after_unknown"].get(a) for a in
                                                            ("policy", "inline_policy", "assume_role_policy")))
    assert unknown == ["module.tap_pipeline.aws_iam_role"] * 3 + ["module.tap_pipeline.aws_iam_role_policy"] * 3 + [
        "module.tap_pipeline.aws_sns_topic"]
    assert evaluate(plan).deny == ()


def _policy_document(plan: dict, name: str) -> dict:
    """The planned values of the module's aws_iam_policy_document ``name`` (its construct id, before the hash)."""
    prefix = f"module.tap_pipeline.data.aws_iam_policy_document.{name}_"
    [source] = [c["change"]["after"] for c in plan["resource_changes"] if c["address"].startswith(prefix)]
    return source


def test_a_wildcard_planted_in_a_role_policy_inside_the_module_blocks(module_plans: dict[str, ModulePlan]) -> None:
    plan = copy.deepcopy(module_plans["example"].plan)
    statement = _policy_document(plan, "enricher_policy-document")["statement"][0]
    assert statement["sid"] == "ConsumeSourceQueue" and "sqs:*" not in statement["actions"]
    statement["actions"].append("sqs:*")
    [role_policy] = [c["address"] for c in plan["resource_changes"] if c["type"] == "aws_iam_role_policy"
                     and c["address"].startswith("module.tap_pipeline.aws_iam_role_policy.enricher_")]
    assert evaluate(plan).deny == (
        f"{role_policy}: statement ConsumeSourceQueue of policy allows the wildcard action sqs:*",)


def test_with_the_key_on_each_role_policy_is_judged_with_the_key_use_it_includes(
        module_plans: dict[str, ModulePlan]) -> None:
    # Prod's inputs turn customer managed encryption on: each role's document includes its key-use document
    # through source_policy_documents, on that condition; both reads wait for ARNs the plan creates.
    plan = copy.deepcopy(module_plans["prod"].plan)
    assert evaluate(plan).deny == ()
    statement = _policy_document(plan, "processor_policy-document-UseDataKey")["statement"][0]
    assert statement["actions"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    statement["actions"] = ["kms:*"]
    [role_policy] = [c["address"] for c in plan["resource_changes"] if c["type"] == "aws_iam_role_policy"
                     and c["address"].startswith("module.tap_pipeline.aws_iam_role_policy.processor_")]
    assert evaluate(plan).deny == (f"{role_policy}: statement UseDataKey of policy allows the wildcard action kms:*",)


def test_the_cost_of_the_module_plans_is_estimated_as_the_stacks_with_the_same_settings(
        module_plans: dict[str, ModulePlan], shipped_stacks: dict[str, dict]) -> None:
    # The example has dev's settings, the "prod" root prod's (warm processors, table autoscaling: resources the
    # module counts, linked by values known only after apply).
    usage, prices = load_usage(), load_prices()
    for root, stack in (("example", "dev"), ("prod", "prod")):
        plan = module_plans[root].plan
        planned = pipeline_from_values(plan["planned_values"], stack, plan["configuration"])
        synthesized = read_stack(shipped_stacks[stack], stack)
        assert planned == synthesized, root
        for events in usage.events_per_month:
            assert estimate(planned, usage, prices, events).lines == estimate(synthesized, usage, prices, events).lines


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
