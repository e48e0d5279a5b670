"""The CI identities: GitHub's OIDC provider, the plan role and the deploy role, synthesized once.

The expected grants are written out here, per resource type, from what the AWS provider calls (and IAM's
Service Authorization Reference), never read from modules/ci_identities.py; the resource types come from the
session's synthesized stacks, so a new type without a grant fails ``test_the_deploy_role_covers_...``.
"""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from modules.settings import SettingsError
from tests.support.ci_stack import ACCOUNT, REPOSITORY, STACK
from tools.policy.stack_json import StackJson

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
PARTITION_TOKEN = "${data.aws_partition.aws-partition.partition}"
STATE_BUCKET = f"arn:aws:s3:::tap-pipeline-tfstate-{ACCOUNT}-{REGION}"
LOCK_TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tap-pipeline-terraform-locks"
STATE_KEYS = ("dev/tap-pipeline-dev.tfstate", "staging/tap-pipeline-staging.tfstate",
              "prod/tap-pipeline-prod.tfstate", "state/tap-pipeline-state.tfstate")
STATE_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-0000-1111-2222-333344445555"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tap-validator-prod"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:tap-pipeline-alarms-prod"
TARGET = f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/0123456789abcdef"
ESM = f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:6c3f0c54-0000-1111-2222-333344445555"
RELEASE_GROUP = f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:tap-releases-prod/tap-validator-prod"
DATA_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

