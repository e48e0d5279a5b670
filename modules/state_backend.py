"""Terraform state: the bootstrap stack that creates its home, and the backend every pipeline stack uses."""

from __future__ import annotations

import json
from pathlib import Path

from cdktf import LocalBackend, S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
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

from .permissions import deny_insecure_transport
from .provider import aws_provider
from .queue_arn import partition
from .settings import BackendSettings, EnvironmentSettings, StateBootstrapSettings, environment_state_key
from .tagging import component_tags

BOOTSTRAP_STACK_NAME = "tap-pipeline-state"
NONCURRENT_VERSION_DAYS = 90
KEY_DELETION_WINDOW_DAYS = 30


def state_key(settings: EnvironmentSettings) -> str:
    return environment_state_key(settings.suffix)


def configure_backend(stack: TerraformStack, settings: EnvironmentSettings, local_state_dir: Path) -> None:
    """S3 state with encryption, the DynamoDB lock table and S3 native locking; local disk on the emulator."""
    backend = settings.backend
    if backend.kind == "local":
        LocalBackend(stack, path=str(local_state_dir / f"{settings.stack_name}.tfstate"))
        return
    s3_backend(stack, backend, state_key(settings))


def s3_backend(stack: TerraformStack, backend: BackendSettings, key: str) -> None:
    """State object ``key`` in the shared bucket, encrypted with the bootstrap stack's KMS key, locked."""
    S3Backend(
        stack,
        bucket=backend.bucket,
        key=key,
        region=backend.region,
        encrypt=True,
        # Without it, `encrypt` writes with SSE-S3 and overrides the bucket's KMS default:
        # https://developer.hashicorp.com/terraform/language/backend/s3#kms_key_id
        kms_key_id=backend.kms_key_arn,
        dynamodb_table=backend.lock_table,
    )
    # cdktf 0.21's S3Backend has no use_lockfile, which Terraform 1.11 reads (and prefers to dynamodb_table):
    # https://developer.hashicorp.com/terraform/language/backend/s3#state-locking
    stack.add_override("terraform.backend.s3.use_lockfile", True)


class StateBootstrapStack(TerraformStack):
    """Creates the S3 bucket and DynamoDB lock table the pipeline stacks keep their state in.

    Its first apply runs on a local backend (the bucket does not exist yet); then
    its state moves into the bucket (``own_state="s3"``, ``terraform init
    -migrate-state``, see docs/deploying.md).  The bucket is versioned, encrypted with
    the stack's own KMS key, closed to the public and to non-TLS requests, and
    expires old state versions after 90 days; the lock table is on-demand with
    point-in-time recovery and deletion protection.  Bucket, table and key
    carry ``prevent_destroy``, so no plan can delete them.
    """

    def __init__(self, scope: Construct, id_: str, *, state: StateBootstrapSettings, local_state_dir: Path) -> None:
        super().__init__(scope, id_)
        backend = state.backend
        if state.own_state == "local":
            LocalBackend(self, path=str(local_state_dir / f"{id_}.tfstate"))
        else:
            s3_backend(self, backend, f"state/{id_}.tfstate")
        aws_provider(self, region=backend.region, tags=state.tags, allowed_account_ids=[backend.account_id])
        component = component_tags("state")

        key = self._state_key(backend, component)
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
                        kms_master_key_id=key.arn,
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
        for resource in (key, bucket, lock_table):
            resource.add_override("lifecycle.prevent_destroy", True)
        TerraformOutput(self, "state_bucket_name", value=bucket.bucket)
        TerraformOutput(self, "lock_table_name", value=lock_table.name)

    def _state_key(self, backend: BackendSettings, tags: dict[str, str]) -> KmsKey:
        """The customer-managed key of the state, with AWS's default key policy written out.

        The default policy gives the account root every KMS action on this key, so that IAM policies
        in the account decide who uses it (a key policy's ``Resource: "*"`` is the key itself):
        https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
        """
        policy = {
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "EnableIamPoliciesOfTheAccount",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition(self)}:iam::{backend.account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }],
        }
        key = KmsKey(
            self, "state-key",
            description="Terraform state of the pipeline stacks (S3 objects)",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=json.dumps(policy),
            tags=tags,
        )
        KmsAlias(self, "state-key-alias", name=f"alias/{backend.kms_key_alias}", target_key_id=key.key_id)
        return key
