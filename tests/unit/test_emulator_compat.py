"""The `local` stack differs from what AWS gets only by what EmulatorCompatibility lists."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cdktf import Testing as CdktfTesting

from modules.emulator_compat import DIFFERENCES
from modules.pipeline_stack import PipelineStack
from tests.conftest import PIPELINE_ENVIRONMENTS
from tests.support.environments import load_environment
from tools.policy.stack_json import StackJson

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Written out here rather than read from the Aspect, so that a change to it must change this test too.
PROVIDER_ADDITIONS = {"access_key", "secret_key", "skip_credentials_validation", "skip_metadata_api_check",
                      "skip_requesting_account_id", "s3_use_path_style"}


@pytest.fixture(scope="module")
def without_aspect(tmp_path_factory: pytest.TempPathFactory) -> StackJson:
    """`local`'s settings built as for AWS: the same constructs, no EmulatorCompatibility."""
    settings = replace(load_environment("local"), emulator=False)
    app = CdktfTesting.app()
    stack = PipelineStack(app, settings.stack_name, settings=settings,
                          local_state_dir=tmp_path_factory.mktemp("state"))
    return StackJson(settings.stack_name, Path("."), json.loads(CdktfTesting.synth(stack)))


def resource_bodies(stack: StackJson) -> dict[str, dict[str, Any]]:
    return {r.address: {k: v for k, v in r.body.items() if k != "//"} for r in stack.resources()}


def test_the_aspect_gives_the_provider_dummy_credentials_and_no_endpoint(
        pipeline_stacks: dict[str, StackJson], without_aspect: StackJson) -> None:
    [local] = pipeline_stacks["local"].document["provider"]["aws"]
    [plain] = without_aspect.document["provider"]["aws"]
    assert {k: v for k, v in local.items() if k not in PROVIDER_ADDITIONS} == plain
    assert set(local) - set(plain) == PROVIDER_ADDITIONS
    assert (local["access_key"], local["secret_key"]) == ("test", "test")
    # The emulator's URL comes with each Terraform run (AWS_ENDPOINT_URL): an endpoints block would cost every
    # provider process about 2 CPU s to validate.
    assert "endpoints" not in local and "variable" not in pipeline_stacks["local"].document


def test_every_other_difference_is_one_the_aspect_lists(
        pipeline_stacks: dict[str, StackJson], without_aspect: StackJson) -> None:
    local, plain = resource_bodies(pipeline_stacks["local"]), resource_bodies(without_aspect)
    assert set(local) == set(plain), "the aspect adds and removes no resources"
    changed: dict[str, set[str]] = {}
    for address in sorted(set(local) & set(plain)):
        ours, theirs = local[address], plain[address]
        keys = {k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k)}
        if keys:
            changed.setdefault(address.split(".")[0], set()).update(keys)
    assert changed == {
        "aws_lambda_function": {"lifecycle"},
        "aws_lambda_event_source_mapping": {"enabled", "lifecycle"},
        "aws_sqs_queue": {"redrive_allow_policy"},
    }
    assert set(DIFFERENCES) == {
        "provider", "aws_lambda_function.lifecycle", "aws_lambda_event_source_mapping.enabled",
        "aws_lambda_event_source_mapping.lifecycle", "aws_sqs_queue.redrive_allow_policy",
        "aws_codedeploy_deployment_group.lifecycle",
    }, "each difference is listed with its reason"


def test_on_the_emulator_deployment_groups_ignore_what_it_cannot_store_or_update(
        pipeline_stacks: dict[str, StackJson]) -> None:
    from modules.pipeline import TapPipeline
    from modules.settings import ReleaseSettings
    from tests.support.synth import synth_scope

    local = replace(load_environment("local", {}), release=ReleaseSettings(codedeploy=True))
    stack = synth_scope(lambda scope: TapPipeline(scope, "Default", settings=local))
    groups = stack.resources("aws_codedeploy_deployment_group")
    assert len(groups) == 3
    assert all(g.body["lifecycle"] == {"ignore_changes": ["alarm_configuration", "load_balancer_info"]} for g in groups)
    assert all("lifecycle" not in g.body for g in pipeline_stacks["prod"].resources("aws_codedeploy_deployment_group"))


def test_only_the_dead_letter_queues_lose_their_redrive_allow_policy(
        pipeline_stacks: dict[str, StackJson], without_aspect: StackJson) -> None:
    local = pipeline_stacks["local"]
    allowing = sorted(q.body["name"] for q in without_aspect.resources("aws_sqs_queue")
                      if "redrive_allow_policy" in q.body)
    assert allowing == ["tap-enrich-local-dlq", "tap-ingest-local-dlq", "tap-process-local-dlq"]
    assert not [q.address for q in local.resources("aws_sqs_queue") if "redrive_allow_policy" in q.body]
    for queue in local.resources("aws_sqs_queue"):
        assert queue.body["policy"] == without_aspect.resource(queue.address).body["policy"], "TLS-only kept"


def test_mappings_are_disabled_and_ignore_the_reported_function_name(pipeline_stacks: dict[str, StackJson]) -> None:
    for mapping in pipeline_stacks["local"].resources("aws_lambda_event_source_mapping"):
        assert mapping.body["enabled"] is False
        assert mapping.body["lifecycle"] == {"ignore_changes": ["function_name"]}


@pytest.mark.parametrize("env", [e for e in PIPELINE_ENVIRONMENTS if e != "local"])
def test_no_other_environment_gets_an_emulator_difference(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    stack = pipeline_stacks[env]
    assert "variable" not in stack.document
    assert all("endpoints" not in p for p in stack.document["provider"]["aws"])
    assert len([q for q in stack.resources("aws_sqs_queue") if "redrive_allow_policy" in q.body]) == 3
    assert all(m.body["enabled"] is True and "lifecycle" not in m.body
               for m in stack.resources("aws_lambda_event_source_mapping"))


def test_no_construct_branches_on_the_emulator() -> None:
    """Only the pipeline decides whether to apply the Aspect; every other construct builds what AWS gets."""
    readers = sorted(
        path.name for path in (PROJECT_ROOT / "modules").glob("*.py")
        if re.search(r"\.emulator\b", path.read_text()) and path.name not in {"pipeline.py", "settings.py"}
    )
    assert readers == []


def test_functions_ignore_the_blocks_the_emulator_does_not_store(pipeline_stacks: dict[str, StackJson]) -> None:
    for function in pipeline_stacks["local"].resources("aws_lambda_function"):
        assert function.body["lifecycle"] == {"ignore_changes": ["logging_config"]}
