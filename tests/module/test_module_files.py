"""The module folder `make module` writes: a module (no provider, no backend), what it requires, its archives,
its outputs, its validation blocks, and a README and example generated from it."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from tools.module.example import EXAMPLE_PATH, REPOSITORY_COPY
from tools.module.readme import INPUTS_HEADING, OUTPUTS_HEADING

# What the issue asks the module to output, written out: queue URLs and ARNs, function and alias ARNs, table
# name and ARN, alarm topic ARN, dashboard name, key ARN.
EXPECTED_OUTPUTS = {
    "table_name", "table_arn", "alarm_topic_arn", "key_arn", "dashboard_name", "rejects_queue_url",
    "rejects_queue_arn",
    *(f"{stage}_{attribute}" for stage in ("validator", "enricher", "processor")
      for attribute in ("function_arn", "function_name", "alias_arn")),
    *(f"{queue}_{kind}_{attribute}" for queue in ("ingest", "enrich", "process") for kind in ("queue", "dlq")
      for attribute in ("url", "arn")),
}


def test_the_module_has_no_provider_and_no_backend(module_document: dict) -> None:
    assert "provider" not in module_document
    assert set(module_document["terraform"]) == {"required_providers"}


def test_the_module_requires_the_tested_aws_provider_and_terraform(module_document: dict, module_dir: Path) -> None:
    assert module_document["terraform"]["required_providers"] == {
        "aws": {"source": "hashicorp/aws", "version": ">= 5.100.0, < 6.0.0"}}
    # Validation conditions that read other variables need Terraform 1.9.
    assert (module_dir / "versions.tf").read_text() == 'terraform {\n  required_version = ">= 1.9"\n}\n'


def test_every_function_archive_is_in_the_module_folder_and_named_through_path_module(
        module_document: dict, module_dir: Path) -> None:
    functions = module_document["resource"]["aws_lambda_function"].values()
    assert len(functions) == 3
    for function in functions:
        filename = function["filename"]
        assert filename.startswith("${path.module}/assets/"), filename
        archive = module_dir / filename.removeprefix("${path.module}/")
        digest = base64.b64encode(hashlib.sha256(archive.read_bytes()).digest()).decode()
        assert digest == function["source_code_hash"], f"{archive} is not the archive the function deploys"


def test_outputs_are_every_attribute_the_issue_names_each_described(module_document: dict) -> None:
    outputs = {name: body for name, (body,) in module_document["output"].items()}
    assert set(outputs) == EXPECTED_OUTPUTS
    assert all(body["description"].startswith("The ") for body in outputs.values())
    assert outputs["ingest_queue_url"]["value"].startswith("${aws_sqs_queue.ingest-queue")


def test_each_rule_over_a_variable_is_one_validation_block(module_document: dict) -> None:
    blocks = {name: len(body.get("validation", [])) for name, (body,) in module_document["variable"].items()}
    per_stage = {"memory_mb": 1, "timeout_s": 1, "batch_size": 2, "batching_window_s": 1, "max_concurrency": 1,
                 "reserved_concurrency": 1, "provisioned_concurrency": 2}
    expected = {
        "environment": 1, "name_prefix": 1, "log_retention_days": 1, "alarm_email": 2, "alarm_https_endpoint": 1,
        "tags": 5, "table_billing_mode": 1, "table_read_min_capacity": 2, "table_write_min_capacity": 2,
        **{f"{stage}_{name}": count for stage in ("validator", "enricher", "processor")
           for name, count in per_stage.items()},
    }
    assert {name: count for name, count in blocks.items() if count} == expected


def test_required_inputs_are_the_environment_and_the_tags_only(module_document: dict) -> None:
    required = {name for name, (body,) in module_document["variable"].items() if "default" not in body}
    assert required == {"environment", "tags"}


def _table(text: str, heading: str) -> list[list[str]]:
    section = text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows[2:]]


def test_the_readme_inputs_table_is_the_variables(module_document: dict, module_dir: Path) -> None:
    rows = _table((module_dir / "README.md").read_text(), INPUTS_HEADING)
    variables = {name: body for name, (body,) in module_document["variable"].items()}
    assert [row[0].strip("`") for row in rows] == list(variables)
    for name, description, type_, default, required in rows:
        body = variables[name.strip("`")]
        assert description.replace("\\|", "|") == body["description"]
        assert type_ == f"`{body['type']}`"
        assert required == ("no" if "default" in body else "yes")
        assert (default == "n/a") == ("default" not in body)
    defaults = {row[0].strip("`"): row[3] for row in rows}
    assert defaults["processor_memory_mb"] == "`256`" and defaults["alarm_email"] == "`null`"
    assert defaults["table_billing_mode"] == '`"PAY_PER_REQUEST"`'


def test_the_readme_outputs_table_is_the_outputs(module_document: dict, module_dir: Path) -> None:
    rows = _table((module_dir / "README.md").read_text(), OUTPUTS_HEADING)
    assert {row[0].strip("`"): row[1] for row in rows} == {
        name: body["description"] for name, (body,) in module_document["output"].items()}


def test_the_committed_hcl_example_is_the_generated_one(module_dir: Path) -> None:
    generated = (module_dir / EXAMPLE_PATH).read_text()
    assert REPOSITORY_COPY.read_text() == generated, (
        f"{REPOSITORY_COPY} differs from the module's {EXAMPLE_PATH}: run `make module` and copy it over")
