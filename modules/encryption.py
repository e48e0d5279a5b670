"""The environment's customer-managed KMS key and the key policy each AWS service that uses it needs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf import Fn
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from . import permissions
from .queue_arn import partition
from .tagging import component_tags
from .terraform_values import choose, is_expression

# What CloudWatch Logs needs to encrypt and read a log group's data with the key:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")
# What CloudWatch needs to publish an alarm to a topic encrypted with the key (AWS knowledge center
# "cloudwatch-configure-alarm-sns"; https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
# #compatibility-with-aws-services). The AWS-managed alias/aws/sns key cannot grant this (aws/aws-cdk#11121).
CLOUDWATCH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")
# What a function role needs to send to and receive from SSE-KMS queues and to use a table encrypted with
# the key: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html,
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html
FUNCTION_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


@dataclass(frozen=True)
class KeyProps:
    """The key's alias name, its account and region, its deletion window, and the log groups it encrypts.

    ``log_group_names`` empty, or ``logs_encrypted`` false: CloudWatch Logs gets no use of the key
    (``logs_encrypted`` may be a Terraform expression: the statement is then in the policy when it holds).
    """

    name: str
    account_id: str
    region: str
    deletion_window_days: int
    log_group_names: Sequence[str] = ()
    logs_encrypted: Any = True


def _policy_statements(props: KeyProps, partition_name: str) -> tuple[list[dict[str, object]], dict[str, object]]:
    """The statements every key policy has, and the one that lets CloudWatch Logs encrypt the log groups."""
    account = props.account_id
    always: list[dict[str, object]] = [
        {
            # Without it, IAM policies cannot grant use of the key and nobody can manage it
            # (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
            "Sid": "AccountAdministersTheKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition_name}:iam::{account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "CloudWatchAlarmsPublishToEncryptedTopic",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": list(CLOUDWATCH_KEY_ACTIONS),
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        },
    ]
    logs = {
        "Sid": "CloudWatchLogsEncryptsTheLogGroups",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{props.region}.amazonaws.com"},
        "Action": list(LOGS_KEY_ACTIONS),
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": [
            f"arn:{partition_name}:logs:{props.region}:{account}:log-group:{name}"
            for name in props.log_group_names
        ]}},
    }
    return always, logs


def key_policy(props: KeyProps, partition_name: str) -> dict[str, object]:
    """The key policy: the account administers the key through IAM; AWS services use it as they must.

    Written as JSON rather than an IAM policy document: in a key policy ``"Resource": "*"`` means this
    key only (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
    ``partition_name`` goes into every ARN (the provider's partition in a stack, so that the policy holds
    in aws-cn and aws-us-gov as the queue policies do).
    """
    always, logs = _policy_statements(props, partition_name)
    with_logs = bool(props.log_group_names) and props.logs_encrypted
    return {"Version": "2012-10-17", "Statement": [*always, logs] if with_logs else always}


def key_policy_json(props: KeyProps, partition_name: str) -> str:
    """:func:`key_policy` as JSON; when ``props.logs_encrypted`` is a Terraform expression, a ``jsonencode`` whose
    statement list holds the CloudWatch Logs statement when that expression is true."""
    if not (props.log_group_names and is_expression(props.logs_encrypted)):
        return json.dumps(key_policy(props, partition_name), sort_keys=True)
    always, logs = _policy_statements(props, partition_name)
    return Fn.jsonencode({"Version": "2012-10-17",
                          "Statement": Fn.concat([always, choose(props.logs_encrypted, [logs], [])])})


class PipelineKey(Construct):
    """One customer-managed KMS key per environment, with yearly rotation and the alias ``alias/<name>``.

    It always encrypts the alarm topic, which CloudWatch can publish to only with a key whose policy
    lets it (see :func:`key_policy`); the settings decide whether it also encrypts data at rest.
    """

    def __init__(self, scope: Construct, id_: str, *, props: KeyProps) -> None:
        super().__init__(scope, id_)
        self.key = KmsKey(
            self, "key",
            description=f"{props.name}: alarm topic and, where enabled, the pipeline's data at rest",
            enable_key_rotation=True,
            deletion_window_in_days=props.deletion_window_days,
            policy=key_policy_json(props, partition(self)),
            tags=component_tags("encryption"),
        )
        self.alias = KmsAlias(self, "alias", name=f"alias/{props.name}", target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        return self.key.arn

    def use_statement(self, sid: str, when: Any = True) -> permissions.Statement:
        """The grant a function role needs to read and write data this key encrypts: this key only (``when``: a
        Terraform expression under which it is granted)."""
        return permissions.Statement(sid, FUNCTION_KEY_ACTIONS, [self.key.arn], when=when)
