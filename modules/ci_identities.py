"""The identities CI assumes: GitHub's OIDC provider, a plan role and a deploy role, trusting one repository.

The workflows (.github/workflows) assume the plan role for pull-request and drift plans and for the plan job
of every apply (GitHub environments ``plan-<env>``), and the deploy role for the apply job, behind the GitHub
environment ``<env>`` whose required reviewers approve it. Both trust only tokens that GitHub's OIDC provider
issued for ``sts.amazonaws.com`` to this one repository, for exactly the subjects listed (no wildcard):
https://docs.github.com/en/actions/reference/security/oidc (the ``sub`` claim's formats) and
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html#idp_oidc_Create_GitHub.

The plan role reads what the stacks' resources are (what ``terraform plan`` refreshes) and writes only the
state lock: the ``.tflock`` object beside each state object, the DynamoDB lock item, and the state key's use
for them. The deploy role may manage every resource type the stacks contain, each action scoped to the
project's names (``<project>-*``) where IAM has resource-level permissions, to tags or condition keys where it
has those, and to ``*`` only for the few actions IAM defines on no resource (:mod:`.resourceless_actions`);
it cannot delete the state bucket, the lock table or the state key, and cannot touch the CI roles (their
names are outside the function roles' pattern). No statement names an action with a wildcard.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from .ci_settings import GITHUB_OIDC_HOST, CiIdentitiesSettings
from .permissions import Condition, Statement
from .provider import aws_provider
from .queue_arn import partition
from .resourceless_actions import unnarrowed
from .settings import BackendSettings
from .tagging import component_tags

GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
#: The audience aws-actions/configure-aws-credentials asks GitHub for.
STS_AUDIENCE = "sts.amazonaws.com"
#: GitHub's published intermediate-certificate thumbprints. IAM no longer uses them for GitHub: "AWS secures
#: communication with OIDC identity providers (IdPs) using our library of trusted root certificate
#: authorities (CAs) ... These OIDC IdPs include Auth0, GitHub, GitLab, Google"
#: (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateOpenIDConnectProviderThumbprint.html), and
#: CreateOpenIDConnectProvider takes the list as optional now
#: (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html). Set anyway, so
#: that the plan shows no value computed by AWS and older providers, which required the list, accept it.
GITHUB_THUMBPRINTS = ("6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd")
#: The AWS account that publishes the Powertools for AWS Lambda layers
#: (https://docs.powertools.aws.dev/lambda/python/latest/#lambda-layer).
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
BOOTSTRAP_STATE_KEY_PREFIX = "state/"

@dataclass(frozen=True)
class Grant:
    """What one group of resource types needs: read actions (the plan) and write actions (the deploy), on ARN
    templates with ``{partition}``, ``{region}``, ``{account}`` and ``{project}``, with optional conditions
    (test, variable, values with the same placeholders) on the writes."""

    sid: str
    resource_types: tuple[str, ...]
    read: tuple[str, ...]
    write: tuple[str, ...]
    resources: tuple[str, ...]
    write_conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()


_LOG_GROUPS = ("arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/{project}-*",
               "arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/{project}-*:*")
_FUNCTIONS = ("arn:{partition}:lambda:{region}:{account}:function:{project}-*",
              "arn:{partition}:lambda:{region}:{account}:function:{project}-*:*")
_ESM = "arn:{partition}:lambda:{region}:{account}:event-source-mapping:*"
_KEYS = "arn:{partition}:kms:{region}:{account}:key/*"
_TAGGED = (("StringEquals", "aws:ResourceTag/Project", ("{project_tag}",)),)

#: Every resource type the stacks contain, with what reading and managing it needs.
GRANTS: tuple[Grant, ...] = (
    Grant("Queues", ("aws_sqs_queue", "aws_sqs_queue_redrive_policy"),
          read=("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"),
          write=("sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"),
          resources=("arn:{partition}:sqs:{region}:{account}:{project}-*",)),
    Grant("Functions", ("aws_lambda_function", "aws_lambda_alias", "aws_lambda_provisioned_concurrency_config"),
          read=("lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetFunctionCodeSigningConfig",
                "lambda:GetFunctionConcurrency", "lambda:GetRuntimeManagementConfig", "lambda:ListVersionsByFunction",
                "lambda:ListTags", "lambda:GetAlias", "lambda:GetProvisionedConcurrencyConfig"),
          write=("lambda:CreateFunction", "lambda:DeleteFunction", "lambda:UpdateFunctionCode",
                 "lambda:UpdateFunctionConfiguration", "lambda:PublishVersion", "lambda:PutFunctionConcurrency",
                 "lambda:DeleteFunctionConcurrency", "lambda:TagResource", "lambda:UntagResource",
                 "lambda:CreateAlias", "lambda:UpdateAlias", "lambda:DeleteAlias",
                 "lambda:PutProvisionedConcurrencyConfig", "lambda:DeleteProvisionedConcurrencyConfig"),
          resources=_FUNCTIONS),
    # Event source mappings have random ids: their changes are scoped by the function they invoke (Get and the
    # tag actions have no such condition key), and a new one, which has no ARN yet, only by that:
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html
    Grant("EventSourceMappings", ("aws_lambda_event_source_mapping",),
          read=("lambda:GetEventSourceMapping",),
          write=("lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"),
          resources=(_ESM,), write_conditions=(("ArnLike", "lambda:FunctionArn", _FUNCTIONS),)),
    Grant("NewEventSourceMappings", ("aws_lambda_event_source_mapping",),
          read=(), write=("lambda:CreateEventSourceMapping",),
          resources=("*",), write_conditions=(("ArnLike", "lambda:FunctionArn", _FUNCTIONS),)),
    Grant("EventSourceMappingTags", ("aws_lambda_event_source_mapping",),
          read=("lambda:ListTags",), write=("lambda:TagResource", "lambda:UntagResource"), resources=(_ESM,)),
    Grant("PowertoolsLayer", ("aws_lambda_function",), read=("lambda:GetLayerVersion",), write=(),
          resources=(f"arn:{{partition}}:lambda:{{region}}:{POWERTOOLS_LAYER_ACCOUNT}:layer:AWSLambdaPowertools*",)),
    Grant("PowertoolsLayerParameter", ("aws_lambda_function",), read=("ssm:GetParameter",), write=(),
          resources=("arn:{partition}:ssm:{region}::parameter/aws/service/powertools/*",)),
    # Gradual releases (modules/release.py, tools/release.py): the application, its deployment groups and an
    # environment's own deployment configuration, and what `python -m tools release` asks of CodeDeploy.
    # Resource types and actions: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodedeploy.html
    Grant("ReleaseApplications", ("aws_codedeploy_app",),
          read=("codedeploy:GetApplication", "codedeploy:ListTagsForResource", "codedeploy:GetApplicationRevision"),
          write=("codedeploy:CreateApplication", "codedeploy:DeleteApplication", "codedeploy:UpdateApplication",
                 "codedeploy:TagResource", "codedeploy:UntagResource", "codedeploy:RegisterApplicationRevision"),
          resources=("arn:{partition}:codedeploy:{region}:{account}:application:{project}-*",)),
    Grant("ReleaseGroups", ("aws_codedeploy_deployment_group",),
          read=("codedeploy:GetDeploymentGroup", "codedeploy:ListTagsForResource", "codedeploy:GetDeployment"),
          write=("codedeploy:CreateDeploymentGroup", "codedeploy:UpdateDeploymentGroup",
                 "codedeploy:DeleteDeploymentGroup", "codedeploy:TagResource", "codedeploy:UntagResource",
                 "codedeploy:CreateDeployment"),
          resources=("arn:{partition}:codedeploy:{region}:{account}:deploymentgroup:{project}-*/{project}-*",)),
    Grant("ReleaseConfigs", ("aws_codedeploy_deployment_config",),
          read=("codedeploy:GetDeploymentConfig",),
          write=("codedeploy:CreateDeploymentConfig", "codedeploy:DeleteDeploymentConfig"),
          resources=("arn:{partition}:codedeploy:{region}:{account}:deploymentconfig:{project}-*",)),
    # A deployment reads its configuration, AWS's predefined ones included (CodeDeployDefault.Lambda...).
    Grant("PredefinedReleaseConfigs", ("aws_codedeploy_deployment_group",),
          read=("codedeploy:GetDeploymentConfig",), write=(),
          resources=("arn:{partition}:codedeploy:{region}:{account}:deploymentconfig:CodeDeployDefault.Lambda*",)),
    Grant("PassReleaseRoles", ("aws_codedeploy_deployment_group",), read=(), write=("iam:PassRole",),
          resources=("arn:{partition}:iam::{account}:role/{project}-releases-*-role",),
          write_conditions=(("StringEquals", "iam:PassedToService", ("codedeploy.amazonaws.com",)),)),
    Grant("FunctionRoles", ("aws_iam_role", "aws_iam_role_policy"),
          read=("iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:GetRolePolicy",
                "iam:ListRoleTags", "iam:ListInstanceProfilesForRole"),
          write=("iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole",
                 "iam:UntagRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy"),
          resources=("arn:{partition}:iam::{account}:role/{project}-*-role",)),
    Grant("PassFunctionRoles", ("aws_lambda_function",), read=(), write=("iam:PassRole",),
          resources=("arn:{partition}:iam::{account}:role/{project}-*-role",),
          write_conditions=(("StringEquals", "iam:PassedToService", ("lambda.amazonaws.com",)),)),
    Grant("LogGroups", ("aws_cloudwatch_log_group",),
          read=("logs:ListTagsForResource", "logs:ListTagsLogGroup"),
          write=("logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
                 "logs:DeleteRetentionPolicy", "logs:AssociateKmsKey", "logs:DisassociateKmsKey",
                 "logs:TagResource", "logs:UntagResource", "logs:TagLogGroup", "logs:UntagLogGroup"),
          resources=_LOG_GROUPS),
    Grant("DescribeLogGroups", ("aws_cloudwatch_log_group",), read=("logs:DescribeLogGroups",), write=(),
          resources=("arn:{partition}:logs:{region}:{account}:log-group:*",)),
    # Target tracking makes its own alarms (TargetTracking-table/<table>-...) as the caller:
    # https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html
    Grant("Alarms", ("aws_cloudwatch_metric_alarm", "aws_appautoscaling_policy"),
          read=("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
          write=("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource",
                 "cloudwatch:UntagResource"),
          resources=("arn:{partition}:cloudwatch:{region}:{account}:alarm:{project}-*",
                     "arn:{partition}:cloudwatch:{region}:{account}:alarm:TargetTracking-table/{project}-*")),
    Grant("Dashboards", ("aws_cloudwatch_dashboard",), read=("cloudwatch:GetDashboard",),
          write=("cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"),
          resources=("arn:{partition}:cloudwatch::{account}:dashboard/{project}-*",)),
    Grant("AlarmTopic", ("aws_sns_topic", "aws_sns_topic_subscription"),
          read=("sns:GetTopicAttributes", "sns:ListTagsForResource", "sns:GetSubscriptionAttributes",
                "sns:ListSubscriptionsByTopic"),
          write=("sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:TagResource",
                 "sns:UntagResource", "sns:Subscribe", "sns:Unsubscribe", "sns:SetSubscriptionAttributes"),
          resources=("arn:{partition}:sns:{region}:{account}:{project}-*",)),
    # Keys have random ids: managed through the Project tag every key of the stacks carries.
    Grant("Keys", ("aws_kms_key", "aws_kms_alias"),
          read=("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"),
          write=("kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:UpdateKeyDescription", "kms:TagResource",
                 "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias",
                 "kms:UpdateAlias", "kms:CreateGrant", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"),
          resources=(_KEYS,), write_conditions=_TAGGED),
    Grant("KeyAliases", ("aws_kms_alias",), read=(),
          write=("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"),
          resources=("arn:{partition}:kms:{region}:{account}:alias/{project}-*",)),
    # A new key has no tags yet: its creation, tags included, is allowed when it asks for the Project tag
    # (https://docs.aws.amazon.com/kms/latest/developerguide/tag-permissions.html).
    Grant("NewKeys", ("aws_kms_key",), read=(), write=("kms:CreateKey",), resources=("*",),
          write_conditions=(("StringEquals", "aws:RequestTag/Project", ("{project_tag}",)),)),
    Grant("TagNewKeys", ("aws_kms_key",), read=(), write=("kms:TagResource",), resources=(_KEYS,),
          write_conditions=(("StringEquals", "aws:RequestTag/Project", ("{project_tag}",)),)),
    Grant("ListKeyAliases", ("aws_kms_alias",), read=("kms:ListAliases",), write=(), resources=("*",)),
    Grant("Tables", ("aws_dynamodb_table",),
          read=("dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive",
                "dynamodb:ListTagsOfResource"),
          write=("dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable",
                 "dynamodb:UpdateContinuousBackups", "dynamodb:TagResource", "dynamodb:UntagResource"),
          resources=("arn:{partition}:dynamodb:{region}:{account}:table/{project}-*",)),
    Grant("ScalableTargets", ("aws_appautoscaling_target", "aws_appautoscaling_policy"),
          read=("application-autoscaling:ListTagsForResource",),
          write=("application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
                 "application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy",
                 "application-autoscaling:TagResource", "application-autoscaling:UntagResource"),
          resources=("arn:{partition}:application-autoscaling:{region}:{account}:scalable-target/*",),
          write_conditions=(("StringEquals", "application-autoscaling:service-namespace", ("dynamodb",)),)),
    Grant("DescribeScaling", ("aws_appautoscaling_target", "aws_appautoscaling_policy"),
          read=("application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies"),
          write=(), resources=("*",)),
    Grant("AutoscalingServiceRole", ("aws_appautoscaling_target",), read=(), write=("iam:CreateServiceLinkedRole",),
          resources=("arn:{partition}:iam::{account}:role/aws-service-role/dynamodb.application-autoscaling."
                     "amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",),
          write_conditions=(("StringEquals", "iam:AWSServiceName",
                             ("dynamodb.application-autoscaling.amazonaws.com",)),)),
    Grant("StateBucket", ("aws_s3_bucket", "aws_s3_bucket_versioning",
                          "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_public_access_block",
                          "aws_s3_bucket_ownership_controls", "aws_s3_bucket_policy",
                          "aws_s3_bucket_lifecycle_configuration"),
          read=("s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketWebsite",
                "s3:GetBucketVersioning", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment",
                "s3:GetBucketLogging", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration",
                "s3:GetEncryptionConfiguration", "s3:GetBucketObjectLockConfiguration", "s3:GetBucketTagging",
                "s3:GetBucketPolicy", "s3:GetBucketOwnershipControls", "s3:GetBucketPublicAccessBlock"),
          write=("s3:CreateBucket", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration",
                 "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls", "s3:PutBucketPolicy",
                 "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration", "s3:PutBucketTagging"),
          resources=("arn:{partition}:s3:::{state_bucket}",)),
)
@dataclass(frozen=True)
class StateAccess:
    """Where the stacks' Terraform state is: the backend, and the state objects the roles may use."""

    backend: BackendSettings
    state_keys: Sequence[str]


