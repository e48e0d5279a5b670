"""What the tools make of Terraform's output: the `dynamodb_table` deprecation dropped (docs/deploying.md, "State
and locking"), known failures explained with what to do. The texts are Terraform 1.11.4's, as `make plan ENV=dev`
printed them."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest

from tools import terraform_cli
from tools.plans import plan
from tools.plans.layout import PlanFolder

DEPRECATION = """
Warning: Deprecated Parameter

  on cdk.tf.json line 2056, in terraform.backend.s3:
2056:         "dynamodb_table": "tap-pipeline-terraform-locks",

The parameter "dynamodb_table" is deprecated. Use parameter "use_lockfile"
instead.
"""
NO_CREDENTIALS = """
Error: No valid credential sources found

Please see https://developer.hashicorp.com/terraform/language/backend/s3
for more information about providing credentials.

Error: failed to refresh cached credentials, no EC2 IMDS role found,
operation error ec2imds: GetMetadata, http response error StatusCode: 403,
request to EC2 IMDS failed
"""
OTHER_DEPRECATION = """
Warning: Deprecated Parameter

  on cdk.tf.json line 12, in terraform.backend.s3:
  12:         "endpoint": "https://s3.example.com",

The parameter "endpoint" is deprecated. Use parameter "endpoints.s3" instead.
"""


def test_the_dynamodb_table_deprecation_is_dropped_and_nothing_else() -> None:
    text = "Initializing the backend...\n" + DEPRECATION + OTHER_DEPRECATION + "\n" + NO_CREDENTIALS
    kept = terraform_cli.without_known_warnings(text)
    assert "dynamodb_table" not in kept
    assert OTHER_DEPRECATION in kept and NO_CREDENTIALS in kept and kept.startswith("Initializing the backend...\n")


def test_json_after_the_warning_parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever command prints it, the tools read stdout without it (here a stand-in terraform prints both)."""
    document = {"format_version": "1.2", "resource_changes": []}
    fake = tmp_path / "terraform"
    fake.write_text(f"#!/bin/sh\ncat <<'EOF'{DEPRECATION}{json.dumps(document)}\nEOF\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(terraform_cli, "terraform_binary", lambda: str(fake))
    shown = terraform_cli.run_terraform(["show", "-json", "plan.tfplan"], tmp_path)
    assert json.loads(shown.stdout) == document


@pytest.mark.parametrize(("output", "hint"), [
    (NO_CREDENTIALS, "Terraform found no AWS credentials: give them as AWS_PROFILE"),
    ('Error: Failed to get existing workspaces: S3 bucket "tap-pipeline-tfstate-111122223333-us-east-1" does not '
     "exist.", "the state bucket tap-pipeline-tfstate-111122223333-us-east-1 does not exist: on a new account run "
               "`make bootstrap` first"),
    ("Error: Error acquiring the state lock\n\nLock Info:\n  ID: 1a2b", "another Terraform run holds the state lock "
                                                                       "(this one waited 5m)"),
])
def test_known_failures_say_what_to_do(output: str, hint: str) -> None:
    [found] = terraform_cli.failure_hints(output)
    assert found.startswith(hint)


def test_an_unknown_failure_gets_no_hint() -> None:
    assert terraform_cli.failure_hints("Error: creating SQS Queue: AccessDenied") == []


def test_a_failed_init_in_plan_names_the_stack_and_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: `plan: terraform init -input=false -no-color failed in .../work (exit 1):` and the raw output."""
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "cdk.tf.json").write_text("{}")
    monkeypatch.setattr(plan, "run_terraform", lambda args, *a, **k: subprocess.CompletedProcess(
        args, 1, stdout="Initializing the backend...\n", stderr=NO_CREDENTIALS))
    with pytest.raises(plan.PlanError) as raised:
        plan.make_plan(stack, PlanFolder(tmp_path / "plans" / "tap-pipeline-dev"))
    first, hint = str(raised.value).splitlines()[:2]
    assert first == "terraform init failed for tap-pipeline-dev (exit 1): what to do:"
    assert hint.startswith("- Terraform found no AWS credentials: give them as AWS_PROFILE")
    assert "No valid credential sources found" in str(raised.value)  # Terraform's own words stay
