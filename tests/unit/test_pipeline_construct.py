"""TapPipeline in a stack of the user's own: their provider, their backend, the same pipeline as ours."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from cdktf import App, S3Backend, TerraformOutput, TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue

from modules.pipeline import TapPipeline
from modules.settings import EnvironmentSettings
from tests.support.environments import load_environment
from tests.support.taggable import is_taggable
from tools.policy.stack_json import StackJson, reference

ACCOUNT = {"TAP_AWS_ACCOUNT_ID": "111122223333", "TAP_ALARM_EMAIL": "oncall@example.com"}
USER_TAGS = {"Team": "orders"}
USER_BUCKET = "acme-terraform-state"
USER_REDRIVE_ALLOW = '{"redrivePermission":"allowAll"}'
STAGES = ("validator", "enricher", "processor")


def user_stack(app: Any, name: str) -> TerraformStack:
    """A stack as a user writes it: their provider, their S3 backend, one resource of their own."""
    stack = TerraformStack(app, name)
    S3Backend(stack, bucket=USER_BUCKET, key=f"{name}.tfstate", region="us-east-1")
    AwsProvider(stack, "aws", region="us-east-1", default_tags=[AwsProviderDefaultTags(tags=USER_TAGS)])
    SqsQueue(stack, "their-own-queue", name="acme-orders", redrive_allow_policy=USER_REDRIVE_ALLOW)
    return stack


@pytest.fixture(scope="module")
def dev() -> EnvironmentSettings:
    return load_environment("dev", ACCOUNT)


@pytest.fixture(scope="module")
def synthesized(dev: EnvironmentSettings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, StackJson]:
    """One app, one synth to disk (which records each resource's construct path), one stack per case:

    ``orders``: the pipeline as ``pipeline`` in a user's stack, with an output for every value it offers;
    ``tap-pipeline-dev``: the pipeline as ``Default``; ``protected``: with prevent_destroy; ``emulated``: on
    the local settings; ``two``: two pipelines, ``blue`` and ``green``.
    """
    outdir = tmp_path_factory.mktemp("cdktf.out")
    app = App(outdir=str(outdir))
    orders = user_stack(app, "orders")
    pipeline = TapPipeline(orders, "pipeline", settings=dev)
    for name, value in pipeline.output_values().items():
        TerraformOutput(orders, name, value=value)
    TapPipeline(user_stack(app, "tap-pipeline-dev"), "Default", settings=dev)
    TapPipeline(user_stack(app, "protected"), "pipeline", settings=replace(dev, prevent_destroy=True))
    TapPipeline(user_stack(app, "emulated"), "pipeline", settings=load_environment("local", {}))
    two = user_stack(app, "two")
    TapPipeline(two, "blue", settings=replace(dev, suffix="blue"))
    TapPipeline(two, "green", settings=replace(dev, suffix="green"))
    app.synth()
    return {d.name: StackJson.load(d) for d in (outdir / "stacks").iterdir()}


def bodies(stack: StackJson, *, skip: frozenset[str] = frozenset()) -> dict[str, dict[str, Any]]:
    """Every resource and data source by address, without cdktf's metadata (which records the construct path)
    and without the tags (the shipped stacks give the environment's through the provider's default tags)."""
    found = {r.address: {k: v for k, v in r.body.items() if k not in ("//", "tags")} for r in stack.resources()}
    for type_, by_name in stack.document.get("data", {}).items():
        found.update({f"data.{type_}.{n}": {k: v for k, v in b.items() if k != "//"} for n, b in by_name.items()})
    return {address: body for address, body in found.items() if address not in skip}


def test_the_construct_brings_no_provider_and_no_backend(synthesized: dict[str, StackJson]) -> None:
    stack = synthesized["orders"]
    [provider] = stack.document["provider"]["aws"]
    assert (provider["region"], provider["default_tags"]) == ("us-east-1", [{"tags": USER_TAGS}])
    assert "allowed_account_ids" not in provider, "the user's provider is the user's, untouched"
    assert stack.document["terraform"]["backend"] == {
        "s3": {"bucket": USER_BUCKET, "key": "orders.tfstate", "region": "us-east-1"}}


def test_every_pipeline_resource_sits_under_the_construct(synthesized: dict[str, StackJson]) -> None:
    stack = synthesized["orders"]
    outside = [r.path for r in stack.resources() if not r.path.startswith("orders/pipeline/")]
    assert outside == ["orders/their-own-queue"]
    assert len(stack.resources("aws_lambda_function")) == 3 and len(stack.resources("aws_dynamodb_table")) == 1


def test_with_the_id_default_every_address_and_body_is_the_shipped_stacks(
        synthesized: dict[str, StackJson], pipeline_stacks: dict[str, StackJson]) -> None:
    # A user moving a deployed environment from PipelineStack into their own stack keeps every address.
    ours = bodies(pipeline_stacks["dev"])
    theirs = bodies(synthesized["tap-pipeline-dev"], skip=frozenset({"aws_sqs_queue.their-own-queue"}))
    assert sorted(theirs) == sorted(ours)
    assert theirs == ours


def test_every_taggable_resource_carries_the_environments_tags_whatever_the_provider_says(
        synthesized: dict[str, StackJson], dev: EnvironmentSettings) -> None:
    stack = synthesized["orders"]
    taggable = [r for r in stack.resources() if r.name != "their-own-queue" and is_taggable(r.type)]
    assert len(taggable) >= 30
    for resource in taggable:
        assert resource.body.get("tags", {}).items() >= dict(dev.tags).items(), resource.address
    function = stack.by_path("pipeline/validator/function")
    assert function.body["tags"]["Component"] == "validator", "a resource's own tags stay"
    assert "tags" not in stack.resource("aws_sqs_queue.their-own-queue").body, "the user's resources are theirs"


# Each value: the resource type it reads, and the attribute.
EXPECTED_REFERENCES = {
    "table_arn": ("aws_dynamodb_table", "arn"),
    **{f"{stage}_{kind}": (type_, attribute) for stage in STAGES
       for kind, type_, attribute in (("function_arn", "aws_lambda_function", "arn"),
                                      ("function_name", "aws_lambda_function", "function_name"),
                                      ("alias_arn", "aws_lambda_alias", "arn"))},
    **{f"{queue}_{kind}_{attribute}": ("aws_sqs_queue", attribute) for queue in ("ingest", "enrich", "process")
       for kind in ("queue", "dlq") for attribute in ("url", "arn")},
    "rejects_queue_url": ("aws_sqs_queue", "url"), "rejects_queue_arn": ("aws_sqs_queue", "arn"),
    "alarm_topic_arn": ("aws_sns_topic", "arn"), "key_arn": ("aws_kms_key", "arn"),
    "dashboard_name": ("aws_cloudwatch_dashboard", "dashboard_name"),
}


def test_the_construct_offers_every_attribute_an_hcl_module_would_output(synthesized: dict[str, StackJson]) -> None:
    outputs = synthesized["orders"].outputs()
    assert set(outputs) == {"table_name", *EXPECTED_REFERENCES}
    assert outputs["table_name"]["value"] == "tap-data-table-dev", "known at synthesis, as in the shipped stacks"
    for name, (type_, attribute) in EXPECTED_REFERENCES.items():
        assert reference(outputs[name]["value"])[::2] == (type_, attribute), name


@pytest.mark.parametrize(("output", "name"), [
    ("ingest_queue_url", "tap-ingest-dev"), ("ingest_dlq_arn", "tap-ingest-dev-dlq"),
    ("process_queue_arn", "tap-process-dev"), ("rejects_queue_url", "tap-rejects-dev"),
    ("validator_function_arn", "tap-validator-dev"), ("processor_alias_arn", "tap-processor-dev"),
])
def test_each_output_points_at_the_resource_its_name_says(
        synthesized: dict[str, StackJson], output: str, name: str) -> None:
    stack = synthesized["orders"]
    resource = stack.referenced(stack.outputs()[output]["value"])
    named = resource.body.get("name") or resource.body.get("function_name")
    if resource.type == "aws_lambda_alias":
        assert resource.body["name"] == "live"
        named = stack.referenced(resource.body["function_name"]).body["function_name"]
    assert named == name


def test_prevent_destroy_comes_with_the_construct(synthesized: dict[str, StackJson]) -> None:
    protected = {r.body["name"] for r in synthesized["protected"].resources()
                 if r.body.get("lifecycle", {}).get("prevent_destroy")}
    assert protected == {"tap-data-table-dev", "tap-rejects-dev", "tap-ingest-dev-dlq", "tap-enrich-dev-dlq",
                         "tap-process-dev-dlq"}


def test_on_the_emulator_the_construct_adapts_its_resources_and_leaves_the_users_own(
        synthesized: dict[str, StackJson]) -> None:
    emulated = synthesized["emulated"]
    assert [m.body["enabled"] for m in emulated.resources("aws_lambda_event_source_mapping")] == [False] * 3
    [provider] = emulated.document["provider"]["aws"]
    assert "endpoints" not in provider and "variable" not in emulated.document
    theirs = emulated.resource("aws_sqs_queue.their-own-queue")
    assert theirs.body["redrive_allow_policy"] == USER_REDRIVE_ALLOW, "the Aspect acts below the construct only"
    ours = [q for q in emulated.resources("aws_sqs_queue") if q.name != theirs.name]
    assert len(ours) == 7 and all("redrive_allow_policy" not in q.body for q in ours)


def test_two_environments_fit_in_one_stack(synthesized: dict[str, StackJson]) -> None:
    names = sorted(f.body["function_name"] for f in synthesized["two"].resources("aws_lambda_function"))
    assert names == sorted(f"tap-{stage}-{suffix}" for suffix in ("blue", "green") for stage in STAGES)


def test_settings_must_be_the_typed_settings() -> None:
    with pytest.raises(TypeError, match="settings must be an EnvironmentSettings, not dict"):
        TapPipeline(user_stack(CdktfTesting.app(), "orders"), "pipeline",
                    settings={"name": "dev"})  # type: ignore[arg-type]


@pytest.mark.parametrize(("provider", "problem"), [
    ({"region": "us-west-2"}, "the stack's AWS provider deploys to us-west-2, but settings.region is us-east-1"),
    ({"region": "us-east-1", "allowed_account_ids": ["999988887777"]},
     "the stack's AWS provider allows the accounts 999988887777, but settings.account_id is 111122223333"),
])
def test_a_provider_elsewhere_than_the_settings_stops_synthesis(dev: EnvironmentSettings, provider: dict[str, Any],
                                                                problem: str, tmp_path: Any) -> None:
    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "orders")
    AwsProvider(stack, "aws", **provider)
    TapPipeline(stack, "pipeline", settings=dev)
    with pytest.raises(RuntimeError, match=f"\\[orders/pipeline\\] {problem}"):
        app.synth()


def test_a_provider_that_agrees_or_an_aliased_one_passes(dev: EnvironmentSettings, tmp_path: Any) -> None:
    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "orders")
    AwsProvider(stack, "aws", region="us-east-1", allowed_account_ids=["111122223333", "999988887777"])
    AwsProvider(stack, "replica", region="eu-west-1", alias="replica")
    TapPipeline(stack, "pipeline", settings=dev)
    app.synth()
    assert (tmp_path / "stacks" / "orders" / "cdk.tf.json").is_file()
