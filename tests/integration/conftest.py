"""Terraform and checkov over the session's synthesized stacks: each stack initialized once."""

from __future__ import annotations

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