def _lock_key(state_key: str) -> str:
    # S3 native locking writes the lock beside the state: <key>.tflock
    # (https://developer.hashicorp.com/terraform/language/backend/s3#state-locking).
    return f"{state_key}.tflock"


#: A customer managed policy holds at most 6,144 characters, whitespace not counted; a role's inline policies
#: only 10,240 together, less than the deploy role needs, so both roles get managed policies, filled up to
#: this size (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
MAX_POLICY_CHARS = 6144
#: A role takes 10 managed policies unless the account raised the quota.
MAX_POLICIES_PER_ROLE = 10
# The longest partition name: sizes are estimated before Terraform knows the partition.
_LONGEST_PARTITION = "aws-us-gov"


def iam_json(statements: Sequence[Statement], partition_token: str = "", partition_name: str = "aws") -> str:
    """The policy document as IAM stores it (compact), ``partition_token`` written as ``partition_name``."""
    def one(statement: Statement) -> dict[str, object]:
        rendered: dict[str, object] = {"Sid": statement.sid, "Effect": statement.effect,
                                       "Action": sorted(statement.actions), "Resource": list(statement.resources)}
        if statement.conditions:
            rendered["Condition"] = {c.test: {c.variable: list(c.values)} for c in statement.conditions}
        return rendered

    text = json.dumps({"Version": "2012-10-17", "Statement": [one(s) for s in statements]}, separators=(",", ":"))
    return text.replace(partition_token, partition_name) if partition_token else text


