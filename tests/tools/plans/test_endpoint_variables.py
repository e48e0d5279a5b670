"""Where Terraform sends AWS calls it must not send to AWS (an offline plan's data sources, everything on the
emulator): environment variables, never an ``endpoints`` block, which the provider validates in every process
(2.5 CPU s more per offline plan of prod)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tools.plans import offline, plan
from tools.plans.layout import PlanFolder, terraform_variables

STAND_IN = "http://127.0.0.1:40001"
EMULATOR = "http://127.0.0.1:40002"


def test_the_offline_override_has_no_endpoints_block() -> None:
    [provider] = offline.offline_override("eu-west-1")["provider"]["aws"]
    assert "endpoints" not in provider
    assert provider["region"] == "eu-west-1" and provider["access_key"] == offline.STUB_ACCESS_KEY


def test_each_service_is_sent_to_its_url_by_the_sdk_variable_of_its_service_id() -> None:
    # The names are the AWS SDKs' (AWS_ENDPOINT_URL_ + the service id), written out here, not derived.
    assert offline.endpoint_variables({"ssm": STAND_IN, "logs": EMULATOR, "sts": STAND_IN}) == {
        "AWS_ENDPOINT_URL_SSM": STAND_IN, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": EMULATOR,
        "AWS_ENDPOINT_URL_STS": STAND_IN}


def test_every_service_the_plan_command_sends_to_an_emulator_has_a_variable() -> None:
    assert offline.endpoint_variables({s: EMULATOR for s in plan.ENDPOINT_SERVICES}) == {
        "AWS_ENDPOINT_URL_DYNAMODB": EMULATOR, "AWS_ENDPOINT_URL_IAM": EMULATOR, "AWS_ENDPOINT_URL_LAMBDA": EMULATOR,
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": EMULATOR, "AWS_ENDPOINT_URL_S3": EMULATOR,
        "AWS_ENDPOINT_URL_SQS": EMULATOR, "AWS_ENDPOINT_URL_SSM": EMULATOR, "AWS_ENDPOINT_URL_STS": EMULATOR}


def test_a_service_without_a_known_variable_is_an_error_naming_it_and_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"no endpoint variable is known for kinesis: give endpoints of "
                                         r"dynamodb, iam, lambda, logs, s3, sqs, ssm, sts"):
        offline.endpoint_variables({"ssm": STAND_IN, "kinesis": EMULATOR})


def test_a_plan_folder_without_endpoints_adds_no_variable() -> None:
    assert terraform_variables({"offline": True, "emulator_endpoint": None}) == {}


def test_a_plan_folders_endpoints_reach_every_later_terraform_run_beside_the_emulators() -> None:
    variables = terraform_variables({"endpoints": {"ssm": STAND_IN}, "emulator_endpoint": EMULATOR})
    assert variables["AWS_ENDPOINT_URL_SSM"] == STAND_IN
    assert variables["AWS_ENDPOINT_URL"] == EMULATOR


@pytest.fixture
def terraform_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, str]]]:
    """Each terraform run of make_plan, by its command and the environment it added; the plan JSON is empty."""
    runs: list[tuple[str, dict[str, str]]] = []

    def fake(args: list[str], workdir: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
        runs.append((args[0], dict(kwargs.get("extra_env") or {})))
        return subprocess.CompletedProcess(args, 0, stdout=json.dumps({"resource_changes": []}), stderr="")

    monkeypatch.setattr(plan, "run_terraform", fake)
    return runs


def _stack(tmp_path: Path) -> Path:
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "cdk.tf.json").write_text(json.dumps({"data": {"aws_ssm_parameter": {
        "layer": {"name": "/aws/service/powertools/python/arm64/python3.13/3.37.0"}}}}))
    return stack


def test_an_offline_plan_sends_the_public_parameters_to_the_stand_in_in_each_run_and_records_it(
        tmp_path: Path, terraform_runs: list, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan.public_parameters, "serve", lambda names: STAND_IN)
    folder = PlanFolder.for_stack("tap-pipeline-prod", tmp_path / "plans")
    plan.make_plan(_stack(tmp_path), folder, offline_mode=True)
    assert [command for command, _ in terraform_runs] == ["init", "plan", "show"]
    assert all(env == {"AWS_ENDPOINT_URL_SSM": STAND_IN} for _, env in terraform_runs)
    assert folder.settings()["endpoints"] == {"ssm": STAND_IN}
    assert "endpoints" not in (folder.workdir / offline.OVERRIDE_FILE).read_text()


def test_an_offline_plan_against_an_emulator_sends_every_service_there_and_starts_no_stand_in(
        tmp_path: Path, terraform_runs: list, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_stand_in(names: list[str]) -> str:
        raise AssertionError("the stand-in was started although the plan has an emulator")

    monkeypatch.setattr(plan.public_parameters, "serve", no_stand_in)
    folder = PlanFolder.for_stack("tap-pipeline-prod", tmp_path / "plans")
    plan.make_plan(_stack(tmp_path), folder, offline_mode=True,
                   endpoints={service: EMULATOR for service in plan.ENDPOINT_SERVICES})
    [env] = [env for command, env in terraform_runs if command == "plan"]
    assert env["AWS_ENDPOINT_URL_SQS"] == env["AWS_ENDPOINT_URL_SSM"] == EMULATOR
    assert len(env) == 8, f"one variable per service the plan command names: {sorted(env)}"


def test_every_terraform_run_on_the_emulator_sends_every_service_there() -> None:
    from tools.local.stack import Deployment

    # The `local` stack names no endpoint (modules/emulator_compat.py): the run's environment is all it has.
    for env in (Deployment(Path("."), EMULATOR).extra_env(), terraform_variables({"emulator_endpoint": EMULATOR})):
        assert env["AWS_ENDPOINT_URL"] == EMULATOR
        assert (env["AWS_ACCESS_KEY_ID"], env["AWS_DEFAULT_REGION"]) == ("testing", "us-east-1")


def test_the_variable_the_tools_set_is_the_one_the_aspect_documents() -> None:
    from modules.emulator_compat import ENDPOINT_ENVIRONMENT_VARIABLE
    from tools.local.emulator import client_env

    assert ENDPOINT_ENVIRONMENT_VARIABLE == "AWS_ENDPOINT_URL"
    assert client_env(EMULATOR)[ENDPOINT_ENVIRONMENT_VARIABLE] == EMULATOR
