"""Terraform 1.11 with the stacks' S3 backend settings (``dynamodb_table`` and ``use_lockfile``) on the emulator:
what the tools read and print of it carries no deprecation warning, and a missing bucket says `make bootstrap`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.local.emulator import EMULATOR_ENV, Emulator, client
from tools.plans.layout import PlanFolder
from tools.plans.plan import PlanError, make_plan
from tools.terraform_cli import run_terraform

pytestmark = pytest.mark.integration

BUCKET, LOCK_TABLE = "tap-pipeline-tfstate-123456789012-us-east-1", "tap-pipeline-terraform-locks"


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    server = Emulator.start()
    try:
        client("s3", server.endpoint).create_bucket(Bucket=BUCKET)
        client("dynamodb", server.endpoint).create_table(
            TableName=LOCK_TABLE, KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        yield server.endpoint
    finally:
        server.stop()


def stack(tmp_path: Path, endpoint: str, bucket: str = BUCKET) -> Path:
    """A stack with the pipeline stacks' backend (modules/state_backend.py) and a resource no provider makes."""
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "cdk.tf.json").write_text(json.dumps({
        "terraform": {"backend": {"s3": {
            "bucket": bucket, "key": "dev/tap-pipeline-dev.tfstate", "region": "us-east-1", "encrypt": True,
            "dynamodb_table": LOCK_TABLE, "use_lockfile": True,
            "endpoints": {"s3": endpoint, "dynamodb": endpoint}, "use_path_style": True,
            "skip_credentials_validation": True, "skip_requesting_account_id": True, "skip_metadata_api_check": True,
        }}},
        "resource": {"terraform_data": {"marker": {"input": "a"}}},
        "output": {"marker": {"value": "${terraform_data.marker.input}"}},
    }))
    return folder


def test_plan_show_apply_and_output_carry_no_deprecation(tmp_path: Path, emulator: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in EMULATOR_ENV.items():
        monkeypatch.setenv(variable, value)
    folder = PlanFolder(tmp_path / "plans" / "tap-pipeline-dev")
    planned = make_plan(stack(tmp_path, emulator), folder)  # init, plan, show -json: parsed
    assert [c["change"]["actions"] for c in planned["resource_changes"]] == [["create"]]
    applied = run_terraform(["apply", "-input=false", "-no-color", str(folder.plan_file)], folder.workdir)
    outputs = run_terraform(["output", "-json"], folder.workdir)
    assert "Apply complete!" in applied.stdout
    assert "Deprecated" not in applied.stdout + applied.stderr  # Terraform 1.11.4 prints it on this apply
    assert json.loads(outputs.stdout)["marker"]["value"] == "a"


def test_a_missing_state_bucket_says_bootstrap_first(tmp_path: Path, emulator: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in EMULATOR_ENV.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(PlanError) as raised:
        make_plan(stack(tmp_path, emulator, bucket="tap-pipeline-tfstate-999999999999-us-east-1"),
                  PlanFolder(tmp_path / "plans" / "tap-pipeline-dev"))
    assert ("- the state bucket tap-pipeline-tfstate-999999999999-us-east-1 does not exist: on a new account run "
            "`make bootstrap` first") in str(raised.value)
    assert "Deprecated" not in str(raised.value)
