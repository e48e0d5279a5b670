"""Every AWS name carries the project prefix, and a preview suffix cannot take another environment's names."""

from __future__ import annotations

import pytest

from modules.naming import environment_names
from modules.settings import SettingsError
from tests.conftest import PIPELINE_ENVIRONMENTS, TEST_ACCOUNT_ID
from tests.support.environments import load_environment, preview_environment
from tools.policy.stack_json import StackJson

ACCOUNT = {"TAP_AWS_ACCOUNT_ID": TEST_ACCOUNT_ID}
# Attributes that hold a name AWS keeps unique per account or region; a Lambda alias is per function.
NAME_ATTRIBUTES = ("name", "function_name", "alarm_name", "dashboard_name")
SCOPED_TO_A_PARENT = {"aws_lambda_alias"}


def synthesized_names(stack: StackJson) -> set[str]:
    return {
        value for resource in stack.resources() if resource.type not in SCOPED_TO_A_PARENT
        for attribute in NAME_ATTRIBUTES
        if isinstance(value := resource.body.get(attribute), str) and not value.startswith("${")
    }


@pytest.mark.parametrize("env", PIPELINE_ENVIRONMENTS)
def test_every_synthesized_name_starts_with_the_project(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    names = synthesized_names(pipeline_stacks[env])
    assert len(names) >= 40  # 3 functions x 6, 4 queues + 3 DLQs with alarms, table, topic, dashboard
    unprefixed = [n for n in names if not n.removeprefix("/aws/lambda/").removeprefix("alias/").startswith("tap-")]
    assert sorted(unprefixed) == []


@pytest.mark.parametrize("env", PIPELINE_ENVIRONMENTS)
def test_the_name_list_covers_every_synthesized_name(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    # The clash check below is only as good as this list: a name missing here could clash unnoticed.
    assert synthesized_names(pipeline_stacks[env]) - environment_names("tap", env) == set()


def test_the_name_list_is_exactly_prods_names(pipeline_stacks: dict[str, StackJson]) -> None:
    # prod has every kind of resource (table autoscaling included): the list holds no name no stack makes.
    assert environment_names("tap", "prod") == synthesized_names(pipeline_stacks["prod"])


def test_names_are_project_thing_suffix() -> None:
    names = environment_names("tap", "prod")
    assert {"tap-validator-prod", "tap-validator-prod-role", "tap-ingest-prod-dlq", "tap-data-table-prod",
            "/aws/lambda/tap-processor-prod"} <= names


def test_the_project_prefix_is_a_setting() -> None:
    settings = load_environment("dev", {**ACCOUNT, "TAP_PROJECT": "acme"})
    assert settings.resource_name("validator") == "acme-validator-dev"
    assert settings.backend.bucket == f"acme-pipeline-tfstate-{TEST_ACCOUNT_ID}-us-east-1"


@pytest.mark.parametrize("project", ["Tap", "t", "tap-x", "1tap", "abcdefghijk"])
def test_a_project_prefix_that_cannot_start_every_name_is_rejected(project: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_environment("dev", {**ACCOUNT, "TAP_PROJECT": project})
    assert f"TAP_PROJECT={project!r}" in str(error.value) and "2-10 lowercase letters" in str(error.value)


@pytest.mark.parametrize("project", ["ab", "abcdefghij", "tap2"])
def test_a_project_prefix_of_2_to_10_letters_and_digits_is_accepted(project: str) -> None:
    assert load_environment("dev", {**ACCOUNT, "TAP_PROJECT": project}).project == project


@pytest.mark.parametrize(("suffix", "name", "owner"), [
    ("prod-dlq", "tap-ingest-prod-dlq", "prod"),  # the preview's ingest queue would be prod's DLQ
    ("staging-dlq", "tap-process-staging-dlq", "staging"),
    ("alarms-prod", "tap-pipeline-alarms-prod", "prod"),  # the preview's dashboard = prod's alarm topic name
])
def test_a_preview_suffix_that_names_another_environments_resource_is_rejected(suffix: str, name: str,
                                                                               owner: str) -> None:
    with pytest.raises(SettingsError) as error:
        preview_environment(suffix, ACCOUNT)
    message = str(error.value)
    assert f"ENVIRONMENT_SUFFIX={suffix!r}" in message and name in message, message
    assert f"the {owner} environment uses already" in message and f"without '{owner}'" in message


@pytest.mark.parametrize("suffix", ["prod-dlqx", "dlq-prod1", "production", "pr42"])
def test_a_preview_suffix_near_an_environment_name_but_without_a_shared_name_is_accepted(suffix: str) -> None:
    preview = preview_environment(suffix, ACCOUNT)
    assert preview.resource_name("ingest") == f"tap-ingest-{suffix}"
