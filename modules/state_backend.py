"""Terraform state: the bootstrap stack that creates its home, and the backend every pipeline stack uses."""

from __future__ import annotations

from pathlib import Path

from cdktf import LocalBackend, S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from modules.permissions import deny_insecure_transport
from modules.provider import aws_provider
from modules.settings import BackendSettings, EnvironmentSettings
from modules.tagging import component_tags

BOOTSTRAP_STACK_NAME = "tap-pipeline-state"
NONCURRENT_VERSION_DAYS = 90


def state_key(settings: EnvironmentSettings) -> str:
    return f"{settings.suffix}/{settings.stack_name}.tfstate"


def configure_backend(stack: TerraformStack, settings: EnvironmentSettings, local_state_dir: Path) -> None:
    """S3 state with encryption, the DynamoDB lock table and S3 native locking; local disk on the emulator."""
    backend = settings.backend
    if backend.kind == "local":
        LocalBackend(stack, path=str(local_state_dir / f"{settings.stack_name}.tfstate"))
        return
    S3Backend(
        stack,
        bucket=backend.bucket,
        key=state_key(settings),
        region=backend.region,
        encrypt=True,
        dynamodb_table=backend.lock_table,
    )
    # cdktf 0.21's S3Backend has no use_lockfile, which Terraform 1.11 reads (and prefers to dynamodb_table):
    # https://developer.hashicorp.com/terraform/language/backend/s3#state-locking
    stack.add_override("terraform.backend.s3.use_lockfile", True)


class StateBootstrapStack(TerraformStack):
    """Creates the S3 bucket and DynamoDB lock table the pipeline stacks keep their state in.

    Runs once per account on a local backend (it cannot store its state in the
    bucket it creates).  The bucket is versioned, encrypted, closed to the
    public and to non-TLS requests, and expires old state versions after
    90 days; the lock table is on-demand with point-in-time recovery and
    deletion protection, so neither can be lost by accident.
    """

    def __init__(self, scope: Construct, id_: str, *, backend: BackendSettings, tags: dict[str, str],
                 local_state_dir: Path) -> None:
        super().__init__(scope, id_)
        LocalBackend(self, path=str(local_state_dir / f"{id_}.tfstate"))
        aws_provider(self, region=backend.region, tags=tags)
        component = component_tags("state")

        bucket = S3Bucket(self, "state-bucket", bucket=backend.bucket, tags=component)
        S3BucketVersioningA(
            self, "state-bucket-versioning",
            bucket=bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self, "state-bucket-encryption",
            bucket=bucket.id,
            rule=[S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=(
                    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms",
                    )
                ),
                bucket_key_enabled=True,
            )],
        )
        S3BucketPublicAccessBlock(
            self, "state-bucket-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self, "state-bucket-ownership",
            bucket=bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        tls_only = DataAwsIamPolicyDocument(
            self, "state-bucket-tls-only-document",
            statement=[deny_insecure_transport("DenyInsecureTransport", ["s3:*"], [bucket.arn, f"{bucket.arn}/*"])],
        )
        S3BucketPolicy(self, "state-bucket-tls-only-policy", bucket=bucket.id, policy=tls_only.json)
        S3BucketLifecycleConfiguration(
            self, "state-bucket-lifecycle",
            bucket=bucket.id,
            rule=[S3BucketLifecycleConfigurationRule(
                id="expire-old-state-versions",
                status="Enabled",
                # An empty filter applies the rule to every object.
                filter=[S3BucketLifecycleConfigurationRuleFilter()],
                noncurrent_version_expiration=[S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=NONCURRENT_VERSION_DAYS,
                )],
                abort_incomplete_multipart_upload=[S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=7,
                )],
            )],
        )
        lock_table = DynamodbTable(
            self, "lock-table",
            name=backend.lock_table,
            billing_mode="PAY_PER_REQUEST",
            hash_key="LockID",
            attribute=[DynamodbTableAttribute(name="LockID", type="S")],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True),
            deletion_protection_enabled=True,
            tags=component,
        )
        TerraformOutput(self, "state_bucket_name", value=bucket.bucket)
        TerraformOutput(self, "lock_table_name", value=lock_table.name)
