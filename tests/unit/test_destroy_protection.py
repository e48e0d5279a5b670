"""prevent_destroy on every resource that holds data in staging, prod and the bootstrap stack; none elsewhere."""

from __future__ import annotations

import pytest

from tests.conftest import PIPELINE_ENVIRONMENTS
from tools.policy.stack_json import StackJson

PROTECTED_ENVIRONMENTS = ("staging", "prod")


def protected(stack: StackJson) -> set[str]:
    return {r.address for r in stack.resources() if r.body.get("lifecycle", {}).get("prevent_destroy") is True}


def holding_data(stack: StackJson) -> set[str]:
    """The table, the rejects queue and every DLQ, found by their names (pinned here, not in the code)."""
    suffix = stack.name.removeprefix("tap-pipeline-")
    names = {f"tap-data-table-{suffix}", f"tap-rejects-{suffix}"}
    names |= {f"tap-{queue}-{suffix}-dlq" for queue in ("ingest", "enrich", "process")}
    return {r.address for r in stack.resources() if r.body.get("name") in names}


@pytest.mark.parametrize("env", PROTECTED_ENVIRONMENTS)
def test_staging_and_prod_protect_the_table_the_rejects_queue_and_every_dlq(pipeline_stacks: dict[str, StackJson],
                                                                           env: str) -> None:
    stack = pipeline_stacks[env]
    assert len(holding_data(stack)) == 5
    assert protected(stack) == holding_data(stack)


@pytest.mark.parametrize("env", [e for e in PIPELINE_ENVIRONMENTS if e not in PROTECTED_ENVIRONMENTS])
def test_dev_local_and_previews_can_be_destroyed(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    assert protected(pipeline_stacks[env]) == set()


def test_protected_resources_keep_their_other_lifecycle_settings(pipeline_stacks: dict[str, StackJson]) -> None:
    stack = pipeline_stacks["prod"]
    table = next(r for r in stack.resources("aws_dynamodb_table"))
    assert table.body["lifecycle"]["ignore_changes"] == ["read_capacity", "write_capacity"]


def test_bootstrap_stack_protects_bucket_lock_table_and_key(stacks: dict[str, StackJson]) -> None:
    state = stacks["tap-pipeline-state"]
    assert {a.split(".")[0] for a in protected(state)} == {"aws_s3_bucket", "aws_dynamodb_table", "aws_kms_key"}
