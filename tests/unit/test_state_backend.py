"""The bootstrap stack and the S3 backend of every pipeline stack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modules.settings import SettingsError
from tests.conftest import PIPELINE_ENVIRONMENTS, TEST_ACCOUNT_ID
from tests.support.environments import FIXTURE, state_backend_settings
from tools.policy.stack_json import StackJson

S3_ENVIRONMENTS = [e for e in PIPELINE_ENVIRONMENTS if e != "local"]
# Pinned here from the account and region, not read from the module under test.
STATE_BUCKET = f"tap-pipeline-tfstate-{TEST_ACCOUNT_ID}-us-east-1"
STATE_KEY_ALIAS_ARN = f"arn:aws:kms:us-east-1:{TEST_ACCOUNT_ID}:alias/tap-pipeline-tfstate"


@pytest.fixture(scope="module")
def bootstrap(stacks: dict[str, StackJson]) -> StackJson:
    return stacks["tap-pipeline-state"]


def single(stack: StackJson, type_: str) -> dict:
    [resource] = stack.resources(type_)
    return resource.body


@pytest.mark.parametrize("env", S3_ENVIRONMENTS)
def test_pipeline_stack_keeps_state_in_s3_with_locking(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    backend = pipeline_stacks[env].document["terraform"]["backend"]["s3"]
    assert backend["key"] == f"{env}/tap-pipeline-{env}.tfstate"
    assert backend["encrypt"] is True
    assert backend["bucket"] == STATE_BUCKET
    # Without kms_key_id, `encrypt` writes SSE-S3 objects whatever the bucket's KMS default says.
    assert backend["kms_key_id"] == STATE_KEY_ALIAS_ARN
    assert backend["dynamodb_table"] == "tap-pipeline-terraform-locks"
    assert backend["use_lockfile"] is True
    assert backend["region"] == "us-east-1"


def test_local_stack_keeps_state_on_local_disk(pipeline_stacks: dict[str, StackJson]) -> None:
    backend = pipeline_stacks["local"].document["terraform"]["backend"]
    assert list(backend) == ["local"] and backend["local"]["path"].endswith("tap-pipeline-local.tfstate")


def test_bootstrap_stack_keeps_its_own_state_in_its_bucket_with_its_key(bootstrap: StackJson) -> None:
    backend = bootstrap.document["terraform"]["backend"]["s3"]
    assert backend["key"] == "state/tap-pipeline-state.tfstate"
    assert (backend["bucket"], backend["kms_key_id"]) == (STATE_BUCKET, STATE_KEY_ALIAS_ARN)
    assert backend["encrypt"] is True and backend["use_lockfile"] is True


def test_state_bucket_and_key_alias_are_the_ones_the_backends_name(bootstrap: StackJson) -> None:
    assert single(bootstrap, "aws_s3_bucket")["bucket"] == STATE_BUCKET
    assert single(bootstrap, "aws_kms_alias")["name"] == "alias/tap-pipeline-tfstate"


def test_state_key_rotates_and_lets_the_accounts_iam_policies_decide(bootstrap: StackJson) -> None:
    key = single(bootstrap, "aws_kms_key")
    assert key["enable_key_rotation"] is True and key["deletion_window_in_days"] == 30
    [statement] = json.loads(key["policy"])["Statement"]
    # The provider's partition, not a hard-coded `aws`: the same stack deploys to aws-cn and aws-us-gov.
    partition = "${data.aws_partition.aws-partition.partition}"
    assert statement["Principal"] == {"AWS": f"arn:{partition}:iam::{TEST_ACCOUNT_ID}:root"}


def test_bootstrap_stack_first_deploy_keeps_its_state_on_local_disk(tmp_path: Path) -> None:
    from main import build_app

    env = {"TAP_STACKS": "dev", "TAP_AWS_ACCOUNT_ID": TEST_ACCOUNT_ID, "TAP_BOOTSTRAP_STATE": "local"}
    build_app(outdir=str(tmp_path), env=env, environments=FIXTURE).synth()
    document = json.loads((tmp_path / "stacks" / "tap-pipeline-state" / "cdk.tf.json").read_text())
    backend = document["terraform"]["backend"]
    assert list(backend) == ["local"] and backend["local"]["path"].endswith("tap-pipeline-state.tfstate")


def test_an_unknown_bootstrap_state_is_rejected_naming_both_choices() -> None:
    with pytest.raises(SettingsError) as error:
        state_backend_settings({"TAP_AWS_ACCOUNT_ID": TEST_ACCOUNT_ID, "TAP_BOOTSTRAP_STATE": "bucket"})
    assert "TAP_BOOTSTRAP_STATE='bucket'" in str(error.value) and "'local'" in str(error.value)


def test_state_bucket_is_versioned(bootstrap: StackJson) -> None:
    assert single(bootstrap, "aws_s3_bucket_versioning")["versioning_configuration"] == {"status": "Enabled"}


def test_state_bucket_is_encrypted_with_kms(bootstrap: StackJson) -> None:
    [rule] = single(bootstrap, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    default = rule["apply_server_side_encryption_by_default"]
    assert default["sse_algorithm"] == "aws:kms"
    assert bootstrap.referenced(default["kms_master_key_id"]).address == bootstrap.resources("aws_kms_key")[0].address
    assert rule["bucket_key_enabled"] is True


def test_state_bucket_blocks_every_kind_of_public_access(bootstrap: StackJson) -> None:
    block = single(bootstrap, "aws_s3_bucket_public_access_block")
    flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    assert all(block[f] is True for f in flags), block


def test_state_bucket_denies_non_tls_requests(bootstrap: StackJson) -> None:
    document = bootstrap.referenced(single(bootstrap, "aws_s3_bucket_policy")["policy"])
    [statement] = document.body["statement"]
    assert statement["effect"] == "Deny"
    assert statement["condition"][0]["variable"] == "aws:SecureTransport"
    assert len(statement["resources"]) == 2, "the bucket and its objects"


def test_state_bucket_expires_old_versions(bootstrap: StackJson) -> None:
    [rule] = single(bootstrap, "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert rule["status"] == "Enabled"
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 90}]


def test_lock_table_is_keyed_on_lock_id_on_demand_and_protected(bootstrap: StackJson) -> None:
    table = single(bootstrap, "aws_dynamodb_table")
    assert (table["hash_key"], table["billing_mode"]) == ("LockID", "PAY_PER_REQUEST")
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["deletion_protection_enabled"] is True


def test_state_bucket_aborts_incomplete_uploads_for_every_object(bootstrap: StackJson) -> None:
    [rule] = single(bootstrap, "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]
    assert rule["filter"] == [{}], "an empty filter applies the rule to every object"


@pytest.mark.parametrize(("region", "partition"), [
    ("us-east-1", "aws"), ("eu-central-2", "aws"), ("cn-northwest-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
    ("us-iso-east-1", "aws-iso"), ("us-isob-east-1", "aws-iso-b"), ("eu-isoe-west-1", "aws-iso-e"),
])
def test_the_backends_key_arn_is_in_the_partition_of_the_states_region(region: str, partition: str) -> None:
    """A backend block cannot read aws_partition: the partition comes from the region (China, GovCloud, ...)."""
    from modules.settings import BackendSettings

    backend = BackendSettings(kind="s3", bucket="state-bucket", region=region, account_id=TEST_ACCOUNT_ID)
    assert backend.kms_key_arn == f"arn:{partition}:kms:{region}:{TEST_ACCOUNT_ID}:alias/tap-pipeline-tfstate"


def test_every_region_the_aws_sdks_know_maps_to_their_partition() -> None:
    """botocore's partition metadata as the oracle, over every region of its endpoint data."""
    import botocore.session

    from modules.settings import partition_of

    session = botocore.session.Session()
    regions = {r for p in session.get_available_partitions() for s in ("kms", "s3")
               for r in session.get_available_regions(s, partition_name=p)}
    assert len(regions) > 30 and {"cn-north-1", "us-gov-east-1"} <= regions
    assert {r: partition_of(r) for r in regions} == {r: session.get_partition_for_region(r) for r in regions}
