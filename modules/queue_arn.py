"""ARNs built from names and the provider's partition and region, for policies that must name a resource
without referencing it (a queue in its own policy) or that must hold in every partition (key policies)."""

from __future__ import annotations

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
from constructs import Construct

# One data source of each kind per stack, found again by these ids.
PARTITION_ID, REGION_ID = "aws-partition", "aws-region"


def _stack_data(scope: Construct) -> tuple[DataAwsPartition, DataAwsRegion]:
    """The stack's aws_partition and aws_region data sources, made on first use (neither calls an AWS API)."""
    stack = TerraformStack.of(scope)
    partition = stack.node.try_find_child(PARTITION_ID) or DataAwsPartition(stack, PARTITION_ID)
    region = stack.node.try_find_child(REGION_ID) or DataAwsRegion(stack, REGION_ID)
    if not isinstance(partition, DataAwsPartition) or not isinstance(region, DataAwsRegion):
        raise TypeError(f"the stack's children {PARTITION_ID!r} and {REGION_ID!r} must be the aws_partition and "
                        "aws_region data sources: rename the constructs that took these ids")
    return partition, region


def partition(scope: Construct) -> str:
    """The partition of the stack's provider (``aws``, ``aws-cn``, ``aws-us-gov``), for ARNs in any service."""
    return _stack_data(scope)[0].partition


def queue_arn(scope: Construct, name: str, account_id: str) -> str:
    """``arn:<partition>:sqs:<region>:<account_id>:<name>`` in the stack of ``scope`` (the SQS ARN format:
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html).

    A queue's own policy names the queue, and a dead-letter queue's redrive-allow policy names its source
    queue, which references the dead-letter queue: a reference in either would be a cycle.  Partition
    and region come from the provider's configuration (data sources that call no AWS API, so offline
    plans still work); the account is the environment's, which the provider's ``allowed_account_ids``
    enforces on AWS.
    """
    partition_source, region = _stack_data(scope)
    return f"arn:{partition_source.partition}:sqs:{region.name}:{account_id}:{name}"
