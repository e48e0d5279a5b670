"""The AWS provider: default cost-allocation tags everywhere, and the emulator's endpoints for `local`."""

from __future__ import annotations

import keyword
from collections.abc import Mapping

from cdktf import TerraformStack, TerraformVariable
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints

# Every service the pipeline stacks touch; the emulator must answer for each.
EMULATED_SERVICES = (
    "applicationautoscaling", "cloudwatch", "dynamodb", "iam", "lambda", "logs", "s3", "sns", "sqs", "sts",
)
DEFAULT_EMULATOR_ENDPOINT = "http://127.0.0.1:5000"


def _python_name(service: str) -> str:
    return f"{service}_" if keyword.iskeyword(service) else service


def aws_provider(stack: TerraformStack, *, region: str, tags: Mapping[str, str], emulator: bool = False) -> AwsProvider:
    """An AWS provider whose default tags reach every taggable resource of the stack.

    On the emulator the endpoint is a Terraform variable (``emulator_endpoint``),
    so the synthesized stack does not change with the port the emulator got.
    """
    # cdktf writes the short source "aws"; spell out the registry address the mirror serves.
    stack.add_override("terraform.required_providers.aws.source", "hashicorp/aws")
    if not emulator:
        return AwsProvider(stack, "aws", region=region, default_tags=[AwsProviderDefaultTags(tags=dict(tags))])
    endpoint = TerraformVariable(
        stack, "emulator_endpoint",
        type="string",
        default=DEFAULT_EMULATOR_ENDPOINT,
        description="URL of the local AWS emulator (moto server)",
    ).string_value
    return AwsProvider(
        stack, "aws",
        region=region,
        default_tags=[AwsProviderDefaultTags(tags=dict(tags))],
        access_key="test",
        secret_key="test",  # noqa: S106 - the emulator's dummy credentials, not a secret
        skip_credentials_validation=True,
        skip_metadata_api_check="true",
        skip_requesting_account_id=True,
        s3_use_path_style=True,
        # jsii renames the Python keyword: the `lambda` endpoint is the `lambda_` argument.
        endpoints=[AwsProviderEndpoints(**{_python_name(s): endpoint for s in EMULATED_SERVICES})],
    )