def policy_chunks(statements: Sequence[Statement], partition_token: str) -> Iterator[list[Statement]]:
    """``statements`` in order, in documents that fit a managed policy in any partition."""
    chunk: list[Statement] = []
    for statement in statements:
        if chunk and len(iam_json([*chunk, statement], partition_token, _LONGEST_PARTITION)) > MAX_POLICY_CHARS:
            yield chunk
            chunk = []
        chunk.append(statement)
    if chunk:
        yield chunk


def _statement(sid: str, actions: Sequence[str], resources: Sequence[str], *, effect: str = "Allow",
               conditions: Sequence[Condition] = ()) -> Statement:
    return Statement(sid, tuple(sorted(actions)), tuple(resources), effect=effect, conditions=tuple(conditions))


class CiIdentities(Construct):
    """GitHub's OIDC provider (unless the account has it), the plan role and the deploy role, with their policies.

    ``regions`` are the environments' regions, ``account_id`` their account; ``state`` is where their Terraform
    state lives (bucket, lock table, key alias) and which state objects CI may use.
    """

    def __init__(self, scope: Construct, id_: str, *, settings: CiIdentitiesSettings, account_id: str,
                 regions: Sequence[str], state: StateAccess) -> None:
        super().__init__(scope, id_)
        self.settings = settings
        #: Each role's statements (``plan``, ``deploy``), as data for checks before synthesis.
        self.statements: dict[str, tuple[Statement, ...]] = {}
        backend = state.backend
        values = {"partition": partition(self), "account": account_id, "project": settings.project,
                  "project_tag": settings.project_tag, "state_bucket": backend.bucket}
        self._values = values
        self._regions = sorted(set(regions))
        tags = {**settings.tags, **component_tags("ci")}
        if settings.oidc_provider_arn is None:
            self.oidc_provider = IamOpenidConnectProvider(
                self, "github-oidc-provider",
                url=GITHUB_OIDC_URL,
                client_id_list=[STS_AUDIENCE],
                thumbprint_list=list(GITHUB_THUMBPRINTS),
                tags=tags,
            )
            provider_arn = self.oidc_provider.arn
        else:
            self.oidc_provider = None
            provider_arn = settings.oidc_provider_arn

        bucket = f"arn:{values['partition']}:s3:::{backend.bucket}"
        lock_table = f"arn:{values['partition']}:dynamodb:{backend.region}:{account_id}:table/{backend.lock_table}"
        state_key = self._state_key_use(backend, account_id)
        state_objects = [f"{bucket}/{key}" for key in state.state_keys]
        lock_objects = [f"{bucket}/{_lock_key(key)}" for key in state.state_keys]
        locking = [
            _statement("ListStateBucket", ["s3:ListBucket"], [bucket]),
            _statement("ReadState", ["s3:GetObject"], state_objects),
            _statement("LockState", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], lock_objects),
            _statement("LockStateTable", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
                       [lock_table]),
            state_key,
        ]
        self.plan_role = self._role(
            "plan", settings.plan_role_name, provider_arn, settings.plan_subjects, tags,
            [*locking, *self._grants(write=False)],
            "CI plans (pull requests, drift, the plan job of an apply): reads the stacks, locks their state",
        )
        protect = [
            _statement("KeepTheStateHome", ["s3:DeleteBucket", "dynamodb:DeleteTable"], [bucket, lock_table],
                       effect="Deny"),
            _statement("KeepTheStateKey", ["kms:ScheduleKeyDeletion", "kms:DisableKey"],
                       [f"arn:{values['partition']}:kms:{backend.region}:{account_id}:key/*"], effect="Deny",
                       conditions=[Condition("ForAnyValue:StringEquals", "kms:ResourceAliases",
                                              [f"alias/{backend.kms_key_alias}"])]),
        ]
        self.deploy_role = self._role(
            "deploy", settings.deploy_role_name, provider_arn, settings.deploy_subjects, tags,
            [*locking, _statement("WriteState", ["s3:PutObject"], state_objects),
             *self._grants(write=True), *protect],
            "CI applies of reviewed plans, behind the GitHub environments' approvals",
        )

    def _state_key_use(self, backend: BackendSettings, account_id: str) -> Statement:
        """The state key, named by its alias (its id is the bootstrap stack's): what reading the state and
        writing the lock object need (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
        #conditions-kms-resource-aliases)."""
        return _statement(
            "UseStateKey", ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            [f"arn:{self._values['partition']}:kms:{backend.region}:{account_id}:key/*"],
            conditions=[Condition("ForAnyValue:StringEquals", "kms:ResourceAliases",
                                   [f"alias/{backend.kms_key_alias}"])],
        )

    def _expand(self, templates: Iterable[str]) -> list[str]:
        found: list[str] = []
        for template in templates:
            regions = self._regions if "{region}" in template else [""]
            for region in regions:
                arn = template.format(**self._values, region=region)
                if arn not in found:
                    found.append(arn)
        return found

    def _grants(self, *, write: bool) -> list[Statement]:
        statements = []
        for grant in GRANTS:
            resources = self._expand(grant.resources)
            if "*" in resources:
                narrowable, missing = unnarrowed({*grant.read, *grant.write},
                                                 {variable for _, variable, _ in grant.write_conditions})
                if narrowable or missing:
                    raise ValueError(f"grant {grant.sid} on \"*\": {narrowable or missing} would need a resource "
                                     "or a condition (modules/resourceless_actions.py)")
            if grant.read:
                statements.append(_statement(f"Read{grant.sid}", grant.read, resources))
            if write and grant.write:
                conditions = [Condition(test, variable, self._expand(values))
                              for test, variable, values in grant.write_conditions]
                statements.append(_statement(f"Manage{grant.sid}", grant.write, resources, conditions=conditions))
        return statements

    def _role(self, kind: str, name: str, provider_arn: str, subjects: Sequence[str], tags: Mapping[str, str],
              statements: list[Statement], description: str) -> IamRole:
        trust = DataAwsIamPolicyDocument(
            self, f"{kind}-trust-document",
            statement=[DataAwsIamPolicyDocumentStatement(
                sid="GitHubActionsOfThisRepository",
                effect="Allow",
                actions=["sts:AssumeRoleWithWebIdentity"],
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Federated",
                                                                        identifiers=[provider_arn])],
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="StringEquals", variable=f"{GITHUB_OIDC_HOST}:aud", values=[STS_AUDIENCE]),
                    # Exact subjects: no pattern can match another repository, branch or environment.
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="StringEquals", variable=f"{GITHUB_OIDC_HOST}:sub", values=list(subjects)),
                ],
            )],
        )
        role = IamRole(self, f"{kind}-role", name=name, description=description,
                       assume_role_policy=trust.json, max_session_duration=self.settings.max_session_s, tags=tags)
        chunks = list(policy_chunks(statements, self._values["partition"]))
        if len(chunks) > MAX_POLICIES_PER_ROLE:
            raise ValueError(f"the {name} role needs {len(chunks)} managed policies, more than IAM's default "
                             f"{MAX_POLICIES_PER_ROLE} per role: merge statements or raise the account's quota")
        for number, chunk in enumerate(chunks, start=1):
            document = DataAwsIamPolicyDocument(self, f"{kind}-policy-document-{number}",
                                                statement=[s.to_document_statement() for s in chunk])
            policy = IamPolicy(self, f"{kind}-policy-{number}", name=f"{name}-{number}", policy=document.json,
                               description=f"{description} ({number} of {len(chunks)})", tags=tags)
            IamRolePolicyAttachment(self, f"{kind}-policy-attachment-{number}", role=role.name,
                                    policy_arn=policy.arn)
        self.statements[kind] = tuple(statements)
        return role


