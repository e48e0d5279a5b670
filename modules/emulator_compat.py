"""Every difference the local AWS emulator (moto's server) needs, in one Aspect applied to `local` only.

The constructs in this package build what AWS gets; the pipeline adds this
Aspect when its settings say it runs on the emulator.  cdktf
invokes Aspects at synthesis, before the stack is written, so the changes below
are the whole difference between `local` and any other environment (apart from
settings values such as names, retention and the missing Powertools layer).
"""

from __future__ import annotations

import jsii
from cdktf import IAspect, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.codedeploy_deployment_group import CodedeployDeploymentGroup
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import LambdaEventSourceMapping
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import IConstruct

#: What every Terraform run on the emulator gets in its environment, set to the emulator's URL: the AWS SDKs'
#: endpoint for every service (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), which
#: the AWS provider reads as it reads an ``endpoints`` block
#: (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/guides/custom-service-endpoints).
ENDPOINT_ENVIRONMENT_VARIABLE = "AWS_ENDPOINT_URL"

#: Each difference, with its reason; the tests compare `local` to `dev` against this list.
DIFFERENCES = {
    "provider": "dummy credentials (AWS refuses them: the stack cannot act on an account), no AWS account "
                "lookups, path-style S3; the emulator's URL is not in the stack but in every Terraform run's "
                "AWS_ENDPOINT_URL (the port changes from run to run, and the provider validates an endpoints "
                "block in each process it starts: about 2 CPU s each, docs/performance.md)",
    "aws_lambda_function.lifecycle": "ignore_changes on logging_config: the emulator does not store the "
                                     "block, so every plan would show a change and a new version",
    "aws_lambda_event_source_mapping.enabled": "false: the emulator would run enabled mappings itself, through "
                                               "Docker; the local runner (tools/local) delivers the batches",
    "aws_lambda_event_source_mapping.lifecycle": "ignore_changes on function_name: the emulator reports the "
                                                 "version ARN behind the alias instead of the alias ARN",
    "aws_sqs_queue.redrive_allow_policy": "left out: the emulator stores RedriveAllowPolicy but never returns "
                                          "it, so the provider would wait for it to read back until it gives up",
    "aws_codedeploy_deployment_group.lifecycle": "ignore_changes on alarm_configuration and load_balancer_info: "
                                                 "the emulator returns no alarms and an empty load balancer "
                                                 "block, and has no UpdateDeploymentGroup, so every later apply "
                                                 "would hang trying to put them right",
}


@jsii.implements(IAspect)
class EmulatorCompatibility:
    """Adapts pipeline resources to the emulator: see ``DIFFERENCES`` for what changes and why.

    Acts on every node below the scope it is added to: :class:`.pipeline.TapPipeline` adds it to itself
    (its resources), the repository's stacks to the stack (their resources and their provider). A user's
    own stack that deploys on the emulator adds it to the stack, or sets its provider's credentials itself,
    and runs Terraform with ``AWS_ENDPOINT_URL`` set to the emulator's URL (:data:`ENDPOINT_ENVIRONMENT_VARIABLE`).
    """

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, AwsProvider):
            self._point_at_emulator(node)
        elif isinstance(node, LambdaFunction):
            node.lifecycle = TerraformResourceLifecycle(ignore_changes=["logging_config"])
        elif isinstance(node, LambdaEventSourceMapping):
            node.enabled = False
            node.lifecycle = TerraformResourceLifecycle(ignore_changes=["function_name"])
        elif isinstance(node, SqsQueue):
            node.reset_redrive_allow_policy()
        elif isinstance(node, CodedeployDeploymentGroup):
            node.lifecycle = TerraformResourceLifecycle(ignore_changes=["alarm_configuration", "load_balancer_info"])

    @staticmethod
    def _point_at_emulator(provider: AwsProvider) -> None:
        provider.access_key = "test"
        provider.secret_key = "test"  # noqa: S105 - the emulator's dummy credentials, not a secret
        provider.skip_credentials_validation = True
        provider.skip_metadata_api_check = "true"
        provider.skip_requesting_account_id = True
        provider.s3_use_path_style = True
