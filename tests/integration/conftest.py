"""Terraform and checkov over the session's synthesized stacks: each stack initialized once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.policy.stack_json import StackJson
from tools.terraform_cli import run_terraform


@pytest.fixture(scope="session")
def initialized(stacks: dict[str, StackJson]) -> dict[str, Path]:
    """Every stack folder after ``terraform init -backend=false`` (offline, from the provider mirror if any)."""
    for stack in stacks.values():
        run_terraform(["init", "-backend=false", "-input=false", "-no-color"], stack.directory)
    return {name: stack.directory for name, stack in stacks.items()}


@pytest.fixture(scope="session")
def provider_schema(stacks: dict[str, StackJson], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The provider's schema, read in a backend-less folder that requires what the stacks require."""
    folder = tmp_path_factory.mktemp("schema")
    required = stacks["tap-pipeline-dev"].document["terraform"]["required_providers"]
    (folder / "main.tf.json").write_text(json.dumps({"terraform": {"required_providers": required}}))
    run_terraform(["init", "-input=false", "-no-color"], folder)
    return json.loads(run_terraform(["providers", "schema", "-json"], folder).stdout)
