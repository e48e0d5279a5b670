"""The DynamoDB table the processor writes records to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from constructs import Construct

from .monitoring import AlarmProps, AlarmSpec, metric_alarm
from .settings import AutoscalingSettings, BillingMode
from .table_keys import HASH_KEY, RANGE_KEY
from .tagging import component_tags
from .terraform_values import choose, equals, instances

_DIMENSIONS = {
    "read": ("dynamodb:table:ReadCapacityUnits", "DynamoDBReadCapacityUtilization"),
    "write": ("dynamodb:table:WriteCapacityUnits", "DynamoDBWriteCapacityUtilization"),
}


@dataclass(frozen=True)
class TableProps:
    """The table's name, capacity mode with its autoscaling bounds, and protections."""

    name: str
    billing_mode: BillingMode
    read_autoscaling: AutoscalingSettings
    write_autoscaling: AutoscalingSettings
    deletion_protection: bool
    point_in_time_recovery: bool
    # None: DynamoDB's AWS-owned key.
    kms_key_arn: str | None = None


class DataTable(Construct):
    """The records table, keyed by ``id`` (string) and ``timestamp`` (number), as in the draft.

    On-demand by default, which costs nothing idle.  In provisioned mode it gets
    target-tracking autoscaling of reads and writes, and Terraform ignores the
    capacities so that it never fights the autoscaler; the billing mode is
    updated in place, so switching modes never replaces the table.
    Point-in-time recovery and encryption are always on (with ``props.kms_key_arn`` when given); deletion protection is
    on wherever the settings keep it (staging and prod).
    """

    def __init__(self, scope: Construct, id_: str, *, props: TableProps, alarms: AlarmProps) -> None:
        super().__init__(scope, id_)
        provisioned = equals(props.billing_mode, BillingMode.PROVISIONED.value)
        self.name = props.name
        self.table = DynamodbTable(
            self, "table",
            name=self.name,
            billing_mode=str(props.billing_mode),  # a BillingMode, or a Terraform expression
            hash_key=HASH_KEY.name,
            range_key=RANGE_KEY.name,
            attribute=[
                DynamodbTableAttribute(name=HASH_KEY.name, type=HASH_KEY.type),
                DynamodbTableAttribute(name=RANGE_KEY.name, type=RANGE_KEY.type),
            ],
            read_capacity=choose(provisioned, props.read_autoscaling.min_capacity, None),
            write_capacity=choose(provisioned, props.write_autoscaling.min_capacity, None),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=props.point_in_time_recovery),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=props.kms_key_arn),
            deletion_protection_enabled=props.deletion_protection,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["read_capacity", "write_capacity"]),
            tags=component_tags("table"),
        )
        autoscaled, count = instances(provisioned)
        if autoscaled:
            self._autoscale("read", props.read_autoscaling, count)
            self._autoscale("write", props.write_autoscaling, count)
        for kind in ("Read", "Write"):
            metric_alarm(
                self, f"{kind.lower()}-throttle-alarm",
                AlarmSpec(
                    name=f"{self.name}-{kind.lower()}-throttles",
                    description=f"{self.name} throttled {kind.lower()} requests: raise capacity or its "
                                "autoscaling maximum.",
                    runbook_entry=f"table-{kind.lower()}-throttles",
                    namespace="AWS/DynamoDB",
                    metric=f"{kind}ThrottleEvents",
                    dimensions={"TableName": self.name},
                    threshold=0,
                ),
                alarms=alarms, component="table",
            )

    def _autoscale(self, kind: str, bounds: AutoscalingSettings, count: Any = None) -> None:
        """Target tracking of one capacity dimension; with ``count`` (a Terraform expression) both resources
        exist only where it is 1."""
        dimension, metric = _DIMENSIONS[kind]
        target = AppautoscalingTarget(
            self, f"{kind}-target",
            service_namespace="dynamodb",
            resource_id=f"table/{self.name}",
            scalable_dimension=dimension,
            min_capacity=bounds.min_capacity,
            max_capacity=bounds.max_capacity,
            depends_on=[self.table],
            tags=component_tags("table"),
            count=count,
        )
        # The policy names the target's attributes, which orders it after the target; a counted target has no
        # single instance to name, so the policy repeats the values and waits for the target explicitly.
        counted = count is not None
        AppautoscalingPolicy(
            self, f"{kind}-policy",
            name=f"{self.name}-{kind}-utilization",
            policy_type="TargetTrackingScaling",
            service_namespace="dynamodb" if counted else target.service_namespace,
            resource_id=f"table/{self.name}" if counted else target.resource_id,
            scalable_dimension=dimension if counted else target.scalable_dimension,
            depends_on=[target] if counted else None,
            count=count,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=bounds.target_utilization,
                predefined_metric_specification=(
                    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                        predefined_metric_type=metric,
                    )
                ),
            ),
        )

    @property
    def arn(self) -> str:
        return self.table.arn