# What managing each resource type needs (action, resource ARN), pinned here. Reads (Get, List, Describe)
# are what a plan refreshes: the plan role must have them too.
REQUIRED: dict[str, list[tuple[str, str]]] = {
    "aws_sqs_queue": [(a, f"arn:aws:sqs:{REGION}:{ACCOUNT}:tap-ingest-prod-dlq") for a in (
        "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue",
        "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags")],
    "aws_sqs_queue_redrive_policy": [(a, f"arn:aws:sqs:{REGION}:{ACCOUNT}:tap-ingest-prod") for a in (
        "sqs:SetQueueAttributes", "sqs:GetQueueAttributes")],
    "aws_lambda_function": [(a, FUNCTION) for a in (
        "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration", "lambda:PublishVersion", "lambda:PutFunctionConcurrency",
        "lambda:TagResource", "lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig",
        "lambda:ListVersionsByFunction", "lambda:ListTags")] + [
        ("iam:PassRole", ROLE + "tap-validator-prod-role"),
        ("lambda:GetLayerVersion",
         f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:18"),
        ("ssm:GetParameter", f"arn:aws:ssm:{REGION}::parameter/aws/service/powertools/python/arm64/python3.13/3.22.0"),
    ],
    "aws_lambda_alias": [(a, FUNCTION) for a in (
        "lambda:CreateAlias", "lambda:UpdateAlias", "lambda:DeleteAlias", "lambda:GetAlias")],
    "aws_lambda_event_source_mapping": [("lambda:CreateEventSourceMapping", "*")] + [(a, ESM) for a in (
        "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping", "lambda:TagResource",
        "lambda:GetEventSourceMapping", "lambda:ListTags")],
    "aws_lambda_provisioned_concurrency_config": [(a, f"{FUNCTION}:live") for a in (
        "lambda:PutProvisionedConcurrencyConfig", "lambda:DeleteProvisionedConcurrencyConfig",
        "lambda:GetProvisionedConcurrencyConfig")],
    "aws_codedeploy_app": [(a, f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:application:tap-releases-prod") for a in (
        "codedeploy:CreateApplication", "codedeploy:DeleteApplication", "codedeploy:TagResource",
        "codedeploy:UntagResource", "codedeploy:GetApplication", "codedeploy:ListTagsForResource",
        # python -m tools release
        "codedeploy:RegisterApplicationRevision", "codedeploy:GetApplicationRevision")],
    "aws_codedeploy_deployment_group": [(a, RELEASE_GROUP) for a in (
        "codedeploy:CreateDeploymentGroup", "codedeploy:UpdateDeploymentGroup", "codedeploy:DeleteDeploymentGroup",
        "codedeploy:TagResource", "codedeploy:GetDeploymentGroup", "codedeploy:ListTagsForResource",
        # python -m tools release
        "codedeploy:CreateDeployment", "codedeploy:GetDeployment")] + [
        ("iam:PassRole", ROLE + "tap-releases-prod-role"),
        ("codedeploy:GetDeploymentConfig",
         f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentconfig:CodeDeployDefault.LambdaCanary10Percent5Minutes"),
        ("lambda:UpdateAlias", FUNCTION), ("lambda:ListVersionsByFunction", FUNCTION),
        ("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:tap-validator-prod-errors")],
    "aws_codedeploy_deployment_config": [
        (a, f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentconfig:tap-releases-prod-linear-20pct-3min")
        for a in ("codedeploy:CreateDeploymentConfig", "codedeploy:DeleteDeploymentConfig",
                  "codedeploy:GetDeploymentConfig")],
    "aws_iam_role": [(a, ROLE + "tap-validator-prod-role") for a in (
        "iam:CreateRole", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole",
        "iam:ListInstanceProfilesForRole", "iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies")],
    "aws_iam_role_policy": [(a, ROLE + "tap-validator-prod-role") for a in (
        "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRolePolicy")],
    "aws_cloudwatch_log_group": [(a, f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/tap-validator-prod")
                                 for a in ("logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
                                           "logs:AssociateKmsKey", "logs:TagResource", "logs:ListTagsForResource")]
                                + [("logs:DescribeLogGroups", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*")],
    "aws_cloudwatch_metric_alarm": [(a, f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:tap-ingest-prod-dlq-arrivals")
                                    for a in ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms",
                                              "cloudwatch:TagResource", "cloudwatch:DescribeAlarms",
                                              "cloudwatch:ListTagsForResource")],
    "aws_cloudwatch_dashboard": [(a, f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/tap-pipeline-prod") for a in (
        "cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards", "cloudwatch:GetDashboard")],
    "aws_sns_topic": [(a, TOPIC) for a in (
        "sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:TagResource", "sns:GetTopicAttributes",
        "sns:ListTagsForResource")],
    "aws_sns_topic_subscription": [("sns:Subscribe", TOPIC)] + [(a, f"{TOPIC}:0f1e2d3c-0000-1111-2222-3333") for a in (
        "sns:Unsubscribe", "sns:GetSubscriptionAttributes")],
    "aws_kms_key": [("kms:CreateKey", "*")] + [(a, DATA_KEY) for a in (
        "kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:TagResource", "kms:ScheduleKeyDeletion",
        "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags")],
    "aws_kms_alias": [(a, f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/tap-pipeline-prod") for a in (
        "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias")] + [("kms:CreateAlias", DATA_KEY),
                                                                     ("kms:ListAliases", "*")],
    "aws_dynamodb_table": [(a, f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tap-data-table-prod") for a in (
        "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:UpdateContinuousBackups",
        "dynamodb:TagResource", "dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource")],
    "aws_appautoscaling_target": [(a, TARGET) for a in (
        "application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
        "application-autoscaling:TagResource", "application-autoscaling:ListTagsForResource")] + [
        ("application-autoscaling:DescribeScalableTargets", "*"),
        ("iam:CreateServiceLinkedRole", ROLE + "aws-service-role/dynamodb.application-autoscaling.amazonaws.com/"
                                               "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable")],
    "aws_appautoscaling_policy": [(a, TARGET) for a in (
        "application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy")] + [
        ("application-autoscaling:DescribeScalingPolicies", "*"),
        ("cloudwatch:PutMetricAlarm",
         f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:TargetTracking-table/tap-data-table-prod-AlarmHigh-0a1b")],
    "aws_s3_bucket": [(a, STATE_BUCKET) for a in (
        "s3:CreateBucket", "s3:PutBucketTagging", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketAcl",
        "s3:GetBucketCORS", "s3:GetBucketWebsite", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment",
        "s3:GetBucketLogging", "s3:GetReplicationConfiguration", "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketTagging")],
    "aws_s3_bucket_versioning": [(a, STATE_BUCKET) for a in ("s3:PutBucketVersioning", "s3:GetBucketVersioning")],
    "aws_s3_bucket_server_side_encryption_configuration": [(a, STATE_BUCKET) for a in (
        "s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration")],
    "aws_s3_bucket_public_access_block": [(a, STATE_BUCKET) for a in (
        "s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock")],
    "aws_s3_bucket_ownership_controls": [(a, STATE_BUCKET) for a in (
        "s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls")],
    "aws_s3_bucket_policy": [(a, STATE_BUCKET) for a in (
        "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:GetBucketPolicy")],
    "aws_s3_bucket_lifecycle_configuration": [(a, STATE_BUCKET) for a in (
        "s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration")],
}
READ_VERBS = ("Get", "List", "Describe")


def is_read(action: str) -> bool:
    return action.split(":", 1)[1].startswith(READ_VERBS)


@pytest.fixture(scope="module")
def ci(stacks: dict[str, StackJson]) -> StackJson:
    """The CI identities stack for dev, staging and prod, from the session's synthesis."""
    return stacks[STACK]


def role(stack: StackJson, kind: str) -> dict[str, Any]:
    [found] = [r.body for r in stack.resources("aws_iam_role") if r.body["name"] == f"tap-pipeline-ci-{kind}"]
    return found


def role_address(stack: StackJson, kind: str) -> str:
    [found] = [r.address for r in stack.resources("aws_iam_role") if r.body["name"] == f"tap-pipeline-ci-{kind}"]
    return found


def statements(stack: StackJson, kind: str) -> list[dict[str, Any]]:
    """Every statement of the managed policies attached to the role, with the partition written as `aws`."""
    found = []
    for attachment in stack.resources("aws_iam_role_policy_attachment"):
        if stack.referenced(attachment.body["role"]).address != role_address(stack, kind):
            continue
        policy = stack.referenced(attachment.body["policy_arn"])
        found += stack.referenced(policy.body["policy"]).body["statement"]
    return json.loads(json.dumps(found).replace(PARTITION_TOKEN, "aws"))


def trust(stack: StackJson, kind: str) -> dict[str, Any]:
    [statement] = stack.referenced(role(stack, kind)["assume_role_policy"]).body["statement"]
    return statement


def matches(patterns: list[str], value: str) -> bool:
    # IAM's wildcards: * any characters (':' and '/' included), ? one character.
    return any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)


def holds(condition: dict[str, Any], context: dict[str, list[str]]) -> bool:
    """A StringEquals (or ForAnyValue:StringEquals) condition against the request's context keys."""
    return bool(set(condition["values"]) & set(context.get(condition["variable"], [])))


def allowed(found: list[dict[str, Any]], action: str, resource: str,
            context: dict[str, list[str]] | None = None) -> bool:
    """Whether the statements allow ``action`` on ``resource``: an Allow matches (its conditions aside: tests check
    those apart) and no Deny matches whose conditions all hold in ``context``."""
    context = context or {}

    def hits(statement: dict[str, Any]) -> bool:
        return action in statement["actions"] and matches(statement["resources"], resource)

    return (any(hits(s) for s in found if s.get("effect", "Allow") == "Allow")
            and not any(hits(s) and all(holds(c, context) for c in s.get("condition", []))
                        for s in found if s.get("effect") == "Deny"))


# --- Trust ------------------------------------------------------------------------------------------------------

def test_github_oidc_provider_for_sts_with_githubs_thumbprints(ci: StackJson) -> None:
    [provider] = ci.resources("aws_iam_openid_connect_provider")
    assert provider.body["url"] == "https://token.actions.githubusercontent.com"
    assert provider.body["client_id_list"] == ["sts.amazonaws.com"]
    assert all(re.fullmatch(r"[0-9a-f]{40}", t) for t in provider.body["thumbprint_list"])


@pytest.mark.parametrize(("kind", "subjects"), [
    ("plan", ["repo:acme/tap-pipeline:pull_request", "repo:acme/tap-pipeline:environment:plan-dev",
              "repo:acme/tap-pipeline:environment:plan-staging", "repo:acme/tap-pipeline:environment:plan-prod"]),
    ("deploy", ["repo:acme/tap-pipeline:environment:dev", "repo:acme/tap-pipeline:environment:staging",
                "repo:acme/tap-pipeline:environment:prod"]),
])
def test_each_role_trusts_exactly_its_subjects_of_this_repository_for_sts(ci: StackJson, kind: str,
                                                                         subjects: list[str]) -> None:
    statement = trust(ci, kind)
    [provider] = ci.resources("aws_iam_openid_connect_provider")
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["principals"] == [{"type": "Federated", "identifiers": [f"${{{provider.address}.arn}}"]}]
    conditions = {c["variable"]: (c["test"], c["values"]) for c in statement["condition"]}
    assert conditions == {
        "token.actions.githubusercontent.com:aud": ("StringEquals", ["sts.amazonaws.com"]),
        "token.actions.githubusercontent.com:sub": ("StringEquals", subjects),
    }


def test_no_subject_pattern_can_match_another_repository(ci: StackJson) -> None:
    """StringEquals everywhere, and no value with an IAM wildcard: `repo:*` or `repo:acme/*` cannot appear."""
    for kind in ("plan", "deploy"):
        for condition in trust(ci, kind)["condition"]:
            assert condition["test"] == "StringEquals", kind
            assert not any(set(v) & set("*?") for v in condition["values"]), kind
            if condition["variable"].endswith(":sub"):
                assert all(v.startswith(f"repo:{REPOSITORY}:") for v in condition["values"]), kind


def test_the_deploy_role_is_not_assumable_from_a_pull_request_or_a_plan_environment(ci: StackJson) -> None:
    [sub] = [c["values"] for c in trust(ci, "deploy")["condition"] if c["variable"].endswith(":sub")]
    assert not [s for s in sub if s.endswith(":pull_request") or ":environment:plan-" in s]


def workflow_environments() -> dict[str, set[str]]:
    """The GitHub environments of the jobs that assume each role variable, matrix expanded."""
    found: dict[str, set[str]] = {}
    for path in sorted((PROJECT_ROOT / ".github" / "workflows").glob("*.yml")):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            variables = [s["with"]["role-to-assume"] for s in job["steps"] if "role-to-assume" in s.get("with", {})]
            for variable in variables:
                for env in job["strategy"]["matrix"]["env"]:
                    found.setdefault(variable, set()).add(job["environment"].replace("${{ matrix.env }}", env))
    return found


def test_the_roles_trust_every_environment_the_workflows_assume_them_in(ci: StackJson) -> None:
    used = workflow_environments()
    assert set(used) == {"${{ vars.AWS_PLAN_ROLE_ARN }}", "${{ vars.AWS_DEPLOY_ROLE_ARN }}"}
    for kind, variable in (("plan", "${{ vars.AWS_PLAN_ROLE_ARN }}"), ("deploy", "${{ vars.AWS_DEPLOY_ROLE_ARN }}")):
        [sub] = [c["values"] for c in trust(ci, kind)["condition"] if c["variable"].endswith(":sub")]
        assert {f"repo:{REPOSITORY}:environment:{e}" for e in used[variable]} <= set(sub), kind


def test_the_roles_are_the_workflows_variables(ci: StackJson) -> None:
    outputs = ci.outputs()
    assert ci.referenced(outputs["plan_role_arn"]["value"]).address == role_address(ci, "plan")
    assert ci.referenced(outputs["deploy_role_arn"]["value"]).address == role_address(ci, "deploy")


# --- The plan role ----------------------------------------------------------------------------------------------

def test_the_plan_role_writes_nothing_but_the_state_locks(ci: StackJson) -> None:
    """Every action that is not a read is one of the lock's, on the lock's objects, table and key only."""
    locks = {f"{STATE_BUCKET}/{key}.tflock" for key in STATE_KEYS}
    permitted = {"s3:PutObject": locks, "s3:DeleteObject": locks, "dynamodb:PutItem": {LOCK_TABLE},
                 "dynamodb:DeleteItem": {LOCK_TABLE}}
    key_use = {"kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"}
    for statement in statements(ci, "plan"):
        assert statement.get("effect", "Allow") == "Allow"
        for action in statement["actions"]:
            if is_read(action):
                continue
            if action in key_use:
                assert statement["condition"] == [{"test": "ForAnyValue:StringEquals",
                                                   "variable": "kms:ResourceAliases",
                                                   "values": ["alias/tap-pipeline-tfstate"]}], action
                continue
            assert action in permitted and set(statement["resources"]) <= permitted[action], (action, statement)


@pytest.mark.parametrize(("action", "resource"), [
    ("s3:ListBucket", STATE_BUCKET),
    *((a, f"{STATE_BUCKET}/{k}.tflock") for a in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
      for k in STATE_KEYS),
    *(("s3:GetObject", f"{STATE_BUCKET}/{k}") for k in STATE_KEYS),
    *((a, LOCK_TABLE) for a in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")),
    *((a, STATE_KEY) for a in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")),
])
def test_the_plan_role_can_read_the_state_and_take_both_locks(ci: StackJson, action: str, resource: str) -> None:
    assert allowed(statements(ci, "plan"), action, resource)


@pytest.mark.parametrize(("action", "resource"), [
    ("s3:PutObject", f"{STATE_BUCKET}/prod/tap-pipeline-prod.tfstate"),
    ("s3:GetObject", f"{STATE_BUCKET}/state/tap-pipeline-ci.tfstate"),
    ("s3:PutObject", f"{STATE_BUCKET}/other.tflock"),
    ("dynamodb:PutItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tap-data-table-prod"),
    ("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:tap-ingest-prod"),
    ("sqs:ReceiveMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:tap-ingest-prod-dlq"),
])
def test_the_plan_role_cannot_write_state_or_touch_data(ci: StackJson, action: str, resource: str) -> None:
    assert not allowed(statements(ci, "plan"), action, resource)


# --- The deploy role --------------------------------------------------------------------------------------------

def resource_types(stacks: dict[str, StackJson]) -> set[str]:
    """What CI deploys: every stack but the CI identities' own, which an administrator applies."""
    return {r.type for name, stack in stacks.items() if name.startswith("tap-pipeline-") and name != STACK
            for r in stack.resources()}


def test_the_deploy_role_covers_every_resource_type_the_stacks_contain(stacks: dict[str, StackJson],
                                                                      ci: StackJson) -> None:
    types = resource_types(stacks)
    assert {"aws_lambda_function", "aws_s3_bucket", "aws_appautoscaling_policy"} <= types, "pipeline and state"
    unknown = sorted(types - set(REQUIRED))
    assert unknown == [], (f"no grant pinned for {unknown}: add what managing them needs to GRANTS in "
                           "modules/ci_identities.py, and here")
    deploy = statements(ci, "deploy")
    missing = [(t, a, r) for t in sorted(types) for a, r in REQUIRED[t] if not allowed(deploy, a, r)]
    assert missing == []


def test_the_plan_role_can_refresh_every_resource_type_the_stacks_contain(stacks: dict[str, StackJson],
                                                                         ci: StackJson) -> None:
    plan = statements(ci, "plan")
    types = resource_types(stacks) & set(REQUIRED)
    missing = [(t, a, r) for t in sorted(types) for a, r in REQUIRED[t] if is_read(a) and not allowed(plan, a, r)]
    assert missing == []


@pytest.mark.parametrize(("action", "resource"), [
    ("sqs:DeleteQueue", f"arn:aws:sqs:{REGION}:{ACCOUNT}:payments-prod"),
    ("lambda:UpdateFunctionCode", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payments"),
    ("dynamodb:DeleteTable", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/payments"),
    ("iam:PutRolePolicy", ROLE + "tap-pipeline-ci-deploy"),
    ("iam:UpdateAssumeRolePolicy", ROLE + "tap-pipeline-ci-plan"),
    ("iam:PassRole", ROLE + "tap-pipeline-ci-deploy"),
    ("iam:PutRolePolicy", ROLE + "admin"),
    ("s3:DeleteBucket", STATE_BUCKET),
    ("dynamodb:DeleteTable", LOCK_TABLE),
    ("s3:GetObject", f"{STATE_BUCKET}/state/tap-pipeline-ci.tfstate"),
    ("s3:PutObject", "arn:aws:s3:::another-bucket/x"),
])
def test_the_deploy_role_reaches_nothing_outside_the_project(ci: StackJson, action: str, resource: str) -> None:
    assert not allowed(statements(ci, "deploy"), action, resource)


def test_the_deploy_role_writes_every_state_object(ci: StackJson) -> None:
    deploy = statements(ci, "deploy")
    assert all(allowed(deploy, "s3:PutObject", f"{STATE_BUCKET}/{key}") for key in STATE_KEYS)


def test_the_state_key_cannot_be_deleted_or_disabled_by_the_deploy_role(ci: StackJson) -> None:
    deploy = statements(ci, "deploy")
    [deny] = [s for s in deploy if s["sid"] == "KeepTheStateKey"]
    assert (deny["effect"], deny["actions"]) == ("Deny", ["kms:DisableKey", "kms:ScheduleKeyDeletion"])
    assert deny["condition"] == [{"test": "ForAnyValue:StringEquals", "variable": "kms:ResourceAliases",
                                  "values": ["alias/tap-pipeline-tfstate"]}]
    state_key = {"kms:ResourceAliases": ["alias/tap-pipeline-tfstate"], "aws:ResourceTag/Project": ["tap-pipeline"]}
    data_key = {"kms:ResourceAliases": ["alias/tap-pipeline-prod"], "aws:ResourceTag/Project": ["tap-pipeline"]}
    assert not allowed(deploy, "kms:ScheduleKeyDeletion", STATE_KEY, state_key)
    assert allowed(deploy, "kms:ScheduleKeyDeletion", DATA_KEY, data_key)


def conditions_of(found: list[dict[str, Any]], action: str) -> list[list[dict[str, Any]]]:
    return [s.get("condition", []) for s in found if action in s["actions"] and s.get("effect", "Allow") == "Allow"]


def test_roles_are_passed_to_lambda_and_codedeploy_only_each_its_own(ci: StackJson) -> None:
    passing = {s["condition"][0]["values"][0]: s["resources"] for s in statements(ci, "deploy")
               if "iam:PassRole" in s["actions"]}
    assert conditions_of(statements(ci, "deploy"), "iam:PassRole") == [
        [{"test": "StringEquals", "variable": "iam:PassedToService", "values": [service]}] for service in passing]
    assert passing == {"lambda.amazonaws.com": [ROLE + "tap-*-role"],
                       "codedeploy.amazonaws.com": [ROLE + "tap-releases-*-role"]}


def test_event_source_mappings_are_changed_only_for_the_projects_functions(ci: StackJson) -> None:
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tap-*"
    functions = [function, f"{function}:*"]
    for action in ("lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping",
                   "lambda:DeleteEventSourceMapping"):
        assert conditions_of(statements(ci, "deploy"), action) == [
            [{"test": "ArnLike", "variable": "lambda:FunctionArn", "values": functions}]], action


def test_keys_are_created_and_managed_only_with_the_projects_tag(ci: StackJson) -> None:
    deploy = statements(ci, "deploy")
    assert conditions_of(deploy, "kms:CreateKey") == [
        [{"test": "StringEquals", "variable": "aws:RequestTag/Project", "values": ["tap-pipeline"]}]]
    tagged = [{"test": "StringEquals", "variable": "aws:ResourceTag/Project", "values": ["tap-pipeline"]}]
    for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CreateGrant"):
        assert conditions_of(deploy, action) == [tagged], action
    # The state key's use (by alias) and the stacks' keys' (by tag), never an unconditioned use.
    assert sorted(conditions_of(deploy, "kms:Decrypt"), key=str) == sorted([tagged, [
        {"test": "ForAnyValue:StringEquals", "variable": "kms:ResourceAliases",
         "values": ["alias/tap-pipeline-tfstate"]}]], key=str)


def test_scalable_targets_are_dynamodbs_only(ci: StackJson) -> None:
    assert conditions_of(statements(ci, "deploy"), "application-autoscaling:RegisterScalableTarget") == [
        [{"test": "StringEquals", "variable": "application-autoscaling:service-namespace", "values": ["dynamodb"]}]]


# --- Both roles -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["plan", "deploy"])
def test_no_action_has_a_wildcard(ci: StackJson, kind: str) -> None:
    assert [a for s in statements(ci, kind) for a in s["actions"] if "*" in a or "?" in a] == []


@pytest.mark.parametrize("kind", ["plan", "deploy"])
def test_a_star_resource_only_for_actions_iam_defines_on_no_resource(ci: StackJson, kind: str) -> None:
    """Pinned from the Service Authorization Reference; every write among them carries a condition."""
    unscoped = {"lambda:CreateEventSourceMapping", "kms:CreateKey", "kms:ListAliases",
                "application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies"}
    for statement in statements(ci, kind):
        if "*" in statement["resources"]:
            assert statement["resources"] == ["*"] and set(statement["actions"]) <= unscoped, statement["sid"]
            assert all(is_read(a) for a in statement["actions"]) or statement.get("condition"), statement["sid"]


@pytest.mark.parametrize("kind", ["plan", "deploy"])
def test_every_policy_fits_a_managed_policy_in_the_longest_partition(ci: StackJson, kind: str) -> None:
    """IAM counts a managed policy's characters without whitespace: at most 6,144; a role takes 10."""
    attached = [a for a in ci.resources("aws_iam_role_policy_attachment")
                if ci.referenced(a.body["role"]).address == role_address(ci, kind)]
    assert 1 <= len(attached) <= 10
    for attachment in attached:
        document = ci.referenced(ci.referenced(attachment.body["policy_arn"]).body["policy"]).body
        rendered = [{"Sid": s["sid"], "Effect": s.get("effect", "Allow"), "Action": s["actions"],
                     "Resource": s["resources"],
                     **({"Condition": {c["test"]: {c["variable"]: c["values"]} for c in s["condition"]}}
                        if s.get("condition") else {})} for s in document["statement"]]
        text = json.dumps({"Version": "2012-10-17", "Statement": rendered}, separators=(",", ":"))
        assert len(text.replace(PARTITION_TOKEN, "aws-us-gov")) <= 6144


def test_the_roles_carry_the_ci_component_tag(ci: StackJson) -> None:
    assert role(ci, "plan")["tags"]["Component"] == role(ci, "deploy")["tags"]["Component"] == "ci"


# --- Settings -------------------------------------------------------------------------------------------------

def settings(**overrides: Any):
    from modules.ci_settings import CiIdentitiesSettings

    return CiIdentitiesSettings(**{"repository": REPOSITORY, **overrides})


@pytest.mark.parametrize("repository", ["acme/tap-pipeline", "a/b", "A-1/x.y_z", f"{'o' * 39}/r", f"o/{'r' * 100}"])
def test_repository_names_github_allows_are_accepted(repository: str) -> None:
    assert settings(repository=repository).repository == repository


@pytest.mark.parametrize("repository", [
    "acme", "acme/", "/repo", "-acme/x", "acme-/x", "ac--me/x", f"{'o' * 40}/r", f"o/{'r' * 101}", "acme/..",
    "acme/*", "*/x", "acme/tap:x", "acme/tap/x", "acme/ta p",
])
def test_a_repository_github_would_not_name_is_refused(repository: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(f"ci.repository={repository!r} is invalid: allowed owner/name")):
        settings(repository=repository)


@pytest.mark.parametrize("name", ["tap-ci-role", "tap-x-role"])
def test_a_role_name_the_deploy_role_could_manage_is_refused(name: str) -> None:
    with pytest.raises(SettingsError, match="allowed a name outside tap-\\*-role"):
        settings(deploy_role_name=name)


@pytest.mark.parametrize("name", ["", "with space", "x" * 65])
def test_a_role_name_iam_refuses_is_refused(name: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(f"ci.plan_role_name={name!r} is invalid: allowed an IAM role")):
        settings(plan_role_name=name)


def test_a_64_character_role_name_is_accepted() -> None:
    assert settings(plan_role_name="p" * 64).plan_role_name == "p" * 64


def test_one_name_for_both_roles_is_refused() -> None:
    with pytest.raises(SettingsError, match="allowed a name other than the plan role's"):
        settings(deploy_role_name="tap-pipeline-ci-plan")


@pytest.mark.parametrize("environments", [(), ("prod:x",), ("prod*",), ("pr?d",), ("x" * 256,)])
def test_deploy_environments_must_be_exact_github_names(environments: tuple[str, ...]) -> None:
    with pytest.raises(SettingsError, match="ci.deploy_environments=.* is invalid: allowed one or more GitHub"):
        settings(deploy_environments=environments)


def test_an_environment_both_roles_trust_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"but \['prod'\] are both"):
        settings(plan_environments=("plan-dev", "prod"))


@pytest.mark.parametrize(("seconds", "valid"), [(3599, False), (3600, True), (43200, True), (43201, False)])
def test_session_duration_within_iams_bounds(seconds: int, valid: bool) -> None:
    if valid:
        assert settings(max_session_s=seconds).max_session_s == seconds
    else:
        with pytest.raises(SettingsError, match="allowed 3600..43200"):
            settings(max_session_s=seconds)


@pytest.mark.parametrize(("arn", "valid"), [
    (f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com", True),
    (f"arn:aws-us-gov:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com", True),
    (f"arn:aws:iam::{ACCOUNT}:oidc-provider/gitlab.com", False),
    ("token.actions.githubusercontent.com", False),
])
def test_an_existing_provider_is_named_by_its_arn(arn: str, valid: bool) -> None:
    if valid:
        assert settings(oidc_provider_arn=arn).oidc_provider_arn == arn
    else:
        with pytest.raises(SettingsError, match="ci.oidc_provider_arn=.* is invalid"):
            settings(oidc_provider_arn=arn)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        settings(repository="nope", max_session_s=1, deploy_environments=())
    assert [p.split("=")[0] for p in raised.value.problems] == [
        "ci.repository", "ci.deploy_environments", "ci.max_session_s"]


def test_without_pull_requests_the_plan_role_trusts_only_its_environments() -> None:
    assert settings(plan_pull_requests=False).plan_subjects == (
        "repo:acme/tap-pipeline:environment:plan-dev", "repo:acme/tap-pipeline:environment:plan-staging",
        "repo:acme/tap-pipeline:environment:plan-prod")


def test_an_existing_provider_is_trusted_and_none_is_created(tmp_path: Path) -> None:
    from modules.ci_identities import CiIdentities, StateAccess
    from modules.settings import BackendSettings
    from tests.support.synth import synth_scope

    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    backend = BackendSettings(kind="s3", bucket="b-bucket", account_id=ACCOUNT)
    stack = synth_scope(lambda scope: CiIdentities(
        scope, "ci", settings=settings(oidc_provider_arn=arn), account_id=ACCOUNT, regions=[REGION],
        state=StateAccess(backend=backend, state_keys=["dev/x.tfstate"])))
    assert stack.resources("aws_iam_openid_connect_provider") == []
    assert trust(stack, "plan")["principals"] == [{"type": "Federated", "identifiers": [arn]}]
