"""Terraform's JSON read across module calls: every module's resources, configuration addresses."""

from __future__ import annotations

from tools.plans.terraform_json import configuration_address, configuration_resources, module_of, value_resources


def _resource(address: str, type_: str = "aws_sqs_queue", name: str = "q", mode: str = "managed") -> dict:
    return {"address": address, "mode": mode, "type": type_, "name": name}


def test_values_of_child_modules_at_any_depth_are_read_with_the_root_modules() -> None:
    root = {"resources": [_resource("aws_sqs_queue.q")], "child_modules": [
        {"address": "module.a", "resources": [_resource("module.a.aws_sqs_queue.q")], "child_modules": [
            {"address": "module.a.module.b", "resources": [_resource('module.a.module.b["x"].aws_sqs_queue.q[0]')]}]}]}
    assert [r["address"] for r in value_resources(root)] == [
        "aws_sqs_queue.q", "module.a.aws_sqs_queue.q", 'module.a.module.b["x"].aws_sqs_queue.q[0]']
    assert list(value_resources(None)) == []


def test_a_resource_is_in_the_module_instance_its_address_starts_with() -> None:
    assert module_of(_resource('module.a["x.y"].module.b.aws_sqs_queue.q[0]')) == 'module.a["x.y"].module.b'
    assert module_of(_resource("module.a.data.aws_sqs_queue.q", mode="data")) == "module.a"
    assert module_of(_resource("aws_sqs_queue.q")) == ""


def test_configuration_resources_carry_the_prefix_of_their_module_call() -> None:
    configuration = {"root_module": {
        "resources": [{"address": "aws_sqs_queue.q"}],
        "module_calls": {"a": {"module": {
            "resources": [{"address": "data.aws_iam_policy_document.d"}],
            "module_calls": {"b": {"module": {"resources": [{"address": "aws_sqs_queue.q"}]}}}}}}}}
    assert [prefix + r["address"] for prefix, r in configuration_resources(configuration)] == [
        "aws_sqs_queue.q", "module.a.data.aws_iam_policy_document.d", "module.a.module.b.aws_sqs_queue.q"]
    assert list(configuration_resources(None)) == []


def test_a_configuration_address_has_no_instance_keys() -> None:
    nested = 'module.a["eu.west"].module.b[2].aws_sqs_queue.q[0]'
    assert configuration_address(nested) == "module.a.module.b.aws_sqs_queue.q"
    assert configuration_address('module.a["say \\"]\\""].aws_sqs_queue.q') == "module.a.aws_sqs_queue.q"
    assert configuration_address("aws_sqs_queue.q") == "aws_sqs_queue.q"
