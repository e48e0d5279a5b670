"""A destroy of staging or prod fails at plan time, before Terraform deletes anything; dev's goes through.

The plan runs offline (tools/plans/offline.py) against a state that lists every resource of the stack.
A destroy plan reads no data source, so no AWS call is made.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.shared_provider import shared_providers
from tools import __main__ as tools_cli
from tools.plans import offline
from tools.plans.layout import PlanFolder
from tools.plans.plan import make_plan
from tools.terraform_cli import run_terraform

pytestmark = pytest.mark.integration

AWS = "registry.terraform.io/hashicorp/aws"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def deployed_copy(stack_dir: Path, workdir: Path, schema: dict) -> Path:
    """A copy of the stack with the offline override and a state holding each of its resources."""
    shutil.copytree(stack_dir, workdir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    offline.write_override(workdir)
    (workdir / offline.STATE_FILE).write_text(json.dumps(deployed_state(workdir, schema)))
    run_terraform(["init", "-input=false", "-no-color"], workdir)
    return workdir


def deployed_state(stack_dir: Path, schema: dict) -> dict:
    """A v4 state holding each resource of the stack in ``stack_dir``."""
    versions = schema["provider_schemas"][AWS]["resource_schemas"]
    document = json.loads((stack_dir / "cdk.tf.json").read_text())
    resources = [
        {"mode": "managed", "type": type_, "name": name, "provider": offline.PROVIDER,
         "instances": [{"schema_version": versions[type_]["version"], "attributes": {"id": f"{type_}.{name}"},
                        "sensitive_attributes": []}]}
        for type_, by_name in document["resource"].items() for name in by_name
    ]
    return {"version": 4, "terraform_version": "1.11.4", "serial": 1,
            "lineage": "00000000-0000-4000-8000-000000000000", "outputs": {}, "resources": resources}


def resource_count(workdir: Path) -> int:
    return sum(len(by_name) for by_name in json.loads((workdir / "cdk.tf.json").read_text())["resource"].values())


def destroy_plan(workdir: Path):
    return shared_providers().run_terraform(
        ["plan", "-destroy", "-refresh=false", "-input=false", "-no-color", "-out=destroy.tfplan"], workdir,
        check=False)


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
    shown = json.loads(shared_providers().run_terraform(["show", "-json", "destroy.tfplan"], workdir).stdout)
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


def test_make_destroy_goes_through_a_reviewed_destroy_plan(synth_dir: Path, provider_schema: dict, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """`make destroy` is `plan --destroy` then `apply --confirm`: the plan deletes every resource, and the review
    blocks each stateful deletion by name until it is acknowledged."""
    stack_dir = synth_dir / "tap-pipeline-dev"
    with shared_providers().in_make_plan():
        fresh = make_plan(stack_dir, PlanFolder.for_stack("tap-pipeline-dev", tmp_path / "fresh"), offline_mode=True)
    # What an apply of the fresh plan leaves, values and all (the review's cost reads them).
    schemas = provider_schema["provider_schemas"][AWS]["resource_schemas"]
    state = tmp_path / "deployed.tfstate"
    state.write_text(json.dumps(offline.state_from_plan(fresh, schemas)))
    plans = ["--env", "dev", "--plans-dir", str(tmp_path / "plans"), "--skip-checkov"]
    with shared_providers().in_make_plan():  # `plan`'s own make_plan: its plan and show on the shared provider
        code = tools_cli.main(["plan", *plans, "--offline", "--destroy", "--stack-dir", str(stack_dir),
                               "--state", str(state)])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert f"changes: {resource_count(stack_dir)} to delete" in out
    blocked = sorted(set(re.findall(r"✗ (aws_[a-z_]+\.[^:]+): deletion of a stateful", out)))
    assert {address.split(".")[0] for address in blocked} >= {"aws_dynamodb_table", "aws_sqs_queue"}, out
    assert f"make review ENV=dev ACK={','.join(blocked)}" in out, "the ACK that passes it, ready to copy"
    assert [line.split("] ")[1] for line in err.splitlines() if "] " in line][:2] == [
        "terraform init in " + os.path.relpath(tmp_path / "plans" / "tap-pipeline-dev" / "work"),
        "terraform plan (offline: stub credentials, no refresh) -destroy"], "the phases as they start"
    assert tools_cli.main(["review", *plans, "--ack", ",".join(blocked)]) == 0, "acknowledged, it passes"


def test_make_destroy_is_the_reviewed_path_and_in_make_help() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    recipe = subprocess.run(["make", "-n", "--no-print-directory", "destroy", "ENV=dev", "ACK=a.b"], cwd=PROJECT_ROOT,
                            env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    assert [line.split(" -m ", 1)[-1] for line in recipe[-2:]] == [
        "tools plan --env dev --destroy --ack a.b", "tools apply --env dev --confirm "]
    assert "cdktf destroy" not in "\n".join(recipe), "the unreviewed path is gone"
    help_ = subprocess.run(["make", "--no-print-directory", "help"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                           text=True, check=True).stdout
    assert "make destroy ENV=" in help_
