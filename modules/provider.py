"""The AWS provider, with default cost-allocation tags on every taggable resource."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags


def aws_provider(stack: TerraformStack, *, region: str, tags: Mapping[str, str],
                 allowed_account_ids: Sequence[str] | None = None) -> AwsProvider:
    """An AWS provider whose default tags reach every taggable resource of the stack.

    With ``allowed_account_ids`` Terraform refuses to plan or apply with credentials of any other account.
    """
    # cdktf writes the short source "aws"; spell out the registry address the mirror serves.
    stack.add_override("terraform.required_providers.aws.source", "hashicorp/aws")
    return AwsProvider(stack, "aws", region=region, default_tags=[AwsProviderDefaultTags(tags=dict(tags))],
                       allowed_account_ids=list(allowed_account_ids) if allowed_account_ids else None)
