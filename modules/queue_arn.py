"""ARNs built from names and the provider's partition and region, for policies that must name a resource
without referencing it (a queue in its own policy) or that must hold in every partition (key policies)."""

from __future__ import annotations

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
from constructs import Construct

# One data source of each kind per stack, found again by these ids.
PARTITION_ID, REGION_ID = "aws-partition", "aws-region"


def _data_source(scope: Construct, id_: str, kind: type[DataAwsPartition] | type[DataAwsRegion]):
    """The stack's data source ``id_`` of ``kind``, made on first use (neither kind calls an AWS API)."""
    stack = TerraformStack.of(scope)
    found = stack.node.try_find_child(id_) or kind(stack, id_)
    if not isinstance(found, kind):
        raise TypeError(f"the stack's child {id_!r} must be the {kind.__name__} data source: rename the construct "
                        "that took this id")
    return found


def partition(scope: Construct) -> str:
    """The partition of the stack's provider (``aws``, ``aws-cn``, ``aws-us-gov``), for ARNs in any service."""
    return _data_source(scope, PARTITION_ID, DataAwsPartition).partition


def service_arn(scope: Construct, service: str, account_id: str, resource: str) -> str:
    """``arn:<partition>:<service>:<region>:<account_id>:<resource>`` in the stack of ``scope``.

    For a policy that must not wait for the resource it names: a data source that references a resource with
    pending changes is read only during the apply, so its policy would be unknown in every plan that changes
    the resource (CodeDeploy's service role, on every code change of a function).
    """
    region = _data_source(scope, REGION_ID, DataAwsRegion).name
    return f"arn:{partition(scope)}:{service}:{region}:{account_id}:{resource}"


def queue_arn(scope: Construct, name: str, account_id: str) -> str:
    """``arn:<partition>:sqs:<region>:<account_id>:<name>`` in the stack of ``scope`` (the SQS ARN format:
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html).

    A queue's own policy names the queue, and a dead-letter queue's redrive-allow policy names its source
    queue, which references the dead-letter queue: a reference in either would be a cycle.  Partition
    and region come from the provider's configuration (data sources that call no AWS API, so offline
    plans still work); the account is the environment's, which the provider's ``allowed_account_ids``
    enforces on AWS.
    """
    return service_arn(scope, "sqs", account_id, name)
