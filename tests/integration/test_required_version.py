"""Every stack requires Terraform >= 1.10 (S3 native locking) in versions.tf, which Terraform reads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.shared_provider import shared_providers
from tools.policy.stack_json import StackJson

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("stack_name", ["tap-pipeline-prod", "tap-pipeline-state", "tap-pipeline-local"])
def test_every_stack_requires_terraform_1_10(stacks: dict[str, StackJson], stack_name: str) -> None:
    text = (stacks[stack_name].directory / "versions.tf").read_text()
    assert text == 'terraform {\n  required_version = ">= 1.10"\n}\n'
    # Not inside the JSON, where checkov's terraform_json parser would crash on it (bridgecrewio/checkov#7454).
    assert "required_version" not in stacks[stack_name].document["terraform"]


def test_terraform_reads_versions_tf_beside_the_json(initialized: dict[str, Path], tmp_path: Path) -> None:
    # The same folder with a requirement no Terraform meets: validate must refuse it, so the file is read.
    workdir = tmp_path / "stack"
    shutil.copytree(initialized["tap-pipeline-state"], workdir, symlinks=True)
    (workdir / "versions.tf").write_text('terraform {\n  required_version = ">= 99.0"\n}\n')
    result = shared_providers().run_terraform(["validate", "-no-color"], workdir, check=False)
    assert result.returncode == 1 and "Unsupported Terraform Core version" in result.stderr + result.stdout
    (workdir / "versions.tf").write_text('terraform {\n  required_version = ">= 1.10"\n}\n')
    assert shared_providers().run_terraform(["validate", "-no-color"], workdir, check=False).returncode == 0
