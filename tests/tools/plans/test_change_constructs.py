"""Each change of a reviewed plan names the construct it comes from: in a synthesized stack, or inside the
generated module that a root calls."""

from __future__ import annotations

import json
from pathlib import Path

from tools.plans.changes import construct_paths, resource_changes

GONE = "(not in the code any more)"


def _created(address: str, type_: str) -> dict:
    return {"address": address, "mode": "managed", "type": type_, "name": address.rsplit(".", 1)[-1].split("[")[0],
            "change": {"actions": ["create"], "before": None, "after": {}, "after_unknown": {}}}


def _document(path: str) -> dict:
    return {"resource": {"aws_sqs_queue": {"q_1A2B3C4D": {"//": {"metadata": {"path": path}}, "name": "q"}}}}


def _module_root(tmp_path: Path) -> Path:
    """A root whose `terraform init` installed the generated module (main.tf.json) as module.tap_pipeline."""
    module = tmp_path / "terraform-aws-tap-pipeline"
    module.mkdir()
    (module / "main.tf.json").write_text(json.dumps(_document("terraform-aws-tap-pipeline/Default/ingest/queue")))
    root = module / "examples" / "complete"
    (root / ".terraform" / "modules").mkdir(parents=True)
    (root / ".terraform" / "modules" / "modules.json").write_text(json.dumps({"Modules": [
        {"Key": "", "Source": "", "Dir": "."}, {"Key": "tap_pipeline", "Source": "../..", "Dir": "../.."}]}))
    return root


def test_a_change_inside_the_module_names_its_construct(tmp_path: Path) -> None:
    root = _module_root(tmp_path)
    plan = {"resource_changes": [_created("module.tap_pipeline.aws_sqs_queue.q_1A2B3C4D", "aws_sqs_queue"),
                                 _created("module.tap_pipeline.aws_sqs_queue.gone", "aws_sqs_queue")]}
    changes = resource_changes(plan, construct_paths(root))
    assert [(c.address, c.construct) for c in changes] == [
        ("module.tap_pipeline.aws_sqs_queue.gone", GONE),
        ("module.tap_pipeline.aws_sqs_queue.q_1A2B3C4D", "terraform-aws-tap-pipeline/Default/ingest/queue")]


def test_an_instance_of_a_counted_resource_names_its_construct(tmp_path: Path) -> None:
    plan = {"resource_changes": [_created("module.tap_pipeline.aws_sqs_queue.q_1A2B3C4D[0]", "aws_sqs_queue")]}
    [change] = resource_changes(plan, construct_paths(_module_root(tmp_path)))
    assert change.construct == "terraform-aws-tap-pipeline/Default/ingest/queue"


def test_a_stacks_change_names_its_construct_and_not_a_modules(tmp_path: Path) -> None:
    (tmp_path / "cdk.tf.json").write_text(json.dumps(_document("tap-pipeline-dev/ingest/queue")))
    plan = {"resource_changes": [_created("aws_sqs_queue.q_1A2B3C4D", "aws_sqs_queue"),
                                 _created("module.tap_pipeline.aws_sqs_queue.q_1A2B3C4D", "aws_sqs_queue")]}
    changes = resource_changes(plan, construct_paths(tmp_path))
    assert [c.construct for c in changes] == ["tap-pipeline-dev/ingest/queue", GONE]


def test_a_folder_with_neither_a_stack_nor_the_module_names_no_construct(tmp_path: Path) -> None:
    assert construct_paths(tmp_path) == {}
