"""A team's own cdktf app with the pipeline in its own stack, beside its own provider, backend and outputs."""

from tap_pipeline.provider_bindings import load_provider_bindings

# Before anything imports the AWS provider bindings: the bindings' own root import loads all ~2,200 of their
# submodules (about 10 s); this loads the few the app uses, and falls back to the root import, with a
# one-line warning, if a release of the bindings no longer fits.
load_provider_bindings()

from cdktf import S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct
from tap_pipeline.app import PipelineApp
from tap_pipeline.pipeline import TapPipeline
from tap_pipeline.settings import EnvironmentSettings, MonitoringSettings

ACCOUNT_ID = "444455556666"
REGION = "eu-west-1"


class OrdersStack(TerraformStack):
    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_)
        S3Backend(self, bucket="acme-terraform-state", key="orders/dev.tfstate", region=REGION, encrypt=True)
        AwsProvider(self, "aws", region=REGION, allowed_account_ids=[ACCOUNT_ID])

        # Typed settings, checked when built; every field not given keeps the library's default.
        settings = EnvironmentSettings(
            name="dev", suffix="dev", project="orders", region=REGION, account_id=ACCOUNT_ID,
            tags={"Project": "orders", "Environment": "dev", "CostCenter": "cc-1234", "Owner": "team-orders",
                  "ManagedBy": "cdktf"},
            log_retention_days=14,
            monitoring=MonitoringSettings(alarm_email="orders-oncall@example.com"),
        )
        pipeline = TapPipeline(self, "pipeline", settings=settings)

        TerraformOutput(self, "ingest_queue_url", value=pipeline.ingest_queue_url)
        TerraformOutput(self, "table_arn", value=pipeline.table_arn)


# PipelineApp is cdktf's App that also writes versions.tf and removed.tf beside each stack.
app = PipelineApp()
OrdersStack(app, "orders-dev")
app.synth()
