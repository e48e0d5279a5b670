"""A destroy of staging or prod fails at plan time, before Terraform deletes anything; dev's goes through.

The plan runs offline (tools/plans/offline.py) against a state that lists every resource of the stack.
A destroy plan reads no data source, so no AWS call is made.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tools.plans import offline
from tools.terraform_cli import run_terraform

pytestmark = pytest.mark.integration

AWS = "registry.terraform.io/hashicorp/aws"


def deployed_copy(stack_dir: Path, workdir: Path, schema: dict) -> Path:
    """A copy of the stack with the offline override and a state holding each of its resources."""
    shutil.copytree(stack_dir, workdir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    offline.write_override(workdir)
    versions = schema["provider_schemas"][AWS]["resource_schemas"]
    document = json.loads((workdir / "cdk.tf.json").read_text())
    resources = [
        {"mode": "managed", "type": type_, "name": name, "provider": offline.PROVIDER,
         "instances": [{"schema_version": versions[type_]["version"], "attributes": {"id": f"{type_}.{name}"},
                        "sensitive_attributes": []}]}
        for type_, by_name in document["resource"].items() for name in by_name
    ]
    state = {"version": 4, "terraform_version": "1.11.4", "serial": 1,
             "lineage": "00000000-0000-4000-8000-000000000000", "outputs": {}, "resources": resources}
    (workdir / offline.STATE_FILE).write_text(json.dumps(state))
    run_terraform(["init", "-input=false", "-no-color"], workdir)
    return workdir


def resource_count(workdir: Path) -> int:
    return sum(len(by_name) for by_name in json.loads((workdir / "cdk.tf.json").read_text())["resource"].values())


def destroy_plan(workdir: Path):
    return run_terraform(["plan", "-destroy", "-refresh=false", "-input=false", "-no-color", "-out=destroy.tfplan"],
                         workdir, check=False)


@pytest.mark.parametrize("env", ["prod", "staging"])
def test_destroying_a_protected_environment_fails_before_deleting_anything(
        synth_dir: Path, provider_schema: dict, tmp_path: Path, env: str) -> None:
    workdir = deployed_copy(synth_dir / f"tap-pipeline-{env}", tmp_path / env, provider_schema)
    result = destroy_plan(workdir)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    refused = set(re.findall(r'in resource\.(\w+):\n\s*\d+:\s*"([^"]+)"', output))
    refused_types = sorted(type_ for type_, _ in refused)
    assert refused_types == ["aws_dynamodb_table"] + ["aws_sqs_queue"] * 4, output[-3000:]
    assert output.count("Instance cannot be destroyed") == 5
    # Terraform keeps the errored plan for inspection, and refuses to apply it: nothing is deleted.
    shown = json.loads(run_terraform(["show", "-json", "destroy.tfplan"], workdir).stdout)
    assert (shown["errored"], shown["applyable"]) == (True, False)
    applied = run_terraform(["apply", "-input=false", "-no-color", "destroy.tfplan"], workdir, check=False)
    assert applied.returncode == 1 and "Cannot apply incomplete plan" in applied.stdout + applied.stderr
    state = json.loads((workdir / offline.STATE_FILE).read_text())
    assert len(state["resources"]) == resource_count(workdir)


def test_destroying_dev_is_planned(synth_dir: Path, provider_schema: dict, tmp_path: Path) -> None:
    workdir = deployed_copy(synth_dir / "tap-pipeline-dev", tmp_path / "dev", provider_schema)
    result = destroy_plan(workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"Plan: 0 to add, 0 to change, {resource_count(workdir)} to destroy." in result.stdout
