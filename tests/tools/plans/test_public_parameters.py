"""The offline stand-in for AWS's public SSM parameters: which names it serves, and what it answers."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from tools.plans import public_parameters
from tools.plans.public_parameters import public_parameter_names, serve

NAME = "/aws/service/powertools/python/arm64/python3.13/3.37.0"


def test_only_the_public_parameters_a_stack_reads_are_served(tmp_path: Path) -> None:
    (tmp_path / "cdk.tf.json").write_text(json.dumps({"data": {"aws_ssm_parameter": {
        "layer": {"name": NAME}, "own": {"name": "/tap/own-setting"}}}}))
    assert public_parameter_names(tmp_path) == [NAME]


def test_a_stack_without_parameters_needs_no_stand_in(tmp_path: Path) -> None:
    (tmp_path / "cdk.tf.json").write_text(json.dumps({"resource": {}}))
    assert public_parameter_names(tmp_path) == []


def test_the_stand_in_answers_get_parameter_with_a_layer_arn_that_says_what_it_is() -> None:
    endpoint = serve([NAME])
    ssm = boto3.client("ssm", region_name="us-east-1", endpoint_url=endpoint,
                       aws_access_key_id="offline", aws_secret_access_key="offline")  # noqa: S106 - stub
    value = ssm.get_parameter(Name=NAME)["Parameter"]["Value"]
    assert value == ("arn:aws:lambda:us-east-1:123456789012:layer:"
                     "offline-stand-in-powertools-python-arm64-python3-13-3-37-0:1")


def test_the_server_started_early_is_the_one_serve_answers_from(monkeypatch: pytest.MonkeyPatch) -> None:
    # As a fresh process has it: no server yet (another test of this worker may have started one).
    monkeypatch.setattr(public_parameters, "_server", None)
    public_parameters.start_early().join(timeout=60)
    started = public_parameters._server
    assert started is not None, "the early start left no server running"
    host, port = started.get_host_and_port()
    assert serve([NAME]) == f"http://{host}:{port}"