class CiIdentitiesStack(TerraformStack):
    """The CI identities in a stack of their own, with their state in the shared state bucket.

    Applied by an administrator (a role that can create IAM roles), not by CI: the deploy role must not
    manage the roles it is made of. ``environments_regions`` are the regions of the environments CI deploys;
    ``state_keys`` the state objects CI may use (theirs and the bootstrap stack's).
    """

    def __init__(self, scope: Construct, id_: str, *, settings: CiIdentitiesSettings, state: BackendSettings,
                 state_keys: Sequence[str], regions: Sequence[str], tags: Mapping[str, str],
                 local_state_dir: Path | None = None) -> None:
        super().__init__(scope, id_)
        from .state_backend import s3_backend

        if local_state_dir is not None:  # the first apply, before the state bucket exists
            LocalBackend(self, path=str(local_state_dir / f"{id_}.tfstate"))
        else:
            s3_backend(self, state, f"{BOOTSTRAP_STATE_KEY_PREFIX}{id_}.tfstate")
        aws_provider(self, region=state.region, tags=tags, allowed_account_ids=[state.account_id])
        self.identities = CiIdentities(self, "ci", settings=settings, account_id=state.account_id, regions=regions,
                                       state=StateAccess(backend=state, state_keys=state_keys))
        TerraformOutput(self, "plan_role_arn", value=self.identities.plan_role.arn,
                        description="vars.AWS_PLAN_ROLE_ARN of the workflows")
        TerraformOutput(self, "deploy_role_arn", value=self.identities.deploy_role.arn,
                        description="vars.AWS_DEPLOY_ROLE_ARN of the workflows")
